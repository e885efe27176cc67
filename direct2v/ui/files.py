"""The page's files: the bounded output store (direct2v.services.store) inside Gradio's cache
folder, so Gradio serves the files in place instead of copying each one into its cache; on a
public server, each visitor's own part of it (`session_store`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..services import runtime as rt
from ..services.store import OutputStore, SessionStore


def output_store() -> OutputStore:
    """The page's bounded store, inside Gradio's cache folder so Gradio serves the files in
    place; pruned files are also dropped from Gradio's list of files it served."""
    if rt.RUNTIME.store is None:
        from gradio.utils import get_upload_folder

        keep = {"render": int(os.environ.get("DIRECT2V_KEEP_RENDERS", "24"))}
        rt.RUNTIME.store = OutputStore(Path(get_upload_folder()) / "direct2v", keep=keep, on_remove=_forget_served)
    return rt.RUNTIME.store


def session_store(session: str | None = None) -> SessionStore:
    """The store as this visitor's (public mode: folders per session, deleted when they leave);
    `session` defaults to the request being handled. On the owner's machine, the shared store."""
    if not rt.RUNTIME.policy.public:
        return SessionStore(output_store(), None)
    if session is None:
        from .messages import session_of

        session = session_of()
    return SessionStore(output_store(), session)


def _forget_served(paths: set[str]) -> None:
    # Gradio remembers every file it served (for its own cache deletion) and never forgets
    # one that someone else removed; over days of renders that set is a slow leak.
    from gradio.context import LocalContext

    blocks: Any = LocalContext.blocks.get(None)
    for served in getattr(blocks, "temp_file_sets", []):
        served.difference_update(paths)
