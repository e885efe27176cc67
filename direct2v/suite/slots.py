"""Bounded concurrency across processes: at most `n` holders at once, by file locks.

K processes directing a suite with one API key would otherwise send K requests at a time
and trip the provider's rate limit. Each request first takes one of `n` lock files in a
folder all processes share (`filelock`: fcntl locks, which the kernel drops when a process
dies, so a killed run never leaves a slot taken). Retries of a 429 or 5xx stay the
director's own (`LLMDirector._send`), inside the slot.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout


class Slots:
    def __init__(self, folder: str | Path, n: int, poll_s: float = 0.2):
        if n < 1:
            raise ValueError(f"The number of slots must be at least 1 (got {n}).")
        self.folder = Path(folder)
        self.n = n
        self.poll_s = poll_s

    @contextlib.contextmanager
    def hold(self) -> Iterator[int]:
        """Wait for a free slot; yield its number while holding it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        locks = [FileLock(str(self.folder / f"slot-{i}.lock")) for i in range(self.n)]
        while True:
            for i, lock in enumerate(locks):
                try:
                    lock.acquire(timeout=0)
                except Timeout:
                    continue
                try:
                    yield i
                finally:
                    lock.release()
                return
            time.sleep(self.poll_s)
