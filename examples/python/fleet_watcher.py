"""A fleet watcher: prints devices going online and offline and their telemetry, live.

    python3 fleet_watcher.py mqtt://127.0.0.1:1883 [registry.db]     (Ctrl-C stops it)
"""
import asyncio
import sys

import iotkit.aio


async def main(uri: str, db: str) -> None:
    async with iotkit.aio.Fleet(db, uri=uri, auto_register=True) as fleet:
        online = [d.id for d in fleet.iter(online=True)]
        print("watching %s: %d devices, online: %s" % (uri, len(fleet), " ".join(online) or "none"), flush=True)
        async for ev in fleet.events("status", "telemetry"):
            if ev.kind == "status":
                print(ev.device_id, "online" if ev.online else "offline (%s)" % ev.reason, flush=True)
            else:
                print(ev.device_id, " ".join("%s=%s" % (p.name, p.value) for p in ev.points), flush=True)


try:
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ":memory:"))
except KeyboardInterrupt:
    print("stopped", flush=True)
