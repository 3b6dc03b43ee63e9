"""Blocking twins of coroutines, safe inside a running loop (a Jupyter cell).

Sessions opened from sync code live on one background event-loop thread; the blocking methods
submit their coroutine there and wait. This keeps the session's reader task running between
calls (so live output and hooks keep flowing), which a per-call ``run_until_complete`` cannot.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from kit.errors import ConsoleError

__all__ = ["background_loop", "sync_twin"]


class _OnLoop(Protocol):
    @property
    def loop(self) -> asyncio.AbstractEventLoop | None: ...


P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S", bound=_OnLoop)

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """The process-wide console loop, started on first use (a daemon thread)."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="kit-console-loop", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def sync_twin(afunc: Callable[Concatenate[S, P], Coroutine[Any, Any, T]]) -> Callable[Concatenate[S, P], T]:
    """Blocking version of an ``async_…`` method of an object with a ``loop`` property.

    The coroutine runs on the object's loop, or on :func:`background_loop` while it has none.
    """

    @functools.wraps(afunc)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> T:
        loop = self.loop or background_loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise ConsoleError(
                f"{afunc.__name__.removeprefix('async_')}() would block the event loop this session runs on; "
                f"use `await session.{afunc.__name__}(...)` in async code"
            )
        return asyncio.run_coroutine_threadsafe(afunc(self, *args, **kwargs), loop).result()

    wrapper.__doc__ = f"Blocking twin of :meth:`{afunc.__name__}`."
    wrapper.__name__ = afunc.__name__.removeprefix("async_")
    return wrapper
