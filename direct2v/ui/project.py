"""Project files: save the prompt, the table, the director options and every setting
(with the seed); load them back into the page."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import gradio as gr

from ..frames import MIN_FRAMES
from ..settings import Project, SettingsError
from . import runtime as rt
from .controls import settings_from_values, settings_values
from .direct import BACKENDS, director_options, director_values
from .store import output_store
from .table import make_table, table_notes, table_prompts


def save_project(
    user_prompt: str,
    table: Any,
    fps: Any,
    **fields: Any,
) -> str:
    """Write a project file (prompt, frames, director options, every setting and the seed);
    `fields` are the page's director fields and settings, by name.

    No API key goes in: the key field is not even an input of this handler.
    """
    prompts = table_prompts(table)
    try:
        s = settings_from_values(fields, fps)
    except SettingsError as e:
        raise gr.Error(f"Cannot save: {e}") from None
    project = make_project(user_prompt, prompts, s, fields)
    stem = _slug(user_prompt) or "project"
    out = output_store().new_dir("project") / f"{stem}.direct2v.json"
    project.save(out)
    return str(out)


def make_project(user_prompt: str, prompts: list[str], settings: Any, fields: dict[str, Any], choice: Any = None) -> Project:
    """The project of the page's values (`fields`: its director fields by name; never a key)
    with the model, config and LoRA of `choice` (default: the page's loaded model)."""
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
    )


def load_project(path: Any) -> list[Any]:
    """Values for [prompt, table, notes, frames, fps, style, camera, backend, llm_model, base_url, *SETTING_NAMES]."""
    if path is None:
        raise gr.Error("Choose a project file to load.")
    path = getattr(path, "name", path)
    try:
        project = Project.load(path)
        project.settings.validate()
    except SettingsError as e:
        raise gr.Error(f"Cannot load {Path(str(path)).name}: {e}") from None
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


def _slug(text: str | None) -> str:
    words = re.findall(r"[a-z0-9]+", (text or "").lower())[:6]
    return "-".join(words)
