"""The page's render-setting controls, built from `RenderSettings`' field metadata.

A setting added to `direct2v.settings` appears here (and on the CLI) with its label, range
and step; the values travel back as keyword arguments named after the fields.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from ..settings import PRESETS, RenderSettings, SettingsError, knobs

# The groups the settings panel shows; "direct" (fps) sits in the Direct panel and travels
# as its own input, because the director writes the script for it too.
PANEL_GROUPS = ("main", "advanced", "image")


def setting_names(cls: type = RenderSettings) -> tuple[str, ...]:
    return tuple(f.name for f, k in knobs(cls) if k.group in PANEL_GROUPS)


SETTING_NAMES = setting_names()


def _page_value(k, value: Any) -> Any:
    return k.to_page(value) if k.to_page is not None else value


def make_control(f, k, value: Any) -> gr.components.Component:
    """One Gradio component for a setting, its range and step from the metadata."""
    common = dict(label=k.label, elem_id=k.elem_id or None, value=_page_value(k, value))
    whole = isinstance(f.default, int) and not isinstance(f.default, bool)
    if k.control == "slider":
        return gr.Slider(k.lo, k.hi, step=k.step, precision=0 if whole else None, **common)
    if k.control == "number":
        return gr.Number(precision=0 if whole else None, minimum=k.lo, maximum=k.hi, **common)
    if k.control == "dropdown":
        return gr.Dropdown(list(k.choices), **common)
    if k.control == "radio":
        return gr.Radio(list(k.choices), **common)
    if k.control == "text":
        return gr.Textbox(placeholder=k.help, **common)
    raise ValueError(f"Unknown control kind {k.control!r} for setting {f.name}.")


def build_controls(group: str, cls: type = RenderSettings, defaults: Any = None) -> dict[str, gr.components.Component]:
    """The group's controls in declaration order, two to a row (wide ones alone); call
    inside a Blocks context."""
    defaults = defaults if defaults is not None else cls()
    out: dict[str, gr.components.Component] = {}
    pending: list[tuple[Any, Any]] = []

    def flush() -> None:
        if pending:
            with gr.Row():
                for f, k in pending:
                    out[f.name] = make_control(f, k, getattr(defaults, f.name))
            pending.clear()

    for f, k in knobs(cls):
        if k.group != group:
            continue
        if k.wide:
            flush()
            out[f.name] = make_control(f, k, getattr(defaults, f.name))
            continue
        pending.append((f, k))
        if len(pending) == 2:
            flush()
    flush()
    return out


def settings_from_values(values: dict[str, Any], fps: Any = 4, cls: type = RenderSettings) -> RenderSettings:
    """RenderSettings from the page's values, validated; SettingsError names the bad field."""
    d: dict[str, Any] = {}
    for f, k in knobs(cls):
        if f.name == "fps":
            v = fps
        elif f.name in values:
            v = values[f.name]
        else:
            continue
        if k.from_page is not None:
            v = k.from_page(v)
        if isinstance(f.default, int) and not isinstance(f.default, bool) and isinstance(v, float) and v.is_integer():
            v = int(v)  # number boxes send 6.0 for 6
        if isinstance(f.default, str) and v is None and not k.choices:
            v = ""
        if v is None:
            raise SettingsError(f"{k.name} is empty; enter a value.")
        d[f.name] = v
    return cls(**d).validate()


def settings_values(settings: RenderSettings) -> list[Any]:
    """The page's values for SETTING_NAMES, in order (the inverse of settings_from_values)."""
    ks = {f.name: k for f, k in knobs(type(settings))}
    return [_page_value(ks[n], getattr(settings, n)) for n in SETTING_NAMES]


def apply_preset(name: str) -> list[Any]:
    """Values for the preset's fields; other fields are left as they are."""
    if name not in PRESETS:
        raise gr.Error(f"Unknown preset {name!r}.")
    preset = PRESETS[name]
    return [preset[n] if n in preset else gr.update() for n in SETTING_NAMES]


def steps_changed(steps: Any, t0: Any, t1: Any, before: Any) -> tuple[Any, Any, Any]:
    """The person moved Steps: scale t0 and t1 with it (`RenderSettings.with_steps`), so a
    new step count alone never makes the render invalid. Returns (t0, t1, steps now)."""
    try:
        s = RenderSettings(num_inference_steps=int(before), t0=int(t0), t1=int(t1)).with_steps(int(steps))
    except (TypeError, ValueError):
        return gr.update(), gr.update(), steps
    return s.t0, s.t1, s.num_inference_steps
