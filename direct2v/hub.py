"""Can a Hub download start at all? Asked once, in about a second, before a model load.

Without a network, huggingface_hub retries each request with back-off (1+2+4+8+8 s) before it
gives up, so a first load on a machine without a network took about 29 s to fail, and the
page sat on "Loading the local director…" the whole time. One name lookup and one TCP connect
to the Hub's endpoint say the same thing at once; where they fail, loads pass
`local_files_only=True`, which reads the cache at once and fails at once if the model is not
there.

No probe where the library would not reach the Hub anyway (HF_HUB_OFFLINE, a local path) and
none behind a proxy (HTTPS_PROXY and friends), where a direct connect proves nothing.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Collection
from urllib.parse import urlparse

PROBE_TIMEOUT_S = 3.0
REMEMBER_S = 60.0  # a network that comes back is noticed on a load a minute later
_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")

# One answer for every name outside the owner's lists: a path that exists, one that does not
# and a Hub id all read the same.
NOT_LISTED = "This server loads only the {what} its owner listed; choose one from the list."

_lock = threading.Lock()
_seen: dict[tuple[str, int], tuple[float, bool]] = {}

# transformers' lazy modules are not safe to import from two threads at once: Python's deadlock
# guard hands one thread the other's half-initialised module ("cannot import name 'AutoConfig'").
# A worker thread that may be the first to import the model libraries holds this lock meanwhile
# (the page's model preload, the local director's load).
MODEL_IMPORTS = threading.Lock()


def endpoint() -> tuple[str, int]:
    import huggingface_hub.constants

    url = urlparse(huggingface_hub.constants.ENDPOINT)
    return url.hostname or "huggingface.co", url.port or (443 if url.scheme == "https" else 80)


def offline_mode() -> bool:
    import huggingface_hub.constants

    return bool(huggingface_hub.constants.HF_HUB_OFFLINE)


def is_hub_id(model: str) -> bool:
    """'org/name' or 'name', not a path on this machine."""
    path = os.path.expanduser(model)
    return not os.path.exists(path) and not model.startswith((".", "/", "~")) and model.count("/") <= 1


def probe(host: str, port: int, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True when a TCP connection to host:port opens within `timeout` (name lookup included)."""
    result: list[bool] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    # getaddrinfo has no timeout of its own: a hung resolver must not hang the load.
    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    return bool(result and result[0])


def reachable() -> bool:
    """Whether the Hub's endpoint answers, remembered for REMEMBER_S."""
    if any(os.environ.get(v) for v in _PROXY_VARS):
        return True
    where = endpoint()
    now = time.monotonic()
    with _lock:
        seen = _seen.get(where)
        if seen is not None and now - seen[0] < REMEMBER_S:
            return seen[1]
    ok = probe(*where)
    with _lock:
        _seen[where] = (now, ok)
    return ok


def local_only(model: str) -> bool:
    """True when a load of `model` should read the local cache only: a Hub id while the Hub
    cannot be reached (offline mode is left to the library, which already does this)."""
    return is_hub_id(model) and not offline_mode() and not reachable()


def forget() -> None:
    with _lock:
        _seen.clear()


def is_listed(name: str | None, listed: Collection[str] | None) -> bool:
    """True when `listed` is None (the owner's own machine), `name` is empty (nothing to load)
    or `name`, stripped, is one of `listed`."""
    name = (name or "").strip()
    return listed is None or not name or name in {n.strip() for n in listed}


def token_kwargs(token: str | bool | None) -> dict:
    """Keyword arguments for a from_pretrained / hf_hub_download: none for the library's
    default token, `token=` for a given one or for False (send none)."""
    return {} if token is None else {"token": token}
