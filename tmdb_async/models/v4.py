"""TMDB's v4 responses and request bodies as msgspec Structs (`tmdb.v4...` returns and takes
them); generated, see `tmdb_async._generated.v4.models`. Apart from v3's models, so that names
never collide: `v4.ListDetails` is not `tmdb_async.models.ListDetails`."""

from .._generated.v4.models import *  # noqa: F403
from .._generated.v4.models import __all__ as __all__
