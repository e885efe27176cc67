"""Loopback servers that log what reaches them: a stand-in for the Hub (HF_ENDPOINT) and for
an internal service a visitor must never reach. Each answers every request at once."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer:
    """A threading HTTP server on a free port of 127.0.0.1, served while the `with` block runs;
    every request goes to `answer(handler)`, which subclasses write."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                server.answer(self)

            do_GET = do_POST = do_HEAD = do_PUT = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class LoggingServer(LoopbackServer):
    """Answers every request with `status` (404: "no such repository") and records
    (method, path, headers) of each; `location` makes every answer a redirect there."""

    def __init__(self, status: int = 404, location: str | None = None):
        super().__init__()
        self.status, self.location = status, location

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append({"method": handler.command, "path": handler.path,
                              "headers": {k.lower(): v for k, v in handler.headers.items()}})
        handler.send_response(self.status)
        if self.location:
            handler.send_header("location", self.location)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", "2")
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(b"{}")

    def authorizations(self) -> list[str]:
        return [r["headers"]["authorization"] for r in self.requests if "authorization" in r["headers"]]
