"""The page's files: the bounded output store (direct2v.services.store) inside Gradio's cache
folder, so Gradio serves the files in place instead of copying each one into its cache."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..services import runtime as rt
from ..services.store import OutputStore


def output_store() -> OutputStore:
    """The page's bounded store, inside Gradio's cache folder so Gradio serves the files in
    place; pruned files are also dropped from Gradio's list of files it served."""
    if rt.RUNTIME.store is None:
        from gradio.utils import get_upload_folder

        keep = {"render": int(os.environ.get("DIRECT2V_KEEP_RENDERS", "24"))}
        rt.RUNTIME.store = OutputStore(Path(get_upload_folder()) / "direct2v", keep=keep, on_remove=_forget_served)
    return rt.RUNTIME.store


def _forget_served(paths: set[str]) -> None:
    # Gradio remembers every file it served (for its own cache deletion) and never forgets
    # one that someone else removed; over days of renders that set is a slow leak.
    from gradio.context import LocalContext

    blocks: Any = LocalContext.blocks.get(None)
    for served in getattr(blocks, "temp_file_sets", []):
        served.difference_update(paths)
