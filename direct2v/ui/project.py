"""Project files: save the prompt, the table, the director options, every setting (with the
seed), the start picture and the identity pictures; load them back into the page.

The start picture is kept by reference, as the CLI keeps it (settings.start_image_ref): the
page writes the picture as a PNG into the result's own folder of its store and records that
file's path and SHA-256. Loading the project on the same server puts the picture back into
*Start from a picture*; where the file is gone (another machine, a pruned store) or changed,
the notes say so and the box is left empty.

The identity pictures (Keep this identity and the rows' own) are kept the same way and come
back under Keep this identity and on their rows (project_pictures.py).

On a public server a project never names a server path: the pictures travel inside the
project (a zip of the project file and the PNGs), outputs record only file names and hashes,
and a path in a visitor's project is ignored with one note that says nothing about what
exists there. Each upload is parsed once (`parsed_project`), however many handlers read it."""

from __future__ import annotations

import dataclasses
import os
import re
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from ..frames import MIN_FRAMES
from ..render.start_image import load_image
from ..settings import Project, SettingsError, check_start_image_ref, start_image_ref
from ..services import runtime as rt
from ..video import PROJECT_IN_ZIP
from . import edits
from .controls import settings_from_values, settings_values
from .identity import keep_identity_pictures
from .messages import session_of
from .project_pictures import EXPECTED, IDENTITY_REMEDY, NotCarried, picture_in_zip, picture_of_record, row_pictures_of
from .row_pictures import references_for
from .direct import BACKENDS, director_options, director_values
from .files import session_store
from .table import make_table, table_notes, table_prompts


def save_project(
    user_prompt: str,
    table: Any,
    fps: Any,
    start_image: Any = None,
    identity_image: Any = None,
    request: gr.Request = None,
    **fields: Any,
) -> str:
    """Write a project file (prompt, frames, director options, every setting and the seed);
    `fields` are the page's director fields and settings, by name. `start_image` (the
    start-image box's picture), `identity_image` and the rows' own pictures are written beside
    it as PNGs and recorded by path and hash.

    No API key goes in: the key field is not even an input of this handler.
    """
    prompts = table_prompts(table)
    references = references_for(prompts, identity_image, request)
    try:
        s = settings_from_values(fields, fps).validate()
        folder = session_store(session_of(request)).new_dir("project")
        stem = _slug(user_prompt) or "project"
        picture = keep_start_picture(start_image, folder, f"{stem}.start.png")
        identity = keep_identity_pictures(references, folder, f"{stem}.identity")
    except SettingsError as e:  # StartImageError included
        raise gr.Error(f"Cannot save: {e}") from None
    project = make_project(user_prompt, prompts, s, fields, start_image=picture, identity=identity)
    out = folder / f"{stem}.direct2v.json"
    project.save(out)
    members = [r["path"] for r in ([picture] if picture else []) + identity if r["path"]]
    if not members or not rt.RUNTIME.policy.public:
        return str(out)
    bundle = folder / f"{stem}.direct2v.zip"  # the pictures travel inside the project
    with zipfile.ZipFile(bundle, "w") as zf:
        zf.write(out, PROJECT_IN_ZIP)
        for name in members:
            zf.write(folder / name, name)
    return str(bundle)


def keep_start_picture(picture: Any, folder: Path, name: str = "start.png") -> dict[str, str] | None:
    """Write the start picture (an array from the page) into `folder` as a PNG, lossless so the
    file's hash and a reload give the very pixels back; its project record, or None. On a
    public server the record names the file only, never its place on the server."""
    if picture is None:
        return None
    path = Path(folder).resolve() / name
    load_image(picture).save(path, format="PNG")
    ref = start_image_ref(path)
    return {**ref, "path": name} if rt.RUNTIME.policy.public else ref


def make_project(
    user_prompt: str, prompts: list[str], settings: Any, fields: dict[str, Any], choice: Any = None,
    start_image: dict[str, str] | None = None, identity: list[dict[str, Any]] | None = None,
) -> Project:
    """The project of the page's values (`fields`: its director fields by name; never a key)
    with the model, config and LoRA of `choice` (default: the page's loaded model) and the
    start picture's record (`keep_start_picture`)."""
    choice = choice or rt.RUNTIME.models.choice
    return Project(
        user_prompt=user_prompt or "",
        frames=list(prompts),
        settings=settings,
        director=director_options(fields),
        model=choice.model,
        model_config=choice.config,
        lora=choice.lora,
        lora_scale=choice.lora_scale,
        start_image=start_image,
        ip_adapter=rt.RUNTIME.ip_adapter if identity else "",
        ip_images=list(identity or []),
    )


def load_project(path: Any, request: gr.Request = None) -> list[Any]:
    """Values for [prompt, table, notes, frames, fps, style, camera, backend, llm_model, base_url, *SETTING_NAMES].
    The table it brings is one step of the table's history: Undo puts the one before back."""
    if path is None:
        raise gr.Error("Choose a project file to load.")
    path = getattr(path, "name", path)
    try:
        project = parsed_project(path)
        project.settings.validate()
    except SettingsError as e:
        raise gr.Error(f"Cannot load {Path(str(path)).name}: {e}") from None
    # The rows' own pictures come back with the rows, as one step of the history.
    keys, said = row_pictures_of(project, Path(str(path)), session_of(request))
    edits.replace_table(f"loading {Path(str(path)).name}", project.frames, project.settings.fps, request, keys)
    values = project_values(project)
    values[2] = f"{values[2]} {said}".strip()  # the notes under the table
    return values


