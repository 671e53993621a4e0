"""An asyncio service whose connections the integration tests steer and count.

It reads one command per line on stdin and answers one JSON line on stdout, so
the test knows exactly what the process did and when. Every connection is on
loopback. Its own counts are the ground truth inflight's report is checked
against.

Commands:
  hold N [v6]    open N client connections to our echo server and keep them
  leak N         open N connections to a server that hangs up at once; never
                 close them (they sit in CLOSE_WAIT)
  churn N        open and cleanly close N connections, one after the other
  dupclose       open a connection, dup its fd, close the original, then the dup
  dupmiss        open two connections; on the first's fd make dup2 and dup3 calls
                 that fail or change nothing (it stays open), then dup2 a pipe over
                 the second's fd (that one goes)
  grow N SECS    open N held connections spread evenly over SECS seconds
  burst N SECS   open N connections spread over SECS seconds, then close them
                 all at once
  mark           reset the counters (the tracer is attached from here on)
  report         print the counters
  quit           exit without closing anything
"""
import asyncio
import ctypes
import errno
import json
import os
import socket
import sys

counts = {"connected": 0, "accepted": 0, "closed": 0}
held = []      # client writers we keep open on purpose
accepted = []  # server-side writers of held connections


def reply(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


async def on_echo(reader, writer):
    counts["accepted"] += 1
    accepted.append(writer)
    try:
        while await reader.read(4096):
            pass
    finally:
        accepted.remove(writer)
        writer.close()
        counts["closed"] += 1


async def on_hang_up(reader, writer):
    counts["accepted"] += 1
    writer.close()
    counts["closed"] += 1


async def connect(host, port):
    reader, writer = await asyncio.open_connection(host, port)
    counts["connected"] += 1
    return reader, writer


async def close(writer):
    writer.close()
    await writer.wait_closed()
    counts["closed"] += 1


async def settle(expected_accepts):
    # the server side runs in its own callbacks: wait until it has seen them
    for _ in range(500):
        if counts["accepted"] >= expected_accepts:
            return
        await asyncio.sleep(0.01)


def expect_dup(got, want_ret, want_errno=0):
    err = ctypes.get_errno()
    if got != want_ret or (want_ret < 0 and err != want_errno):
        raise AssertionError("dup call gave %d (errno %d), expected %d (errno %d)" %
                             (got, err, want_ret, want_errno))


async def dup_without_closing(servers):
    libc = ctypes.CDLL(None, use_errno=True)
    kept = socket.create_connection(("127.0.0.1", servers["127.0.0.1"]))
    gone = socket.create_connection(("127.0.0.1", servers["127.0.0.1"]))
    counts["connected"] += 2
    await settle(counts["accepted"] + 2)
    fd = kept.fileno()
    expect_dup(libc.dup2(1 << 20, fd), -1, errno.EBADF)     # no such oldfd
    expect_dup(libc.dup3(fd, fd, 0), -1, errno.EINVAL)      # dup3 refuses fd onto itself
    expect_dup(libc.dup2(fd, fd), fd)                       # a no-op that succeeds
    held.append(kept)
    want_closed = counts["closed"] + 2
    r, w = os.pipe()
    expect_dup(libc.dup2(r, gone.fileno()), gone.fileno())  # the last fd of `gone`
    counts["closed"] += 1
    os.close(gone.detach())
    os.close(r)
    os.close(w)
    while counts["closed"] < want_closed:
        await asyncio.sleep(0.005)


async def run_command(words, servers):
    cmd, args = words[0], words[1:]
    if cmd == "hold":
        host = "::1" if "v6" in args else "127.0.0.1"
        want = counts["accepted"] + int(args[0])
        for _ in range(int(args[0])):
            held.append((await connect(host, servers[host]))[1])
        await settle(want)
    elif cmd == "leak":
        want = counts["accepted"] + int(args[0])
        for _ in range(int(args[0])):
            held.append((await connect("127.0.0.1", servers["hang_up"]))[1])
        await settle(want)
    elif cmd == "churn":
        for _ in range(int(args[0])):
            want_closed = counts["closed"] + 2
            _, writer = await connect("127.0.0.1", servers["127.0.0.1"])
            await close(writer)
            while counts["closed"] < want_closed:
                await asyncio.sleep(0.005)
    elif cmd == "dupclose":
        want_closed = counts["closed"] + 2
        sock = socket.create_connection(("127.0.0.1", servers["127.0.0.1"]))
        counts["connected"] += 1
        copy = os.dup(sock.fileno())
        sock.close()                 # the dup still holds the connection
        await settle(counts["accepted"] + 1)
        await asyncio.sleep(0.2)
        os.close(copy)               # now the socket goes
        counts["closed"] += 1
        while counts["closed"] < want_closed:
            await asyncio.sleep(0.005)
    elif cmd == "dupmiss":
        await dup_without_closing(servers)
    elif cmd == "burst":
        n, secs = int(args[0]), float(args[1])
        want_closed, want_accepted = counts["closed"] + 2 * n, counts["accepted"] + n
        writers = []
        for _ in range(n):
            writers.append((await connect("127.0.0.1", servers["127.0.0.1"]))[1])
            await asyncio.sleep(secs / n)
        await settle(want_accepted)
        await asyncio.gather(*(close(writer) for writer in writers))
        while counts["closed"] < want_closed:
            await asyncio.sleep(0.005)
    elif cmd == "grow":
        n, secs = int(args[0]), float(args[1])
        want = counts["accepted"] + n
        for _ in range(n):
            held.append((await connect("127.0.0.1", servers["127.0.0.1"]))[1])
            await asyncio.sleep(secs / n)
        await settle(want)
    elif cmd == "mark":
        for key in counts:
            counts[key] = 0
    elif cmd == "report":
        pass
    elif cmd == "quit":
        reply(ok=True, pid=os.getpid(), **counts)
        os._exit(0)
    else:
        reply(error="unknown command " + cmd)
        return
    reply(ok=True, pid=os.getpid(), **counts)


async def main():
    echo4 = await asyncio.start_server(on_echo, "127.0.0.1", 0)
    echo6 = await asyncio.start_server(on_echo, "::1", 0)
    hang_up = await asyncio.start_server(on_hang_up, "127.0.0.1", 0)
    servers = {
        "127.0.0.1": echo4.sockets[0].getsockname()[1],
        "::1": echo6.sockets[0].getsockname()[1],
        "hang_up": hang_up.sockets[0].getsockname()[1],
    }
    reply(ready=True, pid=os.getpid(), ports=servers)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        if line.split():
            await run_command(line.split(), servers)


if __name__ == "__main__":
    asyncio.run(main())
