"""A process that imports asyncio only after the tracer attached and fans out at
once: the tasks it creates before the tracer's probes go in must be found in
memory. Standard library only; CPython 3.9-3.13.

Prints {"ready": ..., "pid": ...}, waits for a line on stdin, then imports
asyncio and at once starts TASKS tasks from one marked line, each holding a
loopback connection to a server in this process. Once all are connected it
prints {"ok": true, "tasks": N, "held": M} (what it created and how many
connections were held at once), holds the pattern HOLD_S seconds, lets go,
and exits when stdin closes.
"""
import json
import os
import sys

TASKS = 200
HOLD_S = 1.5

print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
sys.stdin.readline()
assert "asyncio" not in sys.modules

import asyncio  # noqa: E402  (late on purpose)

started = 0
held = 0
peak_held = 0
all_connected = release = None    # asyncio.Events, made in the loop (3.9 binds them there)


async def backend(reader, writer):
    """Holds each connection until the pattern lets go."""
    await release.wait()
    writer.close()


async def hold_connection(port):
    """One connection, held in a stream read (where a snapshot sees its socket)."""
    global started, held, peak_held
    started += 1
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    held += 1
    peak_held = max(peak_held, held)
    if held == TASKS:
        all_connected.set()
    await reader.read()
    writer.close()
    held -= 1


async def announce_when_connected():
    await all_connected.wait()
    print(json.dumps({"ok": True, "pid": os.getpid(), "tasks": started, "held": peak_held}),
          flush=True)
    await asyncio.sleep(HOLD_S)
    release.set()


async def main():
    global all_connected, release
    all_connected, release = asyncio.Event(), asyncio.Event()
    server = await asyncio.start_server(backend, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    announcer = asyncio.ensure_future(announce_when_connected())
    await asyncio.gather(*[hold_connection(port) for _ in range(TASKS)])  # site:late_fanout
    await announcer
    server.close()


asyncio.run(main())
sys.stdin.read()
