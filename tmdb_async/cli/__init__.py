"""The `tmdb-async` command line (extra `cli`): `get`, `crawl`, `changes`, `mirror`,
`fake-server`.

See docs/cli.md. Importing this package needs no extra; running `main()` without the
extra's libraries installed prints a one-line install hint.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from typing import Final

__all__ = ["INSTALL_HINT", "main"]

INSTALL_HINT: Final = (
    "tmdb-async: the command line needs the cli extra: pip install 'tmdb-async[cli]'"
)
CLI_MODULES: Final = ("rich", "pyroaring")
"""What the cli extra installs."""


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ValueError:  # in sys.modules as None: blocked on purpose
        return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    if not all(_installed(module) for module in CLI_MODULES):
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    from ._app import main as run

    return run(argv)
