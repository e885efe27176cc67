"""Renders and comparisons take turns on the GPU in a queue the page can see and cancel.

Gradio's own queue hides a waiting job from its handler: the page could not say how many
jobs are ahead, and Cancel could not reach a job that had not started. Here every job joins
a first-in-first-out line as soon as it is submitted; while it waits, its handler reports
its place, and a cancelled job simply leaves the line. Nothing here imports Gradio.

On a public server each visitor (browser session) also has a bound of their own: at most
`per_visitor` = (running, waiting) jobs, and a waiting job whose visitor already has their
running jobs lets the next visitor's job go first, so one visitor cannot hold the line.
"""

from __future__ import annotations

import itertools
import threading


class QueueFull(RuntimeError):
    """The line is at its bound; the message says so in words for the page."""


class Turns:
    def __init__(self, slots: int = 1, max_waiting: int = 16, per_visitor: tuple[int, int] | None = None):
        self.slots = max(1, int(slots))
        self.max_waiting = max(1, int(max_waiting))
        # (running, waiting) per visitor; None: no bound of their own (the owner's machine).
        self.per_visitor = None if per_visitor is None else (max(1, int(per_visitor[0])), max(0, int(per_visitor[1])))
        self._cond = threading.Condition()
        self._line: list[int] = []  # tickets waiting, oldest first
        self._running: set[int] = set()
        self._owner: dict[int, str] = {}  # ticket -> visitor (browser session)
        self._tickets = itertools.count(1)

    def join(self, visitor: str = "local") -> int:
        """A ticket at the end of the line; QueueFull when the line or the visitor's share is full."""
        with self._cond:
            if len(self._line) >= self.max_waiting:
                raise QueueFull(
                    f"{len(self._line)} renders are already waiting, the most this server queues; try again in a few minutes."
                )
            if self.per_visitor is not None:
                running, waiting = self.per_visitor
                mine = sum(1 for owner in self._owner.values() if owner == visitor)
                if mine >= running + waiting:
                    raise QueueFull(
                        f"You already have {mine} jobs running or waiting, the most this server takes from one "
                        "visitor; wait for one to finish, or press Cancel to end them."
                    )
            ticket = next(self._tickets)
            self._line.append(ticket)
            self._owner[ticket] = visitor
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
        if len(self._running) >= self.slots:
            return False
        return next((t for t in self._line if self._may_start(t)), None) == ticket

    def _may_start(self, ticket: int) -> bool:
        """A visitor with their running share already on the GPU waits; others go ahead."""
        if self.per_visitor is None:
            return True
        owner = self._owner.get(ticket)
        return sum(1 for t in self._running if self._owner.get(t) == owner) < self.per_visitor[0]

    def leave(self, ticket: int) -> None:
        """Done, failed or cancelled, waiting or running: give the place to the next job."""
        with self._cond:
            if ticket in self._line:
                self._line.remove(ticket)
            self._running.discard(ticket)
            self._owner.pop(ticket, None)
            self._cond.notify_all()

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._line)