_PARSED: OrderedDict[tuple[str, int, int], Project | SettingsError] = OrderedDict()
_PARSE_LOCK = threading.Lock()


def parsed_project(path: Any) -> Project:
    """The project of an upload, parsed once for all the handlers that read it (load, the
    status line, the start picture); SettingsError as Project.load raises it."""
    path = str(path)
    try:
        stat = os.stat(path)
    except OSError:
        raise SettingsError(f"Cannot read {Path(path).name}.") from None
    key = (path, stat.st_mtime_ns, stat.st_size)
    with _PARSE_LOCK:
        if key not in _PARSED:
            try:
                _PARSED[key] = Project.load(path)
            except SettingsError as e:
                _PARSED[key] = e
            while len(_PARSED) > 8:
                _PARSED.popitem(last=False)
        result = _PARSED[key]
    if isinstance(result, SettingsError):
        raise result
    return result


def project_values(project: Project) -> list[Any]:
    """The page's values for [prompt, table, notes, frames, fps, style, camera, backend,
    llm_model, base_url, *SETTING_NAMES] from a project."""
    d = project.director
    if d.backend not in {v for _, v in BACKENDS}:
        d = dataclasses.replace(d, backend="offline")
    prompts = project.frames
    return [
        project.user_prompt,
        make_table(prompts),
        table_notes(prompts),
        max(len(prompts), MIN_FRAMES),
        project.settings.fps,
        *director_values(d),
        *settings_values(project.settings),
    ]


def load_start_picture(path: Any, notes: str = "") -> tuple[np.ndarray | None, str, Any]:
    """After a project is loaded: (the start-image box's picture, the notes under the table,
    an update of the box's accordion).

    The recorded picture if its file is there and unchanged; else None, with the reason in
    the notes and a warning. Either way the accordion opens, so the picture (or the place to
    upload it) is in view. A project without a picture empties the box."""
    path = getattr(path, "name", path)
    try:
        ref = parsed_project(path).start_image if path is not None else None
    except SettingsError:
        return None, notes, gr.update()  # load_project has said why already
    if not ref:
        return None, notes, gr.update()
    try:
        picture = picture_in_zip(Path(str(path)), ref, "start picture", _REMEDY)
        if picture is None and rt.RUNTIME.policy.public:
            gr.Warning(PATH_IGNORED)
            return None, f"⚠ {PATH_IGNORED}\n\n{notes}", gr.update(open=True)
        if picture is None:
            file = check_start_image_ref(ref, base=Path(str(path)).parent, remedy=_REMEDY)
            picture = np.asarray(load_image(file))
    except SettingsError as e:  # StartImageError included
        gr.Warning(str(e))
        return None, f"⚠ {e}\n\n{notes}", gr.update(open=True)
    h, w = picture.shape[:2]
    note = f"ℹ️ The project's start picture ({Path(ref['path']).name}, {w}x{h}) is back under Start from a picture."
    return picture, f"{note}\n\n{notes}", gr.update(open=True)


def load_identity_picture(path: Any, notes: str = "", request: gr.Request = None) -> tuple[Any, str, Any]:
    """After a project is loaded: (the Keep this identity picture, the notes, an update of its
    accordion). The project's picture from frame 1, or none; a picture it names but does not
    carry is said in the notes, and its hash kept to check the one added again."""
    path = getattr(path, "name", path)
    try:
        project = parsed_project(path) if path is not None else None
    except SettingsError:
        return gr.update(), notes, gr.update()  # load_project has said why already
    return identity_of(project, Path(str(path)), notes, session_of(request))


def identity_of(project: Project | None, upload: Path, notes: str, session: str) -> tuple[Any, str, Any]:
    """(the Keep this identity picture, the notes, the accordion's update) of a loaded project
    or a restored render (load_identity_picture)."""
    EXPECTED.pop(session)
    ref = next((r for r in (project.ip_images if project else []) if r["frame"] == 0 and r.get("sha256")), None)
    if ref is None:
        return None, notes, gr.update()
    try:
        picture = picture_of_record(upload, ref, "identity picture", IDENTITY_REMEDY)
    except SettingsError as e:
        if isinstance(e, NotCarried):
            EXPECTED.put(session, ref["sha256"])
        gr.Warning(str(e))
        return None, f"⚠ {e}\n\n{notes}", gr.update(open=True)
    h, w = picture.shape[:2]
    note = f"ℹ️ The project's identity picture ({Path(ref['path']).name}, {w}x{h}) is back under Keep this identity."
    return picture, f"{note}\n\n{notes}", gr.update(open=True)


_REMEDY = "upload a picture under Start from a picture"
# One note for every path a visitor's project names, whether or not anything is there.
PATH_IGNORED = ("This server does not read pictures named by path in a project; the project's start picture must "
                f"travel inside it (a project saved here with a picture is a zip). {_REMEDY[0].upper()}{_REMEDY[1:]}.")


def loaded_line(path: Any) -> str:
    """The status line after a load: what came back, so the person knows it worked."""
    path = getattr(path, "name", path)
    try:
        project = parsed_project(path)
    except SettingsError:
        return "Ready."
    s = project.settings
    return (
        f"✓ Loaded {Path(str(path)).name}: {len(project.frames)} frames, seed {s.seed}, {s.width}×{s.height}, "
        f"{s.num_inference_steps} steps. Press Render to make it again."
    )


def _slug(text: str | None) -> str:
    words = re.findall(r"[a-z0-9]+", (text or "").lower())[:6]
    return "-".join(words)
