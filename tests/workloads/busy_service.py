"""A process whose tasks change all the time, for reading it while it runs:
batches of 500 tasks that sleep 0-5 ms, gathered, forever; and a 20-deep
chain of tasks awaiting tasks that is rebuilt every few milliseconds.
Prints one JSON line (ready, pid) once busy."""
import asyncio
import json
import os
import random


async def short():
    await asyncio.sleep(random.random() * 0.005)


async def chain(depth):
    if depth:
        await asyncio.get_running_loop().create_task(chain(depth - 1))
    else:
        await asyncio.sleep(0.003)


async def churn():
    while True:
        await asyncio.gather(*[short() for _ in range(500)])


async def chains():
    while True:
        await chain(20)


async def main():
    workers = [asyncio.ensure_future(churn()), asyncio.ensure_future(chains())]
    await asyncio.sleep(0.2)
    print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
    await asyncio.gather(*workers)


if __name__ == "__main__":
    asyncio.run(main())
