"""iotkit.ota.Client standalone, on the memory HAL (a test aid) or a POSIX HAL
in a temporary directory, with a fetcher written in Python (the C tests do the
same with their own fetcher, tests/unit/test_ota_flow.c): the whole update
(download, pending, reboot, trial, confirm), rollback, resume, every refusal
with its code, callbacks that raise, abort from another thread, attach
errors. Attaching to a real device is tested when iotkit.Device exists."""
from __future__ import annotations

import gc
import os
import threading
import time

import pytest

import iotkit
from iotkit import _hals, crypto, ota
from iotkit.errors import (ConnectionError_, InvalidArgumentError, IotkitError, NotFoundError, StateError,
                           TooLargeError, UnsupportedError, VerificationError)
from iotkit.ota import State
from test_crypto import raises

TYPE = "thermo-v2"
URL = "http://127.0.0.1:9/fw/thermo-2.0.0.bin"
IMAGE = os.urandom(50000)


class Server:
    """A fetcher serving IMAGE (or .data), counting requests and offsets; can fail or drop."""

    def __init__(self, data: bytes = IMAGE, piece: int = 7000) -> None:
        self.data, self.piece = data, piece
        self.offsets: list = []
        self.fail_with: object = None  # an exception to raise at the start of a request
        self.drop_at = None  # raise ConnectionError_ once after this many bytes
        self.served = 0

    def __call__(self, url: str, offset: int, chunk: int):
        assert url == URL and chunk == 16384
        self.offsets.append(offset)
        if self.fail_with is not None:
            raise self.fail_with  # type: ignore[misc]
        for i in range(offset, len(self.data), self.piece):
            end = min(i + self.piece, len(self.data))
            if self.drop_at is not None and end > self.drop_at:
                part = self.data[i:self.drop_at]
                self.drop_at = None
                self.served += len(part)
                yield part
                raise IotkitError(iotkit._native.lib.IOTKIT_ERR_CONNECTION_LOST)
            self.served += end - i
            yield self.data[i:end]


@pytest.fixture(scope="module")
def key():
    return crypto.PrivateKey.generate()


@pytest.fixture
def trust(key):
    return ota.TrustStore({"fleet": key})


def manifest_for(key, version="2.0.0", data=IMAGE, device_type=TYPE, key_id="fleet") -> str:
    return ota.sign_manifest(ota.Image.of(data, device_type, version, URL), key, key_id)


@pytest.fixture
def hal():
    return _hals.MemoryHal()


def client(trust, hal, running="1.0.0", **kw):
    kw.setdefault("fetcher", Server())
    kw.setdefault("retry_base_ms", 1)
    kw.setdefault("retry_max_ms", 2)
    return ota.Client(trust, TYPE, running, hal=hal, **kw)


# ------------------------------------------------------------ the flow --

def test_full_update_is_confirmed(key, trust, hal):
    states, percents = [], []

    def on_status(c, st):
        assert isinstance(c, ota.Client)
        if not states or states[-1] != st.state:
            states.append(st.state)
        percents.append(st.percent)

    c = client(trust, hal, on_status=on_status)
    assert c.state is State.IDLE
    c.start(manifest_for(key))
    c.run()
    st = c.status
    assert (st.state, st.bytes, st.total, st.percent, st.error, st.target_version) == \
        (State.PENDING, len(IMAGE), len(IMAGE), 100, 0, "2.0.0")
    assert states == [State.DOWNLOADING, State.DOWNLOADED, State.VERIFYING, State.PENDING]
    assert percents == sorted(percents)
    assert hal.reboot_count == 1  # no reboot callback: rebooted at once
    c.close()

    assert hal.boot(3) == 1  # IOTKIT_BOOT_TRIAL_START
    with client(trust, hal, running="2.0.0") as c:
        assert c.state is State.TRIAL
        with raises(StateError, "IOTKIT_ERR_STATE"):
            c.start(manifest_for(key))
        c.confirm()
        assert c.state is State.CONFIRMED
        assert c.status_json() == {"state": "confirmed", "bytes": 50000, "total": 50000, "percent": 100,
                                   "error": None, "reason": None, "running_version": "2.0.0",
                                   "target_version": "2.0.0"}
    assert hal.boot(3) == 0  # IOTKIT_BOOT_CONFIRMED


def test_reboot_can_be_deferred(key, trust, hal):
    asks = []
    c = client(trust, hal, on_reboot=lambda cl: asks.append(cl) or False)
    c.start(ota.Manifest.parse(manifest_for(key)))
    c.run()
    assert c.state is State.PENDING and hal.reboot_count == 0 and asks == [c]
    c.reboot()
    assert hal.reboot_count == 1 and len(asks) == 1


