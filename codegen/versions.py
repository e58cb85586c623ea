"""TMDB's two API versions, each generated from its own spec into a place of its own.

githubkit keeps the code of each API version apart (`versions/v2022_11_28/`); so do we: v3 in
`tmdb_async/_generated/`, v4 in `tmdb_async/_generated/v4/`, each with its own models, naming
map and corrections. The parameter-kinds table and the corpus are shared. The two specs reuse
operation ids (`list-details`, `account-lists`...), so v4's are prefixed `v4/` everywhere
the generator and the runtime name them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["CODEGEN_DIR", "V3", "V4", "VERSIONS", "ApiVersion", "version_of"]

CODEGEN_DIR = Path(__file__).resolve().parent
SHARED_DIR = CODEGEN_DIR.parent.parent / "shared"


@dataclass(frozen=True)
class ApiVersion:
    """Where one API version's inputs are and where its output goes."""

    number: int
    spec_env: str
    """The environment variable that names its spec file."""
    data_dir: Path
    """Its naming.toml and overrides.toml."""
    package: str
    """Where its generated modules go, relative to the project root."""
    examples: str
    """Where its spec examples go, relative to the project root."""

    @property
    def id_prefix(self) -> str:
        """Prefixed to its operation ids: `""` for v3, `"v4/"` for v4."""
        return "" if self.primary else f"v{self.number}/"

    @property
    def namespace_prefix(self) -> str:
        """Prefixed to its namespaces: `tmdb.v4.lists` is the namespace `v4.lists`."""
        return "" if self.primary else f"v{self.number}."

    @property
    def class_prefix(self) -> str:
        """Prefixed to its namespace classes (`V4ListsApi`), so no two share a name."""
        return "" if self.primary else f"V{self.number}"

    @property
    def primary(self) -> bool:
        """v3: its models hold the shared bases (`TMDBStruct`, `Page`) and the named sets."""
        return self.number == 3

    @property
    def default_spec(self) -> Path:
        """`../shared/tmdb-openapi-v<N>.json` beside the project."""
        return SHARED_DIR / f"tmdb-openapi-v{self.number}.json"


V3 = ApiVersion(3, "TMDB_OPENAPI_SPEC", CODEGEN_DIR, "tmdb_async/_generated", "tests/spec_examples")
V4 = ApiVersion(
    4,
    "TMDB_OPENAPI_SPEC_V4",
    CODEGEN_DIR / "v4",
    "tmdb_async/_generated/v4",
    "tests/spec_examples/v4",
)
VERSIONS = (V3, V4)


def version_of(operation_id: str) -> ApiVersion:
    """The version an operation id belongs to (`v4/list-details` is v4's)."""
    return next((v for v in VERSIONS[1:] if operation_id.startswith(v.id_prefix)), V3)
