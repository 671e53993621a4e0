"""Bench workload: the two backends the API service (api_service.py) calls. Two
HTTP/1.1 keep-alive servers on loopback ports, each answering every GET with a
small JSON body after DELAY seconds, as a backend across the network would.
Written on asyncio's protocols, not a framework, so that they cost the CPU they
share with the load generator and the tracer as little as possible. Prints
{"ports": [A, B]} when listening; runs until stdin closes. Standard library only."""
import asyncio
import json
import sys

DELAY_S = 0.001


class Backend(asyncio.Protocol):
    def __init__(self, body):
        self.body = body
        self.pending = b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.pending += data
        while b"\r\n\r\n" in self.pending:   # GETs only: a request ends with its headers
            _, self.pending = self.pending.split(b"\r\n\r\n", 1)
            asyncio.get_running_loop().call_later(DELAY_S, self.answer)

    def answer(self):
        if not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(self.body), self.body))


async def serve():
    loop = asyncio.get_running_loop()
    servers = [await loop.create_server(lambda body=body: Backend(body), "127.0.0.1", 0,
                                        backlog=1024)
               for body in (b'{"user": 42, "name": "ada"}', b'{"sku": 7, "stock": 12}')]
    print(json.dumps({"ports": [s.sockets[0].getsockname()[1] for s in servers]}), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(serve())
