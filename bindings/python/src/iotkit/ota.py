"""Over-the-air updates: signed manifests, trust stores and the OTA client.

Cloud side: describe an image (:class:`Image`, :meth:`Image.of`) and sign it
into a manifest with :func:`sign_manifest`. Device side: parse and verify a
manifest (:class:`Manifest`, :class:`TrustStore`), or hand it to a
:class:`Client`, which checks it, downloads the image into the inactive
firmware slot (resuming after interruptions), verifies it, marks it pending and
asks for a reboot; after the reboot the image runs on trial until
:meth:`Client.confirm`. docs/protocol.md ("OTA") documents the manifest and the
states.

Example (cloud side)::

    from iotkit import crypto, ota
    key = crypto.PrivateKey.load_file("fleet.pem")
    image = ota.Image.of(open("fw.bin", "rb").read(), "thermo-v2", "2.1.0", "https://updates.example.com/fw.bin")
    manifest = ota.sign_manifest(image, key, "fleet-2026")

Example (device side)::

    trust = ota.TrustStore({"fleet-2026": fleet_public_key})
    client = ota.Client(trust, "thermo-v2", "2.0.0", state_dir="/var/lib/thermo",
                        on_status=lambda c, st: print(st.state.label, st.percent))
    client.start(manifest)
    client.run()        # download, verify, mark pending, ask for the reboot

Refusals raise with the C code: a malformed manifest InvalidArgumentError
(``IOTKIT_ERR_OTA_MANIFEST``); an unknown key id or a bad signature
VerificationError (``IOTKIT_ERR_OTA_UNKNOWN_KEY``, ``IOTKIT_ERR_OTA_SIGNATURE``);
another device type, a downgrade, a version below the security floor
:class:`~iotkit.errors.IotkitError` with ``IOTKIT_ERR_OTA_DEVICE_TYPE``,
``IOTKIT_ERR_OTA_DOWNGRADE``, ``IOTKIT_ERR_OTA_BELOW_FLOOR``; an image larger
than the slot TooLargeError (``IOTKIT_ERR_OTA_TOO_LARGE``).
"""
from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Union

from . import _hals
from ._native import c_str, ffi, lib, py_str
from .crypto import Key, PrivateKey, sha256
from .errors import IotkitError, check, error_for

__all__ = ["compare_versions", "TrustStore", "Image", "sign_manifest", "Manifest", "State", "Status", "Client",
           "Fetcher"]

log = logging.getLogger("iotkit.ota")

Text = Union[str, bytes, bytearray, memoryview]

#: A download backend written in Python: called with (url, offset, chunk_size),
#: it yields the resource's bytes from ``offset`` on, in order (pieces of any
#: size; the client splits them). Raise an :class:`~iotkit.errors.IotkitError`
#: to report a failure by its code (``IOTKIT_ERR_CONNECT``, ``IOTKIT_ERR_TIMEOUT``,
#: ``IOTKIT_ERR_CONNECTION_LOST`` and ``IOTKIT_ERR_OTA_SERVER`` are retried,
#: ``IOTKIT_ERR_NOT_FOUND`` and others fail the update); any other exception
#: stops the download as a local failure (``IOTKIT_ERR_INTERNAL``: the state
#: stays DOWNLOADING, so a later :meth:`Client.run` resumes) and is re-raised
#: by :meth:`Client.run`, chained to that error.
Fetcher = Callable[[str, int, int], Iterable[bytes]]


