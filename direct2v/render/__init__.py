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

# Each public name and the module it lives in, grouped by module.
_LAZY = {
    **dict.fromkeys(("DirecT2VPipeline", "DirecT2VPipelineOutput"), "pipeline"),
    "DirecT2VSDXLPipeline": "sdxl",
    **dict.fromkeys(("RenderCancelled", "PromptError", "ModelLoadError", "ModelLoadCancelled", "RenderOutOfMemory",
                     "RenderNonFinite"), "errors"),
    "make_scheduler": "schedulers",
    **dict.fromkeys(("load_pipeline", "tiny_components", "tiny_sdxl_components"), "loading"),
    **dict.fromkeys(("render", "RenderResult", "StepInfo"), "session"),
    "latents_to_preview": "preview",
}
__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes(__name__, _LAZY)
