"""`cross_attention_kwargs` on the DirecT2V pipelines, as diffusers' pipelines take them: "scale"
(LoRA strength, text encoders and UNet), "ip_adapter_masks" (one row for the video or one per
frame, composed with the per-frame reference masks) and any other key for the layers' processors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from diffusers.models.attention_processor import AttnProcessor2_0
from PIL import Image

from direct2v.render.ip_adapter import IPAdapterInputError, tiny_image_encoder, tiny_ip_adapter_state_dict
from direct2v.render.loading import tiny_components, tiny_sdxl_components
from direct2v.render.pipeline import DirecT2VPipeline
from direct2v.render.sdxl import DirecT2VSDXLPipeline
from conftest import gen

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = dict(num_inference_steps=4, t0=1, t1=2, guidance_scale=7.5, height=64, width=64)
PROMPTS = ["a red cat on grass", "a blue dog in snow", "a green bird at sea", "a grey cow in fog"]
FACE = Image.fromarray(np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8))


def make_pipe(sdxl: bool = False, adapter: bool = True):
    parts = tiny_sdxl_components() if sdxl else tiny_components()
    encoder, extractor = tiny_image_encoder(parts["unet"].config.cross_attention_dim)
    pipe = (DirecT2VSDXLPipeline if sdxl else DirecT2VPipeline)(**parts, image_encoder=encoder, feature_extractor=extractor)
    pipe.set_progress_bar_config(disable=True)
    if adapter:
        state = tiny_ip_adapter_state_dict(pipe.unet, encoder.config.projection_dim)
        pipe.load_ip_adapter(state, subfolder="", weight_name="", image_encoder_folder=None)
        pipe.set_ip_adapter_scale(0.8)
    return pipe


def run(pipe, **kw):
    return pipe(PROMPTS, generator=gen(0), **{**FAST, **kw}).frames


def masks(*rows: float, size: int = 64) -> list[torch.Tensor]:
    """diffusers' mask list for one adapter: (rows, 1 image, size, size), row j all `rows[j]`."""
    return [torch.tensor(rows, dtype=torch.float32)[:, None, None, None].expand(-1, 1, size, size).clone()]


def diff(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


@pytest.fixture(scope="module")
def sd():
    return make_pipe()


@pytest.mark.parametrize("sdxl", [False, True], ids=["sd", "sdxl"])
def test_per_frame_masks_act_as_per_frame_references(sdxl):
    """A mask row of zeros takes the adapter off that frame exactly as a frame without a picture does."""
    pipe = make_pipe(sdxl)
    by_mask = run(pipe, ip_adapter_image=FACE, cross_attention_kwargs={"ip_adapter_masks": masks(1, 0, 1, 0)})
    by_picture = run(pipe, ip_adapter_frame_images=[FACE, None, FACE, None])
    assert diff(by_mask, by_picture) <= 1e-5
    assert diff(by_mask, run(pipe, ip_adapter_image=FACE)) > 1e-3  # the masks did something


def test_one_row_masks_every_frame_and_ones_change_nothing(sd):
    plain = run(sd, ip_adapter_image=FACE)
    assert diff(run(sd, ip_adapter_image=FACE, cross_attention_kwargs={"ip_adapter_masks": masks(1)}), plain) <= 1e-5
    sd.set_ip_adapter_scale(0.0)
    without = run(sd, ip_adapter_image=FACE)
    sd.set_ip_adapter_scale(0.8)
    zeros = run(sd, ip_adapter_image=FACE, cross_attention_kwargs={"ip_adapter_masks": masks(0)})
    assert diff(zeros, without) <= 1e-5


def test_a_region_mask_composes_with_frames_without_a_picture(sd):
    """The caller's left-half mask limits the adapter on frames with a picture; a frame without
    one stays free of it (value mapping off, so frames do not mix)."""
    left = masks(1)
    left[0][..., 32:] = 0
    # Frame 1 (index 0) has none either: the others start from its latent.
    free = run(sd, value_mapping="none", ip_adapter_frame_images=[None, FACE, None, FACE])
    region = run(sd, value_mapping="none", ip_adapter_frame_images=[None, FACE, None, FACE],
                 cross_attention_kwargs={"ip_adapter_masks": left})
    sd.set_ip_adapter_scale(0.0)
    base = run(sd, value_mapping="none")
    sd.set_ip_adapter_scale(0.8)
    for j in (0, 2):
        assert diff(region[j], base[j]) <= 1e-5
    for j in (1, 3):
        assert diff(region[j], free[j]) > 1e-4 and diff(region[j], base[j]) > 1e-4


def test_every_processor_gets_the_callers_keys_in_every_phase():
    """Other keys reach the layers' processors at every UNet call, the start picture's inversion included."""
    pipe = make_pipe(adapter=False)
    seen = []

    class Tagged(AttnProcessor2_0):
        def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, tag=None):
            seen.append(tag)
            return super().__call__(attn, hidden_states, encoder_hidden_states, attention_mask, temb)

    processors = dict(pipe.unet.attn_processors)
    cross = [n for n in processors if n.endswith("attn2.processor")]
    pipe.unet.set_attn_processor({**processors, **{n: Tagged() for n in cross}})
    before = run(pipe, image=FACE, image_mode="invert")
    calls = len(seen)
    tagged = run(pipe, image=FACE, image_mode="invert", cross_attention_kwargs={"tag": 7})
    assert calls and seen[:calls] == [None] * calls and seen[calls:] == [7] * calls
    assert diff(tagged, before) == 0.0


def test_lora_scale_reaches_the_text_encoder_and_the_unet():
    from peft import LoraConfig, inject_adapter_in_model

    def lora(*targets):  # random B: peft starts it at zero, and then the LoRA would change nothing
        return LoraConfig(r=4, lora_alpha=4, init_lora_weights=False, target_modules=list(targets))

    pipe = make_pipe(adapter=False)
    base = run(pipe)
    torch.manual_seed(0)
    inject_adapter_in_model(lora("q_proj", "k_proj", "v_proj", "out_proj"), pipe.text_encoder)
    text_only = run(pipe)
    assert diff(text_only, base) > 1e-4
    assert diff(run(pipe, cross_attention_kwargs={"scale": 0.0}), base) <= 1e-6
    pipe.unet.add_adapter(lora("to_q", "to_k", "to_v", "to_out.0"))
    both = run(pipe)
    assert diff(both, text_only) > 1e-4
    assert diff(run(pipe, cross_attention_kwargs={"scale": 0.0}), base) <= 1e-6
    half = run(pipe, cross_attention_kwargs={"scale": 0.5})
    assert diff(half, base) > 1e-4 and diff(half, both) > 1e-4
    assert diff(run(pipe), both) == 0.0  # the layers' own scale is back after each call
    assert pipe.cross_attention_kwargs is None  # only while a call runs


def test_bad_masks_get_clear_messages(sd):
    with pytest.raises(IPAdapterInputError, match=r"1 or 4 rows, images, height, width\); got \(3, 1, 64, 64\)"):
        run(sd, ip_adapter_image=FACE, cross_attention_kwargs={"ip_adapter_masks": masks(1, 0, 1)})
    with pytest.raises(IPAdapterInputError, match=r"one mask \(or None\) per loaded IP-Adapter \(1\)"):
        run(sd, ip_adapter_image=FACE, cross_attention_kwargs={"ip_adapter_masks": masks(1) * 2})
