"""The fallback static server when nginx is absent: `python -m benchmarks._static PORT FILE`.

aiohttp.web in its own process, answering every `GET /3/movie/{id}` with the same precomputed
body (TMDB's example movie), like the nginx configuration does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from aiohttp import web

__all__ = ["main"]


def main(argv: list[str]) -> int:
    """Serve FILE on 127.0.0.1:PORT until terminated."""
    port, body_file = int(argv[0]), argv[1]
    body = Path(body_file).read_bytes()

    async def movie(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/3/movie/{movie_id}", movie)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