def test_trial_never_confirmed_is_rolled_back(key, trust, hal):
    c = client(trust, hal)
    c.start(manifest_for(key))
    c.run()
    c.close()
    assert hal.boot(2) == 1
    client(trust, hal, running="2.0.0").close()
    assert hal.boot(2) == 2  # IOTKIT_BOOT_TRIAL
    assert hal.boot(2) == 3  # IOTKIT_BOOT_ROLLED_BACK
    c = client(trust, hal)
    assert c.state is State.ROLLED_BACK and c.status.error_name == "IOTKIT_ERR_OTA_ROLLED_BACK"


def test_trial_time_limit_rolls_back_in_poll(key, trust):
    hal = _hals.MemoryHal(manual_clock=True)
    c = client(trust, hal)
    c.start(manifest_for(key))
    c.run()
    c.close()
    hal.boot(3)
    c = client(trust, hal, running="2.0.0", trial_timeout_s=10)
    c.poll()
    assert c.state is State.TRIAL
    hal.advance(10001)
    c.poll()
    st = c.status
    assert st.state is State.ROLLED_BACK and st.error_name == "IOTKIT_ERR_OTA_TRIAL_TIMEOUT"
    assert isinstance(st.exception, IotkitError) and st.exception.name == "IOTKIT_ERR_OTA_TRIAL_TIMEOUT"


def test_connection_drop_is_retried_and_resumed(key, trust, hal):
    srv = Server()
    srv.drop_at = 10000
    c = client(trust, hal, fetcher=srv)
    c.start(manifest_for(key))
    c.run()
    assert c.state is State.PENDING
    assert srv.offsets == [0, 10000] and srv.served == len(IMAGE)


def test_network_errors_exhausted_leave_it_resumable(key, trust, hal):
    srv = Server()
    srv.fail_with = ConnectionError_(iotkit._native.lib.IOTKIT_ERR_CONNECT)
    c = client(trust, hal, fetcher=srv, max_retries=2)
    c.start(manifest_for(key))
    with raises(ConnectionError_, "IOTKIT_ERR_CONNECT"):
        c.run()
    assert len(srv.offsets) == 3
    assert c.state is State.DOWNLOADING and c.status.error_name == "IOTKIT_ERR_CONNECT"
    srv.fail_with = None
    c.run()
    assert c.state is State.PENDING


def test_resume_after_restart_on_a_posix_hal(key, trust, tmp_path):
    srv = Server()
    srv.fail_with = ConnectionError_(iotkit._native.lib.IOTKIT_ERR_CONNECT)
    state = str(tmp_path / "state")
    with ota.Client(trust, TYPE, "1.0.0", state_dir=state, fetcher=srv, max_retries=0) as c:
        c.start(manifest_for(key))
        with raises(ConnectionError_, "IOTKIT_ERR_CONNECT"):
            c.run()
    srv.fail_with = None
    with ota.Client(trust, TYPE, "1.0.0", state_dir=state, fetcher=srv, on_reboot=lambda c: False) as c:
        assert c.state is State.DOWNLOADING
        c.run()
        assert c.state is State.PENDING
    assert os.path.isdir(os.path.join(state, "slots"))


def test_same_manifest_again_is_a_no_op_another_is_busy(key, trust, hal):
    c = client(trust, hal)
    m = manifest_for(key)
    c.start(m)
    c.start(m)
    with raises(StateError, "IOTKIT_ERR_BUSY"):
        c.start(manifest_for(key, "2.0.1"))
    c.cancel()
    assert c.state is State.IDLE
    c.start(manifest_for(key, "2.0.1"))


def test_nothing_to_do_is_state_error(trust, hal):
    c = client(trust, hal)
    for fn in (c.confirm, c.run, c.reboot):
        with raises(StateError, "IOTKIT_ERR_STATE"):
            fn()


def test_idle_status_json(trust, hal):
    assert client(trust, hal).status_json() == {"state": "idle", "bytes": 0, "total": 0, "percent": 0,
                                                "error": None, "reason": None, "running_version": "1.0.0",
                                                "target_version": None}


def test_repr(trust, hal):
    c = client(trust, hal)
    assert repr(c) == "<ota.Client thermo-v2 1.0.0: idle>"
    c.close()
    c.close()  # idempotent
    assert repr(c) == "<ota.Client closed>"
    with raises(StateError, "IOTKIT_ERR_STATE"):
        c.status


