"""iotkit.Fleet locations and telemetry history over a real mosquitto with a real
iotkit.Device: the latest position, the track, devices within a radius, the
location callback, a metric's points and buckets, and the exact exception of
every bad input."""
import datetime as dt
import math
import time

import pytest

import iotkit
from iotkit import InvalidArgumentError, NotFoundError, UnsupportedError
from iotkit.fleet import Location, distance_m
from test_crypto import raises
from test_fleet_live import device, wait_for  # noqa: F401 - fixtures

T0 = 1_700_000_000_000  # ms, a fixed past time for the points sent


@pytest.fixture
def fleet(broker):
    f = iotkit.Fleet(uri=broker.uri, history_max_points=100, location_history_max=10)
    yield f
    f.close()


def online(fleet, device, id="g1"):
    fleet.create(id)
    d = device(id)
    d.start()
    fleet.start()
    assert wait_for(lambda: fleet.presence(id).online)
    return d


def test_positions_latest_track_and_within(fleet, device):
    seen = []
    fleet.on_location = lambda id, loc: seen.append((id, loc))
    d = online(fleet, device)
    d.report_location(48.8584, 2.2945, ts_ms=T0)
    d.report_location(48.8606, 2.3376, altitude=35.0, accuracy=4.5, ts_ms=T0 + 60_000)
    assert wait_for(lambda: len(seen) == 2), seen
    assert seen[1] == ("g1", Location(48.8606, 2.3376, 35.0, 4.5, T0 + 60_000))
    assert fleet.locate("g1") == seen[1][1]
    fleet.sync()
    track = fleet.track("g1")
    assert [(p.latitude, p.ts_ms) for p in track] == [(48.8584, T0), (48.8606, T0 + 60_000)]
    assert track[0].altitude is None and track[0].accuracy is None
    assert fleet.track("g1", T0 + 1, None) == track[1:]
    assert fleet.track("g1", end=dt.datetime.fromtimestamp(T0 / 1000, dt.timezone.utc)) == track[:1]
    near = fleet.within(48.8566, 2.3522, 2000)  # Paris centre; the Louvre is about 1.2 km away
    assert [n.device_id for n in near] == ["g1"]
    assert near[0].distance_m == pytest.approx(distance_m(48.8566, 2.3522, 48.8606, 2.3376))
    assert 1000 < near[0].distance_m < 1500
    assert fleet.within(0, 0, 1000) == []
    assert fleet.stats().locations == 2


def test_history_points_and_buckets(fleet, device):
    d = online(fleet, device)
    for i in range(6):
        d.send_telemetry([iotkit.telemetry.Point("temp", float(i), ts_ms=T0 + i * 1000)])
    assert wait_for(lambda: fleet.stats().telemetry >= 6)
    fleet.sync()
    pts = fleet.history("g1", "temp")
    assert [(s.ts_ms, s.value, s.count) for s in pts] == [(T0 + i * 1000, float(i), 1) for i in range(6)]
    assert [s.value for s in fleet.history("g1", "temp", T0 + 2000, T0 + 3000)] == [2.0, 3.0]
    b = fleet.history("g1", "temp", T0, T0 + 5999, bucket=3)
    assert [(s.ts_ms, s.min, s.max, s.mean, s.count) for s in b] == [(T0, 0.0, 2.0, 1.0, 3),
                                                                     (T0 + 3000, 3.0, 5.0, 4.0, 3)]
    assert fleet.history("g1", "temp", T0, T0 + 5999, bucket=dt.timedelta(seconds=3)) == b
    assert pts[0].ts == dt.datetime.fromtimestamp(T0 / 1000, dt.timezone.utc)
    assert fleet.history("g1", "humidity") == []


def test_history_needs_history_max_points(broker):
    with iotkit.Fleet(uri=broker.uri) as f:
        f.create("g1")
        with raises(UnsupportedError, "IOTKIT_ERR_UNSUPPORTED"):
            f.history("g1", "temp")


def test_bad_inputs(fleet):
    fleet.create("g1")
    with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
        fleet.locate("g1")  # no position yet
    with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
        fleet.locate("stranger")
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.locate("bad id!")
    with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
        fleet.track("stranger")
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.track("g1", T0 + 1, T0)
    with pytest.raises(TypeError):
        fleet.track("g1", "yesterday")
    for lat, lon, r in ((91, 0, 1), (-90.5, 0, 1), (0, 180.5, 1), (0, 0, -1), (0, 0, math.nan),
                        (0, 0, math.inf), (math.nan, 0, 1)):
        with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
            fleet.within(lat, lon, r)
    with pytest.raises(TypeError):
        fleet.within("0", 0, 1)
    with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
        fleet.history("stranger", "temp")
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.history("g1", "bad name!")
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.history("g1", "temp", T0 + 1, T0)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.history("g1", "temp", bucket=-1)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.history("g1", "temp", bucket=math.inf)
    with pytest.raises(TypeError):
        fleet.history("g1", "temp", bucket="1h")
    with pytest.raises(TypeError):
        fleet.history("g1", None)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        iotkit.Fleet(history_max_points=-1)
    with pytest.raises(TypeError):
        iotkit.Fleet(location_history_max=1.5)
    with pytest.raises(TypeError):
        iotkit.Fleet(auto_register="yes")


def test_device_report_location_bad_inputs(broker, device):
    d = device("g9")
    with raises(iotkit.ConnectionError, "IOTKIT_ERR_NOT_CONNECTED"):
        d.report_location(1, 2)
    d.connect()
    for kw in ({"latitude": 90.5, "longitude": 0}, {"latitude": 0, "longitude": -181},
               {"latitude": math.nan, "longitude": 0}, {"latitude": 0, "longitude": 0, "accuracy": -1},
               {"latitude": 0, "longitude": 0, "ts_ms": -5}, {"latitude": 0, "longitude": 0, "altitude": math.inf}):
        with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
            d.report_location(**kw)
    with pytest.raises(TypeError):
        d.report_location("1", 2)
    d.report_location(1.5, 2.5)
    time.sleep(0)
