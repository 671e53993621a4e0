"""Services that leak and then end, one scenario per process, for the findings
a trace must keep after its target is gone: python dying_service.py SCENARIO.

Prints {"ready": ..., "pid": ...}, waits for a line on stdin, builds its
pattern, prints {"ok": true, "expect": [...], ...} (the findings it should
yield, as [kind, reason, marker], and its own counts), then ends the way the
scenario says, without waiting for stdin. Lines that create the tasks behind a
finding carry a '# site:NAME' marker. Standard library only; CPython 3.9-3.13.

Scenarios:
  close_wait_exit  sockets the peer closed pile up in CLOSE_WAIT; then exit(0)
  task_pileup      tasks awaiting futures nobody resolves pile up; asyncio.run()
                   returns and cancels them
  killed           the CLOSE_WAIT leak, then SIGKILL
  exception        the CLOSE_WAIT leak, then an unhandled exception
  oom              the CLOSE_WAIT leak, then memory until the OOM killer comes
                   (the test puts the process in a small memory cgroup)
  healthy          connections opened and closed, tasks that finish; exit(0)
"""
import asyncio
import json
import os
import signal
import sys

LEAKED = 120          # CLOSE_WAIT sockets: past the critical 10, short of 200
PILED = 3000          # tasks that never complete
kept = []             # what the scenarios keep on purpose


def say(**fields):
    print(json.dumps(fields), flush=True)


async def hang_up(reader, writer):
    writer.close()


async def echo(reader, writer):
    while data := await reader.read(1024):
        writer.write(data)
        await writer.drain()
    writer.close()


async def leak_one(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.read()
    kept.append(writer)                    # never closed


async def close_wait_leak():
    server = await asyncio.start_server(hang_up, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    tasks = []
    for _ in range(LEAKED):
        tasks.append(asyncio.create_task(leak_one(port)))  # site:leak
        await asyncio.sleep(0.01)
    await asyncio.gather(*tasks)
    server.close()                         # only the clients' sockets leak
    await asyncio.sleep(1.5)               # held past the test's --close-wait-age 0.5
    return {"close_wait": LEAKED}


async def never():
    await asyncio.get_running_loop().create_future()


async def task_pileup():
    for _ in range(PILED // 300):
        kept.extend(asyncio.create_task(never()) for _ in range(300))  # site:pileup
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)
    return {"piled": PILED}


async def round_trip(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"ping")
    await reader.readexactly(4)
    writer.close()
    await writer.wait_closed()


async def healthy():
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for _ in range(20):
        await asyncio.gather(*[round_trip(port) for _ in range(10)])
        await asyncio.sleep(0.05)
    server.close()
    await server.wait_closed()
    return {"round_trips": 200}


LEAK = [["connection-leak", "close_wait", "leak"]]
# a process that exits normally or by an exception collects the leaked
# transports, and Python's ResourceWarnings name them: credited to their opener
LEAK_COLLECTED = LEAK + [["unclosed-resource", None, "leak"]]
SCENARIOS = {
    "close_wait_exit": (close_wait_leak, LEAK_COLLECTED),
    "task_pileup": (task_pileup, [["task-leak", "piled_up", "pileup"]]),
    "killed": (close_wait_leak, LEAK),
    "exception": (close_wait_leak, LEAK_COLLECTED),
    "oom": (close_wait_leak, LEAK),
    "healthy": (healthy, []),
}


def exhaust_memory():
    hog = []
    while True:
        hog.append(bytearray(16 << 20))   # touched, so resident


async def run(name):
    pattern, expect = SCENARIOS[name]
    counts = await pattern()
    say(ok=True, pid=os.getpid(), expect=expect, **counts)
    if name == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    if name == "exception":
        raise RuntimeError("the service gave up")
    if name == "oom":
        exhaust_memory()


def main():
    name = sys.argv[1]
    say(ready=True, pid=os.getpid())
    sys.stdin.readline()
    asyncio.run(run(name))


if __name__ == "__main__":
    main()
