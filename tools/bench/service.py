"""Bench workload: a loopback asyncio service. An echo server and C client
tasks, each with its own connection, doing R request/response round trips in
all; a new connection every K requests per client. Starts after a line on
stdin; prints the seconds it took as JSON, with the process's user and
system CPU time over the same span. Standard library only."""
import asyncio
import json
import resource
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
    start, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*[client(port, requests // clients, per_connection)
                           for _ in range(clients)])
    end = resource.getrusage(resource.RUSAGE_SELF)
    result = {"seconds": time.perf_counter() - start, "requests": requests,
              "user_s": end.ru_utime - cpu.ru_utime, "sys_s": end.ru_stime - cpu.ru_stime}
    server.close()
    return result


def main():
    clients, requests, per_connection = (int(a) for a in sys.argv[1:4])
    print(json.dumps(asyncio.run(run(clients, requests, per_connection))), flush=True)


if __name__ == "__main__":
    main()
