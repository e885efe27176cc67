"""Reference pictures of single rows of the frame table (issue 23): IP-Adapter's identity
per span of frames, kept per browser session.

A row's picture holds from that row on, until the next row that has its own picture (or
"none from here"): `ip_adapter_frame_images={first frame: picture}`, so a character enters
at frame 5 with one picture and changes costume at frame 9 with another. Rows before the
first such row keep the video's picture (the "Keep this identity" box), or none.

The table's edit history (undo.Table.pictures) holds one key per row: None (the row has no
picture of its own), NO_PICTURE (no picture from this row on) or the SHA-256 of the row's
picture, so a picture moves, goes and comes back with its row. The pixels live here, per
session and bounded: every picture is scaled down to MAX_SIDE on its longest side (the
adapter's image encoder sees 224 or so pixels), a session keeps at most MAX_PER_SESSION, and
the whole process at most BUDGET_BYTES, the least recently used going first. A key whose
picture has gone is a row whose picture must be added again, and the page says so.

Nothing here imports Gradio or torch.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from typing import Any, Callable, Sequence

import numpy as np
from PIL import Image

NO_PICTURE = ""  # a row's key meaning: no picture from this row on (the CLI's --ip-image 5:none)
MAX_SIDE = 1024
MAX_PER_SESSION = 16
BUDGET_BYTES = 256 * 2**20
MAX_PICTURES = 4096  # however small they are


def fit_reference(picture: Image.Image) -> np.ndarray:
    """The picture as a read-only RGB array of at most MAX_SIDE pixels on its longest side."""
    picture = picture.convert("RGB")
    if max(picture.size) > MAX_SIDE:
        picture = picture.copy()
        picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    array = np.asarray(picture, dtype=np.uint8)
    array.flags.writeable = False
    return array


def png_bytes(array: np.ndarray) -> bytes:
    """The lossless PNG a project keeps of a picture (its SHA-256 is the picture's key)."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def picture_key(array: np.ndarray) -> str:
    return hashlib.sha256(png_bytes(array)).hexdigest()


class RowPictures:
    """(session, key) -> picture, bounded per session and in bytes for the whole process."""

    def __init__(self, max_per_session: int = MAX_PER_SESSION, budget_bytes: int = BUDGET_BYTES,
                 max_pictures: int = MAX_PICTURES):
        self.max_per_session = max_per_session
        self.budget_bytes = budget_bytes
        self.max_pictures = max_pictures
        self._items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, session: str, array: np.ndarray, key: str | None = None) -> str:
        """Keep `array` (from fit_reference) for `session`; returns its key."""
        key = key or picture_key(array)
        with self._lock:
            self._items[(session, key)] = array
            self._items.move_to_end((session, key))
            mine = [k for k in self._items if k[0] == session]
            for old in mine[: max(0, len(mine) - self.max_per_session)]:
                del self._items[old]
            size = sum(a.nbytes for a in self._items.values())
            while (size > self.budget_bytes or len(self._items) > self.max_pictures) and len(self._items) > 1:
                size -= self._items.popitem(last=False)[1].nbytes
        return key

    def get(self, session: str, key: str | None) -> np.ndarray | None:
        with self._lock:
            array = self._items.get((session, key)) if key else None
            if array is not None:
                self._items.move_to_end((session, key))
            return array

    def drop(self, session: str) -> None:
        """The visitor left: their pictures go."""
        with self._lock:
            for k in [k for k in self._items if k[0] == session]:
                del self._items[k]


ROW_PICTURES = RowPictures()


def row_spans(keys: Sequence[str | None]) -> list[tuple[int, int, str]]:
    """(first row, last row, key), 0-based, for each row with a key of its own: it holds until
    the row before the next one that has one."""
    starts = [i for i, k in enumerate(keys) if k is not None]
    return [(i, (starts[n + 1] if n + 1 < len(starts) else len(keys)) - 1, keys[i]) for n, i in enumerate(starts)]


def frame_references(keys: Sequence[str | None], lookup: Callable[[str], Any], video_picture: Any = None) -> Any:
    """What the renderer takes for a table whose rows have `keys`: None, the video's picture
    alone, or {first frame: picture or None} spans with the video's picture from frame 0.
    `lookup(key)` gives a row's picture; a key it cannot give raises KeyError (its row)."""
    spans = [(first, key) for first, _, key in row_spans(keys)]
    if not spans:
        return video_picture
    refs: dict[int, Any] = {0: video_picture}
    for first, key in spans:
        if key == NO_PICTURE:
            refs[first] = None
        else:
            picture = lookup(key)
            if picture is None:
                raise KeyError(first)
            refs[first] = picture
    if all(v is None for v in refs.values()):
        return None
    return refs
