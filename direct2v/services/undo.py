"""The frame table's edit history: every change (a cell edit, a row tool, a director action,
x2, a loaded project) is one step that Undo takes back and Redo puts again, many levels deep.

Each row carries what the director wrote for it (None for a row the person typed, added or
loaded), so a row moved, deleted or brought back by Undo keeps its origin, and "edited by
hand" is always what it says: a row whose text is not what the director wrote there. Each row
also carries the key of its own reference picture (row_pictures.py), so a picture moves,
goes and comes back with its row; a new row has none and joins the span above it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from .session import PerSession

MAX_STEPS = 50  # per session, each way; the oldest steps go first


@dataclass(frozen=True)
class Table:
    """The table at one moment: its rows, what the director wrote for each, the fps, and
    each row's own reference picture."""

    prompts: tuple[str, ...]
    directed: tuple[str | None, ...]  # per row: the director's text for it, or None
    fps: int
    pictures: tuple[str | None, ...] = ()  # per row: a row_pictures key, or None; may be short

    def row_pictures(self) -> tuple[str | None, ...]:
        """One picture key (or None) per row."""
        n = len(self.prompts)
        return (tuple(self.pictures) + (None,) * n)[:n]

    def inserted(self, i: int, prompt: str = "", directed: str | None = None) -> "Table":
        p = self.row_pictures()
        return Table((*self.prompts[:i], prompt, *self.prompts[i:]), (*self.directed[:i], directed, *self.directed[i:]),
                     self.fps, (*p[:i], None, *p[i:]))

    def without(self, i: int) -> "Table":
        p = self.row_pictures()
        return Table(self.prompts[:i] + self.prompts[i + 1:], self.directed[:i] + self.directed[i + 1:], self.fps, p[:i] + p[i + 1:])

    def reordered(self, order: list[int]) -> "Table":
        p = self.row_pictures()
        return Table(tuple(self.prompts[k] for k in order), tuple(self.directed[k] for k in order), self.fps,
                     tuple(p[k] for k in order))

    def with_picture(self, i: int, key: str | None) -> "Table":
        p = list(self.row_pictures())
        p[i] = key
        return replace(self, pictures=tuple(p))

    def hand_edited(self) -> list[int]:
        """1-based rows that are not what the director wrote for them (typed ones included)."""
        return [i + 1 for i, (p, d) in enumerate(zip(self.prompts, self.directed)) if (p != d if d is not None else p.strip())]


def directed_table(prompts: list[str], fps: int, pictures: tuple[str | None, ...] = ()) -> Table:
    """A table the director wrote: every row is its own; `pictures` stay at their rows."""
    return Table(tuple(prompts), tuple(prompts), int(fps), tuple(pictures)[: len(prompts)])


def follow(current: Table | None, prompts: list[str], fps: int) -> Table:
    """`prompts` (what the page shows now) with the origins of `current`'s rows: a row keeps
    its origin where the row count is unchanged (an edit changes text, not origin); else
    rows are matched by position, and new ones are the person's (pictures likewise)."""
    if current is None:
        return Table(tuple(prompts), (None,) * len(prompts), int(fps))
    origin = current.directed
    return Table(tuple(prompts), tuple(origin[i] if i < len(origin) else None for i in range(len(prompts))), int(fps),
                 current.row_pictures()[: len(prompts)])


@dataclass
class Step:
    action: str  # "Re-direct all", "Edit row 3", "Move row 4 up to 3", ...
    before: Table
    after: Table


@dataclass
class EditHistory:
    """One session's table now, with the steps that led to it and the ones undone."""

    current: Table | None = None
    done: list[Step] = field(default_factory=list)
    undone: list[Step] = field(default_factory=list)

    def record(self, action: str, before: Table, after: Table) -> None:
        """A change made now: it can be undone; what was undone before cannot be redone."""
        self.done = [*self.done, Step(action, before, after)][-MAX_STEPS:]
        self.undone = []
        self.current = after

    def undo(self) -> Step | None:
        """Back over the last change (None when there is none): the table is as before it."""
        step = _move_last(self.done, self.undone)
        if step is not None:
            self.current = step.before
        return step

    def redo(self) -> Step | None:
        """Forward over the last change undone (None when there is none): the table is as after it."""
        step = _move_last(self.undone, self.done)
        if step is not None:
            self.current = step.after
        return step


def _move_last(source: list[Step], target: list[Step]) -> Step | None:
    """The newest step of `source`, moved onto `target` (undo: done -> undone; redo: back)."""
    if not source:
        return None
    target.append(source.pop())
    return target[-1]


class Histories:
    """Each browser session's EditHistory (bounded like PerSession); one lock, as handlers of
    one session may run at once (a cell edit while a director answers)."""

    def __init__(self, max_sessions: int = 512):
        self._by_session = PerSession(max_sessions)
        self.lock = threading.RLock()

    def forget(self, session: str) -> None:
        with self.lock:
            self._by_session.pop(session)

    def of(self, session: str) -> EditHistory:
        with self.lock:
            history = self._by_session.get(session)
            if history is None:
                history = EditHistory()
                self._by_session.put(session, history)
            return history


HISTORIES = Histories()

