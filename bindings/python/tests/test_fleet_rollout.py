"""iotkit.Fleet OTA rollouts over a real mosquitto with real iotkit.Device
handles that take the update (iotkit.ota.Client attached to each, images served
by a fetcher written here): two groups gated by thresholds, a device already on
the version, one that downloads, "reboots" and confirms, one whose download
fails; the error pause and the operator's resume to the end; pause, resume and
cancel (the retained manifest cleared, seen by an independent paho subscriber);
and the exact exception of every bad input."""
import json
import os
import time

import pytest

import iotkit
from iotkit import _hals
from iotkit import (AlreadyExistsError, InvalidArgumentError, NotFoundError, StateError, VerificationError,
                    crypto, ota)
from iotkit.fleet import GroupState, RolloutGroup, RolloutState, TargetState
from test_crypto import raises
from test_fleet_live import wait_for
from test_ota_client import key, trust  # noqa: F401 - fixtures

TYPE = "thermo-v2"
URL = "http://127.0.0.1:9/fw/thermo-2.0.0.bin"
IMAGE = os.urandom(30000)


def manifest_for(key, version="2.0.0", key_id="fleet"):
    return ota.sign_manifest(ota.Image.of(IMAGE, TYPE, version, URL), key, key_id)


@pytest.fixture
def fleet(broker, trust):
    f = iotkit.Fleet(uri=broker.uri)
    f.set_ota_trust(trust)
    yield f
    f.close()


def serve(url, offset, chunk):
    for i in range(offset, len(IMAGE), 7000):
        yield IMAGE[i:i + 7000]


def refuse(url, offset, chunk):
    raise NotFoundError(iotkit._native.lib.IOTKIT_ERR_NOT_FOUND, "no such image")
    yield b""  # pragma: no cover - a generator


class OtaDevice:
    """A real iotkit.Device with an OTA client attached, driven by step()."""

    def __init__(self, broker, trust, tmp_path, id, running, fetcher=serve):
        self.id, self.trust, self.fetcher = id, trust, fetcher
        self.dir = str(tmp_path / id)
        self.broker = broker
        self.open(running)

    def open(self, running):
        self.dev = iotkit.Device(self.id, self.broker.uri, state_dir=self.dir)
        self.ota = ota.Client(self.trust, TYPE, running, hal=self.dev, fetcher=self.fetcher,
                              on_reboot=lambda c: False, retry_base_ms=1, retry_max_ms=2)
        self.ota.attach(self.dev)
        self.dev.connect()

    def step(self):
        self.dev.poll(0.01)
        if self.ota.state is ota.State.DOWNLOADING:
            try:
                self.ota.run()
            except iotkit.IotkitError:
                pass  # a failed download: its status says so
            self.ota.report()

    def reboot_into(self, running):
        """The device restarts on the new image (the simulated bootloader of the POSIX HAL
        switches to the pending slot): a new client on the same state finds the trial."""
        self.ota.reboot()
        self.ota.close()
        self.dev.close()
        hal = _hals.PosixHal(self.dir)
        assert hal.boot(3) == 1  # IOTKIT_BOOT_TRIAL_START
        hal.close()
        self.open(running)

    def close(self):
        self.ota.close()
        self.dev.close()


