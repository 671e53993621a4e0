"""Bench workload: N pending tasks held in flight (for the tracer's memory and
refresh cost at scale). Creates them after a line on stdin, says so, and holds
them until stdin closes."""
import asyncio
import json
import sys


async def wait(event):
    await event.wait()


async def main(n):
    print(json.dumps({"ready": True}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)
    event = asyncio.Event()
    tasks = [asyncio.create_task(wait(event)) for _ in range(n)]
    await asyncio.sleep(0.5)
    print(json.dumps({"holding": n}), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    event.set()
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
