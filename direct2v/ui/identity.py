"""The page's "Keep this identity" box (issue 23): a reference picture the owner's IP-Adapter
(app.py --ip-adapter) shows every frame, at the identity strength of the settings.

The picture (and each row's own, ui/row_pictures.py) is kept with the result as a PNG and
recorded by hash, as the start picture is; on a public server the record names the file only
and Save project's zip carries the PNG, since a visitor cannot reach the server's files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from ..render.start_image import StartImageError, load_image
from ..services import runtime as rt
from ..services.row_pictures import png_bytes
from ..settings import ip_image_ref


def identity_note() -> str:
    adapter = rt.RUNTIME.ip_adapter
    if not adapter:
        return "This server has no IP-Adapter (the owner starts the app with `--ip-adapter`); a picture here is not used."
    return (f"IP-Adapter `{adapter}`. About 0.5 keeps each frame's own prompt; near 1 the picture can override the "
            "prompts. Compare reports how close every frame stays to the picture (Identity).")


def _pictures_of(references: Any) -> list[Any]:
    """The pictures of a render's references: one for the video, or {first frame: picture or None}."""
    if references is None:
        return []
    return [p for p in references.values() if p is not None] if isinstance(references, dict) else [references]


def check_identity(references: Any) -> None:
    """Pictures that cannot be used stop the render before it waits in line."""
    pictures = _pictures_of(references)
    if not pictures:
        return
    if not rt.RUNTIME.ip_adapter:
        raise gr.Error("This server has no IP-Adapter, so it cannot keep an identity; remove the picture, or start the "
                       "app with --ip-adapter.")
    try:
        for picture in pictures:
            load_image(picture)
    except StartImageError as e:
        raise gr.Error(str(e).replace("start image", "identity picture")) from None


def keep_identity_pictures(references: Any, folder: Path, name: str = "identity") -> list[dict[str, Any]]:
    """The references (the video's picture, or {first frame: picture or None}) as lossless PNGs
    in `folder` (`name`.png for frame 1, `name`-frame-K.png for a span from frame K) and their
    project records; on a public server a record names its file only, never the server's
    folder (Save project puts the files inside the project's zip)."""
    if references is None or not rt.RUNTIME.ip_adapter:
        return []
    spans = references if isinstance(references, dict) else {0: references}
    records = []
    for frame, picture in sorted(spans.items()):
        if picture is None:
            if frame:  # no picture from this frame on (the CLI's --ip-image K:none)
                records.append({"frame": frame, "path": "", "sha256": ""})
            continue
        file = f"{name}.png" if frame == 0 else f"{name}-frame-{frame + 1}.png"
        path = Path(folder).resolve() / file
        path.write_bytes(png_bytes(np.asarray(load_image(picture))))
        record = ip_image_ref(path, frame)
        records.append({**record, "path": file} if rt.RUNTIME.policy.public else record)
    return records
