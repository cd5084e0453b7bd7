"""HALs for the crypto, telemetry and OTA bindings (private).

* :func:`system_hal` is a HAL filled by hand whose random source is
  :func:`os.urandom` and whose clocks are :func:`time.time` and
  :func:`time.monotonic`: what key generation, nonces, random bytes and the JWT
  provider need, without a state directory.
* :class:`PosixHal` is libiotkit's POSIX HAL on a state directory (key-value
  store, firmware slots): what envelope sealing (its nonce counter) and the OTA
  client need.
* :class:`MemoryHal` is libiotkit's memory HAL, a test aid (deterministic,
  NOT cryptographically strong random; a manual clock; power cuts).

Anything that takes a HAL (``hal=`` arguments) goes through :func:`resolve`,
which accepts one of these objects, an object with a ``_hal`` attribute (the
cdata ``iotkit_hal_t *``, or one of these objects), or an object with a
``_dev`` attribute (a device binding) when the extension declares
``iotkit_device_hal()``.
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any, Optional, Tuple

from . import errors
from ._native import c_str, ffi, lib, py_str

__all__ = ["Hal", "PosixHal", "MemoryHal", "system_hal", "resolve"]


@ffi.def_extern(error=-24)  # IOTKIT_ERR_INTERNAL if os.urandom fails
def _iotkit_pyhal_random(ctx: Any, buf: Any, length: int) -> int:
    if length:
        ffi.memmove(buf, os.urandom(length), length)
    return 0


@ffi.def_extern(error=0)
def _iotkit_pyhal_wall_ms(ctx: Any) -> int:
    return time.time_ns() // 1000000


@ffi.def_extern(error=0)
def _iotkit_pyhal_monotonic_ms(ctx: Any) -> int:
    return time.monotonic_ns() // 1000000


class Hal:
    """A HAL the library made (POSIX or memory), freed with :meth:`close`.

    ``_hal`` is the cdata ``iotkit_hal_t *``; it must outlive every handle that
    references it, which the classes of this package ensure by keeping the
    :class:`Hal` object alive.
    """

    _hal: Any

    def __init__(self, ptr: Any) -> None:
        self._hal = ffi.gc(ptr, lib.iotkit_hal_free)

    def close(self) -> None:
        """Drop this object's reference; the HAL is freed when no handle uses it any more."""
        self._hal = None

    def _ptr(self) -> Any:
        if self._hal is None:
            raise errors.error_for(lib.IOTKIT_ERR_STATE, "the HAL is closed")
        return self._hal

    def kv_get(self, key: str) -> Optional[bytes]:
        """The value stored under @p key in the HAL's key-value store, or None if absent."""
        h = self._ptr()
        k = c_str(key)
        n = ffi.new("size_t *")
        rc = h.kv_get(h.ctx, k, ffi.NULL, 0, n)
        if rc == lib.IOTKIT_ERR_NOT_FOUND:
            return None
        if rc not in (lib.IOTKIT_OK, lib.IOTKIT_ERR_BUFFER_TOO_SMALL):
            errors.check(rc)
        buf = ffi.new("uint8_t[]", max(n[0], 1))
        errors.check(h.kv_get(h.ctx, k, buf, n[0], n))
        return bytes(ffi.buffer(buf, n[0]))

    def kv_set(self, key: str, value: bytes) -> None:
        """Store @p value under @p key (atomically and durably)."""
        h = self._ptr()
        errors.check(h.kv_set(h.ctx, c_str(key), ffi.from_buffer(value), len(value)))

    def boot(self, max_trial_boots: int = 3) -> int:
        """Test aid: run the simulated bootloader (iotkit_hal_boot()); returns the
        ``iotkit_boot_outcome_t`` (0 confirmed, 1 trial start, 2 trial, 3 rolled back)."""
        out = ffi.new("iotkit_boot_outcome_t *")
        errors.check(lib.iotkit_hal_boot(self._ptr(), max_trial_boots, out))
        return int(out[0])


