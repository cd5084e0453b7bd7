"""An asyncio device: telemetry confirmed one by one, async commands, incoming messages.

    python3 aio_device.py mqtt://127.0.0.1:1883 [count]
"""
import asyncio
import sys

import iotkit.aio


async def main(uri: str, count: int) -> None:
    async with iotkit.aio.Device("aio-1", uri) as dev:

        @dev.command("ping")
        async def ping(params):
            await asyncio.sleep(0)
            return {"pong": True, "echo": params}

        async def listen():
            async for msg in dev.messages():
                print("message", msg.suffix, msg.payload)

        await dev.subscribe("config/#")
        listener = asyncio.create_task(listen())
        for seq in range(1, count + 1):
            msg_id = await dev.send_telemetry({"seq": seq, "load": seq / count})
            print("confirmed", seq, "as message", msg_id)
            await asyncio.sleep(0.2)
        listener.cancel()


asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10))
