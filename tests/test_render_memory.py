"""Memory mode: the frames-per-pass model and what the mode switches on (the CUDA side, model
offload and the 8 GiB target, needs a GPU and is documented as unmeasured)."""

from __future__ import annotations

import torch

from direct2v.render.loading import tiny_components
from direct2v.render.memory import (
    BYTES_PER_FRAME_512_FP16,
    RESERVE_BYTES,
    enable_low_memory,
    frame_bytes,
    frames_per_pass_for,
    plan_frames_per_pass,
)
from direct2v.render.pipeline import DirecT2VPipeline

GiB = 1024**3


def test_frame_cost_scales_with_pixels_and_dtype():
    assert frame_bytes(512, 512, torch.float16) == int(BYTES_PER_FRAME_512_FP16)
    assert frame_bytes(1024, 1024, torch.float16) == int(4 * BYTES_PER_FRAME_512_FP16)
    assert frame_bytes(512, 512, torch.float32) == int(2 * BYTES_PER_FRAME_512_FP16)


def test_frames_per_pass_on_an_8_gib_card():
    unet_fp16 = int(1.6 * GiB)
    # 7.5 GiB free - 1.6 GiB UNet - 1 GiB reserve = 4.9 GiB: 8 frames of 0.6 GiB.
    assert frames_per_pass_for(int(7.5 * GiB), 512, 512, torch.float16, 16, unet_fp16) == 8
    assert frames_per_pass_for(int(7.5 * GiB), 512, 512, torch.float16, 6, unet_fp16) == 6  # never more than asked
    assert frames_per_pass_for(2 * GiB, 512, 512, torch.float16, 16, unet_fp16) == 2  # never fewer than 2
    assert frames_per_pass_for(80 * GiB, 512, 512, torch.float16, 16) == 16
    budget = 20 * GiB - RESERVE_BYTES
    assert frames_per_pass_for(20 * GiB, 768, 768, torch.float16, 64) == budget // frame_bytes(768, 768, torch.float16)


def test_memory_mode_tiles_the_vae_once_and_keeps_rendering():
    pipe = DirecT2VPipeline(**tiny_components())
    pipe.set_progress_bar_config(disable=True)
    assert not pipe.vae.use_tiling
    assert enable_low_memory(pipe) == ["VAE tiling"]  # no CUDA here: no offload
    assert pipe.vae.use_tiling and enable_low_memory(pipe) == []
    assert plan_frames_per_pass(pipe, 64, 64, 16) == 16  # the plan applies to CUDA devices only
    frames = pipe(["a cat", "a dog"], num_inference_steps=3, t0=0, t1=1, generator=torch.Generator().manual_seed(0)).frames
    assert frames.shape == (2, 64, 64, 3) and torch.isfinite(torch.from_numpy(frames)).all()


def test_settings_switches_reach_the_pipeline_from_cli_and_render(monkeypatch):
    import argparse

    import pytest

    from direct2v import cli
    from direct2v.render import session
    from direct2v.settings import RenderSettings, SettingsError

    parser = argparse.ArgumentParser()
    cli.add_setting_flags(parser)
    on = cli.settings_from_args(parser.parse_args(["--preset", "default", "--compile", "on", "--low-memory", "on"]))
    off = cli.settings_from_args(parser.parse_args(["--preset", "default"]))
    assert (on.compile, on.low_memory) == (True, True) and (off.compile, off.low_memory) == (False, False)
    assert RenderSettings.from_dict(on.to_dict()) == on  # project files keep them
    with pytest.raises(SettingsError, match="low_memory must be true or false"):
        RenderSettings(low_memory="yes").validate()

    compiled = []
    monkeypatch.setattr(session, "compile_unet", lambda p: compiled.append(p))
    pipe = DirecT2VPipeline(**tiny_components())
    pipe.set_progress_bar_config(disable=True)
    small = RenderSettings(width=64, height=64, num_inference_steps=3, t0=0, t1=1, seed=0)
    session.render(pipe, ["a cat", "a dog"], small)
    assert compiled == [] and not pipe.vae.use_tiling
    result = session.render(pipe, ["a cat", "a dog"], small.replace(compile=True, low_memory=True))
    assert compiled == [pipe] and pipe.vae.use_tiling
    assert result.frames.shape == (2, 64, 64, 3) and result.peak_bytes is None  # no CUDA here
