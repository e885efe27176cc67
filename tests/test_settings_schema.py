"""RenderSettings as the one source of truth: validation, CLI flags and page controls all
come from its field metadata, and the scheduler registry is what every layer offers."""

from __future__ import annotations

import argparse
import json
import re
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
        cli.checked_settings(p.parse_args(["--grain", "2"]), WithGrain())

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
        cli.checked_settings(p.parse_args(["render", "s.json", "--steps", "20", "--t1", "47"]))


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


# --------------------------------------------------------------------------- one object, checked once
@pytest.fixture
def checks(monkeypatch):
    """How many times the settings' rules ran (the memo of settings already found valid cleared)."""
    import direct2v.settings as settings_module

    monkeypatch.setattr(settings_module, "_VALID_STATES", {})
    calls = []
    real = RenderSettings._check
    monkeypatch.setattr(RenderSettings, "_check", lambda self: calls.append(self.value_mapping) or real(self))
    return calls


SMALL = ["--model", "tiny", "--steps", "4", "--t0", "1", "--t1", "2", "--width", "64", "--height", "64", "--seed", "-1", "--quiet"]


def test_a_cli_render_checks_its_settings_once(tmp_path, checks):
    script = tmp_path / "s.json"
    script.write_text(json.dumps(["a red ball", "a red ball bouncing"]))
    assert cli.main(["render", str(script), "--out", str(tmp_path / "v.zip"), *SMALL]) == 0
    assert checks == ["rotational"]


def test_a_page_render_checks_its_settings_once(checks):
    from conftest import FAST

    from direct2v.services import runtime as rt
    from direct2v.ui import render as render_tab

    rt.configure("tiny")
    fields = {n: getattr(RenderSettings(**FAST, seed=-1), n) for n in controls.SETTING_NAMES}
    table = [["a red ball"], ["a red ball bouncing"]]
    outs = list(render_tab.render_video(table, 2, 4, **fields))
    assert outs[-1][1].endswith(".mp4")
    assert checks == ["rotational"]


def test_a_draft_render_checks_the_settings_it_renders_once(tmp_path, checks):
    """A draft renders `for_render()`'s few-step settings: those are checked, once, from the CLI
    and from the page (not the person's settings and then the draft's)."""
    from conftest import FAST
    from test_render_draft import random_lora

    from direct2v.render.loading import tiny_components
    from direct2v.services import runtime as rt
    from direct2v.ui import render as render_tab

    lora = random_lora(tiny_components()["unet"], tmp_path / "lcm")
    script = tmp_path / "s.json"
    script.write_text(json.dumps(["a red ball", "a red ball bouncing"]))
    assert cli.main(["render", str(script), "--out", str(tmp_path / "v.zip"), "--draft", "on", "--draft-lora", lora, *SMALL]) == 0
    assert checks == ["rotational"]

    checks.clear()
    rt.configure("tiny")
    fields = {n: getattr(RenderSettings(**FAST, seed=-1, draft=True, draft_lora=lora), n) for n in controls.SETTING_NAMES}
    outs = list(render_tab.render_video([["a red ball"], ["a red ball bouncing"]], 2, 4, **fields))
    assert outs[-1][1].endswith(".mp4")
    assert checks == ["rotational"]


def _page_values(**changes):
    from conftest import FAST

    s = RenderSettings(**{**FAST, "seed": -1, **changes})
    return {n: getattr(s, n) for n in controls.SETTING_NAMES}


def test_a_page_comparison_checks_each_methods_settings_once(checks):
    """The page's Compare: each method's settings once, and the page's own value mapping (which
    no method renders) never."""
    from direct2v.services import runtime as rt
    from direct2v.ui import compare as compare_tab

    rt.configure("tiny")
    table = [["a red ball"], ["a red ball bouncing"]]
    outs = list(compare_tab.compare_methods(table, 2, 4, ["first", "rotational"], **_page_values(value_mapping="sparse_causal")))
    assert outs[-1][0].startswith("✓ Done")
    assert sorted(checks) == ["first", "rotational"]


