"""Fidelity of the schedule: an exact noise oracle for every scheduler and start timestep,
t' under PNDM's warm-up, sparse-causal and T2V-Z chunking across passes, memory after an
out-of-memory error, and NaN/inf frames named instead of returned black."""

from __future__ import annotations

import copy
import dataclasses
import gc
import weakref
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import direct2v.render.long as long_mod
from direct2v.render import RenderOutOfMemory, render
from direct2v.render.attention import ValueMappingController
from direct2v.render.errors import RenderNonFinite
from direct2v.render.loading import tiny_components
from direct2v.render.pipeline import DirecT2VPipeline
from direct2v.render.schedulers import make_scheduler
from direct2v.settings import RenderSettings
from conftest import gen

PROMPTS = [f"a {c} balloon over a town, frame {i}" for i, c in enumerate("red blue green pink gray gold teal plum".split())]
OFFERED = ("ddim", "pndm", "dpm", "tcd")  # TCD at eta 0 (the pipeline's default) is deterministic


def with_scheduler(components, name):
    p = DirecT2VPipeline(**{**components, "scheduler": make_scheduler(name, components["scheduler"].config)})
    p.set_progress_bar_config(disable=True)
    return p


# --------------------------------------------------------------------------- exact noise oracle
class OracleUNet(torch.nn.Module):
    """eps(x, t) = (x - sqrt(abar_t) c) / sqrt(1 - abar_t): the exact noise prediction for the
    one-point data set {c}. Along a correctly labelled trajectory each frame's eps is constant."""

    def __init__(self, c: torch.Tensor, alphas_cumprod: torch.Tensor):
        super().__init__()
        self.register_buffer("c", c.double())
        self.register_buffer("abar", alphas_cumprod.double())
        self.config = SimpleNamespace(in_channels=c.shape[1], sample_size=c.shape[-1], time_cond_proj_dim=None)
        self.calls: list[torch.Tensor] = []

    @property
    def attn_processors(self):
        return {}

    def set_attn_processor(self, processors):
        pass

    @property
    def dtype(self):
        return torch.float32

    @property
    def device(self):
        return self.c.device

    def forward(self, x, t, encoder_hidden_states=None, return_dict=False):
        a = self.abar[int(t)]
        eps = (x.double() - a.sqrt() * self.c) / (1 - a).sqrt()
        self.calls.append(eps)
        return (eps.to(x.dtype),)


def oracle_drift(components, name: str, steps: int, t0: int, t1: int, frames: int = 3) -> float:
    """Largest change of any frame's exact noise estimate over the joint phase."""
    sched = make_scheduler(name, components["scheduler"].config)
    c = torch.randn(1, 4, 8, 8, generator=gen(1))
    unet = OracleUNet(c, sched.alphas_cumprod)
    p = DirecT2VPipeline(**{**components, "unet": unet, "scheduler": sched})
    p.set_progress_bar_config(disable=True)
    p(PROMPTS[:frames], num_inference_steps=steps, t0=t0, t1=t1, guidance_scale=1.0, attention_blocks="all",
      generator=gen(), output_type="latent")
    single = [e for e in unet.calls if e.shape[0] == 1]
    joint = [e for e in unet.calls if e.shape[0] == frames]
    assert single and joint and len(single) + len(joint) == len(unet.calls)
    drift = max(float((e - joint[0]).abs().max()) for e in joint)
    # Frame 1 re-enters from its own trajectory: its eps is that of the single-frame phase.
    return max(drift, max(float((e[0] - single[0][0]).abs().max()) for e in joint))


@pytest.mark.parametrize("name", OFFERED)
@pytest.mark.parametrize("steps", [6, 10])
def test_exact_noise_oracle_stays_constant_for_every_start_timestep(components, name, steps):
    drifts = {t1: oracle_drift(components, name, steps, t1 - 1, t1) for t1 in range(1, steps)}
    assert max(drifts.values()) < 1e-4, drifts  # float32 round-off; a step out of step gives > 1e-3


def lcm_with_its_noise_as_the_estimate(monkeypatch):
    """LCM re-noises its denoised estimate with a fresh draw at every step; with that draw
    replaced by the step's own noise estimate it is deterministic and the oracle applies."""
    import diffusers.schedulers.scheduling_lcm as lcm

    step = lcm.LCMScheduler.step

    def with_own_noise(self, model_output, timestep, sample, generator=None, return_dict=True):
        monkeypatch.setattr(lcm, "randn_tensor", lambda shape, **kw: model_output)
        return step(self, model_output, timestep, sample, generator=generator, return_dict=return_dict)

    monkeypatch.setattr(lcm.LCMScheduler, "step", with_own_noise)


