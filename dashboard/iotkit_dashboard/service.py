"""The dashboard's fleet service: one :class:`iotkit.Fleet` with a broker session
(the library's thread), the demo's devices registered in it, and what the page
shows kept up to date from the fleet's callbacks.

Everything the page sees comes from the Fleet: presence, reported state, latest
values, events, command results, desired state. What the binding does not give
(telemetry history before the dashboard started, locations, rollouts when they
are not bound yet) is either taken from the binding when it has it, or kept here
from the callbacks (``history``: the points received since the start), or shown
as unavailable.
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Set, Tuple

import iotkit

log = logging.getLogger("iotkit.dashboard")

HISTORY_POINTS = 600  # per device and metric: 10 minutes at one reading a second
EVENTS_KEPT = 200
TRACK_POINTS = 100


class NoSuchMetric(LookupError):
    """history() of a metric the device never sent (since the dashboard started)."""


def _now_ms() -> int:
    return int(time.time() * 1000)


class DeviceSpec:
    """A device the dashboard knows of (from the devices file): id, transport, name, tags."""

    def __init__(self, id: str, transport: str = "mqtt", name: str = "", type: str = "iotkit-sim",
                 tags: Tuple[str, ...] = (), edge: bool = False) -> None:
        self.id, self.transport, self.name, self.type = id, transport, name, type
        self.tags, self.edge = tuple(tags), edge

    @classmethod
    def of(cls, d: Mapping[str, Any]) -> "DeviceSpec":
        return cls(str(d["id"]), str(d.get("transport", "mqtt")), str(d.get("name", "")),
                   str(d.get("type", "iotkit-sim")), tuple(d.get("tags", ())), bool(d.get("edge", False)))


def load_devices(path: Optional[str]) -> List[DeviceSpec]:
    if not path:
        return []
    with open(path) as f:
        return [DeviceSpec.of(d) for d in json.load(f)]


class Hub:
    """Fan-out of live updates to the page's Server-Sent-Event streams. Thread-safe:
    the fleet's callbacks run in the library's thread and call :meth:`publish`."""

    def __init__(self) -> None:
        self._queues: Set[Tuple[asyncio.AbstractEventLoop, "asyncio.Queue[str]"]] = set()
        self._lock = threading.Lock()

    def subscribe(self) -> "asyncio.Queue[str]":
        q: "asyncio.Queue[str]" = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._queues.add((asyncio.get_running_loop(), q))
        return q

    def unsubscribe(self, q: "asyncio.Queue[str]") -> None:
        with self._lock:
            self._queues = {(lp, x) for lp, x in self._queues if x is not q}

    def publish(self, kind: str, data: Any) -> None:
        text = json.dumps({"kind": kind, "data": data})
        with self._lock:
            targets = list(self._queues)
        for loop, q in targets:
            try:
                loop.call_soon_threadsafe(_put, q, text)
            except RuntimeError:  # the loop is closed
                pass


def _put(q: "asyncio.Queue[str]", text: str) -> None:
    if q.full():  # a stalled page loses the oldest update, not the server's memory
        q.get_nowait()
    q.put_nowait(text)


class FleetService:
    """The Fleet and the dashboard's view of it."""

    def __init__(self, db_path: str = ":memory:", *, uri: Optional[str] = None,
                 devices: Tuple[DeviceSpec, ...] = (), heartbeat: float = 5.0,
                 ota: Optional[Mapping[str, Any]] = None) -> None:
        self.uri = uri
        self.fleet = iotkit.Fleet(db_path, uri=uri, heartbeat=heartbeat if uri else None,
                                  reconnect_min=0.2, reconnect_max=2.0)
        self.hub = Hub()
        self.specs: Dict[str, DeviceSpec] = {}
        self._lock = threading.Lock()
        self._history: Dict[str, Dict[str, Deque[Tuple[int, float]]]] = collections.defaultdict(dict)
        self._events: Deque[Dict[str, Any]] = collections.deque(maxlen=EVENTS_KEPT)
        self._stale: Dict[str, bool] = {}
        self.ota = dict(ota or {})
        self.started_ms = _now_ms()
        for spec in devices:
            self.register(spec)
        if uri:
            self.fleet.on_status = self._on_status
            self.fleet.on_telemetry = self._on_telemetry
            self.fleet.on_state = self._on_state
            self.fleet.on_event = self._on_event
            self.fleet.on_stale = self._on_stale
            self.fleet.on_connection = self._on_connection

    # -- lifetime
    def start(self) -> None:
        if self.uri:
            self.fleet.start()

    def close(self) -> None:
        if self.uri:
            try:
                self.fleet.stop()
            except iotkit.IotkitError as e:  # not running, or a callback's exception
                log.warning("fleet stop: %s", e)
        self.fleet.close()

    # -- the registry
    def register(self, spec: DeviceSpec) -> None:
        self.specs[spec.id] = spec
        attrs = {"transport": spec.transport, "edge": spec.edge}
        try:
            self.fleet.create(spec.id, name=spec.name or spec.id, type=spec.type, tags=spec.tags, attributes=attrs)
        except iotkit.AlreadyExistsError:
            self.fleet.update(spec.id, name=spec.name or spec.id, type=spec.type, tags=spec.tags, attributes=attrs)

    # -- callbacks (the library's thread)
    def _on_connection(self, up: bool, reason: Any, detail: Any) -> None:
        self.hub.publish("connection", {"up": up, "detail": None if up else str(reason or detail or "")})

    def _on_status(self, device_id: str, online: bool, reason: Optional[str], ts_ms: Optional[int]) -> None:
        if not online:
            self._stale.pop(device_id, None)
        self._publish_device(device_id)

    def _on_stale(self, device_id: str, stale: bool, last_seen_ms: int) -> None:
        self._stale[device_id] = stale
        self._publish_device(device_id)

    def _on_telemetry(self, device_id: str, points: List[Any]) -> None:
        now = _now_ms()
        out = []
        with self._lock:
            hist = self._history[device_id]
            for p in points:
                if isinstance(p.value, bool) or not isinstance(p.value, (int, float)):
                    continue
                ts = p.ts_ms or now
                hist.setdefault(p.name, collections.deque(maxlen=HISTORY_POINTS)).append((ts, float(p.value)))
                out.append({"name": p.name, "value": p.value, "unit": p.unit, "ts": ts})
        if out:
            self.hub.publish("telemetry", {"id": device_id, "points": out})
        self._publish_device(device_id)

    def _on_state(self, device_id: str, state: Dict[str, Any], ts_ms: int) -> None:
        self._publish_device(device_id)

    def _on_event(self, device_id: str, type: str, ts_ms: Optional[int], data: Any) -> None:
        ev = {"id": device_id, "type": type, "ts": ts_ms or _now_ms(), "data": data}
        with self._lock:
            self._events.append(ev)
        self.hub.publish("event", ev)

    def _publish_device(self, device_id: str) -> None:
        try:
            self.hub.publish("device", self.device(device_id))
        except iotkit.NotFoundError:  # not one of ours
            pass

    # -- reading
    def device(self, id: str) -> Dict[str, Any]:
        """One device as the page and the API show it. Raises NotFoundError."""
        rec = self.fleet.get(id)
        pres = self.fleet.presence(id)
        state = self.fleet.state(id)
        latest = {p.name: {"value": p.value, "unit": p.unit, "ts": p.ts_ms} for p in self.fleet.latest(id)}
        reported = state.state or {}
        return {
            "id": rec.id,
            "name": rec.name,
            "type": rec.type,
            "tags": list(rec.tags),
            "transport": rec.attributes.get("transport", ""),
            "edge": bool(rec.attributes.get("edge", False)),
            "online": pres.online,
            "stale": pres.stale or self._stale.get(id, False),
            "last_seen": pres.last_seen_ms or None,
            "firmware": reported.get("firmware") if isinstance(reported, dict) else None,
            "reported": reported,
            "reported_ts": state.ts_ms or None,
            "latest": latest,
            "location": self.location(id),
        }

    def devices(self) -> List[Dict[str, Any]]:
        return [self.device(rec.id) for rec in self.fleet.iter()]

    def history(self, id: str, metric: Optional[str] = None, limit: int = HISTORY_POINTS) -> Dict[str, List[List[float]]]:
        """``{metric: [[ts_ms, value], ...]}``, oldest first, of the points received since the
        dashboard started (the binding has no history query yet). Raises NotFoundError."""
        self.fleet.get(id)
        with self._lock:
            hist = self._history.get(id, {})
            names = [metric] if metric is not None else sorted(hist)
            out = {}
            for n in names:
                if n not in hist:
                    if metric is not None:
                        raise NoSuchMetric("device %r sent no %r since the dashboard started" % (id, metric))
                    continue
                pts = list(hist[n])[-limit:]
                out[n] = [[ts, v] for ts, v in pts]
        return out

    def events(self) -> List[Dict[str, Any]]:
        with self._lock:
            return list(self._events)

    # -- locations: from the binding when it has them
    @property
    def has_locations(self) -> bool:
        return hasattr(self.fleet, "locate")

    def location(self, id: str) -> Optional[Dict[str, Any]]:
        if not self.has_locations:
            return None
        try:
            loc = self.fleet.locate(id)  # type: ignore[attr-defined]
        except iotkit.NotFoundError:
            return None
        if loc is None:
            return None
        return _location_dict(loc)

    def track(self, id: str, limit: int = TRACK_POINTS) -> List[Dict[str, Any]]:
        if not hasattr(self.fleet, "track"):
            return []
        try:
            pts = self.fleet.track(id)  # type: ignore[attr-defined]  (oldest first)
        except iotkit.NotFoundError:
            return []
        return [_location_dict(p) for p in pts[-limit:]]

    # -- control
    def call(self, id: str, name: str, params: Optional[Dict[str, Any]], timeout: float) -> Any:
        return self.fleet.call(id, name, params, timeout=timeout)

    def set_desired(self, id: str, patch: Dict[str, Any]) -> int:
        return self.fleet.set_desired(id, patch)

    def desired(self, id: str) -> Tuple[int, Dict[str, Any]]:
        try:
            return self.fleet.desired(id)
        except iotkit.NotFoundError:
            self.fleet.get(id)  # an unknown device raises
            return 0, {}


    # -- rollouts: from the binding when it has them
    def rollouts_available(self) -> bool:
        return hasattr(self.fleet, "rollout_start")

    def rollouts_note(self) -> str:
        if self.rollouts_available():
            return ""
        return ("OTA rollouts are not available: this build's Python binding (iotkit.Fleet) "
                "does not bind fleet_rollout.h yet")

    def rollouts(self) -> List[Dict[str, Any]]:
        return []

    def start_rollout(self, body: Mapping[str, Any]) -> Dict[str, Any]:
        raise NotImplementedError(self.rollouts_note())


def _location_dict(loc: Any) -> Dict[str, Any]:
    """A location from the binding (an object with latitude/longitude or lat/lon, or a dict)."""
    get: Callable[[str], Any]
    if isinstance(loc, Mapping):
        get = loc.get
    else:
        def get(k: str) -> Any:
            return getattr(loc, k, None)
    lat = get("latitude") if get("latitude") is not None else get("lat")
    lon = get("longitude") if get("longitude") is not None else get("lon")
    ts = get("ts_ms") if get("ts_ms") is not None else get("ts")
    return {"lat": lat, "lon": lon, "ts": ts}
