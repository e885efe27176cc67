"""Base URLs a director may reach: parsed, never glued onto a path, and on a public server
checked and pinned (the transport is in pinned.py, which needs httpx).

SDKs append their route (`chat/completions`) to the base URL's raw path, so a `?` or `#` in a
typed base URL would move the route into the query and let the typer pick any path on the
host. `parse_base_url` therefore takes the URL apart and puts back only scheme, host, port and
a normalised path; userinfo, query and fragment are refused, not dropped, so nothing is sent
somewhere the user did not mean.

On a public server (`URLPolicy.public`) a visitor's base URL is reached only when the owner
listed it, or when it is https and every address its host resolves to is public. The checked
address is pinned for the director's life (`PinnedTransport` connects to it, with the host
name kept for the Host header and TLS), so DNS cannot swap it between check and connect;
redirects are refused rather than followed, also from the owner's listed URLs. Every refusal reads the same and happens before
any connection, so the message never tells an open port from a closed or silent one.
"""

from __future__ import annotations

import ipaddress
import posixpath
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import REFUSED, BaseURLRefused, DirectorConfigError  # noqa: F401 (REFUSED: for callers)

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Ranges that reach a private network through a public-looking IPv6 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def parse_base_url(url: str | None) -> str | None:
    """`url` as scheme://host[:port]/path with dot segments resolved and no trailing slash;
    None for no URL. Raises DirectorConfigError for anything else: another scheme, no host,
    user:password@, a query, a fragment, spaces or control characters."""
    text = (url or "").strip()
    if not text:
        return None
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise DirectorConfigError("The base URL contains spaces or control characters.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise DirectorConfigError("The base URL is not a valid URL (check the host and port).") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise DirectorConfigError("The base URL must start with http:// or https:// and name a host.")
    if "@" in parts.netloc or parts.query or parts.fragment or text.endswith(("?", "#")):
        raise DirectorConfigError(
            "The base URL must be scheme, host, port and path only: remove any user@, ?query or #fragment."
        )
    host = parts.hostname.lower().rstrip(".")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = posixpath.normpath("/" + parts.path.lstrip("/")).rstrip("/") if parts.path.strip("/") else ""
    return urlunsplit((scheme, netloc, path, "", ""))


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address; False for loopback, private, link-local
    (the cloud metadata 169.254.169.254), shared, multicast, reserved, unspecified, and IPv6
    forms that carry one of those inside (IPv4-mapped, 6to4, Teredo, NAT64)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is None and ip in _NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None and not is_public_address(str(inner)):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback)


def resolve_public(host: str, port: int) -> tuple[str, ...]:
    """Every address `host` resolves to, when all are public; else BaseURLRefused (also when
    the name does not resolve, so a refusal says nothing about the network behind it)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise BaseURLRefused() from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise BaseURLRefused()
    return addresses


@dataclass(frozen=True)
class URLPolicy:
    """Where a director's base URL may point. `public` False (the owner's own machine):
    anywhere. `public` True: `allowed` (the owner's list, compared after `parse_base_url`), or
    public https hosts reached through a pinned address."""

    public: bool = False
    allowed: tuple[str, ...] = ()

    @classmethod
    def of(cls, public: bool = False, allowed: Iterable[str] = ()) -> "URLPolicy":
        return cls(bool(public), tuple(u for u in (_parsed_or_none(a) for a in allowed) if u))

    def trusts(self, base_url: str | None) -> bool:
        """True when `base_url` (already parsed) needs no address check."""
        return not self.public or base_url is None or base_url in self.allowed

    def http_client(self, base_url: str | None, timeout: float) -> Any:
        """None off a public server (the SDK's own client). On one, an httpx.Client that
        reaches only `base_url`'s host and follows no redirect, pinned to a checked public
        address unless the owner listed the URL. Raises BaseURLRefused before any connection."""
        if not self.public or base_url is None:
            return None
        import httpx

        from .pinned import PinnedTransport

        parts = urlsplit(base_url)
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
        if self.trusts(base_url):
            address = None
        elif parts.scheme != "https":
            raise BaseURLRefused()
        else:
            address = resolve_public(parts.hostname or "", port)[0]
        transport = PinnedTransport(parts.scheme, parts.hostname or "", port, address)
        return httpx.Client(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False)


def _parsed_or_none(url: str) -> str | None:
    try:
        return parse_base_url(url)
    except DirectorConfigError:
        return None


def refusal_in(exc: BaseException) -> BaseURLRefused | None:
    """The BaseURLRefused an SDK wrapped (as cause or context), if any."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, BaseURLRefused):
            return exc
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
        seen += 1
    return None
