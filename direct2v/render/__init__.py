"""The renderer: a diffusers pipeline plus a small facade that the page, the CLI and the
evaluation call.

    from direct2v.render import load_pipeline, render
    pipe = load_pipeline("tiny")                      # or a hub id / local folder
    result = render(pipe, prompts, RenderSettings(seed=0), on_step=print)
    result.frames                                     # (F, H, W, 3) float32 in [0, 1]

Heavy imports (torch, diffusers) happen on first use.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "DirecT2VPipeline": "pipeline",
    "DirecT2VPipelineOutput": "pipeline",
    "DirecT2VSDXLPipeline": "sdxl",
    "RenderCancelled": "errors",
    "PromptError": "errors",
    "ModelLoadError": "errors",
    "RenderOutOfMemory": "errors",
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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        mod = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(mod, name)
    raise AttributeError(f"module 'direct2v.render' has no attribute {name!r}")
