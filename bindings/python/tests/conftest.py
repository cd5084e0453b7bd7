"""Shared fixtures: a real mosquitto broker on 127.0.0.1 and a free port,
started with a config written here and stopped afterwards, and an independent
paho-mqtt subscriber to check what arrives."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import itertools
import threading
import time
from typing import List, Optional, Tuple

import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
_SUB_IDS = itertools.count(1)


def _rss_kib() -> int:
    """Resident set size of this process in KiB (VmRSS of /proc/self/status)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.fixture
def rss_kib():
    """The function that reads this process's resident set size in KiB (for leak checks)."""
    return _rss_kib


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Broker:
    """A mosquitto process on 127.0.0.1:``port`` (``uri`` is mqtt://127.0.0.1:port)."""

    def __init__(self, extra: Tuple[str, ...] = ()) -> None:
        self.dir = tempfile.mkdtemp(prefix="iotkit-py-mosq-")
        self.extra = extra
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0

    @property
    def uri(self) -> str:
        return "mqtt://127.0.0.1:%d" % self.port

    def start(self) -> None:
        for _ in range(5):  # another process may take the free port first
            self.port = self.port or free_port()
            conf = os.path.join(self.dir, "mosquitto.conf")
            with open(conf, "w") as f:
                f.write("listener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n" % self.port)
                for line in self.extra:
                    f.write(line + "\n")
            log = open(os.path.join(self.dir, "mosquitto.log"), "ab")
            self.proc = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=log, stderr=log)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if _accepts(self.port):
                    return
                time.sleep(0.02)
            self.stop()
            self.port = 0
        raise RuntimeError("mosquitto did not start (log in %s)" % self.dir)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        if not os.environ.get("IOTKIT_TEST_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def broker():
    b = Broker()
    b.start()
    yield b
    b.close()


class Subscriber:
    """A paho-mqtt client subscribed to ``topic``; ``messages`` is a list of (topic, payload, qos, retain)."""

    def __init__(self, port: int, topic: str, qos: int = 1) -> None:
        import paho.mqtt.client as mqtt

        self.messages: List[Tuple[str, bytes, int, bool]] = []
        self._cv = threading.Condition()
        self._client = mqtt.Client(client_id="py-sub-%d-%d" % (os.getpid(), next(_SUB_IDS)), protocol=mqtt.MQTTv311)
        subscribed = threading.Event()
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *a: subscribed.set()
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        self._client.subscribe(topic, qos)
        if not subscribed.wait(10):
            raise RuntimeError("the paho subscriber got no SUBACK")

    def _on_message(self, client, userdata, msg) -> None:
        with self._cv:
            self.messages.append((msg.topic, bytes(msg.payload), msg.qos, bool(msg.retain)))
            self._cv.notify_all()

    def wait(self, n: int, timeout: float = 10.0) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: len(self.messages) >= n, timeout)

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos, retain).wait_for_publish(10)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture
def subscriber(broker):
    subs: List[Subscriber] = []

    def make(topic: str, qos: int = 1) -> Subscriber:
        s = Subscriber(broker.port, topic, qos)
        subs.append(s)
        return s

    yield make
    for s in subs:
        s.close()
