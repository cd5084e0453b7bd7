"""Telemetry: typed points, batches and their three wire encodings.

A :class:`Point` has a name, a value (``float``, ``int``, ``bool`` or ``str``),
an optional unit, a timestamp in milliseconds since the Unix epoch and optional
string tags. A :class:`Batch` is an ordered list of points held by libiotkit
(``iotkit_telemetry_batch_t``), with an optional sequence number; it encodes to
and decodes from the three encodings of docs/protocol.md ("Telemetry
encodings"), named by :class:`Format`:

* ``Format.JSON`` (``"json"``, application/json): libiotkit's JSON form;
* ``Format.SENML_JSON`` (``"senml-json"``, application/senml+json, RFC 8428 section 5);
* ``Format.SENML_CBOR`` (``"senml-cbor"``, application/senml+cbor, RFC 8428 section 6).

Example::

    from iotkit import telemetry
    b = telemetry.Batch({"temperature": 21.5, "door": True})
    b.add("humidity", 40, unit="%RH", tags={"room": "lab"})
    data = b.encode(telemetry.Format.SENML_CBOR)
    for p in telemetry.Batch.decode(data, "senml-cbor"):
        print(p.name, p.value, p.unit, p.time)

The rules are the C library's (telemetry.h), and a point that breaks them raises
with the C code: a bad name (1 to 128 bytes of ``[A-Za-z0-9-:./_]``, starting
with a letter or digit), unit, tag key (1 to 64 bytes of ``[A-Za-z0-9._-]``)
or a non-finite float: :class:`~iotkit.errors.InvalidArgumentError`
(``IOTKIT_ERR_INVALID_ARG``); a text over 4096 bytes, more than 16 tags, more
than 65536 points, an int outside 64 bits:
:class:`~iotkit.errors.TooLargeError` (``IOTKIT_ERR_TOO_LARGE``); a bytes value
(SenML data values are not supported by the C library):
:class:`~iotkit.errors.UnsupportedError`; a value of another Python type:
:class:`TypeError`. Malformed input to :meth:`Batch.decode` raises
InvalidArgumentError (``IOTKIT_ERR_BAD_ENCODING``); well-formed input a point
cannot hold (SenML ``vd``, sum-only records...) UnsupportedError.
"""
from __future__ import annotations

import datetime
import enum
import math
import numbers
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Union, overload

from ._native import ffi, lib, py_str
from .errors import check, error_for

__all__ = ["Format", "Point", "Batch", "Value", "to_batch", "encode", "decode", "now_ms",
           "MAX_NAME", "MAX_TEXT", "MAX_TAGS", "MAX_POINTS"]

#: A point's value.
Value = Union[float, int, bool, str]

MAX_NAME: int = int(lib.IOTKIT_TELEMETRY_MAX_NAME)      #: longest point name, in bytes
MAX_TEXT: int = int(lib.IOTKIT_TELEMETRY_MAX_TEXT)      #: longest unit, tag or string value, in bytes
MAX_TAGS: int = int(lib.IOTKIT_TELEMETRY_MAX_TAGS)      #: most tags on one point
MAX_POINTS: int = int(lib.IOTKIT_TELEMETRY_MAX_POINTS)  #: most points in one batch

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class Format(enum.IntEnum):
    """Wire encodings of a batch (``iotkit_telemetry_format_t``)."""

    JSON = 0        #: libiotkit's JSON form, application/json
    SENML_JSON = 1  #: RFC 8428 section 5, application/senml+json
    SENML_CBOR = 2  #: RFC 8428 section 6, application/senml+cbor

    @property
    def short_name(self) -> str:
        """"json", "senml-json" or "senml-cbor"."""
        return py_str(lib.iotkit_telemetry_format_name(int(self)))

    @property
    def media_type(self) -> str:
        """The media type, e.g. "application/senml+cbor"."""
        return py_str(lib.iotkit_telemetry_format_media_type(int(self)))

    @classmethod
    def parse(cls, fmt: Union["Format", str, int]) -> "Format":
        """A Format from itself, its short name ("senml-json") or its number;
        an unknown name raises NotFoundError (``IOTKIT_ERR_NOT_FOUND``)."""
        if isinstance(fmt, str):
            out = ffi.new("iotkit_telemetry_format_t *")
            check(lib.iotkit_telemetry_format_parse(_cs(fmt, "format"), out), lambda: "format %r" % fmt)
            return cls(out[0])
        try:
            return cls(fmt)
        except ValueError:
            raise error_for(lib.IOTKIT_ERR_INVALID_ARG, "unknown format %r" % (fmt,)) from None