# ------------------------------------------------------------ refusals --

def refused(c, m, cls, name):
    with raises(cls, name):
        c.check(m)
    with raises(cls, name):
        c.start(m)
    st = c.status
    assert st.state is State.FAILED and st.error_name == name
    assert name in c.status_json()["error"]


def test_refusals_each_with_its_code(key, trust, hal):
    c = client(trust, hal)
    refused(c, manifest_for(key, key_id="rogue"), VerificationError, "IOTKIT_ERR_OTA_UNKNOWN_KEY")
    refused(c, manifest_for(crypto.PrivateKey.generate()), VerificationError, "IOTKIT_ERR_OTA_SIGNATURE")
    refused(c, "{}", InvalidArgumentError, "IOTKIT_ERR_OTA_MANIFEST")
    refused(c, manifest_for(key, "0.9.0"), IotkitError, "IOTKIT_ERR_OTA_DOWNGRADE")
    refused(c, manifest_for(key, "1.0.0"), IotkitError, "IOTKIT_ERR_OTA_DOWNGRADE")
    refused(c, manifest_for(key, "1.0.0-rc.1"), IotkitError, "IOTKIT_ERR_OTA_DOWNGRADE")
    refused(c, manifest_for(key, device_type="toaster"), IotkitError, "IOTKIT_ERR_OTA_DEVICE_TYPE")
    c.close()
    c = client(trust, hal)  # the refusal was persisted
    assert c.state is State.FAILED and c.status.error_name == "IOTKIT_ERR_OTA_DEVICE_TYPE"


def test_security_floor(key, trust, hal):
    c = client(trust, hal)
    c.set_security_floor("3.0.0")
    refused(c, manifest_for(key, "2.0.0"), IotkitError, "IOTKIT_ERR_OTA_BELOW_FLOOR")
    with raises(StateError, "IOTKIT_ERR_STATE"):
        c.set_security_floor("2.0.0")
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        c.set_security_floor("three")


def test_image_larger_than_the_slot(key, trust):
    c = client(trust, _hals.MemoryHal(slot_capacity=1000))
    refused(c, manifest_for(key), TooLargeError, "IOTKIT_ERR_OTA_TOO_LARGE")


def expect_run_fails(c, key, cls, name):
    c.start(manifest_for(key))
    with raises(cls, name):
        c.run()
    assert c.state is State.FAILED and c.status.error_name == name