@pytest.mark.parametrize("steps", [4, 8])
def test_exact_noise_oracle_holds_for_lcm(components, monkeypatch, steps):
    lcm_with_its_noise_as_the_estimate(monkeypatch)
    drifts = {t1: oracle_drift(components, "lcm", steps, t1 - 1, t1) for t1 in range(1, steps)}
    assert max(drifts.values()) < 1e-4, drifts


@pytest.mark.parametrize("name", ["lcm", "tcd"])
def test_oracle_detects_a_consistency_scheduler_out_of_step(components, monkeypatch, name):
    """The hand-over finds the joint phase's first timestep again; one that restarts the
    schedule's index at 0 instead drifts."""
    import direct2v.render.schedulers as sched_mod

    lcm_with_its_noise_as_the_estimate(monkeypatch)

    def restart(sched, timesteps):
        sched._step_index = 0
        return sched, timesteps

    spec = sched_mod.SCHEDULERS[name]
    monkeypatch.setitem(sched_mod._BY_CLASS, spec.class_name, dataclasses.replace(spec, to_joint=restart))
    assert oracle_drift(components, name, 8, 4, 6) > 1e-3


def test_oracle_detects_a_step_out_of_step(components, monkeypatch):
    """The oracle is sensitive: a joint phase that skips its PNDM warm-up repeat drifts."""
    original = DirecT2VPipeline.joint_scheduler

    def no_repeat(self, saved, timesteps):
        sched, ts = original(self, saved, timesteps)
        return sched, torch.unique_consecutive(ts)

    monkeypatch.setattr(DirecT2VPipeline, "joint_scheduler", no_repeat)
    assert oracle_drift(components, "pndm", 10, 4, 6) > 1e-3


