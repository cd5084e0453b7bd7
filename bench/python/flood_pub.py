"""The flood publisher of the receive benchmark (bench/run_python.sh): raw libmosquitto
(libmosquitto.so.1 through ctypes, so no C file is needed beside the existing ones), its
network thread from mosquitto_loop_start and a tight mosquitto_publish loop; no Python runs
per message except the ctypes call itself, no callback per acknowledgement.

In-flight window: libmosquitto's default (20 QoS 1 messages), as raw_mosquitto_pub.c. Setting
FLOOD_INFLIGHT=0 (no limit) is much slower with libmosquitto 2.0: measured here, 50,000 QoS 1
messages went through the publish loop at 4.6k/s instead of 730k/s (the queue handling grows
with the messages in flight), and arrived at 3.6k/s instead of 20k/s.

Usage: flood_pub.py HOST PORT TOPIC QOS COUNT PAYLOAD_BYTES

TOPIC "fleet:N" floods the telemetry of N devices instead (the Fleet rows): message k goes to
"iotkit/v1/bench-fleet-<k mod N>/telemetry" with the JSON form of two points (the payload of
bench/fleet_flood_pub.c; PAYLOAD_BYTES is then unused), every payload built before the clock starts.

Prints "ready" once connected; on a line on stdin publishes COUNT messages and prints
"flood queued=N seconds=S rate=R" (the rate of the publish loop: messages handed to
libmosquitto, not yet on the wire); then waits for stdin to close before it disconnects, so
nothing queued is cut off.
"""
import ctypes
import ctypes.util
import os
import sys
import threading

if __name__ == "__main__":  # recv_client.py imports fleet_device() from here
    HOST, PORT, TOPIC, QOS, COUNT, SIZE = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), \
        int(sys.argv[5]), int(sys.argv[6])


def main():
    import time

    lib = ctypes.CDLL(ctypes.util.find_library("mosquitto") or "libmosquitto.so.1")
    lib.mosquitto_new.restype = ctypes.c_void_p
    lib.mosquitto_new.argtypes = [ctypes.c_char_p, ctypes.c_bool, ctypes.c_void_p]
    lib.mosquitto_connect.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
    lib.mosquitto_loop_start.argtypes = [ctypes.c_void_p]
    lib.mosquitto_loop_stop.argtypes = [ctypes.c_void_p, ctypes.c_bool]
    lib.mosquitto_disconnect.argtypes = [ctypes.c_void_p]
    lib.mosquitto_destroy.argtypes = [ctypes.c_void_p]
    lib.mosquitto_max_inflight_messages_set.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    lib.mosquitto_publish.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                                      ctypes.c_char_p, ctypes.c_int, ctypes.c_bool]
    CONNECT_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)
    lib.mosquitto_connect_callback_set.argtypes = [ctypes.c_void_p, CONNECT_CB]

    lib.mosquitto_lib_init()
    m = lib.mosquitto_new(("bench-py-flood-%d" % os.getpid()).encode(), True, None)
    if os.environ.get("FLOOD_INFLIGHT"):  # default: libmosquitto's own (20 QoS 1 messages in flight)
        lib.mosquitto_max_inflight_messages_set(m, int(os.environ["FLOOD_INFLIGHT"]))
    connected = threading.Event()
    result = []

    def on_connect(mosq, obj, rc):
        result.append(rc)
        connected.set()

    cb = CONNECT_CB(on_connect)
    lib.mosquitto_connect_callback_set(m, cb)
    if lib.mosquitto_connect(m, HOST.encode(), PORT, 60) != 0 or lib.mosquitto_loop_start(m) != 0:
        sys.exit("flood: cannot connect to %s:%d" % (HOST, PORT))
    if not connected.wait(10) or result[0] != 0:
        sys.exit("flood: no CONNACK")
    print("ready", flush=True)
    sys.stdin.readline()

    publish = lib.mosquitto_publish
    if TOPIC.startswith("fleet:"):
        msgs = fleet_messages(int(TOPIC[6:]))
    else:
        msgs = [(TOPIC.encode(), b"x" * SIZE)] * COUNT
    t0 = time.monotonic()
    for i, (topic, payload) in enumerate(msgs):
        rc = publish(m, None, topic, len(payload), payload, QOS, False)
        if rc != 0:
            sys.exit("flood: publish %d failed: %d" % (i, rc))
    secs = time.monotonic() - t0
    print("flood queued=%d seconds=%.3f rate=%.0f" % (COUNT, secs, COUNT / secs), flush=True)
    sys.stdin.read()  # until the driver closes it
    lib.mosquitto_disconnect(m)
    lib.mosquitto_loop_stop(m, False)
    lib.mosquitto_destroy(m)
    lib.mosquitto_lib_cleanup()


def fleet_messages(devices):
    """(topic, payload) of each of the COUNT messages of the Fleet rows."""
    import time

    topics = [("iotkit/v1/%s/telemetry" % fleet_device(d)).encode() for d in range(devices)]
    base = int(time.time() * 1000) - 10_000_000
    out = []
    for k in range(COUNT):
        seq, ts = k // devices, base + k // devices
        out.append((topics[k % devices], (
            '{"ver":1,"seq":%d,"points":[{"n":"temperature","u":"Cel","ts":%d,"d":%.2f},'
            '{"n":"humidity","u":"%%RH","ts":%d,"d":%.1f}]}'
            % (seq + 1, ts, 15.0 + (k % 1000) / 100.0, ts, 30.0 + (k % 400) / 10.0)).encode()))
    return out


def fleet_device(d):
    """Id of device @p d of the Fleet rows (recv_client.py registers the same)."""
    return "bench-fleet-%05d" % d


if __name__ == "__main__":
    main()
