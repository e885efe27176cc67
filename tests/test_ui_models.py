"""The page's model chooser (ui/models.py), handler by handler on the tiny models: Load
switches once the model is ready, Cancel stops it, errors stay on the status line with the
previous model working, the project saved from the page records the model and LoRA, and a
project naming another model says so."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from direct2v.render import loading
from direct2v.settings import ModelChoice, Project, RenderSettings
from direct2v.ui import controls, project
from direct2v.ui import models as chooser
from direct2v.ui import render as render_tab
from direct2v.services import runtime as rt
from conftest import FAST
from sd_checkpoint import write_tiny_lora

OFFLINE = dict(style="", camera="", backend="offline", llm_model="", base_url="")
PROMPTS = ["a red kite over a beach", "a red kite on the sand"]


@pytest.fixture(autouse=True)
def tiny_model():
    loading.clear_cache()  # every test loads what it switches to
    rt.configure("tiny", device="cpu")
    yield
    rt.configure("tiny")
    loading.clear_cache()


@pytest.fixture(scope="module")
def lora(tmp_path_factory):
    return str(write_tiny_lora(tmp_path_factory.mktemp("lora"))[0])


def page_values(**changes):
    v = dict(zip(controls.SETTING_NAMES, controls.settings_values(RenderSettings())))
    v.update(FAST, **changes)
    return v


def test_load_switches_the_page_model_and_reports_each_stage():
    first = rt.RUNTIME.models.get()
    lines = list(chooser.load_model("tiny-sdxl", "", "", 1.0))
    assert lines[-1].startswith("✓ Loaded `tiny-sdxl` in ") and lines[-1].endswith("renders use it now.")
    progress = lines[:-1]
    assert progress and all(line.startswith("⏳ ") and "`tiny` stays in use until it is ready" in line for line in progress)
    assert any("Moving tiny-sdxl to cpu" in line for line in progress)
    holder = rt.RUNTIME.models
    assert holder.model == "tiny-sdxl" and holder.get() is not first
    assert chooser.model_notice().startswith("⚠ **Model: `tiny-sdxl`**")
    assert list(chooser.load_model("tiny-sdxl", "", "", 1.0)) == ["✓ `tiny-sdxl` is already loaded."]


def test_a_failed_load_says_why_on_the_status_line_and_keeps_the_model(tmp_path):
    first = rt.RUNTIME.models.get()
    last = list(chooser.load_model(str(tmp_path / "missing.safetensors")))[-1]
    assert last.startswith("⚠ No such model folder or file: ") and last.endswith("`tiny` stays loaded.")
    assert last.count("\n") == 0
    assert list(chooser.load_model("tiny", "", str(tmp_path / "x.safetensors"), 9)) == [
        "⚠ LoRA scale must be between -4.0 and 4.0 (got 9.0)."
    ]
    assert list(chooser.load_model("   ")) == [
        "⚠ No model given: a Hugging Face Hub id, a local folder, a .safetensors/.ckpt file, or 'tiny'."
    ]
    assert rt.RUNTIME.models.model == "tiny" and rt.RUNTIME.models.get() is first


def test_cancel_stops_a_load_and_the_previous_model_stays(monkeypatch):
    first = rt.RUNTIME.models.get()
    started, release = threading.Event(), threading.Event()
    real = loading.tiny_sdxl_components

    def slow(*a, **k):
        started.set()
        release.wait(10)
        return real(*a, **k)

    monkeypatch.setattr(loading, "tiny_sdxl_components", slow)
    assert chooser.cancel_load() == "Nothing is loading."
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(chooser.load_model("tiny-sdxl")))
    reader.start()
    assert started.wait(10)
    assert chooser.cancel_load() == "Cancelling… the load stops after its current stage."
    release.set()
    reader.join(10)
    assert lines[-1] == "■ Cancelled: `tiny` stays loaded."
    assert rt.RUNTIME.models.model == "tiny" and rt.RUNTIME.models.get() is first


def test_project_saved_from_the_page_records_the_loaded_model_and_lora(lora):
    last = list(chooser.load_model("tiny", "", lora, 0.5))[-1]
    assert last.startswith(f"✓ Loaded `tiny` with LoRA `{lora}` at 0.5")
    assert rt.RUNTIME.models.get().lora_strength == 0.5
    path = project.save_project("kites", [[p, ""] for p in PROMPTS], 4, **OFFLINE, **page_values())
    data = json.loads(open(path, encoding="utf-8").read())
    assert (data["model"], data["model_config"], data["lora"], data["lora_scale"]) == ("tiny", "", lora, 0.5)
    assert chooser.chooser_values() == ["tiny", "", lora, 0.5]


def test_render_uses_the_lora_scale_it_was_started_with(lora):
    """Two scales of one LoRA share a pipeline; each render sets its own scale under the GPU lock."""
    list(chooser.load_model("tiny", "", lora, 0.0))
    settings = RenderSettings(seed=3, **FAST).to_dict()

    def frames(choice):
        out = dict(rt._render_stream(rt.RUNTIME.models.choice_data(choice), PROMPTS, settings, 100))
        return out["done"].frames

    zero = frames(ModelChoice("tiny", "", lora, 0.0))
    one = frames(ModelChoice("tiny", "", lora, 1.0))
    plain = frames(ModelChoice("tiny"))
    assert np.abs(zero - plain).max() < 1e-6 and np.abs(one - plain).max() > 1e-3
    assert np.abs(frames(ModelChoice("tiny", "", lora, 0.0)) - zero).max() == 0


def test_a_project_naming_another_model_says_so_and_fills_the_chooser(tmp_path, lora):
    other = Project(frames=PROMPTS, model="someone/sd-model", lora=lora, lora_scale=0.8).save(tmp_path / "other.json")
    *fields, status = chooser.project_model(str(other))
    assert fields == ["someone/sd-model", "", lora, 0.8]
    assert status == (f"⚠ other.json was rendered with `someone/sd-model` with LoRA `{lora}` at 0.8; `tiny` is loaded. "
                      "Press Load model to switch, or render with the loaded model.")
    same = Project(frames=PROMPTS, model="tiny").save(tmp_path / "same.json")
    assert chooser.project_model(str(same))[-1] == "✓ same.json was rendered with `tiny`, the model loaded now."
    bare = tmp_path / "script.json"
    bare.write_text(json.dumps(PROMPTS))  # a bare frame script names no model: nothing changes
    assert all(u == {"__type__": "update"} for u in chooser.project_model(str(bare)))


@pytest.mark.slow
def test_load_model_through_the_running_page(app_url, tmp_path):
    """The chooser's Load on `python app.py --model tiny`: a bad path leaves tiny rendering."""
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    status = client.predict("tiny", "", "", 1.0, api_name="/load_model")
    assert status in ("✓ `tiny` is already loaded.",) or status.startswith("✓ Loaded `tiny` in ")
    missing = str(tmp_path / "nowhere.safetensors")
    status = client.predict(missing, "", "", 1.0, api_name="/load_model")
    assert status == f"⚠ No such model folder or file: {missing}. `tiny` stays loaded."
    assert client.predict("tiny", "", "", 1.0, api_name="/load_model") == "✓ `tiny` is already loaded."


def test_app_flags_reach_the_page_model(monkeypatch):
    import torch

    import app
    from direct2v.render.loading import max_pipelines, set_max_pipelines

    args = app.parse_args(["--model", "m.safetensors", "--model-config", "cfg", "--lora", "l.safetensors",
                           "--lora-scale", "0.5", "--precision", "fp32", "--max-pipelines", "3", "--no-preload"])
    try:
        app.build(args)
        holder = rt.RUNTIME.models
        assert holder.choice == ModelChoice("m.safetensors", "cfg", "l.safetensors", 0.5) and holder.dtype == torch.float32
        assert max_pipelines() == 3
    finally:
        set_max_pipelines(2)
    with pytest.raises(SystemExit):
        app.parse_args(["--max-pipelines", "0"])
