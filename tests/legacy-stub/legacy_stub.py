"""A legacy HTTP service on loopback, for the strangler façade's tests.

Started as `python3 legacy_stub.py [PORT]`: binds 127.0.0.1 on PORT (a
free one when absent), prints the port on its first line of stdout, and
serves until its stdin closes (the test that started it ended), or, from
a terminal, until it is stopped (Ctrl-C).

Routes (any method unless named):
  /echo...           the request as received: method, raw target, headers
                     (in order, repeated ones kept), body as base64; two
                     set-cookie headers; `?status=N` answers with N
  /binary?size=N     N bytes 0, 1, ..., 255, 0, ... as octet-stream
  /redirect          302 to /elsewhere
  /fail              500 with a text body
  /slow?ms=N         answers after N ms
  GET /orders/ID     the order ID as the legacy system has it
  POST /orders       stores the JSON order; an `idempotency-key` seen before
                     answers the order it stored, and stores nothing
  /_stats            requests per path, orders stored (not counted itself)
"""

import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()
REQUESTS = {}
ORDERS = {}
BY_KEY = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An answer leaves in one write, without waiting for the client's
    # delayed ACK (as a production server's would) on a kept-alive
    # connection.
    disable_nagle_algorithm = True
    wbufsize = 1 << 16

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type=None, extra=()):
        self.send_response(status)
        if content_type:
            self.send_header("content-type", content_type)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def json(self, status, value):
        self.answer(status, json.dumps(value).encode(), "application/json")

    def handle_any(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        path, query = split.path, parse_qs(split.query, keep_blank_values=True)
        if path == "/_stats":
            with LOCK:
                return self.json(200, {"requests": dict(REQUESTS), "orders": len(ORDERS)})
        with LOCK:
            REQUESTS[path] = REQUESTS.get(path, 0) + 1
        if path.startswith("/echo"):
            echoed = {
                "method": self.command,
                "target": self.path,
                "headers": [[name.lower(), value] for name, value in self.headers.items()],
                "body": base64.b64encode(body).decode(),
            }
            cookies = [("set-cookie", "a=1; Path=/"), ("set-cookie", "b=2; Path=/; HttpOnly"), ("x-legacy", "yes")]
            status = int(query.get("status", ["200"])[0])
            return self.answer(status, json.dumps(echoed).encode(), "application/json", cookies)
        if path == "/binary":
            size = int(query.get("size", ["1024"])[0])
            return self.answer(200, bytes(i % 256 for i in range(size)), "application/octet-stream")
        if path == "/redirect":
            return self.answer(302, b"", None, [("location", "/elsewhere")])
        if path == "/fail":
            return self.answer(500, b"legacy broke", "text/plain")
        if path == "/slow":
            time.sleep(int(query.get("ms", ["100"])[0]) / 1000)
            return self.json(200, {"slow": True})
        if path.startswith("/orders/") and self.command == "GET":
            order_id = path[len("/orders/"):]
            with LOCK:
                order = ORDERS.get(order_id, {"id": order_id, "total": 10, "status": "open"})
            return self.json(200, order)
        if path == "/orders" and self.command == "POST":
            key = self.headers.get("idempotency-key")
            order = json.loads(body or b"{}")
            with LOCK:
                if key and key in BY_KEY:
                    return self.json(200, ORDERS[BY_KEY[key]])
                ORDERS[order.get("id", str(len(ORDERS)))] = order
                if key:
                    BY_KEY[key] = order.get("id")
            return self.json(201, order)
        return self.json(404, {"error": "no such legacy resource"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    if sys.stdin.isatty():
        server.serve_forever()
        return
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
