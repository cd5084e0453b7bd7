"""Fleet, continued: staged OTA rollouts (fleet_rollout.h). A signed manifest goes
to a target set of devices in groups, each gated by a success and an error
threshold (hawkBit's rules); progress is read back with :meth:`Fleet.rollout`
and :meth:`Fleet.rollout_devices`, or followed with ``on_rollout``."""
from __future__ import annotations

import datetime as _dt
import enum
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Sequence, Tuple, Union

from . import errors
from ._fleet_targets import make_target
from ._fleet_util import TimeBound, _encode, _from_ms, _invalid
from ._native import ffi, lib, py_str

__all__ = ["RolloutState", "GroupState", "TargetState", "RolloutGroup", "RolloutCounts", "RolloutGroupInfo",
           "Rollout", "RolloutDevice", "RolloutEvent"]

#: Most groups in one rollout.
MAX_GROUPS = int(lib.IOTKIT_FLEET_ROLLOUT_MAX_GROUPS)


class RolloutState(enum.IntEnum):
    """State of a rollout (``iotkit_fleet_rollout_state_t``)."""

    READY = 0
    RUNNING = 1
    PAUSED = 2
    FINISHED = 3
    CANCELED = 4

    @property
    def label(self) -> str:
        """The C name: "ready", "running", "paused", "finished", "canceled"."""
        return py_str(lib.iotkit_fleet_rollout_state_name(int(self)))

    @property
    def ended(self) -> bool:
        """FINISHED or CANCELED."""
        return self in (RolloutState.FINISHED, RolloutState.CANCELED)


class GroupState(enum.IntEnum):
    """State of a group of a rollout (``iotkit_fleet_group_state_t``)."""

    SCHEDULED = 0
    RUNNING = 1
    SUCCESS = 2
    ERROR = 3

    @property
    def label(self) -> str:
        """The C name: "scheduled", "running", "success", "error"."""
        return py_str(lib.iotkit_fleet_group_state_name(int(self)))


class TargetState(enum.IntEnum):
    """State of a device in a rollout (``iotkit_fleet_rollout_device_state_t``)."""

    PENDING = 0
    RUNNING = 1
    FINISHED = 2
    ERROR = 3
    CANCELED = 4

    @property
    def label(self) -> str:
        """The C name: "pending", "running", "finished", "error", "canceled"."""
        return py_str(lib.iotkit_fleet_rollout_device_state_name(int(self)))


@dataclass(frozen=True)
class RolloutGroup:
    """One group as asked for: ``count`` devices, or (count 0) ``percent`` % of the whole
    target set (rounded up); thresholds ``success_pct`` and ``error_pct`` (0..100 %)."""

    count: int = 0
    percent: int = 0
    success_pct: int = int(lib.IOTKIT_FLEET_ROLLOUT_SUCCESS_DEFAULT)
    error_pct: int = int(lib.IOTKIT_FLEET_ROLLOUT_ERROR_DEFAULT)


@dataclass(frozen=True)
class RolloutCounts:
    """Devices of a group or a rollout, by state."""

    total: int
    pending: int
    running: int
    finished: int
    error: int
    canceled: int


@dataclass(frozen=True)
class RolloutGroupInfo:
    """One group of a rollout as it stands."""

    state: GroupState
    success_pct: int
    error_pct: int
    counts: RolloutCounts
    started_ms: int
    """When it started (ms since the epoch), 0 if not yet."""


@dataclass(frozen=True)
class Rollout:
    """A rollout as it stands (a snapshot: read again with :meth:`Fleet.rollout`)."""

    id: str
    device_type: str
    """The manifest's device type."""
    version: str
    """The manifest's version."""
    state: RolloutState
    groups: Tuple[RolloutGroupInfo, ...]
    started_groups: int
    """Groups started so far."""
    error_group: Optional[int]
    """The group whose error action paused it, or None."""
    reason: str
    """Why it is paused (``""`` otherwise)."""
    counts: RolloutCounts
    """Every device, by state."""
    created_ms: int
    updated_ms: int

    @property
    def created(self) -> _dt.datetime:
        """:attr:`created_ms` as a UTC datetime."""
        return _from_ms(self.created_ms)

    @property
    def updated(self) -> _dt.datetime:
        """:attr:`updated_ms` (its latest change of state) as a UTC datetime."""
        return _from_ms(self.updated_ms)


