"""Value mapping in self-attention: paper Eq. 3 and 4, method.md section 3.

A `ValueMappingProcessor` replaces the processor of one self-attention layer (attn1). For
frame i it attends with its own queries to the keys and values of a reference frame:

    VM_i = softmax(Q_i K_k^T / sqrt(c)) V_k                                   (Eq. 4)

where the reference k comes from the shared `ValueMappingController` (rotational, first,
random, sparse-causal or none) and depends on t', the number of joint-phase steps taken.
With dual-softmax filtering (`dsf.py`) queries without a mutual match keep their own values.

The batch the UNet sees in the joint phase is [uncond frames..., cond frames...] (CFG
halves first, frames second), so the processor views it as (halves, frames, ...) and never
mixes the halves. Cross-attention layers keep their own processors.

Long videos (method.md section 5): the frames that can serve as reference form a *pool*:
the anchor frames whose keys/values were cached in an earlier pass, followed by the frames
of the current batch. Without a cache the pool is just the batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F

from .dsf import dsf_confidence, dsf_mask

MODES = ("rotational", "first", "random", "sparse_causal", "none")


def rotational_reference(step: int, period: int, pool_size: int) -> int:
    """k(t') = floor(t' / tau) mod N."""
    return (step // period) % pool_size


class AnchorCache:
    """Keys and values of anchor frames, per (layer, joint step, anchor), for long videos.

    Only the entries a later pass will read are stored (`plan`). Entries go to `device`
    (the GPU) while it has more than `spill_below_bytes` free, else to pinned CPU memory,
    so the cache never pushes a render out of GPU memory. Tensors are (halves, tokens,
    channels), before the head split.
    """

    def __init__(self, plan: dict[int, set[int]], device: torch.device | str, spill_below_bytes: int = 0):
        self.plan = plan
        self.device = torch.device(device)
        self.spill_below_bytes = spill_below_bytes
        self.entries: dict[tuple[str, int, int], tuple[torch.Tensor, torch.Tensor]] = {}

    def wanted(self, step: int) -> set[int]:
        return self.plan.get(step, set())

    def _target(self) -> tuple[torch.device, bool]:
        if self.device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(self.device)
            if free < self.spill_below_bytes:
                return torch.device("cpu"), True
        return self.device, False

    def store(self, layer: str, step: int, anchor: int, key: torch.Tensor, value: torch.Tensor) -> None:
        target, pin = self._target()

        def keep(x: torch.Tensor) -> torch.Tensor:
            if pin:
                out = torch.empty(x.shape, dtype=x.dtype, pin_memory=True)
                return out.copy_(x)
            return x.detach().to(target).clone()

        self.entries[(layer, step, anchor)] = (keep(key), keep(value))

    def get(self, layer: str, step: int, anchor: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            k, v = self.entries[(layer, step, anchor)]
        except KeyError:
            raise RuntimeError(f"anchor cache has no entry for layer {layer}, step {step}, anchor {anchor}") from None
        return k.to(device, non_blocking=True), v.to(device, non_blocking=True)

    @property
    def nbytes(self) -> int:
        return sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in self.entries.values())

    @property
    def cpu_nbytes(self) -> int:
        return sum(
            k.numel() * k.element_size() + v.numel() * v.element_size()
            for k, v in self.entries.values()
            if k.device.type == "cpu"
        )


@dataclass
class ValueMappingController:
    """State shared by every value-mapping processor of one render.

    `step` is t' during the joint phase and None before it (single-frame phases, where the
    processors are plain attention). `num_halves` is 2 with classifier-free guidance, else 1.
    """

    mode: str = "rotational"
    rvm_period: int = 4
    dsf_quantile: float = 0.0
    num_halves: int = 2
    step: int | None = None
    random_draws: list[float] = field(default_factory=list)
    anchors: AnchorCache | None = None  # read in chunk passes
    num_anchors: int = 0  # anchor frames in front of the batch in the pool
    record: AnchorCache | None = None  # written in the anchor pass
    trace: list[tuple[str, int, tuple[tuple[int, ...], ...]]] | None = None  # (layer, t', refs per frame)
    dsf_slab_elements: int | None = None
    last_cache_bytes: int = 0  # size of the anchor cache of the last long render

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown value mapping mode {self.mode!r}")

    def references(self, num_frames: int) -> list[tuple[int, ...]]:
        """Pool indices each batch frame attends to at the current step (pool = anchors + batch)."""
        pool = self.num_anchors + num_frames
        own = [self.num_anchors + i for i in range(num_frames)]
        if self.step is None or self.mode == "none":
            return [(i,) for i in own]
        if self.mode == "sparse_causal":
            return [(0, max(i - 1, 0)) for i in own]
        if self.mode == "first":
            k = 0
        elif self.mode == "rotational":
            k = rotational_reference(self.step, self.rvm_period, pool)
        else:  # random: one uniform draw per joint step, from the run's seed
            k = min(int(self.random_draws[self.step] * pool), pool - 1)
        return [(k,) for _ in own]


class ValueMappingProcessor:
    """Self-attention processor with value mapping and optional dual-softmax filtering."""

    def __init__(self, controller: ValueMappingController, name: str):
        self.controller = controller
        self.name = name

    def __call__(
        self,
        attn,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        *args,
        **kwargs,
    ) -> torch.Tensor:
        if encoder_hidden_states is not None:
            raise RuntimeError(f"ValueMappingProcessor was installed on cross-attention layer {self.name}")
        residual = hidden_states
        if attn.spatial_norm is not None:
            hidden_states = attn.spatial_norm(hidden_states, temb)
        input_ndim = hidden_states.ndim
        if input_ndim == 4:
            batch, channel, height, width = hidden_states.shape
            hidden_states = hidden_states.view(batch, channel, height * width).transpose(1, 2)
        batch, tokens, _ = hidden_states.shape
        if attention_mask is not None:
            attention_mask = attn.prepare_attention_mask(attention_mask, tokens, batch)
            attention_mask = attention_mask.view(batch, attn.heads, -1, attention_mask.shape[-1])
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)

        query = attn.to_q(hidden_states)
        key = attn.to_k(hidden_states)
        value = attn.to_v(hidden_states)
        out = self._attend(attn, query, key, value, attention_mask)

        out = attn.to_out[0](out)
        out = attn.to_out[1](out)
        if input_ndim == 4:
            out = out.transpose(-1, -2).reshape(batch, channel, height, width)
        if attn.residual_connection:
            out = out + residual
        return out / attn.rescale_output_factor

    # ------------------------------------------------------------------ the method
    def _attend(self, attn, query, key, value, attention_mask):
        ctl = self.controller
        batch, tokens, inner = query.shape
        heads = attn.heads
        halves = ctl.num_halves if batch % ctl.num_halves == 0 else 1
        frames = batch // halves

        def split_heads(x: torch.Tensor) -> torch.Tensor:
            b, n, c = x.shape
            return x.view(b, n, heads, c // heads).transpose(1, 2)

        def merge_heads(x: torch.Tensor) -> torch.Tensor:
            return x.transpose(1, 2).reshape(batch, -1, inner).to(query.dtype)

        if ctl.record is not None and ctl.step is not None:
            k5, v5 = key.view(halves, frames, tokens, -1), value.view(halves, frames, tokens, -1)
            for a in sorted(ctl.record.wanted(ctl.step)):
                ctl.record.store(self.name, ctl.step, a, k5[:, a], v5[:, a])

        refs = ctl.references(frames)
        if ctl.trace is not None and ctl.step is not None:
            ctl.trace.append((self.name, ctl.step, tuple(refs)))

        q = split_heads(query)
        if attn.norm_q is not None:
            q = attn.norm_q(q)
        own_k, own_v = split_heads(key), split_heads(value)
        if attn.norm_k is not None:
            own_k = attn.norm_k(own_k)
        own_idx = [(ctl.num_anchors + i,) for i in range(frames)]
        if refs == own_idx:  # nothing mapped: plain attention
            out = F.scaled_dot_product_attention(q, own_k, own_v, attn_mask=attention_mask)
            return merge_heads(out)

        ref_key, ref_value = self._gather(key, value, refs, halves, frames, tokens, query.device)
        rk, rv = split_heads(ref_key), split_heads(ref_value)
        if attn.norm_k is not None:
            rk = attn.norm_k(rk)
        mapped = F.scaled_dot_product_attention(q, rk, rv, attn_mask=attention_mask)

        p = ctl.dsf_quantile
        if p <= 0.0:
            return merge_heads(mapped)
        own = F.scaled_dot_product_attention(q, own_k, own_v, attn_mask=attention_mask)
        if p >= 1.0:
            return merge_heads(own)
        scale = attn.scale if getattr(attn, "scale", None) is not None else q.shape[-1] ** -0.5
        kwargs = {} if ctl.dsf_slab_elements is None else {"slab_elements": ctl.dsf_slab_elements}
        conf = dsf_confidence(q, rk, scale, **kwargs)  # (batch, heads, tokens)
        keep = dsf_mask(conf, p).unsqueeze(-1)
        return merge_heads(torch.where(keep, mapped, own))

    def _gather(self, key, value, refs, halves, frames, tokens, device):
        """Keys/values of each frame's reference(s), (halves*frames, ref_tokens, channels)."""
        ctl = self.controller
        k5 = key.view(halves, frames, tokens, -1)
        v5 = value.view(halves, frames, tokens, -1)

        def pool_kv(j: int) -> tuple[torch.Tensor, torch.Tensor]:
            if j < ctl.num_anchors:
                if ctl.anchors is None:
                    raise RuntimeError("value mapping refers to an anchor frame but no anchor cache is set")
                return ctl.anchors.get(self.name, ctl.step, j, device)
            return k5[:, j - ctl.num_anchors], v5[:, j - ctl.num_anchors]

        if all(r == refs[0] for r in refs) and len(refs[0]) == 1:
            # One reference for every frame (rotational, first, random): gather once, expand.
            k, v = pool_kv(refs[0][0])
            k = k.to(key.dtype)[:, None].expand(halves, frames, *k.shape[1:])
            v = v.to(value.dtype)[:, None].expand(halves, frames, *v.shape[1:])
            return k.reshape(halves * frames, tokens, -1), v.reshape(halves * frames, tokens, -1)
        ks, vs = [], []
        for r in refs:
            parts = [pool_kv(j) for j in r]
            ks.append(torch.cat([p[0].to(key.dtype) for p in parts], dim=1))
            vs.append(torch.cat([p[1].to(value.dtype) for p in parts], dim=1))
        k = torch.stack(ks, dim=1)  # (halves, frames, ref_tokens, c)
        v = torch.stack(vs, dim=1)
        return k.reshape(halves * frames, k.shape[2], -1), v.reshape(halves * frames, v.shape[2], -1)


