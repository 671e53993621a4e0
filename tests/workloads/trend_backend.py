"""The backend trend_service.py calls: python trend_backend.py NAME. Two
listening sockets: one holds each connection until the caller closes it, the
other hangs up at once. Prints {"hold": PORT, "hang_up": PORT} and serves until
stdin closes. No asyncio (a selectors loop in one thread), so that a sweep
finds no tasks here: the service's tasks are only trend_service.py's. NAME only
names the process after its service."""
import json
import selectors
import socket
import sys


def listener(sel, role):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1024)
    sel.register(s, selectors.EVENT_READ, role)
    return s.getsockname()[1]


def serve(sel):
    while True:
        for key, _ in sel.select():
            if key.data == "stdin":
                if not sys.stdin.buffer.raw.read(4096):
                    return
            elif key.data in ("hold", "hang_up"):
                conn, _ = key.fileobj.accept()
                if key.data == "hang_up":
                    conn.close()
                else:
                    sel.register(conn, selectors.EVENT_READ, "held")
            elif not key.fileobj.recv(4096):     # the caller closed: so does the backend
                sel.unregister(key.fileobj)
                key.fileobj.close()


def main():
    sel = selectors.DefaultSelector()
    ports = {"hold": listener(sel, "hold"), "hang_up": listener(sel, "hang_up")}
    sel.register(sys.stdin.buffer.raw, selectors.EVENT_READ, "stdin")
    print(json.dumps(ports), flush=True)
    serve(sel)


if __name__ == "__main__":
    main()
