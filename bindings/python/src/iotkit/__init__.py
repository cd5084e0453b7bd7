"""libiotkit for Python: devices that talk MQTT, CoAP or HTTP to the cloud,
with durable telemetry, device state, commands, OTA and crypto, all done in C.

    import iotkit

    with iotkit.Device("sensor-1", "mqtt://127.0.0.1:1883", state_dir="/var/lib/sensor") as dev:
        dev.send_telemetry({"temp": 21.5})

See ``help(iotkit.Device)``, ``iotkit.aio`` for asyncio, and ``iotkit.errors``
for the exceptions.
"""
from __future__ import annotations

from typing import Dict

from ._native import ffi, lib, py_str
from .errors import (AlreadyExistsError, AuthenticationError, ConnectionError_, InvalidArgumentError,
                     IotkitError, NotFoundError, QueueFullError, StateError, TimeoutError_, TooLargeError,
                     UnsupportedError, VerificationError, OfflineError, RemoteError)
from .device import (FD_READ, FD_WRITE, TLS, CommandError, CommandRequest, Desired, Device, QueueStats,
                     TelemetryStats)
from . import aio  # noqa: E402 - iotkit.aio.Device
from .fleet import (CommandResult, DesiredResult, Fleet, FleetDevice, FleetPage, FleetStats,  # noqa: E402
                    Location, Presence, ReportedState, Rollout, RolloutGroup, RolloutState)

from . import crypto, ota, telemetry  # noqa: E402,F401 - iotkit.crypto, iotkit.ota, iotkit.telemetry

ConnectionError = ConnectionError_  # noqa: A001 - the family's public name (also a builtins.ConnectionError)
TimeoutError = TimeoutError_  # noqa: A001 - likewise (also a builtins.TimeoutError)

__version__ = "0.2.0"


def library_version() -> str:
    """Version of the libiotkit actually loaded, e.g. ``"0.2.0"``."""
    return py_str(lib.iotkit_version())


def library_version_number() -> int:
    """Version of the loaded libiotkit as 0xMMmmpp (``0x000200`` for 0.2.0)."""
    return int(lib.iotkit_version_number())


def limits() -> Dict[str, int]:
    """The build-time limits of the loaded libiotkit, e.g. ``{"MAX_DEVICE_ID": 64, ...}``."""
    out: Dict[str, int] = {}
    i = 0
    while True:
        name = lib.iotkit_limit_name(i)
        if name == ffi.NULL:
            return out
        out[py_str(name)] = int(lib.iotkit_limit(i))
        i += 1


__all__ = [
    "__version__", "library_version", "library_version_number", "limits",
    "IotkitError", "ConnectionError", "AuthenticationError", "TimeoutError", "NotFoundError",
    "AlreadyExistsError", "InvalidArgumentError", "VerificationError", "TooLargeError", "StateError",
    "QueueFullError", "UnsupportedError", "OfflineError", "RemoteError",
    "crypto", "ota", "telemetry",
    "Device", "TLS", "Desired", "TelemetryStats", "QueueStats", "CommandError", "CommandRequest",
    "FD_READ", "FD_WRITE", "aio", "Fleet", "FleetDevice", "FleetPage",
    "FleetStats", "Presence", "ReportedState", "CommandResult", "DesiredResult", "Location", "Rollout",
    "RolloutGroup", "RolloutState",
]
