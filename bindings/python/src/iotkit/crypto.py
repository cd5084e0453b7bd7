"""Cryptography of libiotkit: keys, signatures, JWS/JWT, AES-256-GCM, sealed
payload envelopes, SHA-256, HMAC, HKDF, base64 and random bytes.

Everything runs in libiotkit's C code (OpenSSL underneath); the GIL is released
during each call. Bytes go in and out (``str`` is accepted where text is
natural and is UTF-8 encoded). Failures raise the exceptions of
:mod:`iotkit.errors`, each with the C code (``e.code``, ``e.name``):

* a signature, tag, envelope or token that does not verify:
  :class:`~iotkit.errors.VerificationError` (``IOTKIT_ERR_BAD_SIGNATURE``,
  ``IOTKIT_ERR_CRYPTO_AUTH``, ``IOTKIT_ERR_JWT_EXPIRED``...);
* a malformed key, a key of the wrong type, bad base64, a malformed envelope or
  token: :class:`~iotkit.errors.InvalidArgumentError` (``IOTKIT_ERR_BAD_KEY``,
  ``IOTKIT_ERR_BAD_ENCODING``, ``IOTKIT_ERR_JWT_MALFORMED``, ``IOTKIT_ERR_INVALID_ARG``);
* what this build cannot do: :class:`~iotkit.errors.UnsupportedError`.

Secrets: the C handles wipe their secret material when freed (keys, AES keys
held by :class:`AesGcm`, envelope keys, cached tokens), and the C buffers this
module fills with secrets are zeroed after their bytes are copied out. Python
``bytes`` and ``str`` objects cannot be wiped: keep secrets in them briefly.

Randomness (key generation, nonces, :func:`random_bytes`) comes from
:func:`os.urandom` through a HAL this module fills by hand.

Example::

    from iotkit import crypto
    key = crypto.PrivateKey.generate(crypto.KeyType.ED25519)
    sig = key.sign(b"hello")
    key.public_key().verify(sig, b"hello")          # raises VerificationError if altered
    token = crypto.jwt_encode({"sub": "dev-1", "exp": 2000000000}, key)
    claims = crypto.jwt_decode(token, key.public_key(), audience=None)
"""
from __future__ import annotations

import datetime
import enum
import json
import os
import threading
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from . import _hals
from ._native import c_str, ffi, lib, py_str, to_bytes
from .errors import IotkitError, check, error_for

__all__ = [
    "KeyType", "SigAlg", "JwtAlg", "Key", "PublicKey", "PrivateKey", "load_key", "load_key_file",
    "sha256", "Sha256", "hmac_sha256", "hkdf_sha256", "random_bytes", "constant_time_equal",
    "b64encode", "b64decode", "b64url_encode", "b64url_decode",
    "aes256gcm_seal", "aes256gcm_open", "AesGcm",
    "jws_sign", "jws_verify", "jwt_encode", "jwt_decode", "JwtProvider",
    "Envelope", "envelope_overhead",
]

Bytes = Union[bytes, bytearray, memoryview]
Text = Union[str, bytes, bytearray, memoryview]

SHA256_LEN = 32
AES256GCM_KEY_LEN = 32
AES256GCM_NONCE_LEN = 12
AES256GCM_TAG_LEN = 16
HKDF_SHA256_MAX_LEN = 255 * 32
JWT_MAX_LEN = 16384
JWT_MAX_LEEWAY_S = 600
ENVELOPE_V1 = 0xE1
ENVELOPE_MAX_KID = 32
ENVELOPE_MAX_CHANNEL = 255


def _invalid(detail: str) -> IotkitError:
    return error_for(lib.IOTKIT_ERR_INVALID_ARG, detail)