@dataclass(frozen=True)
class RolloutDevice:
    """One device of a rollout: its group (0-based), state, the download progress it last
    reported (0..100), the error name it reported (``"IOTKIT_ERR_OTA_HASH"``) or ``""``, and
    when it last changed (ms, 0 if never)."""

    device_id: str
    group: int
    state: TargetState
    percent: int
    error: str
    updated_ms: int


@dataclass(frozen=True)
class RolloutEvent:
    """A change in a rollout (``on_rollout``): the rollout's ``state`` after it; ``group`` and
    ``group_state`` (None for a change of the whole rollout); ``device_id``, ``device_state``,
    ``percent`` and ``error`` when a device's status changed (``device_id`` None otherwise)."""

    rollout_id: str
    state: RolloutState
    group: Optional[int]
    group_state: Optional[GroupState]
    device_id: Optional[str]
    device_state: Optional[TargetState]
    percent: int
    error: str


def _counts(c: Any) -> RolloutCounts:
    return RolloutCounts(int(c.total), int(c.pending), int(c.running), int(c.finished), int(c.error),
                         int(c.canceled))


def _info(p: Any) -> Rollout:
    groups = tuple(RolloutGroupInfo(GroupState(int(g.state)), int(g.success_pct), int(g.error_pct),
                                    _counts(g.counts), int(g.started_ms))
                   for g in (p.groups[i] for i in range(p.group_count)))
    return Rollout(py_str(p.id), py_str(p.device_type), py_str(p.version), RolloutState(int(p.state)), groups,
                   int(p.started_groups), None if p.error_group < 0 else int(p.error_group),
                   py_str(p.reason) if p.reason != ffi.NULL else "", _counts(p.counts), int(p.created_ms),
                   int(p.updated_ms))


def _device(d: Any) -> RolloutDevice:
    return RolloutDevice(py_str(ffi.cast("char *", d.device_id)), int(d.group), TargetState(int(d.state)),
                         int(d.percent), py_str(ffi.cast("char *", d.error)), int(d.updated_ms))


def event_from(ev: Any) -> RolloutEvent:
    """A RolloutEvent of the C event (valid during the callback only: copied)."""
    has_dev = ev.device_id != ffi.NULL
    group = int(ev.group)
    return RolloutEvent(py_str(ev.rollout_id), RolloutState(int(ev.state)), None if group < 0 else group,
                        None if group < 0 else GroupState(int(ev.group_state)),
                        py_str(ev.device_id) if has_dev else None,
                        TargetState(int(ev.device_state)) if has_dev else None, int(ev.percent),
                        py_str(ev.error) if ev.error != ffi.NULL else "")


def _manifest_bytes(manifest: Any) -> bytes:
    text = getattr(manifest, "text", manifest)  # an iotkit.ota.Manifest: the text it was parsed from
    if isinstance(text, str):
        return text.encode("utf-8")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError("manifest must be str, bytes or an iotkit.ota.Manifest, not %s" % type(manifest).__name__)


def _uint(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int" % what)
    if not 0 <= value <= 0xFFFFFFFF:
        raise _invalid("%s out of range: %r" % (what, value))
    return value


def _group_specs(groups: Optional[Sequence[Union[int, RolloutGroup]]], keep: List[Any]) -> Tuple[Any, int]:
    if groups is None:
        groups = [RolloutGroup(percent=100)]
    if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence):
        raise TypeError("groups must be a sequence of RolloutGroup or int (a count)")
    if not groups:
        raise _invalid("a rollout needs at least one group")
    if len(groups) > MAX_GROUPS:
        raise _invalid("a rollout has at most %d groups, not %d" % (MAX_GROUPS, len(groups)))
    arr = ffi.new("iotkit_fleet_group_spec_t[]", len(groups))
    keep.append(arr)
    for i, g in enumerate(groups):
        lib.iotkit_fleet_group_spec_init(ffi.addressof(arr, i))
        if isinstance(g, int) and not isinstance(g, bool):
            g = RolloutGroup(count=g)
        if not isinstance(g, RolloutGroup):
            raise TypeError("group %d must be a RolloutGroup or an int, not %s" % (i, type(g).__name__))
        arr[i].count = _uint(g.count, "group %d count" % i)
        arr[i].percent = _uint(g.percent, "group %d percent" % i)
        arr[i].success_pct = _uint(g.success_pct, "group %d success_pct" % i)
        arr[i].error_pct = _uint(g.error_pct, "group %d error_pct" % i)
    return arr, len(groups)


