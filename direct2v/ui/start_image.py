"""The page's start picture (issue 17): frame 1 from an uploaded or pasted image, or from a
frame of the last render; the note under it says which part of the picture the frame uses."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

import gradio as gr
import numpy as np

from ..render.start_image import StartImageError, fit_to_frame, load_image


def decode_once(box: gr.Image) -> gr.Image:
    """The start-picture box, whose upload is checked from its header (size limits, before
    any decoding) and decoded once, however many handlers take it as input: Render, Save,
    Direct and the crop note each get the same read-only array. (An instance's preprocess,
    not a subclass: Gradio writes a .pyi file beside any module that subclasses a component.)"""
    plain = box.preprocess

    def preprocess(payload: Any) -> np.ndarray | None:
        path = getattr(payload, "path", None)
        if payload is None or path is None or (getattr(payload, "url", None) or "").startswith("data:"):
            return plain(payload)  # nothing, or inline data (bounded by max_file_size)
        try:
            return decoded_picture(str(path))
        except StartImageError as e:
            raise gr.Error(str(e)) from None

    box.preprocess = preprocess  # type: ignore[method-assign]
    return box


_DECODED: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()
_DECODED_KEEP = 2  # uploads kept decoded (each at most MAX_IMAGE_PIXELS x 3 bytes)
_DECODE_LOCK = threading.Lock()  # one decode at a time: parallel handlers wait for the first


def decoded_picture(path: str) -> np.ndarray:
    """The picture at `path` (an upload in Gradio's cache) as a read-only RGB array, decoded
    once per file: checked from its header first (load_image), then kept for the next handler."""
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    with _DECODE_LOCK:
        if key in _DECODED:
            _DECODED.move_to_end(key)
            return _DECODED[key]
        array = np.asarray(load_image(path))
        array.flags.writeable = False
        _DECODED[key] = array
        while len(_DECODED) > _DECODED_KEEP:
            _DECODED.popitem(last=False)
        return array


def crop_note(image: Any, width: Any, height: Any) -> str:
    """Which region of the picture becomes frame 1 at the current size (or why it cannot)."""
    if image is None:
        return "No picture: frame 1 is drawn from noise as usual."
    try:
        w, h = int(width), int(height)
        _, crop = fit_to_frame(load_image(image), w, h)
    except StartImageError as e:  # a ValueError too: this one first
        return f"⚠ {e}"
    except (TypeError, ValueError):
        return "Set a valid width and height to see the crop."
    return f"Frame 1 is this picture at {w}×{h}: {crop.describe()} (scaled to cover, centre kept)."


def use_rendered_frame(gallery: Any, k: Any) -> np.ndarray:
    """Frame k (1-based) of the frames the Render tab shows, as the new start picture."""
    items = list(gallery or [])
    if not items:
        raise gr.Error("Render once first; then any of its frames can start the next video.")
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise gr.Error("Enter the number of the frame to use.") from None
    if not 1 <= k <= len(items):
        raise gr.Error(f"The last render has frames 1 to {len(items)}; there is no frame {k}.")
    item = items[k - 1]
    path = item[0] if isinstance(item, (list, tuple)) else item
    if isinstance(path, dict):  # Gradio's FileData as a dict
        path = path.get("path") or (path.get("image") or {}).get("path")
    try:
        return np.asarray(load_image(path))
    except StartImageError as e:
        raise gr.Error(str(e)) from None
