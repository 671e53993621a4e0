"""Bench workload: task churn. Creates N trivial tasks, gathered in batches,
after a line on stdin (so a tracer can attach first); prints the seconds it
took as JSON. With a third argument, that many idle threads are started
first, as a service's thread pool would be. Standard library only."""
import asyncio
import json
import sys
import threading
import time


async def trivial():
    await asyncio.sleep(0)


async def churn(n, batch):
    start = time.perf_counter()
    for _ in range(n // batch):
        await asyncio.gather(*[asyncio.create_task(trivial()) for _ in range(batch)])
    return time.perf_counter() - start


def main():
    n, batch = int(sys.argv[1]), int(sys.argv[2])
    idle = threading.Event()
    for _ in range(int(sys.argv[3]) if len(sys.argv) > 3 else 0):
        threading.Thread(target=idle.wait, daemon=True).start()
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    elapsed = asyncio.run(churn(n, batch))
    print(json.dumps({"seconds": elapsed, "tasks": n}), flush=True)


if __name__ == "__main__":
    main()
