"""Exceptions: one class per family of C error codes (``iotkit_err_t``).

Every exception carries the C code (``.code``, an int such as -8), its name
(``.name``, such as ``"IOTKIT_ERR_TIMEOUT"``) and the detail the handle gave
(``.detail``, the handle's last-error text, possibly empty). ``str(exc)`` reads
``"operation timed out: no CONNACK from 127.0.0.1:1883 within 5000 ms"``.

Hierarchy::

    IotkitError
    ├── ConnectionError_        (CONNECT, NOT_CONNECTED, CONNECTION_LOST, TLS, PROTOCOL)
    │   └── OfflineError        (OFFLINE: the fleet holds the device offline)
    ├── AuthenticationError     (AUTH)
    ├── TimeoutError_           (TIMEOUT)
    ├── NotFoundError           (NOT_FOUND)
    ├── AlreadyExistsError      (EXISTS)
    ├── InvalidArgumentError    (INVALID_ARG, BAD_URI, UNKNOWN_SCHEME, BAD_ENCODING, BAD_KEY, JWT_MALFORMED, OTA_MANIFEST)
    ├── VerificationError       (CRYPTO_AUTH, BAD_SIGNATURE, JWT_*, OTA_SIGNATURE, OTA_UNKNOWN_KEY, OTA_HASH, OTA_SIZE)
    ├── TooLargeError           (TOO_LARGE, OTA_TOO_LARGE, BUFFER_TOO_SMALL)
    ├── StateError              (STATE, BUSY)
    ├── QueueFullError          (QUEUE_FULL)
    ├── UnsupportedError        (UNSUPPORTED)
    └── RemoteError             (REMOTE: the device answered a command with an error;
                                 ``.error_code``/``.error_message`` hold what it said)

Codes not listed raise :class:`IotkitError` itself. ``ConnectionError_`` also
derives from the built-in :class:`ConnectionError`, ``TimeoutError_`` from
:class:`TimeoutError`, ``InvalidArgumentError`` from :class:`ValueError`, and
``NotFoundError`` from :class:`LookupError`, so generic handlers work; they are
also exported without the trailing underscore as ``iotkit.ConnectionError`` and
``iotkit.TimeoutError``.
"""
from __future__ import annotations

import builtins
from typing import Dict, Optional, Type

from ._native import lib, py_str

__all__ = [
    "IotkitError", "ConnectionError_", "AuthenticationError", "TimeoutError_", "NotFoundError",
    "AlreadyExistsError", "InvalidArgumentError", "VerificationError", "TooLargeError", "StateError",
    "QueueFullError", "UnsupportedError", "OfflineError", "RemoteError", "error_for", "check",
]


class IotkitError(Exception):
    """An error reported by libiotkit: ``code`` (int), ``name`` and ``detail`` (str)."""

    code: int
    name: str
    detail: str

    def __init__(self, code: int, detail: str = "", message: Optional[str] = None) -> None:
        self.code = int(code)
        self.name = py_str(lib.iotkit_err_name(self.code))
        self.detail = detail or ""
        base = message if message is not None else py_str(lib.iotkit_strerror(self.code))
        super().__init__(base + (": " + self.detail if self.detail else ""))


class ConnectionError_(IotkitError, builtins.ConnectionError):
    """Could not connect, not connected, connection lost, TLS or protocol failure."""


class AuthenticationError(IotkitError):
    """The server refused the credentials or the operation (authorisation)."""


class TimeoutError_(IotkitError, builtins.TimeoutError):
    """An operation did not finish in time."""


class NotFoundError(IotkitError, LookupError):
    """The thing named does not exist."""


class AlreadyExistsError(IotkitError):
    """The thing to create exists already."""


class InvalidArgumentError(IotkitError, ValueError):
    """A malformed or out-of-range argument (also bad URIs, keys and encodings)."""


class VerificationError(IotkitError):
    """A signature, tag, token or image did not verify."""


class TooLargeError(IotkitError):
    """A payload or value is larger than allowed."""


class StateError(IotkitError):
    """The operation is not valid now (e.g. from inside the device's own callback)."""


class QueueFullError(IotkitError):
    """The durable telemetry queue is full and refuses new messages."""


class UnsupportedError(IotkitError):
    """The operation is not supported by this build or backend."""


class OfflineError(ConnectionError_):
    """The device is offline in the fleet's view: a command to it was not sent."""


class RemoteError(IotkitError):
    """The device answered a command with an error: ``error_code`` (e.g.
    ``"unknown_command"``, ``"invalid_params"``, or a handler's own) and
    ``error_message`` are what it said (``""`` when not known)."""

    error_code: str = ""
    error_message: str = ""


_FAMILIES: Dict[str, Type[IotkitError]] = {
    "CONNECT": ConnectionError_, "NOT_CONNECTED": ConnectionError_, "CONNECTION_LOST": ConnectionError_,
    "TLS": ConnectionError_, "PROTOCOL": ConnectionError_,
    "AUTH": AuthenticationError,
    "TIMEOUT": TimeoutError_,
    "NOT_FOUND": NotFoundError,
    "EXISTS": AlreadyExistsError,
    "INVALID_ARG": InvalidArgumentError, "BAD_URI": InvalidArgumentError, "UNKNOWN_SCHEME": InvalidArgumentError,
    "BAD_ENCODING": InvalidArgumentError, "BAD_KEY": InvalidArgumentError, "JWT_MALFORMED": InvalidArgumentError,
    "OTA_MANIFEST": InvalidArgumentError,
    "CRYPTO_AUTH": VerificationError, "BAD_SIGNATURE": VerificationError, "OTA_SIGNATURE": VerificationError,
    "OTA_UNKNOWN_KEY": VerificationError, "OTA_HASH": VerificationError, "OTA_SIZE": VerificationError,
    "TOO_LARGE": TooLargeError, "OTA_TOO_LARGE": TooLargeError, "BUFFER_TOO_SMALL": TooLargeError,
    "STATE": StateError, "BUSY": StateError,
    "QUEUE_FULL": QueueFullError,
    "UNSUPPORTED": UnsupportedError,
    "OFFLINE": OfflineError,
    "REMOTE": RemoteError,
}


def _family(code: int) -> Type[IotkitError]:
    name = py_str(lib.iotkit_err_name(code))
    if name.startswith("IOTKIT_ERR_"):
        name = name[len("IOTKIT_ERR_"):]
    if name.startswith("JWT_"):
        return InvalidArgumentError if name == "JWT_MALFORMED" else VerificationError
    return _FAMILIES.get(name, IotkitError)


def error_for(code: int, detail: str = "") -> IotkitError:
    """The exception object for C code @p code with @p detail."""
    return _family(code)(code, detail)


def check(code: int, detail_fn=None) -> None:
    """Raise the exception for @p code unless it is IOTKIT_OK; @p detail_fn() gives the detail."""
    if code != lib.IOTKIT_OK:
        raise error_for(code, detail_fn() if detail_fn else "")