# --------------------------------------------------------------------------- t'
def test_pndm_warm_up_repeat_does_not_advance_t_prime(components):
    p = with_scheduler(components, "pndm")
    ctl = ValueMappingController(mode="rotational", rvm_period=2, trace=[])
    p(PROMPTS[:4], num_inference_steps=8, t0=3, t1=5, generator=gen(), controller=ctl)
    layer = ctl.trace[0][0]
    steps = [s for name, s, _ in ctl.trace if name == layer]
    assert steps == [0, 1, 1, 2, 3, 4, 5]  # 6 joint timesteps, 7 UNet calls
    refs = [r[0][0] for name, _, r in ctl.trace if name == layer]
    assert refs == [(s // 2) % 4 for s in steps]


# --------------------------------------------------------------------------- long videos
def deterministic_renoise(self, x_t0, t_from, t_to, generator):
    """Re-noise without a random draw, so a frame starts the same whichever pass it is in."""
    alpha = torch.prod(self.scheduler.alphas[t_from:t_to])
    return torch.sqrt(alpha) * x_t0


@pytest.mark.parametrize("mode", ["sparse_causal", "first"])
def test_causal_modes_render_the_same_in_passes_as_in_one_batch(pipe, monkeypatch, mode):
    """Sparse-causal and first-frame attention only look back, so passes that carry the right
    keys/values (frame 0 from the anchors, the previous frame from the previous pass) must
    reproduce the one-batch render."""
    monkeypatch.setattr(DirecT2VPipeline, "renoise", deterministic_renoise)
    kw = dict(num_inference_steps=6, t0=2, t1=4, value_mapping=mode, generator=None)
    whole = pipe(PROMPTS, **{**kw, "generator": gen()}).frames
    passes = pipe(PROMPTS, frames_per_pass=4, **{**kw, "generator": gen()}).frames  # anchors 0-1, then 2-3, 4-5, 6-7
    assert np.abs(whole - passes).max() < 1e-4


def test_sparse_causal_reads_the_previous_pass_not_the_last_anchor(pipe):
    ctl = ValueMappingController(mode="sparse_causal", trace=[])
    pipe(PROMPTS[:6], num_inference_steps=6, t0=2, t1=4, frames_per_pass=4, generator=gen(), controller=ctl)
    refs = {r for _, _, r in ctl.trace}
    # Anchors (0, 1) among themselves; chunks [2, 3] and [4, 5] (pool: 2 anchors + 2 frames) start
    # from the previous pass's last frame (-1), then the chunk's own previous frame (pool index 2).
    assert refs == {((0, 0), (0, 0)), ((0, -1), (0, 2))}


def test_t2vz_chunking_matches_diffusers_chunk_by_chunk(components, pipe):
    """T2V-Z's recipe: each chunk [0, new frames...] is a separate call with the generator reseeded."""
    from diffusers import TextToVideoZeroPipeline

    ref = TextToVideoZeroPipeline(**components, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    ref.set_progress_bar_config(disable=True)
    kw = dict(num_inference_steps=6, t0=2, t1=4, motion_field_strength_x=8.0, motion_field_strength_y=8.0)
    prompt = "a red balloon over a town"
    ours = pipe([prompt] * 8, value_mapping="first", attention_blocks="all", frames_per_pass=3, chunking="t2vz",
                generator=gen(4), **kw).frames
    expected = []
    for ids in ([0, 1, 2], [0, 3, 4], [0, 5, 6], [0, 7]):
        out = ref(prompt, video_length=len(ids), frame_ids=ids, generator=gen(4), **kw).images
        expected.append(out if ids[1] == 1 else out[1:])
    expected = np.concatenate(expected)
    assert ours.shape == expected.shape == (8, 64, 64, 3)
    assert np.abs(ours - expected).max() < 1e-4


# --------------------------------------------------------------------------- out of memory
def test_out_of_memory_frees_the_failed_render_before_reporting(monkeypatch):
    pipe = DirecT2VPipeline(**tiny_components())
    pipe.set_progress_bar_config(disable=True)
    alive: list[weakref.ref] = []
    calls = {"n": 0}

    def unet_hook(module, args, kwargs):
        alive.extend([weakref.ref(args[0]), weakref.ref(kwargs["encoder_hidden_states"])])
        calls["n"] += 1
        if calls["n"] == 12:  # in the second pass, with the anchor cache filled
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 4.00 GiB")

    store = long_mod.AnchorCache.store

    def spy_store(self, layer, step, anchor, key, value):
        store(self, layer, step, anchor, key, value)
        alive.extend(weakref.ref(x) for x in self.entries[(layer, step, anchor)])

    monkeypatch.setattr(long_mod.AnchorCache, "store", spy_store)
    handle = pipe.unet.register_forward_pre_hook(unet_hook, with_kwargs=True)
    settings = RenderSettings(num_inference_steps=6, t0=2, t1=4, height=64, width=64, seed=1, frames_per_pass=4)
    try:
        with pytest.raises(RenderOutOfMemory, match="Out of GPU memory") as err:
            render(pipe, PROMPTS[:6], settings)
    finally:
        handle.remove()
    assert calls["n"] == 12 and len(alive) > 20
    assert err.value.__context__ is None and err.value.__cause__ is None
    survivors = [r() for r in alive if r() is not None]
    assert survivors == []
    gc.collect()
    # And the pipeline renders again.
    assert render(pipe, PROMPTS[:2], settings).frames.shape == (2, 64, 64, 3)


# --------------------------------------------------------------------------- NaN / inf
def poison(pipe, at_call: int, frames: list[int]):
    calls = {"n": 0}

    def hook(module, args, output):
        calls["n"] += 1
        if calls["n"] == at_call:
            out = output[0].clone()
            half = out.shape[0] // 2
            for f in frames:
                out[half + f] = float("nan")  # the conditional half of frame f
            return (out,)
        return output

    return pipe.unet.register_forward_hook(hook)


def test_nan_latents_name_the_frames_and_step(pipe):
    handle = poison(pipe, at_call=5, frames=[1, 2])  # joint phase: calls 4.. are the 4-frame batch
    try:
        with pytest.raises(RenderNonFinite, match=r"Frames 2, 3 turned to NaN/inf at step 5 of 8 \(then frame\(s\) 1, 4\)\.") as err:
            pipe(PROMPTS[:4], num_inference_steps=6, t0=2, t1=4, generator=gen())
    finally:
        handle.remove()
    assert err.value.frames == [2, 3] and err.value.step == 4 and not err.value.fp32_helps
    assert "full precision" in str(err.value)


def test_nan_in_half_precision_offers_the_fp32_retry(components):
    p = DirecT2VPipeline(**copy.deepcopy(components)).to(torch.float16)
    p.set_progress_bar_config(disable=True)
    handle = poison(p, at_call=2, frames=[0])
    try:
        with pytest.raises(RenderNonFinite, match=r"Frame 1 turned to NaN/inf at step 2 of 8\..*dtype=torch.float32") as err:
            p(PROMPTS[:3], num_inference_steps=6, t0=2, t1=4, generator=gen(), output_type="latent")
    finally:
        handle.remove()
    assert err.value.fp32_helps


def test_fp16_vae_overflow_is_decoded_again_in_fp32(components):
    vae = copy.deepcopy(components["vae"])
    with torch.no_grad():  # activations beyond fp16's range (65504) right after the first conv
        vae.decoder.conv_in.weight.mul_(1e5)
        vae.decoder.conv_in.bias.mul_(1e5)
    p = DirecT2VPipeline(**{**components, "vae": vae})
    latents = torch.randn(3, 4, 8, 8, generator=gen())
    expected = p.decode_latents(latents)
    vae.half()
    with torch.no_grad():
        assert not torch.isfinite(vae.decode(latents.half() / vae.config.scaling_factor).sample).all()
        got = p.decode_latents(latents)
    assert vae.dtype == torch.float16  # put back after the fp32 retry
    assert torch.isfinite(got).all() and (got - expected).abs().max() < 1e-2
