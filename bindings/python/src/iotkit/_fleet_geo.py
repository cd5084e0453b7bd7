"""Fleet, continued: where devices are (latest position, track, devices within a
radius) and the telemetry history of a metric (points or buckets), from
fleet_monitor.h. Both are read from the fleet's memory and database, so they
work without a session too (then they return what was stored)."""
from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple, Union

from . import errors
from ._fleet_util import TimeBound, _encode, _from_ms, _invalid, _to_ms
from ._native import ffi, lib, py_str

__all__ = ["Location", "Nearby", "Sample", "distance_m"]

_INT64_MAX = 2 ** 63 - 1


@dataclass(frozen=True)
class Location:
    """A position a device reported (``iotkit_location_t``)."""

    latitude: float
    """Degrees, -90 to 90."""
    longitude: float
    """Degrees, -180 to 180."""
    altitude: Optional[float]
    """Metres above sea level, or None when not reported."""
    accuracy: Optional[float]
    """Horizontal accuracy radius in metres, or None when not reported."""
    ts_ms: int
    """When the position was taken (ms since the Unix epoch)."""

    @property
    def ts(self) -> _dt.datetime:
        """:attr:`ts_ms` as a UTC datetime."""
        return _from_ms(self.ts_ms)


@dataclass(frozen=True)
class Nearby:
    """A device found by :meth:`Fleet.within`: its id, its distance from the point and its position."""

    device_id: str
    distance_m: float
    location: Location


@dataclass(frozen=True)
class Sample:
    """One point of a metric's history (``count`` 1, min = max = mean = its value) or one
    bucket of it (min, max, mean of the ``count`` points from ``ts_ms`` on)."""

    ts_ms: int
    min: float
    max: float
    mean: float
    count: int

    @property
    def ts(self) -> _dt.datetime:
        """:attr:`ts_ms` as a UTC datetime."""
        return _from_ms(self.ts_ms)

    @property
    def value(self) -> float:
        """The point's value (a bucket's mean)."""
        return self.mean


