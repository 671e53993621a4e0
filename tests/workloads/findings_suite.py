"""Workloads with a known answer for inflight's findings, one scenario per
process: python findings_suite.py SCENARIO. Prints {"ready": ...}, waits for
a line on stdin, sets its pattern up, prints {"ok": true, "expect": [...]}
(the findings it should yield, as [kind, reason, marker]) and holds the
pattern until stdin closes. Lines that create the tasks behind a finding
carry a '# site:NAME' marker; '# site:NAME_seen' marks the line a trace
--sampled gives instead, where it differs (see test_findings.py). Standard library only; CPython 3.9-3.13.

Scenarios: unbounded, bounded, taskgroup, nested, fire_and_forget, forever,
close_wait, pool, threads.
"""
import asyncio
import gc
import json
import os
import sys
import threading

holds = {}         # per thread (so per loop): set when stdin closes, every pattern lets go
kept = []          # references the scenarios keep on purpose


def hold():
    return holds[threading.get_ident()]


async def backend(reader, writer):
    """Holds each connection until the client goes."""
    await reader.read()
    writer.close()


async def hang_up(reader, writer):
    writer.close()


async def call_backend(port, sem=None):
    if sem:
        async with sem:
            return await connect_briefly(port)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await hold().wait()
    writer.close()


async def connect_briefly(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await asyncio.sleep(0.05)
    writer.close()
    await writer.wait_closed()


async def unbounded(port):
    await asyncio.gather(*[call_backend(port) for _ in range(300)])  # site:unbounded


async def bounded(port):
    sem = asyncio.Semaphore(16)
    await asyncio.gather(*[call_backend(port, sem) for _ in range(300)])


async def taskgroup(port):
    async with asyncio.TaskGroup() as tg:  # site:taskgroup_seen
        for _ in range(300):
            tg.create_task(call_backend(port))  # site:taskgroup


async def shard(port):
    await asyncio.gather(*[call_backend(port) for _ in range(80)])  # site:nested_inner


async def nested(port):
    await asyncio.gather(*[shard(port) for _ in range(5)])  # site:nested_outer


async def never():
    await asyncio.get_running_loop().create_future()  # site:never_seen


async def fire_and_forget(port):
    for _ in range(30):
        asyncio.ensure_future(never())  # site:fire_and_forget
    await asyncio.sleep(0.2)
    gc.collect()
    await hold().wait()


async def request(i, stuck_event):
    if i % 10 == 0:
        await stuck_event.wait()          # a tenth of them never get an answer  # site:forever_seen
    else:
        await asyncio.sleep(0.01)


async def forever(port):
    # after the other scenarios' bursts: --sampled bounds the lifetime of tasks
    # no read showed by the time between two reads of this process, which those
    # bursts stretch while the tracer reads every process (see run's build-up)
    await asyncio.sleep(1.0)
    stuck_event = asyncio.Event()
    tasks = [asyncio.create_task(request(i, stuck_event)) for i in range(200)]  # site:forever
    kept.extend(tasks)
    await hold().wait()


async def leak_one(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)  # site:leak_one_seen
    await reader.read()
    kept.append(writer)                    # never closed


async def close_wait(port):
    await asyncio.gather(*[asyncio.create_task(leak_one(port)) for _ in range(15)])  # site:close_wait
    await hold().wait()


async def worker(queue, port):
    while True:
        await queue.get()
        await connect_briefly(port)
        queue.task_done()


async def pool(port):
    queue = asyncio.Queue()
    for i in range(200):
        queue.put_nowait(i)
    workers = [asyncio.create_task(worker(queue, port)) for _ in range(8)]
    kept.extend(workers)
    await hold().wait()


SCENARIOS = {
    "unbounded": (unbounded, [["unbounded-fanout", None, "unbounded"]]),
    "bounded": (bounded, []),
    "taskgroup": (taskgroup, [["unbounded-fanout", None, "taskgroup"]]),
    "nested": (nested, [["unbounded-fanout", None, "nested_inner"]]),
    "fire_and_forget": (fire_and_forget, [["task-leak", "destroyed_pending", "fire_and_forget"]]),
    "forever": (forever, [["task-leak", "stuck", "forever"]]),
    "close_wait": (close_wait, [["connection-leak", "close_wait", "close_wait"]]),
    "pool": (pool, []),
}


# seconds from a scenario's start to its announcement: 'forever' starts late
BUILD_UP = {"forever": 1.5}


async def run(name, announce):
    holds[threading.get_ident()] = asyncio.Event()
    server = await asyncio.start_server(hang_up if name == "close_wait" else backend,
                                        "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    scenario = asyncio.ensure_future(SCENARIOS[name][0](port))
    await asyncio.sleep(BUILD_UP.get(name, 1.0))   # let the pattern build up
    announce()
    await loop.run_in_executor(None, stdin_closed.wait)
    hold().set()
    scenario.cancel()


stdin_closed = threading.Event()


def main():
    name = sys.argv[1]
    print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
    sys.stdin.readline()
    if name == "threads":
        # one loop fans out without bound, the other runs a healthy pool
        done = threading.Barrier(3)
        threads = [threading.Thread(target=asyncio.run, args=(run(n, done.wait),))
                   for n in ("unbounded", "pool")]
        for t in threads:
            t.start()
        done.wait()
        expect = SCENARIOS["unbounded"][1]
    else:
        done = threading.Event()
        thread = threading.Thread(target=asyncio.run, args=(run(name, done.set),))
        thread.start()
        done.wait()
        expect = SCENARIOS[name][1]
    print(json.dumps({"ok": True, "pid": os.getpid(), "expect": expect}), flush=True)
    sys.stdin.readline()
    stdin_closed.set()
    os._exit(0)


if __name__ == "__main__":
    main()
