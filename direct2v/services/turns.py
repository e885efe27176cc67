"""Renders and comparisons take turns on the GPU in a queue the page can see and cancel.

Gradio's own queue hides a waiting job from its handler: the page could not say how many
jobs are ahead, and Cancel could not reach a job that had not started. Here every job joins
a first-in-first-out line as soon as it is submitted; while it waits, its handler reports
its place, and a cancelled job simply leaves the line. Nothing here imports Gradio.
"""

from __future__ import annotations

import itertools
import threading


class QueueFull(RuntimeError):
    """The line is at its bound; the message says so in words for the page."""


class Turns:
    def __init__(self, slots: int = 1, max_waiting: int = 16):
        self.slots = max(1, int(slots))
        self.max_waiting = max(1, int(max_waiting))
        self._cond = threading.Condition()
        self._line: list[int] = []  # tickets waiting, oldest first
        self._running: set[int] = set()
        self._tickets = itertools.count(1)

    def join(self) -> int:
        """A ticket at the end of the line; QueueFull when the line is at its bound."""
        with self._cond:
            if len(self._line) >= self.max_waiting:
                raise QueueFull(
                    f"{len(self._line)} renders are already waiting, the most this server queues; try again in a few minutes."
                )
            ticket = next(self._tickets)
            self._line.append(ticket)
            return ticket

    def ahead(self, ticket: int) -> int:
        """Jobs that start before this one: those running and those earlier in the line."""
        with self._cond:
            if ticket not in self._line:
                return 0
            return len(self._running) + self._line.index(ticket)

    def wait(self, ticket: int, timeout: float) -> bool:
        """True once it is this ticket's turn (it then counts as running); False after `timeout`."""
        with self._cond:
            ready = self._cond.wait_for(lambda: self._is_next(ticket), timeout=timeout)
            if ready:
                self._line.remove(ticket)
                self._running.add(ticket)
            return ready

    def _is_next(self, ticket: int) -> bool:
        return len(self._running) < self.slots and bool(self._line) and self._line[0] == ticket

    def leave(self, ticket: int) -> None:
        """Done, failed or cancelled, waiting or running: give the place to the next job."""
        with self._cond:
            if ticket in self._line:
                self._line.remove(ticket)
            self._running.discard(ticket)
            self._cond.notify_all()

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._line)
