"""Bench workload: an API service on a real framework (Debian's python3-aiohttp),
written as a new user would. GET /api calls the two backends (api_backends.py,
ports PORT_A and PORT_B) at once, each with a deadline, over one pooled aiohttp
ClientSession, runs one task of its own beside them (an audit record), and
answers with what the backends said. Prints {"ready": true, "port": P} when listening; when stdin
closes, prints its own counters ({"requests": N, "audited": N}) and exits.

Usage: api_service.py PORT_A PORT_B"""
import asyncio
import json
import sys

from aiohttp import ClientSession, web

BACKEND_TIMEOUT_S = 2.0


async def fetch(app, backend):
    async with app["session"].get(app["backends"][backend]) as response:
        return await response.json()


async def call(app, backend):
    """A backend call with its own deadline, as services set one per backend."""
    return await asyncio.wait_for(fetch(app, backend), BACKEND_TIMEOUT_S)


async def audit(app, path):
    await asyncio.sleep(0)
    app["counters"]["audited"] += path == "/api"


async def api(request):
    app = request.app
    record = asyncio.create_task(audit(app, request.path))
    user, stock = await asyncio.gather(call(app, 0), call(app, 1))
    await record
    app["counters"]["requests"] += 1
    return web.json_response({"user": user, "stock": stock})


async def client_session(app):
    async with ClientSession() as session:
        app["session"] = session
        yield


async def serve(ports):
    app = web.Application()
    app["backends"] = ["http://127.0.0.1:%d/" % p for p in ports]
    app["counters"] = {"requests": 0, "audited": 0}
    app.cleanup_ctx.append(client_session)
    app.router.add_get("/api", api)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    print(json.dumps({"ready": True, "port": runner.addresses[0][1]}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    counters = dict(app["counters"])
    await runner.cleanup()
    return counters


def main():
    print(json.dumps(asyncio.run(serve([int(p) for p in sys.argv[1:3]]))), flush=True)


if __name__ == "__main__":
    main()
