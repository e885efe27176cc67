"""DirecT2VSDXLPipeline on tiny random SDXL components, held to diffusers' SDXL pipelines."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from direct2v.render.attention import ValueMappingController
from direct2v.render.errors import PromptError
from direct2v.render.family import SD, SDXL, model_family
from direct2v.render.loading import load_pipeline, tiny_components, tiny_sdxl_components
from direct2v.render.pipeline import DirecT2VPipeline
from direct2v.render.sdxl import SDXL_DEFAULT_BLOCKS, DirecT2VSDXLPipeline
from conftest import gen

FAST = dict(num_inference_steps=4, t0=1, t1=2, guidance_scale=7.5, height=64, width=64)
JOINT_STEPS = FAST["t1"] + 1
PROMPTS = ["a red cat on grass", "a blue dog in snow", "a green bird at sea"]


@pytest.fixture(scope="module")
def components():
    return tiny_sdxl_components()


def run(pipe, prompts=PROMPTS, seed=0, **kw):
    return pipe(prompts, generator=gen(seed), **dict(FAST, **kw)).frames


# --------------------------------------------------------------------------- anchors to diffusers
@pytest.mark.parametrize("motion", [0.0, 64.0])
def test_first_mode_on_all_layers_equals_diffusers_text2video_zero_sdxl(components, pipe, motion):
    from diffusers import TextToVideoZeroSDXLPipeline

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reference pipeline is deprecated in diffusers
        ref = TextToVideoZeroSDXLPipeline(**components, add_watermarker=False)
    ref.set_progress_bar_config(disable=True)
    # Non-default micro-conditioning in the motion case, so the size/crop ids are held to diffusers too.
    sizes = dict(original_size=(96, 128), crops_coords_top_left=(4, 8), target_size=(64, 64)) if motion else {}
    kw = dict(FAST, motion_field_strength_x=motion, motion_field_strength_y=motion, **sizes)
    expected = ref(PROMPTS[0], video_length=3, generator=gen(3), output_type="np", **kw).images

    seen = []
    hook = pipe.unet.register_forward_pre_hook(
        lambda m, a, k: seen.append(k["added_cond_kwargs"]["time_ids"].clone()), with_kwargs=True
    )
    try:
        ours = pipe([PROMPTS[0]] * 3, value_mapping="first", attention_blocks="all", generator=gen(3), **kw).frames
    finally:
        hook.remove()
    assert ours.shape == expected.shape == (3, 64, 64, 3)
    assert np.abs(ours - expected).max() < 1e-5
    ids = [96, 128, 4, 8, 64, 64] if motion else [64, 64, 0, 0, 64, 64]
    assert seen and all(t.tolist() == [ids] * t.shape[0] for t in seen)
    assert np.abs(ours[1:] - ours[:1]).max() > 1e-3  # frames differ: the comparison is not trivial


def test_none_mode_frame_one_equals_plain_sdxl(components, pipe):
    """Frame 1 without value mapping is an SDXL text-to-image sample: StableDiffusionXLPipeline, same seed."""
    from diffusers import StableDiffusionXLPipeline

    sdxl = StableDiffusionXLPipeline(**components, add_watermarker=False)
    sdxl.set_progress_bar_config(disable=True)
    image = sdxl(PROMPTS[0], num_inference_steps=4, guidance_scale=7.5, height=64, width=64, generator=gen(5),
                 output_type="np").images[0]
    ours = run(pipe, seed=5, value_mapping="none")
    assert np.abs(ours[0] - image).max() < 1e-5


def test_encode_prompt_equals_diffusers_sdxl_encode_prompt(components, pipe):
    """Per-frame token and pooled embeddings from both encoders, prompt_2 and negative_prompt_2 as diffusers reads them."""
    from diffusers import StableDiffusionXLPipeline

    sdxl = StableDiffusionXLPipeline(**components, add_watermarker=False)
    tokens, neg_tokens, pooled_all, neg_pooled = pipe.encode_prompt(
        PROMPTS, prompt_2=["x", "y", "x"], device="cpu", negative_prompt="blur", negative_prompt_2="dark"
    )
    assert tokens.shape == (3, 77, 64) and pooled_all.shape == (3, 32)
    for j, (p, p2) in enumerate(zip(PROMPTS, ["x", "y", "x"])):
        e, ne, pooled, npooled = sdxl.encode_prompt(
            p, prompt_2=p2, device="cpu", negative_prompt="blur", negative_prompt_2="dark"
        )
        assert torch.allclose(tokens[j], e[0], atol=1e-6) and torch.allclose(pooled_all[j], pooled[0], atol=1e-6)
        assert torch.allclose(neg_tokens[0], ne[0], atol=1e-6) and torch.allclose(neg_pooled[0], npooled[0], atol=1e-6)
    # No negative prompt: zeros, as SDXL base asks with force_zeros_for_empty_prompt.
    _, zero, _, zero_pooled = pipe.encode_prompt(PROMPTS, device="cpu")
    assert zero.abs().max() == 0 and zero_pooled.abs().max() == 0


# --------------------------------------------------------------------------- the SD 1.5 equivalences, on SDXL
def test_none_mode_frames_are_independent(pipe):
    """Without value mapping a frame's output does not depend on the other frames' prompts."""
    a = run(pipe, value_mapping="none")
    b = run(pipe, prompts=[PROMPTS[0], "a purple whale in space", PROMPTS[2]], value_mapping="none")
    assert np.abs(a[2] - b[2]).max() < 1e-6 and np.abs(a[0] - b[0]).max() < 1e-6
    assert np.abs(a[1] - b[1]).max() > 1e-3
    vm = run(pipe, prompts=[PROMPTS[0], "a purple whale in space", PROMPTS[2]], value_mapping="rotational", rvm_period=1)
    assert np.abs(vm[2] - b[2]).max() > 1e-4  # with value mapping, frame 3 does see frame 2


def test_rotational_with_long_period_equals_first(pipe):
    a = run(pipe, value_mapping="rotational", rvm_period=JOINT_STEPS)
    b = run(pipe, value_mapping="first")
    c = run(pipe, value_mapping="rotational", rvm_period=1)
    assert np.abs(a - b).max() < 1e-6
    assert np.abs(c - b).max() > 1e-4


def test_dsf_one_equals_none_and_zero_equals_plain_value_mapping(pipe):
    none = run(pipe, value_mapping="none")
    p1 = run(pipe, value_mapping="rotational", rvm_period=1, dsf_quantile=1.0)
    p0 = run(pipe, value_mapping="rotational", rvm_period=1, dsf_quantile=0.0)
    vm = run(pipe, value_mapping="rotational", rvm_period=1)
    assert np.abs(p1 - none).max() < 1e-6
    assert np.abs(p0 - vm).max() == 0.0
    assert np.abs(vm - none).max() > 1e-4


# --------------------------------------------------------------------------- layers, long videos, inputs
def test_default_blocks_are_the_decoder_stages_with_attention(pipe):
    ctl = ValueMappingController(mode="rotational", rvm_period=1, trace=[])
    run(pipe, value_mapping="rotational", rvm_period=1, controller=ctl)
    traced = {name for name, _, _ in ctl.trace}
    expected = {
        n.removesuffix(".processor")
        for n in pipe.unet.attn_processors
        if n.startswith(tuple(b + "." for b in SDXL_DEFAULT_BLOCKS)) and n.endswith("attn1.processor")
    }
    assert SDXL_DEFAULT_BLOCKS == ("up_blocks.0", "up_blocks.1")
    assert traced == expected and len(traced) == 6  # 2 attentions x 2 layers in up_blocks.0, 2 x 1 in up_blocks.1
    assert {s for _, s, _ in ctl.trace} == set(range(JOINT_STEPS))


def test_long_video_anchor_frames_equal_a_plain_run(pipe):
    prompts = PROMPTS + ["a gray fox", "a pink owl"]
    result = pipe(prompts, generator=gen(0), **dict(FAST, frames_per_pass=4))  # passes: [0, 1] (anchors), [2, 3], [4]
    long = result.frames
    assert result.anchor_cache_bytes > 0
    anchors = run(pipe, prompts=prompts[:2])
    assert long.shape == (5, 64, 64, 3)
    assert np.abs(long[:2] - anchors).max() < 1e-5  # prompts are encoded in another batch: float noise only


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(prompt_2=["x", "y"]), "prompt_2 has 2 entries but there are 3 frames"),
        (dict(attention_blocks=("up_blocks.2",)), "No self-attention layers under 'up_blocks.2'"),
        (dict(crops_coords_top_left=(0,)), "must be pairs of numbers"),
    ],
)
def test_bad_sdxl_inputs_are_refused(pipe, kwargs, message):
    with pytest.raises((PromptError, ValueError), match=message):
        run(pipe, **kwargs)
    assert pipe._sdxl_inputs == {}


# --------------------------------------------------------------------------- automatic choice
def test_loading_picks_the_pipeline_from_the_model(tmp_path, components):
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    StableDiffusionXLPipeline(**components, add_watermarker=False).save_pretrained(tmp_path / "xl")
    StableDiffusionPipeline(**tiny_components(), safety_checker=None, feature_extractor=None,
                            requires_safety_checker=False).save_pretrained(tmp_path / "sd")
    xl = load_pipeline(str(tmp_path / "xl"), device="cpu")
    sd = load_pipeline(str(tmp_path / "sd"), device="cpu")
    assert type(xl) is DirecT2VSDXLPipeline and type(sd) is DirecT2VPipeline
    assert xl.config.force_zeros_for_empty_prompt is True
    for name in ("unet", "text_encoder_2", "tokenizer_2"):
        assert getattr(xl, name) is not None
    assert type(load_pipeline("tiny-sdxl", device="cpu")) is DirecT2VSDXLPipeline


def test_single_file_family_from_checkpoint_keys(tmp_path):
    from safetensors.torch import save_file

    def t():
        return torch.zeros(1)

    save_file({"conditioner.embedders.0.transformer.text_model.final_layer_norm.bias": t(),
               "conditioner.embedders.1.model.positional_embedding": t(),
               "model.diffusion_model.label_emb.0.0.weight": t()}, str(tmp_path / "xl.safetensors"))
    save_file({"cond_stage_model.transformer.text_model.final_layer_norm.bias": t(),
               "model.diffusion_model.output_blocks.11.0.skip_connection.weight": t()}, str(tmp_path / "sd.safetensors"))
    torch.save({"state_dict": {"model.diffusion_model.label_emb.0.0.weight": t()}}, str(tmp_path / "xl.ckpt"))
    assert model_family(str(tmp_path / "xl.safetensors")) == SDXL
    assert model_family(str(tmp_path / "xl.ckpt")) == SDXL
    assert model_family(str(tmp_path / "sd.safetensors")) == SD


def test_render_facade_maps_sdxls_default_blocks(monkeypatch):
    """The settings' default blocks ("default") reach the SDXL pipeline as its own; SD 1.5's
    up_blocks.2/3 are refused there, since SDXL's up_blocks.2 has no attention."""
    import direct2v.render.pipeline as pipeline_module
    from direct2v.render.session import render
    from direct2v.settings import RenderSettings

    installed = []
    real = pipeline_module.installed_value_mapping
    monkeypatch.setattr(pipeline_module, "installed_value_mapping",
                        lambda unet, ctl, blocks, bound: installed.append(blocks) or real(unet, ctl, blocks, bound))
    pipe = load_pipeline("tiny-sdxl", device="cpu")
    settings = RenderSettings(width=64, height=64, num_inference_steps=4, t0=1, t1=2, seed=1)
    assert settings.attention_blocks == "default"
    result = render(pipe, PROMPTS, settings)
    assert result.frames.shape == (3, 64, 64, 3)
    assert installed == [SDXL_DEFAULT_BLOCKS]
    with pytest.raises(ValueError, match="No self-attention layers under 'up_blocks.2'"):
        render(pipe, PROMPTS, settings.replace(attention_blocks=("up_blocks.2", "up_blocks.3")))


