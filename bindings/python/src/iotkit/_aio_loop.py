"""What iotkit.aio.Device and iotkit.aio.Fleet share: the event loop a handle is
bound to, handing work to the loop's thread, and the timer the C API asks for."""
from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Deque, Optional, Tuple

from . import errors
from ._log import logger
from ._native import lib


class LoopDriver:
    """Base of the asyncio handles. Subclasses set ``_errors`` (the deque of callback
    exceptions to re-raise), and define ``_wake_up()`` and ``_on_timer()``."""

    _errors: Deque[BaseException]

    def _init_loop(self, what: str) -> None:
        self._what = what
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._loop_thread = 0
        self._timer: Optional[asyncio.TimerHandle] = None

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            self._loop_thread = threading.get_ident()
        elif self._loop is not loop:
            raise errors.error_for(lib.IOTKIT_ERR_STATE, "%s belongs to another event loop" % self._what)
        return loop

    def _in_loop(self) -> bool:
        return threading.get_ident() == self._loop_thread

    def _soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run @p fn in the loop thread: now if this is it (inside poll), else through call_soon_threadsafe."""
        if self._in_loop():
            fn(*args)
        elif self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._guarded, fn, args)

    def _guarded(self, fn: Callable[..., Any], args: Tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except BaseException as exc:  # noqa: B902 - re-raised by the next awaited call
            self._errors.append(exc)
        self._wake_up()

    async def connect(self) -> None:  # pragma: no cover - the subclasses'
        raise NotImplementedError

    async def close(self) -> None:  # pragma: no cover - the subclasses'
        raise NotImplementedError

    def _log_pending(self, why: str) -> None:  # pragma: no cover - the subclasses'
        raise NotImplementedError

    async def __aenter__(self) -> Any:
        """``async with Handle(...) as h:`` connects (see ``connect()``)."""
        await self.connect()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        """Close (see ``close()``); if the block raised, a callback exception is logged, not raised over it."""
        if exc_type is None:
            await self.close()
            return
        try:
            await self.close()
        except BaseException:  # noqa: B902 - do not hide the exception on its way
            logger.exception("%s: close() while leaving async with on an exception", self._what)
        self._log_pending("the async with-block ended with an exception")

    def _wake_up(self) -> None:  # pragma: no cover - the subclasses'
        raise NotImplementedError

    def _on_timer(self) -> None:  # pragma: no cover - the subclasses'
        raise NotImplementedError

    def _set_timer(self, ms: int) -> None:
        """Fire _on_timer() in @p ms (>= 0), or never (< 0); an earlier timer set already is kept
        (early is harmless: that poll arms again)."""
        loop = self._loop
        assert loop is not None
        timer = self._timer
        if ms >= 0:
            due = loop.time() + ms / 1000.0
            if timer is not None and timer.when() <= due:
                return
            self._timer = loop.call_at(due, self._timer_fired)
        else:
            self._timer = None
        if timer is not None:
            timer.cancel()

    def _timer_fired(self) -> None:
        self._timer = None
        self._on_timer()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