class Rollouts:
    """The rollout operations of :class:`~iotkit.Fleet` (a mixin; see the Fleet docstring)."""

    _h: Any
    _db_path: str

    def _error(self, fleet: Any, code: int, what: str,
               detailed: bool = False) -> errors.IotkitError:  # pragma: no cover - Fleet's
        raise NotImplementedError

    def set_ota_trust(self, trust: Any) -> None:
        """The keys rollouts' manifests are checked with (an :class:`iotkit.ota.TrustStore`, kept
        alive by the fleet), or None for none (every manifest is then refused with
        VerificationError ``IOTKIT_ERR_OTA_UNKNOWN_KEY``). Later changes to the store apply."""
        from .ota import TrustStore

        if trust is not None and not isinstance(trust, TrustStore):
            raise TypeError("trust must be an iotkit.ota.TrustStore or None, not %s" % type(trust).__name__)
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_set_ota_trust(fleet, ffi.NULL if trust is None else trust._ptr)
            if code != lib.IOTKIT_OK:  # pragma: no cover - only for NULL
                raise self._error(fleet, code, "set OTA trust")
            self._h.trust = trust  # the C fleet keeps the pointer
        finally:
            self._h.release()

    def create_rollout(self, id: str, manifest: Any, *, groups: Optional[Sequence[Union[int, RolloutGroup]]] = None,
                       devices: Optional[Iterable[str]] = None, type: Optional[str] = None,
                       tag: Optional[str] = None, online: Optional[bool] = None,
                       seen_before: Optional[TimeBound] = None, seen_after: Optional[TimeBound] = None,
                       all: bool = False) -> Rollout:
        """Create rollout @p id (READY; nothing is published until :meth:`start_rollout`) of the
        signed @p manifest (str, bytes or :class:`iotkit.ota.Manifest`), checked as a device does
        with the store of :meth:`set_ota_trust`. Targets: ``devices`` (registered ids), or every
        record matching ``type``/``tag``/``online``/``seen_*``, or ``all=True``, dealt in order to
        ``groups`` (a list of :class:`RolloutGroup`, or ints as counts; default: one group of
        100 %, thresholds 50/50); devices left after the last group join it. Returns the rollout.

        Raises InvalidArgumentError (``IOTKIT_ERR_OTA_MANIFEST``: malformed or unsigned; else a bad
        id, no target or both kinds, a device given twice, no or too many groups, a threshold or
        percent over 100, a group with neither count nor percent, percentages over 100 in all),
        VerificationError (``IOTKIT_ERR_OTA_UNKNOWN_KEY``, ``IOTKIT_ERR_OTA_SIGNATURE``),
        NotFoundError (a listed device is not registered), AlreadyExistsError (the id is taken),
        StateError (``IOTKIT_ERR_BUSY``: a target is in another rollout not ended), TypeError."""
        keep: List[Any] = []
        spec = ffi.new("iotkit_fleet_rollout_spec_t *")
        lib.iotkit_fleet_rollout_spec_init(spec)
        spec.id = _encode(id, "rollout id", keep)
        data = _manifest_bytes(manifest)
        buf = ffi.new("char[]", data)
        keep.append(buf)
        spec.manifest, spec.manifest_len = buf, len(data)
        tgt = make_target(devices, type, tag, online, seen_before, seen_after, all, keep)
        spec.device_ids, spec.device_count, spec.filter = tgt.ids, tgt.id_count, tgt.filter
        spec.groups, spec.group_count = _group_specs(groups, keep)
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_rollout_create(fleet, spec)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "create rollout %r" % id, True)
            return self._rollout(fleet, id, spec.id)
        finally:
            self._h.release()

    def _rollout(self, fleet: Any, id: str, cid: Any) -> Rollout:
        out = ffi.new("iotkit_fleet_rollout_info_t **")
        code = lib.iotkit_fleet_rollout_get(fleet, cid, out)
        if code != lib.IOTKIT_OK:
            raise self._error(fleet, code, "rollout %r" % id)
        try:
            return _info(out[0])
        finally:
            lib.iotkit_fleet_rollout_info_free(out[0])

    def _transition(self, fn: Any, verb: str, id: str) -> Rollout:
        keep: List[Any] = []
        cid = _encode(id, "rollout id", keep)
        fleet = self._h.acquire(self._db_path)
        try:
            code = fn(fleet, cid)
            if code == lib.IOTKIT_ERR_NOT_FOUND:
                raise errors.error_for(code, "no rollout %r" % id)
            if code == lib.IOTKIT_ERR_STATE:
                now = self._rollout(fleet, id, cid).state.label
                raise errors.error_for(code, "cannot %s rollout %r: it is %s" % (verb, id, now))
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "%s rollout %r" % (verb, id))
            return self._rollout(fleet, id, cid)
        finally:
            self._h.release()

    def start_rollout(self, id: str) -> Rollout:
        """Start a READY rollout (its first group, and each next one that succeeds at once); the
        manifest goes out as soon as the fleet has a session. Returns the rollout. Raises
        NotFoundError (also for an id no rollout can have), StateError (not READY)."""
        return self._transition(lib.iotkit_fleet_rollout_start, "start", id)

    def pause_rollout(self, id: str) -> Rollout:
        """Pause a RUNNING rollout: no group starts until it is resumed (devices already sent the
        manifest carry on). Raises NotFoundError, StateError (not RUNNING)."""
        return self._transition(lib.iotkit_fleet_rollout_pause, "pause", id)

    def resume_rollout(self, id: str) -> Rollout:
        """Resume a PAUSED rollout (paused by a call or by a group's error: the operator's decision
        to go on; an ERROR group counts as done). Raises NotFoundError, StateError (not PAUSED)."""
        return self._transition(lib.iotkit_fleet_rollout_resume, "resume", id)

    def cancel_rollout(self, id: str) -> Rollout:
        """Cancel a READY, RUNNING or PAUSED rollout: devices not reached are never sent anything,
        devices not ended become CANCELED and their retained manifest is cleared. Raises
        NotFoundError, StateError (FINISHED or CANCELED already)."""
        return self._transition(lib.iotkit_fleet_rollout_cancel, "cancel", id)

    def rollout(self, id: str) -> Rollout:
        """Rollout @p id as it stands (from memory). Raises NotFoundError, TypeError (not a str)."""
        keep: List[Any] = []
        cid = _encode(id, "rollout id", keep)
        fleet = self._h.acquire(self._db_path)
        try:
            return self._rollout(fleet, id, cid)
        finally:
            self._h.release()

    def rollout_ids(self) -> List[str]:
        """The ids of every rollout, ended ones included, oldest first."""
        ids = ffi.new("char ***")
        n = ffi.new("size_t *")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_rollout_list(fleet, ids, n)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "list rollouts")
        finally:
            self._h.release()
        try:
            return [py_str(ids[0][i]) for i in range(n[0])]
        finally:
            lib.iotkit_fleet_rollout_ids_free(ids[0], n[0])

    def rollouts(self) -> List[Rollout]:
        """Every rollout (as :meth:`rollout`), oldest first."""
        return [self.rollout(i) for i in self.rollout_ids()]

    def rollout_devices(self, id: str, group: Optional[int] = None) -> List[RolloutDevice]:
        """The devices of rollout @p id (of group @p group only, 0-based), in group order. Raises
        NotFoundError (unknown rollout), InvalidArgumentError (a group out of range)."""
        keep: List[Any] = []
        cid = _encode(id, "rollout id", keep)
        if group is None:
            g = -1
        elif isinstance(group, bool) or not isinstance(group, int):
            raise TypeError("group must be an int or None")
        elif not 0 <= group < MAX_GROUPS:
            raise _invalid("group %d out of range" % group)
        else:
            g = group
        out = ffi.new("iotkit_fleet_rollout_device_t **")
        n = ffi.new("size_t *")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_rollout_targets(fleet, cid, g, out, n)
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "devices of rollout %r" % id)
        finally:
            self._h.release()
        try:
            return [_device(out[0][i]) for i in range(n[0])]
        finally:
            lib.iotkit_free(out[0])

    def rollout_device(self, id: str, device_id: str) -> RolloutDevice:
        """Device @p device_id of rollout @p id. Raises NotFoundError (unknown rollout, or the
        device is not in it)."""
        keep: List[Any] = []
        cid = _encode(id, "rollout id", keep)
        cdev = _encode(device_id, "device id", keep)
        out = ffi.new("iotkit_fleet_rollout_device_t *")
        fleet = self._h.acquire(self._db_path)
        try:
            code = lib.iotkit_fleet_rollout_target(fleet, cid, cdev, out)
            if code == lib.IOTKIT_ERR_NOT_FOUND:
                raise errors.error_for(code, "no rollout %r, or device %r is not in it" % (id, device_id))
            if code != lib.IOTKIT_OK:
                raise self._error(fleet, code, "device %r of rollout %r" % (device_id, id))
        finally:
            self._h.release()
        return _device(out)
