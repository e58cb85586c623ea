"""`python -m codegen [--check] [--spec PATH] [--spec-v4 PATH] [--out DIR] [--corpus DIR]`:
generate, or verify freshness. `python -m codegen learn FILE...`: add what the models lack to
the corpus."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Mapping
from pathlib import Path

from .corpus import CORPUS_DIR, Sample, load_samples, misfiled, observations
from .models import build_models
from .naming import load_naming
from .overrides import correct, load_overrides
from .parameters import Parameters, load_parameters
from .render import Generated, render_all, render_version
from .shapes import infer_all
from .spec import find_spec, load_spec
from .versions import VERSIONS, ApiVersion, version_of
from .views import operation_views

ROOT = Path(__file__).resolve().parent.parent
GENERATED_GLOBS = tuple(
    pattern for v in VERSIONS for pattern in (f"{v.package}/*.py", f"{v.examples}/*.json")
)


def _generate_version(
    version: ApiVersion, spec_path: Path, samples: list[Sample], parameters: Parameters
) -> tuple[Generated, dict[str, str]]:
    spec_hash, spec_ops = load_spec(spec_path, version)
    overrides = load_overrides(version.data_dir / "overrides.toml")
    naming = load_naming(version.data_dir / "naming.toml")
    try:
        ops = correct(spec_ops, overrides)
    except ValueError as err:
        raise SystemExit(f"v{version.number}: {err}") from None
    if missing := sorted({op.operation_id for op in ops} - naming.operations.keys()):
        raise SystemExit(f"naming.toml has no entry for operations {missing}")
    if problems := misfiled(samples, {op.operation_id: op.path for op in ops}):
        raise SystemExit("corpus samples filed under the wrong operation:\n" + "\n".join(problems))
    learned = observations(samples, naming)
    if unknown := sorted(learned.keys() - {op.operation_id for op in ops}):
        raise SystemExit(f"the corpus has samples of operations the spec lacks: {unknown}")
    inferred = infer_all(
        ((op.operation_id, op.response_schema, op.response_example) for op in ops),
        overrides,
        learned,
    )
    model = build_models(
        inferred,
        naming,
        overrides.refs,
        overrides.fields,
        overrides.optional_ids,
        overrides.secrets,
    )
    views = operation_views(ops, version, naming, model, overrides, parameters)
    rendered = render_version(ops, views, model, naming, parameters, spec_hash)
    return Generated(version, views, spec_hash), rendered


def generate(specs: Mapping[ApiVersion, Path], corpus: Path = CORPUS_DIR) -> dict[str, str]:
    """Everything the generator writes, as {relative path: text}: each version's code from
    its spec (`specs`: every version's) and the `corpus` of real responses."""
    samples = load_samples(corpus)
    parameters = load_parameters()
    versions = [
        _generate_version(
            version,
            specs[version],
            [s for s in samples if version_of(s.operation_id) is version],
            parameters,
        )
        for version in VERSIONS
    ]
    if stale := parameters.unused():
        raise SystemExit(f"parameters.toml entries describe no parameter: {stale}")
    return render_all(versions)


def stale_files(files: dict[str, str], root: Path) -> list[str]:
    """Describe every file that differs from `files` (or is extra) under `root`."""
    problems = []
    for rel, text in files.items():
        path = root / rel
        current = path.read_text() if path.exists() else ""
        if current != text:
            diff = difflib.unified_diff(
                current.splitlines(), text.splitlines(), rel, rel, lineterm="", n=0
            )
            first = next(
                (line for line in diff if line[:1] in "+-" and line[:3] not in ("---", "+++")), ""
            )
            problems.append(f"{rel}: differs, first change: {first[:200]}")
    extra = sorted(
        str(p.relative_to(root))
        for pattern in GENERATED_GLOBS
        for p in root.glob(pattern)
        if str(p.relative_to(root)) not in files
    )
    problems += [f"{rel}: not generated any more" for rel in extra]
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["learn"]:
        # Imported here: learning reads the generated models, which generating must not need.
        from .learn import main as learn

        return learn(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed output is stale"
    )
    for version in VERSIONS:
        flag = "--spec" if version.primary else f"--spec-v{version.number}"
        parser.add_argument(
            flag,
            type=Path,
            default=None,
            dest=f"spec_v{version.number}",
            help=f"TMDB's OpenAPI v{version.number} spec"
            f" (default: ${version.spec_env} or ../shared)",
        )
    parser.add_argument("--out", type=Path, default=ROOT, help="project root to write into")
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="corpus of responses")
    args = parser.parse_args(argv)
    specs = {
        version: getattr(args, f"spec_v{version.number}") or find_spec(version)
        for version in VERSIONS
    }
    for version, spec in specs.items():
        if not spec.exists():
            print(
                f"TMDB OpenAPI v{version.number} spec not found at {spec} (set {version.spec_env})",
                file=sys.stderr,
            )
            return 2
    files = generate(specs, args.corpus)
    if args.check:
        problems = stale_files(files, args.out)
        for line in problems:
            print(line, file=sys.stderr)
        if problems:
            print("generated code is stale: run `nox -s generate`", file=sys.stderr)
            return 1
        print(f"{len(files)} generated files are fresh")
        return 0
    for rel in stale_files(files, args.out):
        if rel.endswith("not generated any more"):
            (args.out / rel.split(":")[0]).unlink()
    for rel, text in files.items():
        path = args.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    print(f"wrote {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
