"""Helpers shared by the modules of iotkit.fleet: C copies of strings, JSON of
dicts, seconds and time bounds as ms, the exceptions of bad arguments."""
from __future__ import annotations

import datetime as _dt
import json
from typing import Any, List, Mapping, Optional, Union

from . import errors
from ._native import ffi, lib

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
TimeBound = Union[_dt.datetime, int]


def _from_ms(ms: int) -> _dt.datetime:
    return _EPOCH + _dt.timedelta(milliseconds=int(ms))


def _to_ms(dt: _dt.datetime) -> int:
    if dt.tzinfo is None:
        return int(round(dt.timestamp() * 1000))  # naive: local time, as datetime.timestamp()
    return (dt - _EPOCH) // _dt.timedelta(milliseconds=1)


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


def _attributes_json(attributes: Optional[Mapping[str, Any]], what: str = "attributes") -> Optional[str]:
    if attributes is None:
        return None
    try:
        return json.dumps(attributes, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _invalid("%s are not JSON-serializable: %s" % (what, exc), lib.IOTKIT_ERR_BAD_ENCODING) from None


def _seconds_ms(value: Optional[float], what: str, lo: int = 1, hi: int = 0xFFFFFFFF) -> int:
    """@p value seconds as ms in lo..hi (None: 0, the library's default)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("%s must be a number of seconds" % what)
    ms = int(round(value * 1000))
    if not lo <= ms <= hi:
        raise _invalid("%s out of range: %r s" % (what, value))
    return ms


def _bound(value: Optional[TimeBound], what: str) -> int:
    """A time bound (datetime or ms since the epoch, > 0) as ms; None: 0."""
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


def make_filter(type: Optional[str], tag: Optional[str], online: Optional[bool],
                seen_before: Optional[TimeBound], seen_after: Optional[TimeBound], keep: List[Any]) -> Any:
    """An iotkit_fleet_filter_t of these conditions (strings kept alive in @p keep)."""
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
    flt.last_seen_before_ms = _bound(seen_before, "seen_before")
    flt.last_seen_after_ms = _bound(seen_after, "seen_after")
    keep.append(flt)
    return flt


def json_object(value: Optional[Mapping[str, Any]], what: str, keep: List[Any]) -> Any:
    """@p value (a dict, or None: NULL) as C JSON text."""
    if value is None:
        return ffi.NULL
    if not isinstance(value, Mapping):
        raise TypeError("%s must be a dict, not %s" % (what, type(value).__name__))
    return _encode(_attributes_json(dict(value), what) or "{}", what, keep)