def now_ms() -> int:
    """The current wall-clock time in milliseconds since the Unix epoch."""
    return time.time_ns() // 1000000


def _cs(s: Optional[str], what: str) -> Any:
    """A C string for @p s (NULL for None): TypeError for non-str, InvalidArgumentError for a NUL."""
    if s is None:
        return ffi.NULL
    if not isinstance(s, str):
        raise TypeError("%s: expected str, not %s" % (what, type(s).__name__))
    b = s.encode("utf-8", "surrogatepass")
    if b"\0" in b:
        raise error_for(lib.IOTKIT_ERR_INVALID_ARG, "%s contains a NUL character" % what)
    return ffi.new("char[]", b)


@dataclass
class Point:
    """One telemetry point.

    ``ts_ms`` is the time in milliseconds since the Unix epoch: None (the
    default) means "now" when the point is added to a batch; 0 means unknown,
    and is encoded without a time. Points decoded from SenML with times below
    2^28 s keep those relative times as they are (milliseconds, possibly
    negative): resolve them against the receive time. ``tags`` maps tag keys to
    string values.
    """

    name: str
    value: Value
    unit: Optional[str] = None
    ts_ms: Optional[int] = None
    tags: Dict[str, str] = field(default_factory=dict)

    @property
    def time(self) -> Optional[datetime.datetime]:
        """``ts_ms`` as an aware UTC datetime, or None when unknown (0 or None)."""
        if not self.ts_ms:
            return None
        return datetime.datetime.fromtimestamp(self.ts_ms / 1000, datetime.timezone.utc)


PointLike = Union[Point, Mapping[str, Any]]
BatchSource = Union["Batch", Mapping[str, Value], Iterable[PointLike]]


#: Short keys accepted in point dicts, as in libiotkit's JSON form ("n", "u", "ts", "v", "tags").
_SHORT = {"n": "name", "u": "unit", "ts": "ts_ms", "v": "value", "tags": "tags"}


def _point_from(obj: PointLike) -> Point:
    if isinstance(obj, Point):
        return obj
    if isinstance(obj, Mapping):
        fields = {_SHORT.get(k, k): v for k, v in obj.items()}
        try:
            return Point(**fields)
        except TypeError as e:
            raise TypeError("a point dict has name (n), value (v), and optionally unit (u), ts_ms (ts), "
                            "tags: %s" % e) from None
    raise TypeError("expected a Point or a mapping of Point fields, not %s" % type(obj).__name__)