def location_from(p: Any) -> Location:
    """A Location of a C iotkit_location_t (copied)."""
    return Location(float(p.latitude), float(p.longitude), float(p.altitude) if p.has_altitude else None,
                    float(p.accuracy_m) if p.has_accuracy else None, int(p.ts_ms))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points (haversine, mean Earth radius), as the fleet computes it."""
    return float(lib.iotkit_fleet_distance_m(float(lat1), float(lon1), float(lat2), float(lon2)))


def _span(start: Optional[TimeBound], end: Optional[TimeBound]) -> Tuple[int, int]:
    """[start, end] as ms (None: from the epoch, until the end of time)."""
    def ms(value: Optional[TimeBound], what: str, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, _dt.datetime):
            return _to_ms(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if not -2 ** 63 <= value <= _INT64_MAX:
                raise _invalid("%s out of range: %r" % (what, value))
            return value
        raise TypeError("%s must be a datetime or ms since the epoch (int)" % what)

    return ms(start, "start", 0), ms(end, "end", _INT64_MAX)


def _bucket_ms(bucket: Union[None, float, _dt.timedelta]) -> int:
    if bucket is None:
        return 0
    if isinstance(bucket, _dt.timedelta):
        return bucket // _dt.timedelta(milliseconds=1)
    if isinstance(bucket, bool) or not isinstance(bucket, (int, float)):
        raise TypeError("bucket must be seconds (a number) or a timedelta")
    if isinstance(bucket, float) and not math.isfinite(bucket):
        raise _invalid("bucket must be finite, not %r" % bucket)
    return int(round(bucket * 1000))


class GeoHistory:
    """Locations and history of :class:`~iotkit.Fleet` (a mixin; see the Fleet docstring)."""

    _h: Any
    _db_path: str

    def _error(self, fleet: Any, code: int, what: str) -> errors.IotkitError:  # pragma: no cover - Fleet's
        raise NotImplementedError

    def locate(self, id: str) -> Location:
        """The latest position of device @p id. Raises NotFoundError (not registered, or no position
        yet), InvalidArgumentError (bad id)."""
        keep: List[Any] = []
        cid = _encode(id, "id", keep)
        out = ffi.new("iotkit_location_t *")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_locate(fleet, cid, out)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "position of %r" % id)
        finally:
            self._h.release()
        return location_from(out)

    def track(self, id: str, start: Optional[TimeBound] = None, end: Optional[TimeBound] = None) -> List[Location]:
        """The positions of device @p id taken between @p start and @p end (inclusive; datetimes
        or ms since the epoch; None: no bound), oldest first, from the location history (the
        newest ``location_history_max`` positions). Raises NotFoundError (not registered),
        InvalidArgumentError (bad id, start after end), TypeError."""
        keep: List[Any] = []
        cid = _encode(id, "id", keep)
        t1, t2 = _span(start, end)
        out = ffi.new("iotkit_location_t **")
        n = ffi.new("size_t *")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_track(fleet, cid, t1, t2, out, n)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "track of %r" % id)
        finally:
            self._h.release()
        try:
            return [location_from(out[0][i]) for i in range(n[0])]
        finally:
            lib.iotkit_free(out[0])

    def within(self, latitude: float, longitude: float, radius_m: float) -> List[Nearby]:
        """The devices whose latest position lies within @p radius_m metres of the point, nearest
        first. Raises InvalidArgumentError (latitude outside [-90, 90], longitude outside
        [-180, 180], a negative, NaN or infinite radius), TypeError (not numbers)."""
        vals = []
        for what, v in (("latitude", latitude), ("longitude", longitude), ("radius_m", radius_m)):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeError("%s must be a number" % what)
            vals.append(float(v))
        out = ffi.new("iotkit_fleet_near_t **")
        n = ffi.new("size_t *")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_within(fleet, vals[0], vals[1], vals[2], out, n)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "devices within %g m of (%g, %g)" % (vals[2], vals[0], vals[1]))
        finally:
            self._h.release()
        try:
            return [Nearby(py_str(out[0][i].device_id), float(out[0][i].distance_m),
                           location_from(out[0][i].location)) for i in range(n[0])]
        finally:
            lib.iotkit_free(out[0])

    def history(self, id: str, metric: str, start: Optional[TimeBound] = None, end: Optional[TimeBound] = None,
                *, bucket: Union[None, float, _dt.timedelta] = None) -> List[Sample]:
        """The history of metric @p metric of device @p id between @p start and @p end (inclusive;
        datetimes or ms; None: no bound), oldest first: the points themselves, or with ``bucket``
        (seconds or a timedelta) downsampled to buckets of that length (min, max, mean; empty
        buckets left out). Kept only when the Fleet was made with ``history_max_points > 0``.

        Raises UnsupportedError (no history kept), NotFoundError (not registered),
        InvalidArgumentError (bad id or metric name, start after end, a negative bucket), TypeError."""
        keep: List[Any] = []
        cid = _encode(id, "id", keep)
        cmetric = _encode(metric, "metric", keep)
        t1, t2 = _span(start, end)
        bms = _bucket_ms(bucket)
        out = ffi.new("iotkit_fleet_sample_t **")
        n = ffi.new("size_t *")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_history(fleet, cid, cmetric, t1, t2, bms, out, n)
            if code == lib.IOTKIT_ERR_UNSUPPORTED:
                raise errors.error_for(code, "this fleet keeps no telemetry history (history_max_points=0)")
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "history of %r %r" % (id, metric))
        finally:
            self._h.release()
        try:
            return [Sample(int(s.ts_ms), float(s.min), float(s.max), float(s.mean), int(s.count))
                    for s in (out[0][i] for i in range(n[0]))]
        finally:
            lib.iotkit_free(out[0])
