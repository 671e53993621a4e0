"""A service that runs an event loop in a new thread per request, as some
frameworks and scripts do: every request's task is created on a thread of
its own, so at a creation site of its own for inflight. Counts what it runs.

One command per line on stdin, one JSON line back on stdout. Standard
library only.

Commands:
  requests N    N requests, one after the other, each in a new thread running
                a new event loop until request() is done: one task each
"""
import asyncio
import json
import os
import sys
import threading

served = {"threads": 0}


async def request():
    await asyncio.sleep(0)


def serve_one():
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(request())  # site:request
    finally:
        loop.close()
    served["threads"] += 1


def reply(**fields):
    sys.stdout.write(json.dumps(dict(fields, pid=os.getpid())) + "\n")
    sys.stdout.flush()


def main():
    reply(ready=True)
    for line in sys.stdin:
        words = line.split()
        if words and words[0] == "requests":
            for _ in range(int(words[1])):
                t = threading.Thread(target=serve_one)
                t.start()
                t.join()
            reply(ok=True, served=served["threads"])


if __name__ == "__main__":
    main()