class Batch:
    """An ordered list of telemetry points held by libiotkit (``iotkit_telemetry_batch_t``).

    Make one from a mapping of names to values (``Batch({"temp": 21.5})``), an
    iterable of :class:`Point` (or of dicts of Point fields, with the short
    keys ``n``, ``v``, ``u``, ``ts`` of the JSON form accepted too), or empty, then
    :meth:`add` more. ``len()``, indexing and iteration give :class:`Point`
    copies. A batch is not thread-safe: use it from one thread at a time, like a
    list.

    Contract with the Device binding: ``batch._ptr`` (also readable as
    ``batch._iotkit_batch``, the name ``iotkit.Device.send_telemetry`` looks
    for) is the cdata ``iotkit_telemetry_batch_t *`` the batch owns (freed with
    ``iotkit_telemetry_batch_free()`` when the Batch is garbage-collected or
    :meth:`close` drops it). ``device.py`` passes it to
    ``iotkit_device_send_batch(dev, batch._ptr, format, &seq, &msg_id)``, which
    sets the batch's sequence number; it keeps a reference to the Batch for the
    duration of the call and does not use the batch from two threads at once.
    Use :func:`to_batch` to accept whatever a user gives (a Batch, a mapping, or
    points). :meth:`_check_open` returns ``_ptr`` or raises StateError if closed.
    """

    _ptr: Any

    def __init__(self, points: Optional[BatchSource] = None, *, seq: int = 0, ts_ms: Optional[int] = None) -> None:
        out = ffi.new("iotkit_telemetry_batch_t **")
        check(lib.iotkit_telemetry_batch_new(ffi.NULL, out))
        self._ptr = ffi.gc(out[0], lib.iotkit_telemetry_batch_free)
        if points is not None:
            self.extend(points, ts_ms=ts_ms)
        if seq:
            self.seq = seq

    # ------------------------------------------------------------ adding --

    def _check_open(self) -> Any:
        if self._ptr is None:
            raise error_for(lib.IOTKIT_ERR_STATE, "the batch is closed")
        return self._ptr

    @property
    def _iotkit_batch(self) -> Any:
        """The cdata ``iotkit_telemetry_batch_t *`` under the name the Device
        binding looks for (``Device.send_telemetry(batch)``); StateError if closed."""
        return self._check_open()

    def add(self, name: str, value: Value, *, unit: Optional[str] = None, ts_ms: Optional[int] = None,
            tags: Optional[Mapping[str, str]] = None) -> "Batch":
        """Append a point (see :class:`Point` for @p ts_ms); returns self so that calls chain.
        On failure the batch is unchanged."""
        b = self._check_open()
        ts = now_ms() if ts_ms is None else ts_ms
        if isinstance(ts, bool) or not isinstance(ts, numbers.Integral):
            raise TypeError("ts_ms: expected int milliseconds, not %s" % type(ts).__name__)
        if not _INT64_MIN < ts <= _INT64_MAX:
            raise error_for(lib.IOTKIT_ERR_INVALID_ARG, "ts_ms %d is outside 64 bits" % ts)
        n, u = _cs(name, "point name"), _cs(unit, "unit")
        if tags:
            self._add_tagged(b, n, u, int(ts), value, tags)
            return self
        if isinstance(value, bool):
            rc = lib.iotkit_telemetry_batch_add_bool(b, n, u, ts, value)
        elif isinstance(value, numbers.Integral):
            rc = lib.iotkit_telemetry_batch_add_int(b, n, u, ts, _int64(value))
        elif isinstance(value, numbers.Real):
            rc = lib.iotkit_telemetry_batch_add_double(b, n, u, ts, float(value))
        elif isinstance(value, str):
            rc = lib.iotkit_telemetry_batch_add_string(b, n, u, ts, _cs(value, "string value"))
        else:
            raise _bad_value(value)
        check(rc, lambda: _point_detail(rc, name, value, unit))
        return self

    def _add_tagged(self, b: Any, n: Any, u: Any, ts: int, value: Value, tags: Mapping[str, str]) -> None:
        p = ffi.new("iotkit_telemetry_point_t *")
        keep: List[Any] = []
        p.name, p.unit, p.ts_ms = n, u, ts
        if isinstance(value, bool):
            p.type, p.value.b = lib.IOTKIT_TELEMETRY_BOOL, value
        elif isinstance(value, numbers.Integral):
            p.type, p.value.i = lib.IOTKIT_TELEMETRY_INT, _int64(value)
        elif isinstance(value, numbers.Real):
            p.type, p.value.d = lib.IOTKIT_TELEMETRY_DOUBLE, float(value)
        elif isinstance(value, str):
            s = _cs(value, "string value")
            keep.append(s)
            p.type, p.value.s = lib.IOTKIT_TELEMETRY_STRING, s
        else:
            raise _bad_value(value)
        arr = ffi.new("iotkit_telemetry_tag_t[]", len(tags))
        for i, (k, v) in enumerate(tags.items()):
            ck, cv = _cs(k, "tag key"), _cs(v, "tag value")
            keep += [ck, cv]
            arr[i].key, arr[i].value = ck, cv
        p.tags, p.tag_count = arr, len(tags)
        rc = lib.iotkit_telemetry_batch_add(b, p)
        check(rc, lambda: _point_detail(rc, ffi.string(n).decode("utf-8", "replace"), value,
                                        None if u == ffi.NULL else ffi.string(u).decode("utf-8", "replace"),
                                        len(tags)))

    def append(self, point: PointLike) -> "Batch":
        """Append a :class:`Point` (or a dict of its fields); returns self."""
        p = _point_from(point)
        return self.add(p.name, p.value, unit=p.unit, ts_ms=p.ts_ms, tags=p.tags)

    def extend(self, points: BatchSource, *, ts_ms: Optional[int] = None) -> "Batch":
        """Append every point of @p points: a mapping of names to values (all
        stamped @p ts_ms, default now), another Batch, or an iterable of Points.
        If one fails, the points before it stay in the batch."""
        if isinstance(points, Batch):
            points = points.points()
        if isinstance(points, Mapping):
            ts = now_ms() if ts_ms is None else ts_ms
            for name, value in points.items():
                self.add(name, value, ts_ms=ts)
            return self
        if isinstance(points, (str, bytes, bytearray, memoryview)):
            raise TypeError("expected a mapping or an iterable of points, not %s" % type(points).__name__)
        for p in points:
            self.append(p)
        return self

    def tag(self, key: str, value: str) -> "Batch":
        """Add a tag to the last point added; returns self. An empty batch raises StateError."""
        b = self._check_open()
        check(lib.iotkit_telemetry_batch_tag(b, _cs(key, "tag key"), _cs(value, "tag value")),
              lambda: "tag %r" % key)
        return self

    # ----------------------------------------------------------- reading --

    def __len__(self) -> int:
        return int(lib.iotkit_telemetry_batch_count(self._check_open()))

    def _get(self, i: int) -> Point:
        pp = ffi.new("const iotkit_telemetry_point_t **")
        check(lib.iotkit_telemetry_batch_get(self._check_open(), i, pp))
        p = pp[0]
        t = p.type
        value: Value
        if t == lib.IOTKIT_TELEMETRY_DOUBLE:
            value = float(p.value.d)
        elif t == lib.IOTKIT_TELEMETRY_INT:
            value = int(p.value.i)
        elif t == lib.IOTKIT_TELEMETRY_BOOL:
            value = bool(p.value.b)
        else:
            value = ffi.string(p.value.s).decode("utf-8")
        tags = {ffi.string(p.tags[j].key).decode("utf-8"): ffi.string(p.tags[j].value).decode("utf-8")
                for j in range(p.tag_count)}
        unit = None if p.unit == ffi.NULL else ffi.string(p.unit).decode("utf-8")
        return Point(ffi.string(p.name).decode("utf-8"), value, unit, int(p.ts_ms), tags)

    @overload
    def __getitem__(self, index: int) -> Point: ...

    @overload
    def __getitem__(self, index: slice) -> List[Point]: ...

    def __getitem__(self, index: Union[int, slice]) -> Union[Point, List[Point]]:
        n = len(self)
        if isinstance(index, slice):
            return [self._get(i) for i in range(*index.indices(n))]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("batch index out of range")
        return self._get(index)

    def __iter__(self) -> Iterator[Point]:
        for i in range(len(self)):
            yield self._get(i)

    def points(self) -> List[Point]:
        """Every point, in order, as :class:`Point` copies."""
        return list(self)

    def as_dict(self) -> Dict[str, Value]:
        """The values by name (for repeated names, the last point wins)."""
        return {p.name: p.value for p in self}

    @property
    def seq(self) -> int:
        """The message sequence number carried by the encodings (0: none; at most 2^53)."""
        return int(lib.iotkit_telemetry_batch_seq(self._check_open()))

    @seq.setter
    def seq(self, value: int) -> None:
        if not 0 <= value <= (1 << 53):
            raise error_for(lib.IOTKIT_ERR_INVALID_ARG, "seq must be 0 to 2^53, not %d" % value)
        check(lib.iotkit_telemetry_batch_set_seq(self._check_open(), value))

    # --------------------------------------------------------- encodings --

    def encode(self, format: Union[Format, str, int] = Format.JSON) -> bytes:
        """The batch in @p format. An empty batch raises InvalidArgumentError."""
        f = Format.parse(format)
        b = self._check_open()
        out = ffi.new("uint8_t **")
        n = ffi.new("size_t *")
        check(lib.iotkit_telemetry_encode(b, f, out, n), lambda: "" if len(self) else "the batch is empty")
        try:
            return bytes(ffi.buffer(out[0], n[0]))
        finally:
            lib.iotkit_free(out[0])

    @classmethod
    def decode(cls, data: Union[bytes, bytearray, memoryview, str],
               format: Union[Format, str, int] = Format.JSON) -> "Batch":
        """A new batch from @p data in @p format (SenML records resolved; SenML
        JSON numbers come back as floats, SenML CBOR integers as ints)."""
        f = Format.parse(format)
        if isinstance(data, str):
            data = data.encode("utf-8")
        buf = ffi.from_buffer(data)
        out = ffi.new("iotkit_telemetry_batch_t **")
        check(lib.iotkit_telemetry_decode(f, buf, len(data), out))
        b = cls.__new__(cls)
        b._ptr = ffi.gc(out[0], lib.iotkit_telemetry_batch_free)
        return b

    def close(self) -> None:
        """Drop the C batch (freed once no call uses it); later use raises StateError."""
        self._ptr = None

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<Batch closed>"
        return "<Batch of %d points, seq %d>" % (len(self), self.seq)


