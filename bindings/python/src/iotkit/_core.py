"""The C side of a device: the cffi handle given to libiotkit as the user pointer
of every callback, the extern "Python" callbacks that find their device through
it, captured callback exceptions, command requests, and closing (explicit, on
garbage collection and at interpreter exit). iotkit.device builds the public
Device on it; nothing here holds a reference to a Device, so an unreachable one
can be collected.

Safety rules kept here:

* the handle lives as long as anything in C may call back with it: until the
  device and then its HAL (whose log sink uses no handle at all) are freed;
* every C callback is cleared before ``iotkit_device_free`` (the setters wait
  for a call running in another thread, with the GIL released by cffi);
* ``close()`` from inside a callback of the same device is refused before
  anything changes, and waits for API calls running in other threads;
* an exception raised in a Python callback is never lost: it is queued and
  re-raised by the driving call, or logged at once (background loop) and
  re-raised by ``stop()``/``close()``.
"""
from __future__ import annotations

import atexit
import collections
import json
import threading
from typing import Any, Callable, Deque, Dict, List, Optional, Set, Tuple

from . import errors
from ._log import logger
from ._native import ffi, lib, py_str

_ERROR_TEXT_SIZE = int(lib.iotkit_limit(4)) or 256  # IOTKIT_LIMIT_ERROR_TEXT_SIZE
# Codes the device functions return without setting the last-error text (see _Core.error).
_REFUSALS = frozenset(int(c) for c in (
    lib.IOTKIT_ERR_INVALID_ARG, lib.IOTKIT_ERR_TOO_LARGE, lib.IOTKIT_ERR_BAD_ENCODING, lib.IOTKIT_ERR_NOT_CONNECTED,
    lib.IOTKIT_ERR_STATE, lib.IOTKIT_ERR_NOT_FOUND, lib.IOTKIT_ERR_QUEUE_FULL, lib.IOTKIT_ERR_UNSUPPORTED))

class CommandError(Exception):
    """Raise it from a command handler to fail the command with your own ``code``.

    The device answers ``{"status":"error","error":{"code":code,"message":message}}``.
    ``code`` is short and machine-readable, e.g. ``"invalid_params"``.
    """

    def __init__(self, code: str, message: str = "") -> None:
        if not isinstance(code, str) or not code:
            raise TypeError("CommandError needs a non-empty str code")
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return "%s: %s" % (self.code, self.message) if self.message else self.code


