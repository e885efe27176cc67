"""Pictures a loaded project brings back: the start picture's reader shared with the
identity pictures (issue 23), which go back under "Keep this identity" (the picture from frame
1) and onto their rows (a picture from a later frame, ui/row_pictures.py).

A picture comes from inside the uploaded zip (checked against its hash), or on the owner's
machine from the file the project names (checked likewise); on a public server a path in a
visitor's project is never read. A picture the project does not carry leaves only its hash:
the notes say so ("add the picture again"), the row keeps the hash, and a picture added again
is compared with it."""

from __future__ import annotations

import base64
import binascii
import hashlib
import zipfile
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from ..errors import without_server_details
from ..render.start_image import load_image, open_picture
from ..services import runtime as rt
from ..services.row_pictures import NO_PICTURE, ROW_PICTURES, fit_reference, picture_key
from ..services.session import PerSession
from ..settings import Project, SettingsError, check_start_image_ref
from ..video import open_zip_member
from .messages import session_of

MAX_PICTURE_BYTES = 64 * 1024 * 1024  # a PNG of the largest picture load_image accepts fits


def picture_in_zip(upload: Path, ref: dict[str, str], what: str, remedy: str) -> np.ndarray | None:
    """The picture carried inside an uploaded zip (a member named as the record says, with its
    hash), read through a capped stream and checked from its header before decoding; None
    when the upload is no zip or has no such member."""
    if upload.suffix.lower() != ".zip":
        return None
    try:
        with zipfile.ZipFile(upload) as zf:
            if ref["path"] not in zf.namelist():
                return None
            with open_zip_member(zf, ref["path"]) as fh:
                data = fh.read(MAX_PICTURE_BYTES + 1)
    except (OSError, zipfile.BadZipFile, ValueError) as e:
        raise SettingsError(f"Cannot read the project's {what}: {without_server_details(str(e))}") from None
    if len(data) > MAX_PICTURE_BYTES or hashlib.sha256(data).hexdigest() != ref["sha256"]:
        raise SettingsError(f"The project's {what} is damaged or too large; {remedy}.")
    return np.asarray(load_image(open_picture(data)))


class NotCarried(SettingsError):
    """The project names the picture (path and hash) but does not carry it."""


def picture_of_record(upload: Path, ref: dict[str, Any], what: str, remedy: str) -> np.ndarray:
    """A recorded picture: inside the zip, inside the record (older public projects), or on the
    owner's machine the named file; SettingsError says why not (NotCarried: only its hash)."""
    picture = picture_in_zip(upload, ref, what, remedy)
    if picture is not None:
        return picture
    if ref.get("png_base64"):  # projects of public servers before the zip carried the picture
        try:
            data = base64.b64decode(ref["png_base64"], validate=True)
        except (binascii.Error, ValueError):
            data = b""
        if hashlib.sha256(data).hexdigest() != ref["sha256"]:
            raise SettingsError(f"The project's {what} is damaged; {remedy}.")
        return np.asarray(load_image(open_picture(data)))
    if rt.RUNTIME.policy.public:
        raise NotCarried(f"The project's {what} is not in the project, only its hash; {remedy}.")
    try:
        file = check_start_image_ref(ref, base=upload.parent, remedy=remedy)
    except SettingsError as e:
        raise NotCarried(str(e).replace("start image", what)) from None
    return np.asarray(load_image(file))


# ---------------------------------------------------------------------- the rows' own pictures
def row_pictures_of(project: Project, upload: Path, session: str) -> tuple[tuple[str | None, ...], str]:
    """The keys of the rows' own pictures from a project's later-frame records (each picture kept
    for `session`), and a line for the notes: which came back, which must be added again."""
    keys: list[str | None] = [None] * len(project.frames)
    back, missing, notes = [], [], []
    for ref in project.ip_images:
        frame = int(ref["frame"])
        if frame == 0 or frame >= len(keys):
            continue  # frame 1's picture goes under Keep this identity
        if not ref.get("path") and not ref.get("png_base64"):
            keys[frame] = NO_PICTURE
        elif ROW_PICTURES.get(session, ref["sha256"]) is not None:
            keys[frame] = ref["sha256"]  # still here from before (the same picture, by its hash)
            back.append(frame + 1)
        else:
            remedy = f"select row {frame + 1} and add the picture again"
            try:
                picture = picture_of_record(upload, ref, f"picture for row {frame + 1}", remedy)
                keys[frame] = ROW_PICTURES.add(session, fit_reference(load_image(picture)))
                back.append(frame + 1)
            except SettingsError as e:  # StartImageError included
                keys[frame] = ref["sha256"]  # the hash stays: a picture added again is checked against it
                (missing if isinstance(e, NotCarried) else notes).append(e)
    if back:
        notes.insert(0, f"🖼 The pictures of row{'s' if len(back) > 1 else ''} {', '.join(map(str, back))} are back "
                        "(the strip under the table).")
    notes += [f"⚠ {e}" for e in missing]
    return tuple(keys), " ".join(str(n) for n in notes)


# ---------------------------------------------------------------------- the video's picture
EXPECTED = PerSession()  # session -> SHA-256 of the identity picture a loaded project had only the hash of
IDENTITY_REMEDY = "add the picture again under Keep this identity"


def identity_added_again(picture: Any, notes: str = "", request: gr.Request = None) -> Any:
    """A picture uploaded under Keep this identity after a load that had only its hash: the
    notes say whether it is the project's picture (the hash of its lossless PNG)."""
    expected = EXPECTED.pop(session_of(request))
    if picture is None or not expected:
        return gr.update()
    same = picture_key(np.asarray(load_image(picture))) == expected
    said = ("✓ This is the identity picture the project recorded." if same else
            "⚠ This is not the identity picture the project recorded (another SHA-256), so the video will differ "
            "from the saved one.")
    return f"{said}\n\n{notes}"
