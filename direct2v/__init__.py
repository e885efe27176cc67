"""DirecT2V Studio: LLM-directed zero-shot text-to-video.

`import direct2v` stays light: torch and diffusers load only when the renderer is touched,
so the director and the CLI's `direct` command work without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_attributes
from .settings import PRESETS, Project, RenderSettings, SettingsError

__version__ = "0.1.0"
__all__ = ["DirecT2VPipeline", "DirecT2VSDXLPipeline", "Project", "RenderSettings", "SettingsError", "PRESETS", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from .render.pipeline import DirecT2VPipeline
    from .render.sdxl import DirecT2VSDXLPipeline


__getattr__ = lazy_attributes(__name__, {"DirecT2VPipeline": "render.pipeline", "DirecT2VSDXLPipeline": "render.sdxl"})
