"""The page's "Keep this identity" box (issue 23): a reference picture the owner's IP-Adapter
(app.py --ip-adapter) shows every frame, at the identity strength of the settings.

The picture is kept with the result as a PNG and recorded by hash, as the start picture is; on
a public server its PNG also travels inside the project (`png_base64`), since a visitor cannot
reach the server's files."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import gradio as gr

from ..render.start_image import StartImageError, load_image
from ..services import runtime as rt
from ..settings import ip_image_ref


def identity_note() -> str:
    adapter = rt.RUNTIME.ip_adapter
    if not adapter:
        return "This server has no IP-Adapter (the owner starts the app with `--ip-adapter`); a picture here is not used."
    return (f"IP-Adapter `{adapter}`. About 0.5 keeps each frame's own prompt; near 1 the picture can override the "
            "prompts. Compare reports how close every frame stays to the picture (Identity).")


def check_identity(picture: Any) -> None:
    """A picture that cannot be used stops the render before it waits in line."""
    if picture is None:
        return
    if not rt.RUNTIME.ip_adapter:
        raise gr.Error("This server has no IP-Adapter, so it cannot keep an identity; remove the picture, or start the "
                       "app with --ip-adapter.")
    try:
        load_image(picture)
    except StartImageError as e:
        raise gr.Error(str(e).replace("start image", "identity picture")) from None


def keep_identity_picture(picture: Any, folder: Path, name: str = "identity.png") -> list[dict[str, Any]]:
    """The picture as a lossless PNG in `folder` and its project record (frame 0 on: every frame);
    on a public server the record carries the PNG itself."""
    if picture is None or not rt.RUNTIME.ip_adapter:
        return []
    path = Path(folder).resolve() / name
    load_image(picture).save(path, format="PNG")
    record = ip_image_ref(path, 0)
    if rt.RUNTIME.policy.public:
        record["png_base64"] = base64.b64encode(path.read_bytes()).decode("ascii")
    return [record]
