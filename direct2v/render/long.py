"""Long videos: more frames than one pass holds (paper 4.3, method.md section 5).

With B frames per pass and N > B frames:

* ``cache`` (the paper's caching process): the first floor(B/2) frames are rendered with
  RVM among themselves as *anchors*; at every joint step and mapped layer the keys and values
  a later pass will read are cached. Each further pass renders up to floor(B/2) new frames
  from the same frame-1 latent schedule, its RVM rotating over anchors + the pass's frames,
  the anchors' keys/values coming from the cache.
* ``t2vz`` (Text2Video-Zero's chunking, the baseline): frame 0 is prepended to each chunk of
  B - 1 new frames and the chunk is rendered on its own; frame 0's repeat is dropped.

Only the cache entries that some later pass reads are kept: for RVM that is one anchor per
step, so the cache costs (steps x mapped layers x 1 frame), not (steps x layers x anchors).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .attention import AnchorCache, ValueMappingController, reference_frames

# Below this much free GPU memory, cache entries go to (pinned) CPU memory instead.
GPU_CACHE_RESERVE_BYTES = 3 * 1024**3


@dataclass(frozen=True)
class Pass:
    frames: list[int]  # global frame indices rendered in this pass
    keep_from: int = 0  # outputs before this position are repeats (t2vz's prepended frame 0)
    role: str = "all"  # "all" | "anchors" | "chunk"


def plan_passes(num_frames: int, frames_per_pass: int, chunking: str = "cache") -> list[Pass]:
    if num_frames <= frames_per_pass:
        return [Pass(list(range(num_frames)))]
    if chunking == "t2vz":
        step = frames_per_pass - 1
        passes = [Pass(list(range(frames_per_pass)), role="anchors")]
        for start in range(frames_per_pass, num_frames, step):
            passes.append(Pass([0] + list(range(start, min(start + step, num_frames))), keep_from=1, role="chunk"))
        return passes
    half = frames_per_pass // 2
    passes = [Pass(list(range(half)), role="anchors")]
    for start in range(half, num_frames, half):
        passes.append(Pass(list(range(start, min(start + half, num_frames))), role="chunk"))
    return passes


def cache_plan(controller: ValueMappingController, num_anchors: int, chunk_sizes: set[int], num_steps: int) -> dict[int, set[int]]:
    """For each joint step, the anchors whose keys/values some chunk pass will read."""
    plan: dict[int, set[int]] = {}
    for t in range(num_steps):
        wanted: set[int] = set()
        for size in chunk_sizes:
            c = controller
            for refs in reference_frames(c.mode, t, num_anchors, size, c.rvm_period, c.random_draws):
                wanted |= {k for k in refs if 0 <= k < num_anchors}
        if wanted:
            plan[t] = wanted
    return plan


def run_passes(
    passes: list[Pass],
    joint: Callable[[list[int], ValueMappingController], torch.Tensor],
    controller: ValueMappingController,
    num_steps: int,
    device: torch.device,
) -> torch.Tensor:
    """Run the joint phase over all passes; return the latents of every frame, in frame order."""
    controller.last_cache_bytes = 0
    if len(passes) == 1:
        return joint(passes[0].frames, controller)

    outputs: list[torch.Tensor] = []
    if passes[1].keep_from:  # t2vz: independent chunks sharing frame 0
        for p in passes:
            outputs.append(joint(p.frames, controller)[p.keep_from :])
        return torch.cat(outputs)

    anchors = passes[0].frames
    sizes = {len(p.frames) for p in passes[1:]}
    every_step = {t: {0} for t in range(num_steps)}
    peak = 0
    cache = AnchorCache(
        cache_plan(controller, len(anchors), sizes, num_steps),
        device=device,
        spill_below_bytes=GPU_CACHE_RESERVE_BYTES,
    )
    controller.record, controller.anchors, controller.num_anchors = cache, None, 0
    causal = controller.mode == "sparse_causal"
    try:
        for i, p in enumerate(passes):
            if i == 1:
                controller.record, controller.anchors, controller.num_anchors = None, cache, len(anchors)
            # Sparse-causal: a pass's first frame attends to the last frame of the pass before it.
            last = i < len(passes) - 1
            controller.previous = controller.record_last
            controller.record_last = AnchorCache(every_step, device, GPU_CACHE_RESERVE_BYTES) if causal and last else None
            outputs.append(joint(p.frames, controller))
            peak = max(peak, cache.nbytes + sum(c.nbytes for c in (controller.previous, controller.record_last) if c))
        controller.last_cache_bytes = peak
    finally:
        controller.record, controller.anchors, controller.num_anchors = None, None, 0
        controller.previous = controller.record_last = None
    return torch.cat(outputs)