def _buf(data: Text, what: str = "data") -> Tuple[Any, int]:
    """A read-only C view of @p data (no copy for bytes) and its length."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("%s: expected bytes, not %s" % (what, type(data).__name__))
    return ffi.from_buffer(data), len(data)


def _wipe(buf: Any, n: int) -> None:
    if n:
        ffi.memmove(buf, b"\0" * n, n)


def _take_string(pp: Any) -> str:
    """The str of a library-allocated C string, released with iotkit_free()."""
    try:
        return str(ffi.string(pp[0]).decode("utf-8"))
    finally:
        lib.iotkit_free(pp[0])


# --------------------------------------------------------------- hashing --

def sha256(data: Text) -> bytes:
    """SHA-256 of @p data (32 bytes)."""
    p, n = _buf(data)
    out = ffi.new("uint8_t[32]")
    check(lib.iotkit_sha256(p, n, out))
    return bytes(out)


class Sha256:
    """A streaming SHA-256: ``h = Sha256(); h.update(a); h.update(b); h.finalize()``.

    :meth:`finalize` returns the digest and resets the object to the empty
    message (unlike :mod:`hashlib`, whose ``digest()`` does not reset). Calls are
    serialized with a lock, so one object may be shared between threads.
    """

    def __init__(self, data: Optional[Text] = None) -> None:
        out = ffi.new("iotkit_sha256_t **")
        check(lib.iotkit_sha256_new(out))
        self._h = ffi.gc(out[0], lib.iotkit_sha256_free)
        self._lock = threading.Lock()
        if data is not None:
            self.update(data)

    def update(self, data: Text) -> "Sha256":
        """Feed @p data; returns self so that calls chain."""
        p, n = _buf(data)
        with self._lock:
            check(lib.iotkit_sha256_update(self._h, p, n))
        return self

    def finalize(self) -> bytes:
        """The digest of everything fed since the last finalize (32 bytes); the state is reset."""
        out = ffi.new("uint8_t[32]")
        with self._lock:
            check(lib.iotkit_sha256_final(self._h, out))
        return bytes(out)


def hmac_sha256(key: Text, data: Text) -> bytes:
    """HMAC-SHA256 (RFC 2104) of @p data under @p key (32 bytes). Compare tags with :func:`constant_time_equal`."""
    kp, kn = _buf(key, "key")
    dp, dn = _buf(data)
    out = ffi.new("uint8_t[32]")
    check(lib.iotkit_hmac_sha256(kp, kn, dp, dn, out))
    return bytes(out)


def hkdf_sha256(ikm: Text, length: int, *, salt: Text = b"", info: Text = b"") -> bytes:
    """HKDF-SHA256 (RFC 5869): @p length bytes (1 to 8160) from @p ikm, @p salt and @p info."""
    if not 1 <= length <= HKDF_SHA256_MAX_LEN:
        raise _invalid("length must be 1 to %d, not %d" % (HKDF_SHA256_MAX_LEN, length))
    sp, sn = _buf(salt, "salt")
    ip, inn = _buf(ikm, "ikm")
    fp, fn = _buf(info, "info")
    out = ffi.new("uint8_t[]", length)
    try:
        check(lib.iotkit_hkdf_sha256(sp if sn else ffi.NULL, sn, ip, inn, fp, fn, out, length))
        return bytes(ffi.buffer(out, length))
    finally:
        _wipe(out, length)


def random_bytes(n: int) -> bytes:
    """@p n cryptographically strong random bytes (from os.urandom through the library)."""
    if n < 0:
        raise _invalid("n must not be negative")
    out = ffi.new("uint8_t[]", max(n, 1))
    check(lib.iotkit_crypto_random(_hals.system_hal(), out, n))
    return bytes(ffi.buffer(out, n))


def constant_time_equal(a: Bytes, b: Bytes) -> bool:
    """Whether @p a equals @p b, in time that depends only on the length (False for different lengths)."""
    ap, an = _buf(a, "a")
    bp, bn = _buf(b, "b")
    if an != bn:
        return False
    return bool(lib.iotkit_crypto_equal(ap, bp, an))


# ---------------------------------------------------------------- base64 --

def _b64enc(fn: Any, data: Text) -> str:
    p, n = _buf(data)
    cap = ((n + 2) // 3) * 4 + 1
    out = ffi.new("char[]", cap)
    ln = ffi.new("size_t *")
    check(fn(p, n, out, cap, ln))
    return str(ffi.buffer(out, ln[0])[:].decode("ascii"))


def _b64dec(fn: Any, text: Text) -> bytes:
    if isinstance(text, str):
        try:
            text = text.encode("ascii")
        except UnicodeEncodeError:
            raise error_for(lib.IOTKIT_ERR_BAD_ENCODING, "not ASCII") from None
    p, n = _buf(text, "text")
    cap = max(((n + 3) // 4) * 3, 1)
    out = ffi.new("uint8_t[]", cap)
    ln = ffi.new("size_t *")
    check(fn(ffi.cast("const char *", p), n, out, cap, ln))
    return bytes(ffi.buffer(out, ln[0]))


def b64encode(data: Text) -> str:
    """Standard base64 with '=' padding (RFC 4648 section 4)."""
    return _b64enc(lib.iotkit_base64_encode, data)


def b64decode(text: Text) -> bytes:
    """Decode standard base64 strictly (padding required, no whitespace, zero unused bits):
    malformed text raises InvalidArgumentError (``IOTKIT_ERR_BAD_ENCODING``)."""
    return _b64dec(lib.iotkit_base64_decode, text)


def b64url_encode(data: Text) -> str:
    """base64url without padding (RFC 4648 section 5, as JOSE uses it)."""
    return _b64enc(lib.iotkit_base64url_encode, data)


def b64url_decode(text: Text) -> bytes:
    """Decode unpadded base64url strictly ('=' refused): malformed text raises
    InvalidArgumentError (``IOTKIT_ERR_BAD_ENCODING``)."""
    return _b64dec(lib.iotkit_base64url_decode, text)


# ------------------------------------------------------------------ keys --

class KeyType(enum.IntEnum):
    """Kinds of asymmetric key (``iotkit_key_type_t``)."""

    ED25519 = 1
    P256 = 2
    RSA = 3


class SigAlg(enum.IntEnum):
    """Signature algorithms (``iotkit_sig_alg_t``); each needs the key type named."""

    ED25519 = 1             #: Ed25519 (pure), 64 bytes
    ECDSA_P256_SHA256 = 2   #: ECDSA P-256 SHA-256, raw r||s (64 bytes, as JWS ES256)
    RSA_PSS_SHA256 = 3      #: RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt
    RSA_PKCS1_SHA256 = 4    #: RSASSA-PKCS1-v1_5 SHA-256 (as JWS RS256)


class JwtAlg(enum.IntEnum):
    """JWS algorithms (``iotkit_jwt_alg_t``). There is no "none" and no HMAC."""

    EDDSA = 1  #: "EdDSA", Ed25519 key
    ES256 = 2  #: "ES256", P-256 key
    RS256 = 3  #: "RS256", RSA key

    @property
    def jose_name(self) -> str:
        """The name in a JOSE header: "EdDSA", "ES256" or "RS256"."""
        return py_str(lib.iotkit_jwt_alg_name(int(self)))


_DEFAULT_SIG = {KeyType.ED25519: SigAlg.ED25519, KeyType.P256: SigAlg.ECDSA_P256_SHA256,
                KeyType.RSA: SigAlg.RSA_PSS_SHA256}
_DEFAULT_JWT = {KeyType.ED25519: JwtAlg.EDDSA, KeyType.P256: JwtAlg.ES256, KeyType.RSA: JwtAlg.RS256}


def _sig_alg(alg: Union[SigAlg, str, int, None], key: "Key") -> SigAlg:
    if alg is None:
        return _DEFAULT_SIG[key.type]
    if isinstance(alg, str):
        try:
            return SigAlg[alg.upper().replace("-", "_")]
        except KeyError:
            raise _invalid("unknown signature algorithm %r" % alg) from None
    return SigAlg(alg)


def _jwt_alg(alg: Union[JwtAlg, str, int, None], key: "Key") -> JwtAlg:
    if alg is None:
        return _DEFAULT_JWT[key.type]
    if isinstance(alg, str):
        for a in JwtAlg:
            if alg in (a.jose_name, a.name):
                return a
        raise _invalid("unknown JWS algorithm %r (EdDSA, ES256 or RS256)" % alg)
    return JwtAlg(alg)


_SIG_KEY = {SigAlg.ED25519: KeyType.ED25519, SigAlg.ECDSA_P256_SHA256: KeyType.P256,
            SigAlg.RSA_PSS_SHA256: KeyType.RSA, SigAlg.RSA_PKCS1_SHA256: KeyType.RSA}


def _key_detail(rc: int, alg: SigAlg, key: "Key") -> str:
    if rc != lib.IOTKIT_ERR_BAD_KEY:
        return ""
    if _SIG_KEY[alg] != key.type:
        return "%s needs a %s key, not %s" % (alg.name, _SIG_KEY[alg].name, key.type.name)
    return "a public key cannot sign"


class Key:
    """An asymmetric key held by libiotkit (``iotkit_key_t``): a :class:`PublicKey`
    or a :class:`PrivateKey` (a key pair). Read-only, safe to share between threads.

    ``_ptr`` is the cdata ``iotkit_key_t *`` (freed, private material wiped, when
    the object is garbage-collected or :meth:`close` drops the last reference).
    """

    _ptr: Any

    def __init__(self, ptr: Any) -> None:
        if type(self) is Key:
            raise TypeError("use PublicKey or PrivateKey (load_key, PrivateKey.generate...)")
        self._ptr = ffi.gc(ptr, lib.iotkit_key_free)

    @staticmethod
    def _wrap(ptr: Any) -> "Key":
        cls = PrivateKey if lib.iotkit_key_has_private(ptr) else PublicKey
        k = cls.__new__(cls)
        Key.__init__(k, ptr)
        return k

    def _p(self) -> Any:
        if self._ptr is None:
            raise error_for(lib.IOTKIT_ERR_STATE, "the key is closed")
        return self._ptr

    @property
    def type(self) -> KeyType:
        """The kind of key: :class:`KeyType`."""
        return KeyType(lib.iotkit_key_type(self._p()))

    @property
    def has_private(self) -> bool:
        """True for a key pair (can sign)."""
        return bool(lib.iotkit_key_has_private(self._p()))

    @property
    def signature_size(self) -> int:
        """Size in bytes of the signatures this key makes (64 for Ed25519 and P-256, the modulus size for RSA)."""
        return int(lib.iotkit_key_signature_size(self._p()))

    def public_pem(self) -> str:
        """The public half as PEM SubjectPublicKeyInfo ("-----BEGIN PUBLIC KEY-----")."""
        out = ffi.new("char **")
        check(lib.iotkit_key_export_public_pem(self._p(), out))
        return _take_string(out)

    def public_key(self) -> "PublicKey":
        """The public half as a new :class:`PublicKey` (itself for a public key)."""
        if isinstance(self, PublicKey):
            return self
        pem = self.public_pem().encode("ascii")
        out = ffi.new("iotkit_key_t **")
        check(lib.iotkit_key_load(pem, len(pem), out))
        k = PublicKey.__new__(PublicKey)
        Key.__init__(k, out[0])
        return k

    def verify(self, signature: Bytes, message: Text, alg: Union[SigAlg, str, None] = None) -> None:
        """Check @p signature over @p message; raise VerificationError
        (``IOTKIT_ERR_BAD_SIGNATURE``) if it does not verify, InvalidArgumentError
        (``IOTKIT_ERR_BAD_KEY``) if @p alg needs another key type. @p alg defaults to
        the key's usual algorithm (Ed25519, ECDSA P-256 SHA-256, RSA-PSS SHA-256)."""
        a = _sig_alg(alg, self)
        mp, mn = _buf(message, "message")
        sp, sn = _buf(signature, "signature")
        rc = lib.iotkit_verify(self._p(), a, mp, mn, sp, sn)
        check(rc, lambda: _key_detail(rc, a, self))

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Write the public half as PEM to @p path (PrivateKey.save writes the private key)."""
        with open(path, "w") as f:
            f.write(self.public_pem())

    def close(self) -> None:
        """Drop this object's reference to the C key (freed and wiped once unused)."""
        self._ptr = None

    def __enter__(self) -> "Key":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Key) or type(other) is not type(self):
            return NotImplemented
        return self.public_pem() == other.public_pem()

    def __hash__(self) -> int:
        return hash(self.public_pem())

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<%s closed>" % type(self).__name__
        return "<%s %s>" % (type(self).__name__, self.type.name)


