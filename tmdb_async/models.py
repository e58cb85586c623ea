"""TMDB's responses as msgspec Structs, and the named values parameters take (`ReleaseType`,
`TvSeriesStatus`, `TvSeriesType`, `WatchMonetizationType`); generated, see
`tmdb_async._generated.models`."""

from ._generated.models import *  # noqa: F403
from ._generated.models import __all__ as __all__
