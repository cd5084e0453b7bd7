"""One receiver of the Python MQTT receive benchmark (bench/run_python.sh), in its own process.

Usage: recv_client.py KIND QOS COUNT HOST PORT

KIND is one of:
  iotkit-bg    iotkit.Device (durable queue off) subscribed with subscribe("bench/in", QOS),
               on_message(suffix, payload) counting, background loop (start())
  iotkit-poll  the same driven by poll(0.05) in the main thread
  paho         paho-mqtt 1.6 Client subscribed at QOS, on_message counting, loop_start()
  fleet-bg     iotkit.Fleet (":memory:" registry, FLEET_DEVICES devices registered first) counting
               in on_telemetry (each message decoded into points, the live view updated),
               background loop (start())
  fleet-aio    iotkit.aio.Fleet, the same counted by an ``async for`` over events("telemetry")
  paho-fleet   paho-mqtt subscribed to iotkit/v1/+/telemetry at QOS, on_message counting (the
               same stream as the fleet rows: the receive comparison of issue 13)

Prints "ready topic=T" once the subscription is known to be active (paho: on SUBACK; iotkit,
whose API reports no SUBACK: once a probe it publishes on its own subscribed channel came
back; the fleet: once connect() returned, which waits for the broker's retained statuses and so
for the subscriptions; "ready topic=fleet:N" asks flood_pub.py for the telemetry of N devices),
then counts COUNT messages and prints "recv count=N seconds=S rate=R cpu=C": the rate
from the first to the last arrival, as bench/mqtt_count.c does, and the CPU seconds of the
process (every thread) over the same span.
"""
import os
import sys
import threading
import time

KIND, QOS, COUNT, HOST, PORT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
CLIENT_ID = "bench-py-rx-%s-%d" % (KIND, os.getpid())
PROBE = b"probe"
FLEET_DEVICES = int(os.environ.get("FLEET_DEVICES", "100"))


class Counter:
    def __init__(self):
        self.n = 0
        self.first = self.last = 0.0
        self.cpu0 = self.cpu1 = 0.0
        self.armed = False
        self.probed = threading.Event()
        self.done = threading.Event()

    def hit(self, payload):
        t = time.monotonic()
        if payload == PROBE:  # a probe of the iotkit receiver (a late one too): not counted
            self.probed.set()
            return
        if not self.armed:
            return
        n = self.n = self.n + 1
        if n == 1:
            self.first = t
            self.cpu0 = time.process_time()
        self.last = t
        if n >= COUNT:
            self.cpu1 = time.process_time()
            self.done.set()

    def result(self):
        secs = self.last - self.first
        print("recv count=%d seconds=%.3f rate=%.0f cpu=%.6f" % (
            self.n, secs, self.n / secs if secs > 0 else 0, self.cpu1 - self.cpu0), flush=True)


def run_iotkit():
    import iotkit

    c = Counter()
    hit = c.hit
    dev = iotkit.Device(CLIENT_ID, "mqtt://%s:%d" % (HOST, PORT), telemetry_durable=False)
    dev.on_message = lambda suffix, payload: hit(payload)
    dev.connect()
    dev.subscribe("bench/in", QOS)
    poll_mode = KIND == "iotkit-poll"
    if not poll_mode:
        dev.start()
    deadline = time.monotonic() + 10
    while not c.probed.is_set():
        dev.publish("bench/in", PROBE, 1)
        if poll_mode:
            end = time.monotonic() + 0.05
            while not c.probed.is_set() and time.monotonic() < end:
                dev.poll(0.01)
        else:
            c.probed.wait(0.05)
        if time.monotonic() > deadline:
            sys.exit("iotkit receiver: the subscription never became active")
    c.armed = True
    print("ready topic=iotkit/v1/%s/bench/in" % CLIENT_ID, flush=True)
    if poll_mode:
        while not c.done.is_set():
            dev.poll(0.05)
    else:
        c.done.wait()
    c.result()
    dev.close()


def run_paho(topic=None, ready=None):
    """paho subscribed to @p topic (default: a topic of its own, also printed as ready)."""
    import paho.mqtt.client as mqtt

    c = Counter()
    hit = c.hit
    topic = topic or "bench/py/in/%s" % CLIENT_ID
    cl = mqtt.Client(client_id=CLIENT_ID, clean_session=True)
    subscribed = threading.Event()
    cl.on_connect = lambda client, u, flags, rc: client.subscribe(topic, QOS)
    cl.on_subscribe = lambda client, u, mid, granted: subscribed.set()
    cl.on_message = lambda client, u, msg: hit(msg.payload)
    cl.connect(HOST, PORT, keepalive=60)
    cl.loop_start()
    if not subscribed.wait(10):
        sys.exit("paho receiver: no SUBACK")
    c.armed = True
    print("ready topic=%s" % (ready or topic), flush=True)
    c.done.wait()
    c.result()
    cl.disconnect()
    cl.loop_stop()


def fleet_ids():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from flood_pub import fleet_device

    return [fleet_device(d) for d in range(FLEET_DEVICES)]


def run_fleet():
    import iotkit

    c = Counter()
    hit = c.hit
    f = iotkit.Fleet(uri="mqtt://%s:%d" % (HOST, PORT), client_id=CLIENT_ID)
    for id in fleet_ids():
        f.create(id)
    f.on_telemetry = lambda device_id, points: hit(None)
    f.connect()
    f.start()
    c.armed = True
    print("ready topic=fleet:%d" % FLEET_DEVICES, flush=True)
    c.done.wait()
    c.result()
    st = f.stats()
    print("fleet telemetry=%d undecodable=%d unknown=%d" % (st.telemetry, st.undecodable, st.unknown_device),
          flush=True)
    f.close()


def run_fleet_aio():
    import asyncio

    import iotkit.aio

    async def main():
        c = Counter()
        async with iotkit.aio.Fleet(uri="mqtt://%s:%d" % (HOST, PORT), client_id=CLIENT_ID) as f:
            for id in fleet_ids():
                f.create(id)
            events = f.events("telemetry")
            c.armed = True
            print("ready topic=fleet:%d" % FLEET_DEVICES, flush=True)
            async for _ in events:
                c.hit(None)
                if c.done.is_set():
                    break
            c.result()

    asyncio.run(main())


if __name__ == "__main__":
    if KIND == "fleet-bg":
        run_fleet()
    elif KIND == "fleet-aio":
        run_fleet_aio()
    elif KIND == "paho-fleet":
        run_paho("iotkit/v1/+/telemetry", "fleet:%d" % FLEET_DEVICES)
    elif KIND.startswith("iotkit"):
        run_iotkit()
    elif KIND == "paho":
        run_paho()
    else:
        sys.exit("unknown kind %r" % KIND)
