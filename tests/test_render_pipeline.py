"""DirecT2VPipeline on tiny random components (diffusers' dummy-components pattern)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from direct2v.render.attention import ValueMappingController, random_draws
from direct2v.render.errors import PromptError, RenderCancelled
from direct2v.render.pipeline import DirecT2VPipeline, make_scheduler
from direct2v.render.schedulers import SCHEDULERS
from direct2v.settings import SettingsError
from conftest import gen

FAST = dict(num_inference_steps=8, t0=3, t1=5, guidance_scale=7.5)
PROMPTS = ["a red cat on grass", "a blue dog in snow", "a green bird at sea", "a yellow fox in a forest"]


def run(pipe, prompts=PROMPTS, seed=0, **kw):
    args = dict(FAST)
    args.update(kw)
    return pipe(prompts, generator=gen(seed), **args).frames


# --------------------------------------------------------------------------- anchor to diffusers
@pytest.mark.parametrize("motion", [0.0, 64.0])
def test_first_frame_mode_equals_diffusers_text2video_zero(components, pipe, motion):
    from diffusers import TextToVideoZeroPipeline

    ref = TextToVideoZeroPipeline(**components, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    ref.set_progress_bar_config(disable=True)
    kw = dict(FAST, motion_field_strength_x=motion, motion_field_strength_y=motion)
    expected = ref("a red cat on grass", video_length=4, generator=gen(3), **kw).images
    ours = pipe(["a red cat on grass"] * 4, value_mapping="first", attention_blocks="all", dsf_quantile=0.0,
                generator=gen(3), **kw).frames
    assert ours.shape == expected.shape == (4, 64, 64, 3)
    assert np.abs(ours - expected).max() < 1e-4
    if motion:  # the warp must have done something, else the motion case proves nothing
        still = pipe(["a red cat on grass"] * 4, value_mapping="first", attention_blocks="all", generator=gen(3), **FAST).frames
        assert np.abs(still[1:] - ours[1:]).max() > 1e-3


def test_none_mode_first_frame_equals_plain_stable_diffusion(components, pipe):
    """Frame 1 with no value mapping is a plain T2I sample: StableDiffusionPipeline, same seed."""
    from diffusers import StableDiffusionPipeline

    sd = StableDiffusionPipeline(**components, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    sd.set_progress_bar_config(disable=True)
    image = sd(PROMPTS[0], num_inference_steps=8, guidance_scale=7.5, generator=gen(5), output_type="np").images[0]
    ours = run(pipe, seed=5, value_mapping="none")
    assert np.abs(ours[0] - image).max() < 1e-4


# --------------------------------------------------------------------------- equivalences
def test_rotational_with_long_period_equals_first(pipe):
    joint_steps = FAST["t1"] + 1
    a = run(pipe, value_mapping="rotational", rvm_period=joint_steps)
    b = run(pipe, value_mapping="first")
    c = run(pipe, value_mapping="rotational", rvm_period=1)
    assert np.abs(a - b).max() < 1e-6
    assert np.abs(c - b).max() > 1e-4  # a short period really rotates


def test_dsf_one_equals_none_and_zero_equals_plain_value_mapping(pipe):
    none = run(pipe, value_mapping="none")
    p1 = run(pipe, value_mapping="rotational", rvm_period=1, dsf_quantile=1.0)
    p0 = run(pipe, value_mapping="rotational", rvm_period=1, dsf_quantile=0.0)
    vm = run(pipe, value_mapping="rotational", rvm_period=1)
    mid = run(pipe, value_mapping="rotational", rvm_period=1, dsf_quantile=0.5)
    assert np.abs(p1 - none).max() < 1e-6
    assert np.abs(p0 - vm).max() == 0.0
    assert np.abs(mid - vm).max() > 1e-5 and np.abs(mid - none).max() > 1e-5


def test_modes_differ_from_each_other(pipe):
    outs = {m: run(pipe, value_mapping=m, rvm_period=1) for m in ("rotational", "first", "random", "sparse_causal", "none")}
    names = list(outs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(outs[a] - outs[b]).max() > 1e-5, (a, b)


# --------------------------------------------------------------------------- reference sequence
@pytest.mark.parametrize("tau", [1, 2, 3])
def test_rvm_reference_sequence(pipe, tau):
    n = len(PROMPTS)
    ctl = ValueMappingController(mode="rotational", rvm_period=tau, trace=[])
    run(pipe, value_mapping="rotational", rvm_period=tau, controller=ctl)
    layers = {name for name, _, _ in ctl.trace}
    assert layers and all(name.startswith(("up_blocks.2.", "up_blocks.3.")) and name.endswith("attn1") for name in layers)
    steps = sorted({s for _, s, _ in ctl.trace})
    assert steps == list(range(FAST["t1"] + 1))
    for name, step, refs in ctl.trace:
        expected = (step // tau) % n
        assert refs == tuple((expected,) for _ in range(n)), (name, step, refs)


def test_random_and_sparse_causal_references(pipe):
    ctl = ValueMappingController(mode="random", random_draws=random_draws(7, FAST["t1"] + 1), trace=[])
    run(pipe, value_mapping="random", controller=ctl)
    per_step = {s: refs for _, s, refs in ctl.trace}
    draws = random_draws(7, FAST["t1"] + 1)
    assert all(refs == tuple((int(draws[s] * 4),) for _ in range(4)) for s, refs in per_step.items())
    ctl = ValueMappingController(mode="sparse_causal", trace=[])
    run(pipe, value_mapping="sparse_causal", controller=ctl)
    assert {refs for _, _, refs in ctl.trace} == {((0, 0), (0, 0), (0, 1), (0, 2))}


def test_all_blocks_cover_every_self_attention_layer_and_never_cross_attention(pipe):
    ctl = ValueMappingController(mode="first", trace=[])
    run(pipe, value_mapping="first", attention_blocks="all", controller=ctl)
    traced = {name for name, _, _ in ctl.trace}
    expected = {n.removesuffix(".processor") for n in pipe.unet.attn_processors if n.endswith("attn1.processor")}
    assert traced == expected
    assert not any(n.endswith("attn2") for n in traced)


# --------------------------------------------------------------------------- prompts reach frames
def test_frame_prompts_reach_their_frames_cross_attention(pipe):
    """Record what the cross-attention of one layer receives in the joint phase; swapping two
    prompts swaps the conditioning of those two frames."""
    attn2 = pipe.unet.up_blocks[3].attentions[0].transformer_blocks[0].attn2
    seen = []

    def hook(module, args, kwargs):
        seen.append(kwargs["encoder_hidden_states"].detach().clone())

    handle = attn2.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        run(pipe, PROMPTS)
        joint_a = seen[-1]
        seen.clear()
        swapped = [PROMPTS[0], PROMPTS[2], PROMPTS[1], PROMPTS[3]]
        run(pipe, swapped)
        joint_b = seen[-1]
    finally:
        handle.remove()
    cond, uncond = pipe.encode_prompt(PROMPTS, "cpu", True, None)
    n = len(PROMPTS)
    assert joint_a.shape[0] == 2 * n
    assert torch.allclose(joint_a[n:], cond) and torch.allclose(joint_a[:n], uncond.expand(n, -1, -1))
    assert torch.allclose(joint_b[n + 1], joint_a[n + 2]) and torch.allclose(joint_b[n + 2], joint_a[n + 1])
    assert torch.allclose(joint_b[n + 0], joint_a[n + 0]) and not torch.allclose(joint_a[n + 1], joint_a[n + 2])


def test_first_frame_phase_uses_first_prompt(pipe):
    """Before the joint phase, the CFG pair is (negative, prompt 1), not two negatives."""
    attn2 = pipe.unet.up_blocks[3].attentions[0].transformer_blocks[0].attn2
    seen = []
    handle = attn2.register_forward_pre_hook(lambda m, a, kw: seen.append(kw["encoder_hidden_states"].clone()), with_kwargs=True)
    try:
        run(pipe, PROMPTS, negative_prompt="blurry")
    finally:
        handle.remove()
    cond, uncond = pipe.encode_prompt(PROMPTS, "cpu", True, "blurry")
    first = seen[0]
    assert first.shape[0] == 2
    assert torch.allclose(first[0], uncond[0]) and torch.allclose(first[1], cond[0])


# --------------------------------------------------------------------------- schedulers
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_schedulers_render_and_keep_frames_independent_without_mapping(components, name):
    p = DirecT2VPipeline(**{**components, "scheduler": make_scheduler(name, components["scheduler"].config)})
    p.set_progress_bar_config(disable=True)
    calls = []
    out = p(PROMPTS[:3], generator=gen(1), value_mapping="none",
            callback_on_step_end=lambda pp, i, t, kw: calls.append(int(t)) or {}, **FAST).frames
    assert np.isfinite(out).all() and out.shape == (3, 64, 64, 3)
    assert len(calls) == p.num_timesteps
    if name == "lcm":
        return  # LCM draws fresh noise for the whole batch at every step: frame 1's draw depends on it
    # Frame 1 must not depend on how many frames share the joint batch.
    single = p(PROMPTS[:1], generator=gen(1), value_mapping="none", **FAST).frames
    assert np.abs(single[0] - out[0]).max() < 1e-5


def test_joint_scheduler_resets_multistep_history(components):
    for name, check in (
        ("pndm", lambda s: s.ets == [] and s.counter == 0 and s.cur_sample is None),
        ("dpm", lambda s: all(m is None for m in s.model_outputs) and s.lower_order_nums == 0),
    ):
        p = DirecT2VPipeline(**{**components, "scheduler": make_scheduler(name, components["scheduler"].config)})
        p.scheduler.set_timesteps(8)
        ts = p.scheduler.timesteps
        x = torch.randn(1, 4, 8, 8)
        for t in ts[:3]:  # build up some single-frame history
            x = p.scheduler.step(torch.randn_like(x), t, x).prev_sample
        sched, joint_ts = p.joint_scheduler(p.scheduler, ts[-6:])
        assert check(sched)
        if name == "pndm":  # PLMS warm-up repeats the second timestep
            assert joint_ts.tolist() == [ts[-6].item(), ts[-5].item()] + ts[-5:].tolist()
        else:
            assert joint_ts.tolist() == ts[-6:].tolist()


# --------------------------------------------------------------------------- callbacks, cancel, restore
def test_callback_can_replace_latents_and_sees_every_step(pipe):
    seen = []

    def cb(p, i, t, kw):
        seen.append((i, kw["latents"].shape[0], p.phase))
        return {"latents": kw["latents"] * 0} if i == p.num_timesteps - 1 else {}

    out = pipe(PROMPTS[:2], generator=gen(0), callback_on_step_end=cb, output_type="latent", **FAST).frames
    assert [i for i, _, _ in seen] == list(range(pipe.num_timesteps))
    assert pipe.num_timesteps == 8 + (5 - 3)  # all steps of frame 1 + t1-t0 extra + ... joint steps
    assert {n for _, n, ph in seen if ph == "first frame"} == {1}
    assert {n for _, n, ph in seen if ph == "joint"} == {2}
    assert torch.count_nonzero(out) == 0


def test_cancel_stops_within_a_step_leaves_processors_idle_and_pipeline_is_reusable(pipe):
    reference = run(pipe)
    installed = dict(pipe.unet.attn_processors)
    steps = []

    def cb(p, i, t, kw):
        steps.append(i)
        if i == 4:
            p._interrupt = True
        return {}

    with pytest.raises(RenderCancelled):
        run(pipe, callback_on_step_end=cb)
    assert steps == [0, 1, 2, 3, 4]
    # The layers have their own processors back (the same objects) and the controller is idle.
    assert all(pipe.unet.attn_processors[n] is p for n, p in installed.items())
    ctl = pipe.value_mapping_controller
    assert not ctl.active and ctl.step is None and ctl.anchors is None and ctl.record is None
    again = run(pipe)
    assert np.abs(again - reference).max() == 0.0


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        (dict(prompt=PROMPTS, video_length=3), PromptError, "video_length is 3"),
        (dict(prompt=["a cat", "  "]), PromptError, "Frame 2 is empty"),
        (dict(prompt=[]), PromptError, "The frame table is empty"),
        (dict(t0=5, t1=5), SettingsError, "t0 must be smaller than t1"),
        (dict(t0=3, t1=8), SettingsError, "lower t1 or raise Steps"),
        (dict(height=68), SettingsError, "multiple of 8"),
        (dict(value_mapping="diagonal"), SettingsError, "Unknown value mapping 'diagonal'"),
        (dict(attention_blocks=("up_blocks.9",)), ValueError, "No self-attention layers under 'up_blocks.9'"),
        (dict(rvm_period=0), SettingsError, "tau"),
        (dict(dsf_quantile=1.5), SettingsError, "DSF quantile p must be between"),
        (dict(dsf_quantile=-0.1), SettingsError, "DSF quantile p must be between"),
        (dict(output_type="gif"), SettingsError, "output_type"),
    ],
)
def test_bad_input_gets_clear_errors(pipe, kwargs, error, text):
    args = dict(FAST, prompt=PROMPTS[:2])
    args.update(kwargs)
    with pytest.raises(error, match=text):
        pipe(generator=gen(0), **args)


def test_string_prompt_means_same_prompt_for_every_frame(pipe):
    a = pipe("a red cat on grass", video_length=3, generator=gen(0), **FAST).frames
    b = run(pipe, ["a red cat on grass"] * 3)
    assert a.shape[0] == 3 and np.abs(a - b).max() == 0.0


def test_sigma_scaled_schedulers_are_refused(components):
    from diffusers import EulerDiscreteScheduler

    from direct2v.settings import SettingsError

    euler = EulerDiscreteScheduler.from_config(components["scheduler"].config)
    p = DirecT2VPipeline(**{**components, "scheduler": euler})
    with pytest.raises(SettingsError, match="EulerDiscreteScheduler works on sigma-scaled latents"):
        p(PROMPTS[:2], generator=gen(1), **FAST)


def test_the_largest_step_count_is_refused_with_a_message_where_the_scheduler_cannot_take_it():
    """Stable Diffusion 1.x's DDIM config ("leading", steps_offset 1) asks for timestep 1000 of
    0..999 at 1000 steps; that is a message now, not an IndexError in the first step."""
    from diffusers import DDIMScheduler

    from direct2v.render.schedulers import check_timesteps
    from direct2v.settings import MAX_STEPS, SettingsError

    leading = DDIMScheduler(steps_offset=1, timestep_spacing="leading")
    leading.set_timesteps(MAX_STEPS)
    with pytest.raises(SettingsError, match="takes at most 999 steps"):
        check_timesteps(leading, MAX_STEPS)
    leading.set_timesteps(MAX_STEPS - 1)
    check_timesteps(leading, MAX_STEPS - 1)
    trailing = DDIMScheduler(steps_offset=1, timestep_spacing="trailing")
    trailing.set_timesteps(MAX_STEPS)
    check_timesteps(trailing, MAX_STEPS)  # this one renders 1000 steps
