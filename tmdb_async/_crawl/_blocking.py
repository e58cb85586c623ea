"""A blocking call (opening a FIFO, reading a terminal) that Ctrl-C does not wait for."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["in_daemon_thread"]

T = TypeVar("T")


async def in_daemon_thread(call: Callable[[], T]) -> T:
    """`call()` in a daemon thread: a cancelled wait leaves it behind without holding up the
    exit (`asyncio.to_thread`'s executor would be joined by `asyncio.run`). A file
    descriptor (an int) that `call` returns after the wait was cancelled is closed."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            result = call()
        except BaseException as err:  # handed to the waiting task
            settle: tuple[T | None, BaseException | None] = (None, err)
        else:
            settle = (result, None)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, future, *settle)

    threading.Thread(target=run, name="tmdb-async-blocking", daemon=True).start()
    return await future


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.cancelled():
        if isinstance(result, int) and not isinstance(result, bool):  # an fd nobody will read
            os.close(result)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]
