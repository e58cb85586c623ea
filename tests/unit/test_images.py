"""Image URLs: sizes checked per kind, SVG logos at original, None for a missing path."""

from __future__ import annotations

import pytest

from tmdb_async import TMDB, ParameterError
from tmdb_async._images import DEFAULT_IMAGE_CONFIG, ImageUrls
from tmdb_async.models import ImageConfiguration


@pytest.fixture
def tmdb() -> TMDB:
    return TMDB(access_token="t", base_url="http://127.0.0.1:9")


def test_profile_sizes_are_per_kind(tmdb: TMDB) -> None:
    assert tmdb.profile_url("/p.jpg", "h632") == "https://image.tmdb.org/t/p/h632/p.jpg"
    with pytest.raises(ParameterError, match="w500"):
        tmdb.profile_url("/p.jpg", "w500")
    assert tmdb.poster_url("/p.jpg", "w500") == "https://image.tmdb.org/t/p/w500/p.jpg"
    with pytest.raises(ParameterError, match="h632"):
        tmdb.poster_url("/p.jpg", "h632")


def test_any_known_size_without_kind(tmdb: TMDB) -> None:
    assert tmdb.image_url("/x.jpg", "w185") == "https://image.tmdb.org/t/p/w185/x.jpg"
    assert tmdb.image_url("/x.jpg", "original") == "https://image.tmdb.org/t/p/original/x.jpg"
    with pytest.raises(ParameterError, match="w9999"):
        tmdb.image_url("/x.jpg", "w9999")


def test_missing_path_is_none_and_bad_path_an_error(tmdb: TMDB) -> None:
    assert tmdb.image_url(None, "w185") is None
    assert tmdb.backdrop_url("", "w780") is None
    with pytest.raises(ParameterError, match="starts with '/'"):
        tmdb.image_url("x.jpg", "w185")


def test_svg_logo_is_served_at_original(tmdb: TMDB) -> None:
    assert tmdb.logo_url("/n.svg", "w92") == "https://image.tmdb.org/t/p/original/n.svg"
    assert tmdb.logo_url("/n.png", "w92") == "https://image.tmdb.org/t/p/w92/n.png"


def test_configuration_replaces_defaults() -> None:
    urls = ImageUrls(
        ImageConfiguration(secure_base_url="https://cdn.example/t/p/", profile_sizes=["w45", "w99"])
    )
    assert urls.url("/a.jpg", "w99", "profile") == "https://cdn.example/t/p/w99/a.jpg"
    with pytest.raises(ParameterError):
        urls.url("/a.jpg", "h632", "profile")
    assert urls.sizes("still") == tuple(DEFAULT_IMAGE_CONFIG.still_sizes or ())
