"""Deterministic synthetic TMDB payloads, built by walking the generated response types.

Every value comes from a small splitmix64 generator seeded by a hash of (what is being built,
the ids involved, the field name), so the same request always yields the same bytes on every
Python version, and a movie keeps its title wherever it appears (search results, details,
credits): objects that carry an integer `id` are seeded by (entity family, id), not by the
endpoint that happens to return them.

Shapes follow TMDB's real habits rather than its spec: `*_path`, `imdb_id`, `homepage`,
`deathday` and friends are sometimes null, `release_date`/`first_air_date` sometimes `""`,
mixed lists carry `media_type`, maps are keyed by ISO 3166-1 country codes.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi

from .._generated.models import UnknownMedia
from .._operation import Operation

__all__ = [
    "COUNTRIES",
    "EXPORT_KINDS",
    "LANGUAGES",
    "PAGE_SIZE",
    "DataGenerator",
    "Rng",
    "export_lines",
    "export_payload",
    "export_record",
    "gzip_lines",
    "paged",
    "seed_of",
]

T = TypeVar("T")

PAGE_SIZE = 20
"""Results per page, as TMDB serves them."""
MAX_PAGE = 500
"""TMDB refuses pages above 500 (error 22)."""

_MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    """One splitmix64 finalisation step."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def seed_of(*parts: object) -> int:
    """A 64-bit seed from any printable parts (stable across processes and versions)."""
    text = "\x1f".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big")


def _derive(seed: int, label: str | int) -> int:
    if isinstance(label, int):
        return _mix(seed ^ _mix(label + 0x51ED))
    return _mix(seed ^ (zlib.crc32(label.encode()) << 21))


