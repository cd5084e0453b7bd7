"""The C side of a Fleet's broker session: the cffi handle given to libiotkit as
the user pointer of every fleet callback, the extern "Python" callbacks that find
their fleet through it, and captured callback exceptions (the rules of
iotkit._core for devices: re-raised by the driving call when polling, logged at
once and re-raised by stop()/close() with the background loop)."""
from __future__ import annotations

import collections
import json
import threading
from typing import Any, Callable, Deque, Dict, Set

from . import errors
from ._log import logger
from ._native import ffi, lib, py_str

NO_TS = int(lib.IOTKIT_PROTOCOL_NO_TS)

SETTERS = {
    "connection": (lib.iotkit_fleet_on_connection, lib._iotkit_pyfleet_connection),
    "status": (lib.iotkit_fleet_on_status, lib._iotkit_pyfleet_status),
    "telemetry": (lib.iotkit_fleet_on_telemetry, lib._iotkit_pyfleet_telemetry),
    "state": (lib.iotkit_fleet_on_state, lib._iotkit_pyfleet_state),
    "event": (lib.iotkit_fleet_on_event, lib._iotkit_pyfleet_event),
    "stale": (lib.iotkit_fleet_on_stale, lib._iotkit_pyfleet_stale),
    "location": (lib.iotkit_fleet_on_location, lib._iotkit_pyfleet_location),
    "rollout": (lib.iotkit_fleet_on_rollout, lib._iotkit_pyfleet_rollout),
}


class Session:
    """Callbacks and captured exceptions of one fleet; ``handle`` is the C user pointer."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.handle: Any = ffi.new_handle(self)
        self.callbacks: Dict[str, Callable[..., Any]] = {}
        self.registered: Set[str] = set()
        self.errors: Deque[BaseException] = collections.deque()
        self.background = False
        self.keep: Any = None  # the Fleet while the background loop runs
        self.cb_owner = 0
        self.cb_depth = 0

    def sync_c(self, fleet: Any, kind: str) -> None:
        want = kind in self.callbacks
        if want == (kind in self.registered) or fleet == ffi.NULL:
            return
        setter, fn = SETTERS[kind]
        if want:
            setter(fleet, fn, self.handle)
            self.registered.add(kind)
        else:
            setter(fleet, ffi.NULL, ffi.NULL)
            self.registered.discard(kind)

    def clear_c(self, fleet: Any) -> None:
        for kind in list(self.registered):
            SETTERS[kind][0](fleet, ffi.NULL, ffi.NULL)
        self.registered.clear()

    def in_own_callback(self) -> bool:
        return self.cb_depth > 0 and self.cb_owner == threading.get_ident()

    def raise_pending(self) -> None:
        """Re-raise the oldest exception a callback raised in this thread's driving call."""
        if self.errors and not self.background:
            raise self.errors.popleft()

    def fire(self, kind: str, *args: Any) -> None:
        cb = self.callbacks.get(kind)
        if cb is None:
            return
        me = threading.get_ident()
        if self.cb_depth and self.cb_owner == me:
            self.cb_depth += 1
        else:
            self.cb_owner, self.cb_depth = me, 1
        try:
            cb(*args)
        except BaseException as exc:  # noqa: B902 - never lost
            if self.background:
                logger.error("exception in the %s callback of fleet %s (background loop; re-raised by stop() "
                             "or close())", kind, self.name, exc_info=(type(exc), exc, exc.__traceback__))
            self.errors.append(exc)
        finally:
            self.cb_depth -= 1
            if self.cb_depth <= 0:
                self.cb_owner, self.cb_depth = 0, 0

    def log_pending(self, why: str) -> None:
        while self.errors:
            exc = self.errors.popleft()
            logger.error("fleet %s: exception from a callback not re-raised (%s)", self.name, why,
                         exc_info=(type(exc), exc, exc.__traceback__))


def ts_or_none(ts: int) -> Any:
    return None if ts == NO_TS else int(ts)


def json_or(text: Any, default: Any) -> Any:
    if text == ffi.NULL:
        return default
    try:
        return json.loads(py_str(text))
    except ValueError:  # pragma: no cover - the library hands out JSON it checked
        return default


def batch_points(batch: Any) -> Any:
    """The points of a C batch that stays the library's (valid during the call only)."""
    from .telemetry import Batch

    b = Batch.__new__(Batch)
    b._ptr = ffi.cast("iotkit_telemetry_batch_t *", batch)
    try:
        return b.points()
    finally:
        b._ptr = None


def _onerror(exception: Any, exc_value: Any, traceback: Any) -> None:
    return None  # only if the dispatch itself fails (interpreter shutdown)


@ffi.def_extern(onerror=_onerror)
def _iotkit_pyfleet_connection(fleet: Any, user: Any, up: bool, reason: int, detail: Any) -> None:
    s: Session = ffi.from_handle(user)
    text = py_str(detail)
    s.fire("connection", bool(up), None if reason == lib.IOTKIT_OK else errors.error_for(reason, text), text)


@ffi.def_extern(onerror=_onerror)
def _iotkit_pyfleet_status(fleet: Any, user: Any, device_id: Any, online: bool, reason: Any, ts: int) -> None:
    s: Session = ffi.from_handle(user)
    s.fire("status", py_str(device_id), bool(online), None if reason == ffi.NULL else py_str(reason),
           ts_or_none(ts))


@ffi.def_extern(onerror=_onerror)
def _iotkit_pyfleet_telemetry(fleet: Any, user: Any, device_id: Any, batch: Any) -> None:
    s: Session = ffi.from_handle(user)
    s.fire("telemetry", py_str(device_id), batch_points(batch))


@ffi.def_extern(onerror=_onerror)
def _iotkit_pyfleet_state(fleet: Any, user: Any, device_id: Any, state_json: Any, ts: int) -> None:
    s: Session = ffi.from_handle(user)
    s.fire("state", py_str(device_id), json_or(state_json, {}), ts_or_none(ts))


@ffi.def_extern(onerror=_onerror)
def _iotkit_pyfleet_event(fleet: Any, user: Any, device_id: Any, type: Any, ts: int, data_json: Any) -> None:
    s: Session = ffi.from_handle(user)
    s.fire("event", py_str(device_id), py_str(type), ts_or_none(ts), json_or(data_json, None))


@ffi.def_extern(onerror=_onerror)
def _iotkit_pyfleet_stale(fleet: Any, user: Any, device_id: Any, stale: bool, last_seen_ms: int) -> None:
    s: Session = ffi.from_handle(user)
    s.fire("stale", py_str(device_id), bool(stale), int(last_seen_ms))


@ffi.def_extern(onerror=_onerror)
def _iotkit_pyfleet_location(fleet: Any, user: Any, device_id: Any, location: Any) -> None:
    from ._fleet_geo import location_from

    s: Session = ffi.from_handle(user)
    s.fire("location", py_str(device_id), location_from(location))


@ffi.def_extern(onerror=_onerror)
def _iotkit_pyfleet_rollout(fleet: Any, user: Any, ev: Any) -> None:
    from ._fleet_rollout import event_from

    s: Session = ffi.from_handle(user)
    s.fire("rollout", event_from(ev))
