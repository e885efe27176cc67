"""Loopback servers that log what reaches them: a stand-in for the Hub (HF_ENDPOINT) and for
an internal service a visitor must never reach. Each answers every request at once."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoggingServer:
    """Answers every request with `status` (404: "no such repository") and records
    (method, path, headers) of each; `location` makes every answer a redirect there."""

    def __init__(self, status: int = 404, location: str | None = None):
        self.requests: list[dict[str, Any]] = []
        log = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                log.requests.append({"method": self.command, "path": self.path,
                                     "headers": {k.lower(): v for k, v in self.headers.items()}})
                self.send_response(status)
                if location:
                    self.send_header("location", location)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(b"{}")

            do_GET = do_POST = do_HEAD = do_PUT = _answer

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def authorizations(self) -> list[str]:
        return [r["headers"]["authorization"] for r in self.requests if "authorization" in r["headers"]]

    def __enter__(self) -> "LoggingServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
