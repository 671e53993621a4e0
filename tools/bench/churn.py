"""Bench workload: task churn. Creates N trivial tasks, gathered in batches,
after a line on stdin (so a tracer can attach first); prints the seconds it
took as JSON. Standard library only."""
import asyncio
import json
import sys
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
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    elapsed = asyncio.run(churn(n, batch))
    print(json.dumps({"seconds": elapsed, "tasks": n}), flush=True)


if __name__ == "__main__":
    main()