def _json_dumps(value: Any, what: str) -> str:
    """Compact JSON of @p value; TypeError if not serializable, InvalidArgumentError for NaN/inf."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise errors.error_for(lib.IOTKIT_ERR_BAD_ENCODING, "%s: %s" % (what, exc)) from None


def _error(code: int, detail: str) -> errors.IotkitError:
    return errors.error_for(code, detail)


class CommandRequest:
    """A command request handed to a handler registered with ``deferred=True``
    (and, internally, to the async handlers of :mod:`iotkit.aio`).

    Answer it exactly once, from any thread, with :meth:`complete` or :meth:`fail`,
    within the device's ``command_timeout``; after that the device has answered
    ``timeout`` itself and :meth:`complete` raises :class:`~iotkit.TimeoutError`.
    After :meth:`Device.close` both raise :class:`~iotkit.StateError`.
    """

    __slots__ = ("id", "name", "params", "_core", "_cmd", "__weakref__")

    def __init__(self, core: "_Core", cmd: Any, request_id: str, name: str, params: Dict[str, Any]) -> None:
        self.id = request_id
        """The request id chosen by the caller."""
        self.name = name
        """The command name."""
        self.params = params
        """The parameters (a dict, ``{}`` if the request had none)."""
        self._core = core
        self._cmd = cmd

    @property
    def done(self) -> bool:
        """Whether the request has been answered (or released by close())."""
        return self._cmd is None

    def complete(self, result: Any = None) -> None:
        """Answer with success; ``result`` is any JSON value (None sends ``{}``).

        Raises TypeError (not JSON-serializable) or TooLargeError (larger than
        max_payload) and the request stays open; TimeoutError (too late: the device
        sent ``timeout``) or ConnectionError (offline: the response is lost) and the
        request is released; StateError if it was answered already or the device is closed.
        """
        text = None if result is None else _json_dumps(result, "command result")
        self._answer(lambda cmd: lib.iotkit_command_complete(cmd, text.encode("utf-8") if text is not None
                                                              else ffi.NULL))

    def fail(self, code: str, message: str = "") -> None:
        """Answer with an error: ``code`` (non-empty, e.g. ``"invalid_params"``) and ``message``.

        Raises as :meth:`complete`; InvalidArgumentError for an empty code (the request stays open).
        """
        if not isinstance(code, str) or not isinstance(message, str):
            raise TypeError("code and message must be str")
        c, m = code.encode("utf-8"), message.encode("utf-8")
        self._answer(lambda cmd: lib.iotkit_command_fail(cmd, c, m))

    def _answer(self, call: Callable[[Any], int]) -> None:
        core = self._core
        with core.lock:  # close() marks open requests released under the same lock
            cmd = self._cmd
            if cmd is None:
                raise _error(lib.IOTKIT_ERR_STATE, "command %r (request %r) was answered already or its device "
                                                   "is closed" % (self.name, self.id))
            code = call(cmd)
            if code not in (lib.IOTKIT_ERR_TOO_LARGE, lib.IOTKIT_ERR_BAD_ENCODING, lib.IOTKIT_ERR_INVALID_ARG):
                self._cmd = None  # released by the library
                core.open_cmds.discard(self)
        if code != lib.IOTKIT_OK:
            raise _error(code, "answer to command %r (request %r)" % (self.name, self.id))

    def __repr__(self) -> str:
        return "<CommandRequest %s id=%r params=%r%s>" % (self.name, self.id, self.params,
                                                          " done" if self.done else "")


# ------------------------------------------------------------ the C side --

_SETTERS = {
    "connection": (lib.iotkit_device_on_connection, lib._iotkit_py_connection),
    "delivery": (lib.iotkit_device_on_delivery, lib._iotkit_py_delivery),
    "message": (lib.iotkit_device_on_message, lib._iotkit_py_message),
    "fd": (lib.iotkit_device_on_fd, lib._iotkit_py_fd),
    "credentials": (lib.iotkit_device_on_credentials, lib._iotkit_py_credentials),
    "desired": (lib.iotkit_device_on_desired, lib._iotkit_py_desired),
}

_live: Set["_Core"] = set()  # every core not yet closed, for the exit handler
_live_lock = threading.Lock()


class _Core:
    """The C side of one Device: pointers, the cffi handle given to C as the user
    pointer, callbacks and captured exceptions. It holds no reference to the
    Device, so an unreachable Device can be collected (and closed by its finalizer)."""

    def __init__(self, device_id: str, base: str) -> None:
        self.dev = ffi.NULL
        self.hal = ffi.NULL
        self.device_id = device_id
        self.base = base  # "<prefix>/<device id>/": channels arrive as whole topics
        self.handle: Any = ffi.new_handle(self)  # the user pointer of every callback
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        # API calls in progress (close waits for them): one entry each. list.append and
        # list.pop are atomic under the GIL, so a call needs no lock (see acquire()).
        self.users: List[None] = []
        self.closing = False
        self.closed = False
        self.background = False
        self.keep: Any = None  # the Device while the background loop runs (it must not be collected)
        self.callbacks: Dict[str, Callable[..., Any]] = {}
        self.taps: Dict[str, Callable[..., Any]] = {}  # internal listeners (iotkit.aio)
        self.registered: Set[str] = set()
        self.commands: Dict[str, Tuple[Callable[..., Any], bool]] = {}
        self.open_cmds: Set[CommandRequest] = set()
        self.errors: Deque[BaseException] = collections.deque()
        self.cb_owner = 0
        self.cb_depth = 0

    # -- guarded access to the device pointer
    # Without a lock (two per call were a measurable part of a send): a call registers
    # first, then looks at `closing`; close() sets `closing` first, then waits for the
    # registrations to go. The GIL orders those steps, so either the call sees
    # `closing` (and gives up) or close() sees the call (and waits for its release()).
    def acquire(self) -> Any:
        self.users.append(None)
        if self.closing:
            self.release()
            raise _error(lib.IOTKIT_ERR_STATE, "device %s is closed" % self.device_id)
        return self.dev

    def release(self) -> None:
        self.users.pop()
        if self.closing:  # close() may be waiting: it holds the lock between its check and its wait
            with self.lock:
                self.idle.notify_all()

    def last_error(self) -> str:
        if self.dev == ffi.NULL:
            return ""
        buf = ffi.new("char[]", _ERROR_TEXT_SIZE)
        return py_str(lib.iotkit_device_last_error(self.dev, buf, _ERROR_TEXT_SIZE))

    def error(self, code: int, what: str) -> errors.IotkitError:
        """The exception for @p code of the call described by @p what.

        The device's last-error text is the detail of failures that set it
        (connect, transport, TLS, queue I/O...). Refusals of arguments or state
        (invalid argument, too large, not connected, wrong state...) return
        without writing it, so the text would be an older, unrelated failure:
        for those the detail names the call instead."""
        if code in _REFUSALS:
            return _error(code, what)
        return _error(code, self.last_error() or what)

    def check(self, code: int, what: str) -> None:
        """Raise a captured callback exception first (it caused what followed), else the C error."""
        if self.errors and not self.background:
            raise self.errors.popleft()
        if code != lib.IOTKIT_OK:
            raise self.error(code, what)

    def in_own_callback(self) -> bool:
        return self.cb_depth > 0 and self.cb_owner == threading.get_ident()

    # -- callbacks
    def sync_c(self, kind: str) -> None:
        """Register the C callback of @p kind iff a Python callback or tap wants it."""
        want = kind in self.callbacks or kind in self.taps
        if want == (kind in self.registered) or self.dev == ffi.NULL:
            return
        setter, fn = _SETTERS[kind]
        if want:
            setter(self.dev, fn, self.handle)
            self.registered.add(kind)
        else:
            setter(self.dev, ffi.NULL, ffi.NULL)  # waits for a running call (GIL released)
            self.registered.discard(kind)

    def capture(self, where: str, exc: BaseException) -> None:
        if self.background:
            logger.error("exception in the %s of device %s (background loop; re-raised by stop() or close())",
                         where, self.device_id, exc_info=(type(exc), exc, exc.__traceback__))
        self.errors.append(exc)

    def enter(self) -> None:
        me = threading.get_ident()
        if self.cb_depth and self.cb_owner == me:
            self.cb_depth += 1
        else:
            self.cb_owner, self.cb_depth = me, 1

    def leave(self) -> None:
        self.cb_depth -= 1
        if self.cb_depth <= 0:
            self.cb_owner, self.cb_depth = 0, 0

    def fire(self, kind: str, tap_args: Tuple[Any, ...], args: Tuple[Any, ...]) -> None:
        self.enter()
        try:
            tap = self.taps.get(kind)
            if tap is not None:
                try:
                    tap(*tap_args)
                except BaseException as exc:  # noqa: B902 - never lost, see capture()
                    self.capture("%s callback" % kind, exc)
            cb = self.callbacks.get(kind)
            if cb is not None:
                try:
                    cb(*args)
                except BaseException as exc:  # noqa: B902
                    self.capture("%s callback" % kind, exc)
        finally:
            self.leave()

    # -- commands
    def run_command(self, request_id: str, name: str, params_json: str, cmd: Any) -> None:
        try:
            params = json.loads(params_json) if params_json else {}
        except ValueError:
            params = {}
        req = CommandRequest(self, cmd, request_id, name, params)
        with self.lock:
            self.open_cmds.add(req)
        entry = self.commands.get(name)
        self.enter()
        try:
            if entry is None:  # removed while the request was on its way
                _quiet_fail(req, "unknown_command", "no handler for command '%s'" % name)
                return
            handler, deferred = entry
            if deferred:
                try:
                    handler(req)
                except BaseException as exc:  # noqa: B902
                    answer_exception(self, req, exc)
                return
            try:
                result = handler(params)
            except BaseException as exc:  # noqa: B902 - a handler raises to fail its command
                answer_exception(self, req, exc)
                return
            answer_result(self, req, result)
        finally:
            self.leave()

    # -- close
    def close(self, *, quiet: bool = False) -> None:
        """Disconnect (unless @p quiet), clear every callback, free. Idempotent."""
        if self.in_own_callback():
            raise _error(lib.IOTKIT_ERR_STATE, "close() called from inside a callback of device %s"
                                               % self.device_id)
        with self.lock:
            if self.closing:
                while not self.closed:  # another thread is closing it
                    self.idle.wait()
                return
            self.closing = True
            while self.users:
                self.idle.wait()
        dev = self.dev
        try:
            if dev != ffi.NULL:
                if quiet:
                    self._clear_callbacks(dev)
                if self.background:
                    lib.iotkit_device_stop(dev)
                    self.background = False  # the goodbye below runs in this thread
                if lib.iotkit_device_is_connected(dev):
                    code = lib.iotkit_device_disconnect(dev)
                    if code != lib.IOTKIT_OK:
                        logger.warning("device %s: disconnect on close: %s", self.device_id,
                                       _error(code, self.last_error()))
                self._clear_callbacks(dev)
                with self.lock:
                    for req in self.open_cmds:
                        req._cmd = None  # iotkit_device_free releases them
                    self.open_cmds.clear()
                code = lib.iotkit_device_free(dev)
                if code != lib.IOTKIT_OK:  # pragma: no cover - only from inside a C callback of dev
                    raise _error(code, "iotkit_device_free")
            if self.hal != ffi.NULL:
                lib.iotkit_hal_free(self.hal)  # no log line can come after this
        finally:
            self.dev = ffi.NULL
            self.hal = ffi.NULL
            self.background = False
            self.keep = None
            with self.lock:
                self.closed = True
                self.idle.notify_all()
            self.callbacks.clear()
            self.taps.clear()
            self.commands.clear()
            self.handle = None  # nothing in C refers to it any more
            with _live_lock:
                _live.discard(self)

    def _clear_callbacks(self, dev: Any) -> None:
        for kind in list(self.registered):
            _SETTERS[kind][0](dev, ffi.NULL, ffi.NULL)
        self.registered.clear()
        for name in list(self.commands):
            lib.iotkit_device_command_register(dev, name.encode("utf-8"), ffi.NULL, ffi.NULL)

    def log_pending(self, why: str) -> None:
        while self.errors:
            exc = self.errors.popleft()
            logger.error("device %s: exception from a callback not re-raised (%s)", self.device_id, why,
                         exc_info=(type(exc), exc, exc.__traceback__))


def _command_failure(exc: BaseException, name: str) -> Tuple[str, str]:
    """The (code, message) a command fails with for an exception of its handler."""
    if isinstance(exc, CommandError):
        return exc.code, exc.message
    if isinstance(exc, (ValueError, TypeError, KeyError)):
        logger.debug("command %r failed: %r", name, exc, exc_info=(type(exc), exc, exc.__traceback__))
        return "invalid_params", str(exc) or type(exc).__name__
    if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit, CancelledError
        return "error", type(exc).__name__
    logger.error("command handler %r raised", name, exc_info=(type(exc), exc, exc.__traceback__))
    return "error", "%s: %s" % (type(exc).__name__, exc)


def answer_exception(core: "_Core", req: CommandRequest, exc: BaseException) -> None:
    """Fail @p req for the exception its handler raised (see Device.command); an
    exception that is not an Exception (KeyboardInterrupt...) is re-raised later."""
    if not req.done:
        _quiet_fail(req, *_command_failure(exc, req.name))
    if not isinstance(exc, Exception):
        core.capture("command handler %r" % req.name, exc)


def answer_result(core: "_Core", req: CommandRequest, result: Any) -> None:
    """Complete @p req with its handler's @p result (see Device.command)."""
    try:
        req.complete(result)
    except TypeError as exc:  # not JSON: a bug in the handler, re-raised in the driving thread
        _quiet_fail(req, "error", "the handler's result is not JSON")
        core.capture("command handler %r" % req.name, exc)
    except errors.TooLargeError:
        _quiet_fail(req, "too_large", "the result is larger than max_payload")
    except errors.IotkitError as exc:  # too late (timeout sent), offline, answered already
        logger.warning("device %s: the result of command %r (request %r) was not sent: %s",
                       core.device_id, req.name, req.id, exc)


