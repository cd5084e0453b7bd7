"""asyncio integration of the fleet side: :class:`iotkit.aio.Fleet` (re-exported
by :mod:`iotkit.aio`), driven by the event loop through the fleet's descriptor
(``iotkit_fleet_fd()``, ``loop.add_reader``) and a ``loop.call_at`` timer for
``iotkit_fleet_next_timeout_ms()`` (reconnection, reconciliation, stale checks,
command deadlines), with no thread of its own.

::

    async with iotkit.aio.Fleet("fleet.db", uri="mqtt://127.0.0.1:1883") as fleet:
        print(await fleet.command("sensor-1", "ping", timeout=5))
        async for ev in fleet.events("status", "telemetry"):
            print(ev)

Every wake-up calls ``iotkit_fleet_poll(fleet, 0)`` in the loop's thread, so
callbacks run there. The blocking C connect (it waits for the broker's retained
statuses to be reconciled) runs in the loop's default executor; while it runs
nothing polls, and what it reports is handed to the loop thread.

Commands are sent with ``iotkit_fleet_command_send()`` / ``_group()`` and their
results come back through the loop's polls: ``await fleet.command(...)`` never
blocks the loop. Exceptions raised by callbacks are re-raised by the next
awaited method of the fleet or by an :meth:`Fleet.events` iterator.
"""
from __future__ import annotations

import asyncio
import collections
import inspect
from typing import (Any, AsyncIterator, Callable, Deque, Dict, FrozenSet, Iterable, List, Mapping, NamedTuple,
                    Optional, Set)

from . import errors
from . import fleet as _sync
from ._fleet_rollout import RolloutEvent
from ._fleet_targets import CommandResult, command_result, make_target, timeout_ms
from ._fleet_util import TimeBound, _encode, json_object
from ._aio_loop import LoopDriver
from ._native import ffi, lib

__all__ = ["Fleet", "StatusEvent", "TelemetryEvent", "StateEvent", "DeviceEvent", "LocationEvent",
           "StaleEvent", "ConnectionEvent", "RolloutEvent"]


class StatusEvent(NamedTuple):
    """A device went online (``reason`` None) or offline (``reason``: "disconnect", "last_will", ...)."""

    device_id: str
    online: bool
    reason: Optional[str]
    ts_ms: Optional[int]
    kind = "status"


class TelemetryEvent(NamedTuple):
    """A telemetry message: its points (:class:`iotkit.telemetry.Point`)."""

    device_id: str
    points: List[Any]
    kind = "telemetry"


class StateEvent(NamedTuple):
    """A device's reported state changed (the whole document)."""

    device_id: str
    state: Dict[str, Any]
    ts_ms: Optional[int]
    kind = "state"


class DeviceEvent(NamedTuple):
    """An event a device published (``type``, ``data`` decoded from JSON)."""

    device_id: str
    type: str
    ts_ms: Optional[int]
    data: Any
    kind = "event"


class LocationEvent(NamedTuple):
    """A position arrived (:class:`iotkit.fleet.Location`)."""

    device_id: str
    location: Any
    kind = "location"


class StaleEvent(NamedTuple):
    """An online device went silent longer than ``heartbeat`` (``stale`` True) or spoke again."""

    device_id: str
    stale: bool
    last_seen_ms: int
    kind = "stale"


class ConnectionEvent(NamedTuple):
    """The fleet's session came up (``reason`` None) or went down."""

    up: bool
    reason: Optional[errors.IotkitError]
    detail: str
    kind = "connection"


_EVENTS: Dict[str, Callable[..., Any]] = {
    "status": StatusEvent, "telemetry": TelemetryEvent, "state": StateEvent, "event": DeviceEvent,
    "location": LocationEvent, "stale": StaleEvent, "connection": ConnectionEvent,
    "rollout": lambda ev: ev,
}
KINDS: FrozenSet[str] = frozenset(_EVENTS)


class _Pending:
    """One asynchronous command: its future and the results so far (the C user pointer
    of its result callback is this object's handle, kept alive until it is settled)."""

    def __init__(self, owner: "Fleet", fut: "asyncio.Future[Any]", name: str, ms: int, order: Optional[List[str]],
                 single: bool) -> None:
        self.owner, self.fut, self.name, self.ms = owner, fut, name, ms
        self.order, self.single = order, single
        self.expected = 1
        self.results: List[CommandResult] = []
        self.handle = ffi.new_handle(self)

    def add(self, res: CommandResult) -> None:
        self.results.append(res)
        if len(self.results) >= self.expected:
            self.settle()

    def settle(self) -> None:
        self.owner._inflight.discard(self)
        if self.fut.done():
            return
        if self.single:
            r = self.results[0]
            if r.error is not None:
                self.fut.set_exception(r.error)
            else:
                self.fut.set_result(r.result)
            return
        rs = self.results
        if self.order is not None:
            pos = {d: i for i, d in enumerate(self.order)}
            rs = sorted(rs, key=lambda r: pos.get(r.device_id, len(pos)))
        else:
            rs = sorted(rs, key=lambda r: r.device_id.encode("utf-8"))
        self.fut.set_result(rs)


