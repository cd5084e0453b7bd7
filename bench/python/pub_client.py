"""One publisher of the Python MQTT benchmark (bench/run_python.sh), in its own process.

Usage: pub_client.py KIND QOS COUNT PAYLOAD_BYTES HOST PORT [STATE_DIR]

KIND is one of:
  iotkit-bg       iotkit.Device, background loop (start()), send_telemetry(bytes) from the main
                  thread, durable queue off; QoS 1 confirmations counted in on_delivery
  iotkit-poll     iotkit.Device driven by poll(0) from the publishing thread (every 64 sends and
                  until done), durable queue off; confirmations counted in on_delivery
  iotkit-window   iotkit-bg with the URI option inflight=100 (QoS 1 messages in flight; the
                  default is libmosquitto's 20, as paho's): the counterpart of paho-unlimited
  iotkit-count    iotkit-bg without on_delivery: done when telemetry_stats().confirmed (counted
                  by the library, no Python call per confirmation) reaches COUNT, polled each ms
  iotkit-durable  iotkit-bg with the durable queue on (POSIX HAL in STATE_DIR, telemetry_drain_rate
                  0 = unlimited, default sync interval); done when the queue has nothing pending
  iotkit-aio      iotkit.aio.Device (event loop, no thread), durable queue off:
                  `await asyncio.gather(*(dev.send_telemetry(p) for _ in chunk))`, chunks of
                  IOTKIT_AIO_CHUNK (default 1000) messages in flight
  paho            paho-mqtt 1.6 Client, loop_start(), publish(); its defaults (20 QoS 1 messages in
                  flight at most, the rest queued in the client)
  paho-unlimited  the same with max_inflight_messages_set(0) (no in-flight limit)
  awscrt          awscrt.mqtt.Connection (MQTT 3.1.1, plain TCP), publish() returns (future, id)
                  per message; done when every future is done

Protocol with the driver (bench_driver.py): once connected it prints "ready topic=T"; it
starts publishing when it reads a line on stdin; it prints "t0=A t1=B cpu=C" (time.monotonic(),
CLOCK_MONOTONIC, the same clock as the driver's): A just before the first publish, B once every
message is confirmed (QoS 1: all PUBACKs) or, at QoS 0, once the publish loop returned (the
driver takes the end of a QoS 0 run from the independent counting subscriber instead); C the
CPU seconds of the whole process (time.process_time(): every thread, the client library's
network threads included) from A to B. Then it waits for a second line on stdin, prints
"cpu_end=D" (CPU seconds from A to then: what a QoS 0 run cost, buffered writes included) and
only then disconnects, so that nothing still buffered in the client is cut off.
"""
import os
import sys
import threading
import time

KIND, QOS, COUNT, SIZE, HOST, PORT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), \
    sys.argv[5], int(sys.argv[6])
STATE_DIR = sys.argv[7] if len(sys.argv) > 7 else None
PAYLOAD = b"x" * SIZE
URI = "mqtt://%s:%d" % (HOST, PORT)
CLIENT_ID = "bench-py-%s-%d" % (KIND, os.getpid())


def ready(topic):
    print("ready topic=%s" % topic, flush=True)
    sys.stdin.readline()


def report(t0, t1, c0, c1):
    """Times of the run, CPU seconds of the process (every thread) from t0 to t1, then, once
    the driver says the subscriber is done, the CPU seconds from t0 to that point."""
    print("t0=%.6f t1=%.6f cpu=%.6f" % (t0, t1, c1 - c0), flush=True)
    sys.stdin.readline()  # the driver says when the subscriber is done (or gave up)
    print("cpu_end=%.6f" % (time.process_time() - c0), flush=True)


def fail(msg):
    print("error: %s" % msg, file=sys.stderr, flush=True)
    sys.exit(3)


# ------------------------------------------------------------------ iotkit --

