"""A crawl file loses nothing: each line is the body TMDB sent (pretty-printed ones compacted
to one line, content unchanged), resume reads the ids back from those lines, and `typed`
keeps the re-encoded models. `crawl()` runs in-process against a loopback server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tmdb_async import TMDB
from tmdb_async._crawl import CrawlFiles, Interrupts, NullProgress, Report, crawl, errors_path
from tmdb_async.models import MovieDetails


def body_of(movie_id: int) -> bytes:
    """What this server's TMDB sends: pretty JSON with a key no model has, and odd numbers."""
    document = {
        "id": movie_id,
        "title": f"Movie {movie_id} \u2014 \u00e9",
        "runtime": "120" if movie_id % 2 else 120,
        "a_key_no_model_has": {"since": "2025", "values": [1, 2.5]},
    }
    text = json.dumps(document, indent=2, ensure_ascii=movie_id % 3 == 0)
    return text.replace("2.5", "2.50").encode() + b"\n"


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    async def movie(request: web.Request) -> web.Response:
        movie_id = int(request.match_info["movie_id"])
        if movie_id == 13:
            body = b'{"status_code":34,"status_message":"The resource could not be found."}'
            return web.Response(status=404, body=body, content_type="application/json")
        return web.Response(body=body_of(movie_id), content_type="application/json")

    app = web.Application()
    app.router.add_get("/3/movie/{movie_id}", movie)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url(""))
    await server.close()


async def run_crawl(base_url: str, out: Path, ids: range, *, typed: bool = False) -> Report:
    report = Report()
    files = await CrawlFiles.open(out, errors_path(out), retry_errors=False, announce=print)
    async with TMDB(access_token="t", base_url=base_url, rate_limit=None, cache=None) as tmdb:
        try:
            await crawl(
                tmdb.movies.details,
                [ids],
                files,
                concurrency=5,
                params={},
                progress=NullProgress(),
                interrupts=Interrupts(asyncio.current_task(), print),  # type: ignore[arg-type]
                report=report,
                typed=typed,
            )
        finally:
            await files.aclose()
    return report


async def test_lines_are_tmdbs_bytes_and_resume_reads_them(base_url: str, tmp_path: Path) -> None:
    out = tmp_path / "movies.jsonl"
    first = await run_crawl(base_url, out, range(1, 21))
    lines = out.read_bytes().splitlines(keepends=True)
    assert (first.done, first.failed) == (19, 1)
    assert len(lines) == 19
    by_id = {json.loads(line)["id"]: line for line in lines}
    assert sorted(by_id) == [i for i in range(1, 21) if i != 13]
    for movie_id, line in by_id.items():
        sent = body_of(movie_id)
        assert line.count(b"\n") == 1
        assert json.loads(line) == json.loads(sent)  # every key and value, unknown ones too
        compact = b"".join(part.strip() for part in sent.splitlines()).replace(b'": ', b'":')
        assert line == compact.replace(b", ", b",") + b"\n"  # only whitespace removed
    assert b'"a_key_no_model_has"' in lines[0]
    assert b"2.50" in lines[0]  # the number as TMDB wrote it
    # Resume: the ids come back from the raw lines; only the new ones are fetched.
    again = await run_crawl(base_url, out, range(1, 26))
    assert (again.skipped, again.done, again.failed) == (20, 5, 0)
    assert len(out.read_bytes().splitlines()) == 24


async def test_typed_lines_are_the_models_re_encoded(base_url: str, tmp_path: Path) -> None:
    out = tmp_path / "typed.jsonl"
    await run_crawl(base_url, out, range(1, 4), typed=True)
    decoder = msgspec.json.Decoder(MovieDetails)
    models = [decoder.decode(line) for line in out.read_bytes().splitlines()]
    assert sorted(m.id for m in models) == [1, 2, 3]
    assert {m.runtime for m in models} == {120}  # "120" coerced
    assert b"a_key_no_model_has" not in out.read_bytes()
