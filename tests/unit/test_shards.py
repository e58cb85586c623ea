"""Sharded crawls without a cluster: shard planning, the manifest, resume decisions, progress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tmdb_async._crawl import FileBusyError
from tmdb_async._errors import ParameterError
from tmdb_async.distributed import (
    MANIFEST_NAME,
    Manifest,
    ManifestError,
    ShardedCrawl,
    ShardTask,
    check_cluster,
    parse_cluster,
    plan_shards,
)
from tmdb_async.distributed._driver import _Bar
from tmdb_async.distributed._task import shard_share, shard_slots


def lines(*ids: int) -> bytes:
    return b"".join(json.dumps({"id": i}).encode() + b"\n" for i in ids)


def test_shards_keep_the_first_of_repeated_ids_in_order() -> None:
    shards = plan_shards([5, 3, 5, 9, 1, 3, 7, 2], 3)
    assert [s.ids for s in shards] == [(5, 3, 9), (1, 7, 2)]
    assert [s.index for s in shards] == [0, 1]
    assert [s.name for s in shards] == ["part-000000", "part-000001"]
    assert plan_shards([], 3) == []
    assert [len(s.ids) for s in plan_shards(range(10), 4)] == [4, 4, 2]


def test_the_digest_names_the_ids_and_their_order() -> None:
    first, again = plan_shards(range(1, 101), 100)[0], plan_shards(range(1, 101), 100)[0]
    assert first.digest == again.digest
    assert len(first.digest) == 16
    assert plan_shards(range(2, 102), 100)[0].digest != first.digest
    assert plan_shards(reversed(range(1, 101)), 100)[0].digest != first.digest


def test_a_shard_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="shard size"):
        plan_shards([1], 0)


def test_cluster_addresses() -> None:
    assert parse_cluster("local:2") == "local:2"
    assert parse_cluster("tcp://scheduler:8786") == "tcp://scheduler:8786"
    for bad in ("local:0", "local:x", "scheduler:8786", "tcp://", "local:"):
        with pytest.raises(ValueError, match="local:N"):
            parse_cluster(bad)


# -- the manifest -------------------------------------------------------------------------


def test_record_writes_the_part_then_lists_it(tmp_path: Path) -> None:
    shard = plan_shards([1, 2, 3], 3)[0]
    manifest = Manifest(tmp_path / "out")
    manifest.open()
    try:
        entry = manifest.record(shard, 3, lines(1, 3), lines(2), done=2, failed=1)
    finally:
        manifest.close()
    directory = tmp_path / "out"
    assert (directory / "part-000000.jsonl").read_bytes() == lines(1, 3)
    assert (directory / "part-000000.errors.jsonl").read_bytes() == lines(2)
    assert sorted(p.name for p in directory.iterdir()) == [
        MANIFEST_NAME,
        "part-000000.errors.jsonl",
        "part-000000.jsonl",
    ]  # no temporary file left
    listed = json.loads((directory / MANIFEST_NAME).read_text())
    assert listed == {
        "id": 0,
        "digest": shard.digest,
        "shard_size": 3,
        "ids": 3,
        "done": 2,
        "failed": 1,
        "part": "part-000000.jsonl",
        "generation": 0,
    }
    reopened = Manifest(directory)
    reopened.open()
    try:
        assert reopened.finished(shard, 3) == entry
        assert reopened.failed_ids(shard) == {2}
    finally:
        reopened.close()


def test_a_part_without_errors_has_no_errors_file(tmp_path: Path) -> None:
    shard = plan_shards([1], 1)[0]
    manifest = Manifest(tmp_path)
    manifest.open()
    try:
        manifest.record(shard, 1, lines(), lines(1), done=0, failed=1)
        manifest.record(shard, 1, lines(1), b"", done=1, failed=0, merge=True)
        assert manifest.entries[0].done == 1
    finally:
        manifest.close()
    assert sorted(p.name for p in tmp_path.glob("part-*")) == ["part-000000.1.jsonl"]
    assert (tmp_path / "part-000000.1.jsonl").read_bytes() == lines(1)


def test_a_merge_writes_a_new_generation_then_drops_the_old_one(tmp_path: Path) -> None:
    shard = plan_shards([1, 2, 3, 4], 4)[0]
    manifest = Manifest(tmp_path)
    manifest.open()
    try:
        manifest.record(shard, 4, lines(1), lines(2, 3, 4), done=1, failed=3)
        entry = manifest.record(shard, 4, lines(3), lines(2, 4), done=1, failed=2, merge=True)
        assert manifest.failed_ids(shard) == {2, 4}
        again = manifest.record(shard, 4, lines(4), lines(2), done=1, failed=1, merge=True)
    finally:
        manifest.close()
    assert (entry.part, entry.done, entry.failed) == ("part-000000.1.jsonl", 2, 2)
    assert (again.part, again.generation, again.done) == ("part-000000.2.jsonl", 2, 3)
    assert sorted(p.name for p in tmp_path.glob("part-*")) == [
        "part-000000.2.errors.jsonl",
        "part-000000.2.jsonl",
    ]
    assert (tmp_path / "part-000000.2.jsonl").read_bytes() == lines(1, 3, 4)
    assert (tmp_path / "part-000000.2.errors.jsonl").read_bytes() == lines(2)


def test_a_driver_dying_before_the_manifest_line_leaves_every_id_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shard = plan_shards([1, 2, 3], 3)[0]
    manifest = Manifest(tmp_path)
    manifest.open()
    manifest.record(shard, 3, lines(1, 2), lines(3), done=2, failed=1)

    def disk_full(line: bytes) -> None:
        raise OSError(28, "No space left on device")

    # The merged part is renamed into place, then the manifest line cannot be written.
    monkeypatch.setattr(manifest._file, "write", disk_full)
    with pytest.raises(OSError, match="No space"):
        manifest.record(shard, 3, lines(3), b"", done=1, failed=0, merge=True)
    monkeypatch.undo()
    manifest.close()
    assert (tmp_path / "part-000000.1.jsonl").exists()  # written, never listed

    reopened = Manifest(tmp_path)
    reopened.open()  # the next run
    try:
        listed = reopened.finished(shard, 3)
        assert listed is not None
        assert listed.part == "part-000000.jsonl"
        assert reopened.failed_ids(shard) == {3}  # to retry again
    finally:
        reopened.close()
    found = [json.loads(line)["id"] for p in tmp_path.glob("part-*[0-9].jsonl")
             for line in p.read_bytes().splitlines()]  # fmt: skip
    assert sorted(found) == [1, 2]  # the unlisted generation is gone: no id twice


def test_one_crawl_per_directory(tmp_path: Path) -> None:
    first, second = Manifest(tmp_path), Manifest(tmp_path)
    first.open()
    try:
        with pytest.raises(FileBusyError):
            second.open()
    finally:
        first.close()


def test_a_torn_manifest_line_and_stale_temporary_files_are_cleaned(tmp_path: Path) -> None:
    shard = plan_shards([1], 1)[0]
    manifest = Manifest(tmp_path)
    manifest.open()
    manifest.record(shard, 1, lines(1), b"", done=1, failed=0)
    manifest.close()
    with (tmp_path / MANIFEST_NAME).open("ab") as file:
        file.write(b'{"id": 1, "dig')  # the driver died mid-line
    (tmp_path / ".part-000001.jsonl.123.tmp").write_bytes(b"half a part")
    reopened = Manifest(tmp_path)
    reopened.open()
    reopened.close()
    assert list(reopened.entries) == [0]
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_manifest_of_other_ids_is_refused(tmp_path: Path) -> None:
    with ShardedCrawl("movies.details", range(1, 11), tmp_path, shard_size=5) as sharded:
        job = sharded.jobs[0]
        sharded._manifest.record(job.shard, 5, lines(1), b"", done=1, failed=0)
    with pytest.raises(ManifestError, match="other ids"):
        ShardedCrawl("movies.details", range(2, 12), tmp_path, shard_size=5).open()
    with pytest.raises(ManifestError, match="other ids or another shard size"):
        ShardedCrawl("movies.details", range(1, 11), tmp_path, shard_size=4).open()
    # Fewer shards than the manifest lists: also another crawl.
    with ShardedCrawl("movies.details", range(1, 21), tmp_path, shard_size=5) as sharded:
        last = plan_shards(range(1, 21), 5)[3]
        sharded._manifest.record(last, 5, lines(16), b"", done=1, failed=0)
    with pytest.raises(ManifestError, match="holds shard 3"):
        ShardedCrawl("movies.details", range(1, 11), tmp_path, shard_size=5).open()


def test_a_file_is_not_an_output_directory(tmp_path: Path) -> None:
    (tmp_path / "movies.jsonl").write_text("")
    with pytest.raises(ManifestError, match="not a directory"):
        ShardedCrawl("movies.details", [1], tmp_path / "movies.jsonl").open()


# -- what a run does ----------------------------------------------------------------------


def finish(sharded: ShardedCrawl, index: int, good: list[int], bad: list[int]) -> None:
    shard = next(job.shard for job in sharded.jobs if job.shard.index == index)
    sharded._manifest.record(shard, sharded.shard_size, lines(*good), lines(*bad),
                             done=len(good), failed=len(bad))  # fmt: skip


def test_finished_shards_are_skipped_and_failed_ids_retried_on_demand(tmp_path: Path) -> None:
    with ShardedCrawl("movies.details", range(1, 31), tmp_path, shard_size=10) as sharded:
        assert (sharded.to_fetch, sharded.skipped, len(sharded.jobs)) == (30, 0, 3)
        finish(sharded, 0, list(range(1, 11)), [])
        finish(sharded, 2, [21, 22, *range(24, 31)], [23])
    with ShardedCrawl("movies.details", range(1, 31), tmp_path, shard_size=10) as sharded:
        assert [job.shard.index for job in sharded.jobs] == [1]
        assert (sharded.to_fetch, sharded.skipped) == (10, 20)
        assert sharded.summary.shards_skipped == 2
    with ShardedCrawl(
        "movies.details", range(1, 31), tmp_path, shard_size=10, retry_errors=True
    ) as sharded:
        assert [(job.shard.index, job.ids, job.merge) for job in sharded.jobs] == [
            (1, tuple(range(11, 21)), False),
            (2, (23,), True),
        ]
        assert (sharded.to_fetch, sharded.skipped) == (11, 19)


def test_a_deleted_part_is_crawled_again(tmp_path: Path) -> None:
    with ShardedCrawl("movies.details", range(1, 11), tmp_path, shard_size=10) as sharded:
        finish(sharded, 0, list(range(1, 11)), [])
    (tmp_path / "part-000000.jsonl").unlink()
    with ShardedCrawl("movies.details", range(1, 11), tmp_path, shard_size=10) as sharded:
        assert sharded.to_fetch == 10


async def test_nothing_left_means_no_cluster(tmp_path: Path) -> None:
    with ShardedCrawl("movies.details", range(1, 3), tmp_path, shard_size=2) as sharded:
        finish(sharded, 0, [1, 2], [])
    with ShardedCrawl("movies.details", range(1, 3), tmp_path, shard_size=2) as sharded:
        # An address nobody listens on: connecting would fail.
        summary = await sharded.run("tcp://127.0.0.1:9")
    assert (summary.done, summary.skipped, summary.shards) == (0, 2, 0)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"client_options": {"access_token": "secret"}}, "must not hold access_token"),
        ({"client_options": {"api_key": "secret"}}, "must not hold api_key"),
        ({"client_options": {"rate_limit": 0}}, "rate_limit must be > 0"),
        ({"client_options": {"timeout": "x"}}, "timeout must be a number"),
        ({"shard_size": 0}, ">= 1"),
        ({"concurrency": 0}, ">= 1"),
    ],
)
def test_bad_options_fail_before_any_io(
    tmp_path: Path, options: dict[str, object], match: str
) -> None:
    with pytest.raises(ParameterError, match=match):
        ShardedCrawl("movies.details", [1], tmp_path / "never", **options)  # type: ignore[arg-type]
    assert not (tmp_path / "never").exists()


def test_an_operation_is_namespace_dot_method(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"namespace\.method"):
        ShardedCrawl("movies", [1], tmp_path)


def test_a_shard_takes_its_share_of_connections_and_rate() -> None:
    task = ShardTask("movies.details", {}, {"rate_limit": 36}, concurrency=20)
    options, concurrency = shard_share(task, slots=3)
    assert concurrency == options["max_connections"] == 6
    assert options["rate_limit"] == 12
    shared = ShardTask(
        "movies.details",
        {},
        {"rate_limit": 36, "rate_limit_store": "redis://localhost/0"},
        concurrency=4,
    )
    options, concurrency = shard_share(shared, slots=8)
    assert concurrency == 1
    assert options["rate_limit"] == 36  # one budget in Redis for all of them
    assert shard_share(ShardTask("m.d", {}, {"rate_limit": None}, 4), 2)[0]["rate_limit"] is None


IDENTITY = {
    "workers": {
        "tcp://10.0.0.1:1": {"host": "10.0.0.1", "nthreads": 2},
        "tcp://10.0.0.1:2": {"host": "10.0.0.1", "nthreads": 1},
        "tcp://10.0.0.2:1": {"host": "10.0.0.2", "nthreads": 4},
    }
}


def test_slots_are_the_threads_behind_one_ip() -> None:
    assert shard_slots(IDENTITY, "tcp://10.0.0.1:2", one_ip=False) == 3
    assert shard_slots(IDENTITY, "tcp://10.0.0.2:1", one_ip=False) == 4
    assert shard_slots(IDENTITY, "tcp://10.0.0.2:1", one_ip=True) == 7
    assert shard_slots({"workers": {}}, "tcp://10.0.0.3:1", one_ip=False) == 1


def test_a_task_repr_shows_no_option_value() -> None:
    task = ShardTask(
        "movies.details",
        {"append_to_response": "credits"},
        {"rate_limit": 35, "rate_limit_store": "redis://:S3CRET@redis:6379/0"},
        concurrency=20,
    )
    assert "S3CRET" not in repr(task) + str(task)
    assert repr(task) == (
        "ShardTask('movies.details', concurrency=20, options=['rate_limit', 'rate_limit_store'])"
    )


@pytest.mark.parametrize(
    ("cluster", "options", "refused"),
    [
        ("local:2", {"rate_limit": 35}, False),
        ("tcp://scheduler:8786", {"rate_limit": 35}, True),
        ("tcp://scheduler:8786", {}, True),  # the default rate
        ("tcp://scheduler:8786", {"rate_limit": None}, False),
        ("tcp://scheduler:8786", {"rate_limit": 35, "rate_limit_store": "redis://r/0"}, False),
    ],
)
def test_a_split_budget_is_refused_where_workers_may_join(
    cluster: str, options: dict[str, object], refused: bool
) -> None:
    if refused:
        with pytest.raises(ParameterError, match="needs the rate budget in Redis"):
            check_cluster(cluster, options)
    else:
        check_cluster(cluster, options)


# -- the progress bar ---------------------------------------------------------------------


def test_progress_adds_up_and_takes_back_a_lost_attempt() -> None:
    moves: list[tuple[int, int]] = []
    bar = _Bar(lambda items, failed: moves.append((items, failed)))
    bar.event((0.0, {"shard": 1, "attempt": "a", "done": 40, "failed": 1}))
    bar.event((0.0, {"shard": 2, "attempt": "b", "done": 10, "failed": 0}))
    bar.event((0.0, {"shard": 1, "attempt": "a", "done": 70, "failed": 2}))
    bar.lost(2)  # the task failed: its ids are to do again
    bar.event((0.0, {"shard": 2, "attempt": "b", "done": 12, "failed": 0}))  # late: ignored
    bar.event((0.0, {"shard": 1, "attempt": "c", "done": 5, "failed": 0}))  # rerun elsewhere
    # The first attempt's last event, arriving after its replacement's: ignored.
    bar.event((0.0, {"shard": 1, "attempt": "a", "done": 80, "failed": 2}))
    bar.finished(1, 97, 3)
    bar.event((0.0, {"shard": 1, "attempt": "c", "done": 90, "failed": 3}))  # late: ignored
    assert moves == [(40, 1), (10, 0), (30, 1), (-10, 0), (-65, -2), (95, 3)]
    assert sum(items for items, _ in moves) == 100