def test_a_public_page_render_checks_the_servers_settings_once(checks, monkeypatch):
    """On a public server the owner's compile and low-memory switches replace the visitor's
    before the one check, so the renderer does not check again."""
    from direct2v.services import runtime as rt
    from direct2v.services.policy import ServerPolicy
    from direct2v.ui import render as render_tab

    rt.configure("tiny")
    monkeypatch.setattr(rt.RUNTIME, "policy", ServerPolicy(public=True, reason="test", models=("tiny",)))
    rendered = []
    real = rt.render_stream
    monkeypatch.setattr(rt, "render_stream", lambda model, prompts, s, *a: rendered.append(s) or real(model, prompts, s, *a))
    table = [["a red ball"], ["a red ball bouncing"]]
    outs = list(render_tab.render_video(table, 2, 4, **_page_values(low_memory=True)))  # the visitor's switch
    assert outs[-1][1].endswith(".mp4")
    assert [s["low_memory"] for s in rendered] == [False]  # the owner's
    assert checks == ["rotational"]


def test_compare_checks_each_methods_settings_once(tmp_path, checks):
    script = tmp_path / "s.json"
    script.write_text(json.dumps(["a red ball", "a red ball bouncing"]))
    code = cli.main(["compare", str(script), "--clip-model", "tiny", "--methods", "first,rotational",
                     "--out-dir", str(tmp_path / "out"), *SMALL])
    assert code == 0
    assert sorted(checks) == ["first", "rotational"]  # the two rendered settings, once each


def test_every_frame_count_entry_point_refuses_the_same_values(tmp_path, capsys):
    """The page's Frames box, `direct --frames`, the suite, render() and the director: one rule, one message."""
    from direct2v.director import DirectorInputError, make_director
    from direct2v.frames import MAX_FRAMES, MIN_FRAMES
    from direct2v.render import load_pipeline, render
    from direct2v.suite.cli import prepare
    from direct2v.suite.items import SuiteError
    from direct2v.ui import direct

    prompts = tmp_path / "p.txt"
    prompts.write_text("a fox runs\n")
    pipe = load_pipeline("tiny", device="cpu")
    for n in (MIN_FRAMES - 1, MAX_FRAMES + 1):
        message = f"The number of frames must be a whole number from {MIN_FRAMES} to {MAX_FRAMES} (got {n})."
        with pytest.raises(gr.Error, match=re.escape(message)):
            direct._check_frames(n, 4)
        assert cli.main(["direct", "a fox runs", "--frames", str(n), "--backend", "offline"]) == cli.EXIT_INPUT
        assert capsys.readouterr().err.strip() == f"error: {message}"
        args = cli.build_parser().parse_args(["suite", str(prompts), "--frames", str(n), "--backend", "offline"])
        with pytest.raises(SuiteError, match=re.escape(message)):
            prepare(args, cli.settings_from_args)
        with pytest.raises(SettingsError, match=re.escape(message)):
            render(pipe, ["a fox"] * n, RenderSettings(width=64, height=64, num_inference_steps=4, t0=1, t1=2))
        with pytest.raises(DirectorInputError, match=re.escape(message)):
            make_director("offline").direct("a fox runs", num_frames=n)
    with gr.Blocks():
        frames = controls.schema_control(DirectorOptions, "num_frames", 8)
    assert (frames.minimum, frames.maximum) == (MIN_FRAMES, MAX_FRAMES)


def test_model_and_director_flags_come_from_the_schema():
    from direct2v.settings import ModelChoice

    import app

    for argv in (["render", "s.json"], ["compare", "s.json"], ["suite", "p.txt"]):
        args = cli.build_parser().parse_args([*argv, "--lora-scale", "0.5", "--precision", "fp32", "--model", "tiny"])
        assert (args.lora_scale, args.precision, args.model) == (0.5, "fp32", "tiny")
    for argv in (["direct", "a fox"], ["suite", "p.txt"]):
        args = cli.build_parser().parse_args([*argv, "--frames", "5", "--llm-model", "m", "--backend", "compatible"])
        assert (args.frames, args.llm_model, args.backend) == (5, "m", "compatible")
    page = app.parse_args(["--lora-scale", "2", "--precision", "fp16"])
    assert (page.lora_scale, page.precision, page.model_config) == (2.0, "fp16", "")
    env = app.model_defaults({"DIRECT2V_LORA_SCALE": "0.25", "DIRECT2V_MODEL": "tiny"})
    assert env["lora_scale"] == 0.25 and env["model"] == "tiny" and env["precision"] == "auto"
    with pytest.raises(SettingsError, match="LoRA scale must be between -4.0 and 4.0"):
        ModelChoice("tiny", lora_scale=5.0).validate()
    with pytest.raises(SettingsError, match="Unknown precision 'fp8'"):
        ModelChoice("tiny", precision="fp8").validate()
