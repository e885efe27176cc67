"""This session's results on the page: after each finished render the page adds an entry
(thumbnail, prompt, seed, settings, the project JSON); clicking a thumbnail puts that table
and those settings back, with its frames and video while the store still holds them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ..settings import Project, SettingsError
from ..services.session import PerSession

MAX_ENTRIES = 20  # per session, newest first
THUMB_SIDE = 128


# A finished render waits here for the .success() listener that adds it to the history:
# the render's own outputs stay what the API has always returned.
FINISHED = PerSession()
# The frames on screen beside the video (a finished or restored render's), per session: a
# cancelled render puts them back over its partial previews, so frames and video agree.
SHOWN = PerSession()
# session -> (project, its video) of the render just restored, for its identity picture.
RESTORED = PerSession()


# ----------------------------------------------------------------------------- history
def _thumbnail(first_frame: str, store: Any) -> str | None:
    """A square THUMB_SIDE thumbnail of the first frame (its centre, as the gallery shows it)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(first_frame) as im:
            square = ImageOps.fit(im.convert("RGB"), (THUMB_SIDE, THUMB_SIDE), method=Image.Resampling.LANCZOS)
            out = store.new_dir("thumb") / "thumb.png"
            square.save(out)
            return str(out)
    except OSError:
        return None


def method_text(s: Any) -> str:
    """The render's method in the paper's words: "RVM τ 4", "RVM τ 4 + DSF 0.2", "T2V-Z"."""
    from ..evaluate.methods import LABELS

    text = LABELS.get(s.value_mapping, s.value_mapping)
    if s.value_mapping == "rotational":
        text += f" τ {s.rvm_period}"
    if s.dsf_quantile > 0 and s.value_mapping != "none":
        text += f" + DSF {s.dsf_quantile:g}"
    return text


def entry_label(number: int, project: Project) -> str:
    s = project.settings
    first = (project.user_prompt or (project.frames[0] if project.frames else "")).strip()
    if len(first) > 40:  # cut between words, never inside one
        first = first[:40].rsplit(" ", 1)[0].rstrip(",;: ") + "…"
    # A draft says what it rendered ("Render final" renders the settings' own steps).
    steps = f"draft, {s.for_render().num_inference_steps} LCM steps" if s.draft else f"{s.num_inference_steps} steps"
    return f"#{number} · {first} · seed {s.seed} · {s.width}×{s.height} · {steps} · {method_text(s)}"


def add_entry(history: list[dict] | None, finished: dict | None, store: Any) -> list[dict]:
    """History with the session's newest result in front (unchanged when there is none)."""
    history = list(history or [])
    if not finished:
        return history
    project = Project.from_json(finished["project"])
    number = (history[0]["number"] + 1) if history else 1
    thumb = _thumbnail(finished["items"][0][0], store) if finished.get("items") else None
    entry = {
        "number": number,
        "thumb": thumb,
        "label": entry_label(number, project),
        "project": finished["project"],
        "items": finished.get("items") or [],
        "video": finished.get("video"),
        "downloads": finished.get("downloads") or [],
    }
    return [entry, *history][:MAX_ENTRIES]


def shown(history: list[dict] | None) -> list[dict]:
    """The entries whose thumbnail still exists (the store may have pruned old ones)."""
    return [e for e in history or [] if e.get("thumb") and Path(e["thumb"]).exists()]


def gallery_items(history: list[dict] | None) -> list[tuple[str, str]]:
    return [(e["thumb"], e["label"]) for e in shown(history)]


def entry_at(history: list[dict] | None, index: Any) -> dict:
    entries = shown(history)
    i = index[0] if isinstance(index, (list, tuple)) else index
    try:
        return entries[int(i)]
    except (TypeError, ValueError, IndexError):
        raise gr.Error("That history entry is gone; render again to add a new one.") from None


def restored_project(entry: dict) -> Project:
    try:
        return Project.from_json(entry["project"])
    except (SettingsError, KeyError) as e:
        raise gr.Error(f"Cannot restore this entry: {e}") from None


def restored_identity(status: str = "", request: gr.Request = None) -> tuple[Any, str, Any]:
    """After a restore: the render's identity picture back under Keep this identity (or the
    reason it cannot come back, in the render's status line)."""
    from .messages import session_of
    from .project import identity_of

    restored = RESTORED.pop(session_of(request))
    if restored is None:
        return gr.update(), status, gr.update()
    return identity_of(*restored, status, session_of(request))


def files_still_there(entry: dict) -> tuple[list | None, str | None, list | None]:
    """(gallery items, video, downloads) of the entry, each None once the store dropped it."""
    items = entry.get("items") or []
    items = items if items and all(Path(p).exists() for p, _ in items) else None
    video = entry.get("video") if entry.get("video") and Path(entry["video"]).exists() else None
    downloads = entry.get("downloads") or []
    downloads = downloads if downloads and all(Path(p).exists() for p in downloads) else None
    return items, video, downloads


# ----------------------------------------------------------------------------- handlers
def add_to_history(history: list[dict] | None, request: gr.Request = None) -> tuple[list[dict], list]:
    """After a finished render: its entry goes to the front of this session's history."""
    from .messages import session_of
    from .files import session_store

    history = add_entry(history, FINISHED.pop(session_of(request)), session_store(session_of(request)))
    return history, gallery_items(history)


def restore_from_history(history: list[dict] | None, evt: gr.SelectData, request: gr.Request = None) -> list[Any]:
    """Clicking a history thumbnail: its table and settings come back, and its frames and
    video while the store still has them. Values for project_values' fields, then
    [preview, video, downloads, used seed, status]."""
    from .project import project_values

    from .messages import session_of

    entry = entry_at(history, evt.index)
    project = restored_project(entry)
    items, video, downloads = files_still_there(entry)
    if items and video:
        SHOWN.put(session_of(request), items)
    from pathlib import Path

    from .edits import replace_table
    from .project_pictures import row_pictures_of

    keys, pictures_said = row_pictures_of(project, Path(video or "."), session_of(request))
    RESTORED.put(session_of(request), (project, Path(video or ".")))  # for restored_identity, next
    replace_table(f"restoring render #{entry['number']}", project.frames, project.settings.fps, request, keys)
    keep = gr.update()
    said = f"↺ Restored render #{entry['number']} (seed {project.settings.seed}): its table and settings are back"
    said += "." if video else "; its files are gone from the server, press Render to make it again."
    said += f" {pictures_said}" if pictures_said else ""
    return [
        *project_values(project),
        items if items else keep,
        video if video else keep,
        downloads if downloads else keep,
        project.settings.seed,
        said,
    ]
