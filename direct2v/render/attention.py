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

import contextlib
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import AttnProcessor2_0

from .dsf import dsf_confidence, fallback_queries
from .flash import attention_lse

from ..settings import VALUE_MAPPING_MODES as MODES


def rotational_reference(step: int, period: int, pool_size: int) -> int:
    """k(t') = floor(t' / tau) mod N."""
    return (step // period) % pool_size


# Pool index of the last frame of the previous pass (sparse-causal's "previous frame" for a
# pass's first frame); its keys/values come from `ValueMappingController.previous`.
PREVIOUS = -1


def reference_frames(
    mode: str, step: int | None, num_anchors: int, num_frames: int, rvm_period: int, random_draws: list[float]
) -> list[tuple[int, ...]]:
    """Pool indices each batch frame attends to at joint step t' = `step` (None before the
    joint phase). The pool is `num_anchors` cached anchors followed by the batch's frames.

    The processors read this at every step, and long.cache_plan reads it ahead of time to
    decide which anchors' keys and values to keep, so the two can never disagree.
    """
    pool = num_anchors + num_frames
    own = [num_anchors + i for i in range(num_frames)]
    if step is None or mode == "none":
        return [(i,) for i in own]
    if mode == "sparse_causal":
        return [(0, max(i - 1, 0)) for i in own]
    if mode == "first":
        k = 0
    elif mode == "rotational":
        k = rotational_reference(step, rvm_period, pool)
    else:  # random: one uniform draw per joint step, from the run's seed
        k = min(int(random_draws[step] * pool), pool - 1)
    return [(k,) for _ in own]


class AnchorCache:
    """Keys and values of anchor frames, per (layer, joint call, anchor), for long videos.

    Only the entries a later pass will read are stored (`plan`, by t'). Entries are keyed by
    the joint UNet call, not t', because a warm-up repeat (PNDM) makes two calls at one t'.
    Entries go to `device`
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


@dataclass
class ValueMappingController:
    """State shared by every value-mapping processor of one pipeline, reconfigured per render.

    `step` is t' during the joint phase and None before it (single-frame phases, where the
    processors hand over to the layers' own processors). `num_halves` is 2 with
    classifier-free guidance, else 1. `begin_step` writes the step's reference frames into
    `ref_index`, a device tensor updated in place, so a compiled UNet reads the reference
    from memory instead of specialising on a Python int (one graph for all steps).
    """

    mode: str = "rotational"
    rvm_period: int = 4
    dsf_quantile: float = 0.0
    num_halves: int = 2
    step: int | None = None
    call: int | None = None  # joint UNet calls made so far in this pass (the cache key)
    random_draws: list[float] = field(default_factory=list)
    anchors: AnchorCache | None = None  # read in chunk passes
    num_anchors: int = 0  # anchor frames in front of the batch in the pool
    record: AnchorCache | None = None  # written in the anchor pass
    previous: AnchorCache | None = None  # last frame of the previous pass (sparse-causal), read
    record_last: AnchorCache | None = None  # this pass's last frame, written for the next pass
    trace: list[tuple[str, int, tuple[tuple[int, ...], ...]]] | None = None  # (layer, t', refs per frame)
    last_cache_bytes: int = 0  # size of the anchor cache of the last long render
    active: bool = False  # joint phase: the processors map values
    ref_index: torch.Tensor | None = None  # pool indices: (1,) for one shared reference, (frames * refs,) otherwise

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown value mapping mode {self.mode!r}")

    def configure(self, mode: str, rvm_period: int, dsf_quantile: float, random_draws: list[float]) -> "ValueMappingController":
        if mode not in MODES:
            raise ValueError(f"unknown value mapping mode {mode!r}")
        self.mode, self.rvm_period, self.dsf_quantile, self.random_draws = mode, rvm_period, float(dsf_quantile), random_draws
        return self

    @property
    def shared_reference(self) -> bool:
        """One reference frame for every frame of the batch (all modes but sparse_causal)."""
        return self.mode != "sparse_causal"

    def references(self, num_frames: int) -> list[tuple[int, ...]]:
        """Pool indices each batch frame attends to at the current step (pool = anchors + batch)."""
        refs = reference_frames(self.mode, self.step, self.num_anchors, num_frames, self.rvm_period, self.random_draws)
        if self.mode == "sparse_causal" and self.step is not None and self.previous is not None and self.num_anchors > 0:
            refs[0] = (0, PREVIOUS)  # the previous pass's last frame, not the last anchor
        return refs

    def begin_step(self, step: int | None, num_frames: int, device: torch.device | str) -> None:
        """Enter joint step `step` (None: a single-frame phase) for a batch of `num_frames` frames."""
        self.step = step
        self.active = step is not None
        if step is None or self.mode == "none":
            return
        refs = self.references(num_frames)
        flat = [refs[0][0]] if self.shared_reference else [j for r in refs for j in r]
        host = torch.tensor(flat, dtype=torch.long)
        if self.ref_index is None or self.ref_index.shape != host.shape or self.ref_index.device != torch.device(device):
            self.ref_index = host.to(device)
        else:
            self.ref_index.copy_(host)

    @property
    def maps_values(self) -> bool:
        """In the joint phase with a mode that maps; p = 1 keeps every query's own values (= "none"),
        so the mapped attention would be thrown away."""
        return self.active and self.mode != "none" and self.dsf_quantile < 1.0

    def finish(self) -> None:
        """Back to idle: processors hand over to the layers' own processors."""
        self.step, self.call, self.active = None, None, False
        self.record, self.anchors, self.num_anchors = None, None, 0
        self.previous = self.record_last = None


@torch.compiler.disable
def _record(ctl: ValueMappingController, name: str, key: torch.Tensor, value: torch.Tensor, halves: int, frames: int) -> None:
    """Long videos: cache the keys/values a later pass reads (Python side effects, kept out of graphs):
    the anchors it wants (anchor pass) and this pass's last frame (sparse-causal)."""
    k5, v5 = key.view(halves, frames, key.shape[1], -1), value.view(halves, frames, value.shape[1], -1)
    if ctl.record is not None:
        for a in sorted(ctl.record.wanted(ctl.step)):
            ctl.record.store(name, ctl.call, a, k5[:, a], v5[:, a])
    if ctl.record_last is not None:
        ctl.record_last.store(name, ctl.call, 0, k5[:, -1], v5[:, -1])


@torch.compiler.disable
def _trace(ctl: ValueMappingController, name: str, frames: int) -> None:
    ctl.trace.append((name, ctl.step, tuple(ctl.references(frames))))


@torch.compiler.disable
def _anchor_pool(ctl: ValueMappingController, name: str, k5: torch.Tensor, v5: torch.Tensor):
    """Keys/values of the referenced pool frames when some are cached anchors, and the index into them."""
    frames = k5.shape[1]
    refs = ctl.references(frames)
    needed = sorted({j for r in refs for j in r})
    parts = []
    for j in needed:
        if j == PREVIOUS:
            k, v = ctl.previous.get(name, ctl.call, 0, k5.device)
            parts.append((k.to(k5.dtype), v.to(v5.dtype)))
        elif j < ctl.num_anchors:
            if ctl.anchors is None:
                raise RuntimeError("value mapping refers to an anchor frame but no anchor cache is set")
            k, v = ctl.anchors.get(name, ctl.call, j, k5.device)
            parts.append((k.to(k5.dtype), v.to(v5.dtype)))
        else:
            parts.append((k5[:, j - ctl.num_anchors], v5[:, j - ctl.num_anchors]))
    pos = {j: i for i, j in enumerate(needed)}
    flat = [pos[refs[0][0]]] if ctl.shared_reference else [pos[j] for r in refs for j in r]
    index = torch.tensor(flat, dtype=torch.long, device=k5.device)
    return torch.stack([p[0] for p in parts], 1), torch.stack([p[1] for p in parts], 1), index


def sliced_attention(q, k, v, mask=None, slice_size: int | None = None) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v for (lead, heads, L, d) inputs, `slice_size` (lead, head) pairs
    at a time as diffusers' SlicedAttnProcessor does (bounded memory where SDPA has no fused kernel)."""
    if not slice_size or q.shape[0] * q.shape[1] <= slice_size:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    lead, heads = q.shape[:2]
    flat = [x.expand(lead, heads, *x.shape[2:]).flatten(0, 1) if x is not None else None for x in (q, k, v, mask)]
    parts = [
        F.scaled_dot_product_attention(*(x[i : i + slice_size] for x in flat[:3]),
                                       attn_mask=flat[3][i : i + slice_size] if mask is not None else None)
        for i in range(0, lead * heads, slice_size)
    ]
    return torch.cat(parts).unflatten(0, (lead, heads))


class ValueMappingProcessor:
    """Self-attention processor with value mapping and optional dual-softmax filtering.

    It wraps the layer's own processor (`original`: AttnProcessor2_0, SlicedAttnProcessor,
    xFormers, a user's): outside the joint phase, with mode "none" and with p = 1 it calls
    `original` as diffusers' `Attention.forward` would, so it computes exactly what the layer
    computed before. In the joint phase it maps values itself, in head slices of the
    original's `slice_size` when it has one (`enable_attention_slicing()`).

    diffusers rebuilds processors by calling their class with no arguments
    (`load_ip_adapter`, `unload_ip_adapter`); such a processor has no controller and is the
    layer's plain attention until a render binds the layer again (`installed_value_mapping`).
    """

    def __init__(self, controller: ValueMappingController | None = None, name: str = "", original=None):
        self.controller = controller
        self.name = name
        self.original = original if original is not None else AttnProcessor2_0()

    def __call__(
        self,
        attn,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
        **kwargs,
    ) -> torch.Tensor:
        ctl = self.controller
        if ctl is None or not ctl.maps_values:
            if temb is not None:
                kwargs["temb"] = temb
            return self.original(
                attn, hidden_states, encoder_hidden_states=encoder_hidden_states, attention_mask=attention_mask, **kwargs
            )
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

    @property
    def slice_size(self) -> int | None:
        """Heads per slice of the mapped attention: the original's, when attention slicing is on."""
        return getattr(self.original, "slice_size", None)

    # ------------------------------------------------------------------ the method
    def _attend(self, attn, query, key, value, attention_mask):
        ctl = self.controller
        batch, tokens, inner = query.shape
        heads = attn.heads
        d = inner // heads
        halves = ctl.num_halves if batch % ctl.num_halves == 0 else 1
        frames = batch // halves
        scale = d**-0.5
        p = ctl.dsf_quantile
        if ctl.record is not None or ctl.record_last is not None:
            _record(ctl, self.name, key, value, halves, frames)
        if ctl.trace is not None:
            _trace(ctl, self.name, frames)

        def heads_first(x: torch.Tensor, lead: int) -> torch.Tensor:  # (lead, n, h*d) -> (lead, h, n, d)
            return x.reshape(lead, -1, heads, d).transpose(1, 2)

        # One gather of the reference frames' keys and values from the pool (anchors + batch).
        k5 = key.view(halves, frames, tokens, inner)
        v5 = value.view(halves, frames, tokens, inner)
        if ctl.num_anchors:
            pool_k, pool_v, index = _anchor_pool(ctl, self.name, k5, v5)
        else:
            pool_k, pool_v, index = k5, v5, ctl.ref_index
        ref_k = pool_k.index_select(1, index)  # (halves, refs, tokens, inner)
        ref_v = pool_v.index_select(1, index)

        shared = ctl.shared_reference and attention_mask is None
        if shared:
            # Every frame's queries against the one reference: the batch's frames become one
            # long query sequence per CFG half, and no per-frame copy of K/V is made.
            q_att = heads_first(query, halves)  # (halves, h, frames*tokens, d), a view
            rk, rv = heads_first(ref_k, halves), heads_first(ref_v, halves)
        else:
            if ctl.shared_reference:  # with an attention mask: one copy per frame
                ref_k = ref_k.expand(halves, frames, tokens, inner)
                ref_v = ref_v.expand(halves, frames, tokens, inner)
            q_att = heads_first(query, batch)
            rk = heads_first(ref_k.reshape(batch, -1, inner), batch)
            rv = heads_first(ref_v.reshape(batch, -1, inner), batch)
        if attn.norm_q is not None:
            q_att = attn.norm_q(q_att)
        if attn.norm_k is not None:
            rk = attn.norm_k(rk)

        if p <= 0.0:
            mapped = sliced_attention(q_att, rk, rv, attention_mask, self.slice_size)
            return mapped.transpose(1, 2).reshape(batch, tokens, inner).to(query.dtype)
        q, own_k, own_v = heads_first(query, batch), heads_first(key, batch), heads_first(value, batch)
        if attn.norm_q is not None:
            q = attn.norm_q(q)
        if attn.norm_k is not None:
            own_k = attn.norm_k(own_k)
        per_image = (lambda x: x[:, None].expand(halves, frames, *x.shape[1:]).flatten(0, 1)) if shared else (lambda x: x)  # noqa: E731
        rk_img, rv_img = per_image(rk), per_image(rv)
        conf = None
        fused = fused_dsf_route(q, rk_img, rv_img, attention_mask)
        if fused is not None:  # CUDA: the score passes fused in Triton (dsf_triton.py)
            mapped, row_lse, conf = fused.mapped_attention_confidence(q, rk_img, rv_img, scale)
            out = mapped.transpose(1, 2).contiguous()
        else:
            mapped, row_lse = attention_lse(q_att, rk, rv, scale, attention_mask)
            out = mapped.transpose(1, 2).reshape(batch, tokens, heads, d)  # token-major, one copy
            row_lse = row_lse.reshape(-1, heads, frames if shared else 1, tokens).transpose(1, 2).reshape(batch, heads, tokens)
        # The reference frame's own queries map to its own values: DSF cannot change them.
        images = non_reference_images(ctl.ref_index, halves, frames) if shared and not ctl.num_anchors else None
        if images is not None:
            sub = out.index_select(0, images)
            picked = (x.index_select(0, images) if x is not None else None for x in (q, rk_img, row_lse, own_k, own_v, conf))
            dsf_fallback(sub, *picked, scale=scale, p=p)
            out.index_copy_(0, images, sub)
        else:
            dsf_fallback(out, q, rk_img, row_lse, own_k, own_v, conf, scale=scale, p=p, attention_mask=attention_mask)
        return out.reshape(batch, tokens, inner).to(query.dtype)


def non_reference_images(ref_index: torch.Tensor, halves: int, frames: int) -> torch.Tensor | None:
    """Batch positions of every frame but the one shared reference (pool index = frame index),
    in both CFG halves; a fixed shape whatever the reference, so one compiled graph serves all."""
    if frames < 2:
        return None
    rest = torch.arange(frames - 1, device=ref_index.device)
    rest = rest + (rest >= ref_index[0]).long()
    return (torch.arange(halves, device=ref_index.device)[:, None] * frames + rest).flatten()


def fused_dsf_route(q, k, v, attention_mask):
    """render/dsf_triton.py when its kernels take these inputs, else None (Triton is imported
    only for CUDA tensors in eager mode; under torch.compile the PyTorch route serves)."""
    if q.device.type != "cuda" or attention_mask is not None or torch.compiler.is_compiling():
        return None
    from . import dsf_triton

    return dsf_triton if dsf_triton.fits(q, k, v, attention_mask) else None


def dsf_fallback(out, q, rk, row_lse, own_k, own_v, conf=None, *, scale: float, p: float, attention_mask=None) -> None:
    """DSF (Eq. 5-6) in place on the mapped output `out` (images, tokens, heads, d): confidence
    from fused kernels (or `conf` (images, heads, tokens) when given), then only the queries
    that fall back attend to their own frame."""
    d = q.shape[-1]
    if conf is None:
        conf = dsf_confidence(q, rk, scale, row_lse)
    idx = fallback_queries(conf, p)  # (images, heads, m)
    picked = q.gather(2, idx[..., None].expand(-1, -1, -1, d))
    mask = attention_mask
    if mask is not None and mask.shape[2] != 1:
        mask = mask.gather(2, idx[..., None].expand(-1, -1, -1, mask.shape[-1]))
    own = F.scaled_dot_product_attention(picked, own_k, own_v, attn_mask=mask)  # (images, heads, m, d)
    out.scatter_(1, idx.transpose(1, 2)[..., None].expand(-1, -1, -1, d), own.transpose(1, 2).to(out.dtype))


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


def _own(processor):
    """The layer's own processor under a value-mapping one (also one diffusers rebuilt without arguments)."""
    return processor.original if isinstance(processor, ValueMappingProcessor) else processor


def bind_processors(unet, controller: ValueMappingController, blocks, bound: dict) -> dict:
    """The processors of a render: value mapping on the chosen layers, each wrapping the layer's
    current processor, and the layers' own elsewhere. `bound` keeps the processors of earlier
    renders by layer; one is reused while it wraps the same original for the same controller,
    so a compiled UNet meets the objects its graphs were traced with."""
    chosen = set(select_self_attention_layers(unet, blocks))
    procs = {}
    for n, p in unet.attn_processors.items():
        own = _own(p)
        if n not in chosen:
            procs[n] = own
            continue
        old = bound.get(n)
        if old is None or old.original is not own or old.controller is not controller:
            bound[n] = ValueMappingProcessor(controller, n.removesuffix(".processor"), own)
        procs[n] = bound[n]
    return procs


@contextlib.contextmanager
def installed_value_mapping(unet, controller: ValueMappingController, blocks, bound: dict | None = None):
    """Value-mapping processors on the chosen layers for the length of one render; afterwards
    every layer has the processor it had before, so a pipeline sharing the UNet (`from_pipe`)
    and the user's own `set_attn_processor` / `enable_attention_slicing` see their own."""
    before = unet.attn_processors
    unet.set_attn_processor(bind_processors(unet, controller, blocks, {} if bound is None else bound))
    try:
        yield
    finally:
        unet.set_attn_processor({n: _own(p) for n, p in before.items()})


def random_draws(seed: int, num_steps: int) -> list[float]:
    """Uniform draws in [0, 1) for the `random` mode, one per joint step, independent of torch's global RNG."""
    g = torch.Generator("cpu").manual_seed(int(seed) % (2**63))
    return torch.rand(num_steps, generator=g, dtype=torch.float64).tolist()


__all__ = [
    "AnchorCache",
    "MODES",
    "PREVIOUS",
    "ValueMappingController",
    "ValueMappingProcessor",
    "bind_processors",
    "random_draws",
    "reference_frames",
    "rotational_reference",
    "select_self_attention_layers",
    "sliced_attention",
    "installed_value_mapping",
]
