"""A main task that predates the trace and leaks client sessions, with a real
library: Debian's python3-aiohttp. Its main() starts before the tracer
attaches; once told, it opens SESSIONS aiohttp ClientSessions against a small
HTTP server in another thread, makes one request with each and never closes
them. Nothing awaits main's task: inflight must give it a line of its own (the
line it is suspended at when the trace begins, marked '# site:main') and
count its connections there.

Prints {"ready": ..., "pid": ...}, waits for a line on stdin (the tracer
attaches meanwhile), then {"ok": true, "expect": [...], "opened": N}, and
exits when stdin closes or a line comes.
"""
import asyncio
import json
import os
import sys
import threading

import aiohttp

SESSIONS = 300
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def say(**fields):
    print(json.dumps(fields), flush=True)


async def answer(reader, writer):
    while await reader.readuntil(b"\r\n\r\n"):
        writer.write(RESPONSE)
        await writer.drain()


def serve(port_box, started):
    async def run():
        server = await asyncio.start_server(answer, "127.0.0.1", 0, backlog=1024)
        port_box.append(server.sockets[0].getsockname()[1])
        started.set()
        await asyncio.Event().wait()
    asyncio.run(run())


async def main():
    port_box, started = [], threading.Event()
    threading.Thread(target=serve, args=(port_box, started), daemon=True).start()
    started.wait()
    url = "http://127.0.0.1:%d/" % port_box[0]
    loop = asyncio.get_running_loop()
    say(ready=True, pid=os.getpid())
    await loop.run_in_executor(None, sys.stdin.readline)  # site:main
    sessions = []
    for _ in range(SESSIONS):
        session = aiohttp.ClientSession()
        async with session.get(url) as response:
            await response.read()
        sessions.append(session)                          # never closed
    say(ok=True, pid=os.getpid(), expect=[["connection-leak", "never_closed", "main"]],
        opened=SESSIONS)
    await loop.run_in_executor(None, sys.stdin.readline)
    os._exit(0)


asyncio.run(main())
