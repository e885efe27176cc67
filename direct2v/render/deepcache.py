"""DeepCache: reuse the UNet's deep features across neighbouring steps (Ma, Fang and Wang, CVPR 2024).

The UNet's high-level features change slowly from one denoising step to the next, while its
skip branches carry the detail. DeepCache splits the UNet at one skip branch:

    shallow:  conv_in, down_blocks[0]          ...          up_blocks[-1], conv_out
    deep:                down_blocks[1:], mid_block, up_blocks[:-1]

A *full* step runs everything and keeps the deep part's output (the input of
`up_blocks[-1]`, already upsampled); the next `cache_interval - 1` *shallow* steps run only
the shallow blocks, feeding the kept deep feature to `up_blocks[-1]` beside this step's own
skip connections from `down_blocks[0]`. `cache_interval = 1` never takes this path: the
pipeline calls the UNet as before, so the render is bit for bit what it was.

Value mapping and DeepCache (method.md section 3). The branch is DeepCache's shallowest one
(their N-uniform setting) because it is the one that pays off: on SD 1.5's layout the deep
part holds about 70% of the UNet's FLOPs; at the next branch (down_blocks[:2] and
up_blocks[-2:] shallow) it holds about 40%, and a 3-step interval would save too little.
The price: of the paper's mapped layers, `up_blocks.3` (SD 1.5) is shallow and maps values
at every step, while `up_blocks.2` is deep and maps them on full steps only; its mapped
output reaches the shallow steps through the cached feature, which was mapped to the
reference frame of the last full step. Value mapping still acts at every step; DSF, the
long-video anchor cache and sparse-causal attention run unchanged on the layers that run
(a chunk pass takes the same full/shallow steps as the anchor pass, so every anchor entry
it reads was written). On SDXL (three blocks) the mapped `up_blocks.0/1` are deep: they map
on full steps only, which tests/test_render_deepcache.py holds.

Under torch.compile (render/compiled.py) the two halves are compiled as two functions with
the UNet's options: one graph each per batch shape, none new from one render to the next.
"""

from __future__ import annotations

from typing import Any

import torch


def _embed(unet, sample: torch.Tensor, timestep, encoder_hidden_states, added_cond_kwargs):
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
    return emb, states


def _down(block, sample, emb, states):
    if getattr(block, "has_cross_attention", False):
        return block(hidden_states=sample, temb=emb, encoder_hidden_states=states)
    return block(hidden_states=sample, temb=emb)


def _up(block, sample, res, emb, states, upsample_size=None):
    if getattr(block, "has_cross_attention", False):
        return block(hidden_states=sample, temb=emb, res_hidden_states_tuple=res, encoder_hidden_states=states,
                     upsample_size=upsample_size)
    return block(hidden_states=sample, temb=emb, res_hidden_states_tuple=res, upsample_size=upsample_size)


def _shallow_down(unet, sample, timestep, encoder_hidden_states, added_cond_kwargs):
    """conv_in and down_blocks[0]: (down_blocks[0]'s output, the skip connections, emb, text states)."""
    emb, states = _embed(unet, sample, timestep, encoder_hidden_states, added_cond_kwargs)
    h = unet.conv_in(sample)
    skips = (h,)
    h, res = _down(unet.down_blocks[0], h, emb, states)
    return h, skips + res, emb, states


def _shallow_up(unet, deep, skips, emb, states):
    """up_blocks[-1] on the deep feature and the shallow skip connections, then conv_out."""
    last = unet.up_blocks[-1]
    # The last up block reads the first skips (conv_in's and down_blocks[0]'s layers), never
    # down_blocks[0]'s downsampler output, which only the deep part reads.
    h = _up(last, deep, skips[: len(last.resnets)], emb, states)
    if unet.conv_norm_out is not None:
        h = unet.conv_act(unet.conv_norm_out(h))
    return unet.conv_out(h)