def test_fp16_vae_decodes_in_float32_and_stays_fp16(components):
    """SDXL's VAE overflows in fp16 (force_upcast): decoding runs in float32, the weights go back to fp16."""
    import copy

    pipe = DirecT2VSDXLPipeline(**dict(components, vae=copy.deepcopy(components["vae"]).half()))
    assert pipe.vae.config.force_upcast
    seen = []
    hook = pipe.vae.decoder.register_forward_pre_hook(lambda m, a: seen.append((a[0].dtype, m.conv_in.weight.dtype)))
    images = pipe.decode_latents(torch.randn(2, 4, 8, 8, generator=gen(0)))
    hook.remove()
    assert seen == [(torch.float32, torch.float32)]
    assert pipe.vae.dtype == torch.float16
    assert images.dtype == torch.float32 and images.shape == (2, 3, 64, 64) and torch.isfinite(images).all()


def test_page_calls_tiny_sdxl_what_it_is(monkeypatch):
    from direct2v.ui import render as render_tab
    from direct2v.ui import models as chooser
    from direct2v.services import runtime as rt

    monkeypatch.setattr(rt.RUNTIME, "models", rt.ModelHolder("tiny-sdxl", "cpu"))
    assert rt.RUNTIME.models.is_tiny
    assert "Model: `tiny-sdxl`" in chooser.model_notice() and "noise" in chooser.model_notice()


