"""The drift loop end to end: FakeTMDB serves a body with keys no model holds, the client names
each (stats, log), a crawl file keeps the body, `python -m codegen learn` files it in a copy of
the corpus, and regenerating from it makes those keys typed fields."""

from __future__ import annotations

import importlib.util
import logging
import shutil
import sys
import uuid
from pathlib import Path
from types import ModuleType

import msgspec
import pytest

from codegen.__main__ import generate
from codegen.__main__ import main as codegen_main
from codegen.corpus import CORPUS_DIR, load_samples
from tests._spec import spec_paths
from tmdb_async import TMDB
from tmdb_async._crawl import json_line
from tmdb_async._decode import generic_document
from tmdb_async._drift import UnknownKey, unknown_keys
from tmdb_async.testing import CannedBody, FakeTMDB


def load_models(path: Path) -> ModuleType:
    """Import a generated models.py from `path` under a name of its own."""
    name = f"learned_models_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # msgspec resolves the annotations through it
    spec.loader.exec_module(module)
    return module


async def test_unknown_keys_seen_at_run_time_become_typed_fields(
    fake_tmdb: FakeTMDB, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    specs = spec_paths()
    tag = uuid.uuid4().hex[:6]
    body = msgspec.json.encode(
        {
            "id": 550,
            "title": "Fight Club",
            f"drift_{tag}": 7.5,
            "production_companies": [{"id": 1, f"founded_{tag}": 1999}],
            "credits": {"id": 550, "cast": [{"id": 1, f"pronouns_{tag}": "he"}]},
        }
    )
    fake_tmdb.inject(CannedBody(body), "movie-details")
    caplog.set_level(logging.INFO, logger="tmdb_async")
    crawl = tmp_path / "movies.jsonl"
    async with TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url) as tmdb:
        response = await tmdb.response(tmdb.movies.details, 550, append_to_response=["credits"])
        crawl.write_bytes(json_line(response.body))  # what `tmdb-async crawl` writes
    found = {
        UnknownKey("MovieDetails", f"$.drift_{tag}"),
        UnknownKey("Company", f"$.production_companies[*].founded_{tag}"),
        UnknownKey("CastMember", f"$.credits.cast[*].pronouns_{tag}"),
    }
    assert dict(tmdb.stats.unknown_keys) == dict.fromkeys(found, 1)
    logged = [r.getMessage() for r in caplog.records if tag in r.getMessage()]
    assert sorted(next(k.path for k in found if k.path in m) for m in logged) == sorted(
        k.path for k in found
    )

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    before = len(load_samples(corpus))
    args = ["learn", str(crawl), "--operation", "movies.details", "--corpus", str(corpus)]
    assert codegen_main(args) == 0
    learned = [s for s in load_samples(corpus) if s.source == "learned"]
    assert len(load_samples(corpus)) == before + 1
    assert len(learned) == 1
    assert (corpus / "responses" / learned[0].file).read_bytes() == body
    assert learned[0].path == "/3/movie/550"
    assert learned[0].query == "append_to_response=credits"
    assert codegen_main(args) == 0  # learning the same body again adds nothing
    assert len(load_samples(corpus)) == before + 1

    out = tmp_path / "out"
    for rel, text in generate(specs, corpus).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    models = load_models(out / "tmdb_async/_generated/models.py")
    assert unknown_keys(generic_document(body), models.MovieDetails) == []
    fields = {f.name: f.type for f in msgspec.inspect.type_info(models.MovieDetails).fields}
    assert isinstance(fields[f"drift_{tag}"], msgspec.inspect.UnionType)  # float | None
    movie = msgspec.json.decode(body, type=models.MovieDetails)
    assert getattr(movie, f"drift_{tag}") == 7.5
    assert getattr(movie.production_companies[0], f"founded_{tag}") == 1999
    assert getattr(movie.credits.cast[0], f"pronouns_{tag}") == "he"
