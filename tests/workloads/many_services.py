"""Many small asyncio services at once: this process forks N children, each an
asyncio service of its own (its own loop, its own echo server), and relays
commands to them.

Usage: many_services.py N. One command per line on stdin, one JSON line back.
  work [PID...]  every child (or those given) opens 3 connections to its own
                 server from 3 tasks, closes 2 of them and holds the third;
                 the answer lists each of those children's own counts
  end PID        that child exits; the answer comes once it has
  quit           end every child, then exit
"""
import asyncio
import json
import os
import signal
import sys


def child(commands, answers):
    counts = {"connected": 0, "accepted": 0, "closed": 0}
    held = []

    async def on_echo(reader, writer):
        counts["accepted"] += 1
        while await reader.read(4096):
            pass
        writer.close()
        counts["closed"] += 1

    async def connect(port, keep):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        counts["connected"] += 1
        if keep:
            held.append(writer)
            return
        writer.close()
        await writer.wait_closed()
        counts["closed"] += 1

    async def work(port):
        want = counts["closed"] + 4
        tasks = [asyncio.create_task(connect(port, i == 0)) for i in range(3)]  # site:work
        await asyncio.gather(*tasks)
        while counts["closed"] < want or counts["accepted"] < 3:
            await asyncio.sleep(0.005)

    async def main():
        server = await asyncio.start_server(on_echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        busy = []

        def on_command():
            if os.read(commands, 64).strip() != b"work":
                os._exit(0)     # quit, or the relay is gone
            busy.append(asyncio.ensure_future(reply_after_work()))

        async def reply_after_work():
            await work(port)
            os.write(answers, (json.dumps(dict(pid=os.getpid(), **counts)) + "\n").encode())

        loop.add_reader(commands, on_command)
        await loop.create_future()

    asyncio.run(main())


def detach_from_relay(siblings):
    """A child keeps no end of its siblings' pipes, nor the relay's stdin and
    stdout: when the relay dies, every child reads EOF and exits."""
    for _, cmd, answers in siblings:
        os.close(cmd)
        os.close(answers.fileno())
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)


def spawn(n):
    children = []
    for _ in range(n):
        cmd_r, cmd_w = os.pipe()
        ans_r, ans_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(cmd_w)
            os.close(ans_r)
            detach_from_relay(children)
            child(cmd_r, ans_w)
        os.close(cmd_r)
        os.close(ans_w)
        children.append((pid, cmd_w, os.fdopen(ans_r)))
    return children


def main():
    children = spawn(int(sys.argv[1]))
    print(json.dumps({"ready": True, "pid": os.getpid(),
                      "children": [pid for pid, _, _ in children]}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if words[:1] == ["work"]:
            chosen = [c for c in children if len(words) == 1 or str(c[0]) in words[1:]]
            for _, cmd, _ in chosen:
                os.write(cmd, b"work\n")
            counts = [json.loads(answers.readline()) for _, _, answers in chosen]
            print(json.dumps({"ok": True, "children": counts}), flush=True)
        elif words[:1] == ["end"]:
            ending = [c for c in children if str(c[0]) == words[1]]
            for child_entry in ending:
                os.write(child_entry[1], b"quit\n")
                os.waitpid(child_entry[0], 0)
                children.remove(child_entry)
            print(json.dumps({"ok": bool(ending)}), flush=True)
        elif words[:1] == ["quit"]:
            break
    for pid, cmd, _ in children:
        os.write(cmd, b"quit\n")
    for pid, _, _ in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
