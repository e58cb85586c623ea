"""The tmdb-async code generator (not shipped): TMDB's OpenAPI spec -> tmdb_async/_generated/."""
