"""The worker-thread stream that render and compare share: order, errors, cancel, lock."""

from __future__ import annotations

import threading
import time

import pytest

from direct2v.services.jobs import stream_job


def test_updates_then_result_in_order():
    def work(emit, stopped):
        for i in range(5):
            emit(i)
        return "done!"

    assert list(stream_job(work)) == [("update", i) for i in range(5)] + [("done", "done!")]


def test_a_worker_error_is_raised_in_the_reader():
    def work(emit, stopped):
        emit(1)
        raise KeyError("boom")

    gen = stream_job(work)
    assert next(gen) == ("update", 1)
    with pytest.raises(KeyError, match="boom"):
        next(gen)


def test_closing_stops_the_worker_and_frees_the_lock():
    lock = threading.Lock()
    steps: list[int] = []

    def work(emit, stopped):
        for i in range(1000):
            if stopped():
                return None
            steps.append(i)
            emit(i)
            time.sleep(0.01)
        return "never"

    gen = stream_job(work, lock=lock)
    assert next(gen) == ("update", 0)
    assert lock.locked()
    gen.close()  # returns only once the worker has stopped
    assert not lock.locked()
    n = len(steps)
    time.sleep(0.05)
    assert len(steps) == n < 1000


def test_the_lock_makes_jobs_take_turns():
    lock = threading.Lock()
    first = stream_job(lambda emit, stopped: emit("a") or "A", lock=lock)
    assert next(first) == ("update", "a")
    second = stream_job(lambda emit, stopped: "B", lock=lock)
    got: list = []
    reader = threading.Thread(target=lambda: got.extend(second))
    reader.start()
    reader.join(timeout=0.2)
    assert got == [] and reader.is_alive()  # waits for the first job
    assert list(first) == [("done", "A")]
    reader.join(timeout=5)
    assert got == [("done", "B")]


def test_newest_only_skips_stale_updates():
    release = threading.Event()

    def work(emit, stopped):
        for i in range(10):
            emit(i)
        release.wait(5)
        return "end"

    gen = stream_job(work, newest_only=True)
    time.sleep(0.2)  # all ten updates are queued before the reader looks
    assert next(gen) == ("update", 9)
    release.set()
    assert list(gen) == [("done", "end")]


def test_the_lock_is_held_until_a_slow_worker_has_really_stopped():
    """A worker that ignores the stop flag past the join timeout keeps the lock: the next job
    never runs beside it."""
    lock = threading.Lock()
    release = threading.Event()

    def stubborn(emit, stopped):
        emit("started")
        release.wait(5)
        return "late"

    gen = stream_job(stubborn, lock=lock, join_timeout_s=0.05)
    assert next(gen) == ("update", "started")
    gen.close()  # gives up waiting after 0.05 s
    assert lock.locked()
    release.set()
    assert lock.acquire(timeout=5)  # let go once the worker ended
    lock.release()
