"""The examples of examples/python/ run against the fixture's broker, with an
independent paho client checking what they send and driving their commands."""
import json
import os
import subprocess
import sys
import time

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples", "python")


def example(name):
    path = os.path.abspath(os.path.join(EXAMPLES, name))
    if not os.path.isfile(path):
        pytest.skip("examples/python not found (an installed package without the source tree)")
    return path


def wait(cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met within %s s" % timeout
        time.sleep(0.02)


def on(sub, prefix, suffix):
    return [m[1] for m in sub.messages if m[0] == prefix + suffix]


@pytest.mark.parametrize("name", ["sensor.py", "aio_device.py"])
def test_examples_are_short(name):
    with open(example(name)) as f:
        assert len(f.read().splitlines()) < 40


def test_sensor_example(broker, subscriber):
    p = "iotkit/v1/sensor-1/"
    sub = subscriber(p + "#")
    proc = subprocess.Popen([sys.executable, example("sensor.py"), broker.uri, "3"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait(lambda: any(b'"online"' in m for m in on(sub, p, "status")))
        sub.publish(p + "commands/request", b'{"id":"1","name":"set_interval","params":{"interval_ms":100}}')
        sub.publish(p + "commands/request", b'{"id":"2","name":"set_interval","params":{"interval_ms":1}}')
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "sent 3 3 confirmed" in out
    tel = [json.loads(m) for m in on(sub, p, "telemetry")]
    assert [t["seq"] for t in tel] == [1, 2, 3] and all(20 <= t["temperature"] <= 25 for t in tel)
    responses = {json.loads(m)["id"]: json.loads(m) for m in on(sub, p, "commands/response")}
    assert responses["1"] == {"id": "1", "status": "ok", "result": {"interval_ms": 100}}
    assert responses["2"]["error"]["code"] == "invalid_params"
    reported = json.loads(on(sub, p, "state/reported")[-1])["state"]
    assert reported == {"firmware": "1.0.0", "interval_ms": 100}
    assert "device sensor-1: connected" in err  # the library's log through logging


def test_aio_device_example(broker, subscriber):
    p = "iotkit/v1/aio-1/"
    sub = subscriber(p + "#")
    sub.publish(p + "config/led", b"on", retain=True)
    proc = subprocess.Popen([sys.executable, example("aio_device.py"), broker.uri, "5"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait(lambda: any(b'"online"' in m for m in on(sub, p, "status")))
        sub.publish(p + "commands/request", b'{"id":"7","name":"ping","params":{"x":1}}')
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    for seq in range(1, 6):
        assert "confirmed %d as message " % seq in out
    assert "message config/led b'on'" in out
    assert [json.loads(m)["seq"] for m in on(sub, p, "telemetry")] == [1, 2, 3, 4, 5]
    assert json.loads(on(sub, p, "commands/response")[0]) == {"id": "7", "status": "ok",
                                                              "result": {"pong": True, "echo": {"x": 1}}}
    sub.publish(p + "config/led", b"", retain=True)
