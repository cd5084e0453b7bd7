"""Lifetimes: many create/close cycles leak nothing, and devices still open at
interpreter exit (polling, background loop, callbacks running) are closed
safely, each checked in a subprocess."""
import gc
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

import iotkit

P = "iotkit/v1/"


def cycle(n: int) -> None:
    for i in range(n):
        d = iotkit.Device("cycle-%d" % (i % 100), "mqtt://127.0.0.1:1883")
        d.on_message = lambda s, p: None
        d.command("ping")(lambda params: {})
        d.send_telemetry(b"stored in the queue")  # memory HAL: freed with the device
        d.close()


def test_10000_create_close_cycles_do_not_grow_rss(rss_kib):
    cycle(1000)  # warm-up: allocator arenas, caches, cffi types
    gc.collect()
    before = rss_kib()
    cycle(10000)
    gc.collect()
    after = rss_kib()
    # A leak of even 200 bytes per cycle would show as 2 MB.
    assert after - before < 1536, "RSS grew by %d KiB over 10,000 cycles" % (after - before)


def test_garbage_collected_devices_do_not_grow_rss(rss_kib):
    def drop(n):
        for _ in range(n):
            iotkit.Device("gc-dev", "mqtt://127.0.0.1:1883").send_telemetry(b"x")
        gc.collect()

    drop(500)
    before = rss_kib()
    drop(3000)
    after = rss_kib()
    assert after - before < 1536, "RSS grew by %d KiB over 3,000 collected devices" % (after - before)


def run_script(body: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONFAULTHANDLER="1")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(body), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


EXIT_SCRIPT = """
import logging, sys, threading, time
import iotkit

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="LOG %(levelname)s %(message)s")
uri = sys.argv[1]
mode = sys.argv[2]

polled = iotkit.Device("exit-poll", uri)
polled.on_connection = lambda up, r, d: print("poll-conn", up, flush=True)
polled.connect()

idle = iotkit.Device("exit-idle", uri)
idle.send_telemetry(b"never sent")

bg = iotkit.Device("exit-bg", uri)
up = threading.Event()
bg.on_connection = lambda ok, r, d: up.set() if ok else None
busy = threading.Event()

def chatty(suffix, payload):
    busy.set()
    logging.getLogger("app").info("message %r", payload)
    time.sleep(0.01)  # hold the loop inside Python now and then

bg.on_message = chatty
bg.start()
bg.subscribe("in/#")  # the loop makes it
assert up.wait(10)

bg2 = iotkit.Device("exit-bg2", uri)
bg2.on_delivery = lambda mid, err: None
bg2.start()
for i in range(200):
    bg2.send_telemetry(b"%d" % i)  # deliveries arriving while the interpreter exits

print("ready", flush=True)
sys.stdin.readline()  # the test floods exit-bg with messages, then lets us go
busy.wait(10)
if mode == "exception":
    raise SystemExit("leaving on SystemExit")
if mode == "thread":
    def sender():  # still sending while the interpreter exits: refused once closed, never a crash
        try:
            while True:
                bg.send_telemetry(b"t")
        except iotkit.StateError:
            pass
    threading.Thread(target=sender, daemon=True).start()
    time.sleep(0.05)
print("exiting", flush=True)
"""


@pytest.mark.parametrize("mode", ["normal", "exception", "thread"])
def test_interpreter_exit_with_open_devices(broker, subscriber, mode):
    sub = subscriber(P + "+/status")  # one paho client per test: the fixture's share a client id
    env = dict(os.environ, PYTHONFAULTHANDLER="1")
    proc = subprocess.Popen([sys.executable, "-c", EXIT_SCRIPT, broker.uri, mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "poll-conn True"
        assert proc.stdout.readline().strip() == "ready"
        for i in range(100):
            sub._client.publish(P + "exit-bg/in/x", b"%d" % i, qos=0)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Fatal Python error" not in err and "Segmentation" not in err, err
    assert "Traceback" not in err.replace("leaving on SystemExit", ""), err
    if mode == "exception":
        assert proc.returncode == 1 and "leaving on SystemExit" in err
    else:
        assert proc.returncode == 0, err
        assert "exiting" in out
    # Every connected device said goodbye (no last will): closed cleanly at exit.
    deadline = time.monotonic() + 10
    want = {"exit-poll", "exit-bg", "exit-bg2"}

    def offline():
        return {m[0].split("/")[2] for m in sub.messages
                if json.loads(m[1] or b"{}").get("reason") == "disconnect"}

    while not want <= offline() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert want <= offline(), sub.messages
    assert not any(json.loads(m[1] or b"{}").get("reason") == "connection_lost" for m in sub.messages)


def test_interpreter_exit_with_a_device_garbage_in_a_cycle(broker):
    r = run_script("""
        import sys, iotkit
        d = iotkit.Device("cyc", sys.argv[1])
        d.on_message = lambda s, p: d  # a cycle through the callback
        d.connect()
        del d
        print("ok")
    """, broker.uri)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
    assert "Fatal" not in r.stderr and "Traceback" not in r.stderr


def test_interpreter_exit_logs_a_pending_callback_exception(broker):
    r = run_script("""
        import logging, sys, iotkit
        logging.basicConfig(level=logging.ERROR)
        d = iotkit.Device("pending", sys.argv[1])
        def boom(up, reason, detail):
            raise RuntimeError("never picked up")
        d.on_connection = boom
        try:
            d.connect()
        except RuntimeError:
            pass
        d.start()
        import time; time.sleep(0.2)
    """, broker.uri)
    assert r.returncode == 0, r.stderr
    assert "Fatal" not in r.stderr


def test_closed_device_callbacks_cannot_reach_freed_handles(broker):
    """Many devices with callbacks created and closed while a background loop
    delivers: any callback reaching a freed handle would crash the subprocess."""
    r = run_script("""
        import gc, sys, threading, iotkit
        uri = sys.argv[1]
        for round in range(20):
            devs = []
            for i in range(5):
                d = iotkit.Device("churn-%d" % i, uri)
                d.on_delivery = lambda mid, err: None
                d.on_connection = lambda up, r, detail: None
                d.start()
                devs.append(d)
            for d in devs:
                for _ in range(20):
                    d.send_telemetry(b"x")
            for d in devs[::2]:
                d.close()
            del devs
            gc.collect()
        print("ok")
    """, broker.uri, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]