def run_iotkit():
    import iotkit

    durable = KIND == "iotkit-durable"
    kwargs = dict(telemetry_qos=QOS, telemetry_durable=durable)
    if durable:
        kwargs.update(state_dir=STATE_DIR, telemetry_drain_rate=0)
    dev = iotkit.Device(CLIENT_ID, URI + ("?inflight=100" if KIND == "iotkit-window" else ""), **kwargs)
    done = threading.Event()
    state = {"ok": 0, "failed": 0}

    def on_delivery(msg_id, err):
        if err is None:
            state["ok"] += 1
        else:
            state["failed"] += 1
        if state["ok"] + state["failed"] >= COUNT:
            done.set()

    # QoS 0 needs no confirmations (the counting subscriber ends the run), the durable run ends
    # on queue.pending and iotkit-count on telemetry_stats().confirmed: none sets a callback.
    count_cb = QOS > 0 and KIND in ("iotkit-bg", "iotkit-poll", "iotkit-window")
    if count_cb:
        dev.on_delivery = on_delivery
    dev.connect()
    poll_mode = KIND == "iotkit-poll"
    if not poll_mode:
        dev.start()
    send = dev.send_telemetry
    ready("iotkit/v1/%s/telemetry" % CLIENT_ID)

    c0, t0 = time.process_time(), time.monotonic()
    if poll_mode:
        poll = dev.poll
        for i in range(COUNT):
            send(PAYLOAD)
            if i & 63 == 63:
                poll(0)
        if count_cb:
            while not done.is_set():
                poll(0.01)
        else:  # QoS 0: flush what is still buffered in the client
            for _ in range(20):
                poll(0)
    else:
        for _ in range(COUNT):
            send(PAYLOAD)
        if count_cb:
            done.wait()
        elif KIND == "iotkit-count" and QOS > 0:
            stats = dev.telemetry_stats
            while stats().confirmed < COUNT:
                time.sleep(0.001)
            state["failed"] = stats().failed
        elif durable:
            while dev.telemetry_stats().queue.pending:
                time.sleep(0.001)
    t1, c1 = time.monotonic(), time.process_time()
    if state["failed"]:
        fail("%d deliveries failed" % state["failed"])
    if poll_mode and QOS == 0:
        # keep writing while the driver waits for the subscriber
        stop = threading.Event()
        print("t0=%.6f t1=%.6f cpu=%.6f" % (t0, t1, c1 - c0), flush=True)
        waiter = threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True)
        waiter.start()
        while not stop.is_set():
            poll(0.01)
        print("cpu_end=%.6f" % (time.process_time() - c0), flush=True)
    else:
        report(t0, t1, c0, c1)
    dev.close()


def run_iotkit_aio():
    import asyncio
    import iotkit.aio

    chunk = int(os.environ.get("IOTKIT_AIO_CHUNK", "1000"))

    async def main():
        loop = asyncio.get_running_loop()
        dev = iotkit.aio.Device(CLIENT_ID, URI, telemetry_qos=QOS, telemetry_durable=False)
        await dev.connect()
        print("ready topic=iotkit/v1/%s/telemetry" % CLIENT_ID, flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)
        send = dev.send_telemetry
        c0, t0 = time.process_time(), time.monotonic()
        left = COUNT
        while left:
            n = min(chunk, left)
            await asyncio.gather(*[send(PAYLOAD) for _ in range(n)])
            left -= n
        t1, c1 = time.monotonic(), time.process_time()
        print("t0=%.6f t1=%.6f cpu=%.6f" % (t0, t1, c1 - c0), flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)  # the loop keeps polling meanwhile
        print("cpu_end=%.6f" % (time.process_time() - c0), flush=True)
        await dev.close()

    asyncio.run(main())


# -------------------------------------------------------------------- paho --

def run_paho():
    import paho.mqtt.client as mqtt

    topic = "bench/py/%s/telemetry" % CLIENT_ID
    c = mqtt.Client(client_id=CLIENT_ID, clean_session=True)
    if KIND == "paho-unlimited":
        c.max_inflight_messages_set(0)
    connected = threading.Event()
    done = threading.Event()
    acked = [0]

    def on_connect(client, userdata, flags, rc):
        if rc == 0:
            connected.set()

    def on_publish(client, userdata, mid):
        acked[0] += 1
        if acked[0] >= COUNT:
            done.set()

    c.on_connect = on_connect
    if QOS > 0:
        c.on_publish = on_publish
    c.connect(HOST, PORT, keepalive=60)
    c.loop_start()
    if not connected.wait(10):
        fail("paho: no CONNACK")
    ready(topic)
    publish = c.publish
    c0, t0 = time.process_time(), time.monotonic()
    for _ in range(COUNT):
        publish(topic, PAYLOAD, QOS)
    if QOS > 0:
        done.wait()
    t1, c1 = time.monotonic(), time.process_time()
    report(t0, t1, c0, c1)
    c.disconnect()
    c.loop_stop()


# ------------------------------------------------------------------ awscrt --

def run_awscrt():
    from awscrt import io, mqtt

    topic = "bench/py/%s/telemetry" % CLIENT_ID
    elg = io.EventLoopGroup(1)
    resolver = io.DefaultHostResolver(elg)
    bootstrap = io.ClientBootstrap(elg, resolver)
    client = mqtt.Client(bootstrap, None)  # no TLS
    conn = mqtt.Connection(client, HOST, PORT, CLIENT_ID, clean_session=True, keep_alive_secs=60)
    conn.connect().result(10)
    ready(topic)
    publish = conn.publish
    q = mqtt.QoS.AT_LEAST_ONCE if QOS == 1 else mqtt.QoS.AT_MOST_ONCE
    futures = []
    append = futures.append
    c0, t0 = time.process_time(), time.monotonic()
    for _ in range(COUNT):
        append(publish(topic, PAYLOAD, q)[0])
    if QOS > 0:
        for f in futures:
            f.result()
    t1, c1 = time.monotonic(), time.process_time()
    report(t0, t1, c0, c1)
    conn.disconnect().result(10)


if __name__ == "__main__":
    if KIND == "iotkit-aio":
        run_iotkit_aio()
    elif KIND.startswith("iotkit"):
        run_iotkit()
    elif KIND.startswith("paho"):
        run_paho()
    elif KIND == "awscrt":
        run_awscrt()
    else:
        fail("unknown kind %r" % KIND)