class Rng:
    """A tiny deterministic generator (splitmix64): cheap to seed, identical everywhere."""

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK

    def next(self) -> int:
        """The next 64-bit value."""
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK
        return _mix(self._state)

    def random(self) -> float:
        """A float in [0, 1)."""
        return (self.next() >> 11) / 9007199254740992.0

    def randint(self, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + self.next() % (high - low + 1)

    def uniform(self, low: float, high: float) -> float:
        """A float in [low, high)."""
        return low + (high - low) * self.random()

    def chance(self, p: float) -> bool:
        """True with probability `p`."""
        return self.random() < p

    def choice(self, seq: Sequence[T]) -> T:
        """One element of `seq`."""
        return seq[self.next() % len(seq)]

    def sample(self, seq: Sequence[T], k: int) -> list[T]:
        """`k` distinct elements of `seq`, in a seeded order."""
        pool = list(seq)
        out: list[T] = []
        for _ in range(min(k, len(pool))):
            out.append(pool.pop(self.next() % len(pool)))
        return out


def paged(items: list[Any], page: int) -> dict[str, Any]:
    """Page `page` of `items` as TMDB pages a listing (`PAGE_SIZE` a page)."""
    start = (page - 1) * PAGE_SIZE
    return {
        "page": page,
        "results": items[start : start + PAGE_SIZE],
        "total_pages": math.ceil(len(items) / PAGE_SIZE),
        "total_results": len(items),
    }


# --------------------------------------------------------------------------- reference tables

COUNTRIES: tuple[tuple[str, str, str], ...] = (
    ("US", "United States of America", "United States"),
    ("GB", "United Kingdom", "United Kingdom"),
    ("DE", "Germany", "Deutschland"),
    ("FR", "France", "France"),
    ("JP", "Japan", "日本"),
    ("KR", "South Korea", "대한민국"),
    ("IT", "Italy", "Italia"),
    ("ES", "Spain", "España"),
    ("CA", "Canada", "Canada"),
    ("IN", "India", "India"),
    ("BR", "Brazil", "Brasil"),
    ("AU", "Australia", "Australia"),
    ("MX", "Mexico", "México"),
    ("SE", "Sweden", "Sverige"),
    ("NL", "Netherlands", "Nederland"),
)
"""(ISO 3166-1, English name, native name)."""

LANGUAGES: tuple[tuple[str, str, str], ...] = (
    ("en", "English", "English"),
    ("fr", "French", "Français"),
    ("de", "German", "Deutsch"),
    ("ja", "Japanese", "日本語"),
    ("ko", "Korean", "한국어/조선말"),
    ("es", "Spanish", "Español"),
    ("it", "Italian", "Italiano"),
    ("hi", "Hindi", "हिन्दी"),
    ("pt", "Portuguese", "Português"),
    ("sv", "Swedish", "svenska"),
    ("nl", "Dutch", "Nederlands"),
)
"""(ISO 639-1, English name, native name)."""

_COUNTRY_CODES = tuple(c[0] for c in COUNTRIES)
_LANGUAGE_CODES = tuple(lang[0] for lang in LANGUAGES)
# English dominates real data; weight it.
_ORIGINAL_LANGUAGES = ("en", "en", "en", "en", *_LANGUAGE_CODES)
_TIMEZONES = {
    "US": ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"],
    "GB": ["Europe/London"],
    "DE": ["Europe/Berlin", "Europe/Busingen"],
    "FR": ["Europe/Paris"],
    "JP": ["Asia/Tokyo"],
    "KR": ["Asia/Seoul"],
    "IT": ["Europe/Rome"],
    "ES": ["Europe/Madrid", "Africa/Ceuta", "Atlantic/Canary"],
    "CA": ["America/Toronto", "America/Vancouver"],
    "IN": ["Asia/Kolkata"],
    "BR": ["America/Sao_Paulo", "America/Manaus"],
    "AU": ["Australia/Sydney", "Australia/Perth"],
    "MX": ["America/Mexico_City"],
    "SE": ["Europe/Stockholm"],
    "NL": ["Europe/Amsterdam"],
}

MOVIE_GENRES: tuple[tuple[int, str], ...] = (
    (28, "Action"),
    (12, "Adventure"),
    (16, "Animation"),
    (35, "Comedy"),
    (80, "Crime"),
    (99, "Documentary"),
    (18, "Drama"),
    (10751, "Family"),
    (14, "Fantasy"),
    (36, "History"),
    (27, "Horror"),
    (10402, "Music"),
    (9648, "Mystery"),
    (10749, "Romance"),
    (878, "Science Fiction"),
    (10770, "TV Movie"),
    (53, "Thriller"),
    (10752, "War"),
    (37, "Western"),
)
TV_GENRES: tuple[tuple[int, str], ...] = (
    (10759, "Action & Adventure"),
    (16, "Animation"),
    (35, "Comedy"),
    (80, "Crime"),
    (99, "Documentary"),
    (18, "Drama"),
    (10751, "Family"),
    (10762, "Kids"),
    (9648, "Mystery"),
    (10763, "News"),
    (10764, "Reality"),
    (10765, "Sci-Fi & Fantasy"),
    (10766, "Soap"),
    (10767, "Talk"),
    (10768, "War & Politics"),
    (37, "Western"),
)
_ALL_GENRES = dict(MOVIE_GENRES) | dict(TV_GENRES)

_CERTIFICATIONS = {
    "US": [
        ("NR", "No rating information."),
        ("G", "All ages admitted."),
        ("PG", "Some material may not be suitable for children."),
        ("PG-13", "Some material may be inappropriate for children under 13."),
        ("R", "Under 17 requires accompanying parent or adult guardian."),
        ("NC-17", "No one 17 and under admitted."),
    ],
    "DE": [
        ("0", "No age restriction."),
        ("6", "No children younger than 6 years admitted."),
        ("12", "Children 12 or older admitted."),
        ("16", "Children 16 or older admitted."),
        ("18", "No youth admitted, only adults."),
    ],
    "FR": [
        ("U", "Tous publics."),
        ("12", "Interdit aux moins de 12 ans."),
        ("16", "Interdit aux moins de 16 ans."),
        ("18", "Interdit aux mineurs."),
    ],
    "GB": [
        ("U", "All ages admitted."),
        ("PG", "All ages admitted, parental guidance advised."),
        ("12A", "Films under this category are considered to be unsuitable for under 12s."),
        ("15", "Only those over 15 years are admitted."),
        ("18", "Only adults are admitted."),
    ],
}
_PROVIDERS = (
    (8, "Netflix"),
    (9, "Amazon Prime Video"),
    (337, "Disney Plus"),
    (350, "Apple TV+"),
    (2, "Apple TV"),
    (3, "Google Play Movies"),
    (15, "Hulu"),
    (1899, "Max"),
    (531, "Paramount Plus"),
    (283, "Crunchyroll"),
)
_DEPARTMENTS = {
    "Directing": ("Director", "Assistant Director", "Script Supervisor"),
    "Writing": ("Screenplay", "Writer", "Novel", "Story"),
    "Production": ("Producer", "Executive Producer", "Casting", "Co-Producer"),
    "Sound": ("Original Music Composer", "Sound Designer", "Music Supervisor"),
    "Camera": ("Director of Photography", "Camera Operator"),
    "Editing": ("Editor", "Colorist"),
    "Art": ("Production Design", "Art Direction", "Set Decoration"),
    "Costume & Make-Up": ("Costume Design", "Makeup Artist"),
    "Visual Effects": ("Visual Effects Supervisor", "VFX Artist"),
    "Crew": ("Stunt Coordinator", "Stunts"),
    "Lighting": ("Gaffer", "Lighting Technician"),
}
_DEPARTMENT_NAMES = tuple(_DEPARTMENTS)
_CHANGE_KEYS = (
    "adult",
    "air_date",
    "also_known_as",
    "alternative_titles",
    "biography",
    "birthday",
    "budget",
    "cast",
    "certifications",
    "character_names",
    "created_by",
    "crew",
    "deathday",
    "episode",
    "episode_number",
    "episode_run_time",
    "freebase_id",
    "freebase_mid",
    "general",
    "genres",
    "guest_stars",
    "homepage",
    "images",
    "imdb_id",
    "languages",
    "name",
    "network",
    "origin_country",
    "original_name",
    "original_title",
    "overview",
    "parts",
    "place_of_birth",
    "plot_keywords",
    "production_code",
    "production_companies",
    "production_countries",
    "releases",
    "revenue",
    "runtime",
    "season",
    "season_number",
    "season_regular",
    "spoken_languages",
    "status",
    "tagline",
    "title",
    "translations",
    "tvdb_id",
    "tvrage_id",
    "type",
    "video",
    "videos",
)
_WORDS = (
    "Midnight",
    "Shadow",
    "River",
    "Silent",
    "Iron",
    "Golden",
    "Last",
    "Broken",
    "Crimson",
    "Summer",
    "Winter",
    "Echo",
    "Hollow",
    "Paper",
    "Glass",
    "Northern",
    "Wild",
    "Lost",
    "Electric",
    "Velvet",
    "Burning",
    "Distant",
    "Secret",
    "Falling",
    "Hidden",
    "Empire",
    "Harbor",
    "Garden",
    "Signal",
    "Storm",
    "Orchard",
    "Lantern",
    "Kingdom",
    "Horizon",
    "Station",
    "Mirror",
    "Machine",
    "Voyage",
    "Fever",
    "Letters",
    "Thunder",
    "Island",
    "Avenue",
    "Promise",
    "Wolves",
    "Comet",
    "Canyon",
    "Atlas",
    "Citadel",
    "Nocturne",
)
_LOWER_WORDS = (
    *(w.lower() for w in _WORDS),
    "the",
    "of",
    "and",
    "a",
    "in",
    "with",
    "for",
    "their",
    "new",
    "old",
    "city",
    "family",
    "war",
    "love",
    "friend",
    "journey",
    "truth",
    "past",
)
_FIRST_NAMES = (
    "Ada",
    "Bruno",
    "Chiara",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hiro",
    "Ingrid",
    "Jonas",
    "Keiko",
    "Luis",
    "Maya",
    "Nikolai",
    "Olga",
    "Pedro",
    "Quentin",
    "Rosa",
    "Sven",
    "Tamsin",
    "Umar",
    "Vera",
    "Wes",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Brad",
    "Edward",
    "Helena",
    "Meat",
)
_LAST_NAMES = (
    "Abbott",
    "Bergström",
    "Castellanos",
    "Dubois",
    "Eriksen",
    "Fujimoto",
    "García",
    "Hollis",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Pitt",
    "Quinn",
    "Rossi",
    "Schneider",
    "Tanaka",
    "Ueda",
    "Valente",
    "Whitaker",
    "Yamada",
    "Zimmermann",
    "Norton",
    "Carter",
    "Loaf",
)
_CITIES = (
    "Los Angeles, California, USA",
    "London, England, UK",
    "Berlin, Germany",
    "Paris, France",
    "Tokyo, Japan",
    "Seoul, South Korea",
    "Rome, Italy",
    "Madrid, Spain",
    "Toronto, Ontario, Canada",
    "Mumbai, Maharashtra, India",
    "Shawnee, Oklahoma, USA",
)
_COMPANY_SUFFIXES = ("Pictures", "Films", "Studios", "Entertainment", "Productions", "Media")
_NETWORKS = ("HBO", "BBC One", "Netflix", "AMC", "FX", "ZDF", "Canal+", "NHK", "tvN", "ABC")
_HEX = "0123456789abcdef"
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_YT = _ALNUM + "-_"

# Entity families: objects with an integer id seeded by (family, id), so a movie keeps its
# title in every list it appears in.
_FAMILY = {
    "MovieSummary": "movie",
    "MovieDetails": "movie",
    "MovieCastCredit": "movie",
    "MovieCrewCredit": "movie",
    "CollectionPart": "movie",
    "TvSeriesSummary": "tv",
    "TvSeriesDetails": "tv",
    "TvCastCredit": "tv",
    "TvCrewCredit": "tv",
    "CreditMedia": "tv",
    "PersonSummary": "person",
    "PersonDetails": "person",
    "CastMember": "person",
    "CrewMember": "person",
    "AggregateCastMember": "person",
    "AggregateCrewMember": "person",
    "Creator": "person",
    "CollectionDetails": "collection",
    "CollectionSummary": "collection",
    "Company": "company",
    "CompanyDetails": "company",
    "Network": "network",
    "NetworkDetails": "network",
    "Keyword": "keyword",
    "EpisodeSummary": "episode",
    "SeasonEpisode": "episode",
    "TvEpisodeDetails": "episode",
    "SeasonSummary": "season",
    "TvSeasonDetails": "season",
    "ListSummary": "list",
}
# Fields that describe an entity's role in its context (a credit), not the entity itself.
_CONTEXT_FIELDS = frozenset(
    {
        "character",
        "credit_id",
        "order",
        "job",
        "jobs",
        "department",
        "cast_id",
        "episode_count",
        "total_episode_count",
        "roles",
        "rating",
        "media_type",
    }
)
# Probability that TMDB sends null for a field (never for fields not listed, or `*_path`).
_NULL_P = {
    "backdrop_path": 0.15,
    "poster_path": 0.1,
    "profile_path": 0.3,
    "logo_path": 0.25,
    "still_path": 0.1,
    "avatar_path": 0.6,
    "imdb_id": 0.15,
    "homepage": 0.4,
    "deathday": 0.85,
    "birthday": 0.1,
    "place_of_birth": 0.15,
    "belongs_to_collection": 0.5,
    "next_episode_to_air": 0.5,
    "parent_company": 0.7,
    "air_date": 0.05,
    "runtime": 0.05,
    "wikidata_id": 0.3,
    "facebook_id": 0.4,
    "instagram_id": 0.4,
    "twitter_id": 0.4,
    "tiktok_id": 0.7,
    "youtube_id": 0.7,
    "freebase_mid": 0.5,
    "freebase_id": 0.5,
    "tvrage_id": 0.5,
    "tvdb_id": 0.3,
    "iso_639_1": 0.0,
    "production_code": 0.0,
    "tmdb": 0.0,
}
_IMAGE_KINDS = {
    "backdrops": (1.778, 1920),
    "posters": (0.667, 2000),
    "logos": (2.5, 500),
    "profiles": (0.667, 1500),
    "stills": (1.778, 1280),
}


def _token(rng: Rng, n: int, alphabet: str) -> str:
    """`n` characters of `alphabet`, several per 64-bit draw."""
    base = len(alphabet)
    per_draw = int(60 // math.log2(base))
    out: list[str] = []
    while len(out) < n:
        value = rng.next()
        for _ in range(min(per_draw, n - len(out))):
            value, digit = divmod(value, base)
            out.append(alphabet[digit])
    return "".join(out)


def _hex(rng: Rng, n: int) -> str:
    return _token(rng, n, _HEX)


def _date(rng: Rng, lo: int = 1950, hi: int = 2025) -> str:
    return f"{rng.randint(lo, hi):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _clock(rng: Rng) -> str:
    return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


def _title(rng: Rng) -> str:
    n = rng.randint(1, 3)
    words = rng.sample(_WORDS, n)
    if n > 1 and rng.chance(0.3):
        words.insert(1, "of the")
    return ("The " if rng.chance(0.35) else "") + " ".join(words)


def _person_name(rng: Rng) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def _sentence(rng: Rng, lo: int = 6, hi: int = 16) -> str:
    words = [rng.choice(_LOWER_WORDS) for _ in range(rng.randint(lo, hi))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _text(rng: Rng, sentences: tuple[int, int] = (1, 3)) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(*sentences)))


def _image_path(rng: Rng, ext: str = ".jpg") -> str:
    return "/" + _token(rng, 27, _ALNUM) + ext


# --------------------------------------------------------------------------- generator


@dataclass(frozen=True, slots=True)
class _Ctx:
    """What a build knows about its request."""

    op: Operation[Any]
    path_args: Mapping[str, int | str]
    page: int
    salt: int
    discover: bool


_OMIT: Any = object()


class DataGenerator:
    """Build Python objects (ready for `msgspec.json.encode`) that fit an operation's type."""

    def __init__(self, salt: int = 0) -> None:
        self.salt = salt
        self._info: dict[Any, mi.Type] = {}
        self._unions: dict[int, tuple[bool, list[mi.StructType], list[mi.Type]]] = {}

    def type_info(self, tp: Any) -> mi.Type:
        """`msgspec.inspect.type_info`, cached per type."""
        info = self._info.get(tp)
        if info is None:
            info = self._info[tp] = mi.type_info(tp)
        return info

    def build(
        self,
        op: Operation[Any],
        path_args: Mapping[str, int | str],
        query: Mapping[str, str] | None = None,
        *,
        page: int = 1,
    ) -> Any:
        """The body of `op` for these path arguments and (credential-free) query."""
        query = query or {}
        ctx = _Ctx(
            op=op,
            path_args=path_args,
            page=page,
            salt=self.salt,
            discover=op.path.startswith("/3/discover/"),
        )
        static = _STATIC.get(op.operation_id)
        if static is not None:
            return static(Rng(seed_of(self.salt, op.operation_id)))
        relevant = sorted(
            (k, v)
            for k, v in query.items()
            if k not in {"page", "append_to_response", "session_id", "guest_session_id"}
        )
        seed = seed_of(self.salt, op.operation_id, sorted(path_args.items()), relevant)
        info = self.type_info(op.response_type)
        ident = _root_ident(op, path_args)
        return self._value(info, "$", seed, ctx, ident=ident, root=True)

    def entity(self, tp: Any, ident: int, *, op: Operation[Any], tagged: bool = False) -> Any:
        """One Struct of type `tp` for entity `ident` (as it appears in any list)."""
        ctx = _Ctx(op=op, path_args={}, page=1, salt=self.salt, discover=False)
        info = self.type_info(tp)
        assert isinstance(info, mi.StructType)
        return self._struct(info, seed_of(self.salt, "entity", ident), ctx, ident, tagged)

    def part(self, op: Operation[Any], key: str, path_args: Mapping[str, int | str]) -> Any:
        """An appended part (`key` as sent) of a details operation, from its field's type."""
        info = self.type_info(op.response_type)
        assert isinstance(info, mi.StructType)
        field = next(f for f in info.fields if f.encode_name == key)
        ctx = _Ctx(op=op, path_args=path_args, page=1, salt=self.salt, discover=False)
        seed = seed_of(self.salt, op.operation_id, key, sorted(path_args.items()))
        return self._value(field.type, key, seed, ctx)

    # -- walking ---------------------------------------------------------------------------

    def _value(
        self,
        info: mi.Type,
        name: str,
        seed: int,
        ctx: _Ctx,
        *,
        ident: int | str | None = None,
        root: bool = False,
        family: str = "",
    ) -> Any:
        if isinstance(info, mi.StructType):
            return self._struct(info, seed, ctx, ident, False, root=root)
        if isinstance(info, mi.UnionType):
            return self._union(info, name, seed, ctx, family)
        if isinstance(info, mi.ListType):
            return self._list(info, name, seed, ctx, family)
        if isinstance(info, mi.DictType):
            return self._dict(info, name, seed, ctx, family)
        rng = Rng(seed)
        if isinstance(info, mi.StrType):
            return _str(name, rng, family, ctx)
        if isinstance(info, mi.BoolType):
            return _bool(name, rng)
        if isinstance(info, mi.IntType):
            return _int(name, rng, ctx)
        if isinstance(info, mi.FloatType):
            return _float(name, rng)
        if isinstance(info, mi.AnyType):
            return rng.choice((_title(rng), rng.randint(1, 300), None))
        return None

    def _union(self, info: mi.UnionType, name: str, seed: int, ctx: _Ctx, family: str) -> Any:
        shape = self._unions.get(id(info))
        if shape is None:
            members = [t for t in info.types if not isinstance(t, mi.NoneType)]
            structs = [
                t
                for t in members
                if isinstance(t, mi.StructType) and t.cls is not UnknownMedia  # never Unknown
            ]
            others = [t for t in members if not isinstance(t, mi.StructType)]
            shape = self._unions[id(info)] = (len(members) < len(info.types), structs, others)
        nullable, structs, others = shape
        if nullable:
            null_p = _null_p(name)
            if null_p and Rng(_derive(seed, "null")).chance(null_p):
                return None
        if len(structs) > 1:
            variant = Rng(_derive(seed, "variant")).choice(structs)
            return self._struct(variant, seed, ctx, None, tagged=True)
        if name == "rated":  # `false` or {"value": x}
            rng = Rng(_derive(seed, "rated"))
            if rng.chance(0.6) or not structs:
                return False
            return {"value": rng.randint(1, 20) / 2}
        choice: mi.Type = structs[0] if structs else others[0]
        return self._value(choice, name, seed, ctx, family=family)

    def _list(self, info: mi.ListType, name: str, seed: int, ctx: _Ctx, family: str) -> Any:
        rng = Rng(_derive(seed, "len"))
        item = info.item_type
        if isinstance(item, mi.StrType):
            return _str_list(name, rng, family)
        if isinstance(item, mi.IntType):
            if name == "genre_ids":
                table = TV_GENRES if family == "tv" else MOVIE_GENRES
                return [g for g, _ in rng.sample(table, rng.randint(1, 3))]
            return [_int(name, Rng(_derive(seed, i)), ctx) for i in range(rng.randint(1, 3))]
        n = rng.randint(2, 5)
        return [self._value(item, name, _derive(seed, i), ctx, family=family) for i in range(n)]

    def _dict(self, info: mi.DictType, name: str, seed: int, ctx: _Ctx, family: str) -> Any:
        rng = Rng(_derive(seed, "keys"))
        if name == "data":  # UnknownMedia.data: never generated
            return {}
        keys = rng.sample(_COUNTRY_CODES[:8], rng.randint(2, 4))
        if name == "certifications":
            keys = list(_CERTIFICATIONS)
        if "US" not in keys:
            keys[0] = "US"
        return {
            k: self._value(info.value_type, name, _derive(seed, k), ctx, family=family)
            for k in keys
        }

    def _struct(
        self,
        info: mi.StructType,
        seed: int,
        ctx: _Ctx,
        ident: int | str | None,
        tagged: bool,
        *,
        root: bool = False,
    ) -> dict[str, Any]:
        cls = getattr(info.cls, "__origin__", info.cls)
        cname: str = cls.__name__
        names = {f.name for f in info.fields}
        out: dict[str, Any] = {}
        if tagged and info.tag_field is not None:
            out[info.tag_field] = info.tag
        family = _FAMILY.get(cname, "")
        if family == "tv" and "title" in names:  # CreditMedia of a movie credit
            family = "movie"
        # identity
        id_field = next((f for f in info.fields if f.name == "id"), None)
        if id_field is not None:
            if ident is None and (id_field.required or not root):
                ident = _new_ident(id_field.type, Rng(_derive(seed, "id")), family, cname)
            if ident is not None:
                ident = _coerce_ident(id_field.type, ident)
                out["id"] = ident
        if cname == "Genre":
            gid, gname = _genre(ident, Rng(seed), ctx)
            return {"id": gid, "name": gname}
        entity_seed = (
            seed_of(ctx.salt, family, ident) if family and isinstance(ident, int) else seed
        )
        page_struct = {"page", "results", "total_pages", "total_results"} <= names
        # Appended parts only come when asked for; template fields (`appended_seasons`) are
        # gathered by the client, never sent.
        skip = _append_fields().get(cls, frozenset()) if root else frozenset()
        for f in info.fields:
            if f.name == "id" or f.encode_name in skip or _irrelevant(cname, f.name, ctx):
                continue
            if page_struct and f.name in {"page", "results", "total_pages", "total_results"}:
                continue
            base = seed if f.name in _CONTEXT_FIELDS else entity_seed
            value = self._value(f.type, f.name, _derive(base, f.name), ctx, family=family)
            if value is not _OMIT:
                out[f.encode_name] = value
        if page_struct:
            results = next(f for f in info.fields if f.name == "results")
            assert isinstance(results.type, mi.ListType)
            out.update(self._page(results.type.item_type, seed, ctx))
        _fixup(cname, out, Rng(_derive(seed, "fixup")), ctx)
        return out

    def _page(self, item: mi.Type, seed: int, ctx: _Ctx) -> dict[str, Any]:
        rng = Rng(_derive(seed, "total"))
        if ctx.discover:  # discover reports more than 500 pages, like real TMDB
            total_results = rng.randint(MAX_PAGE * PAGE_SIZE + 1, 900_000)
        elif _sparse(ctx.op.path) and rng.chance(0.15):  # a search with few matches
            total_results = rng.randint(0, PAGE_SIZE)
        else:
            total_results = rng.randint(PAGE_SIZE + 1, MAX_PAGE * PAGE_SIZE)
        total_pages = math.ceil(total_results / PAGE_SIZE)
        page = ctx.page
        start = (page - 1) * PAGE_SIZE
        count = max(0, min(PAGE_SIZE, total_results - start))
        results = [
            self._value(item, "results", _derive(seed, start + i), ctx) for i in range(count)
        ]
        return {
            "page": page,
            "results": results,
            "total_pages": total_pages,
            "total_results": total_results,
        }


# --------------------------------------------------------------------------- scalars


@functools.cache
def _append_fields() -> dict[Any, frozenset[str]]:
    """Details type -> the keys of its appendable parts (e.g. `credits`, `appended_seasons`)."""
    from .._generated.operations import ENDPOINTS

    table: dict[Any, set[str]] = {}
    for op in ENDPOINTS:
        if op.append_parts:
            keys = table.setdefault(op.response_type, set())
            keys.update(op.append_parts)
            keys.update(t.field for t in op.append_templates)
    return {tp: frozenset(keys) for tp, keys in table.items()}


def _sparse(path: str) -> bool:
    """Listings that are often short: searches, similar titles, reviews, lists."""
    return path.startswith("/3/search/") or path.endswith(
        ("/similar", "/recommendations", "/reviews", "/lists", "/tagged_images")
    )


def _null_p(name: str) -> float:
    p = _NULL_P.get(name)
    if p is not None:
        return p
    return 0.15 if name.endswith("_path") else 0.0


def _root_ident(op: Operation[Any], path_args: Mapping[str, int | str]) -> int | str | None:
    """The root object's `id`: the path's id when it addresses one object."""
    if len(op.path_params) == 1 and op.path_params[0].name != "time_window":
        return path_args[op.path_params[0].name]
    if len(op.path_params) > 1:  # season / episode: TMDB's own ids differ from the numbers
        return seed_of("ident", sorted(path_args.items())) % 5_000_000 + 1
    return None


def _coerce_ident(info: mi.Type, ident: int | str) -> int | str:
    types = info.types if isinstance(info, mi.UnionType) else (info,)
    if any(isinstance(t, mi.IntType) for t in types):
        return int(ident) if isinstance(ident, int) or str(ident).isdigit() else 0
    return str(ident)


def _new_ident(info: mi.Type, rng: Rng, family: str, cname: str) -> int | str:
    types = info.types if isinstance(info, mi.UnionType) else (info,)
    if not any(isinstance(t, mi.IntType) for t in types):
        return _hex(rng, 24)  # TMDB's object ids: reviews, videos, credits, change items
    high = {"movie": 1_400_000, "tv": 290_000, "person": 5_000_000, "episode": 6_000_000}
    return rng.randint(1, high.get(family, 200_000))


def _genre(ident: int | str | None, rng: Rng, ctx: _Ctx) -> tuple[int, str]:
    if isinstance(ident, int) and ident in _ALL_GENRES:
        return ident, _ALL_GENRES[ident]
    table = TV_GENRES if "/tv" in ctx.op.path else MOVIE_GENRES
    return rng.choice(table)


def _str(name: str, rng: Rng, family: str, ctx: _Ctx) -> Any:
    if name.endswith("_path"):
        return _image_path(rng, ".png" if name == "logo_path" else ".jpg")
    if name in {"release_date", "first_air_date"}:
        return "" if rng.chance(0.05) else _date(rng)
    if name in {"air_date", "last_air_date", "birthday", "deathday", "maximum", "minimum"}:
        lo = 1940 if name in {"birthday", "deathday"} else 1960
        return _date(rng, lo, 2026 if name == "air_date" else 2025)
    if name in {"created_at", "updated_at"}:
        return f"{_date(rng, 2008)}T{_clock(rng)}.{rng.randint(0, 999):03d}Z"
    if name in {"published_at", "time", "expires_at"}:
        return f"{_date(rng, 2010)} {_clock(rng)} UTC"
    if name == "iso_639_1":
        return rng.choice(_LANGUAGE_CODES)
    if name in {"iso_3166_1", "origin_country"}:
        return rng.choice(_COUNTRY_CODES)
    if name == "original_language":
        return rng.choice(_ORIGINAL_LANGUAGES)
    if name == "imdb_id":
        return f"{'nm' if family == 'person' else 'tt'}{rng.randint(1, 29_999_999):07d}"
    if name == "wikidata_id":
        return f"Q{rng.randint(1000, 99_999_999)}"
    if name in {"facebook_id", "instagram_id", "twitter_id", "tiktok_id", "youtube_id"}:
        return f"{rng.choice(_WORDS).lower()}{rng.choice(_WORDS).lower()}{rng.randint(1, 99)}"
    if name in {"freebase_mid", "freebase_id"}:
        return f"/m/0{_hex(rng, 5)}"
    if name in {"homepage", "url", "link"}:
        return f"https://www.example.com/{rng.choice(_WORDS).lower()}-{rng.randint(1, 9999)}"
    if name in {"title", "original_title", "media_title"}:
        return _title(rng)
    if name in {"name", "original_name", "author"}:
        if family in {"person"} or name == "author":
            return _person_name(rng)
        if family == "company":
            return f"{rng.choice(_WORDS)} {rng.choice(_COMPANY_SUFFIXES)}"
        if family == "network":
            return rng.choice(_NETWORKS)
        if family == "keyword":
            return " ".join(rng.sample(_LOWER_WORDS, rng.randint(1, 2)))
        if family == "collection":
            return f"{_title(rng)} Collection"
        if family == "season":
            return f"Season {rng.randint(1, 12)}"
        if family == "episode":
            return _title(rng)
        return _title(rng)
    if name in {"overview", "biography", "content", "description"}:
        return _text(rng)
    if name == "tagline":
        return _sentence(rng, 3, 8)
    if name == "character":
        return rng.choice((*_FIRST_NAMES, "Himself", "Herself", "Narrator (voice)"))
    if name == "department" or name == "known_for_department":
        return (
            "Acting"
            if name == "known_for_department" and rng.chance(0.6)
            else (rng.choice(_DEPARTMENT_NAMES))
        )
    if name == "job":
        return rng.choice(rng.choice(tuple(_DEPARTMENTS.values())))
    if name == "status":
        if family == "tv":
            return rng.choice(("Returning Series", "Ended", "Canceled"))
        return rng.choice(("Released", "Released", "Released", "Post Production", "Rumored"))
    if name == "type":
        if family == "tv":
            return rng.choice(("Scripted", "Miniseries", "Documentary", "Reality"))
        return rng.choice(("Trailer", "Teaser", "Featurette", "Clip", "Behind the Scenes"))
    if name == "site":
        return "YouTube"
    if name == "key":
        if "change" in ctx.op.operation_id:
            return rng.choice(_CHANGE_KEYS)
        return _token(rng, 11, _YT)
    if name in {"certification", "rating"}:
        return rng.choice(_CERTIFICATIONS["US"])[0]
    if name in {"credit_id"}:
        return _hex(rng, 24)
    if name in {"session_id", "request_token", "guest_session_id"}:
        return _hex(rng, 40)
    if name == "hash":
        return _hex(rng, 32)
    if name in {"username", "created_by"}:
        return f"{rng.choice(_FIRST_NAMES).lower()}{rng.randint(1, 9999)}"
    if name == "media_type":
        return "tv" if family == "tv" else "movie"
    if name == "credit_type":
        return rng.choice(("cast", "crew"))
    if name == "image_type":
        return rng.choice(("backdrop", "poster", "still"))
    if name == "file_type":
        return rng.choice((".png", ".svg"))
    if name == "list_type":
        return "movie"
    if name == "episode_type":
        return rng.choice(("standard", "standard", "standard", "finale", "mid_season"))
    if name == "production_code":
        return "" if rng.chance(0.5) else f"{rng.randint(1, 9)}{_hex(rng, 4).upper()}"
    if name in {"headquarters", "place_of_birth"}:
        return rng.choice(_CITIES)
    if name == "note":
        return "" if rng.chance(0.8) else rng.choice(("Premiere", "Festival", "Limited"))
    if name in {"english_name", "native_name"}:
        return rng.choice(COUNTRIES)[1]
    if name == "action":
        return rng.choice(("added", "updated", "deleted"))
    if name == "status_message":
        return "Success."
    if name == "meaning":
        return _sentence(rng, 4, 10)
    if name == "provider_name":
        return rng.choice(_PROVIDERS)[1]
    if name in {"base_url", "secure_base_url"}:
        return "https://image.tmdb.org/t/p/"
    return " ".join(rng.sample(_WORDS, rng.randint(1, 2)))


def _str_list(name: str, rng: Rng, family: str) -> list[str]:
    n = rng.randint(1, 3)
    if name in {"origin_country"}:
        return rng.sample(_COUNTRY_CODES, 1 if rng.chance(0.8) else 2)
    if name == "languages":
        return rng.sample(_LANGUAGE_CODES, n)
    if name == "also_known_as":
        return [_person_name(rng) for _ in range(rng.randint(0, 3))]
    if name == "descriptors":
        return [] if rng.chance(0.7) else ["Violence"]
    if name == "zones":
        return _TIMEZONES[rng.choice(_COUNTRY_CODES)]
    if name == "change_keys":
        return list(_CHANGE_KEYS)
    if name.endswith("_sizes"):
        return ["w92", "w185", "w500", "original"]
    if name == "jobs":
        return list(rng.choice(tuple(_DEPARTMENTS.values())))
    return [_title(rng) for _ in range(n)]


def _int(name: str, rng: Rng, ctx: _Ctx) -> int:
    if name in {"season_number", "episode_number"} and name in ctx.path_args:
        return int(ctx.path_args[name])
    if name == "show_id" and "series_id" in ctx.path_args:
        return int(ctx.path_args["series_id"])
    if name == "vote_count":
        return rng.randint(0, 35_000) if rng.chance(0.8) else rng.randint(0, 20)
    if name in {"budget", "revenue"}:
        return 0 if rng.chance(0.3) else rng.randint(1, 400) * 500_000
    if name == "runtime":
        return rng.randint(20, 200)
    if name == "gender":
        return rng.choice((0, 1, 2, 2, 3))
    if name in {"order", "display_priority"}:
        return rng.randint(0, 40)
    if name in {"episode_number", "season_number", "number_of_seasons"}:
        return rng.randint(1, 12)
    if name in {"number_of_episodes", "episode_count", "total_episode_count"}:
        return rng.randint(1, 120)
    if name in {"height", "width"}:
        return rng.randint(500, 3000)
    if name == "size":
        return rng.choice((360, 720, 1080, 2160))
    if name == "type":
        return rng.randint(1, 6)
    if name == "provider_id":
        return rng.choice(_PROVIDERS)[0]
    if name in {"tvrage_id", "tvdb_id"}:
        return rng.randint(1000, 500_000)
    if name in {"favorite_count", "item_count", "group_count"}:
        return rng.randint(0, 60)
    if name == "status_code":
        return 1
    if name == "episode_run_time":
        return rng.choice((22, 30, 45, 60))
    return rng.randint(1, 100_000)


def _float(name: str, rng: Rng) -> float:
    if name == "vote_average":
        return round(rng.uniform(0, 10), 3) if rng.chance(0.9) else 0.0
    if name == "popularity":
        return round(rng.uniform(0.6, 400), 3)
    if name == "aspect_ratio":
        return rng.choice((0.667, 1.778, 1.85, 2.39))
    if name == "rating":
        return rng.randint(1, 20) / 2
    return round(rng.uniform(0, 100), 3)


def _bool(name: str, rng: Rng) -> bool:
    if name in {"adult", "video", "include_adult", "locked"}:
        return rng.chance(0.02)
    if name == "success":
        return True
    if name in {"official", "in_production"}:
        return rng.chance(0.7)
    return rng.chance(0.5)


def _irrelevant(cname: str, field: str, ctx: _Ctx) -> bool:
    """Fields a model carries for one endpoint but TMDB sends only from another."""
    path = ctx.op.path
    if field == "rating" and cname in {"MovieSummary", "TvSeriesSummary", "EpisodeSummary"}:
        return "/rated" not in path
    if cname == "Keywords":
        return field == ("results" if path.startswith("/3/movie") else "keywords")
    if cname == "AlternativeTitles":
        return field == ("results" if path.startswith("/3/movie") else "titles")
    if cname == "Credits" and field == "guest_stars":
        return "/episode/" not in path
    if cname == "Images" and field in _IMAGE_KINDS:
        return field not in _image_fields(path)
    if cname == "EpisodeSummary" and field == "order":
        return "episode_group" not in path
    return False


def _image_fields(path: str) -> tuple[str, ...]:
    if "/episode/" in path:
        return ("stills",)
    if "/season/" in path:
        return ("posters",)
    if path.startswith("/3/person"):
        return ("profiles",)
    if path.startswith(("/3/company", "/3/network")):
        return ("logos",)
    if path.startswith("/3/collection"):
        return ("backdrops", "posters")
    return ("backdrops", "logos", "posters")


def _fixup(cname: str, out: dict[str, Any], rng: Rng, ctx: _Ctx) -> None:
    """Make related fields agree with each other."""
    for orig, main in (("original_title", "title"), ("original_name", "name")):
        if (
            orig in out
            and main in out
            and (out.get("original_language") == "en" or rng.chance(0.5))
        ):
            out[orig] = out[main]
    if cname in {"Image", "TaggedImage"} and "width" in out:
        ratio = rng.choice((0.667, 1.778))
        out["height"] = round(out["width"] / ratio)
        out["aspect_ratio"] = ratio
    if cname == "TaggedImage" and isinstance(out.get("media"), dict):
        out["media_type"] = out["media"].get("media_type", "movie")
    if cname == "FindResults":
        keep = rng.choice(("movie_results", "tv_results", "person_results"))
        for key in list(out):
            out[key] = out[key][:1] if key == keep else []
    if cname == "CreditMedia":
        out["media_type"] = "tv" if "first_air_date" in out else "movie"
    if cname == "ListDetails":  # its items are one page of the list
        count = len(out.get("items") or [])
        out.update(page=ctx.page, total_pages=1, total_results=count, item_count=count)


# --------------------------------------------------------------------------- static bodies


def _configuration(rng: Rng) -> Any:
    return {
        "images": {
            "base_url": "http://image.tmdb.org/t/p/",
            "secure_base_url": "https://image.tmdb.org/t/p/",
            "backdrop_sizes": ["w300", "w780", "w1280", "original"],
            "logo_sizes": ["w45", "w92", "w154", "w185", "w300", "w500", "original"],
            "poster_sizes": ["w92", "w154", "w185", "w342", "w500", "w780", "original"],
            "profile_sizes": ["w45", "w185", "h632", "original"],
            "still_sizes": ["w92", "w185", "w300", "original"],
        },
        "change_keys": list(_CHANGE_KEYS),
    }


_STATIC: dict[str, Callable[[Rng], Any]] = {
    "configuration-details": _configuration,
    "configuration-countries": lambda rng: [
        {"iso_3166_1": c, "english_name": e, "native_name": n} for c, e, n in COUNTRIES
    ],
    "configuration-languages": lambda rng: [
        {"iso_639_1": c, "english_name": e, "name": n} for c, e, n in LANGUAGES
    ],
    "configuration-jobs": lambda rng: [
        {"department": d, "jobs": list(jobs)} for d, jobs in _DEPARTMENTS.items()
    ],
    "configuration-timezones": lambda rng: [
        {"iso_3166_1": c, "zones": z} for c, z in _TIMEZONES.items()
    ],
    "configuration-primary-translations": lambda rng: (
        [f"{lang}-{c}" for lang, c in (("en", "US"), ("en", "GB"), ("de", "DE"), ("fr", "FR"))]
        + ["ja-JP", "ko-KR", "es-ES", "es-MX", "it-IT", "pt-BR", "sv-SE", "nl-NL"]
    ),
    "genre-movie-list": lambda rng: {"genres": [{"id": i, "name": n} for i, n in MOVIE_GENRES]},
    "genre-tv-list": lambda rng: {"genres": [{"id": i, "name": n} for i, n in TV_GENRES]},
    "certification-movie-list": lambda rng: {
        "certifications": {
            c: [{"certification": k, "meaning": m, "order": i} for i, (k, m) in enumerate(rows)]
            for c, rows in _CERTIFICATIONS.items()
        }
    },
    "certifications-tv-list": lambda rng: {
        "certifications": {
            c: [{"certification": k, "meaning": m, "order": i} for i, (k, m) in enumerate(rows)]
            for c, rows in _CERTIFICATIONS.items()
        }
    },
    "watch-providers-available-regions": lambda rng: {
        "results": [{"iso_3166_1": c, "english_name": e, "native_name": n} for c, e, n in COUNTRIES]
    },
}


# --------------------------------------------------------------------------- daily exports

EXPORT_KINDS: dict[str, tuple[str, ...]] = {
    "movie": ("adult", "id", "original_title", "popularity", "video"),
    "adult_movie": ("adult", "id", "original_title", "popularity", "video"),
    "tv_series": ("id", "original_name", "popularity"),
    "adult_tv_series": ("id", "original_name", "popularity"),
    "person": ("adult", "id", "name", "popularity"),
    "adult_person": ("adult", "id", "name", "popularity"),
    "collection": ("id", "name"),
    "tv_network": ("id", "name"),
    "keyword": ("id", "name"),
    "production_company": ("id", "name"),
}
"""The files of TMDB's daily id exports and the keys of each line."""


def export_lines(kind: str, date: str, size: int, salt: int = 0) -> list[dict[str, Any]]:
    """The records of one daily export file (`kind` from `EXPORT_KINDS`, date `MM_DD_YYYY`)."""
    rng = Rng(seed_of(salt, "export", kind, date))
    lines: list[dict[str, Any]] = []
    ident = 0
    for _ in range(size):
        ident += rng.randint(1, 4)
        lines.append(export_record(kind, ident, salt))
    return lines


def export_record(kind: str, ident: int, salt: int = 0) -> dict[str, Any]:
    """The line of `ident` in an export file of `kind` (the same in every file and date)."""
    item = Rng(seed_of(salt, kind.removeprefix("adult_"), ident))
    record: dict[str, Any] = {}
    for key in EXPORT_KINDS[kind]:
        if key == "id":
            record[key] = ident
        elif key == "adult":
            record[key] = kind.startswith("adult_")
        elif key == "video":
            record[key] = False
        elif key == "popularity":
            record[key] = round(item.uniform(0.0, 120.0), 3)
        elif kind.endswith("person"):
            record[key] = _person_name(item)
        else:
            record[key] = _title(item)
    return record


def export_payload(kind: str, date: str, size: int, salt: int = 0) -> bytes:
    """The gzipped JSON Lines bytes of one daily export file (deterministic: mtime 0)."""
    return gzip_lines(export_lines(kind, date, size, salt))


def gzip_lines(records: Sequence[dict[str, Any]]) -> bytes:
    """Records as gzipped JSON Lines, as TMDB serves its exports (deterministic: mtime 0)."""
    encoder = msgspec.json.Encoder()
    body = b"".join(encoder.encode(r) + b"\n" for r in records)
    return gzip.compress(body, compresslevel=6, mtime=0)
