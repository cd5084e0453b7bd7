"""The flood publisher of the receive benchmark (bench/run_python.sh): raw libmosquitto
(libmosquitto.so.1 through ctypes, so no C file is needed beside the existing ones), its
network thread from mosquitto_loop_start and a tight mosquitto_publish loop; no Python runs
per message except the ctypes call itself, no callback per acknowledgement.

In-flight window: libmosquitto's default (20 QoS 1 messages), as raw_mosquitto_pub.c. Setting
FLOOD_INFLIGHT=0 (no limit) is much slower with libmosquitto 2.0: measured here, 50,000 QoS 1
messages went through the publish loop at 4.6k/s instead of 730k/s (the queue handling grows
with the messages in flight), and arrived at 3.6k/s instead of 20k/s.

Usage: flood_pub.py HOST PORT TOPIC QOS COUNT PAYLOAD_BYTES

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

    publish, topic, payload = lib.mosquitto_publish, TOPIC.encode(), b"x" * SIZE
    t0 = time.monotonic()
    for i in range(COUNT):
        rc = publish(m, None, topic, SIZE, payload, QOS, False)
        if rc != 0:
            sys.exit("flood: publish %d failed: %d" % (i, rc))
    secs = time.monotonic() - t0
    print("flood queued=%d seconds=%.3f rate=%.0f" % (COUNT, secs, COUNT / secs), flush=True)
    sys.stdin.read()  # until the driver closes it
    lib.mosquitto_disconnect(m)
    lib.mosquitto_loop_stop(m, False)
    lib.mosquitto_destroy(m)
    lib.mosquitto_lib_cleanup()


if __name__ == "__main__":
    main()
