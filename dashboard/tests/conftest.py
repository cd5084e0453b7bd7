"""Fixtures of the dashboard's API tests: a real mosquitto on 127.0.0.1 and a free
port (config written here), real `iotkit device simulate` processes from the build
tree ($IOTKIT_BUILD_DIR), and the app with FastAPI's test client."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable, Iterator, List

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fastapi.testclient import TestClient  # noqa: E402

from iotkit_dashboard import DeviceSpec, FleetService, create_app  # noqa: E402

BUILD = os.environ.get("IOTKIT_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build/test-plain"))
CLI = os.path.join(BUILD, "tools/iotkit/iotkit")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.fixture
def tmp() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="iotkit-dash-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def broker(tmp: str) -> Iterator[str]:
    port = free_port()
    conf = os.path.join(tmp, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % port)
    proc = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def up() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    assert wait_for(up), "mosquitto did not start"
    yield "mqtt://127.0.0.1:%d" % port
    proc.terminate()
    proc.wait(10)


class Sim:
    """A running `iotkit device simulate`; ``log()`` is what it printed."""

    def __init__(self, uri: str, id: str, tmp: str) -> None:
        self.id = id
        self.path = os.path.join(tmp, id + ".log")
        self.out = open(self.path, "wb")
        self.proc = subprocess.Popen([CLI, "device", "simulate", "--uri", uri, "--id", id, "--interval-ms", "200",
                                      "--keepalive", "2", "--location", "52.52,13.405"],
                                     stdout=self.out, stderr=subprocess.STDOUT)

    def log(self) -> str:
        with open(self.path) as f:
            return f.read()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(15)
        self.out.close()


@pytest.fixture
def sims(broker: str, tmp: str) -> Iterator[Callable[[str], Sim]]:
    made: List[Sim] = []

    def make(id: str) -> Sim:
        s = Sim(broker, id, tmp)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


@pytest.fixture
def offline_app() -> Iterator[TestClient]:
    """The app on a registry without a broker session: two devices, never seen."""
    svc = FleetService(":memory:", devices=(DeviceSpec("dev-a", "mqtt", tags=("mqtt",)),
                                            DeviceSpec("dev-b", "coaps", tags=("coaps", "edge"), edge=True)))
    with TestClient(create_app(svc)) as c:
        yield c
    svc.close()


@pytest.fixture
def live(broker: str) -> Iterator[Callable[..., TestClient]]:
    """make(ids): the app with a fleet session on the broker, devices @p ids registered."""
    made = []

    def make(*ids: str) -> TestClient:
        stop = threading.Event()
        svc = FleetService(":memory:", uri=broker, devices=tuple(DeviceSpec(i) for i in ids), heartbeat=1.0)
        svc.start()
        c = TestClient(create_app(svc, stopping=stop))
        c.__enter__()
        made.append((svc, c, stop))
        return c

    yield make
    for svc, c, stop in made:
        stop.set()
        c.__exit__(None, None, None)
        svc.close()
