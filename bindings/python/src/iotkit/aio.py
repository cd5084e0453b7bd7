"""asyncio integration: :class:`iotkit.aio.Device` and :class:`iotkit.aio.Fleet` (see
iotkit._aio_fleet), each driven by the event loop
through the library's descriptor, with no thread of its own.

::

    import asyncio, iotkit.aio

    async def main():
        async with iotkit.aio.Device("sensor-1", "mqtt://127.0.0.1:1883") as dev:

            @dev.command("ping")
            async def ping(params):
                return {"pong": True}

            await dev.subscribe("config/#")
            await dev.send_telemetry({"temp": 21.5})   # returns once the broker confirmed it
            async for msg in dev.messages():
                print(msg.suffix, msg.payload)

    asyncio.run(main())

How it is driven (docs/architecture.md, "Driving a device from an external
loop"): ``loop.add_reader`` on :meth:`iotkit.Device.fd` (moved when the
library announces a new descriptor), ``loop.add_writer`` while
:meth:`~iotkit.Device.fd_events` asks for writability, and a ``loop.call_later``
timer for :meth:`~iotkit.Device.next_timeout`, re-armed after every poll. Each
wake-up calls ``poll(0)`` in the loop's thread, so callbacks and command
handlers run in the loop's thread.

The one blocking step is the C connect (``iotkit_device_connect`` waits for
CONNACK) and disconnect (it waits for confirmations): :meth:`Device.connect`,
:meth:`Device.disconnect` and :meth:`Device.close` run them in the loop's
default executor, so the loop is never blocked; while they run nothing else
polls, and whatever fires meanwhile (connection, desired state restored from
``state_dir``, commands, messages) is handed to the loop thread with
``call_soon_threadsafe``. Reconnections after a lost session are done by
``poll(0)`` without blocking.

Exceptions raised by callbacks and command handlers (other than the ones that
fail a command, see :meth:`iotkit.Device.command`) are re-raised by the next
awaited method of the device or by the :meth:`Device.messages` iterator.
"""
from __future__ import annotations

import asyncio
import collections
import inspect
from typing import (Any, AsyncIterator, Awaitable, Callable, Deque, Dict, List, Mapping, NamedTuple, Optional,
                    Set, Tuple)

from . import _core
from . import device as _sync
from . import errors
from ._aio_loop import LoopDriver
from ._log import logger
from ._native import ffi, lib

__all__ = ["Device", "Message", "Fleet", "StatusEvent", "TelemetryEvent", "StateEvent", "DeviceEvent",
           "LocationEvent", "StaleEvent", "ConnectionEvent", "RolloutEvent"]


class Message(NamedTuple):
    """A message on a channel the device subscribed to: the whole ``topic``,
    its ``suffix`` below ``<prefix>/<device id>/`` and the ``payload`` bytes."""

    topic: str
    suffix: str
    payload: bytes


_Stored = Tuple["asyncio.Future[int]", int]


