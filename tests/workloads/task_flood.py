"""An asyncio service that creates tasks by the hundred thousand, for the
tests of inflight's memory under load. It counts every task it creates.

One command per line on stdin, one JSON line back on stdout. Lines that
create tasks carry a '# site:NAME' marker. Standard library only.

Commands:
  hold N        N tasks from one create_task line, all waiting until release
  churn N B     N short tasks from another line, B at a time, each batch
                awaited before the next starts
  release       let the held tasks finish, and wait for them
Each answer says how many tasks this process created in all, and how many
of its own tasks were pending when it answered.
"""
import asyncio
import json
import os
import sys

created = {"hold": 0, "churn": 0}
held = []
release = None


def reply(**fields):
    fields.update(ok=True, pid=os.getpid(), created=created,
                  in_flight=len(asyncio.all_tasks()) - 1)   # not the main task
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


async def waiter():
    await release.wait()


async def brief():
    pass


async def churn(n, batch):
    done = 0
    while done < n:
        size = min(batch, n - done)
        tasks = [asyncio.create_task(brief()) for _ in range(size)]  # site:churn
        created["churn"] += size
        for t in tasks:
            await t
        done += size


async def run_command(words):
    global release
    cmd = words[0]
    if cmd == "hold":
        n = int(words[1])
        held.extend(asyncio.create_task(waiter()) for _ in range(n))  # site:hold
        created["hold"] += n
        await asyncio.sleep(0)   # each has started, and waits
        reply()
    elif cmd == "churn":
        await churn(int(words[1]), int(words[2]))
        reply()
    elif cmd == "release":
        release.set()
        for t in held:
            await t
        held.clear()
        release = asyncio.Event()
        reply()


async def main():
    global release
    release = asyncio.Event()
    sys.stdout.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        if line.split():
            await run_command(line.split())


if __name__ == "__main__":
    asyncio.run(main())
