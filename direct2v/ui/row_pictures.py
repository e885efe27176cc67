"""Pictures per row of the frame table (issue 23) on the page: select a row, drop a picture
under it, and the IP-Adapter keeps that identity from this row on, until the next row that has
its own picture (or "no picture from here"); rows before the first one keep the picture of
"Keep this identity". A strip under the table shows each picture with the rows it holds for.

Setting, removing and "none from here" are steps of the table's history, and the key of a
row's picture travels with its row (services/undo.Table.pictures): Up/Down move it, Delete
takes it away, Undo brings it back, a new row joins the span above it, Direct and Re-direct
all keep pictures at their row numbers, x2 puts row k's picture on row 2k-1 (the same moment
of the video). The pixels stay on the server per session (services/row_pictures.py).
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from ..render.start_image import StartImageError, load_image
from ..services import runtime as rt
from ..services.row_pictures import NO_PICTURE, ROW_PICTURES, fit_reference, frame_references, row_spans
from ..services.undo import Table
from . import edits
from .messages import session_of
from .table import _row_index, table_notes, table_prompts

# The strip's tiles for a span without a picture, and for a picture the server no longer has.
_NONE_TILE = np.full((64, 64, 3), 236, dtype=np.uint8)
_MISSING_TILE = np.full((64, 64, 3), (250, 220, 200), dtype=np.uint8)


BOX_NOTE = ("Select a row, then drop a picture in the box: the IP-Adapter keeps that identity from this row until the "
            "next row with a picture (a character enters, changes costume). Rows before the first one keep the "
            "picture under Keep this identity. Its strength is Identity strength.")


def _rows(first: int, last: int) -> str:
    return f"row {first + 1}" if first == last else f"rows {first + 1}–{last + 1}"


def _span_of(table: Table, i: int) -> tuple[int, int, str] | None:
    """The span (first, last, key) that row i belongs to, or None before the first one."""
    return next((s for s in row_spans(table.row_pictures()) if s[0] <= i <= s[1]), None)


def _covered_by(table: Table, i: int, session: str) -> str:
    """What picture row i gets, in words."""
    span = _span_of(table, i)
    if span is None:
        return "the picture under Keep this identity, if any"
    first, last, key = span
    if key == NO_PICTURE:
        return f"no picture ({_rows(first, last)}: none from row {first + 1})"
    whose = "its own picture" if first == i else f"row {first + 1}'s picture"
    missing = "" if ROW_PICTURES.get(session, key) is not None else ", which must be added again"
    return f"{whose} ({_rows(first, last)}){missing}"


def gallery_items(table: Table, session: str) -> list[tuple[np.ndarray, str]]:
    """The strip under the table: one tile per row with a picture of its own, captioned with its rows."""
    items = []
    for first, last, key in row_spans(table.row_pictures()):
        if key == NO_PICTURE:
            items.append((_NONE_TILE, f"{_rows(first, last).capitalize()}: no picture"))
            continue
        picture = ROW_PICTURES.get(session, key)
        if picture is None:
            items.append((_MISSING_TILE, f"Row {first + 1}: add the picture again"))
        else:
            items.append((_thumbnail(picture), _rows(first, last).capitalize()))
    return items


def _thumbnail(picture: np.ndarray, side: int = 192) -> np.ndarray:
    """A tile's picture: the strip is redrawn on every change of the table, so it gets a small copy."""
    if max(picture.shape[:2]) <= side:
        return picture
    image = Image.fromarray(picture)
    image.thumbnail((side, side))
    return np.asarray(image)


def row_gallery(table: Any, request: gr.Request = None) -> Any:
    """The strip for the table the page shows (after any change to the table)."""
    session = session_of(request)
    items = gallery_items(edits.table_now(session, table_prompts(table)), session)
    return gr.update(value=items, visible=bool(items))


def selected_row_picture(row: Any, table: Any, request: gr.Request = None) -> tuple[Any, str]:
    """(the row box's picture, its line) for the selected row: its own picture, or none with
    a line that says which picture the row gets."""
    session = session_of(request)
    t = edits.table_now(session, table_prompts(table))
    try:
        i = int(row) - 1
    except (TypeError, ValueError):
        return None, ""
    if not 0 <= i < len(t.prompts):
        return None, ""
    key = t.row_pictures()[i]
    own = ROW_PICTURES.get(session, key) if key else None
    return own, f"Row {i + 1} gets {_covered_by(t, i, session)}."


