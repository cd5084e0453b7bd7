"""A sensor: telemetry every interval, a reported state, a command to change the interval.

    python3 sensor.py mqtt://127.0.0.1:1883 [count]
"""
import logging
import random
import sys
import time

import iotkit

logging.basicConfig(level=logging.INFO)
uri, count = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10
interval = 1.0

with iotkit.Device("sensor-1", uri) as dev:

    @dev.command("set_interval")
    def set_interval(params):
        global interval
        if not 10 <= params.get("interval_ms", 0) <= 86400000:
            raise iotkit.CommandError("invalid_params", "interval_ms must be 10..86400000")
        interval = params["interval_ms"] / 1000
        dev.report({"interval_ms": params["interval_ms"]})
        return {"interval_ms": params["interval_ms"]}

    dev.on_desired = lambda delta, version: print("desired", version, delta)
    dev.connect()
    dev.report({"firmware": "1.0.0", "interval_ms": int(interval * 1000)})
    for seq in range(1, count + 1):
        dev.send_telemetry({"seq": seq, "temperature": round(20 + random.random() * 5, 2)})
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline:  # commands and deliveries run in here
            dev.poll(max(0.0, deadline - time.monotonic()))
    print("sent", count, dev.telemetry_stats().confirmed, "confirmed")