def test_sdxl_lora_loads_with_diffusers_loader(tmp_path):
    """An SDXL LoRA (random low-rank updates on the UNet's attention) through diffusers'
    load_lora_weights/set_adapters: weight 1 equals the adapted UNet, weight 0 the base model."""
    from diffusers.loaders import StableDiffusionXLLoraLoaderMixin
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet = tiny_sdxl_components()["unet"]
    torch.manual_seed(7)
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights=False, target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    StableDiffusionXLLoraLoaderMixin.save_lora_weights(tmp_path, unet_lora_layers=get_peft_model_state_dict(unet),
                                                       weight_name="xl.safetensors")
    pipe = DirecT2VSDXLPipeline(**tiny_sdxl_components())
    pipe.set_progress_bar_config(disable=True)
    base = run(pipe)
    pipe.load_lora_weights(str(tmp_path), weight_name="xl.safetensors", adapter_name="style")
    pipe.set_adapters(["style"], adapter_weights=[1.0])
    with_lora = run(pipe)
    reference = DirecT2VSDXLPipeline(**{**tiny_sdxl_components(), "unet": unet})
    reference.set_progress_bar_config(disable=True)
    assert np.abs(with_lora - run(reference)).max() < 1e-5
    assert np.abs(with_lora - base).max() > 1e-3
    pipe.set_adapters(["style"], adapter_weights=[0.0])
    assert np.abs(run(pipe) - base).max() < 1e-6