def _changed(session: str, action: str, before: Table, after: Table, said: str) -> tuple[Any, str]:
    edits.record(session, action, before, after)
    items = gallery_items(after, session)
    return gr.update(value=items, visible=bool(items)), f"{table_notes(list(after.prompts))} {said} {edits.UNDO_HINT}"


def set_row_picture(picture: Any, row: Any, table: Any, request: gr.Request = None) -> tuple[Any, str]:
    """The picture dropped under the table becomes the selected row's own; returns (strip, notes)."""
    if picture is None:
        raise gr.Error("Upload or paste a picture for the selected row.")
    if not rt.RUNTIME.ip_adapter:
        raise gr.Error("This server has no IP-Adapter, so rows cannot keep a picture's identity (the owner starts the "
                       "app with --ip-adapter).")
    prompts = table_prompts(table)
    i = _row_index(row, len(prompts), "give a picture")
    try:
        array = fit_reference(load_image(picture))
    except StartImageError as e:
        raise gr.Error(str(e).replace("start image", "picture")) from None
    session = session_of(request)
    before = edits.table_now(session, prompts)
    old = before.row_pictures()[i]
    was_missing = bool(old) and ROW_PICTURES.get(session, old) is None
    key = ROW_PICTURES.add(session, array)
    after = before.with_picture(i, key)
    said = f"Row {i + 1} has its own picture now; it holds for {_rows(*_span_of(after, i)[:2])}."
    if was_missing:
        said += (" ✓ It is the picture the project recorded." if key == old else
                 " ⚠ It is not the picture the project recorded (another SHA-256), so the video will differ from the saved one.")
    return _changed(session, f"the picture of row {i + 1}", before, after, said)


def remove_row_picture(row: Any, table: Any, request: gr.Request = None) -> tuple[Any, str]:
    """The selected row's own picture (or its "none from here") goes; its rows join the span above."""
    prompts = table_prompts(table)
    i = _row_index(row, len(prompts), "take the picture from")
    session = session_of(request)
    before = edits.table_now(session, prompts)
    if before.row_pictures()[i] is None:
        raise gr.Error(f"Row {i + 1} has no picture of its own; it gets {_covered_by(before, i, session)}.")
    after = before.with_picture(i, None)
    said = f"Removed row {i + 1}'s picture; it now gets {_covered_by(after, i, session)}."
    return _changed(session, f"removing the picture of row {i + 1}", before, after, said)


def clear_row_picture(row: Any, table: Any, request: gr.Request = None) -> tuple[Any, str]:
    """The × of the row's picture box: Remove, when the row has a picture of its own to remove."""
    prompts = table_prompts(table)
    try:
        i = _row_index(row, len(prompts), "take the picture from")
    except gr.Error:
        return gr.update(), gr.update()
    if edits.table_now(session_of(request), prompts).row_pictures()[i] is None:
        return gr.update(), gr.update()  # an upload that was refused, cleared again: nothing was kept
    return remove_row_picture(row, table, request)


def no_picture_from_row(row: Any, table: Any, request: gr.Request = None) -> tuple[Any, str]:
    """From the selected row on (until the next row with a picture) no picture at all: a
    character leaves the video."""
    prompts = table_prompts(table)
    i = _row_index(row, len(prompts), "end the picture at")
    session = session_of(request)
    before = edits.table_now(session, prompts)
    after = before.with_picture(i, NO_PICTURE)
    said = f"No picture from row {i + 1} on: {_rows(*_span_of(after, i)[:2])} render from their prompts alone."
    return _changed(session, f"no picture from row {i + 1}", before, after, said)


def select_from_strip(table: Any, evt: gr.SelectData, request: gr.Request = None) -> int:
    """Clicking a tile of the strip selects the row its picture starts at."""
    spans = row_spans(edits.table_now(session_of(request), table_prompts(table)).row_pictures())
    return spans[int(evt.index)][0] + 1 if 0 <= int(evt.index) < len(spans) else gr.update()


def references_for(prompts: list[str], video_picture: Any, request: Any = None) -> Any:
    """What a render of `prompts` shows the IP-Adapter: None, the video's picture, or
    {first frame: picture or None} with the rows' own pictures; gr.Error names a row whose
    picture the server no longer has."""
    session = session_of(request)
    keys = edits.table_now(session, prompts).row_pictures()
    try:
        return frame_references(keys, lambda key: ROW_PICTURES.get(session, key), video_picture)
    except KeyError as e:
        row = int(e.args[0]) + 1
        raise gr.Error(f"Row {row}'s picture is not on the server (a loaded project had only its hash, or it was "
                       f"dropped to save memory): select row {row} and add the picture again, or remove it.") from None
