"""The request pipeline: one module per stage, each calling the next and returning a Reply up.

::

    prepare      validate the arguments, add language/region, build the URL, remember plain calls
      caching    lookup; a hit answers here; revalidate (a 304 is a reply); store; negative 404s
        coalescing   identical GETs in flight share one reply (single-flight)
          retrying     policy, back-off, Retry-After: sends again what may be sent again
            limiting     one token of the rate budget per attempt; 429s slow it down
              decoding     a 2xx body becomes the value, any other status its typed error
                wire         aiohttp (the client's own session or a borrowed one); network
                             errors become TransportError here, and nowhere else

A `Call` (`_types`) goes down, a `Reply` comes back up: every stage returns one, failures
included, so no stage raises a signal for another to catch. `tmdb_async._transport.Transport`
assembles the stages (skipping caching without a cache and limiting without a rate limit) and
owns what they open. A stage imports only the stages below it (`STAGES` order); the layering
test reads that order from here.
"""

from __future__ import annotations

from typing import Final

__all__ = ["STAGES"]

STAGES: Final = ("prepare", "caching", "coalescing", "retrying", "limiting", "decoding", "wire")
"""The stage modules of this package, outermost first."""
