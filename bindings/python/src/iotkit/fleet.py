"""The fleet registry: devices recorded in an SQLite database (libiotkit's fleet.h).

    import iotkit

    with iotkit.Fleet("/var/lib/fleet/registry.db") as fleet:
        fleet.create("sensor-1", name="Hall sensor", type="th-sensor", tags=("hall", "floor-1"),
                     attributes={"room": 12})
        for dev in fleet.iter(tag="hall"):
            print(dev.id, dev.name, dev.created)

Only the registry is bound: the fleet's MQTT side (connect, live view,
commands, rollouts) is not part of libiotkit yet.

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
* any call after :meth:`Fleet.close` -> :class:`~iotkit.StateError` (``IOTKIT_ERR_STATE``).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from . import _log, errors
from ._native import ffi, lib, py_str

__all__ = ["Fleet", "FleetDevice", "FleetPage"]

_ERROR_TEXT_SIZE = int(lib.iotkit_limit(4)) or 256  # IOTKIT_LIMIT_ERROR_TEXT_SIZE
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
#: Most records in one page (IOTKIT_FLEET_MAX_PAGE).
MAX_PAGE = int(lib.IOTKIT_FLEET_MAX_PAGE)

TimeBound = Union[_dt.datetime, int]
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


def _from_ms(ms: int) -> _dt.datetime:
    return _EPOCH + _dt.timedelta(milliseconds=int(ms))


def _to_ms(dt: _dt.datetime) -> int:
    if dt.tzinfo is None:
        return int(round(dt.timestamp() * 1000))  # naive: local time, as datetime.timestamp()
    return (dt - _EPOCH) // _dt.timedelta(milliseconds=1)


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


# --------------------------------------------------------------- helpers --

def _invalid(detail: str, code: int = lib.IOTKIT_ERR_INVALID_ARG) -> errors.IotkitError:
    return errors.error_for(code, detail)


def _encode(value: str, what: str, keep: List[Any]) -> Any:
    """A C copy of @p value (kept alive in @p keep)."""
    if not isinstance(value, str):
        raise TypeError("%s must be str, not %s" % (what, type(value).__name__))
    try:
        b = value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _invalid("%s is not encodable as UTF-8: %s" % (what, exc), lib.IOTKIT_ERR_BAD_ENCODING) from None
    if b"\0" in b:
        raise _invalid("%s contains a NUL character" % what)
    p = ffi.new("char[]", b)
    keep.append(p)
    return p


def _opt(value: Optional[str], what: str, keep: List[Any]) -> Any:
    return ffi.NULL if value is None else _encode(value, what, keep)


def _attributes_json(attributes: Optional[Mapping[str, Any]]) -> Optional[str]:
    if attributes is None:
        return None
    try:
        return json.dumps(attributes, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _invalid("attributes are not JSON-serializable: %s" % exc, lib.IOTKIT_ERR_BAD_ENCODING) from None


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
                lib.iotkit_fleet_free(self.fleet)  # finishes queued writes, joins the writer
                self.fleet = ffi.NULL
            if self.hal != ffi.NULL:
                lib.iotkit_hal_free(self.hal)
                self.hal = ffi.NULL
        finally:
            with self.lock:
                self.closed = True
                self.idle.notify_all()


def _finalize(handle: _Handle) -> None:
    handle.close()


# ----------------------------------------------------------------- Fleet --

class Fleet:
    """A fleet registry: a database of device records.

    ``db_path`` is a file (created if missing, its directory must exist; SQLite in
    WAL mode, with ``-wal``/``-shm`` files beside it) or ``":memory:"`` for a
    throw-away registry. ``busy_timeout`` (seconds, > 0) is how long to wait for
    another process's lock, at open and for each write, before
    :class:`~iotkit.StateError` (``IOTKIT_ERR_BUSY``). ``integrity_check=True``
    reads the whole file at open and refuses a damaged one (``IOTKIT_ERR_CORRUPT``).
    Every problem with the file is raised here (see the module docstring).

    Use it as a context manager or call :meth:`close` (idempotent); an unreachable
    Fleet is closed when collected. ``len(fleet)`` counts the records,
    ``"id" in fleet`` tests one, ``fleet["id"]`` reads one (like :meth:`get`),
    ``iter(fleet)`` walks them all in id order.
    """

    def __init__(self, db_path: PathLike = ":memory:", *, busy_timeout: float = 5.0,
                 integrity_check: bool = False) -> None:
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

        handle = _Handle()
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
    def _error(self, fleet: Any, code: int, what: str) -> errors.IotkitError:
        if code in (lib.IOTKIT_ERR_NOT_FOUND, lib.IOTKIT_ERR_EXISTS):
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

    def _filter(self, type: Optional[str], tag: Optional[str], online: Optional[bool],
                seen_before: Optional[TimeBound], seen_after: Optional[TimeBound], keep: List[Any]) -> Any:
        flt = ffi.new("iotkit_fleet_filter_t *")
        lib.iotkit_fleet_filter_init(flt)
        flt.type = _opt(type, "type", keep)
        flt.tag = _opt(tag, "tag", keep)
        if online is None:
            flt.online = lib.IOTKIT_FLEET_ONLINE_ANY
        elif isinstance(online, bool):
            flt.online = lib.IOTKIT_FLEET_ONLINE_ONLY if online else lib.IOTKIT_FLEET_OFFLINE_ONLY
        else:
            raise TypeError("online must be None, True or False")
        flt.last_seen_before_ms = self._bound(seen_before, "seen_before")
        flt.last_seen_after_ms = self._bound(seen_after, "seen_after")
        return flt

    @staticmethod
    def _bound(value: Optional[TimeBound], what: str) -> int:
        if value is None:
            return 0
        if isinstance(value, _dt.datetime):
            ms = _to_ms(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            ms = value
        else:
            raise TypeError("%s must be a datetime or ms since the epoch (int)" % what)
        if ms <= 0 or ms >= 2 ** 63:
            raise _invalid("%s must be after the Unix epoch, not %r" % (what, value))
        return ms

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
