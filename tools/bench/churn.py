"""Bench workload: task churn. Creates N trivial tasks, gathered in batches,
after a line on stdin (so a tracer can attach first); prints the seconds it
took as JSON, with the process's user and system CPU time over the same span
(a uprobe's trap and its BPF program are system time). With a third
argument, that many idle threads are started first, as a service's thread
pool would be. Standard library only."""
import asyncio
import json
import resource
import sys
import threading
import time


async def trivial():
    await asyncio.sleep(0)


async def churn(n, batch):
    start, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(n // batch):
        await asyncio.gather(*[asyncio.create_task(trivial()) for _ in range(batch)])
    end = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": time.perf_counter() - start, "tasks": n,
            "user_s": end.ru_utime - cpu.ru_utime, "sys_s": end.ru_stime - cpu.ru_stime}


def main():
    n, batch = int(sys.argv[1]), int(sys.argv[2])
    idle = threading.Event()
    for _ in range(int(sys.argv[3]) if len(sys.argv) > 3 else 0):
        threading.Thread(target=idle.wait, daemon=True).start()
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    print(json.dumps(asyncio.run(churn(n, batch))), flush=True)


if __name__ == "__main__":
    main()