# --------------------------------------------------------------------------- diffusers' conventions on SDXL
def test_prompt_embeds_with_pooled_reproduce_the_prompts(pipe):
    tokens, neg_tokens, pooled, neg_pooled = pipe.encode_prompt(PROMPTS, device="cpu", negative_prompt="blur")
    a = run(pipe, negative_prompt="blur")
    b = pipe(prompt_embeds=tokens, pooled_prompt_embeds=pooled, negative_prompt_embeds=neg_tokens,
             negative_pooled_prompt_embeds=neg_pooled, generator=gen(0), **FAST).frames
    assert np.abs(a - b).max() < 1e-6
    with pytest.raises(ValueError, match="needs pooled_prompt_embeds with prompt_embeds"):
        pipe(prompt_embeds=tokens, generator=gen(0), **FAST)


def test_sdxl_cfg_cutoff_callback_halves_the_batch_and_keeps_each_frames_conditioning(pipe):
    from diffusers.callbacks import SDXLCFGCutoffCallback

    seen = []
    hook = pipe.unet.register_forward_pre_hook(
        lambda m, a, k: seen.append((a[0].shape[0], k["encoder_hidden_states"], k["added_cond_kwargs"])), with_kwargs=True
    )
    try:
        run(pipe, callback_on_step_end=SDXLCFGCutoffCallback(cutoff_step_ratio=None, cutoff_step_index=3))
    finally:
        hook.remove()
    n = len(PROMPTS)
    # Frame 1 alone for 2 steps, the joint batch for 2 with CFG, then conditional only.
    assert [s for s, _, _ in seen] == [2, 2, 2 * n, 2 * n, n]
    cond, _, pooled, _ = pipe.encode_prompt(PROMPTS, device="cpu", do_classifier_free_guidance=False)
    _, tokens, added = seen[-1]
    assert torch.equal(tokens, cond) and torch.equal(added["text_embeds"], pooled)
    assert added["time_ids"].tolist() == [[64, 64, 0, 0, 64, 64]] * n
    assert not pipe.do_classifier_free_guidance


