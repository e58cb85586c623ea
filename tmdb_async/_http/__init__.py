"""The client's own HTTP/1.1 keep-alive client (see `_pool` for why it exists)."""

from ._errors import (
    ConnectFailed,
    ConnectTimeout,
    Disconnected,
    HTTPError,
    ProtocolViolation,
    ResponseTimeout,
    TLSFailed,
)
from ._pool import ConnectionPool, Timeouts

__all__ = [
    "ConnectFailed",
    "ConnectTimeout",
    "ConnectionPool",
    "Disconnected",
    "HTTPError",
    "ProtocolViolation",
    "ResponseTimeout",
    "TLSFailed",
    "Timeouts",
]
