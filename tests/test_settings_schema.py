"""RenderSettings as the one source of truth: validation, CLI flags and page controls all
come from its field metadata, and the scheduler registry is what every layer offers."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass

import gradio as gr
import pytest

from direct2v import cli
from direct2v.render.schedulers import SCHEDULERS
from direct2v.settings import (
    PRESETS,
    DirectorOptions,
    Project,
    RenderSettings,
    SettingsError,
    knob,
    knobs,
)
from direct2v.ui import controls


@dataclass
class WithGrain(RenderSettings):
    """A setting that does not exist yet, declared the way a new one would be."""

    grain: float = knob(
        0.5, name="film grain", label="Film grain", flag="--grain", control="slider",
        group="advanced", lo=0.0, hi=1.0, step=0.05, help="noise added to the decoded frames",
        elem_id="film-grain",
    )


def test_a_new_field_yields_a_cli_flag_validation_and_a_page_control():
    p = argparse.ArgumentParser()
    cli.add_setting_flags(p, WithGrain)
    args = p.parse_args(["--grain", "0.3", "--steps", "20"])
    s = cli.settings_from_args(args, WithGrain())
    assert isinstance(s, WithGrain) and s.grain == 0.3 and s.num_inference_steps == 20
    with pytest.raises(SettingsError, match=r"film grain must be between 0.0 and 1.0 \(got 2.0\)"):
        cli.settings_from_args(p.parse_args(["--grain", "2"]), WithGrain())

    with gr.Blocks():
        built = controls.build_controls("advanced", WithGrain)
    c = built["grain"]
    assert isinstance(c, gr.Slider)
    assert (c.minimum, c.maximum, c.step, c.label, c.value, c.elem_id) == (0.0, 1.0, 0.05, "Film grain", 0.5, "film-grain")
    names = controls.setting_names(WithGrain)
    assert "grain" in names and "grain" not in controls.SETTING_NAMES
    values = {n: getattr(s, n) for n in names}
    values["attention_blocks"] = "default"
    assert controls.settings_from_values({**values, "grain": 0.75}, fps=4, cls=WithGrain).grain == 0.75


def test_every_setting_has_one_flag_and_one_page_control():
    fields = knobs()
    flags = [k.flag for _, k in fields]
    ids = [k.elem_id for _, k in fields]
    assert len(set(flags)) == len(flags) and len(set(ids)) == len(ids) and all(ids)
    p = argparse.ArgumentParser()
    cli.add_setting_flags(p)
    dests = {a.dest for a in p._actions}
    assert {f.name for f, _ in fields} <= dests
    with gr.Blocks():
        built = {}
        for group in (*controls.PANEL_GROUPS, "direct"):
            built.update(controls.build_controls(group))
    assert set(built) == {f.name for f, _ in fields}
    for f, k in fields:
        assert built[f.name].label == k.label and built[f.name].elem_id == k.elem_id
        if k.control in ("slider", "number"):
            # The page's range is the validator's range: its ends pass, one beyond fails.
            c = built[f.name]
            assert (c.minimum, c.maximum) == (k.lo, k.hi)
            nudge = 1 if isinstance(f.default, int) else 0.5
            for bad in (k.lo - nudge, k.hi + nudge):
                with pytest.raises(SettingsError, match=f"{k.name} must be between"):
                    RenderSettings(**{f.name: bad}).validate()
        if k.choices and k.cli_parse is None:
            assert [v for _, v in built[f.name].choices] == [v for _, v in k.choices]
            with pytest.raises(SettingsError, match=f"Unknown {k.name} 'nope'; choose one of"):
                RenderSettings(**{f.name: "nope"}).validate()


def test_schedulers_offered_everywhere_are_the_registry():
    (f, k), = [(f, k) for f, k in knobs() if f.name == "scheduler"]
    assert [v for _, v in k.choices] == list(SCHEDULERS)
    p = argparse.ArgumentParser()
    cli.add_setting_flags(p)
    (action,) = [a for a in p._actions if a.dest == "scheduler"]
    assert list(action.choices) == list(SCHEDULERS)
    assert "euler" not in SCHEDULERS
    with pytest.raises(SettingsError, match="Unknown scheduler 'euler'; choose one of ddim, pndm, dpm, lcm, tcd"):
        RenderSettings(scheduler="euler").validate()


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_changing_steps_alone_never_makes_settings_invalid(preset):
    base = RenderSettings().with_preset(preset)
    for n in range(2, 1001):
        s = base.with_steps(n).validate()
        assert s.num_inference_steps == n and 0 <= s.t0 < s.t1 < n
    assert RenderSettings().with_steps(100).replace().t0 == 88 and RenderSettings().with_steps(100).t1 == 94
    assert RenderSettings().with_steps(50) == RenderSettings()


def test_cli_steps_scale_t0_t1_unless_they_are_given():
    p = cli.build_parser()
    s = cli.settings_from_args(p.parse_args(["render", "s.json", "--steps", "20"]))
    assert (s.num_inference_steps, s.t0, s.t1) == (20, 18, 19)
    s = cli.settings_from_args(p.parse_args(["render", "s.json", "--steps", "20", "--t0", "5", "--t1", "9"]))
    assert (s.t0, s.t1) == (5, 9)
    with pytest.raises(SettingsError, match=r"t1 must be between 0 and 19 \(got 47\), below Steps: lower t1 or raise Steps"):
        cli.settings_from_args(p.parse_args(["render", "s.json", "--steps", "20", "--t1", "47"]))


def test_page_steps_slider_scales_t0_t1_from_what_the_person_set():
    window = controls.motion_window(50, 44, 47)
    t0, t1, note = controls.steps_changed(20, 44, 47, window)
    assert (t0, t1) == (18, 19) and note.startswith("Steps 20: t0 44 → 18 and t1 47 → 19")
    assert controls.steps_changed(2, 44, 47, window)[:2] == (0, 1)
    # Round trips give back exactly the window set, however far Steps went (issue 22).
    for far in (4, 10, 3, 2, 7, 999):
        t0, t1, note = controls.steps_changed(far, 44, 47, window)
        assert "back at 50 steps they are 44 and 47 again" in note
        assert controls.steps_changed(50, t0, t1, window)[:2] == (44, 47)
    # A window the person typed at 12 steps is the new base.
    window = controls.motion_window(12, 6, 9)
    t0, t1, _ = controls.steps_changed(100, 6, 9, window)
    assert (t0, t1) == (50, 75) and controls.steps_changed(12, t0, t1, window)[:2] == (6, 9)
    assert controls.steps_changed(12, 6, 9, window)[2] == ""  # nothing changed, nothing said


def test_presets_say_what_they_set():
    note = controls.preset_note("paper")
    for part in ("Steps 100", "t0 90", "t1 95", "guidance scale 12", "PNDM"):
        assert part in note
    assert "Steps 50" in controls.preset_note("default") and "DDIM" in controls.preset_note("default")


def test_t0_t1_messages_name_the_controls():
    with pytest.raises(SettingsError, match="lower t0 or raise t1"):
        RenderSettings(t0=47, t1=47).validate()
    with pytest.raises(SettingsError, match="lower t1 or raise Steps"):
        RenderSettings(num_inference_steps=30).validate()


def test_pipeline_kwargs_are_the_pipeline_fields():
    import inspect

    from direct2v.render.pipeline import DirecT2VPipeline

    kw = RenderSettings().pipeline_kwargs()
    params = inspect.signature(DirecT2VPipeline.__call__).parameters
    assert set(kw) <= set(params)
    assert {f.name for f, k in knobs() if k.pipeline} == set(kw)
    assert not {"seed", "scheduler", "fps"} & set(kw)


def test_director_options_round_trip_without_keys(tmp_path):
    d = DirectorOptions(backend="compatible", model="llama3.1", base_url="http://127.0.0.1:11434/v1", style="ink", camera="static")
    assert d.director_args() == ("openai", {"model": "llama3.1", "base_url": "http://127.0.0.1:11434/v1"})
    assert DirectorOptions(backend="gemini", base_url="http://x").director_args() == ("gemini", {"model": None, "base_url": None})
    path = Project(frames=["a", "b"], director=d).save(tmp_path / "p.json")
    assert Project.load(path).director == d
    raw = json.loads(path.read_text())
    raw["director"]["api_key"] = "not-a-real-key"
    raw["director"]["old_field"] = 1
    path.write_text(json.dumps(raw))
    loaded = Project.load(path)
    assert loaded.director == d and "not-a-real-key" not in loaded.to_json()
