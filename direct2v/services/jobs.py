"""Run a GPU job in a worker thread and stream its updates; closing the stream cancels it.

The page's render and compare both need this: the work runs in a thread so the generator
can hand progress to Gradio while the GPU is busy, and a closed generator (Cancel, a closed
tab) must stop the work and wait until the GPU is free before the next job takes the lock.
Nothing here imports Gradio.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator

Emit = Callable[[Any], None]
Stopped = Callable[[], bool]


def stream_job(
    work: Callable[[Emit, Stopped], Any],
    *,
    lock: threading.Lock | None = None,
    newest_only: bool = False,
    name: str = "direct2v-job",
    join_timeout_s: float = 120.0,
) -> Iterator[tuple[str, Any]]:
    """Yield ("update", x) for every x that `work(emit, stopped)` emits, then ("done", its result).

    `work` should poll `stopped()` (the renderer's should_cancel) and end soon after it turns
    true. An exception raised by `work` is re-raised in the caller's thread. `newest_only`
    skips updates the reader was too slow to take, keeping only the latest. With `lock`, the
    job holds it from start until its worker has really finished, even past `join_timeout_s`
    (the caller stops waiting then; the lock stays taken until the worker ends).
    """
    events: queue.Queue = queue.Queue()
    stop = threading.Event()

    def run() -> None:
        try:
            events.put(("done", work(lambda x: events.put(("update", x)), stop.is_set)))
        except BaseException as e:  # handed to the caller's thread, which re-raises it
            events.put(("error", e))

    worker = threading.Thread(target=run, name=name, daemon=True)
    if lock is not None:
        lock.acquire()
    try:
        worker.start()
        while True:
            kind, payload = events.get()
            while newest_only and kind == "update":
                try:
                    kind, payload = events.get_nowait()
                except queue.Empty:
                    break
            if kind == "error":
                raise payload
            yield kind, payload
            if kind == "done":
                return
    finally:
        stop.set()
        if worker.ident is not None:
            worker.join(timeout=join_timeout_s)
        if lock is not None:
            _release_when_done(worker, lock)


def _release_when_done(worker: threading.Thread, lock: threading.Lock) -> None:
    """Release `lock` now if `worker` has ended, else as soon as it does: a step that ignores
    the stop flag past the join timeout must not share the GPU with the next job."""
    if not worker.is_alive():
        lock.release()
        return
    threading.Thread(target=lambda: (worker.join(), lock.release()), name=f"{worker.name}-unlock", daemon=True).start()
