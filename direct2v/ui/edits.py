"""The page's side of the table's edit history (services/undo.py keeps the steps): every
handler that changes the table says here what it changed; Undo and Redo are in table.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gradio as gr

from ..services.undo import HISTORIES, Table, follow
from .messages import session_of

UNDO_HINT = "**Undo** (Ctrl+Z) takes it back."
DEFAULT_FPS = 4


def table_now(session: str, prompts: list[str], fps: Any = None) -> Table:
    """The page's table as the session's history knows it: `prompts` with each row's origin
    (the director's text or the person's). `fps` None keeps the history's."""
    with HISTORIES.lock:
        current = HISTORIES.of(session).current
    if fps is None:
        fps = current.fps if current is not None else DEFAULT_FPS
    if current is not None and list(current.prompts) == list(prompts):
        return replace(current, fps=int(fps))
    return follow(current, prompts, int(fps))


def record(session: str, action: str, before: Table, after: Table) -> None:
    """One change to the table, for Undo; nothing when the table did not change."""
    if (before.prompts, before.fps, before.row_pictures()) == (after.prompts, after.fps, after.row_pictures()):
        return
    with HISTORIES.lock:
        HISTORIES.of(session).record(action, before, after)


def replace_table(action: str, prompts: list[str], fps: Any = None, request: gr.Request = None,
                  pictures: tuple[str | None, ...] = ()) -> None:
    """A table that comes in whole from elsewhere (a loaded project, a restored render): the
    person's rows (with their own pictures' keys), one step of the history."""
    session = session_of(request)
    with HISTORIES.lock:
        before = HISTORIES.of(session).current or table_now(session, [], fps)
    after = follow(None, prompts, before.fps if fps is None else fps)
    record(session, action, before, replace(after, pictures=tuple(pictures)[: len(prompts)]))
