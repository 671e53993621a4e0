"""A service for inflight trend's tests, the same code run as it changes from
week to week: python trend_service.py NAME, then "go WIDTH LEAK" on stdin.
NAME only makes the command line (and so the name inflight sweep gives the
service) its own; WIDTH and LEAK come on stdin so that a new week's pattern
keeps that name. One line gathers WIDTH requests to a backend at once, each
holding its connection; another polls a backend that hangs up, 8 at a time
(fewer than inflight trend's --grow-min), and with LEAK=1 never closes its
side (sockets left in CLOSE_WAIT). The backend (trend_backend.py) runs in a
child process without asyncio, so the service's tasks are only these.

Prints {"ready": ..., "backend": PID}, waits for the go line, sets the
pattern up, prints {"ok": true, "expect": [...]} (the findings it should
yield, as [kind, reason, marker]) and holds the pattern until stdin closes.
Lines carry '# site:NAME' markers. Standard library only; CPython 3.9-3.15.
"""
import asyncio
import json
import os
import subprocess
import sys
import threading

FANOUT_FINDING = 100     # inflight trace's default fanout_tasks
kept = []


async def call_backend(port, release):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await release.wait()
    writer.close()


async def fan_out(port, width, release):
    await asyncio.gather(*[call_backend(port, release) for _ in range(width)])  # site:fan_out


async def fetch(port, leak, release):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.read()
    if leak:
        kept.append(writer)              # never closed: CLOSE_WAIT
    else:
        writer.close()
        await writer.wait_closed()
    # held, leaking or not, so that a sweep's reads see the task (and place its sockets) at
    # its gather the same way every week
    await release.wait()


async def poll_backend(port, leak, release):
    await asyncio.gather(*[asyncio.create_task(fetch(port, leak, release)) for _ in range(8)])  # site:fetch


async def serve(width, leak, ports, ready, stdin_closed):
    release = asyncio.Event()
    fan = asyncio.ensure_future(fan_out(ports["hold"], width, release))
    poll = asyncio.ensure_future(poll_backend(ports["hang_up"], leak, release))
    await asyncio.sleep(1.0)             # let the pattern build up
    ready.set()
    await asyncio.get_running_loop().run_in_executor(None, stdin_closed.wait)
    release.set()
    await asyncio.gather(fan, poll, return_exceptions=True)


def main():
    # the backend named after its service, so that a sweep names it apart from other backends
    backend = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__),
                                                             "trend_backend.py"), sys.argv[1]],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ports = json.loads(backend.stdout.readline())
    print(json.dumps({"ready": True, "pid": os.getpid(), "backend": backend.pid}), flush=True)
    _, width, leak = sys.stdin.readline().split()
    width, leak = int(width), leak == "1"
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
