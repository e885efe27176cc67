"""A bounded store for what the page writes: previews, final frames, videos, zips, project
files, comparisons and history thumbnails.

A long-running Space must not fill its disk. Each render (or save, or comparison) gets a
folder of its own; when a kind has more than `keep` folders, the oldest go. The store lives
inside Gradio's cache folder, so Gradio serves the files where they are instead of copying
each one into its cache (which would double the disk use and escape the bound).

Nothing here imports Gradio; `direct2v.ui.files.output_store()` makes the page's store in
Gradio's folder.
"""

from __future__ import annotations

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

    def new_dir(self, kind: str) -> Path:
        """A fresh, empty folder for one result of `kind`; prunes the oldest beyond the bound."""
        if kind not in self.keep:
            raise ValueError(f"Unknown output kind {kind!r}; one of {', '.join(self.keep)}.")
        base = self.root / kind
        with self._lock:
            base.mkdir(parents=True, exist_ok=True)
            # Names sort by creation: nanosecond clock, then a per-process counter, then pid.
            name = f"{time.time_ns():020d}-{next(self._counter):06d}-{os.getpid()}"
            path = base / name
            path.mkdir()
            removed = self._prune(base, self.keep[kind])
        if removed and self.on_remove is not None:
            try:
                self.on_remove(removed)
            except Exception:
                pass  # forgetting served paths is housekeeping; never fail a render for it
        return path

    def _prune(self, base: Path, keep: int) -> set[str]:
        folders = sorted((p for p in base.iterdir() if p.is_dir()), key=lambda p: p.name)
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
