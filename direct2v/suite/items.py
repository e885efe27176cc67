"""A suite file and its items, and the key that names each item's outputs.

A suite file is either
  * text: one story prompt per line (blank lines and lines starting with # are skipped), or
  * JSON: a list whose entries are a story prompt (string), a frame script (list of strings,
    used as it is), a project object (the page's Save project format), or
    {"project": "path.json"} (a project file, relative to the suite file).

An item's key is a hash of everything that decides its outputs: the prompt (with the
director's options) or the frame script, the render settings including the seed, the model,
the methods with their DSF quantile, and the CLIP model. A rerun with the same inputs finds
the same keys and skips what is done; change any of them and the item is new.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..settings import Project, RenderSettings, SettingsError

DONE_FILE = "item.json"  # written last inside an item's temporary folder; its folder is complete
SUITE_VERSION = 1  # bump when an item's outputs change meaning, so old folders are not reused


class SuiteError(SettingsError):
    """The suite file or the suite's options are wrong; the message says where."""


@dataclass
class SuiteItem:
    """One entry of a suite: a prompt to direct, or frames to render as they are."""

    index: int  # 0-based position in the suite file
    prompt: str = ""  # the story prompt (for a script or project: its user prompt, if any)
    frames: list[str] | None = None  # None: direct `prompt` first
    settings: RenderSettings | None = None  # a project's own settings (flags override them)
    model: str = ""  # a project's own model
    director: Any = None  # a project's DirectorOptions

    @property
    def needs_directing(self) -> bool:
        return self.frames is None

    @property
    def title(self) -> str:
        return self.prompt or (self.frames[0] if self.frames else "")


def load_suite(path: str | Path) -> list[SuiteItem]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SuiteError(f"Cannot read the suite file {path}: {e.strerror or e}.") from None
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped.startswith("["):
        items = _items_from_json(text, path)
    else:
        lines = [line.strip() for line in text.splitlines()]
        items = [SuiteItem(index=i, prompt=p) for i, p in enumerate(l for l in lines if l and not l.startswith("#"))]
    if not items:
        raise SuiteError(f"The suite file {path} has no prompts.")
    return items


def _items_from_json(text: str, path: Path) -> list[SuiteItem]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SuiteError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}).") from None
    if not isinstance(data, list):
        raise SuiteError(f"{path}: a JSON suite must be a list of prompts, frame scripts or projects.")
    items = []
    for i, entry in enumerate(data):
        where = f"{path}, entry {i + 1}"
        if isinstance(entry, str):
            if not entry.strip():
                raise SuiteError(f"{where}: the prompt is empty.")
            items.append(SuiteItem(index=i, prompt=entry.strip()))
        elif isinstance(entry, list):
            if not entry or not all(isinstance(f, str) and f.strip() for f in entry):
                raise SuiteError(f"{where}: a frame script must be a non-empty list of non-empty strings.")
            items.append(SuiteItem(index=i, frames=[f.strip() for f in entry]))
        elif isinstance(entry, dict):
            items.append(_project_item(i, entry, path, where))
        else:
            raise SuiteError(f"{where}: expected a prompt, a list of frame prompts or a project object.")
    return items


def _project_item(index: int, entry: dict, suite_path: Path, where: str) -> SuiteItem:
    try:
        if set(entry) == {"project"}:
            project = Project.load(suite_path.parent / str(entry["project"]))
        else:
            project = Project.from_json(json.dumps(entry))
    except SettingsError as e:
        raise SuiteError(f"{where}: {e}") from None
    if not project.frames:
        if not project.user_prompt.strip():
            raise SuiteError(f"{where}: the project has neither frame prompts nor a user prompt.")
        return SuiteItem(index=index, prompt=project.user_prompt.strip(), settings=project.settings,
                         model=project.model, director=project.director)
    return SuiteItem(index=index, prompt=project.user_prompt, frames=list(project.frames), settings=project.settings,
                     model=project.model, director=project.director)


def item_key(source: dict[str, Any], settings: RenderSettings, model: str, evaluation: dict[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of everything that decides an item's outputs.

    source: {"frames": [...]} for a given script, or {"prompt": ..., "director": {...}} for a
    prompt to direct (back end, model, server, frame count, fps, style, camera; never a key).
    evaluation: the methods, the DSF quantile of the +dsf methods and the CLIP model."""
    record = {"version": SUITE_VERSION, "source": source, "settings": settings.to_dict(), "model": model,
              "evaluation": evaluation}
    blob = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def folder_name(key: str, title: str) -> str:
    """A readable, unique folder name: a slug of the prompt, then 16 hex digits of the key."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].rstrip("-")
    return f"{slug}-{key[:16]}" if slug else key[:16]


def is_done(config: Any, p: Any) -> bool:
    return (config.items_dir / p.folder / DONE_FILE).is_file()


def failures(config: Any, planned: Sequence[Any]) -> dict[str, str]:
    out = {}
    for p in planned:
        f = config.items_dir / ".failed" / f"{p.folder}.txt"
        if not is_done(config, p) and f.is_file():
            out[p.folder] = f.read_text(encoding="utf-8").strip()
    return out
