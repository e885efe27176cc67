"""IP-Adapter on the DirecT2V pipelines (render/ip_adapter.py), through diffusers' own API, on tiny
random components, a tiny CLIP vision encoder and an adapter state dict built in-process."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from direct2v.render.errors import ModelLoadError
from direct2v.render.ip_adapter import (
    IPAdapterInputError,
    ensure_ip_adapter,
    frame_references,
    tiny_image_encoder,
    tiny_ip_adapter_state_dict,
)
from direct2v.render.loading import tiny_components, tiny_sdxl_components
from direct2v.render.pipeline import DirecT2VPipeline
from direct2v.render.sdxl import DirecT2VSDXLPipeline
from conftest import gen

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = dict(num_inference_steps=5, t0=1, t1=2, guidance_scale=7.5, height=64, width=64)
PROMPTS = ["a red cat on grass", "a blue dog in snow", "a green bird at sea", "a grey cow in fog"]
RNG = np.random.default_rng(0)
# The reference pictures (any size: the feature extractor resizes them).
FACE = Image.fromarray(RNG.integers(0, 256, (48, 40, 3), dtype=np.uint8))
COSTUME = Image.fromarray(RNG.integers(0, 256, (32, 32, 3), dtype=np.uint8))


def make_pipe(sdxl: bool = False):
    parts = tiny_sdxl_components() if sdxl else tiny_components()
    encoder, extractor = tiny_image_encoder(parts["unet"].config.cross_attention_dim)
    cls = DirecT2VSDXLPipeline if sdxl else DirecT2VPipeline
    pipe = cls(**parts, image_encoder=encoder, feature_extractor=extractor)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def load(pipe, seed: int = 0):
    if pipe.image_encoder is None:  # unload_ip_adapter dropped it
        pipe.register_modules(image_encoder=tiny_image_encoder(pipe.unet.config.cross_attention_dim)[0])
    state = tiny_ip_adapter_state_dict(pipe.unet, pipe.image_encoder.config.projection_dim, seed)
    pipe.load_ip_adapter(state, subfolder="", weight_name="", image_encoder_folder=None)


def run(pipe, prompts=PROMPTS, **kw):
    return pipe(prompts, generator=gen(0), **{**FAST, **kw}).frames


@pytest.fixture(scope="module")
def sd():
    return make_pipe()


@pytest.fixture
def with_adapter(sd):
    """The module's SD pipeline with the tiny adapter loaded; afterwards as it was."""
    load(sd)
    yield sd
    sd.unload_ip_adapter()


