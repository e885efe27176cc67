"""DeepCache: reuse the UNet's deep features across neighbouring steps (Ma, Fang and Wang, CVPR 2024).

The UNet's high-level features change slowly from one denoising step to the next, while its
skip branches carry the detail. DeepCache splits the UNet at a skip branch b of its first
(highest-resolution) stage, whose layers are the (resnet, attention) pairs of `down_blocks[0]`
and `up_blocks[-1]`:

    shallow:  conv_in, down_blocks[0] layers [:b]   ...   up_blocks[-1] layers [-(b+1):], conv_out
    deep:     everything between

A *full* step runs everything and keeps the deep part's output (the hidden state entering
`up_blocks[-1]`'s layer -(b+1)); the next `cache_interval - 1` *shallow* steps run only the
shallow layers, on the kept feature beside this step's own skip connections (conv_in's output
and those of `down_blocks[0]`'s first b layers). `cache_interval = 1` never takes this path:
the pipeline calls the UNet as before, so the render is bit for bit what it was.

The branch is DeepCache's default, b = 0 (their `cache_branch_id=0`): a shallow step runs
conv_in, the last layer of `up_blocks[-1]` and conv_out. A coarser branch pays off less than
its FLOPs suggest: on the benchmark's SD 1.5-layout components at 256x256 on a CPU, all of
`down_blocks[0]` and `up_blocks[-1]` (b = 2; 29% of the UNet's FLOPs) take 63% of its time, as
attention over 1024 tokens is slow per FLOP, and b = 0 leaves about 13% (bench/bench_speed.py).

Value mapping and DeepCache (method.md section 3). Of the paper's mapped layers, the last
attention of `up_blocks.3` (SD 1.5) is shallow and maps values at every step; the others
(`up_blocks.2`, and `up_blocks.3`'s first ones) are deep and map them on full steps only: their
mapped output reaches the shallow steps through the cached feature, which was mapped to the
reference frame of the last full step. Value mapping still acts at every step; DSF, the
long-video anchor cache and sparse-causal attention run unchanged on the layers that run (a
chunk pass takes the same full/shallow steps as the anchor pass, so every anchor entry it
reads was written). On SDXL (three blocks) the mapped `up_blocks.0/1` are deep: they map on
full steps only, which tests/test_render_deepcache.py holds.

Under torch.compile (render/compiled.py) the two halves are compiled as two functions with
the UNet's options: one graph each per batch shape, none new from one render to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from diffusers.utils import scale_lora_layers, unscale_lora_layers

# DeepCache's default skip branch (cache_branch_id=0): the shallowest split.
CACHE_BRANCH = 0


@dataclass
class _Context:
    """What every block of one UNet call reads: time embedding, text states, attention keywords."""

    emb: torch.Tensor
    states: torch.Tensor
    attention_kwargs: dict | None = None

    def block_kwargs(self, block) -> dict:
        if getattr(block, "has_cross_attention", False):
            return dict(temb=self.emb, encoder_hidden_states=self.states, cross_attention_kwargs=self.attention_kwargs)
        return dict(temb=self.emb)


def _context(unet, sample, timestep, encoder_hidden_states, added_cond_kwargs, attention_kwargs) -> _Context:
    """The time embedding (with SDXL's added conditioning) and the processed text states, as
    UNet2DConditionModel.forward computes them."""
    t_emb = unet.get_time_embed(sample=sample, timestep=timestep)
    emb = unet.time_embedding(t_emb, None)
    aug = unet.get_aug_embed(emb=emb, encoder_hidden_states=encoder_hidden_states, added_cond_kwargs=added_cond_kwargs)
    if aug is not None:
        emb = emb + aug
    if unet.time_embed_act is not None:
        emb = unet.time_embed_act(emb)
    states = unet.process_encoder_hidden_states(encoder_hidden_states=encoder_hidden_states, added_cond_kwargs=added_cond_kwargs)
    return _Context(emb, states, attention_kwargs)


def _layers(block) -> list:
    """A block's (resnet, attention or None) layers."""
    return list(zip(block.resnets, getattr(block, "attentions", None) or [None] * len(block.resnets)))


def _layer(resnet, attn, h, ctx: _Context):
    """One layer, as the block's own forward runs it."""
    h = resnet(h, ctx.emb)
    if attn is not None:
        h = attn(h, encoder_hidden_states=ctx.states, cross_attention_kwargs=ctx.attention_kwargs, return_dict=False)[0]
    return h


def _down_layers(block, h, ctx: _Context, start: int, stop: int | None = None, downsample: bool = False):
    """Layers [start, stop) of a down block, then its downsamplers if asked: (h, skips)."""
    skips = ()
    for resnet, attn in _layers(block)[start:stop]:
        h = _layer(resnet, attn, h, ctx)
        skips += (h,)
    if downsample and block.downsamplers is not None:
        for downsampler in block.downsamplers:
            h = downsampler(h)
        skips += (h,)
    return h, skips


def _up_layers(block, h, skips, ctx: _Context, start: int, stop: int | None = None):
    """Layers [start, stop) of the last up block, each beside the last skip left: (h, skips left)."""
    for resnet, attn in _layers(block)[start:stop]:
        h = _layer(resnet, attn, torch.cat([h, skips[-1]], dim=1), ctx)
        skips = skips[:-1]
    return h, skips


def _shallow_down(unet, sample, ctx: _Context, branch: int):
    """conv_in and the first `branch` layers of down_blocks[0]: (their output, the skips so far)."""
    x = unet.conv_in(sample)
    h, res = _down_layers(unet.down_blocks[0], x, ctx, 0, branch)
    return h, (x,) + res


def _shallow_up(unet, deep, skips, ctx: _Context, branch: int):
    """The last `branch + 1` layers of up_blocks[-1] on the deep feature and the shallow skips, then conv_out."""
    last = unet.up_blocks[-1]
    h, _ = _up_layers(last, deep, skips, ctx, len(last.resnets) - 1 - branch)
    if unet.conv_norm_out is not None:
        h = unet.conv_act(unet.conv_norm_out(h))
    return unet.conv_out(h)


def _deep(unet, h, skips, ctx: _Context, branch: int):
    """From down_blocks[0]'s layer `branch` to the deep feature: (deep feature, the shallow skips)."""
    h, res = _down_layers(unet.down_blocks[0], h, ctx, branch, downsample=True)
    skips += res
    for block in unet.down_blocks[1:]:
        h, res = block(hidden_states=h, **ctx.block_kwargs(block))
        skips += res
    if unet.mid_block is not None:
        h = unet.mid_block(h, **ctx.block_kwargs(unet.mid_block))
    # Odd latent sizes: each upsampler is told the size of the skip it meets (as in forward).
    odd = any(s % 2**unet.num_upsamplers for s in skips[0].shape[-2:])
    for block in unet.up_blocks[:-1]:
        res, skips = skips[-len(block.resnets):], skips[: -len(block.resnets)]
        h = block(hidden_states=h, res_hidden_states_tuple=res, upsample_size=skips[-1].shape[2:] if odd else None,
                  **ctx.block_kwargs(block))
    last = unet.up_blocks[-1]
    return _up_layers(last, h, skips, ctx, 0, len(last.resnets) - 1 - branch)


def full_step(unet, sample, timestep, encoder_hidden_states, added_cond_kwargs=None, attention_kwargs=None,
              branch: int = CACHE_BRANCH) -> tuple[torch.Tensor, torch.Tensor]:
    """(noise prediction, deep feature): the whole UNet, as its own forward computes it."""
    ctx = _context(unet, sample, timestep, encoder_hidden_states, added_cond_kwargs, attention_kwargs)
    h, skips = _shallow_down(unet, sample, ctx, branch)
    deep, skips = _deep(unet, h, skips, ctx, branch)
    return _shallow_up(unet, deep, skips, ctx, branch), deep


def shallow_step(unet, sample, timestep, encoder_hidden_states, deep, added_cond_kwargs=None, attention_kwargs=None,
                 branch: int = CACHE_BRANCH) -> torch.Tensor:
    """The noise prediction from the shallow layers and a deep feature kept from a full step."""
    ctx = _context(unet, sample, timestep, encoder_hidden_states, added_cond_kwargs, attention_kwargs)
    _, skips = _shallow_down(unet, sample, ctx, branch)
    return _shallow_up(unet, deep, skips, ctx, branch)


def branches(unet) -> int:
    """How many skip branches the first stage has: `down_blocks[0]`'s layers and conv_in's."""
    return len(unet.down_blocks[0].resnets) + 1


def check_unet(unet, branch: int = CACHE_BRANCH) -> None:
    """DeepCache needs at least two down and up blocks, a first stage it can split at `branch`,
    and no configuration the split skips."""
    cfg = unet.config
    if len(unet.down_blocks) < 2 or len(unet.up_blocks) < 2:
        raise ValueError("cache_interval > 1 needs a UNet with at least two down and two up blocks.")
    last = unet.up_blocks[-1]
    if last.upsamplers is not None or len(last.resnets) != branches(unet) or not 0 <= branch < branches(unet):
        raise ValueError(f"cache_interval > 1 cannot split this UNet's first stage at skip branch {branch}.")
    if getattr(cfg, "class_embed_type", None) or getattr(cfg, "addition_embed_type", None) not in (None, "text_time"):
        raise ValueError("cache_interval > 1 does not support class or image conditioning in the UNet.")
    if getattr(cfg, "center_input_sample", False) or getattr(cfg, "time_cond_proj_dim", None):
        raise ValueError("cache_interval > 1 does not support this UNet's input centring or timestep conditioning.")


class DeepCacheParts:
    """The two halves of one UNet's forward; compiled with the UNet's options under --compile."""

    def __init__(self, unet, branch: int = CACHE_BRANCH):
        check_unet(unet, branch)
        self.unet, self.branch = unet, branch
        self.full = lambda *a, **k: full_step(unet, *a, **k, branch=branch)
        self.shallow = lambda *a, **k: shallow_step(unet, *a, **k, branch=branch)
        self.compiled = False

    def compile(self, **options: Any) -> None:
        if not self.compiled:
            self.full = torch.compile(self.full, **options)
            self.shallow = torch.compile(self.shallow, **options)
            self.compiled = True


def deep_cache_parts(pipe, branch: int = CACHE_BRANCH) -> DeepCacheParts:
    """The pipeline's DeepCacheParts, made once per UNet and branch (and compiled when the UNet was)."""
    parts = getattr(pipe, "_deep_cache_parts", None)
    if parts is None or parts.unet is not pipe.unet or parts.branch != branch:
        parts = DeepCacheParts(pipe.unet, branch)
        pipe._deep_cache_parts = parts
    options = getattr(pipe, "_compile_options", None)
    if options is not None:
        parts.compile(**options)
    return parts


class StepCache:
    """One phase's UNet calls with deep-feature reuse: a full step, then `interval - 1` shallow ones.

    A full step also runs whenever the kept feature does not fit (the batch changed, e.g. a
    step-end callback switched guidance off). `full_steps` and `shallow_steps` count the calls.
    """

    KEYWORDS = frozenset({"encoder_hidden_states", "added_cond_kwargs", "cross_attention_kwargs"})

    def __init__(self, pipe, interval: int, branch: int = CACHE_BRANCH):
        self.pipe, self.interval = pipe, int(interval)
        self.parts = deep_cache_parts(pipe, branch) if self.interval > 1 else None
        self.deep: torch.Tensor | None = None
        self.age = 0
        self.full_steps = self.shallow_steps = 0

    def __call__(self, sample: torch.Tensor, timestep, **unet_kwargs) -> torch.Tensor:
        unet = self.pipe.unet
        if self.parts is None or set(unet_kwargs) - self.KEYWORDS:
            self.full_steps += 1
            return unet(sample, timestep, **unet_kwargs, return_dict=False)[0]
        hook = getattr(unet, "_hf_hook", None)
        if hook is not None:  # model CPU offload: bring the UNet to the device, as its forward would
            hook.pre_forward(unet)
        attention_kwargs = unet_kwargs.get("cross_attention_kwargs")
        lora_scale = 1.0
        if attention_kwargs is not None and "scale" in attention_kwargs:  # as the UNet's forward takes it
            attention_kwargs = dict(attention_kwargs)
            lora_scale = attention_kwargs.pop("scale")
        more = dict(added_cond_kwargs=unet_kwargs.get("added_cond_kwargs"), attention_kwargs=attention_kwargs)
        scale_lora_layers(unet, lora_scale)  # outside the compiled halves: it sets the LoRA layers' scales
        try:
            return self._step(sample, timestep, unet_kwargs["encoder_hidden_states"], more)
        finally:
            unscale_lora_layers(unet, lora_scale)

    def _step(self, sample, timestep, states, more: dict) -> torch.Tensor:
        if self.deep is None or self.age + 1 >= self.interval or self.deep.shape[0] != sample.shape[0]:
            noise, self.deep = self.parts.full(sample, timestep, states, **more)
            self.age = 0
            self.full_steps += 1
        else:
            noise = self.parts.shallow(sample, timestep, states, self.deep, **more)
            self.age += 1
            self.shallow_steps += 1
        return noise
