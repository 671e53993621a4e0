"""Bench workload: a loopback asyncio service. An echo server and C client
tasks, each with its own connection, doing R request/response round trips in
all; a new connection every K requests per client. Starts after a line on
stdin; prints the seconds it took as JSON. Standard library only."""
import asyncio
import json
import sys
import time


async def echo(reader, writer):
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


async def client(port, requests, per_connection):
    done = 0
    while done < requests:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(min(per_connection, requests - done)):
            writer.write(b"ping\n")
            await writer.drain()
            await reader.readline()
            done += 1
        writer.close()
        await writer.wait_closed()


async def run(clients, requests, per_connection):
    server = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"ready": True}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    start = time.perf_counter()
    await asyncio.gather(*[client(port, requests // clients, per_connection)
                           for _ in range(clients)])
    elapsed = time.perf_counter() - start
    server.close()
    return elapsed


def main():
    clients, requests, per_connection = (int(a) for a in sys.argv[1:4])
    elapsed = asyncio.run(run(clients, requests, per_connection))
    print(json.dumps({"seconds": elapsed, "requests": requests}), flush=True)


if __name__ == "__main__":
    main()
