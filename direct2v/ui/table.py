"""The frame table: the director's script as rows the person edits, with CLIP token counts.

Handlers here are plain functions of values that return values. A handler that rejects its
input raises `gr.Error(message)`; Gradio shows it and leaves every component as it was, so
the person's prompt, table and settings are never lost.
"""

from __future__ import annotations

import re
from typing import Any

import gradio as gr
import numpy as np

from ..frames import CLIP_MAX_TOKENS as CLIP_TOKEN_LIMIT
from ..frames import MAX_FRAMES, MIN_FRAMES, rows_text
from ..services.undo import HISTORIES, Table
from . import edits
from .messages import session_of

TABLE_HEADERS = ["Frame prompt", "Tokens"]


def table_prompts(table: Any) -> list[str]:
    """Frame prompts from whatever the Dataframe sends: a DataFrame, a list of rows, or None.

    Only the first column matters; the token column is recomputed, never trusted.
    """
    if table is None:
        return []
    if hasattr(table, "values") and hasattr(table, "columns"):  # pandas
        rows = table.values.tolist()
    elif isinstance(table, dict) and "data" in table:  # the API's {"headers", "data"} form
        rows = table["data"]
    else:
        rows = list(table)
    out = []
    for row in rows:
        cell = row[0] if isinstance(row, (list, tuple)) else row
        out.append("" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell))
    # The Dataframe shows one empty row for an empty table; that is not a frame.
    if len(out) == 1 and not out[0].strip():
        return []
    return out


def token_counts(prompts: list[str]) -> list[int]:
    """CLIP token counts (with start and end tokens), from the director's tokenizer.

    If the tokenizer is unavailable we fall back to a word-piece estimate, which is shown the
    same way; the renderer truncates at the model's limit either way.
    """
    try:
        from ..director import token_lengths

        return [int(n) for n in token_lengths(prompts)]
    except Exception:
        return [2 + len(re.findall(r"\w+|[^\w\s]", p)) for p in prompts]


def quality_flags(prompts: list[str]) -> dict[int, list[str]]:
    """The director's quality gate on the rows as they are now (edits included), without the
    token rule, which the count shows: {0-based row: ["repeats frame 2 word for word", ...]}."""
    from ..director.quality import frame_problems

    flags = {}
    for i, p in enumerate(prompts):
        if p.strip():
            found = [x.removeprefix("it ") for x in frame_problems(p, prompts[i - 1] if i else None, None, i + 1)
                     if "CLIP tokens" not in x]
            if found:
                flags[i] = found
    return flags


def make_table(prompts: list[str]) -> list[list[str]]:
    counts = token_counts(prompts) if prompts else []
    flags = quality_flags(prompts)
    rows = []
    for i, (p, n) in enumerate(zip(prompts, counts)):
        # Short enough for the narrow column; the notes under the table say what the ⚠ means.
        mark = f"{n} ⚠" if n > CLIP_TOKEN_LIMIT else str(n)
        if i in flags:
            mark += " ⚠ " + "; ".join(flags[i])
        rows.append([p, mark])
    return rows


def table_notes(prompts: list[str]) -> str:
    if not prompts:
        return "No frames yet: type a prompt and press **Direct**, or pick an example."
    counts = token_counts(prompts)
    over = [i + 1 for i, n in enumerate(counts) if n > CLIP_TOKEN_LIMIT]
    empty = [i + 1 for i, p in enumerate(prompts) if not p.strip()]
    notes = [f"{len(prompts)} frames."]
    if over:
        notes.append(
            f"⚠ Frame{'s' if len(over) > 1 else ''} {_list(over)} exceed{'' if len(over) > 1 else 's'} "
            f"CLIP's {CLIP_TOKEN_LIMIT} tokens; the text encoder will cut off the end. Shorten "
            f"{'them' if len(over) > 1 else 'it'}."
        )
    if empty:
        notes.append(f"⚠ {rows_text(empty)} empty.")
    flagged = [i + 1 for i in quality_flags(prompts)]
    if flagged:
        notes.append(
            f"⚠ Frame{'s' if len(flagged) > 1 else ''} {_list(flagged)} repeat{'' if len(flagged) > 1 else 's'} the "
            f"row before or point{'' if len(flagged) > 1 else 's'} at other frames, which the image model cannot see "
            f"(see the Tokens column); edit or re-direct {'them' if len(flagged) > 1 else 'it'}."
        )
    return " ".join(notes)


def _list(nums: list[int]) -> str:
    return ", ".join(str(n) for n in nums)


def _row_index(row: Any, n: int, what: str) -> int:
    """0-based index from the 1-based row box; a readable error when it points nowhere."""
    if n == 0:
        raise gr.Error(f"The table is empty, so there is no row to {what}.")
    try:
        r = int(row)
    except (TypeError, ValueError):
        raise gr.Error(f"Pick a row to {what}: click a row in the table or type its number.") from None
    if not 1 <= r <= n:
        raise gr.Error(f"Row {r} does not exist; the table has rows 1 to {n}.")
    return r - 1


def _changed(before: Table, after: Table, said: str) -> tuple[list[list[str]], str, int]:
    """(table, notes, frames) after a change the history records; the notes say what it was."""
    prompts = list(after.prompts)
    return make_table(prompts), f"{table_notes(prompts)} {said} {edits.UNDO_HINT}", max(len(prompts), MIN_FRAMES)


