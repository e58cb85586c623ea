"""Write the API reference pages at build time (mkdocs-gen-files): nothing here is committed.

One page per namespace (`tmdb.movies`...) from `NAMESPACES`, rendering the generated class:
its coroutines' signatures (parameters, types, return model) and docstrings, so whatever the
generator writes into them shows here by itself. One page per model family. A model's family
is the first family (in FAMILIES' order) whose operations return it somewhere in their
response: `MovieSummary` is a movie model although search and account pages list movies too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import mkdocs_gen_files
import msgspec
import msgspec.inspect as mi

from tmdb_async import ENDPOINTS
from tmdb_async import models as public_models
from tmdb_async._generated import NAMESPACES
from tmdb_async.models import v4 as v4_models

log = logging.getLogger("mkdocs.plugins.gen_reference")

FAMILIES: dict[str, tuple[str, ...]] = {
    "Movies": ("movies", "movie_lists", "collections"),
    "TV": ("tv_series", "tv_seasons", "tv_episodes", "tv_episode_groups", "tv_series_lists"),
    "People": ("people", "people_lists", "credits"),
    "Search and discovery": ("search", "discover", "trending", "find", "keywords"),
    "Accounts and lists": ("account", "authentication", "guest_sessions", "lists"),
    "Reference data": (
        "configuration",
        "certifications",
        "genres",
        "watch_providers",
        "companies",
        "networks",
        "changes",
        "reviews",
    ),
    "Acting for a user (v4)": ("v4.auth", "v4.lists", "v4.account"),
}
V4_FAMILY = "Acting for a user (v4)"
"""v4's models are a page of their own (`tmdb_async.models.v4`): their names are v3's too."""
OPTIONS = """    options:
      show_root_heading: {heading}
      show_root_full_path: false
      heading_level: 2
"""


def slug(text: str) -> str:
    return text.lower().replace(" ", "-")


def structs_in(type_: Any) -> Iterator[type]:
    """Every Struct class a response type holds, at any depth."""
    seen: set[type] = set()
    todo = [mi.type_info(type_)]
    while todo:
        info = todo.pop()
        if isinstance(info, mi.StructType):
            if info.cls in seen:
                continue
            seen.add(info.cls)
            yield info.cls
            todo += [f.type for f in info.fields]
        elif isinstance(info, mi.UnionType):
            todo += info.types
        elif isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
            todo.append(info.item_type)
        elif isinstance(info, mi.DictType):
            todo.append(info.value_type)
        elif isinstance(info, mi.TupleType):
            todo += info.item_types


def family_of_models() -> dict[str, str]:
    """Model name -> family."""
    families: dict[str, str] = {}
    for family, namespaces in FAMILIES.items():
        for operation in ENDPOINTS:
            if operation.version == 3 and operation.namespace in namespaces:
                for cls in structs_in(operation.response_type):
                    families.setdefault(cls.__name__, family)
    return families


def write(path: str, text: str) -> None:
    with mkdocs_gen_files.open(path, "w") as page:
        page.write(text)


def namespace_pages() -> list[str]:
    nav = []
    listed = {ns for namespaces in FAMILIES.values() for ns in namespaces}
    for name, cls in sorted(NAMESPACES.items()):
        if name not in listed:
            log.warning("namespace %s has no model family in docs_tools/gen_reference.py", name)
        operations = [op for op in ENDPOINTS if op.namespace == name]
        section = name.removeprefix("v4.").replace("_", " ")
        version = "v4 " if name.startswith("v4.") else ""
        rows = "\n".join(
            f"| [`{op.name}`](#{cls.__module__}.{cls.__name__}.{op.name}) "
            f"| `{op.http_method} {op.path}` | {op.cache_class.value} |"
            for op in operations
        )
        write(
            f"reference/namespaces/{name}.md",
            f"# `tmdb.{name}`\n\n"
            f"{len(operations)} operation{'s' if len(operations) != 1 else ''} of TMDB's"
            f" {version}{section} section, as coroutines of `tmdb.{name}`"
            " (path parameters positional, query parameters keyword-only).\n\n"
            "| coroutine | TMDB | cache class |\n|---|---|---|\n"
            f"{rows}\n\n"
            f"::: {cls.__module__}.{cls.__name__}\n" + OPTIONS.format(heading="false"),
        )
        nav.append(f"    * [tmdb.{name}](namespaces/{name}.md)")
    return nav


def model_pages() -> list[str]:
    families = family_of_models()
    structs = [
        name
        for name in public_models.__all__
        if isinstance(getattr(public_models, name), type)
        and issubclass(getattr(public_models, name), msgspec.Struct)
    ]
    grouped: dict[str, list[str]] = {}
    for name in structs:
        grouped.setdefault(families.get(name, "Shared"), []).append(name)
    others = [name for name in public_models.__all__ if name not in structs]
    nav = []
    for family in [*(f for f in FAMILIES if f != V4_FAMILY), "Shared"]:
        names = grouped.get(family, [])
        if not names:
            continue
        blocks = "\n".join(
            f"::: tmdb_async._generated.models.{name}\n" + OPTIONS.format(heading="true")
            for name in sorted(names)
        )
        intro = (
            "Structs that no operation returns on its own (generic helpers)."
            if family == "Shared"
            else f"Models first met in the responses of the {family.lower()} operations."
        )
        write(
            f"reference/models/{slug(family)}.md",
            f"# {family} models\n\n{intro} Import them from `tmdb_async.models`.\n\n{blocks}",
        )
        nav.append(f"    * [{family}](models/{slug(family)}.md)")
    blocks = "\n".join(
        f"::: tmdb_async._generated.models.{name}\n" + OPTIONS.format(heading="true")
        for name in others
    )
    write(
        "reference/models/appended-parts.md",
        "# Appended parts\n\nThe names `append_to_response` takes, per details operation"
        " (a type checker knows them), and `season_part(n)` for TV's numbered parts."
        f" Import them from `tmdb_async.models`.\n\n{blocks}",
    )
    nav.append("    * [Appended parts](models/appended-parts.md)")
    blocks = "\n".join(
        f"::: tmdb_async._generated.v4.models.{name}\n" + OPTIONS.format(heading="true")
        for name in sorted(v4_models.__all__)
    )
    write(
        "reference/models/v4.md",
        "# v4 models\n\nTMDB's v4 responses and request bodies (`ListItem`), apart from v3's:"
        " `v4.ListDetails` is not v3's `ListDetails`. Import them from"
        f" `tmdb_async.models.v4`.\n\n{blocks}",
    )
    nav.append(f"    * [{V4_FAMILY}](models/v4.md)")
    return nav


def main() -> None:
    summary = [
        "* [Overview](index.md)",
        "* [The client](client.md)",
        "* [Errors](errors.md)",
        "* Namespaces",
        *namespace_pages(),
        "* Models",
        *model_pages(),
        "* [Testing](testing.md)",
        "* [Distributed crawls](distributed.md)",
        "* [The mirror](mirror.md)",
    ]
    write("reference/SUMMARY.md", "\n".join(summary) + "\n")


main()
