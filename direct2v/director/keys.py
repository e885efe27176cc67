"""Which key goes to which server.

A key from the environment (OPENAI_API_KEY, GEMINI_API_KEY, HF_TOKEN, ...) belongs to one
provider and is sent only to that provider's own hosts, over https. A custom base URL (a
proxy, a local vLLM, someone's endpoint) gets the key typed for it, or none: otherwise
pointing the director at another server would hand it the user's provider key.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from urllib.parse import urlsplit

# What a back end sends to a custom endpoint given no key: its SDK would otherwise read the
# provider's key from the environment itself and send it to that endpoint.
NO_KEY = "no-key-needed"

OPENAI_HOSTS = ("api.openai.com",)
GEMINI_HOSTS = ("generativelanguage.googleapis.com",)
# The Hub, its inference router and dedicated Inference Endpoints.
HF_HOSTS = ("huggingface.co", "endpoints.huggingface.cloud")


def is_provider_url(url: str | None, hosts: Iterable[str]) -> bool:
    """True for no URL (the SDK's default endpoint) or an https URL on one of `hosts` or a
    subdomain of one."""
    if not url:
        return True
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme != "https" or not host:
        return False
    return any(host == h or host.endswith("." + h) for h in hosts)


def env_key(names: Iterable[str]) -> tuple[str | None, str | None]:
    """(value, variable name) of the first non-empty variable among `names`."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value, name
    return None, None


def key_for(typed: str | None, url: str | None, names: Iterable[str], hosts: Iterable[str]) -> str | None:
    """The typed key if there is one, else the environment's key when `url` is the provider's
    own, else None."""
    typed = (typed or "").strip() or None
    if typed is not None:
        return typed
    if is_provider_url(url, hosts):
        return env_key(names)[0]
    return None
