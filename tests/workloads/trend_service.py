"""A service for inflight trend's tests, the same code run as it changes from
week to week: python trend_service.py WIDTH LEAK. One line gathers WIDTH
requests to a backend at once, each holding its connection; another polls a
backend that hangs up, 8 at a time (fewer than inflight trend's --grow-min,
so how many a 100 ms read catches in flight makes no change), and with LEAK=1
never closes its side (sockets left in CLOSE_WAIT). The backend runs in a child process, so the
traced process's tasks are only these.

Prints {"ready": ...}, waits for a line on stdin, sets the pattern up, prints
{"ok": true, "expect": [...]} (the findings it should yield, as
[kind, reason, marker]) and holds the pattern until stdin closes. Lines
carry '# site:NAME' markers. Standard library only; CPython 3.9-3.13.
"""
import asyncio
import json
import os
import subprocess
import sys
import threading

FANOUT_FINDING = 100     # inflight trace's default fanout_tasks
kept = []


async def backend_main():
    async def hold(reader, writer):
        await reader.read()
        writer.close()

    async def hang_up(reader, writer):
        writer.close()

    held = await asyncio.start_server(hold, "127.0.0.1", 0, backlog=1024)
    dropped = await asyncio.start_server(hang_up, "127.0.0.1", 0, backlog=1024)
    print(json.dumps({"hold": held.sockets[0].getsockname()[1],
                      "hang_up": dropped.sockets[0].getsockname()[1]}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def call_backend(port, release):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await release.wait()
    writer.close()


async def fan_out(port, width, release):
    await asyncio.gather(*[call_backend(port, release) for _ in range(width)])  # site:fan_out


async def fetch(port, leak):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.read()
    if leak:
        kept.append(writer)              # never closed: CLOSE_WAIT
    else:
        writer.close()
        await writer.wait_closed()


async def poll_backend(port, leak):
    await asyncio.gather(*[asyncio.create_task(fetch(port, leak)) for _ in range(8)])  # site:fetch


async def serve(width, leak, ports, ready, stdin_closed):
    release = asyncio.Event()
    fan = asyncio.ensure_future(fan_out(ports["hold"], width, release))
    poll = asyncio.ensure_future(poll_backend(ports["hang_up"], leak))
    await asyncio.sleep(1.0)             # let the pattern build up
    ready.set()
    await asyncio.get_running_loop().run_in_executor(None, stdin_closed.wait)
    release.set()
    await asyncio.gather(fan, poll, return_exceptions=True)


def main():
    if sys.argv[1] == "backend":
        asyncio.run(backend_main())
        return
    width, leak = int(sys.argv[1]), sys.argv[2] == "1"
    backend = subprocess.Popen([sys.executable, __file__, "backend"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    ports = json.loads(backend.stdout.readline())
    print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
    sys.stdin.readline()
    ready, stdin_closed = threading.Event(), threading.Event()
    thread = threading.Thread(target=asyncio.run,
                              args=(serve(width, leak, ports, ready, stdin_closed),))
    thread.start()
    ready.wait()
    expect = []
    if width >= FANOUT_FINDING:
        expect.append(["unbounded-fanout", None, "fan_out"])
    if leak:
        expect.append(["connection-leak", "close_wait", "fetch"])
    print(json.dumps({"ok": True, "pid": os.getpid(), "expect": expect}), flush=True)
    sys.stdin.readline()
    stdin_closed.set()
    backend.stdin.close()
    backend.wait()
    os._exit(0)


if __name__ == "__main__":
    main()