def test_flipped_bit_in_image(key, trust, hal):
    bad = bytearray(IMAGE)
    bad[len(bad) // 2] ^= 0x04
    expect_run_fails(client(trust, hal, fetcher=Server(bytes(bad))), key, VerificationError, "IOTKIT_ERR_OTA_HASH")


@pytest.mark.parametrize("data", [IMAGE[:-1], IMAGE + bytes(10)])
def test_image_of_the_wrong_size(key, trust, hal, data):
    expect_run_fails(client(trust, hal, fetcher=Server(data)), key, VerificationError, "IOTKIT_ERR_OTA_SIZE")


def test_not_found_is_not_retried(key, trust, hal):
    srv = Server()
    srv.fail_with = NotFoundError(iotkit._native.lib.IOTKIT_ERR_NOT_FOUND)
    expect_run_fails(client(trust, hal, fetcher=srv), key, NotFoundError, "IOTKIT_ERR_NOT_FOUND")
    assert len(srv.offsets) == 1


def test_server_error_is_retried_then_fails(key, trust, hal):
    srv = Server()
    srv.fail_with = IotkitError(iotkit._native.lib.IOTKIT_ERR_OTA_SERVER)
    expect_run_fails(client(trust, hal, fetcher=srv), key, IotkitError, "IOTKIT_ERR_OTA_SERVER")
    assert len(srv.offsets) == 6  # first try and 5 retries


def test_key_revoked_before_verification(key, trust, hal):
    c = client(trust, hal)
    c.start(manifest_for(key))
    trust.remove("fleet")
    with raises(VerificationError, "IOTKIT_ERR_OTA_UNKNOWN_KEY"):
        c.run()
    assert c.state is State.FAILED


@pytest.mark.parametrize("kwargs", [{"running": "one"}, {"chunk_size": 10}, {"device_type": "a b"}])
def test_bad_config_is_invalid(trust, hal, kwargs):
    running = kwargs.pop("running", "1.0.0")
    dtype = kwargs.pop("device_type", TYPE)
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        ota.Client(trust, dtype, running, hal=hal, **kwargs)


def test_missing_or_double_hal_is_invalid(trust, hal, tmp_path):
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        ota.Client(trust, TYPE, "1.0.0")
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        ota.Client(trust, TYPE, "1.0.0", hal=hal, state_dir=str(tmp_path))
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        ota.Client(trust, TYPE, "1.0.0", hal=hal, max_retries=-1)


def test_hal_without_slots_is_invalid(trust):
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        ota.Client(trust, TYPE, "1.0.0", hal=_hals.system_hal())


def test_corrupt_state_record(trust, hal):
    hal.kv_set("ota.state", b'{"state":"nope"}')
    with raises(IotkitError, "IOTKIT_ERR_CORRUPT"):
        client(trust, hal)


# ------------------------------------------------------------ callbacks --

def test_status_callback_exception_is_raised_by_run_after_it_returns(key, trust, hal):
    calls = []

    def on_status(c, st):
        calls.append(st.state)
        if st.state is State.VERIFYING:
            raise RuntimeError("boom in on_status")

    c = client(trust, hal, on_status=on_status)
    c.start(manifest_for(key))
    with pytest.raises(RuntimeError, match="boom in on_status"):
        c.run()
    assert c.state is State.PENDING and calls[-1] is State.PENDING  # the update went on
    c.status  # the exception was raised once, not kept


def test_fetcher_exception_stops_the_download_and_is_raised(key, trust, hal):
    fail = [True]

    def fetcher(url, offset, chunk):
        yield IMAGE[offset:20000]
        if fail[0]:
            raise ValueError("disk on fire")
        yield IMAGE[20000:]

    c = client(trust, hal, fetcher=fetcher, checkpoint_chunks=1)
    c.start(manifest_for(key))
    with pytest.raises(ValueError, match="disk on fire") as e:
        c.run()
    assert isinstance(e.value.__cause__, IotkitError) and e.value.__cause__.name == "IOTKIT_ERR_INTERNAL"
    assert c.state is State.DOWNLOADING  # resumable
    fail[0] = False
    c.run()
    assert c.state is State.PENDING


def test_status_callback_exception_during_construction(key, trust, hal):
    c = client(trust, hal)
    c.start(manifest_for(key))
    c.run()
    c.close()
    hal.boot(3)

    def on_status(c, st):
        raise RuntimeError("boom at start")

    with pytest.raises(RuntimeError, match="boom at start"):
        client(trust, hal, running="2.0.0", on_status=on_status)
    gc.collect()
    with client(trust, hal, running="2.0.0") as c:
        assert c.state is State.TRIAL


def test_fetcher_yielding_non_bytes_fails_with_type_error(key, trust, hal):
    c = client(trust, hal, fetcher=lambda u, o, n: [42])
    c.start(manifest_for(key))
    with pytest.raises(TypeError):
        c.run()


def test_reboot_callback_exception_defers_and_is_raised(key, trust, hal):
    def on_reboot(c):
        raise KeyError("no reboot today")

    c = client(trust, hal, on_reboot=on_reboot)
    c.start(manifest_for(key))
    with pytest.raises(KeyError):
        c.run()
    assert c.state is State.PENDING and hal.reboot_count == 0


def test_close_from_inside_a_callback_is_state_error(key, trust, hal):
    seen = []

    def on_status(c, st):
        try:
            c.close()
        except StateError as e:
            seen.append(e.name)

    c = client(trust, hal, on_status=on_status)
    c.start(manifest_for(key))
    c.run()
    assert seen and set(seen) == {"IOTKIT_ERR_STATE"}
    assert c.state is State.PENDING


def test_calls_from_inside_a_callback_are_allowed(key, trust, hal):
    seen = []
    c = client(trust, hal, on_status=lambda c, st: seen.append(c.status.state))
    c.start(manifest_for(key))
    c.run()
    assert seen[-1] is State.PENDING


def test_abort_from_another_thread(key, trust, hal):
    started, release = threading.Event(), threading.Event()

    def slow(url, offset, chunk):
        for i in range(offset, len(IMAGE), 1000):
            yield IMAGE[i:i + 1000]
            started.set()
            release.wait(5)

    c = client(trust, hal, fetcher=slow)
    c.start(manifest_for(key))
    errors = []

    def runner():
        try:
            c.run()
        except BaseException as e:  # noqa: B902
            errors.append(e)

    t = threading.Thread(target=runner)
    t.start()
    assert started.wait(5)
    c.abort()
    release.set()
    t.join(10)
    assert not t.is_alive()
    assert len(errors) == 1 and errors[0].name == "IOTKIT_ERR_BUSY"
    assert c.state is State.DOWNLOADING


def test_garbage_collection_frees_the_client_and_its_handle(key, trust, hal):
    c = client(trust, hal, on_status=lambda c, st: None)
    cb = c._cb
    st = c._st
    del c
    gc.collect()
    assert st.ota is None and st.handle is None
    del cb


def test_many_clients_do_not_leak_handles(trust, hal):
    for _ in range(200):
        with client(trust, hal, on_status=lambda c, st: None):
            pass
    gc.collect()


# --------------------------------------------------------------- attach --

class FakeDevice:
    def __init__(self, dev):
        self._dev = dev


def test_attach_needs_a_device_with_dev(trust, hal):
    c = client(trust, hal)
    with pytest.raises(TypeError):
        c.attach(object())
    with raises(InvalidArgumentError, "IOTKIT_ERR_INVALID_ARG"):
        c.attach(FakeDevice(iotkit._native.ffi.NULL))


def test_report_without_a_device_is_state_error(trust, hal):
    with raises(StateError, "IOTKIT_ERR_STATE"):
        client(trust, hal).report()


@pytest.mark.skipif(not hasattr(iotkit, "Device"), reason="iotkit.Device (the Device binding) is not in this build")
def test_attached_to_a_device_updates_through_it(key, trust, tmp_path, broker):
    dev = iotkit.Device("ota-dev-1", broker.uri, state_dir=str(tmp_path / "dev"))
    try:
        c = ota.Client(trust, TYPE, "1.0.0", state_dir=str(tmp_path / "ota"), fetcher=Server(),
                       on_reboot=lambda c: False)
        c.attach(dev)
        c.start(manifest_for(key))
        c.run()
        assert c.state is State.PENDING
        c.detach()
    finally:
        dev.close()


def test_callback_exception_outside_a_client_call_is_logged(key, trust, caplog):
    hal = _hals.MemoryHal(manual_clock=True)
    c = client(trust, hal)
    c.start(manifest_for(key))
    c.run()
    c.close()
    hal.boot(3)

    def on_status(c, st):
        if st.state is State.ROLLED_BACK:
            raise RuntimeError("boom outside")

    c = client(trust, hal, running="2.0.0", trial_timeout_s=1, on_status=on_status)
    hal.advance(1001)
    with caplog.at_level("ERROR", logger="iotkit.ota"):
        # As a device's poll would: the C client is driven without a Client method in progress.
        assert iotkit._native.lib.iotkit_ota_poll(c._st.ota) == 0
    assert "exception in the OTA status callback" in caplog.text and "boom outside" in caplog.text
    assert c.state is State.ROLLED_BACK
    c.status  # nothing kept to raise


def test_interpreter_exit_with_a_live_client(tmp_path):
    import subprocess
    import sys
    code = ("import os\n"
            "from iotkit import crypto, ota\n"
            "k = crypto.PrivateKey.generate()\n"
            "c = ota.Client(ota.TrustStore({'k': k}), 'thermo-v2', '1.0.0', state_dir=%r,\n"
            "               on_status=lambda c, st: None, fetcher=lambda u, o, n: [])\n"
            "c.cycle = c\n" % str(tmp_path / "s"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Exception" not in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(not hasattr(iotkit, "Device"), reason="iotkit.Device (the Device binding) is not in this build")
def test_a_manifest_arriving_on_the_device_channel_starts_the_update(key, trust, tmp_path, broker, subscriber):
    import json as _json
    p = "iotkit/v1/ota-dev-2/"
    sub = subscriber(p + "#")  # one subscriber: the fixture's paho clients share one client id

    def on(suffix):
        return [m[1] for m in sub.messages if m[0] == p + suffix]
    dev = iotkit.Device("ota-dev-2", broker.uri, state_dir=str(tmp_path / "dev"))
    try:
        c = ota.Client(trust, TYPE, "1.0.0", hal=dev, fetcher=Server(), on_reboot=lambda c: False)
        c.attach(dev)
        dev.connect()
        deadline = time.monotonic() + 10
        while not any(b'"online"' in m for m in on("status")):
            assert time.monotonic() < deadline
            dev.poll(0.05)
        sub.publish(p + "ota/manifest", manifest_for(key).encode(), qos=1)
        while c.state is not State.DOWNLOADING:
            assert time.monotonic() < deadline
            dev.poll(0.05)
        c.run()
        assert c.state is State.PENDING
        c.report()
        while not any(_json.loads(m)["state"] == "pending" for m in on("ota/status")):
            assert time.monotonic() < deadline
            dev.poll(0.05)
        c.close()  # detaches first
    finally:
        dev.close()
