"""TMDB's responses as msgspec Structs, and the named values parameters take (`ReleaseType`,
`TvSeriesStatus`, `TvSeriesType`, `WatchMonetizationType`); generated, see
`tmdb_async._generated.models`. TMDB's v4 models are apart, in `tmdb_async.models.v4`
(`from tmdb_async.models import v4`; `v4.ListDetails` is not v3's `ListDetails`)."""

from .._generated.models import *  # noqa: F403
from .._generated.models import __all__ as __all__
from . import v4 as v4