class PosixHal(Hal):
    """libiotkit's POSIX HAL on @p state_dir (created if missing, mode 0700)."""

    def __init__(self, state_dir: str, *, slot_capacity: int = 0,
                 log_level: int = 1) -> None:
        cfg = ffi.new("iotkit_hal_posix_config_t *")
        lib.iotkit_hal_posix_config_init(cfg)
        sd = c_str(os.fspath(state_dir))
        cfg.state_dir = sd
        if slot_capacity:
            cfg.slot_capacity = slot_capacity
        cfg.log_level = log_level
        out = ffi.new("iotkit_hal_t **")
        errors.check(lib.iotkit_hal_posix_new(cfg, out), lambda: "state directory %s" % state_dir)
        super().__init__(out[0])
        self.state_dir = os.fspath(state_dir)


class MemoryHal(Hal):
    """Test aid: libiotkit's memory HAL (state in RAM, deterministic random, optional manual clock)."""

    def __init__(self, *, slot_capacity: int = 0, seed: int = 0, manual_clock: bool = False) -> None:
        cfg = ffi.new("iotkit_hal_memory_config_t *")
        lib.iotkit_hal_memory_config_init(cfg)
        if slot_capacity:
            cfg.slot_capacity = slot_capacity
        cfg.seed = seed
        cfg.manual_clock = manual_clock
        out = ffi.new("iotkit_hal_t **")
        errors.check(lib.iotkit_hal_memory_new(cfg, out))
        super().__init__(out[0])

    def advance(self, ms: int) -> None:
        """Move the manual clock forward by @p ms milliseconds."""
        errors.check(lib.iotkit_hal_memory_advance(self._ptr(), ms))

    def power_cut(self) -> None:
        """Simulate a power cut (un-synced writes are dropped)."""
        errors.check(lib.iotkit_hal_memory_power_cut(self._ptr()))

    def power_restore(self) -> None:
        """Restore power after a cut, as after a reboot."""
        errors.check(lib.iotkit_hal_memory_power_restore(self._ptr()))

    @property
    def reboot_count(self) -> int:
        """Number of reboots requested through this HAL."""
        return int(lib.iotkit_hal_memory_reboot_count(self._ptr()))

    @property
    def log(self) -> str:
        """The log lines captured so far."""
        return py_str(lib.iotkit_hal_memory_log(self._ptr()))


_system_lock = threading.Lock()
_system: Any = None


def system_hal() -> Any:
    """The process-wide hand-filled HAL (cdata ``iotkit_hal_t *``): os.urandom, time.time, time.monotonic."""
    global _system
    with _system_lock:
        if _system is None:
            h = ffi.new("iotkit_hal_t *")
            lib.iotkit_hal_init(h)
            h.random = lib._iotkit_pyhal_random
            h.wall_ms = lib._iotkit_pyhal_wall_ms
            h.monotonic_ms = lib._iotkit_pyhal_monotonic_ms
            _system = h
        return _system


def resolve(obj: Any) -> Tuple[Any, Any]:
    """(cdata ``iotkit_hal_t *``, the object to keep alive) for a ``hal=`` argument (None gives (NULL, None))."""
    if obj is None:
        return ffi.NULL, None
    if isinstance(obj, Hal):
        return obj._ptr(), obj
    if isinstance(obj, ffi.CData):
        if ffi.typeof(obj) not in (ffi.typeof("iotkit_hal_t *"), ffi.typeof("const iotkit_hal_t *")):
            raise TypeError("expected a cdata iotkit_hal_t *, not %s" % ffi.typeof(obj).cname)
        return obj, obj
    inner = getattr(obj, "_hal", None)
    if inner is not None:
        ptr, _ = resolve(inner)
        return ptr, obj
    dev = getattr(obj, "_dev", None)
    if dev is not None and hasattr(lib, "iotkit_device_hal"):
        if not dev:
            raise errors.error_for(lib.IOTKIT_ERR_STATE, "the device is closed")
        return ffi.cast("iotkit_hal_t *", lib.iotkit_device_hal(dev)), obj
    raise TypeError("expected a HAL (iotkit._hals.Hal, an object with _hal, or a device), not %s"
                    % type(obj).__name__)
