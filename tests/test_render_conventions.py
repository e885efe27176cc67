"""diffusers' pipeline conventions on DirecT2VPipeline: guidance read at every step, the progress
bar, callback objects and their tensor inputs, prompt embeddings in and out."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from diffusers.callbacks import MultiPipelineCallbacks, PipelineCallback, SDCFGCutoffCallback

from direct2v.render.errors import PromptError
from direct2v.render.pipeline import DirecT2VPipeline
from direct2v.settings import SettingsError
from conftest import gen

FAST = dict(num_inference_steps=6, t0=2, t1=4)
PROMPTS = ["a red cat on grass", "a blue dog in snow", "a green bird at sea"]


def unet_batches(pipe, **kwargs) -> list[int]:
    sizes = []
    handle = pipe.unet.register_forward_pre_hook(lambda m, args: sizes.append(args[0].shape[0]))
    try:
        pipe(PROMPTS, generator=gen(), **FAST, **kwargs)
    finally:
        handle.remove()
    return sizes


# --------------------------------------------------------------------------- guidance
def test_callback_cfg_from_diffusers(pipe):
    """diffusers' PipelineTesterMixin.test_callback_cfg: a callback raising `_guidance_scale` by one
    per step ends at guidance_scale + num_timesteps."""
    def callback_increase_guidance(p, i, t, callback_kwargs):
        p._guidance_scale += 1.0
        return callback_kwargs

    pipe(PROMPTS, generator=gen(), guidance_scale=2.0, callback_on_step_end=callback_increase_guidance,
         callback_on_step_end_tensor_inputs=pipe._callback_tensor_inputs, output_type="latent", **FAST)
    assert pipe.guidance_scale == 2.0 + pipe.num_timesteps
    assert pipe.num_timesteps == (6 - 4 - 1) + (4 - 2) + (4 + 1)  # frame 1 to T[-t1-1], on to T[-t0-1], joint


def test_guidance_changed_by_a_callback_is_used_by_the_next_step(pipe):
    """Guidance set to 1 + 1e-6 mid-render (CFG still on, eps ~ cond) must match guidance set to
    1 (CFG off, eps = cond): only true if every step reads the current value."""
    def set_to(value, at=3):
        def cb(p, i, t, kw):
            if i == at:
                p._guidance_scale = value
            return kw
        return cb

    off = pipe(PROMPTS, generator=gen(), callback_on_step_end=set_to(1.0), **FAST).frames
    almost = pipe(PROMPTS, generator=gen(), callback_on_step_end=set_to(1.0 + 1e-6), **FAST).frames
    full = pipe(PROMPTS, generator=gen(), **FAST).frames
    assert np.abs(off - almost).max() < 1e-4
    assert np.abs(off - full).max() > 1e-3


def test_cfg_cutoff_callback_halves_the_batch_and_keeps_each_frames_prompt(pipe):
    attn2 = pipe.unet.up_blocks[3].attentions[0].transformer_blocks[0].attn2
    seen = []
    handle = attn2.register_forward_pre_hook(lambda m, a, kw: seen.append(kw["encoder_hidden_states"].clone()), with_kwargs=True)
    try:
        sizes = unet_batches(pipe, callback_on_step_end=SDCFGCutoffCallback(cutoff_step_ratio=None, cutoff_step_index=4))
    finally:
        handle.remove()
    n = len(PROMPTS)
    # Steps 0..4 with CFG (frame 1 alone for 3 steps, then the joint batch), then conditional only.
    assert sizes == [2] * 3 + [2 * n] * 2 + [n] * 3
    assert pipe.guidance_scale == 0.0 and not pipe.do_classifier_free_guidance
    cond, _ = pipe.encode_prompt(PROMPTS, "cpu", False)
    assert all(torch.equal(e, cond) for e in seen[-3:])  # frame j still sees prompt j


def test_cfg_cutoff_at_the_last_step_changes_nothing(pipe):
    plain = pipe(PROMPTS, generator=gen(), **FAST).frames
    last = pipe(PROMPTS, generator=gen(), callback_on_step_end=SDCFGCutoffCallback(cutoff_step_ratio=None, cutoff_step_index=7), **FAST).frames
    ratio = pipe(PROMPTS, generator=gen(), callback_on_step_end=SDCFGCutoffCallback(cutoff_step_ratio=0.5), **FAST).frames
    assert np.array_equal(plain, last)
    assert np.abs(plain - ratio).max() > 1e-3


def test_guidance_turned_on_mid_render_uses_the_negative_prompt(pipe):
    def on(p, i, t, kw):
        if i == 4:
            p._guidance_scale = 5.0
        return kw

    attn2 = pipe.unet.up_blocks[3].attentions[0].transformer_blocks[0].attn2
    seen = []
    handle = attn2.register_forward_pre_hook(lambda m, a, kw: seen.append(kw["encoder_hidden_states"].clone()), with_kwargs=True)
    try:
        sizes = unet_batches(pipe, guidance_scale=1.0, negative_prompt="blurry", callback_on_step_end=on)
    finally:
        handle.remove()
    n = len(PROMPTS)
    assert sizes == [1] * 3 + [n] * 2 + [2 * n] * 3
    cond, neg = pipe.encode_prompt(PROMPTS, "cpu", True, "blurry")
    assert torch.equal(seen[-1], torch.cat([neg.expand(n, -1, -1), cond]))


# --------------------------------------------------------------------------- callbacks
class RecordInputs(PipelineCallback):
    tensor_inputs = ["negative_prompt_embeds"]

    def callback_fn(self, pipeline, step_index, timestep, callback_kwargs):
        self.seen = getattr(self, "seen", []) + [sorted(callback_kwargs)]
        return callback_kwargs


def test_callback_objects_get_the_tensors_they_name(pipe):
    record = RecordInputs(cutoff_step_ratio=1.0)
    both = MultiPipelineCallbacks([record, SDCFGCutoffCallback(cutoff_step_ratio=None, cutoff_step_index=4)])
    assert both.tensor_inputs == ["negative_prompt_embeds", "prompt_embeds"]
    sizes = unet_batches(pipe, callback_on_step_end=both)
    assert record.seen == [["negative_prompt_embeds", "prompt_embeds"]] * pipe.num_timesteps  # what they named, nothing else
    assert sizes[-1] == len(PROMPTS)


def test_callback_sees_whole_video_embeddings_and_can_replace_them(pipe):
    shapes = []

    def swap(p, i, t, kw):
        shapes.append(tuple(kw["prompt_embeds"].shape))
        if i == 0:
            kw["prompt_embeds"] = kw["prompt_embeds"][:, [0, 2, 1]]
        return kw

    swapped = pipe(PROMPTS, generator=gen(), callback_on_step_end=swap,
                   callback_on_step_end_tensor_inputs=["prompt_embeds"], **FAST).frames
    reordered = pipe([PROMPTS[0], PROMPTS[2], PROMPTS[1]], generator=gen(), **FAST).frames
    assert set(shapes) == {(2, 3, 77, 32)}
    # Frame 1 ran its first step on prompt 1 in both; from step 1 on they see the same prompts.
    assert np.abs(swapped - reordered).max() < 1e-5


def test_unknown_callback_tensor_is_refused(pipe):
    with pytest.raises(SettingsError, match="may only name"):
        pipe(PROMPTS, generator=gen(), callback_on_step_end=lambda *a: {}, callback_on_step_end_tensor_inputs=["noise"], **FAST)


# --------------------------------------------------------------------------- progress bar
def test_set_progress_bar_config_reaches_the_loop(components):
    p = DirecT2VPipeline(**components)
    buf = io.StringIO()
    p.set_progress_bar_config(file=buf, disable=False, ascii=True)
    p(PROMPTS, generator=gen(), output_type="latent", **FAST)
    total = p.num_timesteps
    assert f"{total}/{total}" in buf.getvalue()
    buf.truncate(0)
    buf.seek(0)
    p.set_progress_bar_config(file=buf, disable=True)
    p(PROMPTS, generator=gen(), output_type="latent", **FAST)
    assert buf.getvalue() == ""


# --------------------------------------------------------------------------- prompt embeddings
def test_prompt_embeds_reproduce_the_prompts(pipe):
    cond, neg = pipe.encode_prompt(PROMPTS, "cpu", True, "blurry")
    a = pipe(PROMPTS, negative_prompt="blurry", generator=gen(), **FAST).frames
    b = pipe(prompt_embeds=cond, negative_prompt_embeds=neg, generator=gen(), **FAST).frames
    per_frame_neg = pipe(prompt_embeds=cond, negative_prompt_embeds=neg.expand(3, -1, -1), generator=gen(), **FAST).frames
    assert np.array_equal(a, b) and np.abs(a - per_frame_neg).max() < 1e-6
    one = pipe(prompt_embeds=cond[:1], video_length=3, generator=gen(), **FAST).frames
    same = pipe(PROMPTS[0], video_length=3, generator=gen(), **FAST).frames
    assert np.array_equal(one, same)


def test_encode_prompt_works_in_isolation(components):
    """diffusers' test_encode_prompt_works_in_isolation: embeddings from a text-encoder-only
    pipeline drive a pipeline that has no text encoder to the same frames."""
    text_only = DirecT2VPipeline(**{k: (v if k in ("text_encoder", "tokenizer") else None) for k, v in components.items()})
    cond, neg = text_only.encode_prompt(PROMPTS, "cpu", True, "blurry")
    no_text = DirecT2VPipeline(**{k: (None if k in ("text_encoder", "tokenizer") else v) for k, v in components.items()})
    no_text.set_progress_bar_config(disable=True)
    full = DirecT2VPipeline(**components)
    full.set_progress_bar_config(disable=True)
    a = no_text(prompt_embeds=cond, negative_prompt_embeds=neg, generator=gen(), **FAST).frames
    b = full(PROMPTS, negative_prompt="blurry", generator=gen(), **FAST).frames
    assert np.abs(a - b).max() < 1e-4


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        (dict(prompt=PROMPTS, prompt_embeds=torch.zeros(3, 77, 32)), SettingsError, "either prompt or prompt_embeds"),
        (dict(prompt_embeds=torch.zeros(77, 32)), SettingsError, r"must be \(frames, tokens, dim\)"),
        (dict(prompt_embeds=torch.zeros(3, 77, 32), video_length=2), PromptError, "prompt_embeds holds 3 frames"),
        (dict(prompt_embeds=torch.zeros(3, 77, 32), negative_prompt_embeds=torch.zeros(2, 77, 32)), SettingsError,
         r"negative_prompt_embeds must be \(1 or 3, 77, 32\)"),
        (dict(), PromptError, "No frame prompts"),
    ],
)
def test_bad_embeddings_get_clear_errors(pipe, kwargs, error, text):
    with pytest.raises(error, match=text):
        pipe(generator=gen(), **FAST, **kwargs)


# --------------------------------------------------------------------------- attention processors
def mapped_layers(pipe) -> list[str]:
    return [n for n in pipe.unet.attn_processors if n.startswith(("up_blocks.2.", "up_blocks.3.")) and "attn1" in n]


def test_attention_slicing_renders_the_same_frames(components):
    """`enable_attention_slicing()` (old small-GPU tutorials start with it): the joint phase maps
    values in slices, the single-frame phase runs the layers' SlicedAttnProcessor."""
    from diffusers.models.attention_processor import SlicedAttnProcessor

    plain = DirecT2VPipeline(**components)
    plain.set_progress_bar_config(disable=True)
    expected = plain(PROMPTS, generator=gen(), dsf_quantile=0.0, **FAST).frames
    plain.enable_attention_slicing(1)
    sliced = plain(PROMPTS, generator=gen(), dsf_quantile=0.0, **FAST).frames
    assert np.abs(sliced - expected).max() < 1e-5
    assert all(isinstance(p, SlicedAttnProcessor) for p in plain.unet.attn_processors.values())
    plain.disable_attention_slicing()


