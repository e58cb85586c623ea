"""Run FakeTMDB from the shell: `python -m tmdb_async.testing --port 8765 [--latency 0.05]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import sys
from collections.abc import Sequence

from ._faults import ConcurrencyLimit, Latency, RateLimit, ServerError
from ._server import FakeTMDB
from ._timeline import Timeline

__all__ = ["main", "parse_args"]


def _latency(text: str) -> Latency:
    """`0.05` (fixed) or `0.01,0.2` (uniform random between the two), in seconds."""
    low, _, high = text.partition(",")
    try:
        return Latency(float(low), float(high) if high else None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SECONDS or MIN,MAX, got {text!r}") from None


def parse_args(
    argv: Sequence[str] | None = None, prog: str = "python -m tmdb_async.testing"
) -> argparse.Namespace:
    """Parse the command line (`prog`: the name shown in `--help`)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve a fake TMDB v3 API (every operation, synthetic data) on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--access-token", default="fake-token")
    parser.add_argument("--api-key", default="fake-key")
    parser.add_argument(
        "--no-auth", action="store_true", help="accept requests without credentials"
    )
    parser.add_argument("--seed", type=int, default=0, help="changes every generated value")
    parser.add_argument(
        "--latency", type=_latency, help="added to every request: SECONDS or MIN,MAX"
    )
    parser.add_argument("--rate-limit", type=float, help="requests/s before answering 429")
    parser.add_argument("--max-concurrency", type=int, help="in-flight requests before 429")
    parser.add_argument(
        "--fail-rate",
        type=float,
        help="fraction (0..1) of API requests answered 503, which clients retry",
    )
    parser.add_argument("--export-size", type=int, default=5000, help="lines per id export")
    parser.add_argument(
        "--history",
        type=int,
        default=1000,
        help="requests whose arrival time and details the stats endpoint keeps",
    )
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="a catalogue that moves day by day: exports, changes feeds and details of one"
        " history (ids change, appear and disappear; see docs/testing.md)",
    )
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        help="the fake's day, YYYY-MM-DD (default: today, UTC); POST /__fake__/today moves it",
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeTMDB(
        access_token=args.access_token,
        api_key=args.api_key,
        require_auth=not args.no_auth,
        host=args.host,
        port=args.port,
        seed=args.seed,
        export_size=args.export_size,
        history=args.history,
        timeline=Timeline() if args.timeline else None,
        today=args.today,
    )
    if args.latency is not None:
        fake.inject(args.latency)
    if args.rate_limit is not None:
        fake.inject(RateLimit(args.rate_limit))
    if args.max_concurrency is not None:
        fake.inject(ConcurrencyLimit(args.max_concurrency))
    if args.fail_rate:
        fake.inject(ServerError(503), "/3/*", probability=args.fail_rate)
    async with fake:
        print(f"FakeTMDB serving on {fake.url}", flush=True)
        print(
            f"  access token: {fake.access_token}  api key: {fake.api_key}"
            f"  control: {fake.url}/__fake__/stats",
            flush=True,
        )
        await asyncio.Event().wait()


def main(argv: Sequence[str] | None = None, prog: str = "python -m tmdb_async.testing") -> None:
    """Serve until interrupted."""
    args = parse_args(argv, prog)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main(sys.argv[1:])
