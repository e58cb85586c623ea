"""No credential in what an error drags along: its traceback text, the repr of every exception
in its cause/context chain, and the log, for servers that answer badly over real loopback
sockets (a raw asyncio server writes the bytes). aiohttp's own exceptions hold the URL as sent
(with `api_key`) and the request headers (a bearer token): they must not ride on ours."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from tmdb_async import TMDB, DeadlineExceededError, Failure, TransportError

API_KEY = "apikeySECRETapikeySECRET01234567"
APP_TOKEN = "eyJhbGciOiJIUzI1NiJ9.APPSECRETTOKEN.c2lnbmF0dXJl"
USER_TOKEN = "eyJhbGciOiJIUzI1NiJ9.USERSECRETTOKEN.c2lnbmF0dXJl"
SECRETS = (API_KEY, APP_TOKEN, USER_TOKEN)

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter, str], Awaitable[None]]


def _head(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _writes(data: bytes) -> Answer:
    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter, __: str) -> None:
        writer.write(data)
        await writer.drain()

    return answer


async def _nothing(_: asyncio.StreamReader, __: asyncio.StreamWriter, ___: str) -> None:
    """Close without a word: the server went away mid-request."""


async def _reset(_: asyncio.StreamReader, writer: asyncio.StreamWriter, __: str) -> None:
    """A TCP reset (SO_LINGER 0), not a clean close."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def _silence(reader: asyncio.StreamReader, _: asyncio.StreamWriter, __: str) -> None:
    await reader.read()  # until the client gives up


async def _redirect_to_itself(_: asyncio.StreamReader, w: asyncio.StreamWriter, t: str) -> None:
    w.write(_head("HTTP/1.1 302 Found", f"Location: {t}", "Content-Length: 0"))
    await w.drain()


ANSWERS: dict[str, tuple[Answer, str]] = {
    # name: (what the server does, what the message must still name)
    "bad-content-length": (
        _writes(_head("HTTP/1.1 200 OK", "Content-Length: abc") + b"{}"),
        "ClientResponseError",
    ),
    "bad-status-line": (_writes(_head("HTTP/1.1 abc OK", "Content-Length: 2") + b"{}"), "Client"),
    "bad-header": (_writes(_head("HTTP/1.1 200 OK", "no colon here") + b"{}"), "Client"),
    "truncated-body": (
        _writes(_head("HTTP/1.1 200 OK", "Content-Length: 100") + b'{"id": 1'),
        "ClientPayloadError",
    ),
    "bad-chunk": (
        _writes(_head("HTTP/1.1 200 OK", "Transfer-Encoding: chunked") + b"zz\r\n{}\r\n"),
        "ClientResponseError",
    ),
    "bad-gzip": (
        _writes(
            _head("HTTP/1.1 200 OK", "Content-Encoding: gzip", "Content-Length: 9") + b"notgzip!!"
        ),
        "ClientPayloadError",
    ),
    "closed": (_nothing, "ServerDisconnectedError"),
    "reset": (_reset, "reset"),
    "silence": (_silence, "no complete response within"),
    "redirect-to-invalid-url": (
        _writes(_head("HTTP/1.1 302 Found", "Location: http://[::1", "Content-Length: 0")),
        "a redirect to an invalid URL",
    ),
    "redirect-loop": (_redirect_to_itself, "redirects"),
}


@asynccontextmanager
async def raw_server(name: str) -> AsyncIterator[str]:
    """A server that answers every request as `ANSWERS[name]` says; its base URL."""
    answer, _ = ANSWERS[name]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            await answer(reader, writer, head.split(" ", 2)[1])
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def caller(kind: str, base_url: str, **options: Any) -> AsyncIterator[TMDB]:
    """A client whose calls carry `kind`'s secret: an api_key, an app token, or a user's."""
    credential = {"api_key": API_KEY} if kind == "api_key" else {"access_token": APP_TOKEN}
    options = {"rate_limit": None, "cache": None, "max_retries": 0, "timeout": 0.5, **options}
    async with TMDB(base_url=base_url, **credential, **options) as tmdb:
        yield tmdb.as_user(USER_TOKEN, account_id="0" * 24) if kind == "user" else tmdb


def chain(error: BaseException) -> list[BaseException]:
    """`error` and every exception its causes and contexts lead to."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [error]
    while todo:
        found = todo.pop()
        if found is not None and all(found is not s for s in seen):
            seen.append(found)
            todo += [found.__cause__, found.__context__]
    return seen


def leaks(error: BaseException, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every text that shows a secret: the traceback, a repr in the chain, a log record."""
    texts = {"traceback": "".join(traceback.format_exception(error))}
    for link in chain(error):
        texts[f"repr({type(link).__name__})"] = repr(link)
        texts[f"vars({type(link).__name__})"] = repr(vars(link))
    for record in caplog.records:
        texts[f"log {record.name}"] = record.getMessage() + (
            "".join(traceback.format_exception(*record.exc_info)) if record.exc_info else ""
        )
    return [where for where, text in texts.items() if any(s in text for s in SECRETS)]


KINDS = ["api_key", "bearer", "user"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("answer", list(ANSWERS))
async def test_a_bad_answer_leaves_no_secret_in_the_error_chain_or_the_log(
    kind: str, answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with raw_server(answer) as base_url, caller(kind, base_url) as tmdb:
        with pytest.raises(TransportError) as caught:
            await tmdb.movies.details(550, language="de")  # a query before the api_key
        error = caught.value
        # Reached the server under test, with the credential, and says what went wrong.
        assert error.url == f"{base_url}/3/movie/550?language=de"
        assert ANSWERS[answer][1] in str(error)
    assert leaks(error, caplog) == []


@pytest.mark.parametrize("kind", KINDS)
async def test_no_connection_leaves_no_secret(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with caller(kind, base_url) as tmdb:
        with pytest.raises(TransportError) as caught:
            await tmdb.movies.details(550)
    assert "ClientConnectorError" in str(caught.value)
    assert leaks(caught.value, caplog) == []


@pytest.mark.parametrize("kind", KINDS)
async def test_a_deadline_over_a_silent_server_leaves_no_secret(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The wire cuts a POST's attempt to the deadline (a GET's caller stops waiting first):
    the deadline's error keeps what ended the attempt as its cause, our own error."""
    caplog.set_level(logging.DEBUG)
    async with (
        raw_server("silence") as base_url,
        caller(kind, base_url, deadline=0.3, timeout=5) as tmdb,
    ):
        with pytest.raises(DeadlineExceededError) as caught:
            await tmdb.movies.add_rating(550, value=8.0)
    cause = caught.value.__cause__
    assert isinstance(cause, TransportError)
    assert cause.failure is Failure.TOTAL_TIMEOUT
    assert leaks(caught.value, caplog) == []
