"""The ```python blocks of README.md and docs/*.md, as the example tests run them.

A block is run as written, as a program (`python file.py`), unless the HTML comment on the
line above its fence says otherwise (GitHub does not show it):

    <!-- example: name=web-backend -->   a name, for a test that imports the block
    <!-- example: run=pytest -->         a test file: run by pytest, not as a program
    <!-- example: needs=redis -->        give it a real redis-server, as REDIS_URL
    <!-- example: needs=user -->         give it a signed-in user with two ratings, as
                                         TMDB_USER_ACCESS_TOKEN and TMDB_USER_ACCOUNT_ID
    <!-- example: user=approves -->      the user approves each request token at once
                                         (FakeTMDB's auto_approve) and presses Enter

Any other fence (```text, ```console...) is not Python and is not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ROOT", "Block", "blocks", "named"]

ROOT = Path(__file__).resolve().parents[2]
_FENCE = re.compile(r"^```(\S*)")
_OPTIONS = re.compile(r"^<!--\s*example:\s*(.*?)\s*-->\s*$")
_KNOWN = {"name", "run", "needs", "user"}


@dataclass(frozen=True)
class Block:
    """One ```python block: where it is, its code, and the runner's options."""

    path: Path
    line: int
    """The fence's line number (1-based)."""
    code: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """`README.md:12`, `docs/caching.md:8`: where to look when it fails."""
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def module(self) -> str:
        """A module name of its own, for the file it is written to."""
        return re.sub(r"\W", "_", self.id).lower()


def _parse(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        start = index
        index += 1
        while index < len(lines) and not lines[index].startswith("```"):
            index += 1
        if index == len(lines):
            raise ValueError(f"{path}:{start + 1}: a code fence is never closed")
        if fence[1] == "python":
            comment = _OPTIONS.match(lines[start - 1]) if start else None
            options = dict(item.split("=", 1) for item in (comment[1].split() if comment else ()))
            unknown = options.keys() - _KNOWN
            if unknown:
                raise ValueError(f"{path}:{start + 1}: unknown example options {unknown}")
            code = "\n".join(lines[start + 1 : index]) + "\n"
            found.append(Block(path, start + 1, code, options))
        index += 1
    return found


def blocks() -> list[Block]:
    """Every ```python block of README.md and docs/*.md, in file order."""
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return [block for path in paths for block in _parse(path)]


def named(name: str) -> Block:
    """The block marked `<!-- example: name=NAME -->`."""
    [block] = [block for block in blocks() if block.options.get("name") == name]
    return block
