"""Image URLs: TMDB's image base URL plus a size valid for the kind of image."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._errors import ParameterError
from .models import ImageConfiguration

__all__ = ["DEFAULT_IMAGE_CONFIG", "ImageKind", "ImageUrls"]

ImageKind = Literal["backdrop", "logo", "poster", "profile", "still"]
KINDS: tuple[ImageKind, ...] = ("backdrop", "logo", "poster", "profile", "still")
ORIGINAL = "original"

# https://developer.themoviedb.org/docs/image-basics : the documented secure base and sizes,
# used until `configuration.details` has been fetched.
DEFAULT_IMAGE_CONFIG = ImageConfiguration(
    base_url="http://image.tmdb.org/t/p/",
    secure_base_url="https://image.tmdb.org/t/p/",
    backdrop_sizes=["w300", "w780", "w1280", ORIGINAL],
    logo_sizes=["w45", "w92", "w154", "w185", "w300", "w500", ORIGINAL],
    poster_sizes=["w92", "w154", "w185", "w342", "w500", "w780", ORIGINAL],
    profile_sizes=["w45", "w185", "h632", ORIGINAL],
    still_sizes=["w92", "w185", "w300", ORIGINAL],
)


@dataclass(frozen=True)
class ImageUrls:
    """Builds image URLs from one `ImageConfiguration`."""

    config: ImageConfiguration = DEFAULT_IMAGE_CONFIG

    def sizes(self, kind: ImageKind) -> tuple[str, ...]:
        """The sizes TMDB serves for `kind` (e.g. profile: w45, w185, h632, original)."""
        if kind not in KINDS:
            raise ParameterError(f"unknown image kind {kind!r}; one of {', '.join(KINDS)}")
        sizes = getattr(self.config, f"{kind}_sizes", None)
        default: list[str] = getattr(DEFAULT_IMAGE_CONFIG, f"{kind}_sizes")
        return tuple(sizes or default)

    def url(self, file_path: str | None, size: str, kind: ImageKind | None = None) -> str | None:
        """`https://image.tmdb.org/t/p/<size><file_path>`, or None for a missing path.

        With `kind`, `size` must be one of that kind's sizes (`w500` is not a profile size);
        without it, any size TMDB serves for some kind. SVG logos exist only at `original`.
        """
        if not file_path:
            return None
        if not file_path.startswith("/"):
            raise ParameterError(f"an image file_path starts with '/', got {file_path!r}")
        allowed = self.sizes(kind) if kind else {s for k in KINDS for s in self.sizes(k)}
        if size not in allowed:
            target = f"{kind} images" if kind else "any image"
            raise ParameterError(
                f"{size!r} is not a size for {target}; one of {', '.join(sorted(allowed))}"
            )
        if kind == "logo" and file_path.endswith(".svg"):
            size = ORIGINAL
        base = self.config.secure_base_url or DEFAULT_IMAGE_CONFIG.secure_base_url or ""
        return f"{base.rstrip('/')}/{size}{file_path}"