def test_the_layers_own_processor_runs_outside_the_joint_phase(pipe):
    """A processor set by the user after earlier renders is what the single-frame phase calls, with
    diffusers' own keywords; the joint phase maps values instead; afterwards it is back in place."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    class Recording(AttnProcessor2_0):
        def __init__(self):
            super().__init__()
            self.phases = []

        def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None):
            self.phases.append(pipe.phase)
            return super().__call__(attn, hidden_states, encoder_hidden_states, attention_mask)

    pipe(PROMPTS, generator=gen(), **FAST)  # processors of an earlier render exist
    own = dict(pipe.unet.attn_processors)
    mine = {n: Recording() for n in mapped_layers(pipe)}
    pipe.unet.set_attn_processor({**own, **mine})
    try:
        pipe(PROMPTS, generator=gen(), **FAST)
        assert all(set(r.phases) == {"first frame"} for r in mine.values())
        assert all(len(r.phases) == (6 - 4 - 1) + (4 - 2) for r in mine.values())  # one call per single-frame step
        assert all(pipe.unet.attn_processors[n] is r for n, r in mine.items())
    finally:
        pipe.unet.set_attn_processor(own)


def test_a_processor_built_without_arguments_is_plain_attention(pipe):
    """diffusers' load_ip_adapter/unload_ip_adapter rebuild self-attention processors as `type(p)()`:
    such a value-mapping processor is the layer's plain attention, and the next render binds the
    layer again and leaves AttnProcessor2_0 behind."""
    from diffusers.models.attention_processor import AttnProcessor2_0

    from direct2v.render.attention import ValueMappingProcessor

    expected = pipe(PROMPTS, generator=gen(), **FAST).frames
    own = dict(pipe.unet.attn_processors)
    pipe.unet.set_attn_processor({n: ValueMappingProcessor() if n in mapped_layers(pipe) else p for n, p in own.items()})
    try:
        x = torch.randn(1, 4, 8, 8, generator=gen())
        ctx = torch.randn(1, 77, 32, generator=gen(1))
        rebuilt = pipe.unet(x, 10, encoder_hidden_states=ctx).sample
        pipe.unet.set_attn_processor(dict(own))  # diffusers empties the dict it is given
        assert torch.equal(rebuilt, pipe.unet(x, 10, encoder_hidden_states=ctx).sample)
        pipe.unet.set_attn_processor({n: ValueMappingProcessor() if n in mapped_layers(pipe) else p for n, p in own.items()})
        again = pipe(PROMPTS, generator=gen(), **FAST).frames
        assert np.abs(again - expected).max() < 1e-6
        assert all(type(pipe.unet.attn_processors[n]) is AttnProcessor2_0 for n in mapped_layers(pipe))
    finally:
        pipe.unet.set_attn_processor(dict(own))  # diffusers empties the dict it is given


@pytest.mark.parametrize("direction", ["direct2v_from_sd", "sd_from_direct2v"])
def test_from_pipe_leaves_the_other_pipelines_processors_alone(components, direction):
    from diffusers import StableDiffusionPipeline

    sd_parts = {k: v for k, v in components.items() if k in ("vae", "text_encoder", "tokenizer", "unet", "scheduler")}
    if direction == "direct2v_from_sd":
        first = StableDiffusionPipeline(**sd_parts, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
        second = DirecT2VPipeline.from_pipe(first)
    else:
        first = DirecT2VPipeline(**components)
        second = StableDiffusionPipeline.from_pipe(first)
    for p in (first, second):
        p.set_progress_bar_config(disable=True)
    own = dict(first.unet.attn_processors)
    call = dict(num_inference_steps=FAST["num_inference_steps"], output_type="np")
    d2v, sd = (second, first) if direction == "direct2v_from_sd" else (first, second)
    before = sd(PROMPTS[0], generator=gen(), **call).images
    d2v(PROMPTS, generator=gen(), **FAST)
    assert second.unet is first.unet and all(first.unet.attn_processors[n] is p for n, p in own.items())
    assert np.array_equal(sd(PROMPTS[0], generator=gen(), **call).images, before)


@pytest.mark.parametrize("sdxl", [False, True], ids=["sd", "sdxl"])
def test_from_pipe_there_and_back_keeps_the_original_config(sdxl):
    """As diffusers' test_from_pipe_consistent_config checks it: SD (or SDXL) -> DirecT2V -> back
    has the original's config, its non-default values included."""
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    from direct2v.render.loading import tiny_components, tiny_sdxl_components
    from direct2v.render.sdxl import DirecT2VSDXLPipeline

    if sdxl:
        original = StableDiffusionXLPipeline(**tiny_sdxl_components(), force_zeros_for_empty_prompt=False)
        ours = DirecT2VSDXLPipeline.from_pipe(original)
    else:
        original = StableDiffusionPipeline(**tiny_components(), safety_checker=None, feature_extractor=None, requires_safety_checker=False)
        ours = DirecT2VPipeline.from_pipe(original)
    back = type(original).from_pipe(ours)
    config = {k: v for k, v in original.config.items() if not k.startswith("_")}
    assert {k: v for k, v in back.config.items() if not k.startswith("_")} == config