def diff(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


# --------------------------------------------------------------------------- the "done when"
@pytest.mark.parametrize("sdxl", [False, True], ids=["sd", "sdxl"])
def test_scale_zero_is_no_adapter_nonzero_changes_and_unload_restores(sdxl):
    pipe = make_pipe(sdxl)
    base = run(pipe)  # a render first: value mapping is installed when the adapter loads
    load(pipe)
    pipe.set_ip_adapter_scale(0.0)
    assert diff(run(pipe, ip_adapter_image=FACE), base) <= 1e-5
    pipe.set_ip_adapter_scale(0.8)
    with_face = run(pipe, ip_adapter_image=FACE)
    assert diff(with_face, base) > 1e-3
    assert diff(run(pipe), base) <= 1e-6  # a loaded adapter without a picture changes nothing
    pipe.unload_ip_adapter()
    assert pipe.image_encoder is None
    assert diff(run(pipe), base) == 0.0
    load(pipe)  # and back: load after unload after renders
    pipe.set_ip_adapter_scale(0.8)
    assert diff(run(pipe, ip_adapter_image=FACE), with_face) <= 1e-5


def test_per_frame_references_reach_only_their_frames(sd):
    base = run(sd, value_mapping="none")
    load(sd)
    try:
        sd.set_ip_adapter_scale(0.8)
        out = run(sd, value_mapping="none", ip_adapter_frame_images=[None, FACE, None, COSTUME])
        assert [diff(out[j], base[j]) == 0.0 for j in range(4)] == [True, False, True, False]
        # Spans: {first frame: picture}; frame 3 gets the face from frame 1 on, frame 0 nothing.
        spans = run(sd, value_mapping="none", ip_adapter_frame_images={1: FACE, 3: None})
        listed = run(sd, value_mapping="none", ip_adapter_frame_images=[None, FACE, FACE, None])
        assert diff(spans, listed) == 0.0 and diff(spans[3], base[3]) == 0.0
        # A frame's own picture at its own position: frame 1 with the face alone, as in the mix.
        alone = run(sd, value_mapping="none", ip_adapter_frame_images=[None, FACE, None, None])
        assert diff(alone[1], out[1]) <= 1e-5
    finally:
        sd.unload_ip_adapter()


def test_embeddings_for_the_video_or_per_frame_equal_the_pictures(sd):
    load(sd)
    try:
        sd.set_ip_adapter_scale(0.8)
        face, face_neg = sd.encode_image([FACE], "cpu", 1, False)
        cos, cos_neg = sd.encode_image([COSTUME], "cpu", 1, False)
        video = torch.cat([face_neg, face])[:, None]  # diffusers' layout: (negative, positive) x images x dim
        assert diff(run(sd, ip_adapter_image_embeds=[video]), run(sd, ip_adapter_image=FACE)) <= 1e-5
        per_frame = torch.cat([torch.cat([face_neg, cos_neg] * 2), torch.cat([face, cos] * 2)])[:, None]
        pictures = run(sd, ip_adapter_frame_images=[FACE, COSTUME, FACE, COSTUME])
        assert diff(run(sd, ip_adapter_image_embeds=[per_frame]), pictures) <= 1e-5
        # Without guidance: one row (no negative half).
        assert diff(run(sd, guidance_scale=1.0, ip_adapter_image_embeds=[face[:, None]]),
                    run(sd, guidance_scale=1.0, ip_adapter_image=FACE)) <= 1e-5
    finally:
        sd.unload_ip_adapter()


def test_every_unet_call_gets_its_rows_in_the_batch_layout_start_image_included(sd):
    """Image rows match each call's batch: [negative frames..., frames...] under guidance, the
    frame's own row in the start-image inversion and the first-frame phase."""
    load(sd)
    calls = []

    def spy(module, args, kwargs):
        sample = args[0] if args else kwargs["sample"]
        rows = kwargs["added_cond_kwargs"]["image_embeds"][0]
        calls.append((sample.shape[0], rows.clone()))

    handle = sd.unet.register_forward_pre_hook(spy, with_kwargs=True)
    try:
        sd.set_ip_adapter_scale(0.8)
        face, face_neg = sd.encode_image([FACE], "cpu", 1, False)
        cos, _ = sd.encode_image([COSTUME], "cpu", 1, False)
        run(sd, ip_adapter_frame_images=[FACE, COSTUME, COSTUME, FACE], image=FACE, image_mode="invert")
    finally:
        handle.remove()
        sd.unload_ip_adapter()
    assert all(batch == rows.shape[0] for batch, rows in calls)
    inversion = [rows for batch, rows in calls if batch == 1]
    assert inversion and all(torch.allclose(r[0, 0], face[0]) for r in inversion)  # frame 1's picture, no negative
    joint = [rows for batch, rows in calls if batch == 8]
    assert joint
    expect = torch.cat([face_neg.expand(4, -1), torch.cat([face, cos, cos, face])])
    assert all(torch.allclose(r[:, 0], expect) for r in joint)


def test_per_block_scales_keep_other_layers_free(sd):
    base = run(sd)
    load(sd)
    try:
        sd.set_ip_adapter_scale({"up": {"block_3": [0.0, 1.0]}})  # only the last layer of the last up block
        scales = {n: p.scale[0] for n, p in sd.unet.attn_processors.items() if hasattr(p, "scale") and n.endswith("attn2.processor")}
        on = [n for n, s in scales.items() if s != 0]
        assert on == ["up_blocks.3.attentions.1.transformer_blocks.0.attn2.processor"]
        one_layer = run(sd, ip_adapter_image=FACE)
        sd.set_ip_adapter_scale(1.0)
        everywhere = run(sd, ip_adapter_image=FACE)
        assert diff(one_layer, base) > 1e-4 and diff(one_layer, everywhere) > 1e-4
    finally:
        sd.unload_ip_adapter()


def test_with_a_lora_and_through_the_tiny_adapter_name(tmp_path):
    from sd_checkpoint import write_tiny_lora
    from direct2v.render.loading import _apply_lora

    path, _ = write_tiny_lora(tmp_path)
    pipe = DirecT2VPipeline(**tiny_components())
    pipe.set_progress_bar_config(disable=True)
    _apply_lora(pipe, str(path), 1.0)
    with_lora = run(pipe)
    ensure_ip_adapter(pipe, "tiny")
    assert pipe.ip_adapter_name == "tiny" and pipe.image_encoder is not None
    pipe.set_ip_adapter_scale(0.0)
    assert diff(run(pipe, ip_adapter_image=FACE), with_lora) <= 1e-5
    pipe.set_ip_adapter_scale(0.8)
    assert diff(run(pipe, ip_adapter_image=FACE), with_lora) > 1e-3
    ensure_ip_adapter(pipe, None)
    assert pipe.ip_adapter_name is None and diff(run(pipe), with_lora) == 0.0


@pytest.mark.slow
def test_compiled_unet_loads_and_unloads_the_adapter():
    """Loading and unloading swap processors under a compiled UNet: dynamo recompiles, and the
    frames stay those of the eager pipeline (dynamo's eager backend: tracing only). A two-block
    UNet and a start picture (no first-frame phase: one graph per render) keep tracing short."""
    from diffusers import UNet2DConditionModel
    from direct2v.render.compiled import compile_unet

    def small_unet():
        torch.manual_seed(0)
        return UNet2DConditionModel(
            sample_size=8, block_out_channels=(16, 32), layers_per_block=1, cross_attention_dim=32, attention_head_dim=2,
            norm_num_groups=8, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        )

    pipes = []
    for _ in range(2):
        p = DirecT2VPipeline(**{**tiny_components(), "unet": small_unet()}, image_encoder=tiny_image_encoder(32)[0],
                             feature_extractor=tiny_image_encoder(32)[1])
        p.set_progress_bar_config(disable=True)
        pipes.append(p)
    pipe, eager = pipes
    torch._dynamo.reset()
    compile_unet(pipe, backend="eager")
    small = dict(prompts=PROMPTS[:2], num_inference_steps=3, t0=0, t1=1, output_type="latent", image=FACE,
                 attention_blocks="all")
    for p in pipes:
        load(p)
        p.set_ip_adapter_scale(0.8)
    assert diff(run(pipe, ip_adapter_image=FACE, **small), run(eager, ip_adapter_image=FACE, **small)) <= 1e-5
    pipe.unload_ip_adapter()
    eager.unload_ip_adapter()
    assert diff(run(pipe, **small), run(eager, **small)) <= 1e-5


# --------------------------------------------------------------------------- messages
def test_bad_references_get_clear_messages(sd):
    with pytest.raises(IPAdapterInputError, match=r"ip_adapter_image needs an IP-Adapter: call load_ip_adapter"):
        run(sd, ip_adapter_image=FACE)
    with pytest.raises(IPAdapterInputError, match="4 frames"):
        frame_references([FACE], 4)
    with pytest.raises(IPAdapterInputError, match="frame numbers from 0 to 3"):
        frame_references({4: FACE}, 4)
    load(sd)
    try:
        with pytest.raises(IPAdapterInputError, match="Give one of ip_adapter_image, ip_adapter_frame_images"):
            run(sd, ip_adapter_image=FACE, ip_adapter_frame_images=[FACE] * 4)
        with pytest.raises(IPAdapterInputError, match="2 or 2 x frames"):
            run(sd, ip_adapter_image_embeds=[torch.zeros(3, 1, 32)])
        with pytest.raises(IPAdapterInputError, match="Reference picture for frame 2: .*does not exist"):
            run(sd, ip_adapter_frame_images=[None, "/no/such/face.png", None, None])
    finally:
        sd.unload_ip_adapter()


def test_adapter_files_offline(tmp_path, monkeypatch):
    """A local file loads with the image encoder beside it, without a network; a Hub path that
    is not cached, and a file whose encoder is missing, say so."""
    from safetensors.torch import save_file

    pipe = DirecT2VPipeline(**tiny_components())
    pipe.set_progress_bar_config(disable=True)
    encoder, _ = tiny_image_encoder(32)
    state = tiny_ip_adapter_state_dict(pipe.unet, 32)
    flat = {f"{part}.{k}": v.contiguous() for part, d in state.items() for k, v in d.items()}
    save_file(flat, tmp_path / "ip-adapter.safetensors")
    alone = tmp_path / "alone"
    alone.mkdir()
    save_file(flat, alone / "ip-adapter.safetensors")
    encoder.save_pretrained(tmp_path / "image_encoder")

    ensure_ip_adapter(pipe, str(tmp_path / "ip-adapter.safetensors"))
    assert pipe.image_encoder is not None and pipe.feature_extractor is not None
    pipe.set_ip_adapter_scale(0.8)
    assert run(pipe, ip_adapter_image=FACE).shape == (4, 64, 64, 3)
    ensure_ip_adapter(pipe, None)
    assert pipe.image_encoder is None

    ensure_ip_adapter(pipe, str(alone / "ip-adapter.safetensors"))
    with pytest.raises(IPAdapterInputError, match="loaded without its image encoder"):
        run(pipe, ip_adapter_image=FACE)
    ensure_ip_adapter(pipe, None)

    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ModelLoadError, match=r"IP-Adapter 'h94/IP-Adapter/models/ip-adapter_sd15.safetensors': the adapter is not"):
        ensure_ip_adapter(pipe, "h94/IP-Adapter/models/ip-adapter_sd15.safetensors")
    with pytest.raises(ModelLoadError, match="not an IP-Adapter file"):
        ensure_ip_adapter(pipe, "h94/IP-Adapter")
    assert pipe.ip_adapter_name is None and run(pipe).shape == (4, 64, 64, 3)
