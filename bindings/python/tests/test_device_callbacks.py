"""Callbacks of iotkit.Device: exceptions are never swallowed (re-raised by the
driving call, or logged and re-raised by stop()/close() with the background
loop), close() from inside a callback is refused, and no callback runs after
close() or garbage collection."""
import gc
import json
import logging
import threading
import time

import pytest

import iotkit

P = "iotkit/v1/sensor-1/"


def poll_until(dev, cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met within %s s" % timeout
        dev.poll(0.05)


def wait_for(cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met within %s s" % timeout
        time.sleep(0.01)


def on(sub, suffix):
    return [m[1] for m in sub.messages if m[0] == P + suffix]


def online(sub):
    return any(b'"online"' in m for m in on(sub, "status"))


@pytest.fixture
def sub(subscriber):
    return subscriber(P + "#")


@pytest.fixture
def dev(broker):
    d = iotkit.Device("sensor-1", broker.uri)
    yield d
    try:
        d.close()
    except BaseException:  # noqa: B902 - a test may leave an exception for close()
        pass


def subscribed(dev, sub, suffix="in/#"):
    """Connect (polling mode), subscribe, and wait until a retained probe comes back."""
    probe = []
    dev.on_message = lambda s, p: probe.append(s)
    dev.connect()
    dev.subscribe(suffix)
    sub.publish(P + "in/probe", b"p", retain=True)
    poll_until(dev, lambda: probe)
    sub.publish(P + "in/probe", b"", retain=True)  # clear it (arrives, empty, as a live message)
    poll_until(dev, lambda: len(probe) >= 2)


# ------------------------------------------------------------- exceptions --

def test_exception_in_a_callback_is_reraised_by_poll(dev, sub):
    subscribed(dev, sub)

    class Boom(Exception):
        pass

    def on_message(suffix, payload):
        raise Boom(payload)

    dev.on_message = on_message
    sub.publish(P + "in/x", b"first")
    deadline = time.monotonic() + 10
    with pytest.raises(Boom) as ei:
        while time.monotonic() < deadline:
            dev.poll(0.05)
    assert ei.value.args == (b"first",)
    assert "on_message" in "".join(__import__("traceback").format_tb(ei.value.__traceback__))
    # The device keeps working: the next message raises again, telemetry still goes out.
    dev.on_message = None
    dev.send_telemetry(b"after")
    poll_until(dev, lambda: b"after" in on(sub, "telemetry"))


def test_each_exception_is_reraised_once_in_order(dev, sub):
    subscribed(dev, sub)
    dev.on_message = lambda suffix, payload: (_ for _ in ()).throw(ValueError(payload))
    for i in range(3):
        sub.publish(P + "in/x", b"%d" % i)
    raised = []
    deadline = time.monotonic() + 10
    while len(raised) < 3 and time.monotonic() < deadline:
        try:
            dev.poll(0.05)
        except ValueError as exc:
            raised.append(exc.args[0])
    assert raised == [b"0", b"1", b"2"]
    dev.poll(0.1)  # nothing left


def test_exception_in_the_connection_callback_is_raised_by_connect(dev):
    def on_connection(up, reason, detail):
        raise RuntimeError("up=%s" % up)

    dev.on_connection = on_connection
    with pytest.raises(RuntimeError, match="up=True"):
        dev.connect()
    assert dev.connected  # the session is up all the same
    with pytest.raises(RuntimeError, match="up=False"):
        dev.disconnect()


def test_exception_in_the_credentials_callback_fails_connect_with_it(dev):
    def creds():
        raise PermissionError("vault locked")

    dev.on_credentials = creds
    with pytest.raises(PermissionError, match="vault locked"):
        dev.connect()
    assert not dev.connected


def test_keyboard_interrupt_in_a_callback_is_reraised(dev, sub):
    subscribed(dev, sub)

    def on_message(suffix, payload):
        dev.on_message = None  # once
        raise KeyboardInterrupt

    dev.on_message = on_message
    sub.publish(P + "in/x", b"x")
    with pytest.raises(KeyboardInterrupt):
        poll_until(dev, lambda: False)


def test_exception_left_pending_is_raised_by_close(dev):
    def on_connection(up, reason, detail):
        if not up:
            raise LookupError("on the way down")

    dev.on_connection = on_connection
    dev.connect()
    with pytest.raises(LookupError, match="on the way down"):
        dev.close()  # the goodbye runs the callback; the device is closed anyway
    assert dev.closed
    dev.close()


def test_exception_in_a_with_block_is_not_masked(broker, caplog):
    def on_connection(up, reason, detail):
        if not up:
            raise LookupError("from the callback")

    with caplog.at_level(logging.ERROR, logger="iotkit"):
        with pytest.raises(ZeroDivisionError):
            with iotkit.Device("sensor-1", broker.uri) as d:
                d.on_connection = on_connection
                d.connect()
                1 / 0
    assert d.closed
    assert any(r.exc_info and r.exc_info[0] is LookupError for r in caplog.records)


def test_background_exception_is_logged_and_reraised_by_stop(dev, sub, caplog):
    probe = threading.Event()
    dev.on_connection = lambda up, r, d: None

    def on_message(suffix, payload):
        if suffix == "in/probe":
            probe.set()
            return
        raise ValueError("bad payload %r" % payload)

    dev.on_message = on_message
    with caplog.at_level(logging.ERROR, logger="iotkit"):
        dev.start()
        dev.subscribe("in/#")  # the loop makes it
        wait_for(lambda: online(sub))
        sub.publish(P + "in/probe", b"p", retain=True)
        assert probe.wait(10)
        sub.publish(P + "in/x", b"zz")
        wait_for(lambda: any(r.exc_info for r in caplog.records))
    rec = next(r for r in caplog.records if r.exc_info)
    assert rec.name == "iotkit" and rec.exc_info[0] is ValueError
    assert "background loop" in rec.getMessage() and "sensor-1" in rec.getMessage()
    with pytest.raises(ValueError, match="bad payload"):
        dev.stop()
    dev.close()  # nothing left to raise


def test_background_exception_is_reraised_by_close(dev, sub, caplog):
    hit = threading.Event()

    def on_connection(up, reason, detail):
        if up:
            hit.set()
            raise OSError("in the loop")

    dev.on_connection = on_connection
    with caplog.at_level(logging.ERROR, logger="iotkit"):
        dev.start()
        assert hit.wait(10)
        with pytest.raises(OSError, match="in the loop"):
            dev.close()
    assert dev.closed
    assert any(r.exc_info and r.exc_info[0] is OSError for r in caplog.records)


# ------------------------------------------------------ close from inside --

def test_close_from_inside_a_callback_is_a_state_error(dev, sub):
    subscribed(dev, sub)
    seen = []

    def on_message(suffix, payload):
        for name, call in (("close", dev.close), ("stop", dev.stop), ("poll", lambda: dev.poll(0)),
                           ("connect", dev.connect), ("disconnect", dev.disconnect)):
            try:
                call()
            except iotkit.StateError as exc:
                seen.append((name, exc.name))
        dev.send_telemetry(b"from the callback")  # thread-safe calls work inside
        dev.on_delivery = lambda mid, err: None  # so do the setters

    dev.on_message = on_message
    sub.publish(P + "in/x", b"x")
    poll_until(dev, lambda: seen)
    assert [s[0] for s in seen] == ["close", "stop", "poll", "connect", "disconnect"]
    assert all(s[1] == "IOTKIT_ERR_STATE" for s in seen)
    assert dev.connected and not dev.closed
    poll_until(dev, lambda: b"from the callback" in on(sub, "telemetry"))
    dev.send_telemetry(b"still working")
    poll_until(dev, lambda: b"still working" in on(sub, "telemetry"))


def test_close_from_inside_a_background_callback_is_a_state_error(dev, sub):
    results = []
    done = threading.Event()

    @dev.command("close_me")
    def close_me(params):
        try:
            dev.close()
        except iotkit.StateError as exc:
            results.append(exc.name)
        try:
            dev.stop()
        except iotkit.StateError as exc:
            results.append(exc.name)
        done.set()
        return {"closed": False}

    dev.start()
    wait_for(lambda: online(sub))
    sub.publish(P + "commands/request", b'{"id":"1","name":"close_me"}')
    assert done.wait(10)
    assert results == ["IOTKIT_ERR_STATE", "IOTKIT_ERR_STATE"]
    wait_for(lambda: on(sub, "commands/response"))
    assert json.loads(on(sub, "commands/response")[0])["result"] == {"closed": False}
    dev.send_telemetry(b"alive")
    wait_for(lambda: b"alive" in on(sub, "telemetry"))
    dev.close()
    assert dev.closed


# --------------------------------------------------- close with pending --

def test_close_waits_for_a_running_background_callback(dev, sub):
    entered, release = threading.Event(), threading.Event()
    calls = []

    def on_message(suffix, payload):
        calls.append(payload)
        if payload == b"block":
            entered.set()
            release.wait(10)

    dev.on_message = on_message
    dev.start()
    dev.subscribe("in/#")
    wait_for(lambda: online(sub))
    sub.publish(P + "in/x", b"block", retain=True)
    assert entered.wait(10)
    closer = threading.Thread(target=dev.close)
    closer.start()
    time.sleep(0.2)
    assert closer.is_alive()  # close() waits for the callback to return
    release.set()
    closer.join(10)
    assert not closer.is_alive() and dev.closed
    n = len(calls)
    sub.publish(P + "in/x", b"after close")
    time.sleep(0.3)
    assert len(calls) == n  # no callback after close()


def test_no_callback_runs_after_close_with_work_pending(dev, sub):
    subscribed(dev, sub)
    after = []
    closed = threading.Event()

    def record(*args):
        if closed.is_set():
            after.append(args)

    dev.on_message = record
    dev.on_delivery = record
    dev.on_connection = record
    for i in range(50):
        dev.send_telemetry(b"%d" % i)  # confirmations not yet polled
        sub.publish(P + "in/x", b"%d" % i, qos=0)  # messages not yet polled
    dev.close()
    closed.set()
    gc.collect()
    time.sleep(0.3)
    assert after == []


def test_open_command_request_is_released_by_close(dev, sub):
    reqs = []
    dev.command("later", deferred=True)(reqs.append)
    dev.connect()
    poll_until(dev, lambda: online(sub))
    sub.publish(P + "commands/request", b'{"id":"9","name":"later"}')
    poll_until(dev, lambda: reqs)
    assert not reqs[0].done
    dev.close()
    assert reqs[0].done
    with pytest.raises(iotkit.StateError):
        reqs[0].complete({"too": "late"})
    with pytest.raises(iotkit.StateError):
        reqs[0].fail("gone")


def test_close_from_another_thread_waits_for_calls_in_progress(dev, sub):
    dev.start()
    wait_for(lambda: online(sub))
    stop = threading.Event()
    errors = []

    def sender():
        while not stop.is_set():
            try:
                dev.send_telemetry(b"x")
            except iotkit.StateError:
                return  # closed under it: refused, never a crash
            except Exception as exc:  # noqa: B902
                errors.append(exc)
                return

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    dev.close()
    stop.set()
    for t in threads:
        t.join(10)
    assert errors == []


def test_garbage_collected_device_is_closed(broker, sub):
    calls = []
    d = iotkit.Device("sensor-1", broker.uri)
    d.on_connection = lambda up, r, detail: calls.append(up)
    d.connect()
    wait_for(lambda: online(sub))
    del d
    gc.collect()
    wait_for(lambda: any(b'"disconnect"' in m for m in on(sub, "status")))
    assert calls == [True]  # closed quietly: no callback from the finalizer


def test_started_device_is_kept_alive_until_stop(broker, sub):
    import weakref

    d = iotkit.Device("sensor-1", broker.uri)
    d.start()
    ref = weakref.ref(d)
    del d
    gc.collect()
    assert ref() is not None  # the loop keeps it
    wait_for(lambda: online(sub))
    ref().stop()
    gc.collect()
    assert ref() is None
    wait_for(lambda: any(b'"disconnect"' in m for m in on(sub, "status")))