def test_no_guidance_runs_on_the_prompts_alone(pipe):
    sizes = []
    hook = pipe.unet.register_forward_pre_hook(lambda m, a: sizes.append(a[0].shape[0]))
    try:
        plain = run(pipe, guidance_scale=1.0)
    finally:
        hook.remove()
    assert sizes == [1, 1, 3, 3, 3]
    assert np.abs(plain - run(pipe)).max() > 1e-3


def test_encode_prompt_works_in_isolation(components):
    """diffusers' test_encode_prompt_works_in_isolation on SDXL: the four tensors from a
    text-encoders-only pipeline drive a pipeline without text encoders to the same frames."""
    text = ("text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2")
    text_only = DirecT2VSDXLPipeline(**{k: (v if k in text else None) for k, v in components.items()})
    tokens, neg_tokens, pooled, neg_pooled = text_only.encode_prompt(PROMPTS, device="cpu", negative_prompt="blur")
    no_text = DirecT2VSDXLPipeline(**{k: (None if k in text else v) for k, v in components.items()})
    no_text.set_progress_bar_config(disable=True)
    a = no_text(prompt_embeds=tokens, negative_prompt_embeds=neg_tokens, pooled_prompt_embeds=pooled,
                negative_pooled_prompt_embeds=neg_pooled, generator=gen(0), **FAST).frames
    full = DirecT2VSDXLPipeline(**components)
    full.set_progress_bar_config(disable=True)
    b = full(PROMPTS, negative_prompt="blur", generator=gen(0), **FAST).frames
    assert np.abs(a - b).max() < 1e-4


def test_the_sdxl_call_states_every_argument_of_the_sd_call_then_its_own():
    """Both signatures are written out (what diffusers' users, its tests and editors read): the SDXL
    call has the SD call's arguments, names, order, defaults and annotations, then SDXL's keywords."""
    import inspect

    sd = list(inspect.signature(DirecT2VPipeline.__call__).parameters.values())
    xl = list(inspect.signature(DirecT2VSDXLPipeline.__call__).parameters.values())
    assert xl[: len(sd)] == sd
    own = xl[len(sd):]
    assert [p.name for p in own] == ["prompt_2", "negative_prompt_2", "pooled_prompt_embeds", "negative_pooled_prompt_embeds",
                                     "original_size", "crops_coords_top_left", "target_size"]
    assert all(p.kind is p.KEYWORD_ONLY for p in own)
