"""libiotkit's log lines, routed to Python's :mod:`logging` (logger ``"iotkit"``).

Every HAL the bindings make (POSIX or memory) gets :func:`_iotkit_py_log` as its
log sink, with no user pointer: the sink needs no per-device state, so it can
never reach freed memory, whatever thread logs and whenever. Lines keep the
library's text (which names the device, e.g. ``"device sensor-1: connected"``).

Level mapping: ``error`` -> ERROR, ``warn`` -> WARNING, ``info`` -> INFO,
``debug`` -> DEBUG, ``trace`` -> 5 (named ``TRACE``).
"""
from __future__ import annotations

import logging
from typing import Optional

from ._native import ffi, lib

__all__ = ["logger", "TRACE", "c_level", "py_level"]

logger = logging.getLogger("iotkit")

#: The level of libiotkit's ``trace`` lines (below DEBUG).
TRACE = 5
logging.addLevelName(TRACE, "TRACE")

_TO_PY = {
    lib.IOTKIT_LOG_ERROR: logging.ERROR,
    lib.IOTKIT_LOG_WARN: logging.WARNING,
    lib.IOTKIT_LOG_INFO: logging.INFO,
    lib.IOTKIT_LOG_DEBUG: logging.DEBUG,
    lib.IOTKIT_LOG_TRACE: TRACE,
}


def py_level(c_level: int) -> int:
    """The :mod:`logging` level of a libiotkit log level."""
    return _TO_PY.get(c_level, logging.DEBUG)


def c_level(level: Optional[int] = None) -> int:
    """The libiotkit level that lets through every line :mod:`logging` would keep at
    ``level`` (default: the ``"iotkit"`` logger's effective level now)."""
    if level is None:
        level = logger.getEffectiveLevel()
    if level <= TRACE:
        return int(lib.IOTKIT_LOG_TRACE)
    if level <= logging.DEBUG:
        return int(lib.IOTKIT_LOG_DEBUG)
    if level <= logging.INFO:
        return int(lib.IOTKIT_LOG_INFO)
    if level <= logging.WARNING:
        return int(lib.IOTKIT_LOG_WARN)
    return int(lib.IOTKIT_LOG_ERROR)


def _log_onerror(exception, exc_value, traceback) -> None:
    # A failure inside the sink (e.g. at interpreter shutdown) must not reach C.
    return None


@ffi.def_extern(onerror=_log_onerror)
def _iotkit_py_log(user, level, line) -> None:  # pragma: no cover - exercised through the HAL
    lvl = _TO_PY.get(level, logging.DEBUG)
    if logger.isEnabledFor(lvl):
        logger.log(lvl, "%s", ffi.string(line).decode("utf-8", "replace"))