def _int64(v: Any) -> int:
    i = int(v)
    if not _INT64_MIN <= i <= _INT64_MAX:
        raise error_for(lib.IOTKIT_ERR_TOO_LARGE, "integer value %d does not fit in 64 bits" % i)
    return i


def _bad_value(value: Any) -> Exception:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return error_for(lib.IOTKIT_ERR_UNSUPPORTED,
                         "binary values (SenML data values) are not supported by libiotkit's telemetry")
    return TypeError("a point's value is float, int, bool or str, not %s" % type(value).__name__)


def _point_detail(rc: int, name: str, value: Any, unit: Optional[str], ntags: int = 0) -> str:
    if rc == lib.IOTKIT_ERR_INVALID_ARG:
        if isinstance(value, float) and not math.isfinite(value):
            return "point %r: the value must be finite" % name
        return "point %r: bad name, unit, tag or value (names are 1 to %d bytes of [A-Za-z0-9-:./_] starting " \
               "with a letter or digit)" % (name, MAX_NAME)
    if rc == lib.IOTKIT_ERR_TOO_LARGE:
        if ntags > MAX_TAGS:
            return "point %r: more than %d tags" % (name, MAX_TAGS)
        return "point %r: a text over %d bytes, or more than %d points" % (name, MAX_TEXT, MAX_POINTS)
    return "point %r" % name


def to_batch(data: BatchSource, *, ts_ms: Optional[int] = None) -> Batch:
    """A :class:`Batch` for @p data: a Batch as is, a mapping of names to values,
    or an iterable of :class:`Point` (what the Device binding's
    ``send_telemetry`` accepts besides raw bytes). Bytes and str raise TypeError."""
    if isinstance(data, Batch):
        data._check_open()
        return data
    return Batch(data, ts_ms=ts_ms)


def encode(points: BatchSource, format: Union[Format, str, int] = Format.JSON, *, seq: int = 0,
           ts_ms: Optional[int] = None) -> bytes:
    """Encode @p points (a mapping, Points, or a Batch) in @p format, with sequence number @p seq."""
    b = Batch(points, seq=seq, ts_ms=ts_ms)
    return b.encode(format)


def decode(data: Union[bytes, bytearray, memoryview, str], format: Union[Format, str, int] = Format.JSON
           ) -> List[Point]:
    """The points of @p data in @p format (see :meth:`Batch.decode`)."""
    return Batch.decode(data, format).points()

