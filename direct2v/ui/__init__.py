"""The Gradio page: `build_ui()` lays it out; `handlers` holds the plain event functions;
`runtime` holds the loaded model, cancel flags and the GPU render stream."""

from .layout import build_ui, launch_kwargs, page_css
from .runtime import DEFAULT_MODEL, RUNTIME, configure

__all__ = ["build_ui", "launch_kwargs", "page_css", "configure", "RUNTIME", "DEFAULT_MODEL"]