def drive(fleet, devs, cond, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for d in devs:
            d.step()
        if cond():
            return True
    return cond()


def test_a_rollout_to_the_end_with_real_devices(fleet, broker, trust, key, tmp_path):
    events = []
    fleet.on_rollout = events.append
    for id in ("r-new", "r-old", "r-bad"):
        fleet.create(id, type=TYPE)
    devs = [OtaDevice(broker, trust, tmp_path, "r-new", "2.0.0"),
            OtaDevice(broker, trust, tmp_path, "r-old", "1.0.0"),
            OtaDevice(broker, trust, tmp_path, "r-bad", "1.0.0", fetcher=refuse)]
    new, old, bad = devs
    try:
        fleet.start()
        assert wait_for(lambda: all(fleet.presence(d.id).online for d in devs))
        r = fleet.create_rollout("r1", ota.Manifest.parse(manifest_for(key)), devices=["r-new", "r-old", "r-bad"],
                                 groups=[RolloutGroup(count=1, success_pct=100),
                                         RolloutGroup(count=2, success_pct=100, error_pct=50)])
        assert (r.id, r.state, r.device_type, r.version) == ("r1", RolloutState.READY, TYPE, "2.0.0")
        assert [g.counts.total for g in r.groups] == [1, 2] and r.counts.pending == 3
        assert fleet.rollout_ids() == ["r1"]
        assert fleet.start_rollout("r1").state is RolloutState.RUNNING

        # Group 0: the device already on 2.0.0 answers the manifest with its status: finished.
        # Then group 1: one device downloads and is pending (running), the other's download fails.
        assert drive(fleet, devs, lambda: fleet.rollout_device("r1", "r-bad").state is TargetState.ERROR
                     and fleet.rollout_device("r1", "r-old").percent == 100), fleet.rollout_devices("r1")
        assert fleet.rollout_device("r1", "r-new").state is TargetState.FINISHED
        assert fleet.rollout_device("r1", "r-old").state is TargetState.RUNNING
        assert fleet.rollout_device("r1", "r-bad").error.startswith("IOTKIT_ERR_")
        r = fleet.rollout("r1")
        assert r.state is RolloutState.RUNNING and r.groups[0].state is GroupState.SUCCESS
        assert r.started_groups == 2 and r.groups[1].started_ms > 0

        # r-old restarts on the new image and confirms it: 1 of 2 finished, 1 error (50 %, not
        # above the error threshold) and success (100 %) out of reach: the group fails, paused.
        assert old.ota.state is ota.State.PENDING
        old.reboot_into("2.0.0")
        assert old.ota.state is ota.State.TRIAL, old.ota.status
        old.ota.confirm()
        old.ota.report()
        assert drive(fleet, devs, lambda: fleet.rollout("r1").state is RolloutState.PAUSED)
        r = fleet.rollout("r1")
        assert r.error_group == 1 and r.groups[1].state is GroupState.ERROR and r.reason
        assert (r.counts.finished, r.counts.error, r.counts.running) == (2, 1, 0)

        # The operator goes on despite the error: nothing is left to run, so it is finished.
        assert fleet.resume_rollout("r1").state is RolloutState.FINISHED
        assert fleet.rollout("r1").state.ended
        with raises(StateError, "IOTKIT_ERR_STATE"):
            fleet.cancel_rollout("r1")
        states = {d.device_id: (d.group, d.state) for d in fleet.rollout_devices("r1")}
        assert states == {"r-new": (0, TargetState.FINISHED), "r-old": (1, TargetState.FINISHED),
                          "r-bad": (1, TargetState.ERROR)}
        assert [d.device_id for d in fleet.rollout_devices("r1", 0)] == ["r-new"]
        fleet.stop()
    finally:
        for d in devs:
            d.close()
    seen = {(e.device_id, e.device_state) for e in events if e.device_id}
    assert {("r-new", TargetState.FINISHED), ("r-old", TargetState.FINISHED), ("r-bad", TargetState.ERROR),
            ("r-old", TargetState.RUNNING)} <= seen, seen
    assert [e.state for e in events if e.device_id is None and e.group is None][-1] is RolloutState.FINISHED
    assert any(e.group == 1 and e.group_state is GroupState.ERROR for e in events)


def test_pause_resume_cancel_and_the_retained_manifest(fleet, key, subscriber):
    sub = subscriber("iotkit/v1/+/ota/manifest")
    for id in ("p1", "p2", "p3"):
        fleet.create(id, type=TYPE, tags=("eu",))
    fleet.create("other", type="lamp")
    fleet.start()
    text = manifest_for(key)
    r = fleet.create_rollout("r2", text, type=TYPE, groups=[1, RolloutGroup(percent=100)])
    assert r.counts.total == 3 and [g.counts.total for g in r.groups] == [1, 2]
    with raises(StateError, "IOTKIT_ERR_BUSY"):
        fleet.create_rollout("r3", text, tag="eu")  # p1..p3 are in r2
    with raises(StateError, "IOTKIT_ERR_STATE"):
        fleet.pause_rollout("r2")  # READY
    fleet.start_rollout("r2")
    assert sub.wait(1)
    assert sub.messages[0][0] == "iotkit/v1/p1/ota/manifest" and sub.messages[0][1] == text.encode()
    assert fleet.pause_rollout("r2").state is RolloutState.PAUSED
    with raises(StateError, "IOTKIT_ERR_STATE"):
        fleet.pause_rollout("r2")
    with raises(StateError, "IOTKIT_ERR_STATE"):
        fleet.start_rollout("r2")
    assert fleet.resume_rollout("r2").state is RolloutState.RUNNING
    with raises(StateError, "IOTKIT_ERR_STATE"):
        fleet.resume_rollout("r2")
    r = fleet.cancel_rollout("r2")
    assert r.state is RolloutState.CANCELED and r.counts.canceled == 3
    assert sub.wait(2)
    assert sub.messages[1][:2] == ("iotkit/v1/p1/ota/manifest", b"")  # cleared for the device sent it
    time.sleep(0.3)
    assert len(sub.messages) == 2  # p2, p3 (group 1 never started) were never sent anything
    assert {d.state for d in fleet.rollout_devices("r2")} == {TargetState.CANCELED}
    with raises(StateError, "IOTKIT_ERR_STATE"):
        fleet.cancel_rollout("r2")
    assert fleet.create_rollout("r3", text, tag="eu", groups=[RolloutGroup(count=3, success_pct=0)]).state \
        is RolloutState.READY  # the devices are free again
    assert [x.id for x in fleet.rollouts()] == ["r2", "r3"]


def test_a_rollout_survives_reopening_the_database(tmp_path, trust, key):
    db = str(tmp_path / "fleet.db")
    with iotkit.Fleet(db) as f:
        f.create("s1")
        f.set_ota_trust(trust)
        f.create_rollout("r1", manifest_for(key), all=True)
    with iotkit.Fleet(db) as f:
        r = f.rollout("r1")
        assert r.state is RolloutState.READY and r.counts.total == 1


def unsigned(text):
    doc = json.loads(text)
    doc.pop("signature")
    return json.dumps(doc)


def test_bad_inputs(fleet, key):
    fleet.create("b1", type=TYPE)
    fleet.create("b2", type=TYPE)
    m = manifest_for(key)
    ok = dict(devices=["b1"])
    with raises(InvalidArgumentError, "IOTKIT_ERR_OTA_MANIFEST"):
        fleet.create_rollout("x", "{not json", **ok)
    with raises(InvalidArgumentError, "IOTKIT_ERR_OTA_MANIFEST"):
        fleet.create_rollout("x", unsigned(m), **ok)
    with raises(VerificationError, "IOTKIT_ERR_OTA_UNKNOWN_KEY"):
        fleet.create_rollout("x", manifest_for(key, key_id="other"), **ok)
    with raises(VerificationError, "IOTKIT_ERR_OTA_SIGNATURE"):
        fleet.create_rollout("x", m.replace('"2.0.0"', '"2.0.1"'), **ok)
    with raises(VerificationError, "IOTKIT_ERR_OTA_SIGNATURE"):
        fleet.create_rollout("x", manifest_for(crypto.PrivateKey.generate()), **ok)  # another key, same id
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.create_rollout("bad id!", m, **ok)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.create_rollout("x", m)  # no target
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.create_rollout("x", m, devices=["b1"], type=TYPE)  # both kinds
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.create_rollout("x", m, devices=["b1", "b1"])
    with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
        fleet.create_rollout("x", m, devices=["b1", "stranger"])
    for groups in ([], [RolloutGroup()], [RolloutGroup(count=1, success_pct=101)],
                   [RolloutGroup(count=1, error_pct=101)], [RolloutGroup(percent=101)],
                   [RolloutGroup(percent=60), RolloutGroup(percent=60)], [1] * 65, [-1]):
        with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
            fleet.create_rollout("x", m, groups=groups, **ok)
    with pytest.raises(TypeError):
        fleet.create_rollout("x", 42, **ok)
    with pytest.raises(TypeError):
        fleet.create_rollout("x", m, groups=["10%"], **ok)
    with pytest.raises(TypeError):
        fleet.create_rollout("x", m, groups=3, **ok)
    with pytest.raises(TypeError):
        fleet.set_ota_trust("fleet.pub")
    fleet.create_rollout("r1", m, **ok)
    with raises(AlreadyExistsError, "IOTKIT_ERR_EXISTS"):
        fleet.create_rollout("r1", m, devices=["b2"])
    for fn in (fleet.start_rollout, fleet.pause_rollout, fleet.resume_rollout, fleet.cancel_rollout,
               fleet.rollout, fleet.rollout_devices):
        with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
            fn("nope")
        with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
            fn("bad id!")  # as the C library documents: no rollout can have that id
        with pytest.raises(TypeError):
            fn(None)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.rollout_devices("r1", 1)  # one group only
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        fleet.rollout_devices("r1", -1)
    with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
        fleet.rollout_device("r1", "b2")
    with raises(NotFoundError, "IOTKIT_ERR_NOT_FOUND"):
        fleet.rollout_device("r1", "bad id!")
    fleet.set_ota_trust(None)
    with raises(VerificationError, "IOTKIT_ERR_OTA_UNKNOWN_KEY"):
        fleet.create_rollout("r9", m, devices=["b2"])


def test_state_labels():
    assert [s.label for s in RolloutState] == ["ready", "running", "paused", "finished", "canceled"]
    assert [s.label for s in GroupState] == ["scheduled", "running", "success", "error"]
    assert [s.label for s in TargetState] == ["pending", "running", "finished", "error", "canceled"]