def _load(data: Text) -> Any:
    p, n = _buf(data, "key data")
    out = ffi.new("iotkit_key_t **")
    check(lib.iotkit_key_load(p, n, out))
    return out[0]


def load_key(data: Text) -> Key:
    """Load a key from PEM or DER (detected): a :class:`PrivateKey` for PKCS#8,
    SEC 1 or PKCS#1 private keys, a :class:`PublicKey` for SubjectPublicKeyInfo.
    Malformed data raises InvalidArgumentError with ``IOTKIT_ERR_BAD_ENCODING``;
    another algorithm, curve or size with ``IOTKIT_ERR_BAD_KEY``."""
    return Key._wrap(_load(data))


def load_key_file(path: Union[str, "os.PathLike[str]"]) -> Key:
    """Load a key from a PEM or DER file, as :func:`load_key` (``IOTKIT_ERR_IO`` if unreadable)."""
    out = ffi.new("iotkit_key_t **")
    check(lib.iotkit_key_load_file(c_str(os.fspath(path)), out), lambda: os.fspath(path))
    return Key._wrap(out[0])


class PublicKey(Key):
    """A public key: verifies signatures and tokens. Make one with :meth:`load`,
    :meth:`from_raw` or :meth:`PrivateKey.public_key`."""

    @classmethod
    def load(cls, data: Text) -> "PublicKey":
        """Load a public key from PEM or DER; given a private key, its public half."""
        return Key._wrap(_load(data)).public_key()

    @classmethod
    def from_raw(cls, type: KeyType, public: Bytes) -> "PublicKey":
        """A public key from raw bytes: Ed25519 32 bytes; P-256 65 bytes 0x04||X||Y."""
        pp, pn = _buf(public, "public")
        out = ffi.new("iotkit_key_t **")
        check(lib.iotkit_key_from_raw(KeyType(type), ffi.NULL, 0, pp, pn, out))
        return Key._wrap(out[0])  # type: ignore[return-value]