def _quiet_fail(req: CommandRequest, code: str, message: str) -> None:
    try:
        req.fail(code, message)
    except errors.IotkitError as exc:
        logger.warning("command %r (request %r): the error response was not sent: %s", req.name, req.id, exc)


def _cb_onerror(exception: Any, exc_value: Any, traceback: Any) -> None:
    # Only reached if the dispatch below fails itself (e.g. at interpreter shutdown).
    return None


@ffi.def_extern(onerror=_cb_onerror)
def _iotkit_py_connection(dev: Any, user: Any, up: bool, reason: int, detail: Any) -> None:
    core: _Core = ffi.from_handle(user)
    text = py_str(detail)
    err = None if reason == lib.IOTKIT_OK else _error(reason, text)
    core.fire("connection", (bool(up), err, text), (bool(up), err, text))


@ffi.def_extern(onerror=_cb_onerror)
def _iotkit_py_delivery(dev: Any, user: Any, msg_id: int, status: int) -> None:
    core: _Core = ffi.from_handle(user)
    err = None if status == lib.IOTKIT_OK else _error(status, "delivery of message %d" % msg_id)
    core.fire("delivery", (int(msg_id), err), (int(msg_id), err))


@ffi.def_extern(onerror=_cb_onerror)
def _iotkit_py_message(dev: Any, user: Any, channel: Any, payload: Any, length: int) -> None:
    core: _Core = ffi.from_handle(user)
    topic = py_str(channel)
    suffix = topic[len(core.base):] if topic.startswith(core.base) else topic
    data = ffi.buffer(payload, length)[:] if length else b""
    core.fire("message", (topic, suffix, data), (suffix, data))


