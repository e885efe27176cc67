"""The renderer: a diffusers pipeline plus a small facade that the page, the CLI and the
evaluation call.

    from direct2v.render import load_pipeline, render
    pipe = load_pipeline("tiny")                      # or a hub id / local folder
    result = render(pipe, prompts, RenderSettings(seed=0), on_step=print)
    result.frames                                     # (F, H, W, 3) float32 in [0, 1]

Heavy imports (torch, diffusers) happen on first use.
"""

from __future__ import annotations

from ..lazy import lazy_attributes

_LAZY = {
    "DirecT2VPipeline": "pipeline",
    "DirecT2VPipelineOutput": "pipeline",
    "DirecT2VSDXLPipeline": "sdxl",
    "RenderCancelled": "errors",
    "PromptError": "errors",
    "ModelLoadError": "errors",
    "ModelLoadCancelled": "errors",
    "RenderOutOfMemory": "errors",
    "RenderNonFinite": "errors",
    "make_scheduler": "schedulers",
    "load_pipeline": "loading",
    "tiny_components": "loading",
    "tiny_sdxl_components": "loading",
    "render": "session",
    "RenderResult": "session",
    "StepInfo": "session",
    "latents_to_preview": "preview",
}
__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes(__name__, _LAZY)
