"""The transport behind `URLPolicy.http_client` (urls.py): one host, pinned to one checked address."""

from __future__ import annotations

from typing import Any

import httpx

from .errors import BaseURLRefused


class PinnedTransport(httpx.BaseTransport):
    """Sends requests only to one scheme, host and port, and, given an `address`, connects to
    that checked address whatever the name resolves to now. Any other URL and any redirect are
    refused (the SDK reports a connection failure caused by BaseURLRefused)."""

    def __init__(self, scheme: str, host: str, port: int, address: str | None):
        self.scheme, self.host, self.port, self.address = scheme, host, port, address
        self._inner = httpx.HTTPTransport(retries=0)

    def handle_request(self, request: Any) -> Any:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        if (url.scheme, url.host, port) != (self.scheme, self.host, self.port):
            raise BaseURLRefused()
        if self.address is not None:
            # Connect to the checked address; the Host header and TLS (SNI and the
            # certificate check) keep the name, so the server sees an ordinary request.
            request.url = url.copy_with(host=self.address)
            request.extensions = {**request.extensions, "sni_hostname": self.host}
        response = self._inner.handle_request(request)
        if 300 <= response.status_code < 400:
            response.close()
            raise BaseURLRefused()
        return response

    def close(self) -> None:
        self._inner.close()
