"""render(): the facade the page, the CLI and the evaluation call; and model loading."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from direct2v.render import (
    ModelLoadError,
    PromptError,
    RenderCancelled,
    RenderOutOfMemory,
    load_pipeline,
    render,
)
from direct2v.render.attention import ValueMappingProcessor
from direct2v.settings import RenderSettings, SettingsError

SMALL = RenderSettings(num_inference_steps=6, t0=2, t1=4, height=64, width=64, seed=11)
PROMPTS = ["a red kite over a beach", "a red kite diving to the sand", "a red kite on the sand"]


@pytest.fixture(scope="module")
def pipe():
    return load_pipeline("tiny", device="cpu")


def test_tiny_pipeline_is_loaded_once(pipe):
    assert load_pipeline("tiny", device="cpu") is pipe
    assert pipe.model_name == "tiny"


def test_render_reports_progress_previews_and_is_reproducible(pipe):
    infos = []
    a = render(pipe, PROMPTS, SMALL, on_step=infos.append, preview_every=2)
    b = render(pipe, PROMPTS, SMALL)
    assert a.frames.shape == (3, 64, 64, 3) and a.frames.dtype == np.float32
    assert 0.0 <= a.frames.min() and a.frames.max() <= 1.0
    assert np.array_equal(a.frames, b.frames) and a.seed == 11
    total = infos[-1].total
    assert [i.step for i in infos] == list(range(1, total + 1))
    assert infos[-1].eta_s == 0.0 and all(i.eta_s >= 0 for i in infos)
    previews = [i for i in infos if i.preview is not None]
    assert [i.step for i in previews] == [s for s in range(1, total + 1) if s % 2 == 0 or s == total]
    last = previews[-1]
    assert last.phase == "joint" and last.frames == [0, 1, 2]
    assert last.preview.shape == (3, 32, 32, 3) and last.preview.dtype == np.uint8
    assert infos[0].phase == "first frame" and infos[0].frames == [0]


def test_random_seed_is_drawn_and_reported(pipe):
    r = render(pipe, PROMPTS[:2], SMALL.replace(seed=-1))
    assert r.seed >= 0 and r.settings.seed == r.seed
    again = render(pipe, PROMPTS[:2], SMALL.replace(seed=r.seed))
    assert np.array_equal(r.frames, again.frames)


def test_scheduler_setting_switches_and_switches_back(pipe):
    ddim = render(pipe, PROMPTS[:2], SMALL)
    pndm = render(pipe, PROMPTS[:2], SMALL.replace(scheduler="pndm"))
    assert type(pipe.scheduler).__name__ == "PNDMScheduler"
    assert np.abs(ddim.frames - pndm.frames).max() > 1e-4
    back = render(pipe, PROMPTS[:2], SMALL)
    assert np.array_equal(back.frames, ddim.frames)


def test_cancel_inside_a_long_render_leaves_pipeline_usable(pipe):
    calls = {"n": 0}

    def should_cancel():
        calls["n"] += 1
        return calls["n"] >= 9  # inside the second pass of a 6-frame render with 4 per pass

    settings = SMALL.replace(frames_per_pass=4)
    steps = []
    with pytest.raises(RenderCancelled):
        render(pipe, PROMPTS * 2, settings, on_step=lambda i: steps.append(i), should_cancel=should_cancel)
    assert len(steps) == 9 and steps[-1].frames == [2, 3]
    # The layers have their own processors back and no anchor cache or recording survives the cancel.
    ctl = pipe.value_mapping_controller
    assert not ctl.active and ctl.anchors is None and ctl.record is None and ctl.num_anchors == 0
    assert not any(isinstance(p, ValueMappingProcessor) for p in pipe.unet.attn_processors.values())
    ok = render(pipe, PROMPTS, SMALL)
    assert ok.frames.shape[0] == 3


@pytest.mark.parametrize(
    "prompts, settings, error, text",
    [
        ([], SMALL, PromptError, "empty"),
        (["a cat", ""], SMALL, PromptError, "Frame 2 is empty"),
        (PROMPTS, SMALL.replace(t0=4, t1=4), SettingsError, "t0 must be smaller than t1"),
        (PROMPTS, SMALL.replace(t1=6), SettingsError, "t1 must be between 0 and 5"),
        (PROMPTS, SMALL.replace(width=100), SettingsError, "width must be a multiple of 8"),
        (PROMPTS, SMALL.replace(rvm_period=0), SettingsError, "RVM period tau"),
        (PROMPTS, SMALL.replace(dsf_quantile=2.0), SettingsError, "DSF quantile p"),
        (PROMPTS, SMALL.replace(value_mapping="zigzag"), SettingsError, "Unknown value mapping"),
        (PROMPTS, SMALL.replace(attention_blocks=("mid_block.9",)), ValueError, "No self-attention layers"),
    ],
)
def test_bad_input(pipe, prompts, settings, error, text):
    with pytest.raises(error, match=text):
        render(pipe, prompts, settings)


def test_out_of_memory_becomes_an_actionable_message(pipe, monkeypatch):
    def boom(*a, **kw):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 4.00 GiB")

    monkeypatch.setattr(type(pipe), "__call__", boom)
    with pytest.raises(RenderOutOfMemory, match="Lower the size or the frames per pass"):
        render(pipe, PROMPTS, SMALL)


def test_unknown_model_fails_with_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match="Could not load Stable Diffusion model 'nobody/no-such-model'"):
        load_pipeline("nobody/no-such-model", device="cpu")
    with pytest.raises(ModelLoadError, match="not a diffusers model"):
        load_pipeline(str(tmp_path), device="cpu")
    with pytest.raises(ModelLoadError, match="No such model folder"):
        load_pipeline(str(tmp_path / "missing"), device="cpu")
    with pytest.raises(ModelLoadError, match="No model given"):
        load_pipeline("  ", device="cpu")


def test_local_diffusers_folder_loads_through_the_real_loader(tmp_path, monkeypatch):
    """save_pretrained + load_pipeline(path): the same code path as a downloaded SD 1.5 folder."""
    from direct2v.render.loading import tiny_components
    from direct2v.render.pipeline import DirecT2VPipeline

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    saved = DirecT2VPipeline(**tiny_components())
    saved.save_pretrained(tmp_path / "model")
    loaded = load_pipeline(str(tmp_path / "model"), device="cpu")
    assert loaded.model_name == str(tmp_path / "model") and loaded is load_pipeline(str(tmp_path / "model"), device="cpu")
    kw = dict(num_inference_steps=6, t0=2, t1=4)
    a = saved(PROMPTS[:2], generator=torch.Generator().manual_seed(0), **kw).frames
    b = loaded(PROMPTS[:2], generator=torch.Generator().manual_seed(0), **kw).frames
    assert np.array_equal(a, b)
