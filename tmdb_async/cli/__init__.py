"""The `tmdb-async` command line (extra `cli`): `get`, `crawl`, `changes`, `fake-server`.

See docs/cli.md. Importing this package needs no extra; running `main()` without rich
installed prints a one-line install hint.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

from ._progress import INSTALL_HINT

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        missing = importlib.util.find_spec("rich") is None
    except ValueError:  # rich in sys.modules as None: blocked on purpose
        missing = True
    if missing:
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    from ._commands import main as run

    return run(argv)
