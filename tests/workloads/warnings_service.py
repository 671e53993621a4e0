"""Workloads whose Python warnings have a known answer, one scenario per
process: python warnings_service.py SCENARIO. Prints {"ready": ...}, waits
for a line on stdin, does its work, prints {"ok": true, "expect": [...]}:
the findings it should yield as [kind, marker], where the marker names the
'# site:NAME' line of the finding's site, and, for an unclosed connection,
the coroutine that opened it and the line its task was created at. Then
waits for stdin to close. Standard library only; CPython 3.9-3.15.

Scenarios: never_awaited, unclosed, deprecated, healthy.
"""
import asyncio
import gc
import json
import os
import socket
import ssl
import sys
import threading
import warnings

held = []          # the server side of every connection, held open


def listen():
    """A plain-thread TCP server that accepts and holds every connection: the
    event loop's only connections are those its tasks open."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)

    def accept():
        while True:
            held.append(srv.accept()[0])
    threading.Thread(target=accept, daemon=True).start()
    return srv.getsockname()[1]


async def notify():
    await asyncio.sleep(0)


async def handler():
    notify()  # site:dropped
    await asyncio.sleep(0)


async def open_and_forget(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"x")
    # past a poll of the tracer: the warning is matched to a connection the
    # model knows with its opener, which one opened and dropped within one
    # poll is not yet (found, but not attributed)
    await asyncio.sleep(0.3)


async def open_and_close(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.close()
    await writer.wait_closed()


async def unclosed(port):
    await asyncio.create_task(open_and_forget(port))  # site:opener


async def healthy(port):
    await asyncio.create_task(open_and_close(port))
    await notify()


async def wait_on_coroutines():
    await asyncio.wait([notify()])  # site:dep_wait


def deprecated_calls(minor):
    """Deprecated calls this version warns about, under a blanket ignore."""
    warnings.simplefilter("ignore")
    expect = []
    if minor <= 10:
        asyncio.run(wait_on_coroutines())
        expect.append(["deprecated-api", "dep_wait"])
    if minor >= 10:
        ssl.SSLContext()  # site:dep_ssl
        expect.append(["deprecated-api", "dep_ssl"])
    if minor in (12, 13):
        asyncio.get_event_loop()  # site:dep_loop
        expect.append(["deprecated-api", "dep_loop"])
    return expect


def run(name, minor):
    if name == "never_awaited":
        asyncio.run(handler())
        return [["never-awaited", "dropped"]]
    if name == "deprecated":
        return deprecated_calls(minor)
    port = listen()
    asyncio.run(unclosed(port) if name == "unclosed" else healthy(port))
    gc.collect()
    if name == "unclosed":
        return [["unclosed-resource", "opener"]]
    return []


def main():
    name = sys.argv[1]
    minor = sys.version_info[1]
    print(json.dumps({"ready": True, "pid": os.getpid(),
                      "version": "3.%d" % minor}), flush=True)
    sys.stdin.readline()
    expect = run(name, minor)
    print(json.dumps({"ok": True, "expect": expect, "opener": "open_and_forget"}), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
