"""iotkit.Fleet over a real mosquitto with real iotkit.Device handles on the other side:
presence, telemetry and state callbacks, commands (results, device errors, unknown and
offline devices), desired state, and the exact exception for every bad input."""
import time

import pytest

import iotkit


def wait_for(cond, timeout=10.0, fleet=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fleet is not None:
            fleet.poll(0.05)
        else:
            time.sleep(0.02)
        if cond():
            return True
    return cond()


@pytest.fixture
def fleet(broker):
    f = iotkit.Fleet(uri=broker.uri)
    yield f
    f.close()


@pytest.fixture
def device(broker):
    made = []

    def make(id, **kw):
        d = iotkit.Device(id, broker.uri, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def online_device(fleet, device, id="d1"):
    fleet.create(id)
    d = device(id)

    @d.command("add")
    def add(p):
        return {"s": p["a"] + p["b"]}

    @d.command("fail")
    def fail(p):
        raise ValueError("no can do")

    d.start()
    fleet.start()
    assert wait_for(lambda: fleet.presence(id).online), "the device never came online"
    return d


def test_presence_and_status_callback(fleet, device):
    seen = []
    fleet.on_status = lambda id, online, reason, ts: seen.append((id, online, reason))
    fleet.create("d1")
    fleet.connect()
    d = device("d1")
    d.start()
    assert wait_for(lambda: ("d1", True, None) in seen, fleet=fleet), seen
    p = fleet.presence("d1")
    assert p.online and not p.stale and p.last_seen_ms > 0
    assert fleet.get("d1").online
    d.stop()
    d.disconnect()
    assert wait_for(lambda: any(s[0] == "d1" and not s[1] for s in seen), fleet=fleet), seen
    assert [s for s in seen if not s[1]][-1][2] == "disconnect"
    assert not fleet.presence("d1").online


def test_telemetry_and_state_reach_the_live_view(fleet, device):
    got = []
    fleet.on_telemetry = lambda id, points: got.append((id, points))
    d = online_device(fleet, device)
    d.send_telemetry({"temp": 21.5})
    d.report({"fw": "1.0.0"})
    assert wait_for(lambda: got and fleet.state("d1").state.get("fw") == "1.0.0"), got
    assert got[0][0] == "d1"
    names = {p.name: p.value for p in fleet.latest("d1")}
    assert names["temp"] == 21.5
    assert [p.value for p in fleet.latest("d1", "temp")] == [21.5]


def test_command_round_trip(fleet, device):
    online_device(fleet, device)
    assert fleet.call("d1", "add", {"a": 1, "b": 2}, timeout=5) == {"s": 3}
    assert fleet.stats().sessions >= 1


def test_device_errors_raise_remote_error(fleet, device):
    online_device(fleet, device)
    with pytest.raises(iotkit.RemoteError) as e:
        fleet.call("d1", "nope", timeout=5)
    assert e.value.code == -50 and e.value.error_code == "unknown_command"
    with pytest.raises(iotkit.RemoteError) as e:
        fleet.call("d1", "fail", {}, timeout=5)
    assert e.value.code == -50
    assert "no can do" in e.value.error_message


def test_unknown_and_offline_devices(fleet, device):
    online_device(fleet, device)
    with pytest.raises(iotkit.NotFoundError) as e:
        fleet.call("stranger", "add", {"a": 1, "b": 1}, timeout=5)
    assert e.value.code == -11
    fleet.create("sleeper")  # registered, never connected
    with pytest.raises(iotkit.OfflineError) as e:
        fleet.call("sleeper", "add", {"a": 1, "b": 1}, timeout=5)
    assert e.value.code == -49
    assert isinstance(e.value, iotkit.ConnectionError_)


def test_bad_inputs(fleet, device):
    online_device(fleet, device)
    with pytest.raises(iotkit.InvalidArgumentError):
        fleet.call("bad id!", "add", {}, timeout=5)
    with pytest.raises(iotkit.InvalidArgumentError) as e:
        fleet.call("d1", "add", {"a": object()}, timeout=5)
    assert e.value.name == "IOTKIT_ERR_BAD_ENCODING", e.value.name
    with pytest.raises(TypeError):
        fleet.call("d1", "add", [1, 2], timeout=5)
    with pytest.raises(iotkit.InvalidArgumentError):
        fleet.call("d1", "add", {}, timeout=0)
    with pytest.raises(iotkit.InvalidArgumentError):
        fleet.set_desired("d1", {"x": float("nan")})
    with pytest.raises(TypeError):
        fleet.set_desired("d1", "x=1")
    with pytest.raises(iotkit.NotFoundError):
        fleet.presence("stranger")


def test_desired_state_reaches_the_device(fleet, device):
    d = online_device(fleet, device)
    assert fleet.set_desired("d1", {"rate": 5}) == 1
    assert fleet.set_desired("d1", {"mode": "eco"}) == 2
    assert fleet.desired("d1") == (2, {"rate": 5, "mode": "eco"})
    assert wait_for(lambda: d.desired.version == 2), d.desired
    assert d.desired.state == {"rate": 5, "mode": "eco"}


def test_callback_exception_is_reraised_by_poll(fleet, device):
    def boom(id, online, reason, ts):
        raise RuntimeError("in the status callback")

    fleet.on_status = boom
    fleet.create("d1")
    fleet.connect()
    d = device("d1")
    d.start()
    with pytest.raises(RuntimeError, match="in the status callback"):
        wait_for(lambda: False, timeout=10, fleet=fleet)