def refresh_table(table: Any, request: gr.Request = None) -> tuple[list[list[str]], str, int]:
    """After a cell edit: recompute token counts and notes (the frame count follows the rows),
    and keep the edit for Undo."""
    prompts = table_prompts(table)
    session = session_of(request)
    with HISTORIES.lock:
        current = HISTORIES.of(session).current
    before = current if current is not None else edits.table_now(session, [])
    after = edits.table_now(session, prompts)
    changed = [i + 1 for i, p in enumerate(prompts) if i >= len(before.prompts) or p != before.prompts[i]]
    if not changed and len(prompts) == len(before.prompts):
        # The Dataframe sends `input` again for the table it was just given: nothing to say.
        return gr.update(), gr.update(), gr.update()
    which = f"row{'s' if len(changed) > 1 else ''} {_list(changed)}" if changed else "the rows"
    edits.record(session, f"the edit of {which}", before, after)
    return _changed(before, after, f"Edited {which}.")


def select_row(evt: gr.SelectData) -> int:
    """Clicking a cell selects its row (1-based, as the row numbers show)."""
    index = evt.index
    row = index[0] if isinstance(index, (list, tuple)) else index
    return int(row) + 1


def add_row(table: Any, row: Any, request: gr.Request = None) -> tuple[list[list[str]], str, int, int]:
    """Insert an empty row below the selected one (at the end when none is selected), for the
    person to write; returns (table, notes, frames, the new row's number)."""
    prompts = table_prompts(table)
    if len(prompts) >= MAX_FRAMES:
        raise gr.Error(f"The table already has {MAX_FRAMES} frames, the most one video can have.")
    session = session_of(request)
    before = edits.table_now(session, prompts)
    try:
        i = _row_index(row, len(prompts), "add below") + 1 if prompts else 0
    except gr.Error:
        i = len(prompts)
    after = before.inserted(i)
    edits.record(session, f"adding row {i + 1}", before, after)
    where = f"below row {i}" if i else "at the top"
    return (*_changed(before, after, f"Added an empty row {i + 1} {where}; write its prompt."), i + 1)


def delete_row(table: Any, row: Any, request: gr.Request = None) -> tuple[list[list[str]], str, int, int]:
    prompts = table_prompts(table)
    i = _row_index(row, len(prompts), "delete")
    if len(prompts) <= MIN_FRAMES:
        raise gr.Error(f"A video needs at least {MIN_FRAMES} frames; edit this row instead of deleting it.")
    session = session_of(request)
    before = edits.table_now(session, prompts)
    after = before.without(i)
    edits.record(session, f"deleting row {i + 1}", before, after)
    gone = prompts[i] if len(prompts[i]) <= 40 else prompts[i][:40].rsplit(" ", 1)[0] + "…"
    said = f"Deleted row {i + 1}" + (f" (“{gone}”)" if gone.strip() else "") + "."
    return (*_changed(before, after, said), min(i + 1, len(after.prompts)))


def move_row(table: Any, row: Any, delta: int, request: gr.Request = None) -> tuple[list[list[str]], str, int]:
    """Swap a row with its neighbour; returns (table, notes, the moved row's new number)."""
    prompts = table_prompts(table)
    i = _row_index(row, len(prompts), "move")
    j = i + int(delta)
    if not 0 <= j < len(prompts):
        edge = "first" if j < 0 else "last"
        raise gr.Error(f"Row {i + 1} is already the {edge} row.")
    session = session_of(request)
    before = edits.table_now(session, prompts)
    order = list(range(len(prompts)))
    order[i], order[j] = j, i
    after = before.reordered(order)
    way = "up" if delta < 0 else "down"
    edits.record(session, f"moving row {i + 1} {way}", before, after)
    table_out, notes, _ = _changed(before, after, f"Moved row {i + 1} {way} to {j + 1}.")
    return table_out, notes, j + 1


def move_row_up(table: Any, row: Any, request: gr.Request = None) -> tuple[list[list[str]], str, int]:
    return move_row(table, row, -1, request)


def move_row_down(table: Any, row: Any, request: gr.Request = None) -> tuple[list[list[str]], str, int]:
    return move_row(table, row, +1, request)


# ----------------------------------------------------------------------------- undo / redo
def _shown(table: Table) -> tuple[list[list[str]], int]:
    return make_table(list(table.prompts)), max(len(table.prompts), MIN_FRAMES)


NOTHING = {
    "undo": "Nothing to undo: every change to the table since the page opened is already undone.",
    "redo": "Nothing to redo: Redo does again what Undo took back.",
}


def _travel(way: str, request: Any) -> tuple[list[list[str]], str, int, Any]:
    """One step back ("undo") or forward ("redo") in the session's table history. Returns
    (table, notes, frames, fps); fps changes only when the step changed it (x2)."""
    with HISTORIES.lock:
        history = HISTORIES.of(session_of(request))
        step = history.undo() if way == "undo" else history.redo()
    if step is None:
        raise gr.Error(NOTHING[way])
    shown, left = (step.before, step.after) if way == "undo" else (step.after, step.before)
    if way == "undo":
        said = f"Undid {step.action}: the table is back to its {len(shown.prompts)} rows. **Redo** (Ctrl+Shift+Z) does it again."
    else:
        said = f"Redid {step.action}. {edits.UNDO_HINT}"
    rows, frames = _shown(shown)
    return rows, f"{table_notes(list(shown.prompts))} {said}", frames, shown.fps if shown.fps != left.fps else gr.update()


def undo(request: gr.Request = None) -> tuple[list[list[str]], str, int, Any]:
    """Take back the session's last change to the table."""
    return _travel("undo", request)


def redo(request: gr.Request = None) -> tuple[list[list[str]], str, int, Any]:
    """Do again the change Undo last took back."""
    return _travel("redo", request)
