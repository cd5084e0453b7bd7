"""The compiled cffi extension and small helpers shared by the modules."""
from __future__ import annotations

from typing import Optional, Union

try:
    from ._iotkit import ffi, lib  # type: ignore[import-not-found]
except ImportError as exc:  # pragma: no cover - only without a build
    raise ImportError(
        "iotkit: the compiled extension iotkit._iotkit is missing or cannot load libiotkit "
        "(%s). Install the package with pip (see bindings/python/README.md)." % exc) from exc

__all__ = ["ffi", "lib", "to_bytes", "c_str", "py_str"]

BytesLike = Union[bytes, bytearray, memoryview, str]


def to_bytes(data: BytesLike) -> bytes:
    """Bytes of @p data (str is UTF-8 encoded)."""
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError("expected bytes or str, not %s" % type(data).__name__)


def c_str(s: Optional[str]):
    """A NUL-terminated C string owned by the returned cdata (keep it alive), or NULL."""
    if s is None:
        return ffi.NULL
    if not isinstance(s, str):
        raise TypeError("expected str, not %s" % type(s).__name__)
    b = s.encode("utf-8")
    if b"\0" in b:
        raise ValueError("string contains a NUL character")
    return ffi.new("char[]", b)


def py_str(p) -> str:
    """The Python str of a C string (\"\" for NULL)."""
    if p == ffi.NULL:
        return ""
    return ffi.string(p).decode("utf-8", "replace")
