"""A process that imports asyncio only after the tracer attached, then runs two
event loops in two threads. Standard library only.

Prints {"ready": ..., "pid": ...}, waits for a line on stdin, and only then
imports asyncio; each thread creates its own tasks from its own marked line,
reports len(asyncio.all_tasks()) of its loop while they wait, and the process
prints {"ok": true, "threads": {...}} when done.
"""
import json
import os
import sys
import threading

print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
sys.stdin.readline()
assert "asyncio" not in sys.modules

import asyncio  # noqa: E402  (late on purpose)

results = {}


async def wait_for(event):
    await event.wait()


async def spawn(name, n):
    event = asyncio.Event()
    if name == "a":
        tasks = [asyncio.create_task(wait_for(event)) for _ in range(n)]  # site:thread_a
    else:
        tasks = [asyncio.create_task(wait_for(event)) for _ in range(n)]  # site:thread_b
    await asyncio.sleep(1.0)
    results[name] = len(asyncio.all_tasks()) - 1   # this coroutine's own task
    await asyncio.sleep(1.0)
    event.set()
    await asyncio.gather(*tasks)


# inflight looks for a newly loaded _asyncio at each poll (every 100 ms)
threading.Event().wait(0.5)
threads = [threading.Thread(target=asyncio.run, args=(spawn(name, n),))
           for name, n in (("a", 60), ("b", 25))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"ok": True, "pid": os.getpid(), "threads": results}), flush=True)
sys.stdin.readline()