def _bytes(data: Text) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError("expected str or bytes, not %s" % type(data).__name__)


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as semantic version @p a is lower than, equal to or higher than
    @p b (semver 2.0.0 precedence; build metadata ignored). A string that is
    not a semantic version raises InvalidArgumentError."""
    out = ffi.new("int *")
    check(lib.iotkit_ota_version_compare(c_str(a), c_str(b), out), lambda: "%r or %r is not a semantic version"
          % (a, b))
    return int(out[0])


# ------------------------------------------------------------ trust store --

class TrustStore:
    """The public keys allowed to sign manifests, each under a key id (at most 16).

    ``TrustStore({"fleet-2026": key})`` or :meth:`add`. Keys are Ed25519 or
    P-256 :class:`~iotkit.crypto.Key` objects (only the public half is kept) or
    PEM/DER bytes. ``_ptr`` is the cdata ``iotkit_ota_trust_t *``.
    """

    def __init__(self, keys: Optional[Mapping[str, Union[Key, Text]]] = None) -> None:
        out = ffi.new("iotkit_ota_trust_t **")
        check(lib.iotkit_ota_trust_new(out))
        self._ptr: Any = ffi.gc(out[0], lib.iotkit_ota_trust_free)
        self._ids: List[str] = []
        self._lock = threading.Lock()
        for key_id, key in (keys or {}).items():
            self.add(key_id, key)

    def add(self, key_id: str, key: Union[Key, Text]) -> None:
        """Trust @p key under @p key_id (1 to 64 bytes of ``[A-Za-z0-9._-]``).
        A taken id raises AlreadyExistsError, a 17th key TooLargeError, an RSA
        key InvalidArgumentError (``IOTKIT_ERR_BAD_KEY``)."""
        kid = c_str(key_id)
        with self._lock:
            if isinstance(key, Key):
                check(lib.iotkit_ota_trust_add(self._ptr, kid, key._p()), lambda: "key id %r" % key_id)
            else:
                data = _bytes(key)
                check(lib.iotkit_ota_trust_add_pem(self._ptr, kid, data, len(data)), lambda: "key id %r" % key_id)
            self._ids.append(key_id)

    def remove(self, key_id: str) -> None:
        """Stop trusting @p key_id (key rotation); an unknown id raises NotFoundError."""
        with self._lock:
            check(lib.iotkit_ota_trust_remove(self._ptr, c_str(key_id)), lambda: "key id %r" % key_id)
            self._ids.remove(key_id)

    def __len__(self) -> int:
        return int(lib.iotkit_ota_trust_count(self._ptr))

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._ids

    def key_ids(self) -> List[str]:
        """The trusted key ids, in the order they were added."""
        return list(self._ids)


# --------------------------------------------------------------- manifest --

@dataclass(frozen=True)
class Image:
    """The signed description of an image: every manifest field but key id and signature.

    ``device_type``: 1 to 64 bytes of ``[A-Za-z0-9._-]``; ``version``: a
    semantic version; ``size``: 1 to 2^53 bytes; ``sha256``: the 32-byte
    digest; ``url``: http, https, coap or coaps.
    """

    device_type: str
    version: str
    size: int
    sha256: bytes
    url: str

    @classmethod
    def of(cls, data: bytes, device_type: str, version: str, url: str) -> "Image":
        """The description of image bytes @p data (size and SHA-256 computed)."""
        return cls(device_type, version, len(data), sha256(data), url)


def _c_image(image: Image, keep: List[Any]) -> Any:
    img = ffi.new("iotkit_ota_image_t *")
    for name in ("device_type", "version", "url"):
        s = c_str(getattr(image, name))
        keep.append(s)
        setattr(img, name, s)
    if not 0 <= image.size < (1 << 64):
        raise error_for(lib.IOTKIT_ERR_INVALID_ARG, "size %d out of range" % image.size)
    img.size = image.size
    if len(image.sha256) != 32:
        raise error_for(lib.IOTKIT_ERR_INVALID_ARG, "sha256 must be 32 bytes, not %d" % len(image.sha256))
    ffi.memmove(img.sha256, image.sha256, 32)
    return img


def sign_manifest(image: Image, key: PrivateKey, key_id: str) -> str:
    """Sign @p image with @p key (Ed25519 or P-256) into a manifest (JSON text)
    whose ``key_id`` names the key's public half in the devices' trust stores.
    A field outside its rules raises InvalidArgumentError; a public or RSA key
    InvalidArgumentError (``IOTKIT_ERR_BAD_KEY``)."""
    keep: List[Any] = []
    img = _c_image(image, keep)
    out = ffi.new("char **")
    check(lib.iotkit_ota_manifest_sign(img, key._p(), c_str(key_id), out))
    try:
        return str(ffi.string(out[0]).decode("utf-8"))
    finally:
        lib.iotkit_free(out[0])


class Manifest:
    """A parsed manifest (``iotkit_ota_manifest_t``), read-only.

    :meth:`parse` checks the form strictly (exactly the documented members);
    the signature is checked by :meth:`verify` only.
    """

    def __init__(self, ptr: Any, text: str) -> None:
        self._ptr = ffi.gc(ptr, lib.iotkit_ota_manifest_free)
        self.text = text  #: the manifest as it was parsed
        img = ffi.new("iotkit_ota_image_t *")
        check(lib.iotkit_ota_manifest_image(self._ptr, img))
        self.image = Image(py_str(img.device_type), py_str(img.version), int(img.size), bytes(img.sha256),
                           py_str(img.url))  #: the signed fields
        self.key_id = py_str(lib.iotkit_ota_manifest_key_id(self._ptr))  #: the key id it names

    @classmethod
    def parse(cls, text: Text) -> "Manifest":
        """Parse @p text (at most 8 KiB): a malformed manifest raises
        InvalidArgumentError (``IOTKIT_ERR_OTA_MANIFEST``)."""
        data = _bytes(text)
        out = ffi.new("iotkit_ota_manifest_t **")
        check(lib.iotkit_ota_manifest_parse(ffi.from_buffer(data), len(data), out))
        return cls(out[0], data.decode("utf-8", "replace"))

    device_type = property(lambda self: self.image.device_type, doc="The device type it is for.")
    version = property(lambda self: self.image.version, doc="The image's version.")
    size = property(lambda self: self.image.size, doc="The image size in bytes.")
    sha256 = property(lambda self: self.image.sha256, doc="The image's SHA-256 (32 bytes).")
    url = property(lambda self: self.image.url, doc="Where the image is downloaded from.")

    def canonical(self) -> str:
        """The canonical text the signature covers (docs/protocol.md)."""
        out = ffi.new("char **")
        check(lib.iotkit_ota_manifest_canonical(self._ptr, out))
        try:
            return str(ffi.string(out[0]).decode("utf-8"))
        finally:
            lib.iotkit_free(out[0])

    def verify(self, trust: TrustStore) -> None:
        """Check the signature with the key its key id names in @p trust:
        VerificationError with ``IOTKIT_ERR_OTA_UNKNOWN_KEY`` or ``IOTKIT_ERR_OTA_SIGNATURE``."""
        check(lib.iotkit_ota_manifest_verify(self._ptr, trust._ptr), lambda: "key id %r" % self.key_id)

    def __repr__(self) -> str:
        return "<Manifest %s %s, key %s>" % (self.device_type, self.version, self.key_id)


# ----------------------------------------------------------------- client --

class State(enum.IntEnum):
    """States of an update (``iotkit_ota_state_t``), persisted at every transition."""

    IDLE = 0
    DOWNLOADING = 1
    DOWNLOADED = 2
    VERIFYING = 3
    PENDING = 4
    TRIAL = 5
    CONFIRMED = 6
    ROLLED_BACK = 7
    FAILED = 8

    @property
    def label(self) -> str:
        """The C name: "idle", "downloading", ..., "rolled_back", "failed"."""
        return py_str(lib.iotkit_ota_state_name(int(self)))


@dataclass(frozen=True)
class Status:
    """A snapshot of an update.

    ``error`` is the C code why the state is FAILED or ROLLED_BACK (or the last
    retried error), 0 otherwise; ``error_name`` its name ("" for 0).
    """

    state: State
    bytes: int
    total: int
    percent: int
    error: int
    error_name: str
    running_version: str
    target_version: str

    @property
    def exception(self) -> Optional[IotkitError]:
        """``error`` as an exception object (not raised), or None."""
        return error_for(self.error) if self.error else None


def _status_from(st: Any) -> Status:
    err = int(st.error)
    return Status(State(st.state), int(st.bytes), int(st.total), int(st.percent), err,
                  py_str(lib.iotkit_err_name(err)) if err else "", py_str(st.running_version),
                  py_str(st.target_version))


class _Callbacks:
    """What the C callbacks reach through the handle: the user's functions, the
    client (weakly) and the first exception raised by them."""

    def __init__(self, client: "Client", on_status: Optional[Callable[["Client", Status], None]],
                 on_reboot: Optional[Callable[["Client"], bool]], fetcher: Optional[Fetcher]) -> None:
        self.client = weakref.ref(client)
        self.on_status = on_status
        self.on_reboot = on_reboot
        self.fetcher = fetcher
        self.exc: Optional[BaseException] = None
        self.local = threading.local()  # .depth: Client calls in progress in this thread; .in_cb

    def failed(self, exc: BaseException, what: str) -> None:
        if getattr(self.local, "depth", 0):
            if self.exc is None:
                self.exc = exc
        else:  # run from a device's call (attached client): nobody to raise it to
            log.error("exception in the OTA %s callback", what, exc_info=exc)


@ffi.def_extern()
def _iotkit_pyota_status(ota: Any, user: Any, status: Any) -> None:
    cb: _Callbacks = ffi.from_handle(user)
    client = cb.client()
    if cb.on_status is None or client is None:
        return
    cb.local.in_cb = True
    try:
        cb.on_status(client, _status_from(status))
    except BaseException as e:  # noqa: B902 - re-raised by the Client call (or logged)
        cb.failed(e, "status")
    finally:
        cb.local.in_cb = False


@ffi.def_extern(error=False)
def _iotkit_pyota_reboot(ota: Any, user: Any) -> bool:
    cb: _Callbacks = ffi.from_handle(user)
    client = cb.client()
    if cb.on_reboot is None or client is None:
        return True
    cb.local.in_cb = True
    try:
        return bool(cb.on_reboot(client))
    except BaseException as e:  # noqa: B902 - defer the reboot, re-raise the error
        cb.failed(e, "reboot")
        return False
    finally:
        cb.local.in_cb = False


@ffi.def_extern(error=int(lib.IOTKIT_ERR_INTERNAL))
def _iotkit_pyota_fetch(ctx: Any, url: Any, offset: int, chunk_size: int, sink: Any, sink_ctx: Any) -> int:
    cb: _Callbacks = ffi.from_handle(ctx)
    cb.local.in_cb = True
    try:
        assert cb.fetcher is not None
        for piece in cb.fetcher(ffi.string(url).decode("utf-8"), int(offset), int(chunk_size)):
            if not isinstance(piece, (bytes, bytearray, memoryview)):
                raise TypeError("an OTA fetcher yields bytes, not %s" % type(piece).__name__)
            data = memoryview(piece).cast("B")
            for i in range(0, len(data), chunk_size):
                part = data[i:i + chunk_size]
                rc = sink(sink_ctx, ffi.from_buffer(part), len(part))
                if rc != 0:
                    return int(rc)
        return 0
    except IotkitError as e:
        return e.code
    except BaseException as e:  # noqa: B902 - stops the update; re-raised by Client.run
        cb.failed(e, "fetch")
        return int(lib.IOTKIT_ERR_INTERNAL)
    finally:
        cb.local.in_cb = False


class _State:
    """What the finalizer needs (never the Client itself)."""

    def __init__(self) -> None:
        self.ota: Any = None
        self.handle: Any = None
        self.hal: Optional[_hals.HalRef] = None
        self.trust: Optional[TrustStore] = None
        self.device: Any = None  # weakref to the attached device
        self.abort_lock = threading.Lock()


#: Attached device -> client: a device keeps its client alive.
_ATTACHED: "weakref.WeakKeyDictionary[Any, Client]" = weakref.WeakKeyDictionary()
#: C clients that could not be freed safely (see _detach): kept for the process's life.
_KEPT: List[_State] = []


def _detach(st: _State) -> bool:
    """Detach from the device; False if the device is being closed by another
    thread right now, when the C client must not be freed (the device's free
    clears its observer in the client)."""
    ref = st.device
    device = ref() if ref is not None else None
    if device is None:  # collected: its C device was freed with it
        st.device = None
        return True
    dref = _hals.DeviceRef(device)
    core = dref.core
    if core is not None and getattr(core, "closing", False) and not getattr(core, "closed", False):
        return False
    if dref.is_open():
        try:
            with dref.use() as dev:
                lib.iotkit_device_ota_attach(dev, ffi.NULL)
        except IotkitError:  # closing began in between
            return False
    st.device = None
    _ATTACHED.pop(device, None)
    return True


def _free(st: _State) -> None:
    with st.abort_lock:
        if st.ota is None:
            return
        if not _detach(st):
            log.debug("OTA client kept: its device is being closed in another thread")
            _KEPT.append(st)
            return
        lib.iotkit_ota_free(st.ota)
        st.ota = None
    st.handle = None  # after the free: no callback can run any more
    st.hal = None
    st.trust = None


def _opt(cfg: Any, name: str, value: Optional[int]) -> None:
    if value is not None:
        if value < 0:
            raise error_for(lib.IOTKIT_ERR_INVALID_ARG, "%s must not be negative" % name)
        setattr(cfg, name, value)


class Client:
    """An OTA client (``iotkit_ota_t``); make one at every start of the firmware.

    It needs a HAL with firmware slots and a key-value store: ``state_dir``
    (a POSIX HAL is made on it) or ``hal`` (a HAL object, or a device binding:
    its HAL; use the device's HAL when you :meth:`attach` to it, as two HALs
    must not share a state directory). ``trust`` (kept alive by the client)
    names the keys that may sign manifests.

    Callbacks, run in the thread that calls into the client (or into the
    device it is attached to): ``on_status(client, status)`` at every
    transition and after every chunk; ``on_reboot(client) -> bool`` when the
    image is pending (True: reboot now through the HAL; False: defer and call
    :meth:`reboot` later; default: reboot at once); ``fetcher`` replaces the
    built-in download (libcurl for http(s), libcoap for coap(s)), see
    :data:`Fetcher`. An exception raised by a callback is re-raised by the
    Client method during which it ran (after the C call returns); when
    it ran during a call of the device the client is attached to, it is logged
    with its traceback on the "iotkit.ota" logger. A failing fetcher stops the
    download (resumable), a failing reboot callback defers the reboot.

    The other options default to the C defaults (None): ``chunk_size`` (16 KiB),
    ``checkpoint_chunks`` (1), ``max_retries`` (5), ``retry_base_ms`` (500),
    ``retry_max_ms`` (30000), ``timeout_ms`` (30000), ``ca_file``,
    ``psk_identity``, ``psk_key_hex`` (coaps), ``trial_timeout_s`` (300; 0: no
    limit).

    Thread-safety: calls are serialized with a lock, except :meth:`abort`,
    which any thread may call while :meth:`run` downloads. The C handle is
    freed by :meth:`close` (also as a context manager, at garbage collection
    and at interpreter exit), after detaching it from its device; the callback
    handle lives until then, so no callback reaches a freed client. Closing
    from inside a callback raises StateError.
    """

    def __init__(self, trust: TrustStore, device_type: str, running_version: str, *,
                 state_dir: Optional[str] = None, hal: Any = None, fetcher: Optional[Fetcher] = None,
                 on_status: Optional[Callable[["Client", Status], None]] = None,
                 on_reboot: Optional[Callable[["Client"], bool]] = None, chunk_size: Optional[int] = None,
                 checkpoint_chunks: Optional[int] = None, max_retries: Optional[int] = None,
                 retry_base_ms: Optional[int] = None, retry_max_ms: Optional[int] = None,
                 timeout_ms: Optional[int] = None, ca_file: Optional[str] = None,
                 psk_identity: Optional[str] = None, psk_key_hex: Optional[str] = None,
                 trial_timeout_s: Optional[int] = None) -> None:
        if state_dir is not None and hal is not None:
            raise error_for(lib.IOTKIT_ERR_INVALID_ARG, "give state_dir or hal, not both")
        if state_dir is None and hal is None:
            raise error_for(lib.IOTKIT_ERR_INVALID_ARG, "the OTA client needs state_dir or hal")
        if not isinstance(trust, TrustStore):
            raise TypeError("trust: expected a TrustStore, not %s" % type(trust).__name__)
        if state_dir is not None:
            hal = _hals.PosixHal(os.fspath(state_dir))
        halref = _hals.resolve(hal)
        self._cb = _Callbacks(self, on_status, on_reboot, fetcher)
        handle = ffi.new_handle(self._cb)
        cfg = ffi.new("iotkit_ota_config_t *")
        lib.iotkit_ota_config_init(cfg)
        strings = [c_str(device_type), c_str(running_version), c_str(ca_file), c_str(psk_identity),
                   c_str(psk_key_hex)]
        cfg.hal, cfg.trust = halref.ptr, trust._ptr
        cfg.device_type, cfg.running_version, cfg.ca_file, cfg.psk_identity, cfg.psk_key_hex = strings
        for name, value in (("chunk_size", chunk_size), ("checkpoint_chunks", checkpoint_chunks),
                            ("max_retries", max_retries), ("retry_base_ms", retry_base_ms),
                            ("retry_max_ms", retry_max_ms), ("timeout_ms", timeout_ms),
                            ("trial_timeout_s", trial_timeout_s)):
            _opt(cfg, name, value)
        if fetcher is not None:
            cfg.fetcher.fetch = lib._iotkit_pyota_fetch
            cfg.fetcher.ctx = handle
        cfg.on_status = lib._iotkit_pyota_status if on_status is not None else ffi.NULL
        cfg.on_reboot = lib._iotkit_pyota_reboot if on_reboot is not None else ffi.NULL
        cfg.user = handle
        out = ffi.new("iotkit_ota_t **")
        self._lock = threading.RLock()
        self._st = _State()
        self._st.handle, self._st.hal, self._st.trust = handle, halref, trust
        with self._calling():
            rc = lib.iotkit_ota_new(cfg, out)
            if strings[4] != ffi.NULL:
                ffi.memmove(strings[4], b"\0" * len(psk_key_hex or ""), len(psk_key_hex or ""))
            check(rc, lambda: "device type %r, running version %r" % (device_type, running_version))
            # Before the block ends: a status callback that raised during the
            # reconciliation is raised there, and the finalizer frees the handle.
            self._st.ota = out[0]
            self._finalizer = weakref.finalize(self, _free, self._st)
        self.device_type = device_type
        self.running_version = running_version

    # ------------------------------------------------------------ plumbing --

    class _Call:
        """One call into the client: its lock, the callback bookkeeping, and
        the HAL guard (a device's HAL stays open during the call)."""

        def __init__(self, client: "Client", device: bool = False) -> None:
            self.client = client
            self.device = device
            self.stack = contextlib.ExitStack()
            self.dev: Any = ffi.NULL

        def __enter__(self) -> Any:
            c = self.client
            c._lock.acquire()
            try:
                if c._st.hal is not None:
                    self.stack.enter_context(c._st.hal.use())
                if self.device:
                    self.dev = self.stack.enter_context(c._attached().use())
            except BaseException:
                self.stack.close()
                c._lock.release()
                raise
            loc = c._cb.local
            loc.depth = getattr(loc, "depth", 0) + 1
            return self.dev

        def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
            cb = self.client._cb
            cb.local.depth -= 1
            exc, cb.exc = (cb.exc, None) if cb.local.depth == 0 else (None, cb.exc)
            try:
                self.stack.close()
            finally:
                self.client._lock.release()
            if exc is not None:
                if ev is not None and ev is not exc:
                    raise exc from ev
                raise exc

    def _calling(self, device: bool = False) -> "Client._Call":
        return Client._Call(self, device)

    def _ota(self) -> Any:
        if self._st.ota is None:
            raise error_for(lib.IOTKIT_ERR_STATE, "the OTA client is closed")
        return self._st.ota

    def _do(self, fn: Any, *args: Any) -> None:
        with self._calling():
            check(fn(self._ota(), *args))

    # ---------------------------------------------------------------- API --

    def check(self, manifest: Union[Text, Manifest]) -> None:
        """Run every check of @p manifest without changing any state (parse, key
        id, signature, device type, size, newer version, security floor); raises
        the refusal."""
        data = _bytes(manifest.text if isinstance(manifest, Manifest) else manifest)
        self._do(lib.iotkit_ota_check, data, len(data))

    def start(self, manifest: Union[Text, Manifest]) -> None:
        """Accept @p manifest (the checks of :meth:`check`), then the state is
        DOWNLOADING; nothing is downloaded until :meth:`run`. A refusal is
        persisted as FAILED and raised; another update in progress raises
        StateError (``IOTKIT_ERR_BUSY``), as does an image on trial (``IOTKIT_ERR_STATE``).
        Attached to a device, the manifest is offered through it
        (iotkit_device_ota_offer()), which ignores one the device already runs
        and reports a refusal on ``ota/status`` too."""
        data = _bytes(manifest.text if isinstance(manifest, Manifest) else manifest)
        if self._st.device is not None:
            with self._calling(device=True) as dev:
                check(lib.iotkit_device_ota_offer(dev, data, len(data)))
            return
        self._do(lib.iotkit_ota_start, data, len(data))

    def run(self) -> None:
        """Drive the accepted update as far as it goes: download (resuming),
        verify, mark pending, ask for the reboot. Blocks (the GIL is released).
        Attached to a device, runs iotkit_device_ota_run() (which also services
        the connection and enforces the trial limit). Nothing to do raises
        StateError; a failed update its code (state FAILED); a network error
        after the last retry its code with the state still DOWNLOADING (call
        again to resume); :meth:`abort` makes it raise StateError (``IOTKIT_ERR_BUSY``)."""
        if self._st.device is not None:
            with self._calling(device=True) as dev:
                check(lib.iotkit_device_ota_run(dev))
            return
        self._do(lib.iotkit_ota_run)

    def abort(self) -> None:
        """Stop a running download soon, from any thread (the state stays DOWNLOADING)."""
        with self._st.abort_lock:
            if self._st.ota is not None:
                lib.iotkit_ota_abort(self._st.ota)

    def reboot(self) -> None:
        """Ask for the reboot after a deferral (PENDING only, else StateError)."""
        self._do(lib.iotkit_ota_reboot)

    def confirm(self) -> None:
        """Confirm the image on trial after the application's self-test (TRIAL only, else StateError)."""
        self._do(lib.iotkit_ota_confirm)

    def poll(self) -> None:
        """Enforce the trial time limit: call it from the application's loop (an
        attached, polled device does it in its poll)."""
        self._do(lib.iotkit_ota_poll)

    def cancel(self) -> None:
        """Abandon the update in progress (before PENDING): the state becomes IDLE."""
        self._do(lib.iotkit_ota_cancel)

    def set_security_floor(self, version: str) -> None:
        """Refuse manifests below @p version from now on; the floor never goes down (StateError)."""
        self._do(lib.iotkit_ota_set_security_floor, c_str(version))

    @property
    def status(self) -> Status:
        """A snapshot of the update."""
        st = ffi.new("iotkit_ota_status_t *")
        with self._calling():
            check(lib.iotkit_ota_status_sized(self._ota(), st, ffi.sizeof("iotkit_ota_status_t")))
            return _status_from(st)

    @property
    def state(self) -> State:
        """The current :class:`State`."""
        return self.status.state

    def status_json(self) -> Dict[str, Any]:
        """The status document of the ota/status channel, parsed."""
        out = ffi.new("char **")
        with self._calling():
            check(lib.iotkit_ota_status_json(self._ota(), out))
        try:
            doc: Dict[str, Any] = json.loads(ffi.string(out[0]).decode("utf-8"))
            return doc
        finally:
            lib.iotkit_free(out[0])

    # -------------------------------------------------------------- device --

    def _attached(self) -> "_hals.DeviceRef":
        ref = self._st.device
        device = ref() if ref is not None else None
        if device is None:
            raise error_for(lib.IOTKIT_ERR_STATE, "the OTA client is not attached to a device")
        return _hals.DeviceRef(device)

    def attach(self, device: Any) -> None:
        """Let @p device (an :class:`iotkit.Device`, or any object whose ``_dev``
        is the cdata ``iotkit_device_t *``) carry this client: manifests
        arriving on its ``ota/manifest`` channel start updates and the status
        is published on ``ota/status``. Then :meth:`start` offers manifests
        through the device and :meth:`run` runs iotkit_device_ota_run(). Call
        while the device's loop is stopped (not after ``start()``). The device
        keeps the client alive; closing the client detaches it first."""
        dref = _hals.DeviceRef(device)
        with self._calling():
            with dref.use() as dev:
                check(lib.iotkit_device_ota_attach(dev, self._ota()))
            old = self._st.device() if self._st.device is not None else None
            if old is not None and old is not device:
                _detach(self._st)
            self._st.device = weakref.ref(device)
            try:
                _ATTACHED[device] = self
            except TypeError:  # not weak-referenceable: the caller keeps the client alive
                pass

    def detach(self) -> None:
        """Detach from the device (call while its loop is stopped); a no-op if not attached."""
        with self._calling():
            _detach(self._st)

    def report(self) -> None:
        """Publish the status on the attached device's ``ota/status`` channel now
        (StateError if not attached, ConnectionError if the device is offline)."""
        with self._calling(device=True) as dev:
            check(lib.iotkit_device_ota_report(dev))

    # --------------------------------------------------------------- close --

    def close(self) -> None:
        """Detach from the device, free the C client (the persisted state stays). Idempotent."""
        if getattr(self._cb.local, "in_cb", False):
            raise error_for(lib.IOTKIT_ERR_STATE, "the OTA client cannot be closed from its own callback")
        with self._lock:
            self._finalizer()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._st.ota is None:
            return "<ota.Client closed>"
        return "<ota.Client %s %s: %s>" % (self.device_type, self.running_version, self.state.label)
