"""tmdb-async benchmarks: `python -m benchmarks [suite ...] [--json]` (or `nox -s bench`)."""
