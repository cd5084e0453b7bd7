"""Fleet, continued: the results of commands and desired state (one per device),
targets (a list of ids, or every record matching a registry filter:
``iotkit_fleet_target_t``), and the group operations of fleet_control.h."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, List, Mapping, Optional, Tuple

from . import errors
from ._fleet_session import json_or
from ._fleet_util import TimeBound, _encode, _invalid, _seconds_ms, json_object, make_filter
from ._native import ffi, lib, py_str

__all__ = ["CommandResult", "DesiredResult", "ControlStats"]

_DEFAULT_TIMEOUT_MS = int(lib.IOTKIT_FLEET_COMMAND_TIMEOUT_DEFAULT_MS)
_MAX_TIMEOUT_MS = int(lib.IOTKIT_FLEET_COMMAND_TIMEOUT_MAX_MS)


@dataclass(frozen=True)
class CommandResult:
    """What one device did with a command (:meth:`Fleet.call_group`, ``iotkit.aio.Fleet``).

    ``error`` is None when the device answered "ok" (``result`` holds its result, decoded JSON),
    else the exception :meth:`Fleet.call` would raise: :class:`~iotkit.RemoteError` (with
    ``error_code``/``error_message``), :class:`~iotkit.TimeoutError`, :class:`~iotkit.NotFoundError`
    (not registered), :class:`~iotkit.OfflineError` (nothing sent), :class:`~iotkit.ConnectionError`."""

    device_id: str
    """The device."""
    result: Any
    """Its result (decoded JSON, usually a dict) when ``ok``, else None."""
    error: Optional[errors.IotkitError]
    """None, or why there is no result."""
    request_id: str
    """The request id sent (``""`` when nothing was sent)."""

    @property
    def ok(self) -> bool:
        """Whether the device answered "ok"."""
        return self.error is None

    def unwrap(self) -> Any:
        """The result, or raise :attr:`error`."""
        if self.error is not None:
            raise self.error
        return self.result


@dataclass(frozen=True)
class DesiredResult:
    """What :meth:`Fleet.set_desired_group` did for one device: the ``version`` published, or
    the ``error`` (:class:`~iotkit.NotFoundError` for an id not registered, ...)."""

    device_id: str
    """The device."""
    version: Optional[int]
    """The version published, or None on error."""
    error: Optional[errors.IotkitError]
    """None, or why nothing was published."""

    @property
    def ok(self) -> bool:
        """Whether the document was stored and published."""
        return self.error is None

    def unwrap(self) -> int:
        """The version, or raise :attr:`error`."""
        if self.error is not None:
            raise self.error
        assert self.version is not None
        return self.version


@dataclass(frozen=True)
class ControlStats:
    """Counters of remote control since the fleet was created (``iotkit_fleet_control_stats_t``)."""

    commands_sent: int
    responses: int
    remote_errors: int
    timeouts: int
    late_responses: int
    unmatched_responses: int
    desired_published: int


def result_error(item: Any, name: str, timeout_ms: int) -> Optional[errors.IotkitError]:
    """The exception of one C result (None for IOTKIT_OK)."""
    code = int(item.err)
    dev = py_str(item.device_id)
    if code == lib.IOTKIT_OK:
        return None
    if code == lib.IOTKIT_ERR_REMOTE:
        rcode = py_str(item.error_code) if item.error_code != ffi.NULL else ""
        rmsg = py_str(item.error_message) if item.error_message != ffi.NULL else ""
        exc = errors.error_for(code, "device %r answered command %r with %s%s"
                               % (dev, name, rcode, ": " + rmsg if rmsg else ""))
        exc.error_code, exc.error_message = rcode, rmsg  # type: ignore[attr-defined]
        return exc
    if code == lib.IOTKIT_ERR_TIMEOUT:
        return errors.error_for(code, "command %r to %r: no answer within %d ms"
                                % (name, dev, timeout_ms or _DEFAULT_TIMEOUT_MS))
    if code == lib.IOTKIT_ERR_OFFLINE:
        return errors.error_for(code, "device %r is offline: command %r not sent" % (dev, name))
    if code == lib.IOTKIT_ERR_NOT_FOUND:
        return errors.error_for(code, "no device %r in the registry" % dev)
    return errors.error_for(code, "command %r to %r" % (name, dev))


def command_result(item: Any, name: str, timeout_ms: int) -> CommandResult:
    """A CommandResult of one C result (valid during the call only: everything is copied)."""
    err = result_error(item, name, timeout_ms)
    rid = py_str(item.request_id) if item.request_id != ffi.NULL else ""
    return CommandResult(py_str(item.device_id), json_or(item.result_json, {}) if err is None else None, err, rid)


def timeout_ms(timeout: Optional[float]) -> int:
    """A command timeout in seconds (None: the library's default) as ms."""
    return _seconds_ms(timeout, "timeout", 1, _MAX_TIMEOUT_MS)


def make_target(devices: Optional[Iterable[str]], type: Optional[str], tag: Optional[str],
                online: Optional[bool], seen_before: Optional[TimeBound], seen_after: Optional[TimeBound],
                all: bool, keep: List[Any]) -> Any:
    """An iotkit_fleet_target_t: the ids of @p devices, or the filter of the other conditions
    (``all=True``: every record). Nothing (or ids and a filter both) is left for the library
    to refuse with IOTKIT_ERR_INVALID_ARG, except all=True with conditions (ambiguous)."""
    tgt = ffi.new("iotkit_fleet_target_t *")
    lib.iotkit_fleet_target_init(tgt)
    keep.append(tgt)
    conditions = any(v is not None for v in (type, tag, online, seen_before, seen_after))
    if not isinstance(all, bool):
        raise TypeError("all must be True or False")
    if all and conditions:
        raise _invalid("all=True selects every device: give no type, tag, online or seen_* condition with it")
    if devices is not None:
        if isinstance(devices, (str, bytes)):
            raise TypeError("devices must be an iterable of ids, not a single %s" % type_name(devices))
        ids = [_encode(d, "device id", keep) for d in devices]
        if ids:
            arr = ffi.new("const char *[]", ids)
            keep.append(arr)
            tgt.ids = arr
            tgt.id_count = len(ids)
        elif not (all or conditions):
            raise _invalid("no devices to address (an empty list)")
    if all or conditions:
        tgt.filter = make_filter(type, tag, online, seen_before, seen_after, keep)
    return tgt


def type_name(value: Any) -> str:
    return type(value).__name__


def desired_result(it: Any) -> DesiredResult:
    """A DesiredResult of one C result."""
    dev = py_str(it.device_id)
    if it.err == lib.IOTKIT_OK:
        return DesiredResult(dev, int(it.version), None)
    what = "no device %r in the registry" % dev if it.err == lib.IOTKIT_ERR_NOT_FOUND else "desired state of %r" % dev
    return DesiredResult(dev, None, errors.error_for(it.err, what))


class GroupControl:
    """The group operations of :class:`~iotkit.Fleet` (a mixin; see the Fleet docstring)."""

    _h: Any
    _db_path: str

    def _error(self, fleet: Any, code: int, what: str,
               detailed: bool = False) -> errors.IotkitError:  # pragma: no cover - Fleet's
        raise NotImplementedError

    def _results(self, fn: Any, args: Tuple[Any, ...], what: str, convert: Callable[[Any], Any]) -> Any:
        """Call ``fn(fleet, *args, &results)``, re-raise a callback's exception, raise the call's
        error (when it returned no results), else give ``convert(results)`` and free them."""
        out = ffi.new("iotkit_fleet_results_t **")
        fleet = self._h.acquire(self._db_path)
        try:
            code = fn(fleet, *args, out)
            err = self._error(fleet, code, what) if code != lib.IOTKIT_OK and out[0] == ffi.NULL else None
        finally:
            self._h.release()
        res = out[0]
        try:
            self._h.session.raise_pending()
            if err is not None:
                raise err
            return convert(res)
        finally:
            if res != ffi.NULL:
                lib.iotkit_fleet_results_free(res)

    def call_group(self, name: str, params: Optional[Mapping[str, Any]] = None, *,
                   devices: Optional[Iterable[str]] = None, type: Optional[str] = None,
                   tag: Optional[str] = None, online: Optional[bool] = None,
                   seen_before: Optional[TimeBound] = None, seen_after: Optional[TimeBound] = None,
                   all: bool = False, timeout: Optional[float] = None) -> List[CommandResult]:
        """Send command @p name with @p params to a group of devices and wait (at most
        @p timeout seconds, None: 35 s) for every answer. The group is ``devices`` (a list of
        ids), or every registered device matching ``type``/``tag``/``online``/``seen_before``/
        ``seen_after`` (as :meth:`Fleet.list`), or ``all=True`` (every registered device).

        Returns one :class:`CommandResult` per device (in the list's order, or in id order for a
        filter); devices unknown, offline or silent get their error there, nothing is raised for
        them. Raises InvalidArgumentError (no target, both a list and conditions, all=True with
        conditions, an id repeated or breaking the id rule, a bad name or params, timeout out of
        range), TooLargeError (more than IOTKIT_FLEET_MAX_TARGETS devices, name or params too
        long), ConnectionError (no session), StateError (from a callback of this fleet), TypeError."""
        keep: List[Any] = []
        tgt = make_target(devices, type, tag, online, seen_before, seen_after, all, keep)
        cname = _encode(name, "command name", keep)
        cparams = json_object(params, "params", keep)
        ms = timeout_ms(timeout)
        return self._results(lib.iotkit_fleet_command_group_call, (tgt, cname, cparams, ms),
                             "command %r to a group" % name,
                             lambda res: [command_result(res.items[i], name, ms) for i in range(res.count)])

    def set_desired_group(self, patch: Mapping[str, Any], *, devices: Optional[Iterable[str]] = None,
                          type: Optional[str] = None, tag: Optional[str] = None, online: Optional[bool] = None,
                          seen_before: Optional[TimeBound] = None, seen_after: Optional[TimeBound] = None,
                          all: bool = False) -> List[DesiredResult]:
        """:meth:`Fleet.set_desired` for a group (chosen as in :meth:`call_group`); one database
        transaction writes every device's new document. Returns one :class:`DesiredResult` per
        device (an id not registered gets NotFoundError there). Raises as :meth:`call_group` for
        the target, as :meth:`Fleet.set_desired` for the patch and the session."""
        if patch is None:
            raise TypeError("patch must be a dict, not None")
        keep: List[Any] = []
        tgt = make_target(devices, type, tag, online, seen_before, seen_after, all, keep)
        cpatch = json_object(patch, "patch", keep)
        return self._results(lib.iotkit_fleet_desired_group, (tgt, cpatch), "desired state of a group",
                             lambda res: [desired_result(res.items[i]) for i in range(res.count)])

    def _counters(self, ctype: str, fn: Any, cls: Any) -> Any:  # pragma: no cover - Fleet's
        raise NotImplementedError

    def control_stats(self) -> ControlStats:
        """The counters of commands and desired state."""
        return self._counters("iotkit_fleet_control_stats_t *", lib.iotkit_fleet_control_stats_sized, ControlStats)
