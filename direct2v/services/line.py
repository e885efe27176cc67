"""A GPU job's place in the page's line and its cancel flag, per browser session.

Render and Compare both join the line (`turns.Turns`) for the length of one job and hold
their session's cancel flag meanwhile, so Cancel stops only that session's job, waiting or
running. Nothing here imports Gradio: a full line raises `QueueFull`, which the page shows.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from . import runtime as rt


def session_id(request: Any) -> str:
    """The browser session of a Gradio request (or "local" without one)."""
    return getattr(request, "session_hash", None) or "local"


@contextmanager
def cancel_flag(session: str) -> Iterator[Any]:
    """This browser session's cancel flag for the length of one GPU job (render or compare)."""
    flag = rt.RUNTIME.cancels.start(session)
    try:
        yield flag
    finally:
        rt.RUNTIME.cancels.finish(session, flag)


@contextmanager
def in_line(session: str = "local") -> Iterator[int]:
    """A place in the page's GPU line (turns.py) for the length of one render or comparison;
    raises turns.QueueFull when the line, or this session's share of it, is full."""
    ticket = rt.RUNTIME.turns.join(session)
    try:
        yield ticket
    finally:
        rt.RUNTIME.turns.leave(ticket)


def wait_turn(ticket: int, flag: Any, poll_s: float = 0.25) -> Iterator[str]:
    """Status lines while other jobs go first; ends when it is this job's turn or Cancel
    set `flag` (the caller tells the two apart by the flag)."""
    turns = rt.RUNTIME.turns
    shown = None
    while not turns.wait(ticket, timeout=poll_s):
        if flag.is_set():
            return
        ahead = turns.ahead(ticket)
        if ahead != shown:
            shown = ahead
            yield f"⏳ Waiting: {ahead} ahead of you in the queue. Cancel takes this job out of the line."


def leave_page(session: str) -> None:
    """A visitor left (closed the tab): end their jobs, running or waiting, and their switches,
    and forget their model choice. Their files go with `store.drop_session`."""
    rt.RUNTIME.cancels.cancel(session)
    rt.RUNTIME.models.forget(session)