def full_step(unet, sample, timestep, encoder_hidden_states, added_cond_kwargs=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(noise prediction, deep feature): the whole UNet, as its own forward computes it."""
    h, skips, emb, states = _shallow_down(unet, sample, timestep, encoder_hidden_states, added_cond_kwargs)
    for block in unet.down_blocks[1:]:
        h, res = _down(block, h, emb, states)
        skips += res
    if unet.mid_block is not None:
        if getattr(unet.mid_block, "has_cross_attention", False):
            h = unet.mid_block(h, emb, encoder_hidden_states=states)
        else:
            h = unet.mid_block(h, emb)
    # Odd latent sizes: each upsampler is told the size of the skip it meets (as in forward).
    odd = any(s % 2**unet.num_upsamplers for s in sample.shape[-2:])
    for block in unet.up_blocks[:-1]:
        res, skips = skips[-len(block.resnets):], skips[: -len(block.resnets)]
        h = _up(block, h, res, emb, states, skips[-1].shape[2:] if odd else None)
    return _shallow_up(unet, h, skips, emb, states), h


def shallow_step(unet, sample, timestep, encoder_hidden_states, deep, added_cond_kwargs=None) -> torch.Tensor:
    """The noise prediction from the shallow blocks and a deep feature kept from a full step."""
    _, skips, emb, states = _shallow_down(unet, sample, timestep, encoder_hidden_states, added_cond_kwargs)
    return _shallow_up(unet, deep, skips, emb, states)


def check_unet(unet) -> None:
    """DeepCache needs at least two down and up blocks and no configuration the split skips."""
    cfg = unet.config
    if len(unet.down_blocks) < 2 or len(unet.up_blocks) < 2:
        raise ValueError("cache_interval > 1 needs a UNet with at least two down and two up blocks.")
    if getattr(cfg, "class_embed_type", None) or getattr(cfg, "addition_embed_type", None) not in (None, "text_time"):
        raise ValueError("cache_interval > 1 does not support class or image conditioning in the UNet.")
    if getattr(cfg, "center_input_sample", False) or getattr(cfg, "time_cond_proj_dim", None):
        raise ValueError("cache_interval > 1 does not support this UNet's input centring or timestep conditioning.")


class DeepCacheParts:
    """The two halves of one UNet's forward; compiled with the UNet's options under --compile."""

    def __init__(self, unet):
        check_unet(unet)
        self.unet = unet
        self.full = lambda *a, **k: full_step(unet, *a, **k)
        self.shallow = lambda *a, **k: shallow_step(unet, *a, **k)
        self.compiled = False

    def compile(self, **options: Any) -> None:
        if not self.compiled:
            self.full = torch.compile(self.full, **options)
            self.shallow = torch.compile(self.shallow, **options)
            self.compiled = True


def deep_cache_parts(pipe) -> DeepCacheParts:
    """The pipeline's DeepCacheParts, made once per UNet (and compiled when the UNet was)."""
    parts = getattr(pipe, "_deep_cache_parts", None)
    if parts is None or parts.unet is not pipe.unet:
        parts = DeepCacheParts(pipe.unet)
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

    def __init__(self, pipe, interval: int):
        self.pipe, self.interval = pipe, int(interval)
        self.parts = deep_cache_parts(pipe) if self.interval > 1 else None
        self.deep: torch.Tensor | None = None
        self.age = 0
        self.full_steps = self.shallow_steps = 0

    def __call__(self, sample: torch.Tensor, timestep, **unet_kwargs) -> torch.Tensor:
        unet = self.pipe.unet
        if self.parts is None or set(unet_kwargs) - {"encoder_hidden_states", "added_cond_kwargs"}:
            self.full_steps += 1
            return unet(sample, timestep, **unet_kwargs, return_dict=False)[0]
        hook = getattr(unet, "_hf_hook", None)
        if hook is not None:  # model CPU offload: bring the UNet to the device, as its forward would
            hook.pre_forward(unet)
        states, added = unet_kwargs["encoder_hidden_states"], unet_kwargs.get("added_cond_kwargs")
        if self.deep is None or self.age + 1 >= self.interval or self.deep.shape[0] != sample.shape[0]:
            noise, self.deep = self.parts.full(sample, timestep, states, added)
            self.age = 0
            self.full_steps += 1
        else:
            noise = self.parts.shallow(sample, timestep, states, self.deep, added)
            self.age += 1
            self.shallow_steps += 1
        return noise
