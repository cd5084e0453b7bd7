"""The fleet registry: devices recorded in an SQLite database (libiotkit's fleet.h).

    import iotkit

    with iotkit.Fleet("/var/lib/fleet/registry.db") as fleet:
        fleet.create("sensor-1", name="Hall sensor", type="th-sensor", tags=("hall", "floor-1"),
                     attributes={"room": 12})
        for dev in fleet.iter(tag="hall"):
            print(dev.id, dev.name, dev.created)

With ``uri=`` the fleet also has a broker session (fleet_monitor.h): drive it
with :meth:`Fleet.connect` and :meth:`Fleet.poll` (callbacks run in the calling
thread; an exception a callback raises is re-raised by that call) or with
:meth:`Fleet.start` / :meth:`Fleet.stop` (the library's thread; exceptions are
logged at once and re-raised by ``stop()`` or ``close()``), read the live view
(:meth:`Fleet.presence`, :meth:`Fleet.state`, :meth:`Fleet.latest`,
:meth:`Fleet.stats`) and control devices (:meth:`Fleet.call`,
:meth:`Fleet.set_desired`, :meth:`Fleet.desired`), address groups (a list of ids,
or every record matching ``type=``/``tag=``/``online=``, or ``all=True``:
:meth:`Fleet.call_group`, :meth:`Fleet.set_desired_group`), read where devices
are (:meth:`Fleet.locate`, :meth:`Fleet.track`, :meth:`Fleet.within`) and a
metric's history (:meth:`Fleet.history`, with ``history_max_points=``), and run
staged OTA rollouts (:meth:`Fleet.set_ota_trust`, :meth:`Fleet.create_rollout`,
:meth:`Fleet.start_rollout` / ``pause_`` / ``resume_`` / ``cancel_rollout``,
:meth:`Fleet.rollout`, :meth:`Fleet.rollout_devices`, ``on_rollout``).
:mod:`iotkit.aio` has an asyncio Fleet over the same handle type.

The C library runs one writer thread per fleet, so every :class:`Fleet` uses
libiotkit's memory HAL (pthreads, mutexes, condition variables and the system
wall clock; it keeps nothing on disk itself): the only file is the database.
Library log lines go to the ``"iotkit"`` :mod:`logging` logger.

Times of a record are timezone-aware :class:`datetime.datetime` objects in UTC
(the C library keeps ms since the Unix epoch; the ``*_ms`` properties give those
back); ``last_seen`` is ``None`` for a device never heard from.

Every method may be called from any thread; :meth:`Fleet.close` waits for calls
running in other threads. Errors are the exceptions of :mod:`iotkit.errors`:

* id registered already -> :class:`~iotkit.AlreadyExistsError` (``IOTKIT_ERR_EXISTS``);
* unknown id -> :class:`~iotkit.NotFoundError` (``IOTKIT_ERR_NOT_FOUND``, a :class:`LookupError`);
* bad id, type, tag, page limit or cursor, a NUL character -> :class:`~iotkit.InvalidArgumentError`
  (``IOTKIT_ERR_INVALID_ARG``, a :class:`ValueError`);
* a name, type, tag or attributes too long, too many tags -> :class:`~iotkit.TooLargeError`
  (``IOTKIT_ERR_TOO_LARGE``);
* attributes that are not a JSON object (or not JSON-serializable), text that is not
  encodable UTF-8 -> :class:`~iotkit.InvalidArgumentError` (``IOTKIT_ERR_BAD_ENCODING``);
* at open: database locked by another process -> :class:`~iotkit.StateError`
  (``IOTKIT_ERR_BUSY``); read-only or missing directory -> :class:`~iotkit.IotkitError`
  (``IOTKIT_ERR_IO``); not an SQLite database or damaged -> :class:`~iotkit.IotkitError`
  (``IOTKIT_ERR_CORRUPT``); newer schema -> :class:`~iotkit.UnsupportedError`;
* any call after :meth:`Fleet.close` -> :class:`~iotkit.StateError` (``IOTKIT_ERR_STATE``);
* session calls without ``uri`` -> :class:`~iotkit.InvalidArgumentError`; commands and desired state
  while the session is down -> :class:`~iotkit.ConnectionError` (``IOTKIT_ERR_NOT_CONNECTED``);
* a command to a device the fleet holds offline -> :class:`~iotkit.OfflineError` (``IOTKIT_ERR_OFFLINE``,
  nothing sent); the device answered an error -> :class:`~iotkit.RemoteError` (``IOTKIT_ERR_REMOTE``,
  with ``error_code``/``error_message``); no answer in time -> :class:`~iotkit.TimeoutError`;
* params or a patch that are not JSON-serializable -> :class:`~iotkit.InvalidArgumentError`
  (``IOTKIT_ERR_BAD_ENCODING``), not a dict -> TypeError;
* group operations: no target, ids and conditions together, ``all=True`` with conditions, an id
  repeated -> :class:`~iotkit.InvalidArgumentError`; more than ``IOTKIT_FLEET_MAX_TARGETS`` devices
  -> :class:`~iotkit.TooLargeError`; each device's own outcome is in its result, not raised;
* rollouts: a malformed or unsigned manifest -> :class:`~iotkit.InvalidArgumentError`
  (``IOTKIT_ERR_OTA_MANIFEST``); unknown key, bad signature -> :class:`~iotkit.VerificationError`;
  a target in another live rollout -> :class:`~iotkit.StateError` (``IOTKIT_ERR_BUSY``); a
  transition not allowed now -> :class:`~iotkit.StateError` (``IOTKIT_ERR_STATE``);
* history on a fleet made without ``history_max_points`` -> :class:`~iotkit.UnsupportedError`.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import threading
import weakref
from dataclasses import dataclass, fields
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Tuple, Union

from . import _log, errors
from . import _fleet_session as _session_mod
from ._fleet_geo import GeoHistory, Location, Nearby, Sample, distance_m
from ._fleet_rollout import (GroupState, Rollout, RolloutCounts, RolloutDevice, RolloutEvent, RolloutGroup,
                             RolloutGroupInfo, Rollouts, RolloutState, TargetState)
from ._fleet_session import Session, json_or, ts_or_none
from ._fleet_util import (TimeBound, _attributes_json, _encode, _from_ms, _invalid, _opt, _seconds_ms, _to_ms,
                          json_object, make_filter)
from ._fleet_targets import CommandResult, ControlStats, DesiredResult, GroupControl, command_result, timeout_ms
from ._log import logger
from ._native import ffi, lib, py_str

__all__ = ["Fleet", "FleetDevice", "FleetPage", "Presence", "ReportedState", "FleetStats", "CommandResult",
           "DesiredResult", "ControlStats", "Location", "Nearby", "Sample", "distance_m", "RolloutState",
           "GroupState", "TargetState", "RolloutGroup", "RolloutCounts", "RolloutGroupInfo", "Rollout",
           "RolloutDevice", "RolloutEvent"]

_ERROR_TEXT_SIZE = int(lib.iotkit_limit(4)) or 256  # IOTKIT_LIMIT_ERROR_TEXT_SIZE
#: Most records in one page (IOTKIT_FLEET_MAX_PAGE).
MAX_PAGE = int(lib.IOTKIT_FLEET_MAX_PAGE)

PathLike = Union[str, "os.PathLike[str]"]


class _Unset:
    """The "not given" marker of :meth:`Fleet.update` (``None`` there means "none")."""

    _instance: Optional["_Unset"] = None

    def __new__(cls) -> "_Unset":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


@dataclass(frozen=True)
class FleetDevice:
    """A registry record, as read from the database (a snapshot: it does not follow later changes).

    Records compare equal field by field; they are not hashable (``attributes`` is a dict)."""

    id: str
    """Device id (1..64 bytes of ``[A-Za-z0-9._-]``)."""
    name: str
    """Name (``""`` if none)."""
    type: str
    """Type (``""`` if none)."""
    tags: Tuple[str, ...]
    """Tags, in the order they were given."""
    attributes: Dict[str, Any]
    """Attributes: the JSON object, decoded (``{}`` if none)."""
    created: _dt.datetime
    """When the record was created (UTC)."""
    updated: _dt.datetime
    """When the record was last changed by create or update (UTC)."""
    last_seen: Optional[_dt.datetime]
    """When the device was last heard from (UTC), or ``None`` if never."""
    online: bool
    """Whether the device is online."""

    @property
    def created_ms(self) -> int:
        """:attr:`created` in ms since the Unix epoch."""
        return _to_ms(self.created)

    @property
    def updated_ms(self) -> int:
        """:attr:`updated` in ms since the Unix epoch."""
        return _to_ms(self.updated)

    @property
    def last_seen_ms(self) -> int:
        """:attr:`last_seen` in ms since the Unix epoch (0 if never seen)."""
        return 0 if self.last_seen is None else _to_ms(self.last_seen)


@dataclass(frozen=True)
class FleetPage:
    """One page of :meth:`Fleet.list`: ``items`` in increasing id order (bytewise) and
    ``next``, the cursor to pass as ``after=`` for the following page (``None``: no more)."""

    items: Tuple[FleetDevice, ...]
    """The records of this page."""
    next: Optional[str] = None
    """Cursor of the next page, or ``None`` when no further record matched."""

    def __iter__(self) -> Iterator[FleetDevice]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Presence:
    """A registered device's presence in the fleet's live view (:meth:`Fleet.presence`)."""

    online: bool
    """Whether its latest status says online."""
    stale: bool
    """Online but silent longer than ``heartbeat`` (always False without one)."""
    last_seen_ms: int
    """When it was last heard from (ms since the epoch, fleet's clock), 0 if never."""
    status_ts_ms: Optional[int]
    """ts of the status that decided ``online``, or None (a last will, the fleet's own conclusion, none)."""

    @property
    def last_seen(self) -> Optional[_dt.datetime]:
        """:attr:`last_seen_ms` as a UTC datetime, or None if never seen."""
        return _from_ms(self.last_seen_ms) if self.last_seen_ms > 0 else None


class ReportedState(NamedTuple):
    """A device's latest reported state (:meth:`Fleet.state`): ``state`` (None if it reported
    nothing yet) and its ``ts_ms`` (0 when none)."""

    state: Optional[Dict[str, Any]]
    ts_ms: int


@dataclass(frozen=True)
class FleetStats:
    """Counters of the fleet's session since it was created (``iotkit_fleet_stats_t``)."""

    messages: int
    telemetry: int
    states: int
    events: int
    statuses: int
    locations: int
    undecodable: int
    unknown_device: int
    auto_registered: int
    refused: int
    dropped_metrics: int
    write_failures: int
    sessions: int
    reconciliations: int


# Codes returned without setting the fleet's last-error text: the detail names the call.
_REFUSALS = frozenset(int(c) for c in (
    lib.IOTKIT_ERR_NOT_FOUND, lib.IOTKIT_ERR_EXISTS, lib.IOTKIT_ERR_OFFLINE, lib.IOTKIT_ERR_NOT_CONNECTED))


def _record(p: Any) -> FleetDevice:
    tags = tuple(py_str(p.tags[i]) for i in range(p.tag_count)) if p.tag_count else ()
    text = py_str(p.attributes)
    try:
        attributes = json.loads(text) if text else {}
    except ValueError:  # pragma: no cover - the library checks attributes on the way in
        attributes = {}
    return FleetDevice(
        id=py_str(p.id), name=py_str(p.name), type=py_str(p.type), tags=tags, attributes=attributes,
        created=_from_ms(p.created_ms), updated=_from_ms(p.updated_ms),
        last_seen=_from_ms(p.last_seen_ms) if p.last_seen_ms > 0 else None, online=bool(p.online))


class _Handle:
    """The C side of one Fleet: the fleet and HAL pointers and the guard that lets
    close() wait for calls running in other threads. Holds no reference to the Fleet."""

    def __init__(self) -> None:
        self.fleet = ffi.NULL
        self.hal = ffi.NULL
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.users = 0
        self.closing = False
        self.closed = False
        self.session = Session("")
        self.trust: Any = None  # the OTA trust store the C fleet points to (set_ota_trust)

    def acquire(self, db_path: str) -> Any:
        with self.lock:
            if self.closing:
                raise errors.error_for(lib.IOTKIT_ERR_STATE, "fleet %r is closed" % db_path)
            self.users += 1
            return self.fleet

    def release(self) -> None:
        with self.lock:
            self.users -= 1
            if self.closing and self.users == 0:
                self.idle.notify_all()

    def close(self) -> None:
        s = self.session
        if s.in_own_callback():
            raise errors.error_for(lib.IOTKIT_ERR_STATE, "close() called from inside a callback of fleet %s"
                                   % s.name)
        with self.lock:
            if self.closing:
                while not self.closed:
                    self.idle.wait()
                return
            self.closing = True
            while self.users:
                self.idle.wait()
        try:
            if self.fleet != ffi.NULL:
                if s.background:
                    lib.iotkit_fleet_stop(self.fleet)
                    s.background = False
                if lib.iotkit_fleet_is_connected(self.fleet):
                    code = lib.iotkit_fleet_disconnect(self.fleet)
                    if code != lib.IOTKIT_OK:
                        logger.warning("fleet %s: disconnect on close: %s", s.name, errors.error_for(code))
                s.clear_c(self.fleet)
                lib.iotkit_fleet_free(self.fleet)  # finishes queued writes, joins the writer
                self.fleet = ffi.NULL
            if self.hal != ffi.NULL:
                lib.iotkit_hal_free(self.hal)
                self.hal = ffi.NULL
        finally:
            s.keep = None
            s.callbacks.clear()
            self.trust = None
            with self.lock:
                self.closed = True
                self.idle.notify_all()


def _finalize(handle: _Handle) -> None:
    handle.close()
    handle.session.log_pending("garbage-collected without close()")


# ----------------------------------------------------------------- Fleet --

class Fleet(GroupControl, GeoHistory, Rollouts):
    """A fleet registry: a database of device records.

    ``db_path`` is a file (created if missing, its directory must exist; SQLite in
    WAL mode, with ``-wal``/``-shm`` files beside it) or ``":memory:"`` for a
    throw-away registry. ``busy_timeout`` (seconds, > 0) is how long to wait for
    another process's lock, at open and for each write, before
    :class:`~iotkit.StateError` (``IOTKIT_ERR_BUSY``). ``integrity_check=True``
    reads the whole file at open and refuses a damaged one (``IOTKIT_ERR_CORRUPT``).
    Every problem with the file is raised here (see the module docstring).

    The session (``uri`` and the options after it, all optional; seconds as floats):
    ``client_id``, ``username``, ``password``, ``topic_prefix``, ``keepalive``,
    ``connect_timeout``, ``heartbeat`` (stale detection; None: off), ``reconnect_min`` /
    ``reconnect_max`` (backoff); ``auto_register=True`` registers unknown devices when
    they first speak (else their messages are ignored and counted). Kept in the database:
    ``history_max_points`` (numeric points per device and metric for :meth:`history`; 0,
    the default: no history), ``history_max_age`` (seconds; None: no age limit),
    ``location_history_max`` (positions per device for :meth:`track`; 0: the library's
    default).

    Use it as a context manager or call :meth:`close` (idempotent); an unreachable
    Fleet is closed when collected. ``len(fleet)`` counts the records,
    ``"id" in fleet`` tests one, ``fleet["id"]`` reads one (like :meth:`get`),
    ``iter(fleet)`` walks them all in id order.
    """

    def __init__(self, db_path: PathLike = ":memory:", *, busy_timeout: float = 5.0,
                 integrity_check: bool = False, uri: Optional[str] = None, client_id: Optional[str] = None,
                 username: Optional[str] = None, password: Optional[str] = None,
                 topic_prefix: Optional[str] = None, keepalive: Optional[int] = None,
                 connect_timeout: Optional[float] = None, heartbeat: Optional[float] = None,
                 reconnect_min: Optional[float] = None, reconnect_max: Optional[float] = None,
                 history_max_points: int = 0, history_max_age: Optional[float] = None,
                 location_history_max: int = 0, auto_register: bool = False) -> None:
        path = os.fspath(db_path)
        if not isinstance(path, str):
            raise TypeError("db_path must be a str or os.PathLike[str]")
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, (int, float)):
            raise TypeError("busy_timeout must be a number of seconds")
        if not 0 < busy_timeout <= (2 ** 32 - 1) / 1000.0:
            raise _invalid("busy_timeout must be > 0 and at most %d s, not %r" % ((2 ** 32 - 1) // 1000,
                                                                                 busy_timeout))
        self._db_path = path
        keep: List[Any] = []
        cfg = ffi.new("iotkit_fleet_config_t *")
        lib.iotkit_fleet_config_init(cfg)
        cfg.db_path = _encode(path, "db_path", keep)
        cfg.busy_timeout_ms = max(1, int(round(busy_timeout * 1000)))
        cfg.integrity_check = bool(integrity_check)
        err = ffi.new("char[]", _ERROR_TEXT_SIZE)
        cfg.error_buf = err
        cfg.error_buf_size = _ERROR_TEXT_SIZE
        cfg.uri = _opt(uri, "uri", keep)
        cfg.client_id = _opt(client_id, "client_id", keep)
        cfg.username = _opt(username, "username", keep)
        cfg.password = _opt(password, "password", keep)
        cfg.topic_prefix = _opt(topic_prefix, "topic_prefix", keep)
        if keepalive is not None:
            if isinstance(keepalive, bool) or not isinstance(keepalive, int):
                raise TypeError("keepalive must be an int of seconds")
            if not 0 <= keepalive <= 0xFFFF:
                raise _invalid("keepalive must be 0..65535 s, not %r" % keepalive)
            cfg.keepalive_s = keepalive
        for field, what, value in (("connect_timeout_ms", "connect_timeout", connect_timeout),
                                   ("heartbeat_ms", "heartbeat", heartbeat),
                                   ("reconnect_min_ms", "reconnect_min", reconnect_min),
                                   ("reconnect_max_ms", "reconnect_max", reconnect_max)):
            if value is not None:
                setattr(cfg, field, _seconds_ms(value, what))
        for field, value in (("history_max_points", history_max_points),
                             ("location_history_max", location_history_max)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError("%s must be an int" % field)
            if not 0 <= value <= 0xFFFFFFFF:
                raise _invalid("%s must be 0..4294967295, not %r" % (field, value))
            setattr(cfg, field, value)
        if not isinstance(auto_register, bool):
            raise TypeError("auto_register must be True or False")
        cfg.auto_register = auto_register
        if history_max_age is not None:
            cfg.history_max_age_ms = _seconds_ms(history_max_age, "history_max_age", 1, 2 ** 63 - 1)
        self._uri = uri

        handle = _Handle()
        handle.session.name = path
        mc = ffi.new("iotkit_hal_memory_config_t *")
        lib.iotkit_hal_memory_config_init(mc)
        mc.seed = int.from_bytes(os.urandom(8), "little") or 1
        mc.log_level = _log.c_level()
        mc.log_cb = lib._iotkit_py_log
        hal_out = ffi.new("iotkit_hal_t **")
        code = lib.iotkit_hal_memory_new(mc, hal_out)
        if code != lib.IOTKIT_OK:  # pragma: no cover - out of memory
            raise errors.error_for(code, "cannot create the memory HAL")
        handle.hal = hal_out[0]
        cfg.hal = handle.hal
        out = ffi.new("iotkit_fleet_t **")
        code = lib.iotkit_fleet_new(cfg, out)
        if code != lib.IOTKIT_OK:
            lib.iotkit_hal_free(handle.hal)
            handle.hal = ffi.NULL
            raise errors.error_for(code, py_str(err) or "cannot open the registry %r" % path)
        handle.fleet = out[0]
        self._h = handle
        self._finalizer = weakref.finalize(self, _finalize, handle)

    # -- lifetime
    @property
    def db_path(self) -> str:
        """The database path given at creation."""
        return self._db_path

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._h.closing

    def close(self) -> None:
        """Finish the queued writes, close the database and free. Idempotent; waits for
        calls running in other threads; later calls raise :class:`~iotkit.StateError`."""
        self._h.close()
        self._finalizer.detach()

    def __enter__(self) -> "Fleet":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return "<iotkit.Fleet %r%s>" % (self._db_path, " closed" if self.closed else "")

    # -- internals
    def _error(self, fleet: Any, code: int, what: str, detailed: bool = False) -> errors.IotkitError:
        """The exception of @p code; with the last-error text unless the code is a refusal
        that sets none (@p detailed: the call documents a detail for every code)."""
        if code in _REFUSALS and not detailed:
            return errors.error_for(code, what)
        buf = ffi.new("char[]", _ERROR_TEXT_SIZE)
        text = py_str(lib.iotkit_fleet_last_error(fleet, buf, _ERROR_TEXT_SIZE))
        return errors.error_for(code, "%s: %s" % (what, text) if text else what)

    def _spec(self, id: str, keep: List[Any]) -> Any:
        spec = ffi.new("iotkit_fleet_device_spec_t *")
        lib.iotkit_fleet_device_spec_init(spec)
        spec.id = _encode(id, "id", keep)
        return spec

    @staticmethod
    def _set_tags(spec: Any, tags: Optional[Iterable[str]], keep: List[Any]) -> None:
        if tags is None:
            return
        if isinstance(tags, (str, bytes)):
            raise TypeError("tags must be an iterable of str, not a single %s" % type(tags).__name__)
        items = [_encode(t, "tag", keep) for t in tags]
        if items:
            arr = ffi.new("const char *[]", items)
            keep.append(arr)
            spec.tags = arr
            spec.tag_count = len(items)

    @staticmethod
    def _filter(type: Optional[str], tag: Optional[str], online: Optional[bool],
                seen_before: Optional[TimeBound], seen_after: Optional[TimeBound], keep: List[Any]) -> Any:
        return make_filter(type, tag, online, seen_before, seen_after, keep)

    # -- records
    def create(self, id: str, *, name: Optional[str] = None, type: Optional[str] = None,
               tags: Iterable[str] = (), attributes: Optional[Mapping[str, Any]] = None) -> FleetDevice:
        """Register device @p id and return its record (created = updated = now,
        never seen, offline). ``attributes`` is sent as JSON and must be an object.

        Raises AlreadyExistsError if the id is registered; InvalidArgumentError,
        TooLargeError for bad fields (see the module docstring); TypeError for
        arguments of the wrong Python type."""
        keep: List[Any] = []
        spec = self._spec(id, keep)
        spec.name = _opt(name, "name", keep)
        spec.type = _opt(type, "type", keep)
        self._set_tags(spec, tags, keep)
        spec.attributes = _opt(_attributes_json(attributes), "attributes", keep)
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_device_create(fleet, spec)
            if code == lib.IOTKIT_ERR_EXISTS:
                raise errors.error_for(code, "device %r is registered already" % id)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "create %r" % id)
            return self._get(fleet, id, spec.id)
        finally:
            self._h.release()

    def _get(self, fleet: Any, id: str, cid: Any) -> FleetDevice:
        out = ffi.new("iotkit_fleet_device_t **")
        code = lib.iotkit_fleet_device_get(fleet, cid, out)
        if code == lib.IOTKIT_ERR_NOT_FOUND:
            raise errors.error_for(code, "no device %r in the registry" % id)
        if code != lib.IOTKIT_OK:
            raise self._error(fleet, code, "get %r" % id)
        try:
            return _record(out[0])
        finally:
            lib.iotkit_fleet_device_free(out[0])

    def get(self, id: str) -> FleetDevice:
        """The record of @p id. Raises NotFoundError (a LookupError) if it is not
        registered, InvalidArgumentError for an id that breaks the id rule."""
        keep: List[Any] = []
        cid = _encode(id, "id", keep)
        fleet = self._h.acquire(self._db_path)
        try:
            return self._get(fleet, id, cid)
        finally:
            self._h.release()

    def update(self, id: str, *, name: Optional[str] = UNSET, type: Optional[str] = UNSET,
               tags: Optional[Iterable[str]] = UNSET,
               attributes: Optional[Mapping[str, Any]] = UNSET) -> FleetDevice:
        """Change the fields given (the others keep their values) and return the record
        read back afterwards. ``None`` clears a field (name/type ``""``, no tags,
        attributes ``{}``); ``tags`` and ``attributes`` are replaced whole. With no
        field given nothing changes (NotFoundError still reports an unknown id).

        Raises NotFoundError for an unknown id, and as :meth:`create` for bad fields."""
        keep: List[Any] = []
        spec = self._spec(id, keep)
        mask = 0
        if name is not UNSET:
            mask |= lib.IOTKIT_FLEET_FIELD_NAME
            spec.name = _opt(name, "name", keep)
        if type is not UNSET:
            mask |= lib.IOTKIT_FLEET_FIELD_TYPE
            spec.type = _opt(type, "type", keep)
        if tags is not UNSET:
            mask |= lib.IOTKIT_FLEET_FIELD_TAGS
            self._set_tags(spec, tags, keep)
        if attributes is not UNSET:
            mask |= lib.IOTKIT_FLEET_FIELD_ATTRIBUTES
            spec.attributes = _opt(_attributes_json(attributes), "attributes", keep)
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_device_update(fleet, spec, mask)
            if code == lib.IOTKIT_ERR_NOT_FOUND:
                raise errors.error_for(code, "no device %r in the registry" % id)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "update %r" % id)
            return self._get(fleet, id, spec.id)
        finally:
            self._h.release()

    def delete(self, id: str) -> None:
        """Remove the record of @p id. Raises NotFoundError if it is not registered,
        InvalidArgumentError for a bad id."""
        keep: List[Any] = []
        cid = _encode(id, "id", keep)
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_device_delete(fleet, cid)
            if code == lib.IOTKIT_ERR_NOT_FOUND:
                raise errors.error_for(code, "no device %r in the registry" % id)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "delete %r" % id)
        finally:
            self._h.release()

    # -- queries
    def list(self, *, type: Optional[str] = None, tag: Optional[str] = None, online: Optional[bool] = None,
             seen_before: Optional[TimeBound] = None, seen_after: Optional[TimeBound] = None,
             limit: int = 100, after: Optional[str] = None) -> FleetPage:
        """One page of records matching every condition given, in increasing id order:
        at most ``limit`` (1..MAX_PAGE) records whose id sorts after ``after``
        (``None`` to start; else the ``next`` of the previous page).

        ``type``: only that type (``""``: records without one); ``tag``: only records
        carrying it; ``online``: True only online, False only offline; ``seen_before``
        / ``seen_after``: last seen strictly before / after that time (a datetime, or
        ms since the epoch; a device never seen matches neither).

        Raises InvalidArgumentError for a limit out of range or a bad cursor."""
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise TypeError("limit must be an int")
        if not 1 <= limit <= MAX_PAGE:
            raise _invalid("limit must be 1..%d, not %d" % (MAX_PAGE, limit))
        keep: List[Any] = []
        flt = self._filter(type, tag, online, seen_before, seen_after, keep)
        cafter = _opt(after, "after", keep)
        out = ffi.new("iotkit_fleet_page_t **")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_list(fleet, flt, cafter, limit, out)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "list")
        finally:
            self._h.release()
        page = out[0]
        try:
            items = tuple(_record(page.devices[i]) for i in range(page.count))
            nxt = py_str(page.next_after) if page.next_after != ffi.NULL else None
        finally:
            lib.iotkit_fleet_page_free(page)
        return FleetPage(items, nxt)

    def iter(self, *, type: Optional[str] = None, tag: Optional[str] = None, online: Optional[bool] = None,
             seen_before: Optional[TimeBound] = None, seen_after: Optional[TimeBound] = None,
             page_size: int = 100) -> Iterator[FleetDevice]:
        """Every record matching the conditions (as :meth:`list`), in id order, read
        ``page_size`` at a time. Records that exist throughout the walk are seen
        exactly once, even while others are created or deleted."""
        after: Optional[str] = None
        while True:
            page = self.list(type=type, tag=tag, online=online, seen_before=seen_before,
                             seen_after=seen_after, limit=page_size, after=after)
            yield from page.items
            if page.next is None:
                return
            after = page.next

    def count(self, *, type: Optional[str] = None, tag: Optional[str] = None, online: Optional[bool] = None,
              seen_before: Optional[TimeBound] = None, seen_after: Optional[TimeBound] = None) -> int:
        """How many records match the conditions (as :meth:`list`; none: all)."""
        keep: List[Any] = []
        flt = self._filter(type, tag, online, seen_before, seen_after, keep)
        n = ffi.new("uint64_t *")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_count(fleet, flt, n)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "count")
        finally:
            self._h.release()
        return int(n[0])

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[FleetDevice]:
        return self.iter()

    def __contains__(self, id: object) -> bool:
        if not isinstance(id, str):
            return False
        try:
            self.get(id)
        except (errors.NotFoundError, errors.InvalidArgumentError):
            return False
        return True

    def __getitem__(self, id: str) -> FleetDevice:
        return self.get(id)

    # -- the broker session
    def _session_call(self, fn: Callable[..., int], what: str, *args: Any) -> None:
        fleet = self._h.acquire(self._db_path)
        try:
            code = fn(fleet, *args)
            err = self._error(fleet, code, what) if code != lib.IOTKIT_OK else None
        finally:
            self._h.release()
        self._h.session.raise_pending()  # a callback's exception first: it caused what followed
        if err is not None:
            raise err

    def connect(self) -> None:
        """Open the broker session, subscribe, and wait until the broker's retained
        statuses are reconciled (so :meth:`presence` is the broker's view on return).

        Raises InvalidArgumentError (no ``uri``), StateError (connected already, the
        background loop runs, or from a callback), ConnectionError, AuthenticationError,
        TimeoutError (detail: the fleet's last error)."""
        self._session_call(lib.iotkit_fleet_connect, "connect to %r" % self._uri)

    def disconnect(self) -> None:
        """End the session cleanly (no reconnection). Raises ConnectionError if not
        connected, StateError while the background loop runs or from a callback."""
        self._session_call(lib.iotkit_fleet_disconnect, "disconnect")

    def poll(self, timeout: float = 0.0) -> None:
        """Do the session's work for at most @p timeout seconds (>= 0): receive messages
        (callbacks run here), reconnect when due, mark stale devices. Raises
        ConnectionError if never connected, StateError as :meth:`disconnect`."""
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError("timeout must be a number of seconds")
        ms = int(round(timeout * 1000))
        if not 0 <= ms <= 0x7FFFFFFF:
            raise _invalid("timeout out of range: %r s" % timeout)
        self._session_call(lib.iotkit_fleet_poll, "poll", ms)

    def start(self) -> None:
        """Run the session in a thread of the library (it connects, with backoff, if not
        connected); callbacks run in that thread. Raises StateError if it runs already."""
        s = self._h.session
        fleet = self._h.acquire(self._db_path)
        try:
            s.background = True
            s.keep = self
            code = lib.iotkit_fleet_start(fleet)
            if code != lib.IOTKIT_OK:
                if code != lib.IOTKIT_ERR_STATE:
                    s.background, s.keep = False, None
                raise self._error(fleet, code, "start")
        finally:
            self._h.release()

    def stop(self) -> None:
        """Stop the background thread (the session stays open) and re-raise the first
        exception a callback raised in it. Raises StateError if it does not run."""
        s = self._h.session
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_stop(fleet)
            if code == lib.IOTKIT_OK:
                s.background, s.keep = False, None
        finally:
            self._h.release()
        if code != lib.IOTKIT_OK:
            raise self._error(fleet, code, "stop")
        s.raise_pending()

    @property
    def connected(self) -> bool:
        """Whether the broker session is up."""
        fleet = self._h.acquire(self._db_path)
        try:
            return bool(lib.iotkit_fleet_is_connected(fleet))
        finally:
            self._h.release()

    def fd(self) -> int:
        """The descriptor an external loop watches for readability, or -1; ask again after every poll."""
        fleet = self._h.acquire(self._db_path)
        try:
            return int(lib.iotkit_fleet_fd(fleet))
        finally:
            self._h.release()

    def next_timeout(self) -> Optional[float]:
        """Seconds an external loop may wait before ``poll(0)`` (0: now), None when only
        the descriptor matters (also while the background loop runs)."""
        fleet = self._h.acquire(self._db_path)
        try:
            ms = int(lib.iotkit_fleet_next_timeout_ms(fleet))
        finally:
            self._h.release()
        return None if ms < 0 else ms / 1000.0

    def sync(self) -> None:
        """Wait until everything received so far is written to the database."""
        self._session_call(lib.iotkit_fleet_sync, "sync")

    # -- callbacks
    def _set_callback(self, kind: str, fn: Optional[Callable[..., Any]]) -> None:
        if fn is not None and not callable(fn):
            raise TypeError("the %s callback must be callable or None" % kind)
        s = self._h.session
        fleet = self._h.acquire(self._db_path)
        try:
            if fn is None:
                s.callbacks.pop(kind, None)
            else:
                s.callbacks[kind] = fn
            s.sync_c(fleet, kind)  # clearing waits for a call running in another thread
        finally:
            self._h.release()

    def on(self, kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of the ``on_*`` setters: ``@fleet.on("status")``."""
        if kind not in _session_mod.SETTERS:
            raise _invalid("no fleet callback %r" % (kind,))

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._set_callback(kind, fn)
            return fn

        return register

    on_connection = property(lambda self: self._h.session.callbacks.get("connection"),
                             lambda self, fn: self._set_callback("connection", fn),
                             doc="``fn(up, reason, detail)``: the session came up (reason None) or went "
                                 "down (an IotkitError, None when requested).")
    on_status = property(lambda self: self._h.session.callbacks.get("status"),
                         lambda self, fn: self._set_callback("status", fn),
                         doc="``fn(device_id, online, reason, ts_ms)``: a device went online (reason None) or "
                             "offline; ts_ms is the status's ts or None.")
    on_telemetry = property(lambda self: self._h.session.callbacks.get("telemetry"),
                            lambda self, fn: self._set_callback("telemetry", fn),
                            doc="``fn(device_id, points)``: a telemetry message, as a list of "
                                ":class:`iotkit.telemetry.Point`.")
    on_state = property(lambda self: self._h.session.callbacks.get("state"),
                        lambda self, fn: self._set_callback("state", fn),
                        doc="``fn(device_id, state, ts_ms)``: a device's reported state changed (the whole dict).")
    on_event = property(lambda self: self._h.session.callbacks.get("event"),
                        lambda self, fn: self._set_callback("event", fn),
                        doc="``fn(device_id, type, ts_ms, data)``: an event arrived (data decoded from JSON).")
    on_stale = property(lambda self: self._h.session.callbacks.get("stale"),
                        lambda self, fn: self._set_callback("stale", fn),
                        doc="``fn(device_id, stale, last_seen_ms)``: an online device went silent longer "
                            "than ``heartbeat`` (True) or spoke again (False).")
    on_location = property(lambda self: self._h.session.callbacks.get("location"),
                           lambda self, fn: self._set_callback("location", fn),
                           doc="``fn(device_id, location)``: a position arrived (a :class:`Location`; a "
                               "retained one seen before is not reported again).")
    on_rollout = property(lambda self: self._h.session.callbacks.get("rollout"),
                          lambda self, fn: self._set_callback("rollout", fn),
                          doc="``fn(event)``: a rollout, one of its groups or one of its devices changed (a "
                              ":class:`RolloutEvent`). Runs in the thread of the change: the session's driver "
                              "for device reports, the caller's for start/pause/resume/cancel.")

    # -- the live view
    def presence(self, id: str) -> Presence:
        """The device's presence. Raises NotFoundError (not registered), InvalidArgumentError (bad id)."""
        keep: List[Any] = []
        cid = _encode(id, "id", keep)
        out = ffi.new("iotkit_fleet_presence_t *")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_presence_sized(fleet, cid, out, ffi.sizeof(out[0]))
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "presence of %r" % id)
        finally:
            self._h.release()
        return Presence(bool(out.online), bool(out.stale), int(out.last_seen_ms), ts_or_none(out.status_ts_ms))

    def state(self, id: str) -> ReportedState:
        """The device's latest reported state and its ts. Raises as :meth:`presence`."""
        keep: List[Any] = []
        cid = _encode(id, "id", keep)
        text = ffi.new("char **")
        ts = ffi.new("int64_t *")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_state(fleet, cid, text, ts)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "state of %r" % id)
        finally:
            self._h.release()
        try:
            return ReportedState(json_or(text[0], None), int(ts[0]))
        finally:
            lib.iotkit_free(text[0])

    def latest(self, id: str, name: Optional[str] = None) -> List[Any]:
        """The latest value of each metric of the device (one :class:`iotkit.telemetry.Point`
        per metric, in name order; ``[]`` before any telemetry), or of metric @p name only.
        Raises NotFoundError (not registered, or no metric @p name), InvalidArgumentError."""
        from .telemetry import Batch

        keep: List[Any] = []
        cid = _encode(id, "id", keep)
        cname = _opt(name, "name", keep)
        out = ffi.new("iotkit_telemetry_batch_t **")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_latest(fleet, cid, cname, out)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "latest of %r%s" % (id, "" if name is None else " %r" % name))
        finally:
            self._h.release()
        b = Batch.__new__(Batch)
        b._ptr = ffi.gc(out[0], lib.iotkit_telemetry_batch_free)
        return b.points()

    def _counters(self, ctype: str, fn: Callable[..., int], cls: Any) -> Any:
        """@p cls of the counters @p fn fills in a new @p ctype (the fields @p cls names)."""
        st = ffi.new(ctype)
        fleet = self._h.acquire(self._db_path)
        try:
            code = fn(fleet, st, ffi.sizeof(st[0]))
            if code != lib.IOTKIT_OK:  # pragma: no cover - only for NULL
                raise self._error(fleet, code, "counters")
        finally:
            self._h.release()
        return cls(**{f.name: int(getattr(st, f.name)) for f in fields(cls)})

    def stats(self) -> FleetStats:
        """The session's counters."""
        return self._counters("iotkit_fleet_stats_t *", lib.iotkit_fleet_stats_sized, FleetStats)

    # -- remote control
    def call(self, id: str, name: str, params: Optional[Mapping[str, Any]] = None, *,
             timeout: Optional[float] = None) -> Any:
        """Send command @p name with @p params (a dict, None for none) to device @p id and
        wait for its answer at most @p timeout seconds (None: the library's default,
        35 s); returns the device's result (decoded JSON, usually a dict).

        Works with the background loop or without it (then this call drives the
        session; callbacks run here). Raises NotFoundError (not registered),
        OfflineError (held offline: nothing sent), ConnectionError (no session),
        RemoteError (the device answered an error: ``error_code``, ``error_message``),
        TimeoutError (no answer in time), InvalidArgumentError (bad id, name, params
        not JSON-serializable, timeout out of range), TooLargeError (name or params too
        long), StateError (from a callback of this fleet)."""
        keep: List[Any] = []
        cid = _encode(id, "id", keep)
        cname = _encode(name, "command name", keep)
        cparams = json_object(params, "params", keep)
        ms = timeout_ms(timeout)
        return self._results(lib.iotkit_fleet_command_call, (cid, cname, cparams, ms),
                             "command %r to %r" % (name, id),
                             lambda res: command_result(res.items[0], name, ms).unwrap())

    def set_desired(self, id: str, patch: Mapping[str, Any]) -> int:
        """Merge @p patch (a JSON merge patch: None deletes a key) into the desired state the
        fleet holds for device @p id, store it with the next version and publish it
        (retained; an offline device gets it when it connects). Returns the version.

        Raises NotFoundError (not registered), ConnectionError (no session),
        InvalidArgumentError (bad id, patch not JSON-serializable), TooLargeError, TypeError."""
        if patch is None:
            raise TypeError("patch must be a dict, not None")
        keep: List[Any] = []
        cid = _encode(id, "id", keep)
        cpatch = json_object(patch, "patch", keep)
        ver = ffi.new("uint64_t *")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_desired_set(fleet, cid, cpatch, ver)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "desired state of %r" % id)
        finally:
            self._h.release()
        return int(ver[0])

    def desired(self, id: str) -> Tuple[int, Dict[str, Any]]:
        """``(version, state)`` of the desired state the fleet holds for device @p id.
        Raises NotFoundError when none was ever set, InvalidArgumentError for a bad id."""
        keep: List[Any] = []
        cid = _encode(id, "id", keep)
        text = ffi.new("char **")
        ver = ffi.new("uint64_t *")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_desired_get(fleet, cid, text, ver)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "desired state of %r" % id)
        finally:
            self._h.release()
        try:
            return int(ver[0]), json_or(text[0], {})
        finally:
            lib.iotkit_free(text[0])
