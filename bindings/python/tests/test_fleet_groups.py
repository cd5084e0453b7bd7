"""iotkit.Fleet group operations over a real mosquitto with real iotkit.Device
handles: a command to a list of ids, to a type, to a tag and to every device
(one result per device: ok, the device's error, unknown, offline), desired state
to a group (each device gets its version), and the exact exception of every bad
target."""
import pytest

import iotkit
from iotkit import InvalidArgumentError, NotFoundError, OfflineError, RemoteError, TooLargeError
from test_crypto import raises
from test_fleet_live import device, fleet, wait_for  # noqa: F401 - fixtures

MAX_TARGETS = int(iotkit._native.lib.IOTKIT_FLEET_MAX_TARGETS)


def start_devices(fleet, device, specs):
    """Register and start one device per (id, type, tags); each answers "who" with its id."""
    devs = {}
    for id, type_, tags in specs:
        fleet.create(id, type=type_, tags=tags)
        d = device(id)

        @d.command("who")
        def who(p, id=id):
            if p.get("fail"):
                raise ValueError("refused by " + id)
            return {"me": id}

        d.start()
        devs[id] = d
    fleet.start()
    assert wait_for(lambda: all(fleet.presence(i).online for i in devs)), "devices never came online"
    return devs


SPECS = [("a1", "lamp", ("hall",)), ("a2", "lamp", ("roof",)), ("b1", "fan", ("hall",))]


def by_id(results):
    return {r.device_id: r for r in results}


def test_group_command_to_a_list_in_its_order(fleet, device):
    start_devices(fleet, device, SPECS)
    fleet.create("sleeper")
    res = fleet.call_group("who", {}, devices=["b1", "a1", "stranger", "sleeper"], timeout=5)
    assert [r.device_id for r in res] == ["b1", "a1", "stranger", "sleeper"]
    assert res[0].ok and res[0].result == {"me": "b1"} and res[0].request_id
    assert res[1].unwrap() == {"me": "a1"}
    assert isinstance(res[2].error, NotFoundError) and res[2].error.code == -11 and res[2].request_id == ""
    assert isinstance(res[3].error, OfflineError) and res[3].error.code == -49
    with pytest.raises(OfflineError):
        res[3].unwrap()


def test_group_command_by_type_tag_and_all(fleet, device):
    start_devices(fleet, device, SPECS)
    assert sorted(by_id(fleet.call_group("who", devices=None, type="lamp", timeout=5))) == ["a1", "a2"]
    hall = fleet.call_group("who", tag="hall", timeout=5)
    assert [r.device_id for r in hall] == ["a1", "b1"]  # id order for a filter
    assert all(r.ok for r in hall)
    every = fleet.call_group("who", all=True, timeout=5)
    assert {r.device_id: r.result["me"] for r in every} == {"a1": "a1", "a2": "a2", "b1": "b1"}
    assert fleet.call_group("who", type="nothing-has-this", timeout=5) == []
    assert fleet.control_stats().responses >= 6


def test_group_command_device_errors_are_per_device(fleet, device):
    start_devices(fleet, device, SPECS)
    res = by_id(fleet.call_group("who", {"fail": True}, type="lamp", timeout=5))
    for id in ("a1", "a2"):
        e = res[id].error
        assert isinstance(e, RemoteError) and e.code == -50
        assert "refused by " + id in e.error_message
    res = by_id(fleet.call_group("nope", all=True, timeout=5))
    assert {r.error.error_code for r in res.values()} == {"unknown_command"}


def test_desired_state_to_a_group(fleet, device):
    devs = start_devices(fleet, device, SPECS)
    res = fleet.set_desired_group({"led": "on"}, tag="hall")
    assert [(r.device_id, r.version, r.ok) for r in res] == [("a1", 1, True), ("b1", 1, True)]
    assert fleet.set_desired_group({"led": "off"}, devices=["a1"])[0].unwrap() == 2
    res = fleet.set_desired_group({"rate": 3}, devices=["a2", "stranger"])
    assert res[0].unwrap() == 1
    assert isinstance(res[1].error, NotFoundError) and res[1].version is None
    assert wait_for(lambda: devs["a1"].desired.version == 2 and devs["b1"].desired.version == 1
                    and devs["a2"].desired.version == 1)
    assert devs["a1"].desired.state == {"led": "off"} and devs["b1"].desired.state == {"led": "on"}
    assert fleet.desired("a2") == (1, {"rate": 3})


def test_bad_targets(fleet, device):
    start_devices(fleet, device, SPECS[:1])
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.call_group("who", timeout=5)  # no target
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.call_group("who", devices=[], timeout=5)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.call_group("who", devices=["a1"], type="lamp", timeout=5)  # both kinds
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.call_group("who", all=True, tag="hall", timeout=5)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.call_group("who", devices=["a1", "a1"], timeout=5)  # repeated
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.call_group("who", devices=["bad id!"], timeout=5)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.call_group("bad name!", devices=["a1"], timeout=5)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.call_group("who", devices=["a1"], timeout=0)
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"):
        fleet.call_group("who", {"x": object()}, devices=["a1"], timeout=5)
    with raises(TooLargeError, "IOTKIT_ERR_TOO_LARGE"):
        fleet.call_group("who", devices=["d%d" % i for i in range(MAX_TARGETS + 1)], timeout=5)
    with raises(TooLargeError, "IOTKIT_ERR_TOO_LARGE"):
        fleet.call_group("x" * 65, devices=["a1"], timeout=5)
    with pytest.raises(TypeError):
        fleet.call_group("who", devices="a1", timeout=5)  # a str is not a list of ids
    with pytest.raises(TypeError):
        fleet.call_group("who", [1], devices=["a1"], timeout=5)
    with pytest.raises(TypeError):
        fleet.call_group("who", all="yes", timeout=5)
    with pytest.raises(TypeError):
        fleet.set_desired_group(None, all=True)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.set_desired_group({"a": 1})
    with raises(InvalidArgumentError, "IOTKIT_ERR_BAD_ENCODING"):
        fleet.set_desired_group({"a": float("inf")}, all=True)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.set_desired_group({"a": 1}, devices=["a1", "a1"])


def test_group_operations_without_a_session(broker):
    with iotkit.Fleet(uri=broker.uri) as f:
        f.create("a1")
        with raises(iotkit.ConnectionError, "IOTKIT_ERR_NOT_CONNECTED"):
            f.call_group("who", all=True, timeout=5)
        with raises(iotkit.ConnectionError, "IOTKIT_ERR_NOT_CONNECTED"):
            f.set_desired_group({"a": 1}, all=True)


def test_group_command_from_a_callback_is_state_error(fleet, device):
    seen = []

    def on_status(id, online, reason, ts):
        try:
            fleet.call_group("who", all=True, timeout=5)
        except iotkit.StateError as e:
            seen.append(e.name)

    fleet.on_status = on_status
    fleet.create("a1")
    fleet.connect()
    device("a1").start()
    assert wait_for(lambda: seen, fleet=fleet)
    assert seen[0] == "IOTKIT_ERR_STATE"
