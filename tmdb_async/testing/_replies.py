"""TMDB's status codes and error bodies, as the fake answers them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["JSON_TYPE", "TMDB_ERRORS", "Reply", "status_body", "tmdb_error"]

# TMDB's status codes (https://developer.themoviedb.org/docs/errors): code -> (HTTP, message).
TMDB_ERRORS: dict[int, tuple[int, str]] = {
    1: (201, "Success."),
    3: (401, "Authentication failed: You do not have permissions to access the service."),
    5: (422, "Invalid parameters: Your request parameters are incorrect."),
    6: (404, "Invalid id: The pre-requisite id is invalid or not found."),
    7: (401, "Invalid API key: You must be granted a valid key."),
    8: (403, "Duplicate entry: The data you tried to submit already exists."),
    12: (201, "The item/record was updated successfully."),
    13: (200, "The item/record was deleted successfully."),
    17: (401, "Session denied."),
    18: (400, "Validation failed."),
    20: (422, "Invalid date range: Should be a range no longer than 14 days."),
    22: (400, "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer."),
    23: (400, "Invalid date: Format needs to be YYYY-MM-DD."),
    25: (429, "Your request count (#) is over the allowed limit of (40)."),
    27: (400, "Too many append to response objects: The maximum number of remote calls is 20."),
    28: (400, "Invalid timezone: Please consult the documentation for a valid timezone."),
    29: (400, "You must confirm this action: Please provide a confirm=true parameter."),
    30: (401, "Invalid username and/or password: You did not provide a valid login."),
    33: (401, "Invalid request token: The request token is either expired or invalid."),
    34: (404, "The resource you requested could not be found."),
    35: (401, "Invalid token."),
    36: (401, "This token hasn't been granted write permission by the user."),
    38: (401, "You don't have permission to edit this resource."),
    39: (401, "This resource is private."),
    41: (422, "This request token hasn't been approved by the user."),
}
JSON_TYPE = "application/json;charset=utf-8"


class Reply(Exception):
    """Raised by handlers to answer at once (an error body, usually)."""

    def __init__(self, status: int, body: bytes, headers: Mapping[str, str] | None = None):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def tmdb_error(code: int, http_status: int | None = None, message: str | None = None) -> Reply:
    """TMDB's error body for `code`, e.g. 34 -> 404 `{"success": false, "status_code": 34...}`."""
    default_status, default_message = TMDB_ERRORS[code]
    body = {
        "success": False,
        "status_code": code,
        "status_message": message or default_message,
    }
    return Reply(
        http_status or default_status, msgspec.json.encode(body), {"Content-Type": JSON_TYPE}
    )


def status_body(code: int, *, http_status: int | None = None) -> tuple[int, Any]:
    default_status, message = TMDB_ERRORS[code]
    return http_status or default_status, {
        "success": True,
        "status_code": code,
        "status_message": message,
    }
