"""The device: a connection to the cloud with durable telemetry, reported and
desired state, commands and events (``iotkit_device_*`` of libiotkit).

Quick start::

    import iotkit

    dev = iotkit.Device("sensor-1", "mqtt://127.0.0.1:1883", state_dir="/var/lib/sensor")

    @dev.command("ping")
    def ping(params):
        return {"pong": True}

    with dev:
        dev.connect()
        dev.send_telemetry({"temp": 21.5})
        while True:
            dev.poll(1.0)

Two ways to drive a device:

* **Explicit polling** (``connect()`` then ``poll()`` in a loop of yours): every
  callback runs in the thread that calls ``connect()``, ``poll()``,
  ``disconnect()`` or ``close()``. An exception raised by a callback is captured
  and re-raised by that call when the C call returns (one exception per call;
  more wait for the following calls).
* **Background loop** (``start()`` ... ``stop()``): a thread of the library polls
  and reconnects; callbacks run in that thread. There is no Python caller to
  give an exception to, so it is logged at once (logger ``"iotkit"``, with its
  traceback) and re-raised by the next ``stop()`` or ``close()``.

``asyncio`` users take :class:`iotkit.aio.Device` instead.

Thread-safety: ``send_telemetry``, ``publish``, ``report``, ``event``,
``subscribe`` (with the background loop), the properties and the callback
setters may be called from any thread, also from inside callbacks.
``connect``, ``disconnect``, ``poll``, ``start``, ``stop`` and ``close`` belong
to one controlling thread; from inside a callback of the same device they raise
:class:`~iotkit.StateError` and change nothing. ``close()`` waits for calls
running in other threads to return; later calls raise ``StateError``.
"""
from __future__ import annotations

import json
import os
import re
import weakref
from dataclasses import dataclass, fields
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple, Union

from . import _log, errors
from ._core import CommandError, CommandRequest, _Core, _error, _finalize, _json_dumps, _live, _live_lock
from ._log import logger
from ._native import ffi, lib

__all__ = [
    "Device", "TLS", "Desired", "TelemetryStats", "QueueStats", "CommandError", "CommandRequest",
    "FD_READ", "FD_WRITE",
]

#: Bit of :meth:`Device.fd_events`: watch the descriptor for readability.
FD_READ: int = int(lib.IOTKIT_FD_READ)
#: Bit of :meth:`Device.fd_events`: watch the descriptor for writability.
FD_WRITE: int = int(lib.IOTKIT_FD_WRITE)

Payload = Union[bytes, bytearray, memoryview, str]
ConnectionCallback = Callable[[bool, Optional[errors.IotkitError], str], Any]
MessageCallback = Callable[[str, bytes], Any]
DeliveryCallback = Callable[[int, Optional[errors.IotkitError]], Any]
DesiredCallback = Callable[[Dict[str, Any], int], Any]
FdCallback = Callable[[int, int], Any]
CredentialsCallback = Callable[[], Optional[Tuple[Optional[str], Optional[str]]]]

_DEFAULT_PREFIX = "iotkit/v1"
_MAX_DEVICE_ID = int(lib.iotkit_limit(1)) or 128  # IOTKIT_LIMIT_MAX_DEVICE_ID
_SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+\Z")


# ------------------------------------------------------------------ values --

@dataclass(frozen=True)
class TLS:
    """TLS options for ``mqtts://`` (and the other secure schemes).

    ``ca_file``/``ca_dir``: the CAs that sign the server's certificate (the
    system's when both are None); ``cert_file``/``key_file``: a client certificate
    and key (PEM) for mutual TLS; ``verify_peer``: check the server's chain and
    host name (keep it True outside tests: turning it off logs a warning on every
    connect). A plain ``dict`` with these keys is accepted too.
    """

    ca_file: Optional[str] = None
    cert_file: Optional[str] = None
    key_file: Optional[str] = None
    verify_peer: bool = True
    ca_dir: Optional[str] = None


class Desired(NamedTuple):
    """The last applied desired state: ``state`` (a dict, ``{}`` if none) and its ``version`` (0 if none)."""

    state: Dict[str, Any]
    version: int


@dataclass(frozen=True)
class QueueStats:
    """Counters of the durable telemetry queue (all zero without one): see ``iotkit_telemetry_queue_stats_t``.

    ``pending`` is the number of messages stored and not yet confirmed: 0 means
    everything accepted so far has been delivered (or dropped, see the ``dropped_*``
    counters)."""

    queued: int = 0
    sent: int = 0
    acked: int = 0
    retried: int = 0
    dropped_oldest: int = 0
    dropped_newest: int = 0
    refused: int = 0
    dropped_corrupt: int = 0
    corrupt: int = 0
    corrupt_bytes: int = 0
    pending: int = 0
    in_flight: int = 0
    bytes: int = 0
    next_seq: int = 0


@dataclass(frozen=True)
class TelemetryStats:
    """Telemetry counters of a device since it was created (:meth:`Device.telemetry_stats`)."""

    durable: bool
    """Whether the device keeps telemetry in a durable queue."""
    accepted: int
    """Messages accepted by send_telemetry."""
    sent_live: int
    """Sent at once when accepted."""
    sent_backlog: int
    """Re-sent from the queue (after a loss, a restart, or a full in-flight window)."""
    confirmed: int
    """Deliveries confirmed by the transport."""
    failed: int
    """Delivery failures reported by the transport (kept for a re-send)."""
    queue: QueueStats
    """The durable queue's own counters."""