# --------------------------------------------------------------------------- settings
def test_a_settings_object_and_keywords_meet_in_one_gate(pipe, monkeypatch):
    """`settings=` or diffusers' keywords (a keyword given wins over the object's field): one
    validated RenderSettings, checked once per call by `check_inputs`."""
    from direct2v.settings import RenderSettings

    s = RenderSettings(width=64, height=64, value_mapping="first", guidance_scale=5.0, **FAST)
    calls = []
    real = pipe.check_inputs
    monkeypatch.setattr(pipe, "check_inputs", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    a = pipe(PROMPTS, generator=gen(), settings=s).frames
    b = pipe(PROMPTS, generator=gen(), value_mapping="first", guidance_scale=5.0, **FAST).frames
    c = pipe(PROMPTS, generator=gen(), settings=s.replace(value_mapping="rotational"), value_mapping="first").frames
    assert np.array_equal(a, b) and np.array_equal(a, c)
    assert len(calls) == 3 and all(isinstance(x, RenderSettings) and x.value_mapping == "first" for x in calls)
    with pytest.raises(SettingsError, match="image strength must be between 0.0 and 1.0"):
        pipe(PROMPTS, settings=s.replace(image_strength=2.0))


def test_one_row_of_embeddings_is_every_frames_like_a_str_prompt(pipe):
    cond, neg = pipe.encode_prompt(PROMPTS[0], "cpu", True)
    a = pipe(prompt_embeds=cond, negative_prompt_embeds=neg, generator=gen(), output_type="latent", **FAST).frames
    b = pipe(PROMPTS[0], generator=gen(), output_type="latent", **FAST).frames
    assert a.shape[0] == 8 and torch.equal(a, b)
