"""python3 -m iotkit_dashboard --broker URI [--devices FILE] [--db FILE] [--port N]

Serves the dashboard on http://HOST:PORT/ (default 127.0.0.1:8080) until SIGINT or
SIGTERM; the live streams end, the fleet session stops, the process exits 0."""
from __future__ import annotations

import argparse
import logging
import sys
import threading

import uvicorn

from .app import create_app
from .service import FleetService, load_devices


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="iotkit_dashboard", description=__doc__.splitlines()[0])
    ap.add_argument("--broker", required=True, help="MQTT broker of the fleet, mqtt://host:port")
    ap.add_argument("--devices", help="JSON list of the devices to register ({id, transport, name, tags, edge})")
    ap.add_argument("--db", default=":memory:", help="registry database (default: in memory)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--files", help="a directory served at /files/ (the demo's OTA images)")
    ap.add_argument("--heartbeat", type=float, default=5.0, help="seconds of silence before a device shows as stale")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="dashboard: %(message)s")

    service = FleetService(args.db, uri=args.broker, devices=tuple(load_devices(args.devices)),
                           heartbeat=args.heartbeat)
    stopping = threading.Event()
    app = create_app(service, stopping=stopping, files=args.files)
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning",
                                           lifespan="off", access_log=False))
    base_exit = server.handle_exit

    def handle_exit(sig, frame):  # type: ignore[no-untyped-def]
        stopping.set()  # ends the open live streams, so that the server can close them
        base_exit(sig, frame)

    server.handle_exit = handle_exit  # type: ignore[assignment]
    service.start()
    try:
        server.run()
    finally:
        stopping.set()
        service.close()
    print("dashboard: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