class PrivateKey(Key):
    """A key pair: signs messages, tokens and manifests; also verifies."""

    @classmethod
    def generate(cls, type: KeyType = KeyType.ED25519) -> "PrivateKey":
        """A new Ed25519 or P-256 key pair (RSA generation is not offered: UnsupportedError)."""
        out = ffi.new("iotkit_key_t **")
        check(lib.iotkit_key_generate(_hals.system_hal(), KeyType(type), out))
        return Key._wrap(out[0])  # type: ignore[return-value]

    @classmethod
    def load(cls, data: Text) -> "PrivateKey":
        """Load a private key from PEM or DER; a public key raises InvalidArgumentError (``IOTKIT_ERR_BAD_KEY``)."""
        k = Key._wrap(_load(data))
        if not isinstance(k, PrivateKey):
            raise error_for(lib.IOTKIT_ERR_BAD_KEY, "a public key where a private key is needed")
        return k

    @classmethod
    def load_file(cls, path: Union[str, "os.PathLike[str]"]) -> "PrivateKey":
        """Load a private key from a file (PEM or DER)."""
        k = load_key_file(path)
        if not isinstance(k, PrivateKey):
            raise error_for(lib.IOTKIT_ERR_BAD_KEY, "%s holds a public key" % os.fspath(path))
        return k

    @classmethod
    def from_raw(cls, type: KeyType, private: Bytes, public: Optional[Bytes] = None) -> "PrivateKey":
        """A key pair from raw bytes: Ed25519 the 32-byte seed (and optionally the
        32-byte public key, which must match); P-256 the 32-byte scalar d and the
        65-byte public point 0x04||X||Y (required)."""
        dp, dn = _buf(private, "private")
        pp, pn = _buf(public, "public") if public is not None else (ffi.NULL, 0)
        out = ffi.new("iotkit_key_t **")
        check(lib.iotkit_key_from_raw(KeyType(type), dp, dn, pp, pn, out))
        return Key._wrap(out[0])  # type: ignore[return-value]

    def sign(self, message: Text, alg: Union[SigAlg, str, None] = None) -> bytes:
        """Sign @p message (hashing is part of the algorithm). @p alg defaults to
        the key's usual algorithm; one needing another key type raises
        InvalidArgumentError (``IOTKIT_ERR_BAD_KEY``)."""
        a = _sig_alg(alg, self)
        mp, mn = _buf(message, "message")
        cap = max(self.signature_size, 1)
        sig = ffi.new("uint8_t[]", cap)
        n = ffi.new("size_t *")
        rc = lib.iotkit_sign(self._p(), a, mp, mn, sig, cap, n)
        check(rc, lambda: _key_detail(rc, a, self))
        return bytes(ffi.buffer(sig, n[0]))

    def private_pem(self) -> str:
        """The key pair as unencrypted PEM PKCS#8 ("-----BEGIN PRIVATE KEY-----").
        The C buffer is wiped; the returned str cannot be: keep it briefly."""
        cap = 512
        n = ffi.new("size_t *")
        while True:
            buf = ffi.new("char[]", cap)
            try:
                rc = lib.iotkit_key_export_private_pem(self._p(), buf, cap, n)
                if rc != lib.IOTKIT_ERR_BUFFER_TOO_SMALL or n[0] <= cap:
                    check(rc)
                    return str(ffi.buffer(buf, n[0])[:].decode("ascii"))
            finally:
                _wipe(buf, cap)
            cap = n[0]

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Write the private key as PEM PKCS#8 to @p path, created with mode 0600."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.private_pem())

    def save_public(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Write the public half as PEM to @p path."""
        Key.save(self, path)


# ------------------------------------------------------------ AES-GCM --

def _fixed(data: Bytes, size: int, what: str) -> Tuple[Any, int]:
    p, n = _buf(data, what)
    if n != size:
        raise _invalid("%s must be %d bytes, not %d" % (what, size, n))
    return p, n


def aes256gcm_seal(key: Bytes, nonce: Bytes, plaintext: Text, aad: Text = b"") -> Tuple[bytes, bytes]:
    """AES-256-GCM encrypt: (ciphertext, 16-byte tag). Never reuse a nonce with a key."""
    kp, _ = _fixed(key, 32, "key")
    return _seal(kp, nonce, plaintext, aad)


def _seal(kp: Any, nonce: Bytes, plaintext: Text, aad: Text) -> Tuple[bytes, bytes]:
    np_, _ = _fixed(nonce, 12, "nonce")
    ap, an = _buf(aad, "aad")
    pp, pn = _buf(plaintext, "plaintext")
    ct = ffi.new("uint8_t[]", max(pn, 1))
    tag = ffi.new("uint8_t[16]")
    check(lib.iotkit_aes256gcm_seal(kp, np_, ap, an, pp, pn, ct, tag))
    return bytes(ffi.buffer(ct, pn)), bytes(tag)


def aes256gcm_open(key: Bytes, nonce: Bytes, ciphertext: Bytes, tag: Bytes, aad: Text = b"") -> bytes:
    """AES-256-GCM check and decrypt; any change raises VerificationError (``IOTKIT_ERR_CRYPTO_AUTH``)."""
    kp, _ = _fixed(key, 32, "key")
    return _open(kp, nonce, ciphertext, tag, aad)


def _open(kp: Any, nonce: Bytes, ciphertext: Bytes, tag: Bytes, aad: Text) -> bytes:
    np_, _ = _fixed(nonce, 12, "nonce")
    tp, _ = _fixed(tag, 16, "tag")
    ap, an = _buf(aad, "aad")
    cp, cn = _buf(ciphertext, "ciphertext")
    pt = ffi.new("uint8_t[]", max(cn, 1))
    try:
        check(lib.iotkit_aes256gcm_open(kp, np_, ap, an, cp, cn, tp, pt))
        return bytes(ffi.buffer(pt, cn))
    finally:
        _wipe(pt, cn)


class AesGcm:
    """An AES-256-GCM key, kept in a C buffer that :meth:`close` (or garbage
    collection) wipes.

    :meth:`encrypt`/:meth:`decrypt` follow the shape of ``cryptography``'s
    ``AESGCM`` (ciphertext with the tag appended); :meth:`seal`/:meth:`open` add
    a fresh random nonce in front (nonce || ciphertext || tag), safe for up to
    2^32 messages per key.
    """

    KEY_SIZE = 32
    NONCE_SIZE = 12
    TAG_SIZE = 16

    def __init__(self, key: Bytes) -> None:
        kp, _ = _fixed(key, 32, "key")
        self._key: Any = ffi.new("uint8_t[32]")
        ffi.memmove(self._key, kp, 32)

    @staticmethod
    def generate_key() -> bytes:
        """A new random 32-byte key."""
        return random_bytes(32)

    @staticmethod
    def nonce() -> bytes:
        """A new random 12-byte nonce (iotkit_aes256gcm_nonce())."""
        out = ffi.new("uint8_t[12]")
        check(lib.iotkit_aes256gcm_nonce(_hals.system_hal(), out))
        return bytes(out)

    def _k(self) -> Any:
        if self._key is None:
            raise error_for(lib.IOTKIT_ERR_STATE, "the AES key is closed")
        return self._key

    def encrypt(self, nonce: Bytes, data: Text, aad: Text = b"") -> bytes:
        """Ciphertext || 16-byte tag of @p data under @p nonce (12 bytes) and @p aad."""
        ct, tag = _seal(self._k(), nonce, data, aad)
        return ct + tag

    def decrypt(self, nonce: Bytes, data: Bytes, aad: Text = b"") -> bytes:
        """The plaintext of ciphertext || tag; raises VerificationError
        (``IOTKIT_ERR_CRYPTO_AUTH``) if anything was altered, InvalidArgumentError
        if @p data is shorter than a tag."""
        d = bytes(data)
        if len(d) < 16:
            raise _invalid("data shorter than the 16-byte tag")
        return _open(self._k(), nonce, d[:-16], d[-16:], aad)

    def seal(self, data: Text, aad: Text = b"") -> bytes:
        """nonce (12, random) || ciphertext || tag (16)."""
        n = self.nonce()
        return n + self.encrypt(n, data, aad)

    def open(self, sealed: Bytes, aad: Text = b"") -> bytes:
        """The plaintext of what :meth:`seal` made; raises VerificationError if altered."""
        s = bytes(sealed)
        if len(s) < 28:
            raise _invalid("sealed data shorter than nonce and tag (28 bytes)")
        return self.decrypt(s[:12], s[12:], aad)

    def close(self) -> None:
        """Wipe the key; later calls raise StateError."""
        if self._key is not None:
            _wipe(self._key, 32)
            self._key = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover - interpreter teardown
            pass

    def __enter__(self) -> "AesGcm":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# -------------------------------------------------------------- JWS/JWT --

def jws_sign(payload: Text, key: PrivateKey, *, alg: Union[JwtAlg, str, None] = None,
             typ: Optional[str] = None, kid: Optional[str] = None) -> str:
    """Sign any payload as a compact JWS; the header is {"alg":...} then "typ" and "kid" when given.
    @p alg defaults to the key's algorithm (EdDSA, ES256, RS256)."""
    a = _jwt_alg(alg, key)
    p, n = _buf(payload, "payload")
    out = ffi.new("char **")
    check(lib.iotkit_jws_sign(a, key._p(), c_str(typ), c_str(kid), p, n, out))
    return _take_string(out)


def jws_verify(token: str, key: Key, *, alg: Union[JwtAlg, str, None] = None) -> bytes:
    """Verify a compact JWS with the algorithm the caller expects (the header's
    "alg" never chooses it) and return its payload. "alg":"none" raises
    VerificationError (``IOTKIT_ERR_JWT_ALG_NONE``), another alg
    ``IOTKIT_ERR_JWT_ALG``, a bad signature ``IOTKIT_ERR_BAD_SIGNATURE``; a
    malformed token InvalidArgumentError (``IOTKIT_ERR_JWT_MALFORMED``)."""
    a = _jwt_alg(alg, key)
    out = ffi.new("char **")
    n = ffi.new("size_t *")
    check(lib.iotkit_jws_verify(c_str(token), a, key._p(), out, n))
    try:
        return bytes(ffi.buffer(out[0], n[0]))
    finally:
        lib.iotkit_free(out[0])


_INT53 = 1 << 53


def _set_claim(c: Any, name: str, value: Any) -> None:
    cn = c_str(name)
    if isinstance(value, bool):
        check(lib.iotkit_jwt_claims_set_bool(c, cn, value))
    elif isinstance(value, int):
        if not -_INT53 <= value <= _INT53:
            raise _invalid("claim %r: integers must be within +-2^53" % name)
        check(lib.iotkit_jwt_claims_set_int(c, cn, value))
    elif isinstance(value, str):
        check(lib.iotkit_jwt_claims_set_string(c, cn, c_str(value)))
    elif isinstance(value, datetime.datetime):
        _set_claim(c, name, int(value.timestamp()))
    else:
        try:
            text = json.dumps(value, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as e:
            raise _invalid("claim %r: %s" % (name, e)) from None
        check(lib.iotkit_jwt_claims_set_json(c, cn, c_str(text)))


def jwt_encode(claims: Mapping[str, Any], key: PrivateKey, *, alg: Union[JwtAlg, str, None] = None,
               kid: Optional[str] = None) -> str:
    """Sign @p claims as a JWT (header {"alg":...,"typ":"JWT"[,"kid":...]}).

    Values: str, bool, int (within +-2^53), datetime (as seconds since the
    epoch), or anything :func:`json.dumps` takes (floats, lists, dicts, None).
    """
    out = ffi.new("iotkit_jwt_claims_t **")
    check(lib.iotkit_jwt_claims_new(out))
    c = ffi.gc(out[0], lib.iotkit_jwt_claims_free)
    for name, value in claims.items():
        if not isinstance(name, str):
            raise TypeError("claim names are str, not %s" % type(name).__name__)
        _set_claim(c, name, value)
    a = _jwt_alg(alg, key)
    tok = ffi.new("char **")
    check(lib.iotkit_jwt_create(c, a, key._p(), c_str(kid), tok))
    return _take_string(tok)


def _seconds(v: Union[int, float, datetime.timedelta]) -> int:
    if isinstance(v, datetime.timedelta):
        return int(v.total_seconds())
    return int(v)


def jwt_decode(token: str, key: Key, *, alg: Union[JwtAlg, str, None] = None, audience: Optional[str] = None,
               leeway: Union[int, float, datetime.timedelta] = 0,
               now: Union[int, float, datetime.datetime, None] = None, require_exp: bool = True) -> Dict[str, Any]:
    """Verify a JWT and return its claims as a dict.

    The checks of :func:`jws_verify` (with @p alg, by default the key's), then:
    "exp" (required unless @p require_exp is False: ``IOTKIT_ERR_JWT_CLAIM``
    when missing), "nbf", "iat" numbers (``IOTKIT_ERR_JWT_CLAIM``); expired when
    now >= exp + leeway (``IOTKIT_ERR_JWT_EXPIRED``), not yet valid when
    now + leeway < nbf (``IOTKIT_ERR_JWT_NOT_YET_VALID``); "aud" must contain
    @p audience when given (``IOTKIT_ERR_JWT_AUDIENCE``). All of these raise
    VerificationError. @p now is the current time in seconds since the epoch
    (or a datetime; default: the system clock); @p leeway at most 600 s.
    """
    a = _jwt_alg(alg, key)
    opts = ffi.new("iotkit_jwt_verify_opts_t *")
    lib.iotkit_jwt_verify_opts_init(opts)
    opts.alg = a
    opts.key = key._p()
    if now is None:
        opts.hal = _hals.system_hal()
    elif isinstance(now, datetime.datetime):
        opts.now_s = int(now.timestamp())
    else:
        opts.now_s = int(now)
    lw = _seconds(leeway)
    if not 0 <= lw <= JWT_MAX_LEEWAY_S:
        raise _invalid("leeway must be 0 to %d seconds, not %d" % (JWT_MAX_LEEWAY_S, lw))
    opts.leeway_s = lw
    aud = c_str(audience)
    opts.audience = aud
    opts.require_exp = require_exp
    out = ffi.new("iotkit_jwt_claims_t **")
    check(lib.iotkit_jwt_verify(c_str(token), opts, out))
    claims = ffi.gc(out[0], lib.iotkit_jwt_claims_free)
    # The C claims set cannot be enumerated: take the names from the (now
    # verified) payload and each value from the C set, so that the values are
    # the ones the C checks saw.
    names = json.loads(b64url_decode(token.split(".")[1]))
    result: Dict[str, Any] = {}
    js = ffi.new("char **")
    for name in names:
        try:
            cn = c_str(name)
        except ValueError:
            result[name] = names[name]
            continue
        check(lib.iotkit_jwt_claims_get_json(claims, cn, js))
        result[name] = json.loads(_take_string(js))
    return result


class JwtProvider:
    """Mints short-lived device tokens and re-mints them before they expire
    (``iotkit_jwt_provider_t``), e.g. as the password of a device's connection.

    Claims: {"iss": device_id, "sub": device_id[, "aud": audience], "iat": now,
    "exp": now + lifetime}; the clock is the system's. The key is referenced,
    and kept alive by this object. Calls are serialized with a lock.
    """

    def __init__(self, key: PrivateKey, device_id: str, *, alg: Union[JwtAlg, str, None] = None,
                 audience: Optional[str] = None, kid: Optional[str] = None, lifetime: int = 3600,
                 refresh_margin: int = 0) -> None:
        cfg = ffi.new("iotkit_jwt_provider_config_t *")
        lib.iotkit_jwt_provider_config_init(cfg)
        strings = [c_str(device_id), c_str(audience), c_str(kid)]
        cfg.key = key._p()
        cfg.alg = _jwt_alg(alg, key)
        cfg.device_id, cfg.audience, cfg.kid = strings
        cfg.hal = _hals.system_hal()
        cfg.lifetime_s = lifetime
        cfg.refresh_margin_s = refresh_margin
        out = ffi.new("iotkit_jwt_provider_t **")
        check(lib.iotkit_jwt_provider_new(cfg, out))
        self._key = key
        self._p: Any = ffi.gc(out[0], lib.iotkit_jwt_provider_free)
        self._lock = threading.Lock()
        #: "exp" of the last token :meth:`token` returned (seconds since the epoch).
        self.expires_at: int = 0

    def token(self) -> str:
        """The current token, minted anew when needed."""
        cap = 1024
        exp = ffi.new("int64_t *")
        with self._lock:
            if self._p is None:
                raise error_for(lib.IOTKIT_ERR_STATE, "the provider is closed")
            while True:
                buf = ffi.new("char[]", cap)
                rc = lib.iotkit_jwt_provider_get(self._p, buf, cap, exp)
                if rc == lib.IOTKIT_ERR_BUFFER_TOO_SMALL and cap < JWT_MAX_LEN + 1:
                    cap = JWT_MAX_LEN + 1
                    continue
                check(rc)
                self.expires_at = int(exp[0])
                tok = str(ffi.string(buf).decode("ascii"))
                _wipe(buf, cap)
                return tok

    def invalidate(self) -> None:
        """Drop the current token so that the next :meth:`token` mints a new one."""
        with self._lock:
            if self._p is not None:
                lib.iotkit_jwt_provider_invalidate(self._p)

    def close(self) -> None:
        """Release the provider (the cached token is wiped)."""
        with self._lock:
            self._p = None

    def __enter__(self) -> "JwtProvider":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ------------------------------------------------------------- envelopes --

def envelope_overhead(key_id: str) -> int:
    """Bytes an envelope adds to a payload under @p key_id: 30 + len(key_id)."""
    return 2 + len(key_id.encode("utf-8")) + 12 + 16


class Envelope:
    """A device's envelope key (``iotkit_envelope_t``): seals payloads end to end
    (AES-256-GCM; format version 1 of docs/protocol.md, "Payload envelope") so
    that the broker and the hub route them but can neither read nor alter them.

    The associated data binds the device id and the channel name: an envelope
    moved to another device or channel, or altered, fails to open with
    VerificationError (``IOTKIT_ERR_CRYPTO_AUTH``); one too short or of another
    version raises InvalidArgumentError (``IOTKIT_ERR_BAD_ENCODING``).

    Sealing takes nonces from a counter kept in a HAL key-value store (under
    "iotkit.envelope.<key id>"): give ``state_dir`` (a POSIX HAL is made on it)
    or ``hal`` (a HAL object, or a device binding: its HAL). Without either the
    handle only opens (:meth:`seal` raises UnsupportedError). ``sender`` is 0 for
    the device, 1 for the fleet side. The 32-byte key is copied and wiped when
    the handle is freed (:meth:`close` or garbage collection).
    """

    def __init__(self, key: Bytes, key_id: str, device_id: str, *, state_dir: Optional[str] = None,
                 hal: Any = None, sender: int = 0, nonce_block: int = 0) -> None:
        if state_dir is not None and hal is not None:
            raise _invalid("give state_dir or hal, not both")
        if state_dir is not None:
            hal = _hals.PosixHal(state_dir)
        self._hal = _hals.resolve(hal)
        kp, _ = _fixed(key, 32, "key")
        kbuf = ffi.new("uint8_t[32]")
        ffi.memmove(kbuf, kp, 32)
        cfg = ffi.new("iotkit_envelope_config_t *")
        lib.iotkit_envelope_config_init(cfg)
        kid, dev = c_str(key_id), c_str(device_id)
        cfg.key, cfg.key_id, cfg.device_id, cfg.hal = kbuf, kid, dev, self._hal.ptr
        cfg.sender = sender
        if nonce_block:
            cfg.nonce_block = nonce_block
        out = ffi.new("iotkit_envelope_t **")
        try:
            check(lib.iotkit_envelope_new(cfg, out))
        finally:
            _wipe(kbuf, 32)
        self._env: Any = ffi.gc(out[0], lib.iotkit_envelope_free)
        self._lock = threading.Lock()
        self.key_id = key_id
        self.device_id = device_id

    def _e(self) -> Any:
        if self._env is None:
            raise error_for(lib.IOTKIT_ERR_STATE, "the envelope key is closed")
        return self._env

    def seal(self, channel: str, payload: Text) -> bytes:
        """The envelope of @p payload for @p channel (e.g. "telemetry")."""
        pp, pn = _buf(payload, "payload")
        cap = pn + envelope_overhead(self.key_id)
        out = ffi.new("uint8_t[]", cap)
        n = ffi.new("size_t *")
        ch = c_str(channel)
        with self._lock, self._hal.use():
            check(lib.iotkit_envelope_seal(self._e(), ch, pp, pn, out, cap, n))
        return bytes(ffi.buffer(out, n[0]))

    def open(self, channel: str, envelope: Bytes) -> bytes:
        """The payload of @p envelope, which arrived on @p channel."""
        ip, inn = _buf(envelope, "envelope")
        cap = max(inn, 1)
        out = ffi.new("uint8_t[]", cap)
        n = ffi.new("size_t *")
        try:
            check(lib.iotkit_envelope_open(self._e(), c_str(channel), ip, inn, out, cap, n))
            return bytes(ffi.buffer(out, n[0]))
        finally:
            _wipe(out, cap)

    @staticmethod
    def peek_key_id(envelope: Bytes) -> str:
        """The key id of @p envelope, to choose the key; NOT authenticated until :meth:`open` succeeds."""
        ip, inn = _buf(envelope, "envelope")
        kid = ffi.new("char[]", ENVELOPE_MAX_KID + 1)
        check(lib.iotkit_envelope_peek_key_id(ip, inn, kid, ENVELOPE_MAX_KID + 1))
        return str(ffi.string(kid).decode("ascii"))

    def close(self) -> None:
        """Release the handle (the key is wiped once no call uses it)."""
        with self._lock:
            self._env = None

    def __enter__(self) -> "Envelope":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