_QUEUE_FIELDS = [f.name for f in fields(QueueStats)]
# iotkit_telemetry_queue_stats_t (size frozen, every field uint64_t) follows "failed"
# in iotkit_device_telemetry_stats_t; 20_device.h leaves it out (see there).
_QUEUE_OFFSET = ffi.offsetof("iotkit_device_telemetry_stats_t", "failed") + ffi.sizeof("uint64_t")
_QUEUE_COUNT = min(len(_QUEUE_FIELDS),
                   (ffi.sizeof("iotkit_device_telemetry_stats_t") - _QUEUE_OFFSET) // ffi.sizeof("uint64_t"))


# ------------------------------------------------------------ the device --

def _ms(seconds: Optional[float], what: str, minimum: int = 1) -> int:
    if seconds is None:
        return 0
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError("%s must be a number of seconds" % what)
    ms = int(round(seconds * 1000))
    if ms < minimum or ms > 0xFFFFFFFF:
        raise _error(lib.IOTKIT_ERR_INVALID_ARG, "%s out of range: %r s" % (what, seconds))
    return ms


def _opt_str(value: Optional[Union[str, "os.PathLike[str]"]], what: str, keep: List[Any]) -> Any:
    if value is None:
        return ffi.NULL
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError("%s must be a str, not %s" % (what, type(value).__name__))
    data = os.fsencode(value) if isinstance(value, os.PathLike) else value.encode("utf-8")
    if b"\0" in data:
        raise _error(lib.IOTKIT_ERR_INVALID_ARG, "%s contains a NUL character" % what)
    c = ffi.new("char[]", data)
    keep.append(c)
    return c


_send_telemetry = lib._iotkit_py_send_telemetry
_publish = lib._iotkit_py_publish


def _buffer(data: Any) -> Any:
    """A bytearray or memoryview as a cdata over its memory (no copy), or bytes for a
    memoryview that is not contiguous; the caller keeps @p data alive during the call."""
    if isinstance(data, memoryview) and not data.c_contiguous:
        return data.tobytes()
    return ffi.from_buffer(data)


def _bytes_like(data: Any) -> Any:
    """What C gets for bytes, str (UTF-8) or a bytearray/memoryview (a buffer); None for another type."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytearray, memoryview)):
        return _buffer(data)
    return None


def _telemetry_payload(data: Any, encoding: Optional[str]) -> Any:
    """What send_telemetry() sends for @p data that is not a batch: bytes or a buffer."""
    if isinstance(data, dict):
        if encoding not in (None, "json"):
            raise _error(lib.IOTKIT_ERR_INVALID_ARG, "a dict is sent as JSON; give a batch or a list of "
                                                     "points for %r" % (encoding,))
        return _json_dumps(data, "telemetry").encode("utf-8")
    if encoding is not None:
        raise _error(lib.IOTKIT_ERR_INVALID_ARG, "bytes and str are sent unchanged: encoding must be None")
    raw = _bytes_like(data)
    if raw is None:
        raise TypeError("telemetry must be bytes, str, a dict, a batch or a list of points, not %s"
                        % type(data).__name__)
    return raw


def _payload(data: Any, what: str = "payload") -> Any:
    raw = _bytes_like(data)
    if raw is not None:
        return raw
    if isinstance(data, (dict, list)):
        return _json_dumps(data, what).encode("utf-8")
    raise TypeError("%s must be bytes, str or a JSON dict/list, not %s" % (what, type(data).__name__))


_FORMATS = {"json": 0, "senml-json": 1, "senml-cbor": 2}


class Device:
    """A device of libiotkit: one connection to the cloud (MQTT, CoAP or HTTP by
    the URI's scheme) with durable telemetry, reported and desired state,
    commands and events.

    Creating a device touches no network: call :meth:`connect` (then
    :meth:`poll` in your loop) or :meth:`start` (a background loop). Use it as a
    context manager, or call :meth:`close`, to end the session cleanly and free
    it; a device that is garbage-collected or still open at interpreter exit is
    closed for you (quietly: no callbacks run). A device whose background loop
    runs is kept alive until :meth:`stop` or :meth:`close`.

    Storage (the HAL): with ``state_dir`` the device keeps its state in that
    directory (POSIX HAL): the durable telemetry queue, the last desired state
    and the telemetry sequence numbers survive restarts. Without it everything
    lives in memory (the memory HAL): telemetry is still queued across
    reconnections, but lost when the process ends; use ``state_dir`` in
    production (the memory HAL is libiotkit's test aid; its random numbers, used
    for reconnect jitter, are seeded from ``os.urandom``).

    Log lines of the library go to the :mod:`logging` logger ``"iotkit"``.

    Callbacks (``on_connection``, ``on_message``, ``on_delivery``,
    ``on_desired``, ``on_fd``, ``on_credentials``, command handlers) run in the
    thread that calls :meth:`connect`, :meth:`poll`, :meth:`disconnect` or
    :meth:`close`, or in the background loop's thread after :meth:`start`. An
    exception a callback raises is never swallowed: it is re-raised by that call
    (polling), or logged with its traceback and re-raised by :meth:`stop` or
    :meth:`close` (background loop). :meth:`close` (and ``stop``, ``poll``,
    ``connect``, ``disconnect``) from inside a callback of the same device raises
    :class:`~iotkit.StateError` and changes nothing.

    Errors raise the classes of :mod:`iotkit.errors`, with ``.detail`` giving
    the device's last-error text (for refusals of arguments or state: the call
    refused): see each method.
    """

    def __init__(self, device_id: str, uri: str, *, state_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
                 username: Optional[str] = None, password: Optional[str] = None, keepalive: int = 60,
                 mqtt_version: int = 311, connect_timeout: float = 10.0, topic_prefix: Optional[str] = None,
                 telemetry_qos: int = 1, tls: Optional[Union[TLS, Mapping[str, Any]]] = None,
                 auto_reconnect: bool = True, clean_session: bool = True, max_payload: Optional[int] = None,
                 reconnect_min: Optional[float] = None, reconnect_max: Optional[float] = None,
                 command_timeout: Optional[float] = None, telemetry_durable: bool = True,
                 telemetry_queue_max_bytes: Optional[int] = None, telemetry_drain_rate: Optional[int] = None,
                 telemetry_sync_interval: Optional[float] = None, e2e_key: Optional[bytes] = None,
                 e2e_key_id: Optional[str] = None, log_level: Optional[int] = None) -> None:
        """Create a device (no network yet).

        :param device_id: 1..128 bytes of ``[A-Za-z0-9._-]``.
        :param uri: the endpoint, e.g. ``"mqtt://127.0.0.1:1883"``, ``"mqtts://host:8883"``.
        :param state_dir: directory for durable state (created if missing; its parent must exist),
            or None to keep everything in memory (see the class documentation).
        :param username: user name (overrides the URI's).
        :param password: password or token (overrides the URI's); never logged.
        :param keepalive: MQTT keepalive in seconds (0 turns it off).
        :param mqtt_version: 311 or 5.
        :param connect_timeout: seconds :meth:`connect` waits for the session (also bounds each wait of
            :meth:`disconnect`).
        :param topic_prefix: topic prefix (default ``"iotkit/v1"``).
        :param telemetry_qos: 0, 1 or 2.
        :param tls: :class:`TLS` options (or a dict of them) for secure schemes.
        :param auto_reconnect: re-establish a lost connection with backoff.
        :param clean_session: start a clean MQTT session.
        :param max_payload: largest payload accepted, in bytes (default 256 KiB).
        :param reconnect_min: upper bound of the first reconnect delay, in seconds (default 1).
        :param reconnect_max: largest reconnect delay, in seconds (default 60).
        :param command_timeout: time a command handler has to answer, in seconds (default 30).
        :param telemetry_durable: keep telemetry in the store-and-forward queue (default True).
        :param telemetry_queue_max_bytes: most bytes the queue may hold (default 16 MiB).
        :param telemetry_drain_rate: most backlog messages re-sent per second (default 100).
        :param telemetry_sync_interval: seconds between syncs of the queue (default 1).
        :param e2e_key: a 32-byte AES-256 key: end-to-end payload envelopes (docs/protocol.md).
        :param e2e_key_id: the key's id (1..32 bytes of ``[A-Za-z0-9._-]``), required with ``e2e_key``.
        :param log_level: lowest :mod:`logging` level the library produces (default: the ``"iotkit"``
            logger's effective level when the device is created).
        :raises InvalidArgumentError: a bad device id, URI, scheme, QoS, MQTT version, prefix, TLS or
            e2e option, or a value out of range.
        :raises TypeError: an argument of the wrong type.
        :raises IotkitError: the state directory cannot be used (``IOTKIT_ERR_IO``).
        """
        if not isinstance(device_id, str):
            raise TypeError("device_id must be a str, not %s" % type(device_id).__name__)
        if not isinstance(uri, str):
            raise TypeError("uri must be a str, not %s" % type(uri).__name__)
        for what, val in (("keepalive", keepalive), ("mqtt_version", mqtt_version),
                          ("telemetry_qos", telemetry_qos)):
            if isinstance(val, bool) or not isinstance(val, int):
                raise TypeError("%s must be an int" % what)
        if not 0 <= keepalive <= 0xFFFF:
            raise _error(lib.IOTKIT_ERR_INVALID_ARG, "keepalive must be 0..65535 s, not %d" % keepalive)
        keep: List[Any] = []
        cfg = ffi.new("iotkit_device_config_t *")
        lib.iotkit_device_config_init(cfg)
        cfg.device_id = _opt_str(device_id, "device_id", keep)
        cfg.uri = _opt_str(uri, "uri", keep)
        cfg.username = _opt_str(username, "username", keep)
        cfg.password = _opt_str(password, "password", keep)
        cfg.keepalive_s = keepalive
        cfg.clean_session = bool(clean_session)
        cfg.mqtt_version = mqtt_version if -(2 ** 31) <= mqtt_version < 2 ** 31 else -1
        cfg.connect_timeout_ms = _ms(connect_timeout, "connect_timeout")
        if max_payload is not None:
            if isinstance(max_payload, bool) or not isinstance(max_payload, int):
                raise TypeError("max_payload must be an int")
            if not 1 <= max_payload < 2 ** 32:
                raise _error(lib.IOTKIT_ERR_INVALID_ARG, "max_payload out of range: %d" % max_payload)
            cfg.max_payload = max_payload
        if topic_prefix is not None:
            cfg.topic_prefix = _opt_str(topic_prefix, "topic_prefix", keep)
        cfg.telemetry_qos = telemetry_qos if -(2 ** 31) <= telemetry_qos < 2 ** 31 else -1
        self._set_tls(cfg, tls, keep)
        cfg.auto_reconnect = bool(auto_reconnect)
        cfg.reconnect_min_ms = _ms(reconnect_min, "reconnect_min")
        cfg.reconnect_max_ms = _ms(reconnect_max, "reconnect_max")
        cfg.command_timeout_ms = _ms(command_timeout, "command_timeout")
        cfg.telemetry_durable = bool(telemetry_durable)
        if telemetry_queue_max_bytes is not None:
            if not isinstance(telemetry_queue_max_bytes, int) or telemetry_queue_max_bytes < 1:
                raise _error(lib.IOTKIT_ERR_INVALID_ARG, "telemetry_queue_max_bytes must be a positive int")
            cfg.telemetry_queue_max_bytes = telemetry_queue_max_bytes
        if telemetry_drain_rate is not None:
            if not isinstance(telemetry_drain_rate, int) or not 0 <= telemetry_drain_rate < 2 ** 32:
                raise _error(lib.IOTKIT_ERR_INVALID_ARG, "telemetry_drain_rate must be 0 (no limit) or more")
            cfg.telemetry_drain_rate = telemetry_drain_rate
        cfg.telemetry_sync_interval_ms = _ms(telemetry_sync_interval, "telemetry_sync_interval")
        if e2e_key is not None:
            if not isinstance(e2e_key, (bytes, bytearray)):
                raise TypeError("e2e_key must be bytes")
            if len(e2e_key) != 32:
                raise _error(lib.IOTKIT_ERR_INVALID_ARG, "e2e_key must be 32 bytes, not %d" % len(e2e_key))
            key = ffi.new("uint8_t[]", bytes(e2e_key))
            keep.append(key)
            cfg.e2e_key = key
        cfg.e2e_key_id = _opt_str(e2e_key_id, "e2e_key_id", keep)

        prefix = topic_prefix if topic_prefix is not None else _DEFAULT_PREFIX
        core = _Core(device_id, "%s/%s/" % (prefix, device_id))
        level = _log.c_level(log_level)
        hal_out = ffi.new("iotkit_hal_t **")
        if state_dir is not None:
            pc = ffi.new("iotkit_hal_posix_config_t *")
            lib.iotkit_hal_posix_config_init(pc)
            pc.state_dir = _opt_str(state_dir, "state_dir", keep)
            pc.log_level = level
            pc.log_fd = -1
            pc.log_cb = lib._iotkit_py_log
            code = lib.iotkit_hal_posix_new(pc, hal_out)
            if code != lib.IOTKIT_OK:
                raise _error(code, "cannot use the state directory %r" % os.fspath(state_dir))
        else:
            mc = ffi.new("iotkit_hal_memory_config_t *")
            lib.iotkit_hal_memory_config_init(mc)
            mc.seed = int.from_bytes(os.urandom(8), "little") or 1
            mc.log_level = level
            mc.log_cb = lib._iotkit_py_log
            code = lib.iotkit_hal_memory_new(mc, hal_out)
            if code != lib.IOTKIT_OK:  # pragma: no cover - out of memory
                raise _error(code, "cannot create the memory HAL")
        core.hal = hal_out[0]
        cfg.hal = core.hal
        out = ffi.new("iotkit_device_t **")
        code = lib.iotkit_device_new(cfg, out)
        if code != lib.IOTKIT_OK:
            lib.iotkit_hal_free(core.hal)
            core.hal = ffi.NULL
            core.handle = None
            raise _error(code, _new_detail(code, device_id, uri, state_dir))
        core.dev = out[0]
        self._core = core
        self._max_payload = max_payload or int(lib.iotkit_limit(0))  # IOTKIT_LIMIT_MAX_PAYLOAD_DEFAULT
        with _live_lock:
            _live.add(core)
        self._finalizer = weakref.finalize(self, _finalize, core)
        self._finalizer.atexit = False  # _close_all_at_exit does it, before logging shuts down

    @staticmethod
    def _set_tls(cfg: Any, tls: Optional[Union[TLS, Mapping[str, Any]]], keep: List[Any]) -> None:
        if tls is None:
            return
        if isinstance(tls, Mapping):
            unknown = set(tls) - {f.name for f in fields(TLS)}
            if unknown:
                raise _error(lib.IOTKIT_ERR_INVALID_ARG, "unknown TLS options: %s" % ", ".join(sorted(unknown)))
            tls = TLS(**tls)
        if not isinstance(tls, TLS):
            raise TypeError("tls must be an iotkit.TLS or a dict")
        cfg.tls.ca_file = _opt_str(tls.ca_file, "tls.ca_file", keep)
        cfg.tls.ca_dir = _opt_str(tls.ca_dir, "tls.ca_dir", keep)
        cfg.tls.cert_file = _opt_str(tls.cert_file, "tls.cert_file", keep)
        cfg.tls.key_file = _opt_str(tls.key_file, "tls.key_file", keep)
        cfg.tls.verify_peer = bool(tls.verify_peer)

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> "Device":
        """``with Device(...) as dev:`` (does not connect); the block's end calls :meth:`close`."""
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        """Close; if the block raised, a callback exception from close() is logged, not raised over it."""
        if exc_type is None:
            self.close()
            return
        # An exception is on its way: close, but do not hide it behind a callback's.
        try:
            self.close()
        except BaseException:  # noqa: B902
            logger.exception("device %s: close() while leaving the with-block on an exception",
                             self._core.device_id)
        self._core.log_pending("the with-block ended with an exception")

    def close(self) -> None:
        """End the session cleanly (if connected, waiting up to ``connect_timeout``
        for unconfirmed messages) and free the device. Idempotent.

        The background loop is stopped first. The connection callback still runs
        for the goodbye; then every callback is cleared (a callback running in
        another thread is waited for), open command requests are released, and
        nothing of the device can be reached from C any more. Calls made later
        raise :class:`~iotkit.StateError`.

        :raises StateError: when called from inside a callback of this device
            (nothing is changed: the device keeps working).
        :raises BaseException: an exception a callback raised and nobody picked up
            yet (the device is closed anyway).
        """
        core = self._core
        core.close()
        self._finalizer.detach()
        if core.errors:
            raise core.errors.popleft()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._core.closing

    def connect(self) -> None:
        """Connect and wait until the session is up (at most ``connect_timeout``).

        Runs the connection callback before it returns. A desired state stored by
        an earlier run reaches ``on_desired`` first. Success starts connection
        supervision: a lost connection is re-established by :meth:`poll`.

        :raises ConnectionError: nothing listening, name not resolved, TLS failure.
        :raises AuthenticationError: the server refused the credentials.
        :raises TimeoutError: no session within ``connect_timeout``.
        :raises StateError: already connected, the background loop runs, or called
            from inside a callback of this device.
        """
        core = self._core
        dev = core.acquire()
        try:
            code = lib.iotkit_device_connect(dev)
        finally:
            core.release()
        core.check(code, "connect()" + self._in_callback_note())

    def disconnect(self) -> None:
        """End the session cleanly: publish the offline status, wait (at most
        ``connect_timeout``) until every message sent is confirmed, close. Ends
        connection supervision. The connection callback runs with ``reason`` None.

        :raises ConnectionError: not connected.
        :raises TimeoutError: the flush or the close took too long (disconnected anyway).
        :raises StateError: the background loop runs, or from inside a callback.
        """
        core = self._core
        dev = core.acquire()
        try:
            code = lib.iotkit_device_disconnect(dev)
        finally:
            core.release()
        core.check(code, "disconnect()" + self._in_callback_note())

    def poll(self, timeout: float = 0.1) -> None:
        """Do network work for at most ``timeout`` seconds and run due callbacks in
        this thread (messages, commands, deliveries, reconnections).

        :raises ConnectionError: before the first successful :meth:`connect`.
        :raises StateError: the background loop runs, or from inside a callback.
        :raises InvalidArgumentError: a negative timeout.
        :raises BaseException: what a callback raised during this call.
        """
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError("timeout must be a number of seconds")
        ms = int(timeout * 1000)
        if ms > 0x7FFFFFFF:
            ms = 0x7FFFFFFF
        core = self._core
        dev = core.acquire()
        try:
            code = lib.iotkit_device_poll(dev, ms)
        finally:
            core.release()
        core.check(code, "poll(%r)" % timeout + self._in_callback_note())

    def start(self) -> None:
        """Run the loop in a background thread of the library, which connects (if
        needed, with backoff) and keeps the connection. Callbacks then run in that
        thread; exceptions they raise are logged and re-raised by :meth:`stop` or
        :meth:`close`. The device is kept alive while the loop runs.

        :raises StateError: already started.
        """
        core = self._core
        dev = core.acquire()
        try:
            core.background = True  # before the first callback can run
            code = lib.iotkit_device_start(dev)
            if code != lib.IOTKIT_OK:
                core.background = False
            else:
                core.keep = self
        finally:
            core.release()
        if code != lib.IOTKIT_OK:
            raise core.error(code, "start(): the loop runs already" if code == lib.IOTKIT_ERR_STATE else "start()")

    def stop(self) -> None:
        """Stop the background loop and wait for it (a callback it is running
        finishes first). The connection stays as it is.

        :raises StateError: not started, or called from inside a callback (the loop goes on).
        :raises BaseException: the first exception a callback raised in the loop.
        """
        core = self._core
        dev = core.acquire()
        try:
            code = lib.iotkit_device_stop(dev)
            if code == lib.IOTKIT_OK:
                core.background = False
                core.keep = None
        finally:
            core.release()
        if code != lib.IOTKIT_OK:
            raise core.error(code, "stop()" + (self._in_callback_note() or ": the loop is not running"))
        if core.errors:
            raise core.errors.popleft()

    # ------------------------------------------------------------ sending
    def send_telemetry(self, data: Any, *, encoding: Optional[str] = None) -> int:
        """Send telemetry on ``<prefix>/<device id>/telemetry``.

        ``data`` is one of:

        * ``bytes`` (or bytearray, memoryview) or ``str`` (UTF-8): sent unchanged
          (``encoding`` must be None);
        * a ``dict``: sent as a compact JSON object (``encoding`` None or ``"json"``);
        * a telemetry batch of :mod:`iotkit.telemetry` (anything with a
          ``_iotkit_batch`` attribute holding its ``iotkit_telemetry_batch_t *``),
          or a list of points (turned into ``iotkit.telemetry.Batch(points)``):
          encoded by the library in ``encoding`` (``"json"``, the default,
          ``"senml-json"`` or ``"senml-cbor"``) with the next telemetry sequence
          number.

        With the durable queue (the default) the message is stored first and sent
        if connected; it stays stored until its delivery is confirmed, and is
        re-sent after reconnections and restarts (``state_dir``).

        :returns: the message id that ``on_delivery`` will name, or 0 when the
            message was stored but not sent now (offline, or the in-flight window
            full): it goes out later under an id the application does not see;
            follow it with :meth:`telemetry_stats` (``queue.pending``).
        :raises TooLargeError: larger than ``max_payload``.
        :raises ConnectionError: not connected, without the durable queue.
        :raises QueueFullError: the queue is full and refuses messages.
        :raises TypeError: a ``data`` of another type, or not JSON-serializable.
        :raises InvalidArgumentError: an unknown ``encoding``, NaN in a dict.
        """
        if type(data) is bytes and encoding is None:  # the common case first: nothing to look up
            payload: Any = data
        else:
            batch = getattr(data, "_iotkit_batch", None)
            if batch is None and isinstance(data, (list, tuple)):
                batch, data = _batch_of_points(data)
            if batch is not None:
                fmt = _FORMATS.get(encoding or "json")
                if fmt is None:
                    raise _error(lib.IOTKIT_ERR_INVALID_ARG, "unknown telemetry encoding %r (json, senml-json, "
                                                             "senml-cbor)" % (encoding,))
                return self._send_batch(batch, fmt, data)
            payload = _telemetry_payload(data, encoding)
        core = self._core
        dev = core.acquire()
        try:
            got = _send_telemetry(dev, payload, len(payload))
        finally:
            core.release()
        if got < 0:
            raise core.error(got, "send_telemetry() of %d bytes (max_payload %d)" % (len(payload), self._max_payload))
        return got

    def _send_batch(self, batch: Any, fmt: int, owner: Any) -> int:
        core = self._core
        mid = ffi.new("uint32_t *")
        seq = ffi.new("uint64_t *")
        dev = core.acquire()
        try:
            code = lib.iotkit_device_send_batch(dev, batch, fmt, seq, mid)
        finally:
            core.release()
        del owner  # kept alive (it owns the batch) until here
        if code != lib.IOTKIT_OK:
            raise core.error(code, "send_telemetry() of a batch")
        return int(mid[0])

    def publish(self, suffix: str, payload: Any, qos: int = 1, retain: bool = False) -> int:
        """Publish ``payload`` (bytes, str, or a dict/list sent as JSON) on
        ``<prefix>/<device id>/<suffix>``.

        :returns: the message id that ``on_delivery`` will name.
        :raises InvalidArgumentError: a bad suffix (empty segment, ``+``/``#``, ``.``/``..``) or qos.
        :raises ConnectionError: not connected. :raises TooLargeError: larger than ``max_payload``.
        """
        data = _payload(payload)
        s = _c_name(suffix, "suffix")
        core = self._core
        dev = core.acquire()
        try:
            got = _publish(dev, s, data, len(data), _qos(qos), bool(retain))
        finally:
            core.release()
        if got < 0:
            raise core.error(got, "publish() on %r of %d bytes at qos %r" % (suffix, len(data), qos))
        return got

    def subscribe(self, suffix: str, qos: int = 1) -> None:
        """Subscribe to ``<prefix>/<device id>/<suffix>`` (``+`` and ``#`` allowed as
        whole segments). Messages reach ``on_message``; the subscription is made
        again after every reconnection. With the background loop the loop makes it.

        :raises InvalidArgumentError: a bad suffix or qos.
        :raises ConnectionError: not connected and no background loop.
        """
        s = _c_name(suffix, "suffix")
        core = self._core
        dev = core.acquire()
        try:
            code = lib.iotkit_device_subscribe(dev, s, _qos(qos))
        finally:
            core.release()
        if code != lib.IOTKIT_OK:
            raise core.error(code, "subscribe() to %r at qos %r" % (suffix, qos))

    def event(self, type: str, data: Any = None) -> int:  # noqa: A002 - the protocol's name
        """Publish an event ``{"type":type,"ts":N,"data":data}`` on ``events/<type>`` (QoS 1).

        :param type: 1..64 bytes of ``[A-Za-z0-9._-]``.
        :param data: any JSON value (None sends ``{}``).
        :returns: the message id that ``on_delivery`` will name.
        :raises InvalidArgumentError: a bad type. :raises ConnectionError: not connected
            (events are not queued). :raises TooLargeError: larger than ``max_payload``.
        """
        t = _c_name(type, "event type")
        text = ffi.NULL if data is None else _json_dumps(data, "event data").encode("utf-8")
        mid = ffi.new("uint32_t *")
        core = self._core
        dev = core.acquire()
        try:
            code = lib.iotkit_device_event(dev, t, text, mid)
        finally:
            core.release()
        if code != lib.IOTKIT_OK:
            raise core.error(code, "event() %r" % type)
        return int(mid[0])

    def report_location(self, latitude: float, longitude: float, *, altitude: Optional[float] = None,
                        accuracy: Optional[float] = None, ts_ms: int = 0) -> None:
        """Publish the device's position on its ``location`` channel (QoS 1, retained), as
        ``{"lat":..,"lon":..,"alt":..,"acc":..,"ts":..}``; ``ts_ms`` 0 means now.

        :raises InvalidArgumentError: latitude outside [-90, 90], longitude outside [-180, 180],
            a value that is not finite, a negative accuracy or ts_ms.
        :raises ConnectionError: not connected. :raises TypeError: not numbers.
        """
        loc = ffi.new("iotkit_location_t *")
        for field, what, value in (("latitude", "latitude", latitude), ("longitude", "longitude", longitude),
                                   ("altitude", "altitude", altitude), ("accuracy_m", "accuracy", accuracy)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError("%s must be a number" % what)
            setattr(loc, field, float(value))
        loc.has_altitude = altitude is not None
        loc.has_accuracy = accuracy is not None
        if isinstance(ts_ms, bool) or not isinstance(ts_ms, int):
            raise TypeError("ts_ms must be an int")
        if not -2 ** 63 <= ts_ms < 2 ** 63:
            raise _error(lib.IOTKIT_ERR_INVALID_ARG, "ts_ms out of range: %r" % ts_ms)
        loc.ts_ms = ts_ms
        core = self._core
        dev = core.acquire()
        try:
            code = lib.iotkit_device_report_location(dev, loc)
        finally:
            core.release()
        if code != lib.IOTKIT_OK:
            raise core.error(code, "report_location(%r, %r)" % (latitude, longitude))

    # ------------------------------------------------------------ state
    def report(self, state: Mapping[str, Any]) -> None:
        """Merge ``state`` (a JSON merge patch: keys added or replaced, nested dicts
        merged, None deletes a key) into the reported state and publish the whole
        document, retained, on ``state/reported`` (now if connected, and after
        every reconnection).

        :raises TypeError: not a dict, or not JSON-serializable.
        :raises TooLargeError: the document would exceed ``max_payload`` (left unchanged).
        :raises ConnectionError: the send failed (the document is merged and re-sent on reconnection).
        """
        if not isinstance(state, Mapping):
            raise TypeError("report() takes a dict, not %s" % type(state).__name__)
        text = _json_dumps(dict(state), "reported state").encode("utf-8")
        core = self._core
        dev = core.acquire()
        try:
            code = lib.iotkit_device_report(dev, text)
        finally:
            core.release()
        if code != lib.IOTKIT_OK:
            raise core.error(code, "report() of a %d-byte patch (max_payload %d)" % (len(text), self._max_payload))

    @property
    def reported(self) -> Dict[str, Any]:
        """The whole reported state (a dict)."""
        out = ffi.new("char **")
        core = self._core
        dev = core.acquire()
        try:
            code = lib.iotkit_device_reported(dev, out)
        finally:
            core.release()
        if code != lib.IOTKIT_OK:
            raise core.error(code, "reported")
        try:
            return json.loads(ffi.string(out[0]).decode("utf-8"))
        finally:
            lib.iotkit_free(out[0])

    @property
    def desired(self) -> Desired:
        """The last applied desired state and its version (``Desired({}, 0)`` if none)."""
        out = ffi.new("char **")
        ver = ffi.new("uint64_t *")
        core = self._core
        dev = core.acquire()
        try:
            code = lib.iotkit_device_desired(dev, out, ver)
        finally:
            core.release()
        if code != lib.IOTKIT_OK:
            raise core.error(code, "desired")
        try:
            return Desired(json.loads(ffi.string(out[0]).decode("utf-8")), int(ver[0]))
        finally:
            lib.iotkit_free(out[0])

    # ------------------------------------------------------------ commands
    def command(self, name: str, *, deferred: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: handle command ``name``.

        ::

            @dev.command("set_interval")
            def set_interval(params):
                if not 10 <= params.get("interval_ms", 0) <= 86400000:
                    raise iotkit.CommandError("invalid_params", "interval_ms out of range")
                return {"interval_ms": params["interval_ms"]}

        The handler runs in the polling thread with the parameters (a dict) and
        returns the result (any JSON value; None sends ``{}``). To fail the command
        it raises: :class:`CommandError` gives its code and message; ValueError,
        TypeError and KeyError give ``invalid_params``; any other exception gives
        ``error`` and is logged with its traceback. A result that is not JSON
        fails the command with ``error`` and the TypeError is re-raised as a
        callback exception. With ``deferred=True`` the handler gets a
        :class:`CommandRequest` instead and answers it later, from any thread.

        :raises InvalidArgumentError: a bad name (1..64 bytes of ``[A-Za-z0-9._-]``).
        """
        if not isinstance(name, str):
            raise TypeError("command name must be a str")

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            if not callable(fn):
                raise TypeError("a command handler must be callable")
            self._register_command(name, fn, deferred)
            return fn

        return register

    def _register_command(self, name: str, fn: Callable[..., Any], deferred: bool) -> None:
        core = self._core
        n = _c_name(name, "command name")
        dev = core.acquire()
        try:
            core.commands[name] = (fn, deferred)
            code = lib.iotkit_device_command_register(dev, n, lib._iotkit_py_command, core.handle)
            if code != lib.IOTKIT_OK:
                core.commands.pop(name, None)
        finally:
            core.release()
        if code != lib.IOTKIT_OK:
            raise _error(code, "command name %r: 1..64 bytes of [A-Za-z0-9._-]" % name)

    def remove_command(self, name: str) -> None:
        """Remove the handler of ``name`` (later requests get ``unknown_command``).

        :raises NotFoundError: no handler has that name.
        """
        core = self._core
        n = _c_name(name, "command name")
        dev = core.acquire()
        try:
            code = lib.iotkit_device_command_register(dev, n, ffi.NULL, ffi.NULL)
            if code == lib.IOTKIT_OK:
                core.commands.pop(name, None)
        finally:
            core.release()
        if code != lib.IOTKIT_OK:
            raise _error(code, "no handler for command %r" % name)

    # ------------------------------------------------------------ callbacks
    def _set_callback(self, kind: str, fn: Optional[Callable[..., Any]]) -> None:
        if fn is not None and not callable(fn):
            raise TypeError("the %s callback must be callable or None" % kind)
        core = self._core
        core.acquire()
        try:
            if fn is None:
                core.callbacks.pop(kind, None)
            else:
                core.callbacks[kind] = fn
            core.sync_c(kind)
        finally:
            core.release()

    @property
    def on_connection(self) -> Optional[ConnectionCallback]:
        """``fn(up, reason, detail)``, called when the session goes up (``up`` True,
        ``reason`` None) or down (``reason`` None after :meth:`disconnect`, else the
        :class:`~iotkit.IotkitError` of the cause; ``detail`` its text). Set None to clear."""
        return self._core.callbacks.get("connection")

    @on_connection.setter
    def on_connection(self, fn: Optional[ConnectionCallback]) -> None:
        self._set_callback("connection", fn)

    @property
    def on_message(self) -> Optional[MessageCallback]:
        """``fn(suffix, payload)`` for every message on a channel :meth:`subscribe`\\ d:
        ``suffix`` is the topic below ``<prefix>/<device id>/``, ``payload`` bytes."""
        return self._core.callbacks.get("message")

    @on_message.setter
    def on_message(self, fn: Optional[MessageCallback]) -> None:
        self._set_callback("message", fn)

    @property
    def on_delivery(self) -> Optional[DeliveryCallback]:
        """``fn(msg_id, error)``: message ``msg_id`` (telemetry, publish, event) was
        confirmed (``error`` None) or failed (an :class:`~iotkit.IotkitError`). With
        the background loop it may run before the send that returned the id."""
        return self._core.callbacks.get("delivery")

    @on_delivery.setter
    def on_delivery(self, fn: Optional[DeliveryCallback]) -> None:
        self._set_callback("delivery", fn)

    @property
    def on_desired(self) -> Optional[DesiredCallback]:
        """``fn(delta, version)`` when a newer desired state was applied: ``delta``
        holds only the keys that changed (a removed key as None). Set it before
        connecting: a desired state stored by an earlier run is delivered once, at
        the first connect or start."""
        return self._core.callbacks.get("desired")

    @on_desired.setter
    def on_desired(self, fn: Optional[DesiredCallback]) -> None:
        self._set_callback("desired", fn)

    @property
    def on_fd(self) -> Optional[FdCallback]:
        """``fn(old_fd, new_fd)`` when :meth:`fd` changes (either may be -1), for an external event loop."""
        return self._core.callbacks.get("fd")

    @on_fd.setter
    def on_fd(self, fn: Optional[FdCallback]) -> None:
        self._set_callback("fd", fn)

    @property
    def on_credentials(self) -> Optional[CredentialsCallback]:
        """``fn()`` before every connection attempt: return ``(username, password)``
        to use (None for either keeps it), or None to keep both. Raising fails the attempt."""
        return self._core.callbacks.get("credentials")

    @on_credentials.setter
    def on_credentials(self, fn: Optional[CredentialsCallback]) -> None:
        self._set_callback("credentials", fn)

    # ------------------------------------------------------------ queries
    @property
    def device_id(self) -> str:
        """The device id."""
        return self._core.device_id

    @property
    def connected(self) -> bool:
        """Whether the session is up."""
        core = self._core
        dev = core.acquire()
        try:
            return bool(lib.iotkit_device_is_connected(dev))
        finally:
            core.release()

    @property
    def last_error(self) -> str:
        """The detail of the device's last failure (``""`` if none)."""
        core = self._core
        core.acquire()
        try:
            return core.last_error()
        finally:
            core.release()

    @property
    def e2e_rejected(self) -> int:
        """Incoming messages dropped because they were not envelopes that open under ``e2e_key``."""
        core = self._core
        dev = core.acquire()
        try:
            return int(lib.iotkit_device_e2e_rejected(dev))
        finally:
            core.release()

    def telemetry_stats(self) -> TelemetryStats:
        """The telemetry counters (and the durable queue's) since the device was created."""
        st = ffi.new("iotkit_device_telemetry_stats_t *")
        core = self._core
        dev = core.acquire()
        try:
            code = lib.iotkit_device_telemetry_stats_sized(dev, st, ffi.sizeof(st[0]))
        finally:
            core.release()
        if code != lib.IOTKIT_OK:
            raise core.error(code, "telemetry_stats()")
        q = ffi.cast("uint64_t *", ffi.cast("char *", st) + _QUEUE_OFFSET)
        queue = QueueStats(**{_QUEUE_FIELDS[i]: int(q[i]) for i in range(_QUEUE_COUNT)})
        return TelemetryStats(bool(st.durable), int(st.accepted), int(st.sent_live), int(st.sent_backlog),
                              int(st.confirmed), int(st.failed), queue)

    def fd(self) -> int:
        """The descriptor an external event loop watches, or -1 (see docs/architecture.md,
        "Driving a device from an external loop"); ``on_fd`` says when it changes."""
        core = self._core
        dev = core.acquire()
        try:
            return int(lib.iotkit_device_fd(dev))
        finally:
            core.release()

    def fd_events(self) -> int:
        """What to watch :meth:`fd` for now: :data:`FD_READ` and/or :data:`FD_WRITE`
        (0 without a descriptor or while the background loop runs). Ask again after each poll."""
        core = self._core
        dev = core.acquire()
        try:
            return int(lib.iotkit_device_fd_events(dev))
        finally:
            core.release()

    def next_timeout(self) -> Optional[float]:
        """Seconds an external loop may wait (besides the descriptor) before it must
        call ``poll(0)``; 0 means now, None means nothing is due. Ask again after every poll."""
        core = self._core
        dev = core.acquire()
        try:
            ms = int(lib.iotkit_device_next_timeout_ms(dev))
        finally:
            core.release()
        return None if ms < 0 else ms / 1000.0

    def _in_callback_note(self) -> str:
        return ": called from inside a callback of this device" if self._core.in_own_callback() else ""

    def __repr__(self) -> str:
        core = self._core
        state = "closed" if core.closing else ("background" if core.background else "open")
        return "<iotkit.Device %r %s>" % (core.device_id, state)


def _qos(qos: int) -> int:
    if isinstance(qos, bool) or not isinstance(qos, int):
        raise TypeError("qos must be an int")
    return qos if 0 <= qos <= 2 else -1


def _c_name(value: str, what: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (what, type(value).__name__))
    data = value.encode("utf-8")
    if b"\0" in data:
        raise _error(lib.IOTKIT_ERR_INVALID_ARG, "%s contains a NUL character" % what)
    return data


def _batch_of_points(points: Iterable[Any]) -> Tuple[Any, Any]:
    """(the C batch, its owner) of a list of points, through iotkit.telemetry.Batch."""
    try:
        from .telemetry import Batch  # type: ignore[attr-defined]
    except ImportError:
        raise errors.error_for(lib.IOTKIT_ERR_UNSUPPORTED, "a list of points needs iotkit.telemetry.Batch") \
            from None
    batch = Batch(points)
    return batch._iotkit_batch, batch


def _new_detail(code: int, device_id: str, uri: str, state_dir: Any) -> str:
    if code == lib.IOTKIT_ERR_INVALID_ARG:
        raw = device_id.encode("utf-8")
        if not raw or len(raw) > _MAX_DEVICE_ID or not _SAFE_NAME.match(device_id):
            return "bad device id %r: 1..%d bytes of [A-Za-z0-9._-]" % (device_id, _MAX_DEVICE_ID)
        return "bad configuration (telemetry_qos 0..2, mqtt_version 311 or 5, topic_prefix segments, " \
               "e2e_key with e2e_key_id)"
    if code == lib.IOTKIT_ERR_BAD_URI:
        return "malformed URI %r" % uri
    if code == lib.IOTKIT_ERR_UNKNOWN_SCHEME:
        return "no transport serves the scheme of %r" % uri
    if code == lib.IOTKIT_ERR_IO:
        return "state directory %r unusable" % os.fspath(state_dir)
    return "cannot create device %r" % device_id
