"""A bounded store for what the page writes: previews, final frames, videos, zips, project
files, comparisons and history thumbnails.

A long-running Space must not fill its disk. Each render (or save, or comparison) gets a
folder of its own; when a kind has more than `keep` folders, the oldest go. The store lives
inside Gradio's cache folder, so Gradio serves the files where they are instead of copying
each one into its cache (which would double the disk use and escape the bound).

On a public server each visitor's folders are also theirs: named with a hash of the session
(never the session id itself, which would let a link's reader act as that visitor), bounded
per visitor inside the global bound, and deleted when the visitor leaves (`drop_session`).

Nothing here imports Gradio; `direct2v.ui.files.output_store()` makes the page's store in
Gradio's folder.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

# Folders kept per kind. A render shows its downloads until this many newer renders (from
# any visitor) have been made; history thumbnails are tiny, so many more are kept.
DEFAULT_KEEP = {"render": 24, "compare": 8, "project": 32, "thumb": 256}
# Folders kept per kind for one visitor (public mode): their own oldest go first.
SESSION_KEEP = {"render": 6, "compare": 2, "project": 8, "thumb": 64}


def session_tag(session: str) -> str:
    """A short, one-way name for a browser session, safe to appear in served file paths."""
    return hashlib.sha256(session.encode("utf-8")).hexdigest()[:16]


class OutputStore:
    def __init__(
        self,
        root: str | Path | None = None,
        keep: dict[str, int] | None = None,
        on_remove: Callable[[set[str]], None] | None = None,
    ):
        self.root = Path(root) if root is not None else Path(tempfile.gettempdir()) / "direct2v-outputs"
        self.keep = {**DEFAULT_KEEP, **(keep or {})}
        self.on_remove = on_remove  # told the file paths of every pruned folder
        self._lock = threading.Lock()
        self._counter = itertools.count()

    def new_dir(self, kind: str, session: str | None = None) -> Path:
        """A fresh, empty folder for one result of `kind` (of `session`, a visitor's); prunes
        the visitor's oldest beyond their bound, then the oldest of all beyond the global one."""
        if kind not in self.keep:
            raise ValueError(f"Unknown output kind {kind!r}; one of {', '.join(self.keep)}.")
        base = self.root / kind
        tag = f"-{session_tag(session)}" if session is not None else ""
        with self._lock:
            base.mkdir(parents=True, exist_ok=True)
            # Names sort by creation: nanosecond clock, then a per-process counter, then pid.
            name = f"{time.time_ns():020d}-{next(self._counter):06d}-{os.getpid()}{tag}"
            path = base / name
            path.mkdir()
            removed = self._prune(base, SESSION_KEEP.get(kind, self.keep[kind]), tag) if tag else set()
            removed |= self._prune(base, self.keep[kind])
        self._forget(removed)
        return path

    def drop_session(self, session: str) -> int:
        """Delete every folder of `session` (the visitor left); returns how many files went."""
        tag = f"-{session_tag(session)}"
        with self._lock:
            removed: set[str] = set()
            for kind in self.keep:
                if (self.root / kind).is_dir():
                    removed |= self._prune(self.root / kind, 0, tag)
        self._forget(removed)
        return len(removed)

    def _forget(self, removed: set[str]) -> None:
        if removed and self.on_remove is not None:
            try:
                self.on_remove(removed)
            except Exception:
                pass  # forgetting served paths is housekeeping; never fail a render for it

    def _prune(self, base: Path, keep: int, tag: str = "") -> set[str]:
        """Remove the oldest folders of `base` (those ending in `tag`, when given) beyond `keep`."""
        folders = sorted((p for p in base.iterdir() if p.is_dir() and p.name.endswith(tag)), key=lambda p: p.name)
        removed: set[str] = set()
        for old in folders[: max(0, len(folders) - keep)]:
            removed.update(str(Path(os.path.abspath(f))) for f in _files(old))
            shutil.rmtree(old, ignore_errors=True)
        return removed

    def usage(self) -> tuple[int, int]:
        """(number of files, bytes) under the store."""
        n = size = 0
        for f in _files(self.root):
            try:
                size += f.stat().st_size
                n += 1
            except OSError:
                pass
        return n, size


def _files(folder: Path) -> Iterable[Path]:
    if not folder.exists():
        return []
    return [p for p in folder.rglob("*") if p.is_file()]


class SessionStore:
    """One visitor's view of the store: `new_dir(kind)` makes that visitor's folders (the
    store's own, shared ones when `session` is None)."""

    def __init__(self, store: OutputStore, session: str | None):
        self.store, self.session = store, session

    def new_dir(self, kind: str) -> Path:
        return self.store.new_dir(kind, self.session)
