"""A process whose asyncio tasks already exist, for inflight ps/pstree and for
a trace attached mid-incident; it records its own ground truth.

Loop 1 (main thread): a backend that accepts connections and never answers;
a scatter task gathering --fanout query_shard tasks that each hold a
connection to it; a nested gather; an 'await task' chain; a TaskGroup (3.11+);
a finished and a cancelled task still referenced. Loop 2 (a second thread):
--sleepers sleeping tasks. Once everything is parked it prints one JSON line:
ready, pid, and per loop len(asyncio.all_tasks(loop)); then each task's id,
loop, coroutine, suspension line (cr_frame.f_lineno) and the task that awaits
it, as the workload itself set them up. Then it waits to be killed.

Usage: snapshot_service.py [--fanout N] [--sleepers N] [--no-connections]
"""
import argparse
import asyncio
import json
import os
import sys
import threading

parents = {}      # id(task) -> id(task awaiting it), as set up here
backend_conns = []


def note_parent(parent_id):
    parents[id(asyncio.current_task())] = parent_id


async def backend(reader, writer):
    backend_conns.append(writer)      # keep it open, never answer
    await reader.read()


async def query_shard(port, parent_id, connect):
    note_parent(parent_id)
    if not connect:
        await asyncio.sleep(3600)
        return
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.read(1)              # the backend stopped answering


async def scatter(port, n, parent_id, connect):
    note_parent(parent_id)
    me = id(asyncio.current_task())
    await asyncio.gather(*[query_shard(port, me, connect) for _ in range(n)])  # site:scatter


async def leaf(parent_id):
    note_parent(parent_id)
    await asyncio.sleep(3600)


async def inner_gather(parent_id):
    note_parent(parent_id)
    me = id(asyncio.current_task())
    await asyncio.gather(leaf(me), leaf(me), leaf(me))


async def outer_gather(parent_id):
    note_parent(parent_id)
    me = id(asyncio.current_task())
    # a gather of gathers: the inner ones are plain futures, their tasks are awaited by us
    await asyncio.gather(asyncio.gather(leaf(me), leaf(me)), inner_gather(me))


async def chain(depth, parent_id):
    note_parent(parent_id)
    if depth == 0:
        await asyncio.sleep(3600)
        return
    me = id(asyncio.current_task())
    await asyncio.get_running_loop().create_task(chain(depth - 1, me))


async def group_owner(parent_id):
    note_parent(parent_id)
    me = id(asyncio.current_task())
    async with asyncio.TaskGroup() as tg:
        for _ in range(5):
            tg.create_task(leaf(me))


async def quick():
    return 1


def ground_truth(loop):
    tasks = []
    for t in asyncio.all_tasks(loop):
        coro = t.get_coro()
        frame = getattr(coro, "cr_frame", None)
        tasks.append({"id": hex(id(t)), "loop": hex(id(loop)), "coroutine": coro.__qualname__,
                      "line": frame.f_lineno if frame else None,
                      "file": frame.f_code.co_filename if frame else None,
                      "parent": hex(parents[id(t)]) if parents.get(id(t)) else None})
    return tasks


async def sleepers_main(n, ready):
    await asyncio.sleep(0)
    for _ in range(n):
        asyncio.ensure_future(asyncio.sleep(3600))
    await asyncio.sleep(0.2)
    ready.set()
    await asyncio.sleep(3600 * 24)


def run_second_loop(n, holder, ready):
    loop = asyncio.new_event_loop()
    holder.append(loop)
    loop.run_until_complete(sleepers_main(n, ready))


async def main(args):
    server = await asyncio.start_server(backend, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    # started and kept, not awaited: nobody awaits these four
    keep = [asyncio.ensure_future(scatter(port, args.fanout, None, not args.no_connections)),
            asyncio.ensure_future(outer_gather(None)),
            asyncio.ensure_future(chain(4, None))]
    if sys.version_info >= (3, 11):
        keep.append(asyncio.ensure_future(group_owner(None)))
    done = asyncio.ensure_future(quick())
    cancelled = asyncio.ensure_future(asyncio.sleep(3600))
    await asyncio.sleep(0)
    cancelled.cancel()
    holder, ready = [], threading.Event()
    threading.Thread(target=run_second_loop, args=(args.sleepers, holder, ready),
                     daemon=True).start()
    # everything parked: every shard connected, the other loop's sleepers started
    while len(backend_conns) < (0 if args.no_connections else args.fanout):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    await asyncio.get_running_loop().run_in_executor(None, ready.wait)
    other = holder[0]
    mine = ground_truth(asyncio.get_running_loop())
    theirs = ground_truth(other)      # it is idle in its selector: nothing changes
    print(json.dumps({"ready": True, "pid": os.getpid(), "version": sys.version.split()[0],
                      "loops": {hex(id(asyncio.get_running_loop())): len(mine),
                                hex(id(other)): len(theirs)},
                      "tasks": mine + theirs, "done": [hex(id(done)), hex(id(cancelled))],
                      "main": hex(id(asyncio.current_task()))}),
          flush=True)
    await asyncio.sleep(3600 * 24)
    del keep


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--fanout", type=int, default=2000)
    ap.add_argument("--sleepers", type=int, default=100)
    ap.add_argument("--no-connections", action="store_true")
    asyncio.run(main(ap.parse_args()))
