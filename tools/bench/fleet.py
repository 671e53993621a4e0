"""Bench workload: a fleet of one interpreter, as a pre-fork server (gunicorn,
uvicorn) makes one: this process forks N children, each with an asyncio loop
of its own (one task pending), and relays commands to them. Standard library
only.

Usage: fleet.py N. The first line out lists the children's pids; then one
command per line on stdin, one JSON line back:
  churn I T B  child I creates T trivial tasks, gathered in batches of B, and
               answers with the seconds it took and its user and system CPU
               time over the same span (a uprobe's trap is system time)
  quit         (or end of input) ends every child, then this process
"""
import asyncio
import json
import os
import resource
import signal
import sys
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


def child(commands, answers):
    async def on_churn(n, batch):
        os.write(answers, (json.dumps(await churn(n, batch)) + "\n").encode())

    async def main():
        loop = asyncio.get_running_loop()
        running = []

        def on_command():
            words = os.read(commands, 64).split()
            if words[:1] != [b"churn"]:
                os._exit(0)     # quit, or the relay is gone
            running.append(asyncio.ensure_future(on_churn(int(words[1]), int(words[2]))))

        loop.add_reader(commands, on_command)
        await loop.create_future()

    asyncio.run(main())


def spawn(n):
    children = []
    for _ in range(n):
        cmd_r, cmd_w = os.pipe()
        ans_r, ans_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(cmd_w)
            os.close(ans_r)
            # no end of a sibling's pipes: each child sees EOF when the relay goes
            for _, cmd, answers in children:
                os.close(cmd)
                answers.close()
            child(cmd_r, ans_w)
        os.close(cmd_r)
        os.close(ans_w)
        children.append((pid, cmd_w, os.fdopen(ans_r)))
    return children


def main():
    children = spawn(int(sys.argv[1]))
    print(json.dumps({"ready": True, "children": [pid for pid, _, _ in children]}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if words[:1] != ["churn"]:
            break
        _, cmd, answers = children[int(words[1])]
        os.write(cmd, ("churn %s %s\n" % (words[2], words[3])).encode())
        print(answers.readline().strip(), flush=True)
    for pid, cmd, _ in children:
        os.write(cmd, b"quit\n")
    for pid, _, _ in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
