"""examples/python/fleet_watcher.py against the fixture's broker: a real
iotkit.Device comes online, sends telemetry and goes away; the watcher prints
each, and stops cleanly on Ctrl-C (SIGINT: exit status 0, no traceback)."""
import signal
import subprocess
import sys
import threading

import iotkit
from test_device_examples import example, wait


def test_fleet_watcher_is_short():
    with open(example("fleet_watcher.py")) as f:
        assert len(f.read().splitlines()) < 40


def test_fleet_watcher_prints_presence_and_telemetry(broker, tmp_path):
    db = str(tmp_path / "fleet.db")
    with iotkit.Fleet(db) as f:
        f.create("early")
    early = iotkit.Device("early", broker.uri)
    early.connect()
    # -X faulthandler: if the watcher does not stop on SIGINT, SIGABRT makes it print every
    # thread's Python stack to stderr, which the failure then shows (CI saw it hang once).
    # SIGINT at its default in the child: a shell without job control starts background jobs
    # with SIGINT ignored (CI run as `.ci/run &`), and Python then leaves it ignored, so the
    # Ctrl-C this test sends would never arrive. A terminal's Ctrl-C always has the default.
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", example("fleet_watcher.py"), broker.uri, db],
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    dev = iotkit.Device("w-1", broker.uri)
    try:
        wait(lambda: any(l.startswith("watching ") for l in lines))
        assert lines[0].strip() == "watching %s: 1 devices, online: early" % broker.uri, lines
        dev.start()
        wait(lambda: "w-1 online\n" in lines)  # registered when it first spoke
        dev.send_telemetry({"temp": 21.5, "door": True})
        wait(lambda: any(l.startswith("w-1 ") and "temp=21.5" in l for l in lines))
        dev.stop()
        dev.disconnect()
        wait(lambda: "w-1 offline (disconnect)\n" in lines)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            proc.wait(10)
            raise AssertionError("the watcher did not stop within 30 s of SIGINT; its stacks:\n"
                                 + proc.stderr.read())
    finally:
        if proc.poll() is None:
            proc.kill()
        dev.close()
        early.close()
    reader.join(10)
    err = proc.stderr.read()
    assert proc.returncode == 0, err
    assert lines[-1] == "stopped\n", lines
    assert "Traceback" not in err, err
    assert [l for l in lines if "temp=" in l] == ["w-1 temp=21.5 door=True\n"]
