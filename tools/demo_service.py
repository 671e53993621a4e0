"""inflight's demo: a small asyncio service with two classic bugs.

A "gateway" polls an inventory backend over TCP. A pool of keep-alive
connections is used correctly; but one code path (a backend that answers and
hangs up) returns early without closing its writer, so those sockets pile up in
CLOSE_WAIT; and every few seconds a catalog refresh asks a pricing backend about
every item at once, one connection each, with nothing bounding it.
Standard library only; everything stays on 127.0.0.1.
"""
import asyncio
import itertools
import os
import sys


async def inventory_backend(reader, writer):
    """Answers one request per connection, then hangs up; every third one it is busy."""
    line = await reader.readline()
    busy = next(inventory_backend.counter) % 3 == 0
    writer.write(b"busy\n" if busy else b"ok " + line)
    await writer.drain()
    writer.close()


inventory_backend.counter = itertools.count()


in_progress = {}   # item -> writer, for a status page


async def fetch_stock(port, item):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    in_progress[item] = writer
    writer.write(f"stock {item}\n".encode())
    await writer.drain()
    answer = await reader.readline()
    if answer == b"busy\n":
        # BUG: returns early: the writer is neither closed nor dropped from
        # in_progress, so the socket stays open in CLOSE_WAIT
        return None
    del in_progress[item]
    writer.close()
    await writer.wait_closed()
    return answer


async def pricing_backend(reader, writer):
    """Slow: answers after a second."""
    await reader.readline()
    await asyncio.sleep(1.0)
    writer.write(b"42\n")
    await writer.drain()
    writer.close()


async def check_price(port, item):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"price {item}\n".encode())
        await writer.drain()
        return await reader.readline()
    finally:
        writer.close()


async def refresh_catalog(port, items):
    while True:
        # BUG: one connection per item, all at once: nothing bounds the fan-out
        await asyncio.gather(*[check_price(port, item) for item in range(items)])
        await asyncio.sleep(2.0)


async def echo(reader, writer):
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


async def keepalive_pool(port, size):
    """A healthy pool: long-lived connections, reused."""
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(size)]
    while True:
        for reader, writer in conns:
            writer.write(b"ping\n")
            await writer.drain()
            await reader.readline()
        await asyncio.sleep(0.2)


async def main():
    inventory = await asyncio.start_server(inventory_backend, "127.0.0.1", 0)
    sessions = await asyncio.start_server(echo, "127.0.0.1", 0)
    pricing = await asyncio.start_server(pricing_backend, "127.0.0.1", 0, backlog=1024)
    refresher = asyncio.create_task(
        refresh_catalog(pricing.sockets[0].getsockname()[1], 200))
    port = inventory.sockets[0].getsockname()[1]
    pool = asyncio.create_task(keepalive_pool(sessions.sockets[0].getsockname()[1], 4))
    print(f"demo service: pid {os.getpid()}, inventory backend on 127.0.0.1:{port}",
          file=sys.stderr, flush=True)
    background = set()
    for item in itertools.count():
        task = asyncio.create_task(fetch_stock(port, item))
        background.add(task)
        task.add_done_callback(background.discard)
        await asyncio.sleep(0.05)
    await asyncio.gather(pool, refresher)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
