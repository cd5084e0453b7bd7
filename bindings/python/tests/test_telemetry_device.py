"""iotkit.telemetry batches sent by iotkit.Device (the Device binding, when it
is in the build) through a real mosquitto on 127.0.0.1, checked by an
independent paho-mqtt subscriber that decodes what arrives."""
from __future__ import annotations

import time

import pytest

import iotkit
from iotkit import telemetry
from iotkit.telemetry import Batch, Format, Point

pytestmark = pytest.mark.skipif(not hasattr(iotkit, "Device"), reason="iotkit.Device is not in this build")

P = "iotkit/v1/tel-1/"


def wait(dev, cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met within %s s" % timeout
        dev.poll(0.05)


def on(sub, suffix):
    """Payloads @p sub got on the device's channel @p suffix (one subscriber per
    test on P + "#": the fixture's paho clients share one client id)."""
    return [m[1] for m in sub.messages if m[0] == P + suffix]


@pytest.fixture
def sub(subscriber):
    return subscriber(P + "#")


@pytest.fixture
def dev(broker, sub):
    d = iotkit.Device("tel-1", broker.uri)
    d.connect()
    wait(d, lambda: any(b'"online"' in m for m in on(sub, "status")))
    yield d
    d.close()


@pytest.mark.parametrize("fmt", list(Format))
def test_a_batch_arrives_in_each_encoding(dev, sub, fmt):
    b = Batch(seq=0).add("temperature", 21.5, unit="Cel", ts_ms=1767225600000, tags={"room": "lab"})
    b.add("count", 17, ts_ms=1767225600500).add("door", True, ts_ms=1767225600500)
    dev.send_telemetry(b, encoding=fmt.short_name)
    wait(dev, lambda: on(sub, "telemetry"))
    got = Batch.decode(on(sub, "telemetry")[0], fmt)
    assert got.seq >= 1  # the device numbered it
    want = b.points()
    if fmt is Format.SENML_JSON:  # one numeric type
        want[1] = Point("count", 17.0, None, 1767225600500)
    assert got.points() == want


def test_a_list_of_points_arrives_as_json(dev, sub):
    dev.send_telemetry([Point("t", 1.25, "V", 1767225600000), {"n": "mode", "v": "eco", "ts": 1767225600000}])
    wait(dev, lambda: on(sub, "telemetry"))
    assert telemetry.decode(on(sub, "telemetry")[0]) == [Point("t", 1.25, "V", 1767225600000),
                                                    Point("mode", "eco", None, 1767225600000)]


def test_a_closed_batch_is_refused(dev):
    b = Batch({"x": 1})
    b.close()
    with pytest.raises(iotkit.StateError):
        dev.send_telemetry(b)
