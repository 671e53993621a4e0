"""Processes whose lives change under a trace: one without asyncio that holds a
few connections, one that exec()s, one that forks asyncio workers.
python lifecycle_target.py MODE. Standard library only; CPython 3.9+.

Each prints {"ready": true, "pid": ...} and then answers one JSON line per
command read on stdin, with its own counts: the ground truth.

Modes and their commands:
  plain      no asyncio, ever.  "connect PORT N": open N connections, keep them
  exec       "tasks N": N tasks that wait forever (site:before_exec);
             "exec PATH ARG...": exec() that program, stdin and stdout kept
  after_exec what "exec" runs to become Python again: "tasks N" (site:after_exec)
  forker     "fork W N": fork W workers, each running asyncio.run() with N tasks
             that connect to this process and wait (site:worker); then N tasks
             of its own that do the same (site:parent). Workers are killed at
             EOF on stdin.
"""
import json
import os
import signal
import socket
import sys


def say(**fields):
    print(json.dumps(fields), flush=True)


def commands():
    for line in sys.stdin:
        if line.split():
            yield line.split()


def plain():
    held = []
    say(ready=True, pid=os.getpid())
    for words in commands():
        port, n = int(words[1]), int(words[2])
        held += [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
        say(ok=True, connected=len(held))
    assert "asyncio" not in sys.modules


def with_tasks(marker_line_first):
    """Runs asyncio in a thread of its own, so that stdin stays synchronous (and
    exec() can be called from the main thread); returns a task starter."""
    import asyncio
    import threading

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    async def wait_forever():
        await asyncio.Event().wait()

    async def spawn(n):
        if marker_line_first:
            kept = [asyncio.ensure_future(wait_forever()) for _ in range(n)]  # site:before_exec
        else:
            kept = [asyncio.ensure_future(wait_forever()) for _ in range(n)]  # site:after_exec
        await asyncio.sleep(0)
        return len(kept), len(asyncio.all_tasks()) - 1

    def start(n):
        return asyncio.run_coroutine_threadsafe(spawn(n), loop).result()
    return start


def execer(before):
    start = with_tasks(before)
    say(ready=True, pid=os.getpid(), version="%d.%d" % sys.version_info[:2])
    for words in commands():
        if words[0] == "tasks":
            created, pending = start(int(words[1]))
            say(ok=True, created=created, pending=pending)
        elif words[0] == "exec":
            sys.stdout.flush()
            os.execv(words[1], words[1:])


def connector(port, kept):
    """A coroutine function: connect to port, keep the connection, wait forever."""
    import asyncio

    async def connect_and_wait():
        kept.append(await asyncio.open_connection("127.0.0.1", port))
        await asyncio.Event().wait()
    return connect_and_wait


def worker(n, port, ready_fd):
    import asyncio

    async def main():
        kept = []
        connect = connector(port, kept)
        tasks = [asyncio.ensure_future(connect()) for _ in range(n)]  # site:worker
        while len(kept) < len(tasks):
            await asyncio.sleep(0.01)
        os.write(ready_fd, b"x")
        await asyncio.Event().wait()
    asyncio.run(main())


def forker():
    import asyncio
    say(ready=True, pid=os.getpid())
    words = next(commands())
    n_workers, n = int(words[1]), int(words[2])
    listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
    port = listener.getsockname()[1]
    ready_r, ready_w = os.pipe()
    workers = []
    for _ in range(n_workers):
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            worker(n, port, ready_w)
            os._exit(0)
        workers.append(pid)
    os.close(ready_w)
    counts = {"accepted": 0, "connected": 0}
    accepted = []

    async def on_conn(reader, writer):
        counts["accepted"] += 1
        accepted.append(writer)
        await reader.read()

    async def main():
        server = await asyncio.start_server(on_conn, sock=listener)
        loop = asyncio.get_running_loop()
        got = b""
        while len(got) < n_workers:
            got += await loop.run_in_executor(None, os.read, ready_r, 64)
        kept = []
        connect = connector(port, kept)
        tasks = [asyncio.ensure_future(connect()) for _ in range(n)]  # site:parent
        while len(kept) < len(tasks) or counts["accepted"] < n * (n_workers + 1):
            await asyncio.sleep(0.01)
        counts["connected"] = len(kept)
        say(ok=True, workers=workers, **counts)
        await loop.run_in_executor(None, sys.stdin.read)
        server.close()
    try:
        asyncio.run(main())
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "plain":
        plain()
    elif mode in ("exec", "after_exec"):
        execer(mode == "exec")
    elif mode == "forker":
        forker()
