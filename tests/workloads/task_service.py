"""An asyncio service whose tasks the integration tests steer and count.

One command per line on stdin, one JSON line back on stdout. Lines that
create tasks carry a '# site:NAME' marker, so the test knows which source line
inflight must name. Standard library only; runs on CPython 3.9 to 3.13.

Commands:
  mark          remember the tasks that exist now (the baseline)
  fanout N      N tasks from one create_task line, all waiting
  gather N      a gather() over N coroutines, all waiting (in a background task)
  connect N     N tasks that each open a connection to our server and wait
  destroy N     N tasks whose only reference is dropped while they wait:
                destroyed while pending
  churn_destroy N  the same, 10 at a time amid a churn of short tasks (whose
                creation reuses the memory of those destroyed at once)
  leak N        N tasks that each connect to a server that hangs up, and
                keep the writer without closing it (CLOSE_WAIT)
  veteran       a task that waits for veteran_go, awaited by another (start it
                before the trace: the trace finds it in memory)
  veteran_go N  the veteran opens N connections to our server and creates N
                waiting tasks; it holds them until release
  release       let every waiting task finish, and wait for them
"""
import asyncio
import gc
import json
import os
import sys

state = {"destroyed_pending": 0}
kept = []      # writers of leaked connections: never closed
baseline = set()
waiting = []
release = None
veteran_go = None


def reply(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def new_in_flight():
    return len(asyncio.all_tasks() - baseline)


async def waiter(i):
    await release.wait()


async def brief():
    await asyncio.sleep(0)


async def hold_connection(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await release.wait()
    writer.close()
    await writer.wait_closed()


async def veteran(port):
    n = await veteran_go
    writers = [(await asyncio.open_connection("127.0.0.1", port))[1] for _ in range(n)]
    children = [asyncio.create_task(waiter(i)) for i in range(n)]  # site:veteran_child
    await asyncio.gather(*children)
    for writer in writers:
        writer.close()


async def veteran_parent(port):
    await asyncio.create_task(veteran(port))  # site:veteran


async def leak_connection(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.read()          # the server hangs up...
    kept.append(writer)          # ...and the writer is kept, never closed


async def hang_up(reader, writer):
    writer.close()


async def forgotten():
    await asyncio.get_running_loop().create_future()   # never resolved


async def serve(reader, writer):
    await reader.read()
    writer.close()


async def gather_all(n):
    await asyncio.gather(*[waiter(i) for i in range(n)])  # site:gather


async def settle():
    for _ in range(50):
        await asyncio.sleep(0.01)


def on_exception(loop, context):
    if "destroyed but it is pending" in context.get("message", ""):
        state["destroyed_pending"] += 1


async def run_command(words, port, port2):
    global baseline, release
    cmd, n = words[0], int(words[1]) if len(words) > 1 else 0
    if cmd == "mark":
        baseline = set(asyncio.all_tasks())
    elif cmd == "fanout":
        waiting.extend(asyncio.create_task(waiter(i)) for i in range(n))  # site:fanout
    elif cmd == "gather":
        waiting.append(asyncio.create_task(gather_all(n)))  # site:gather_parent
    elif cmd == "connect":
        waiting.extend(asyncio.create_task(hold_connection(port)) for _ in range(n))  # site:connect
    elif cmd == "destroy":
        for _ in range(n):
            asyncio.create_task(forgotten())  # site:destroy
        await settle()
        gc.collect()
    elif cmd == "churn_destroy":
        for _ in range(n // 10):
            for _ in range(10):
                asyncio.create_task(forgotten())  # site:churn_destroy
            await asyncio.sleep(0)
            gc.collect()
            await asyncio.gather(*[asyncio.create_task(brief()) for _ in range(200)])  # site:brief
    elif cmd == "veteran":
        waiting.append(asyncio.create_task(veteran_parent(port)))
    elif cmd == "veteran_go":
        veteran_go.set_result(n)
    elif cmd == "leak":
        await asyncio.gather(*(asyncio.create_task(leak_connection(port2)) for _ in range(n)))  # site:leak
    elif cmd == "release":
        release.set()
        await asyncio.gather(*waiting)
        waiting.clear()
        release = asyncio.Event()
    await settle()
    reply(ok=True, pid=os.getpid(), in_flight=new_in_flight(), **state)


async def main():
    global release, veteran_go
    release = asyncio.Event()
    veteran_go = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().set_exception_handler(on_exception)
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    hanging = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port2 = hanging.sockets[0].getsockname()[1]
    reply(ready=True, pid=os.getpid(), version=list(sys.version_info[:2]))
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        if line.split():
            await run_command(line.split(), port, port2)


if __name__ == "__main__":
    asyncio.run(main())
