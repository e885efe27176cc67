"""Draft renders (render/draft.py): the few-step LoRA as a second adapter, the draft preset,
"Render final" with the adapter off, and a clear message when the LoRA cannot be had offline."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch

from direct2v.render.draft import DRAFT_LORAS, DraftLoRAMissing, draft_lora_name, use_draft
from direct2v.render.errors import ModelLoadError
from direct2v.render.loading import tiny_components
from direct2v.render.pipeline import DirecT2VPipeline
from direct2v.render.session import render
from direct2v.settings import DRAFT_PRESET, Project, RenderSettings

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PROMPTS = ["a red cat on grass", "a red cat jumps", "a red cat lands"]
SMALL = dict(width=64, height=64, seed=3, num_inference_steps=6, t0=2, t1=3)


def random_lora(unet, folder, targets=("to_q", "to_k", "to_v", "to_out.0", "conv1", "conv2")):
    """A random LoRA for `unet` in diffusers' format (LCM-LoRA's kind of targets, rank 4)."""
    from diffusers import StableDiffusionPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(0)
    u = copy.deepcopy(unet)
    u.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights="gaussian", target_modules=list(targets)))
    for name, p in u.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.05)  # peft starts B at zero: the LoRA must change something
    StableDiffusionPipeline.save_lora_weights(str(folder), unet_lora_layers=get_peft_model_state_dict(u))
    return str(folder)


def fresh_pipe():
    p = DirecT2VPipeline(**tiny_components())
    p.set_progress_bar_config(disable=True)
    return p


def test_draft_preset_replaces_the_schedule_and_keeps_the_rest():
    s = RenderSettings(draft=True, seed=7, dsf_quantile=0.2, value_mapping="first", width=256, height=128)
    run = s.for_render()
    assert (run.scheduler, run.num_inference_steps, run.t0, run.t1) == ("lcm", 4, 2, 3)
    assert (run.guidance_scale, run.cache_interval) == (DRAFT_PRESET["guidance_scale"], DRAFT_PRESET["cache_interval"])
    assert (run.seed, run.dsf_quantile, run.value_mapping, run.width, run.height) == (7, 0.2, "first", 256, 128)
    run.validate()
    assert RenderSettings(seed=7).for_render() == RenderSettings(seed=7)  # final: the settings as set


def test_draft_then_final_and_the_project_records_which(tmp_path):
    pipe = fresh_pipe()
    lora = random_lora(pipe.unet, tmp_path / "lcm")
    final_before = render(pipe, PROMPTS, RenderSettings(**SMALL)).frames

    draft = render(pipe, PROMPTS, RenderSettings(draft=True, draft_lora=lora, **SMALL))
    assert draft.frames.shape == final_before.shape and np.isfinite(draft.frames).all()
    assert draft.settings.draft and draft.settings.draft_lora == lora and draft.settings.num_inference_steps == 6
    # The draft ran the preset: LCM on the few-step schedule, the adapter on.
    without_lora = RenderSettings(draft=True, **SMALL).for_render().replace(draft=False)
    plain = render(fresh_pipe(), PROMPTS, without_lora)
    assert np.abs(draft.frames - plain.frames).mean() > 1e-3  # the LoRA changes the frames

    # "Render final": the same settings, draft off, bit for bit what the pipeline rendered before.
    final = render(pipe, PROMPTS, draft.settings.replace(draft=False))
    assert np.array_equal(final.frames, final_before)

    project = Project(frames=PROMPTS, settings=draft.settings)
    loaded = Project.from_json(project.to_json())
    assert loaded.settings.draft is True and loaded.settings.draft_lora == lora
    assert json.loads(project.to_json())["settings"]["draft"] is True


def test_draft_keeps_the_users_own_lora(tmp_path):
    from direct2v.render.loading import _adapters, _apply_lora

    pipe = fresh_pipe()
    _apply_lora(pipe, random_lora(pipe.unet, tmp_path / "style", targets=("to_q", "to_v")), 0.5)
    use_draft(pipe, True, random_lora(pipe.unet, tmp_path / "lcm"))
    assert set(_adapters(pipe)) == {"lora", "draft"}
    assert pipe.unet.active_adapters() == ["lora", "draft"]
    use_draft(pipe, False)
    assert pipe.unet.active_adapters() == ["lora"]


def test_missing_draft_lora_offline_says_how_to_get_it(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    pipe = fresh_pipe()
    assert draft_lora_name(pipe) == DRAFT_LORAS["sd"] == "latent-consistency/lcm-lora-sdv1-5"
    with pytest.raises(DraftLoRAMissing) as e:
        render(pipe, PROMPTS, RenderSettings(draft=True, **SMALL))
    text = str(e.value)
    assert "latent-consistency/lcm-lora-sdv1-5" in text and "huggingface-cli download" in text and "--draft-lora" in text
    with pytest.raises(DraftLoRAMissing, match="No such LoRA file or folder"):
        use_draft(pipe, True, "/no/such/lora.safetensors")


def test_public_server_loads_only_listed_draft_loras(tmp_path):
    pipe = fresh_pipe()
    lora = random_lora(pipe.unet, tmp_path / "lcm")
    with pytest.raises(ModelLoadError, match="owner listed"):
        use_draft(pipe, True, lora, listed=["latent-consistency/lcm-lora-sdv1-5"])
    use_draft(pipe, True, lora, listed=[lora])