@ffi.def_extern(onerror=lambda *exc: None)
def _iotkit_pyfleet_result(fleet: Any, user: Any, result: Any) -> None:
    p: _Pending = ffi.from_handle(user)
    res = command_result(result, p.name, p.ms)
    p.owner._soon(p.add, res)


class _Events:
    """One events() iterator: the kinds it wants and its queue."""

    def __init__(self, kinds: FrozenSet[str], queue_size: int) -> None:
        self.kinds, self.queue_size = kinds, queue_size
        self.queue: Deque[Any] = collections.deque()
        self.dropped = 0
        self.wake = asyncio.Event()


class Fleet(LoopDriver):
    """An :class:`iotkit.Fleet` for asyncio (see :mod:`iotkit.aio` and the module above).

    Takes the arguments of :class:`iotkit.Fleet` (``uri`` is needed for the session).
    ``async with`` connects and closes. :attr:`sync` is the underlying
    :class:`iotkit.Fleet`: its registry, live view, rollout, location and history methods do
    no network wait and may be called directly (``fleet.sync.presence(id)``); the most used
    ones are also here (``fleet.presence(id)``, ``fleet.get(id)``, ...). Do not call the sync
    fleet's ``poll``, ``start``, ``call`` or ``call_group``: the loop drives the session.
    """

    _DELEGATED = frozenset((
        "create", "get", "update", "delete", "list", "iter", "count", "presence", "state", "latest", "stats",
        "control_stats", "desired", "locate", "track", "within", "history", "set_ota_trust", "create_rollout",
        "start_rollout", "pause_rollout", "resume_rollout", "cancel_rollout", "rollout", "rollouts",
        "rollout_ids", "rollout_devices", "rollout_device", "connected", "db_path", "fd", "next_timeout"))

    def __init__(self, db_path: Any = ":memory:", **kwargs: Any) -> None:
        self._fleet = _sync.Fleet(db_path, **kwargs)
        self._session = self._fleet._h.session
        self._init_loop("fleet %s" % self._fleet.db_path)
        self._errors = self._session.errors
        self._reader = -1
        self._blocking = False
        self._closed = False
        self._inflight: Set[_Pending] = set()
        self._iters: Set[_Events] = set()
        self._callbacks: Dict[str, Callable[..., Any]] = {}
        self._tasks: Set["asyncio.Task[Any]"] = set()

    def __getattr__(self, name: str) -> Any:
        if name in Fleet._DELEGATED:
            return getattr(self._fleet, name)
        raise AttributeError("%r object has no attribute %r" % (type(self).__name__, name))

    def __contains__(self, id: object) -> bool:
        return id in self._fleet

    def __len__(self) -> int:
        return len(self._fleet)

    @property
    def sync(self) -> _sync.Fleet:
        """The underlying :class:`iotkit.Fleet`."""
        return self._fleet

    # ------------------------------------------------------------ the loop
    def _bind(self) -> asyncio.AbstractEventLoop:
        return self._bind_loop()

    def _wake_up(self) -> None:
        self._wake_all()

    def _wake_all(self) -> None:
        for it in self._iters:
            it.wake.set()

    def _raise_pending(self) -> None:
        if self._session.errors:
            raise self._session.errors.popleft()

    def _poll(self) -> None:
        if self._blocking or self._closed:
            return
        h = self._fleet._h
        if h.fleet != ffi.NULL:
            lib.iotkit_fleet_poll(h.fleet, 0)  # NOT_CONNECTED before the first connect: nothing to do
        self._arm()
        if self._session.errors:
            self._wake_all()

    def _on_timer(self) -> None:
        self._poll()

    def _arm(self) -> None:
        """Watch the descriptor the library has now and set the timer it asks for."""
        loop, h = self._loop, self._fleet._h
        if loop is None or self._blocking or self._closed or h.fleet == ffi.NULL:
            return
        fd = int(lib.iotkit_fleet_fd(h.fleet))
        if fd != self._reader:
            self._unwatch()
            if fd >= 0:
                loop.add_reader(fd, self._poll)
                self._reader = fd
        self._set_timer(int(lib.iotkit_fleet_next_timeout_ms(h.fleet)))

    def _unwatch(self) -> None:
        if self._loop is not None and self._reader >= 0:
            self._loop.remove_reader(self._reader)
            self._reader = -1

    def _stop_driving(self) -> None:
        self._unwatch()
        self._stop_timer()

    # ------------------------------------------------------------ callbacks and events
    def _wanted(self) -> Set[str]:
        kinds = set(self._callbacks)
        for it in self._iters:
            kinds |= it.kinds
        return kinds

    def _sync_taps(self) -> None:
        want = self._wanted()
        for kind in KINDS:
            tap = self._tap(kind) if kind in want else None
            if (kind in self._session.callbacks) != (tap is not None):
                self._fleet._set_callback(kind, tap)

    def _tap(self, kind: str) -> Callable[..., None]:
        make = _EVENTS[kind]

        def tap(*args: Any) -> None:
            self._soon(self._deliver, kind, make(*args))

        return tap

    def _deliver(self, kind: str, ev: Any) -> None:
        cb = self._callbacks.get(kind)
        if cb is not None:
            res = cb(ev)
            if inspect.isawaitable(res):
                self._track(res)
        for it in self._iters:
            if kind in it.kinds:
                if it.queue_size and len(it.queue) >= it.queue_size:
                    it.queue.popleft()
                    it.dropped += 1
                it.queue.append(ev)
                it.wake.set()

    def _track(self, aw: Any) -> None:
        async def run() -> None:
            try:
                await aw
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # noqa: B902 - re-raised by the next awaited call
                self._session.errors.append(exc)
                self._wake_all()

        assert self._loop is not None
        task = self._loop.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def set_callback(self, kind: str, fn: Optional[Callable[[Any], Any]]) -> None:
        """Set (or, with None, clear) the callback of @p kind ("status", "telemetry", "state",
        "event", "location", "stale", "connection", "rollout"): ``fn(event)`` with the event
        object of that kind (:class:`StatusEvent`, ...), run in the loop's thread; it may be a
        coroutine function (run as a task). Raises InvalidArgumentError for an unknown kind,
        TypeError for a non-callable."""
        if kind not in KINDS:
            raise errors.error_for(lib.IOTKIT_ERR_INVALID_ARG, "no fleet event kind %r" % (kind,))
        if fn is not None and not callable(fn):
            raise TypeError("the %s callback must be callable or None" % kind)
        if fn is None:
            self._callbacks.pop(kind, None)
        else:
            self._callbacks[kind] = fn
        self._sync_taps()

    def on(self, kind: str) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
        """Decorator form of :meth:`set_callback`: ``@fleet.on("status")``."""
        if kind not in KINDS:
            raise errors.error_for(lib.IOTKIT_ERR_INVALID_ARG, "no fleet event kind %r" % (kind,))

        def register(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
            self.set_callback(kind, fn)
            return fn

        return register

    def events(self, *kinds: str, queue_size: int = 0) -> AsyncIterator[Any]:
        """``async for ev in fleet.events("status", "telemetry")``: the events of those kinds
        (all kinds when none is given) from now on, in arrival order, until the fleet closes.
        ``queue_size`` bounds this iterator's queue (the oldest is dropped; 0: unbounded).
        Raises InvalidArgumentError for an unknown kind; a callback's exception is raised by the
        iterator."""
        want = frozenset(kinds) if kinds else KINDS
        bad = sorted(want - KINDS)
        if bad:
            raise errors.error_for(lib.IOTKIT_ERR_INVALID_ARG, "no fleet event kind %r" % bad[0])
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 0:
            raise TypeError("queue_size must be an int >= 0")
        it = _Events(want, queue_size)
        self._iters.add(it)
        self._sync_taps()
        return self._iterate(it)

    async def _iterate(self, it: _Events) -> AsyncIterator[Any]:
        try:
            while True:
                self._raise_pending()
                if it.queue:
                    yield it.queue.popleft()
                    continue
                if self._closed:
                    return
                it.wake.clear()
                await it.wake.wait()
        finally:
            self._iters.discard(it)
            if not self._closed:
                self._sync_taps()

    # ------------------------------------------------------------ lifecycle
    def _log_pending(self, why: str) -> None:
        self._session.log_pending(why)

    async def connect(self) -> None:
        """Open the session without blocking the loop (the C connect, which waits for the
        reconciliation of presence, runs in the default executor), then drive it from the
        loop. Raises as :meth:`iotkit.Fleet.connect`."""
        loop = self._bind()
        self._raise_pending()
        self._stop_driving()
        self._blocking = True
        try:
            await loop.run_in_executor(None, self._fleet.connect)
        finally:
            self._blocking = False
            self._arm()
        self._raise_pending()

    async def disconnect(self) -> None:
        """End the session cleanly (no reconnection). Raises as :meth:`iotkit.Fleet.disconnect`."""
        self._bind()
        self._raise_pending()
        self._stop_driving()
        self._fleet.disconnect()
        self._arm()

    async def close(self) -> None:
        """Fail the commands awaiting results (StateError), end the iterators, stop watching,
        and close the fleet (its session and database). Idempotent. Raises a callback exception
        nobody picked up yet. Raises StateError from inside a callback of this fleet."""
        if self._closed:
            return
        if self._session.in_own_callback():
            raise errors.error_for(lib.IOTKIT_ERR_STATE, "close() called from inside a callback of fleet %s"
                                   % self._fleet.db_path)
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._closed = True
        self._stop_driving()
        try:
            self._fleet.close()  # frees pending commands without their callback
        finally:
            gone = errors.error_for(lib.IOTKIT_ERR_STATE, "fleet %s closed before the result came"
                                    % self._fleet.db_path)
            for p in list(self._inflight):
                if not p.fut.done():
                    p.fut.set_exception(gone)
            self._inflight.clear()
            self._wake_all()
        self._raise_pending()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    # ------------------------------------------------------------ remote control
    def _send(self, send: Callable[[Any, Any], int], what: str, p: _Pending) -> "asyncio.Future[Any]":
        h = self._fleet._h
        fleet = h.acquire(self._fleet.db_path)
        try:
            code = send(fleet, p.handle)
            err = self._fleet._error(fleet, code, what) if code != lib.IOTKIT_OK else None
        finally:
            h.release()
        if err is not None:
            raise err
        self._inflight.add(p)
        if p.expected == 0:
            p.settle()
        self._arm()  # the command's deadline is a timer
        return p.fut

    async def command(self, id: str, name: str, params: Optional[Mapping[str, Any]] = None, *,
                      timeout: Optional[float] = None) -> Any:
        """Send command @p name with @p params to device @p id; resolves with its result (decoded
        JSON) when it answers. Raises as :meth:`iotkit.Fleet.call`: NotFoundError, OfflineError,
        ConnectionError (nothing sent), RemoteError (the device's error), TimeoutError (no answer
        within @p timeout seconds; None: 35 s), InvalidArgumentError, TooLargeError, TypeError."""
        loop = self._bind()
        self._raise_pending()
        keep: List[Any] = []
        cid = _encode(id, "id", keep)
        cname = _encode(name, "command name", keep)
        cparams = json_object(params, "params", keep)
        ms = timeout_ms(timeout)
        p = _Pending(self, loop.create_future(), name, ms, None, True)
        fut = self._send(lambda f, u: lib.iotkit_fleet_command_send(f, cid, cname, cparams, ms,
                                                                    lib._iotkit_pyfleet_result, u, ffi.NULL, 0),
                         "command %r to %r" % (name, id), p)
        return await fut

    async def command_group(self, name: str, params: Optional[Mapping[str, Any]] = None, *,
                            devices: Optional[Iterable[str]] = None, type: Optional[str] = None,
                            tag: Optional[str] = None, online: Optional[bool] = None,
                            seen_before: Optional[TimeBound] = None, seen_after: Optional[TimeBound] = None,
                            all: bool = False, timeout: Optional[float] = None) -> List[CommandResult]:
        """:meth:`iotkit.Fleet.call_group` without blocking the loop: resolves with one
        :class:`~iotkit.fleet.CommandResult` per device (in the list's order, or in id order for
        a filter) once every device answered or timed out. Raises as ``call_group``."""
        loop = self._bind()
        self._raise_pending()
        keep: List[Any] = []
        order = None if devices is None else list(devices) if not isinstance(devices, (str, bytes)) else devices
        tgt = make_target(order, type, tag, online, seen_before, seen_after, all, keep)
        cname = _encode(name, "command name", keep)
        cparams = json_object(params, "params", keep)
        ms = timeout_ms(timeout)
        p = _Pending(self, loop.create_future(), name, ms, order, False)
        count = ffi.new("size_t *")

        def send(f: Any, u: Any) -> int:
            code = lib.iotkit_fleet_command_group(f, tgt, cname, cparams, ms, lib._iotkit_pyfleet_result, u, count)
            p.expected = int(count[0])
            return int(code)

        fut = self._send(send, "command %r to a group" % name, p)
        return await fut

    async def set_desired(self, id: str, patch: Mapping[str, Any]) -> int:
        """:meth:`iotkit.Fleet.set_desired` (a database write and a publish; no wait for the device)."""
        self._raise_pending()
        return self._fleet.set_desired(id, patch)

    async def set_desired_group(self, patch: Mapping[str, Any], **target: Any) -> List[Any]:
        """:meth:`iotkit.Fleet.set_desired_group` (one transaction and the publishes; no wait)."""
        self._raise_pending()
        return self._fleet.set_desired_group(patch, **target)

    def __repr__(self) -> str:
        return "<iotkit.aio.Fleet %r%s>" % (self._fleet.db_path, " closed" if self._closed else "")