class Device(LoopDriver):
    """An :class:`iotkit.Device` for asyncio (see the module documentation).

    ``async with`` connects and closes; every keyword of :class:`iotkit.Device`
    is accepted, plus ``queue_size``: how many received messages
    :meth:`messages` keeps before the oldest is dropped (counted in
    :attr:`dropped_messages`); 0, the default, keeps them all (an unbounded
    queue: the loop is never blocked by a slow consumer, memory is).

    Delivery: :meth:`send_telemetry`, :meth:`publish` and :meth:`event` send at
    once and return a future (``await`` it; a failed send raises from it) that
    resolves once the transport confirmed the message (QoS 1/2 acknowledgement;
    QoS 0: once written). With the durable queue (the default) a message accepted
    while offline, or while the in-flight window is full, has no id yet (the C
    API gives 0): it is sent later under an id the application never sees, so
    the future gives 0 once the queue has drained (``telemetry_stats().queue.pending``
    reaches 0: everything accepted so far was confirmed), or raises
    :class:`~iotkit.IotkitError` (``IOTKIT_ERR_DELIVERY``) if the full queue dropped
    messages meanwhile. A message in flight when the session drops is re-sent
    from the queue likewise. Without the durable queue a lost session fails the
    call with :class:`~iotkit.ConnectionError`. Wrap the call in
    ``asyncio.wait_for`` to bound the wait.
    """

    def __init__(self, device_id: str, uri: str, *, queue_size: int = 0, **kwargs: Any) -> None:
        """Create the device (no network yet); see :class:`iotkit.Device` for the arguments."""
        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 0:
            raise TypeError("queue_size must be an int >= 0")
        self._dev = _sync.Device(device_id, uri, **kwargs)
        self._core = self._dev._core
        self._queue_size = queue_size
        self._init_loop("device %s" % device_id)
        self._errors = self._core.errors
        self._reader = -1
        self._writer = -1
        self._arm_due = False  # a send asked for _arm() and it has not run since
        self._arm_soon_set = False  # _arm_later() is scheduled
        self._blocking = False  # a blocking C call runs in the executor: nobody polls
        self._closed = False
        # msg id -> (future, whether it is telemetry kept in the durable queue)
        self._pending: Dict[int, Tuple["asyncio.Future[int]", bool]] = {}
        self._stored: List[_Stored] = []
        self._msgs: Deque[Message] = collections.deque()
        self._wake: Optional[asyncio.Event] = None
        self._tasks: Set["asyncio.Task[Any]"] = set()
        self._on_connection: Optional[Callable[..., Any]] = None
        self._on_desired: Optional[Callable[..., Any]] = None
        self._durable = self._dev.telemetry_stats().durable
        self.dropped_messages = 0
        """Messages dropped because the queue of :meth:`messages` was full (``queue_size``)."""
        core = self._core
        taps: List[Tuple[str, Callable[..., Any]]] = [
            ("connection", self._tap_connection), ("delivery", self._tap_delivery), ("message", self._tap_message),
            ("fd", self._tap_fd), ("desired", self._tap_desired)]
        for kind, tap in taps:
            core.taps[kind] = tap
            core.sync_c(kind)

    # ------------------------------------------------------------ the loop
    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = self._bind_loop()
        if self._wake is None:
            self._wake = asyncio.Event()
        return loop

    def _wake_up(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _raise_pending(self) -> None:
        if self._core.errors:
            raise self._core.errors.popleft()

    def _on_timer(self) -> None:
        self._poll()

    def _poll(self) -> None:
        """A watcher or the timer fired: poll(0), then watch and arm again."""
        if self._blocking or self._closed:
            return
        core = self._core
        if core.dev != ffi.NULL:
            lib.iotkit_device_poll(core.dev, 0)  # NOT_CONNECTED before the first connect: nothing to do
        self._settle_stored()
        self._arm()
        if core.errors:
            self._wake_up()

    def _arm_soon(self) -> None:
        """_arm() once the current callbacks are done: a burst of sends arms once, not per send."""
        self._arm_due = True
        if not self._arm_soon_set and self._loop is not None:
            self._arm_soon_set = True
            self._loop.call_soon(self._arm_later)

    def _arm_later(self) -> None:
        self._arm_soon_set = False
        if self._arm_due:  # else a poll armed since
            self._arm()

    def _arm(self) -> None:
        """Watch the descriptor for what the library asks now and set the timer."""
        loop, core = self._loop, self._core
        self._arm_due = False
        if loop is None or self._blocking or self._closed or core.dev == ffi.NULL:
            return
        fd = int(lib.iotkit_device_fd(core.dev))
        if fd != self._reader:
            self._unwatch()
            if fd >= 0:
                loop.add_reader(fd, self._poll)
                self._reader = fd
        want_write = fd >= 0 and bool(lib.iotkit_device_fd_events(core.dev) & lib.IOTKIT_FD_WRITE)
        if want_write and self._writer < 0:
            loop.add_writer(fd, self._poll)
            self._writer = fd
        elif not want_write and self._writer >= 0:
            loop.remove_writer(self._writer)
            self._writer = -1
        self._set_timer(int(lib.iotkit_device_next_timeout_ms(core.dev)))

    def _unwatch(self) -> None:
        loop = self._loop
        if loop is None:
            return
        if self._reader >= 0:
            loop.remove_reader(self._reader)
            self._reader = -1
        if self._writer >= 0:
            loop.remove_writer(self._writer)
            self._writer = -1

    def _stop_driving(self) -> None:
        self._unwatch()
        self._stop_timer()

    async def _blocking_call(self, fn: Callable[[], None]) -> None:
        """Run a blocking C call of the controlling thread in the executor, polling nothing meanwhile."""
        loop = self._bind()
        self._stop_driving()  # the descriptor may change under the call: watch afresh afterwards
        self._blocking = True
        try:
            await loop.run_in_executor(None, fn)
        finally:
            self._blocking = False
            self._arm()

    # ------------------------------------------------------------ taps (polling thread)
    def _tap_fd(self, old_fd: int, new_fd: int) -> None:
        if self._in_loop() and not self._blocking:
            if old_fd >= 0 and old_fd in (self._reader, self._writer):
                self._unwatch()  # before the number can be reused for the new context
            # _arm() after the poll watches the new one

    def _tap_delivery(self, msg_id: int, err: Optional[errors.IotkitError]) -> None:
        self._soon(self._delivered, msg_id, err)

    def _delivered(self, msg_id: int, err: Optional[errors.IotkitError]) -> None:
        entry = self._pending.pop(msg_id, None)
        if entry is not None and not entry[0].done():
            fut, queued = entry
            if err is None:
                fut.set_result(msg_id)
            elif queued:
                self._store(fut)  # kept in the queue: sent again
            else:
                fut.set_exception(err)

    def _tap_connection(self, up: bool, reason: Optional[errors.IotkitError], detail: str) -> None:
        self._soon(self._connection, up, reason, detail)

    def _connection(self, up: bool, reason: Optional[errors.IotkitError], detail: str) -> None:
        if not up:
            # Confirmations never outlive their session.
            pending, self._pending = self._pending, {}
            for fut, queued in pending.values():
                if fut.done():
                    continue
                if queued:
                    self._store(fut)
                else:
                    fut.set_exception(reason or errors.error_for(lib.IOTKIT_ERR_CONNECTION_LOST, "disconnected"))
        cb = self._on_connection
        if cb is not None:
            self._run_user(cb, up, reason, detail)

    def _tap_desired(self, delta: Dict[str, Any], version: int) -> None:
        cb = self._on_desired
        if cb is not None:
            self._soon(self._run_user, cb, delta, version)

    def _tap_message(self, topic: str, suffix: str, payload: bytes) -> None:
        self._soon(self._push, Message(topic, suffix, payload))

    def _push(self, msg: Message) -> None:
        if self._queue_size and len(self._msgs) >= self._queue_size:
            self._msgs.popleft()
            self.dropped_messages += 1
        self._msgs.append(msg)
        self._wake_up()

    def _run_user(self, cb: Callable[..., Any], *args: Any) -> None:
        res = cb(*args)
        if inspect.isawaitable(res):
            self._track(self._await_user(res))

    async def _await_user(self, aw: Awaitable[Any]) -> None:
        try:
            await aw
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: B902 - re-raised by the next awaited call
            self._core.errors.append(exc)
            self._wake_up()

    def _track(self, coro: Awaitable[Any]) -> None:
        assert self._loop is not None
        task: "asyncio.Task[Any]" = self._loop.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------ delivery bookkeeping
    def _drops(self) -> Tuple[int, int]:
        """(pending, dropped) of the durable queue: dropped counts every record it gave up."""
        q = self._dev.telemetry_stats().queue
        return q.pending, q.dropped_oldest + q.dropped_newest + q.dropped_corrupt

    def _store(self, fut: "asyncio.Future[int]") -> None:
        self._stored.append((fut, self._drops()[1]))

    def _settle_stored(self) -> None:
        if not self._stored or self._core.dev == ffi.NULL:
            return
        pending, dropped = self._drops()
        if pending:
            return
        stored, self._stored = self._stored, []
        for fut, dropped_before in stored:
            if fut.done():
                continue
            if dropped > dropped_before:
                fut.set_exception(errors.error_for(
                    lib.IOTKIT_ERR_DELIVERY, "the full telemetry queue dropped %d message(s) while this one "
                                             "waited: it may be one of them" % (dropped - dropped_before)))
            else:
                fut.set_result(0)

    def _sending(self, send: Callable[..., int], args: Tuple[Any, ...], telemetry: bool) -> "asyncio.Future[int]":
        """Send now with @p send(*args) and return the future of its delivery; an
        exception of the send (or a callback's, pending) is set on the future."""
        fut: "asyncio.Future[int]" = self._bind().create_future()
        try:
            self._raise_pending()
            msg_id = send(*args)
        except Exception as exc:  # noqa: BLE001 - raised where the future is awaited, as before
            fut.set_exception(exc)
            return fut
        self._await_delivery(fut, msg_id, telemetry)
        return fut

    def _await_delivery(self, fut: "asyncio.Future[int]", msg_id: int, telemetry: bool) -> None:
        queued = telemetry and self._durable
        if msg_id == 0 and queued:
            self._store(fut)
            self._settle_stored()
        else:
            old = self._pending.get(msg_id)
            if old is not None and not old[0].done():  # a 16-bit id reused before its confirmation
                if old[1]:
                    self._store(old[0])
                else:
                    old[0].set_exception(errors.error_for(lib.IOTKIT_ERR_DELIVERY, "message id %d reused before "
                                                          "its confirmation came" % msg_id))
            self._pending[msg_id] = (fut, queued)
        self._arm_soon()  # a send may need the timer (backlog) or writability

    # ------------------------------------------------------------ lifecycle
    def _log_pending(self, why: str) -> None:
        self._core.log_pending(why)

    async def connect(self) -> None:
        """Connect without blocking the loop (the C connect runs in the default
        executor, see the module documentation); raises as :meth:`iotkit.Device.connect`."""
        self._raise_pending()
        await self._blocking_call(self._dev.connect)
        self._raise_pending()

    async def disconnect(self) -> None:
        """End the session cleanly (in the executor: it waits for confirmations);
        raises as :meth:`iotkit.Device.disconnect`."""
        self._raise_pending()
        await self._blocking_call(self._dev.disconnect)
        self._raise_pending()

    async def close(self) -> None:
        """Finish running command handlers (cancelled), end the session cleanly
        (in the executor), stop watching, free the device. Idempotent. Calls
        awaiting a delivery fail with :class:`~iotkit.StateError`; :meth:`messages`
        iterators end. Raises a callback exception nobody picked up yet.

        :raises StateError: from inside a callback of this device.
        """
        if self._closed:
            return
        core = self._core
        if core.in_own_callback():
            raise errors.error_for(lib.IOTKIT_ERR_STATE, "close() called from inside a callback of device %s"
                                   % core.device_id)
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._loop is not None and core.dev != ffi.NULL and lib.iotkit_device_is_connected(core.dev):
            try:
                await self._blocking_call(self._dev.disconnect)
            except errors.IotkitError as exc:
                logger.warning("device %s: disconnect on close: %s", core.device_id, exc)
        self._closed = True
        self._stop_driving()
        try:
            self._dev.close()
        finally:
            gone = errors.error_for(lib.IOTKIT_ERR_STATE, "device %s closed before the delivery was confirmed"
                                    % core.device_id)
            for fut in [f for f, _ in self._pending.values()] + [f for f, _ in self._stored]:
                if not fut.done():
                    fut.set_exception(gone)
            self._pending.clear()
            self._stored.clear()
            self._wake_up()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    # ------------------------------------------------------------ sending
    # The sends are plain functions that send at once and return a future: awaiting
    # it is what an ``async def`` gave, and ``asyncio.gather()`` of many of them makes
    # no task per message (a third of the CPU time of a gathered send went to that).
    def send_telemetry(self, data: Any, *, encoding: Optional[str] = None) -> "asyncio.Future[int]":
        """Send telemetry now (as :meth:`iotkit.Device.send_telemetry`); await the
        returned future for the delivery (see the class documentation for messages
        stored offline). Call it from the loop's thread.

        :returns: a future of the message id, or of 0 for a message that waited in the
            durable queue.
        :raises: (from the future) as :meth:`iotkit.Device.send_telemetry`; StateError
            if closed first.
        """
        if encoding is None:
            return self._sending(self._dev.send_telemetry, (data,), True)
        return self._sending(lambda d: self._dev.send_telemetry(d, encoding=encoding), (data,), True)

    def publish(self, suffix: str, payload: Any, qos: int = 1, retain: bool = False) -> "asyncio.Future[int]":
        """Publish now on ``<prefix>/<device id>/<suffix>`` (as :meth:`iotkit.Device.publish`);
        await the returned future for the message id once it is delivered."""
        return self._sending(self._dev.publish, (suffix, payload, qos, retain), False)

    def event(self, type: str, data: Any = None) -> "asyncio.Future[int]":  # noqa: A002
        """Publish an event now (as :meth:`iotkit.Device.event`); await the returned
        future for its id once delivered."""
        return self._sending(self._dev.event, (type, data), False)

    async def subscribe(self, suffix: str, qos: int = 1) -> None:
        """Subscribe (as :meth:`iotkit.Device.subscribe`); messages arrive in :meth:`messages`."""
        self._raise_pending()
        self._bind()
        self._dev.subscribe(suffix, qos)
        self._arm()

    async def report(self, state: Mapping[str, Any]) -> None:
        """Merge ``state`` into the reported state and publish it (as :meth:`iotkit.Device.report`)."""
        self._raise_pending()
        self._bind()
        self._dev.report(state)
        self._arm()

    def messages(self) -> AsyncIterator[Message]:
        """``async for msg in dev.messages()``: the :class:`Message`\\ s of the
        subscribed channels, oldest first (several iterators share one queue: each
        message goes to one of them). Ends when the device is closed; raises
        callback exceptions (see the module documentation)."""
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Message]:
        self._bind()
        assert self._wake is not None
        while True:
            self._raise_pending()
            if self._msgs:
                yield self._msgs.popleft()
                continue
            if self._closed:
                return
            self._wake.clear()
            await self._wake.wait()

    # ------------------------------------------------------------ model
    def command(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: handle command ``name`` with a coroutine function or a plain
        function of the parameters (a dict), in the loop's thread. It returns the
        result or raises to fail the command, as for :meth:`iotkit.Device.command`.
        A coroutine still running when the device closes is cancelled (the command
        fails with ``error``/``CancelledError``)."""
        if not isinstance(name, str):
            raise TypeError("command name must be a str")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            if not callable(fn):
                raise TypeError("a command handler must be callable")

            def handed_out(req: _sync.CommandRequest) -> None:
                self._soon(self._start_command, fn, req)

            self._dev.command(name, deferred=True)(handed_out)
            return fn

        return register

    def _start_command(self, fn: Callable[..., Any], req: _sync.CommandRequest) -> None:
        core = self._core
        try:
            res = fn(req.params)
        except BaseException as exc:  # noqa: B902 - a handler raises to fail its command
            _core.answer_exception(core, req, exc)
            return
        if inspect.isawaitable(res):
            self._track(self._finish_command(req, res))
        else:
            _core.answer_result(core, req, res)

    async def _finish_command(self, req: _sync.CommandRequest, aw: Awaitable[Any]) -> None:
        core = self._core
        try:
            result = await aw
        except asyncio.CancelledError:  # the device closes: answer, then end as cancelled
            if not req.done:
                _core._quiet_fail(req, "error", "CancelledError: the device closed")
            raise
        except BaseException as exc:  # noqa: B902 - a handler raises to fail its command
            _core.answer_exception(core, req, exc)
            self._wake_up()
            return
        _core.answer_result(core, req, result)
        self._wake_up()

    def remove_command(self, name: str) -> None:
        """Remove the handler of ``name`` (as :meth:`iotkit.Device.remove_command`)."""
        self._dev.remove_command(name)

    @property
    def on_connection(self) -> Optional[Callable[..., Any]]:
        """``fn(up, reason, detail)`` (as :attr:`iotkit.Device.on_connection`), run in the
        loop's thread; a coroutine function is run as a task."""
        return self._on_connection

    @on_connection.setter
    def on_connection(self, fn: Optional[Callable[..., Any]]) -> None:
        if fn is not None and not callable(fn):
            raise TypeError("on_connection must be callable or None")
        self._on_connection = fn

    @property
    def on_desired(self) -> Optional[Callable[..., Any]]:
        """``fn(delta, version)`` (as :attr:`iotkit.Device.on_desired`), run in the loop's
        thread; a coroutine function is run as a task. Set it before connecting."""
        return self._on_desired

    @on_desired.setter
    def on_desired(self, fn: Optional[Callable[..., Any]]) -> None:
        if fn is not None and not callable(fn):
            raise TypeError("on_desired must be callable or None")
        self._on_desired = fn

    @property
    def reported(self) -> Dict[str, Any]:
        """The whole reported state."""
        return self._dev.reported

    @property
    def desired(self) -> _sync.Desired:
        """The last applied desired state and its version."""
        return self._dev.desired

    @property
    def device_id(self) -> str:
        """The device id."""
        return self._dev.device_id

    @property
    def connected(self) -> bool:
        """Whether the session is up."""
        return self._dev.connected

    def telemetry_stats(self) -> _sync.TelemetryStats:
        """The telemetry counters (as :meth:`iotkit.Device.telemetry_stats`)."""
        return self._dev.telemetry_stats()

    @property
    def sync(self) -> _sync.Device:
        """The underlying :class:`iotkit.Device` (for its thread-safe calls; do not
        poll, connect or start it: this object drives it)."""
        return self._dev

    def __repr__(self) -> str:
        return "<iotkit.aio.Device %r%s>" % (self._core.device_id, " closed" if self._closed else "")


from ._aio_fleet import (ConnectionEvent, DeviceEvent, Fleet, LocationEvent, RolloutEvent,  # noqa: E402
                         StaleEvent, StateEvent, StatusEvent, TelemetryEvent)
