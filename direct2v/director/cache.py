"""On-disk cache of validated frame scripts, so a repeated request costs nothing.

One small JSON file per request under `<dir>/<first two hex digits>/<sha256>.json`. The key
is a hash of everything that shapes the answer (back end, model, server, task-prompt version,
user prompt, options, for the local model whether decoding is constrained and the frame-length
limit, and for doubling the input frames) and never of an API key: keys are not passed to
this module at all. Writes are atomic (temp file + rename), so two processes
sharing the cache never read half a file; an unreadable entry is a miss, not an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ENV_CACHE_DIR = "DIRECT2V_CACHE_DIR"
# The most entries kept (a few KB each); past it the oldest go, so a server that directs for
# strangers cannot fill its disk with their requests.
MAX_ENTRIES = 2000


def default_cache_dir() -> Path:
    """$DIRECT2V_CACHE_DIR, else ~/.cache/direct2v/director."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "direct2v" / "director"


def public_url(url: str | None) -> str | None:
    """`url` without user:password@ and without a query string (either may carry a secret)."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def request_key(request: dict[str, Any]) -> str:
    """sha256 of the request's canonical JSON (sorted keys, so dict order never matters)."""
    blob = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, directory: str | os.PathLike | None = None, max_entries: int = MAX_ENTRIES):
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()
        self.max_entries = max(1, int(max_entries))

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, request: dict[str, Any]) -> list[str] | None:
        path = self._path(request_key(request))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        frames = data.get("frames") if isinstance(data, dict) else None
        if not isinstance(frames, list) or not all(isinstance(f, str) and f.strip() for f in frames):
            return None
        if len(frames) != request.get("num_frames", len(frames)):
            return None
        return frames

    def put(self, request: dict[str, Any], frames: list[str]) -> None:
        """Store `frames`; a cache that cannot be written (read-only disk) is skipped silently,
        because losing a cache entry must never lose the user's script."""
        path = self._path(request_key(request))
        record = {"request": request, "frames": frames, "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f, ensure_ascii=False, indent=1)
            os.replace(tmp, path)
        except OSError:
            try:
                os.unlink(tmp)  # type: ignore[possibly-undefined]
            except (OSError, NameError):
                pass
        self._prune()

    def _prune(self) -> None:
        """Drop the oldest entries beyond `max_entries` (down to nine tenths, so pruning is rare)."""
        try:
            entries = [(p.stat().st_mtime, p) for p in self.directory.glob("??/*.json")]
        except OSError:
            return
        if len(entries) <= self.max_entries:
            return
        entries.sort()
        for _, old in entries[: len(entries) - self.max_entries * 9 // 10]:
            try:
                old.unlink()
            except OSError:
                pass
