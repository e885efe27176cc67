"""Pick and build a director: `make_director`, `available_backends`, `default_backend`."""

from __future__ import annotations

import os
from typing import Any

from .base import Director
from .errors import DirectorConfigError

BACKENDS = ("local", "openai", "gemini", "huggingface", "offline")
_KEY_ENV = {
    "openai": ("OPENAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "huggingface": ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
}


def make_director(
    backend: str = "offline",
    model: str | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    **options: Any,
) -> Director:
    """A director for `backend`. Keys default to the environment (OPENAI_API_KEY,
    GEMINI_API_KEY / GOOGLE_API_KEY, HF_TOKEN), each sent only to its own provider's hosts: a
    custom `base_url` gets `api_key` or nothing. `options` go to the back end: cache,
    cache_dir, timeout, max_retries, backoff, max_format_retries, temperature, max_tokens; for
    "local" also device, dtype, max_new_tokens, constrained, max_frame_chars, fallback.
    Raises DirectorConfigError for an unknown back end or a missing key."""
    name = (backend or "offline").strip().lower()
    if name == "offline":
        from .offline import OfflineDirector

        return OfflineDirector()
    if name == "openai":
        from .openai_backend import OpenAIDirector as cls
    elif name == "gemini":
        from .gemini_backend import GeminiDirector as cls  # type: ignore[assignment]
    elif name == "local":
        from .local_backend import LocalDirector as cls  # type: ignore[assignment]
    elif name in ("huggingface", "hf"):
        from .hf_backend import HuggingFaceDirector as cls  # type: ignore[assignment]
    else:
        raise DirectorConfigError(f"Unknown director back end {backend!r}; choose one of {', '.join(BACKENDS)}.")
    try:
        return cls(model=model, api_key=api_key, base_url=base_url, **options)
    except TypeError as exc:  # an option this back end does not take
        raise DirectorConfigError(f"Bad option for the {name} director: {exc}.") from None


def available_backends() -> dict[str, str]:
    """Each back end and whether it can run now, as a short line for the page."""
    def key_line(name: str) -> str:
        found = [v for v in _KEY_ENV[name] if os.environ.get(v)]
        return f"ready (key from {found[0]})" if found else f"needs a key ({' or '.join(_KEY_ENV[name])}) or a base URL"

    return {
        "local": "an instruct model run on this machine with constrained decoding (the default without a key)",
        "openai": key_line("openai"),
        "gemini": key_line("gemini"),
        "huggingface": key_line("huggingface").replace(") or a base URL", "), a sign-in or a base URL"),
        "offline": "always available: the built-in rule-based writer, no model",
    }


def default_backend() -> str:
    """openai or gemini when their key is in the environment, else the local model (which
    falls back to the built-in writer, announced, when it cannot be loaded)."""
    for name in ("openai", "gemini"):
        if any(os.environ.get(v, "").strip() for v in _KEY_ENV[name]):
            return name
    return "local"
