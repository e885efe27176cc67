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
PANEL_GROUPS = ("main", "advanced", "image", "identity")


def setting_names(cls: type = RenderSettings) -> tuple[str, ...]:
    return tuple(f.name for f, k in knobs(cls) if k.group in PANEL_GROUPS)


SETTING_NAMES = setting_names()


def _page_value(k, value: Any) -> Any:
    return k.to_page(value) if k.to_page is not None else value


def make_control(f, k, value: Any, **extra: Any) -> gr.components.Component:
    """One Gradio component for a setting, its range and step from the metadata (`extra`: layout)."""
    common = dict(label=k.label, elem_id=k.elem_id or None, value=_page_value(k, value))
    common.update(extra)
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


def schema_control(cls: type, name: str, value: Any, **extra: Any) -> gr.components.Component:
    """The control of one field of a settings dataclass (the Frames slider from DirectorOptions,
    the LoRA scale from ModelChoice): its range from the schema, like every setting's."""
    (f, k), = [(f, k) for f, k in knobs(cls) if f.name == name]
    return make_control(f, k, value, **extra)


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
    """RenderSettings from the page's values (SettingsError for an empty box); checked where they are
    used (`job_input`, the renderer's gate), once."""
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
    return cls(**d)


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


def _knob_text(name: str, value: Any, cls: type = RenderSettings) -> str:
    """"t0 90", "scheduler PNDM": a setting as a short phrase, choices by their label."""
    (f, k), = [(f, k) for f, k in knobs(cls) if f.name == name]
    shown = next((label for label, v in k.choices if v == value), value)
    if isinstance(shown, float) and shown.is_integer():
        shown = int(shown)
    return f"{k.name} {shown}"


def preset_note(name: str) -> str:
    """What a preset button set, so a person can see it (the settings panel's note)."""
    if name not in PRESETS:
        raise gr.Error(f"Unknown preset {name!r}.")
    what = ", ".join(_knob_text(n, v) for n, v in PRESETS[name].items())
    return f"✓ {name.capitalize()} preset: {what}. Every other setting is as it was."


def motion_window(steps: Any, t0: Any, t1: Any) -> list[int]:
    """The motion window a person set, [Steps, t0, t1]: what Steps changes scale from."""
    return [int(steps), int(t0), int(t1)]


def steps_changed(steps: Any, t0: Any, t1: Any, window: Any) -> tuple[Any, Any, str]:
    """The person moved Steps: t0 and t1 keep their place in the schedule as fractions of
    Steps, scaled from the window they last set (`motion_window`), never from the previous
    Steps' rounded values, so 50 -> 4 -> 50 gives back exactly 44 and 47. Returns
    (t0, t1, a note that says what changed)."""
    try:
        base_steps, base_t0, base_t1 = (int(v) for v in window)
        s = RenderSettings(num_inference_steps=base_steps, t0=base_t0, t1=base_t1).with_steps(int(steps))
    except (TypeError, ValueError):
        return gr.update(), gr.update(), ""
    if (s.t0, s.t1) == (_whole(t0), _whole(t1)):
        return s.t0, s.t1, ""
    note = (f"Steps {steps}: t0 {_whole(t0)} → {s.t0} and t1 {_whole(t1)} → {s.t1}, to keep the motion window "
            f"where t0 {base_t0} and t1 {base_t1} put it in {base_steps} steps")
    if s.num_inference_steps != base_steps:
        note += f" (back at {base_steps} steps they are {base_t0} and {base_t1} again)"
    return s.t0, s.t1, note + "."


def _whole(v: Any) -> Any:
    try:
        return int(v)
    except (TypeError, ValueError):
        return v
