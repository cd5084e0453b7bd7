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
cdata ``iotkit_hal_t *``, or one of these objects), or a device binding (the
Device of :mod:`iotkit.device`, or any object with a ``_dev`` attribute) when
the extension declares ``iotkit_device_hal()``: calls through a device's HAL
hold the device open (:class:`DeviceRef`).
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Any, Iterator, Optional

from . import errors
from ._native import c_str, ffi, lib, py_str

__all__ = ["Hal", "PosixHal", "MemoryHal", "system_hal", "resolve", "HalRef", "DeviceRef"]


@ffi.def_extern(error=int(lib.IOTKIT_ERR_INTERNAL))  # if os.urandom fails
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


def _route_logs(cfg: Any, posix: bool) -> None:
    """Send the HAL's log lines to :mod:`logging` (logger "iotkit") through the
    Device binding's sink (iotkit/_log.py) when this build has it; else they
    go to stderr, warnings and errors only."""
    try:
        from . import _log  # type: ignore[attr-defined]
    except ImportError:
        _log = None
    if _log is None or not hasattr(lib, "_iotkit_py_log"):
        cfg.log_level = lib.IOTKIT_LOG_WARN
        return
    cfg.log_level = _log.c_level()
    cfg.log_cb = lib._iotkit_py_log
    cfg.log_user = ffi.NULL
    if posix:
        cfg.log_fd = -1


class PosixHal(Hal):
    """libiotkit's POSIX HAL on @p state_dir (created if missing, mode 0700)."""

    def __init__(self, state_dir: str, *, slot_capacity: int = 0) -> None:
        cfg = ffi.new("iotkit_hal_posix_config_t *")
        lib.iotkit_hal_posix_config_init(cfg)
        sd = c_str(os.fspath(state_dir))
        cfg.state_dir = sd
        if slot_capacity:
            cfg.slot_capacity = slot_capacity
        _route_logs(cfg, True)
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
        _route_logs(cfg, False)
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


class DeviceRef:
    """Guarded access to the C device of a device binding (private).

    Accepts the Device of :mod:`iotkit.device` (its ``_core`` guards the
    pointer: :meth:`use` holds ``_core.acquire()``/``release()`` so that
    ``close()`` waits for the call and a closed device raises StateError) or
    any object whose ``_dev`` attribute is the cdata ``iotkit_device_t *``
    (None or NULL once closed).
    """

    def __init__(self, device: Any) -> None:
        core = getattr(device, "_core", None)
        if core is not None and hasattr(core, "acquire") and hasattr(core, "release"):
            self.core: Any = core
        elif hasattr(device, "_dev"):
            self.core = None
        else:
            raise TypeError("expected a device binding (iotkit.Device, or an object with _dev), not %s"
                            % type(device).__name__)
        self.device = device

    @contextlib.contextmanager
    def use(self) -> Iterator[Any]:
        """The cdata ``iotkit_device_t *``, valid inside the with-block."""
        if self.core is not None:
            dev = self.core.acquire()
            try:
                yield dev
            finally:
                self.core.release()
            return
        dev = getattr(self.device, "_dev", None)
        if dev is None:
            raise errors.error_for(lib.IOTKIT_ERR_STATE, "the device is closed")
        yield dev

    def is_open(self) -> bool:
        """Whether the device still has its C handle (not closed)."""
        if self.core is not None:
            return not getattr(self.core, "closing", False) and bool(getattr(self.core, "dev", ffi.NULL))
        return bool(getattr(self.device, "_dev", None))


class HalRef:
    """A resolved ``hal=`` argument (private): ``ptr`` (cdata ``iotkit_hal_t *``
    or NULL), what keeps it alive, and :meth:`use`, which guards every call
    that may reach the HAL (for a device's HAL: the device stays open during
    the call, else StateError)."""

    def __init__(self, ptr: Any, keep: Any, device: Optional[DeviceRef] = None) -> None:
        self.ptr = ptr
        self.keep = keep
        self.device = device

    @contextlib.contextmanager
    def use(self) -> Iterator[Any]:
        """The HAL pointer, valid inside the with-block."""
        if self.device is None:
            yield self.ptr
            return
        with self.device.use():
            yield self.ptr


def resolve(obj: Any) -> HalRef:
    """The :class:`HalRef` of a ``hal=`` argument: None (NULL), a :class:`Hal`,
    a cdata ``iotkit_hal_t *`` (the caller keeps it alive), an object with a
    ``_hal`` attribute holding one of these, or a device binding (its HAL,
    through iotkit_device_hal(), usable while the device is open)."""
    if obj is None:
        return HalRef(ffi.NULL, None)
    if isinstance(obj, Hal):
        p = obj._ptr()
        return HalRef(p, p)  # the gc'd cdata: the HAL lives while it is referenced
    if isinstance(obj, ffi.CData):
        if ffi.typeof(obj) not in (ffi.typeof("iotkit_hal_t *"), ffi.typeof("const iotkit_hal_t *")):
            raise TypeError("expected a cdata iotkit_hal_t *, not %s" % ffi.typeof(obj).cname)
        return HalRef(ffi.cast("iotkit_hal_t *", obj), obj)
    inner = getattr(obj, "_hal", None)
    if inner is not None:
        ref = resolve(inner)
        return HalRef(ref.ptr, (ref.keep, obj), ref.device)
    if getattr(obj, "_core", None) is not None or hasattr(obj, "_dev"):
        if not hasattr(lib, "iotkit_device_hal"):
            raise errors.error_for(lib.IOTKIT_ERR_UNSUPPORTED, "this build does not declare iotkit_device_hal()")
        dref = DeviceRef(obj)
        with dref.use() as dev:
            if not dev:
                raise errors.error_for(lib.IOTKIT_ERR_STATE, "the device is closed")
            ptr = ffi.cast("iotkit_hal_t *", lib.iotkit_device_hal(dev))
        return HalRef(ptr, obj, dref)
    raise TypeError("expected a HAL (iotkit._hals.Hal, an object with _hal, or a device), not %s"
                    % type(obj).__name__)