def select_self_attention_layers(unet, blocks: tuple[str, ...] | str) -> list[str]:
    """Processor names of the self-attention (attn1) layers under the chosen blocks."""
    names = [n for n in unet.attn_processors if n.endswith("attn1.processor")]
    if blocks == "all":
        return names
    if isinstance(blocks, str):
        blocks = (blocks,)
    chosen = []
    for b in blocks:
        prefix = b.rstrip(".") + "."
        hits = [n for n in names if n.startswith(prefix)]
        if not hits:
            valid = sorted({".".join(n.split(".")[:2]) for n in names})
            raise ValueError(f"No self-attention layers under {b!r}; blocks with some are: {', '.join(valid)}.")
        chosen += [n for n in hits if n not in chosen]
    return chosen


def install_value_mapping(unet, controller: ValueMappingController, blocks) -> Callable[[], None]:
    """Put value-mapping processors on the chosen layers; return a function that restores the originals."""
    original = dict(unet.attn_processors)
    chosen = set(select_self_attention_layers(unet, blocks))
    procs = {n: (ValueMappingProcessor(controller, n.removesuffix(".processor")) if n in chosen else p) for n, p in original.items()}
    unet.set_attn_processor(procs)

    def restore() -> None:
        unet.set_attn_processor(original)

    return restore


def random_draws(seed: int, num_steps: int) -> list[float]:
    """Uniform draws in [0, 1) for the `random` mode, one per joint step, independent of torch's global RNG."""
    g = torch.Generator("cpu").manual_seed(int(seed) % (2**63))
    return torch.rand(num_steps, generator=g, dtype=torch.float64).tolist()


__all__ = [
    "AnchorCache",
    "MODES",
    "ValueMappingController",
    "ValueMappingProcessor",
    "install_value_mapping",
    "random_draws",
    "rotational_reference",
    "select_self_attention_layers",
]
