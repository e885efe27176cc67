"""The Gradio page. `layout.build_ui()` lays it out; the event handlers are plain functions,
one module per concern: `table` (the frame table), `direct` (the director), `controls`
(render settings, built from RenderSettings' metadata), `project` (save/load), `render` and
`compare` (the two GPU tabs). `runtime` holds the loaded model, cancel flags and the GPU
streams; `jobs` runs a GPU job in a worker thread and streams it, cancellable."""

from .layout import build_ui, launch_kwargs, page_css
from .runtime import DEFAULT_MODEL, RUNTIME, configure

__all__ = ["build_ui", "launch_kwargs", "page_css", "configure", "RUNTIME", "DEFAULT_MODEL"]
