"""`render()`: the one call the page, the CLI and the evaluation make.

It turns a `RenderSettings` into a pipeline call: resolves the seed (-1 draws one and the
result reports it), swaps the scheduler, reports progress with cheap previews, polls for
cancellation, and turns CUDA out-of-memory into a message that says what to lower.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ..frames import check_frame_count, check_frame_prompts
from ..settings import RenderSettings, resolve_seed
from .compiled import compile_unet
from .draft import use_draft
from .errors import RenderCancelled, RenderOutOfMemory
from .ip_adapter import reference_kwargs
from .memory import enable_low_memory, plan_frames_per_pass
from .preview import latents_to_preview


@dataclass
class StepInfo:
    step: int  # UNet steps done, over the whole render
    total: int
    phase: str  # "first frame", "joint", ...
    elapsed_s: float
    eta_s: float | None
    frames: list[int] = field(default_factory=list)  # global frame indices the preview shows
    preview: np.ndarray | None = None  # (len(frames), h, w, 3) uint8, every `preview_every` steps


@dataclass
class RenderResult:
    frames: np.ndarray  # (F, H, W, 3) float32 in [0, 1]
    seed: int
    elapsed_s: float
    settings: RenderSettings  # with the seed actually used
    anchor_cache_bytes: int = 0
    peak_bytes: int | None = None  # peak GPU memory of the render (CUDA only)


def release_memory() -> None:
    """Free what a failed or cancelled render left: collect its objects, then return cached GPU blocks."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def use_scheduler(pipe, name: str) -> None:
    from .schedulers import make_scheduler

    base = getattr(pipe, "_base_scheduler_config", None)
    if base is None:
        base = pipe._base_scheduler_config = dict(pipe.scheduler.config)
    if getattr(pipe, "_scheduler_name", None) != name:
        pipe.scheduler = make_scheduler(name, base)
        pipe._scheduler_name = name


def render(
    pipe,
    prompts: list[str],
    settings: RenderSettings,
    *,
    on_step: Callable[[StepInfo], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    preview_every: int = 5,
    image=None,
    ip_image=None,
    token=None,
    listed=None,
) -> RenderResult:
    """Render `prompts` (one per frame) with `settings`. Raises PromptError/SettingsError on bad
    input, RenderCancelled when `should_cancel()` turns true, RenderOutOfMemory on CUDA OOM.
    `image` (path, PIL image, array or tensor) is the start picture for frame 1 (start_image.py);
    `ip_image` the loaded IP-Adapter's reference: one picture for every frame, a list with one
    (or None) per frame, or {first frame: picture} spans (ip_adapter.py), at settings.ip_adapter_scale.
    A draft (`settings.draft`) renders `settings.for_render()` with the few-step LoRA (draft.py),
    loaded with `token` and, on a public server, only when `listed`; the result keeps `settings`."""
    prompts = check_frame_prompts(prompts)
    check_frame_count(len(prompts))  # a video, not a still: the page's, the CLI's and the director's rule
    settings = settings.replace(seed=resolve_seed(settings.seed))
    # The pipeline's one gate, on what renders (a draft's settings), before the scheduler or memory plan use it.
    pipe.check_inputs(prompts, settings.for_render())
    call = prepare_pipe(pipe, settings, token=token, listed=listed)
    cuda = torch.cuda.is_available() and pipe.device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    out = call_pipeline(
        pipe, prompts, call, generator=torch.Generator("cpu").manual_seed(settings.seed), image=image,
        callback_on_step_end=step_reporter(on_step, should_cancel, preview_every, start),
        **reference_kwargs(pipe, ip_image, settings.ip_adapter_scale),
    )
    return RenderResult(
        frames=out.frames,
        seed=settings.seed,
        elapsed_s=time.perf_counter() - start,
        settings=settings,
        anchor_cache_bytes=out.anchor_cache_bytes,
        peak_bytes=torch.cuda.max_memory_allocated() if cuda else None,
    )


def prepare_pipe(pipe, settings: RenderSettings, token=None, listed=None) -> RenderSettings:
    """Put the render's draft LoRA, scheduler, compilation and memory plan on `pipe`; the settings
    the pipeline is called with (a draft's, frames per pass fitted to memory under low_memory)."""
    call = settings.for_render()
    use_draft(pipe, settings.draft, settings.draft_lora, token=token, listed=listed)
    use_scheduler(pipe, call.scheduler)
    if settings.compile:
        compile_unet(pipe)
    if settings.low_memory:
        enable_low_memory(pipe)
        call = call.replace(frames_per_pass=plan_frames_per_pass(pipe, settings.height, settings.width, settings.frames_per_pass))
    return call


def step_reporter(
    on_step: Callable[[StepInfo], None] | None, should_cancel: Callable[[], bool] | None, preview_every: int, start: float
) -> Callable:
    """The pipeline's step-end callback for `render`: a StepInfo to `on_step` (with a preview every
    `preview_every` steps and at the end), and the render interrupted once `should_cancel()` is true."""

    def callback(p, index: int, t, tensors: dict) -> dict:
        done = index + 1
        total = max(p.num_timesteps, done)
        elapsed = time.perf_counter() - start
        info = StepInfo(
            step=done, total=total, phase=p.phase, elapsed_s=elapsed, eta_s=elapsed / done * (total - done), frames=p.frame_ids
        )
        if preview_every and (done % preview_every == 0 or done == total):
            info.preview = latents_to_preview(tensors["latents"])
        if on_step is not None:
            on_step(info)
        if should_cancel is not None and should_cancel():
            p._interrupt = True
        return {}

    return callback


def call_pipeline(pipe, prompts: list[str], settings: RenderSettings, **kwargs):
    """`pipe(prompts, settings=settings, **kwargs)`, CUDA out-of-memory turned into RenderOutOfMemory
    with what to lower, after the failed render's memory is free."""
    try:
        return pipe(prompts, settings=settings, **kwargs)
    except torch.cuda.OutOfMemoryError:
        # The exception's traceback holds the render's frames and so its latents and
        # activations: leave this block (which drops it) before freeing and reporting.
        pass
    except RenderCancelled:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        raise
    release_memory()
    raise RenderOutOfMemory(
        f"Out of GPU memory rendering {len(prompts)} frames at {settings.width}x{settings.height}. "
        "Lower the size or the frames per pass, or turn DSF off on all layers."
    )