@ffi.def_extern(onerror=_cb_onerror)
def _iotkit_py_fd(dev: Any, user: Any, old_fd: int, new_fd: int) -> None:
    core: _Core = ffi.from_handle(user)
    core.fire("fd", (int(old_fd), int(new_fd)), (int(old_fd), int(new_fd)))


@ffi.def_extern(onerror=_cb_onerror)
def _iotkit_py_desired(dev: Any, user: Any, delta_json: Any, version: int) -> None:
    core: _Core = ffi.from_handle(user)
    try:
        delta = json.loads(py_str(delta_json))
    except ValueError:  # pragma: no cover - the library sends JSON
        delta = {}
    core.fire("desired", (delta, int(version)), (delta, int(version)))


def _write_credential(buf: Any, cap: int, value: Optional[str], what: str) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise TypeError("the credentials callback must return (str or None, str or None)")
    data = value.encode("utf-8")
    if len(data) >= cap or b"\0" in data:
        raise _error(lib.IOTKIT_ERR_TOO_LARGE if len(data) >= cap else lib.IOTKIT_ERR_INVALID_ARG,
                     "%s from the credentials callback: at most %d bytes, no NUL" % (what, cap - 1))
    ffi.memmove(buf, data + b"\0", len(data) + 1)


@ffi.def_extern(onerror=lambda *a: lib.IOTKIT_ERR_INTERNAL)
def _iotkit_py_credentials(dev: Any, user: Any, username: Any, ucap: int, password: Any, pcap: int) -> int:
    core: _Core = ffi.from_handle(user)
    cb = core.callbacks.get("credentials")
    if cb is None:
        return lib.IOTKIT_OK
    core.enter()
    try:
        got = cb()
        if got is not None:
            user_name, pw = got
            _write_credential(username, ucap, user_name, "user name")
            _write_credential(password, pcap, pw, "password")
        return lib.IOTKIT_OK
    except errors.IotkitError as exc:
        core.capture("credentials callback", exc)
        return exc.code
    except BaseException as exc:  # noqa: B902
        core.capture("credentials callback", exc)
        return lib.IOTKIT_ERR_AUTH
    finally:
        core.leave()


@ffi.def_extern(onerror=_cb_onerror)
def _iotkit_py_command(dev: Any, user: Any, request_id: Any, name: Any, params_json: Any, cmd: Any) -> None:
    core: _Core = ffi.from_handle(user)
    core.run_command(py_str(request_id), py_str(name), py_str(params_json), cmd)


# ----------------------------------------------------------- exit safety --

def _close_all_at_exit() -> None:
    """Close every device still open when the interpreter exits (before logging shuts down)."""
    with _live_lock:
        cores = list(_live)
    for core in cores:
        try:
            core.close(quiet=True)
        except BaseException:  # noqa: B902 - keep closing the others
            logger.exception("device %s: close at interpreter exit failed", core.device_id)
        core.log_pending("interpreter exit")


atexit.register(_close_all_at_exit)


def _finalize(core: _Core) -> None:
    """Close a device that was garbage-collected without close()."""
    if core.in_own_callback():  # pragma: no cover - the exit handler closes it
        return
    try:
        core.close(quiet=True)
    except BaseException:  # noqa: B902
        logger.exception("device %s: close on garbage collection failed", core.device_id)
    core.log_pending("garbage-collected without close()")
