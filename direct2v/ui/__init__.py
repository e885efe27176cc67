"""The Gradio page: `layout.build_ui()` lays it out; the event handlers are plain functions,
one module per part of the page: `table` (the frame table), `direct` (the director),
`controls` (render settings, built from RenderSettings' metadata), `models` (the model
chooser), `project` (save/load), `history`, `start_image`, and `render` and `compare` (the
two GPU tabs, which share `gpu_jobs` and never import each other). `messages` puts failures
into the page's status lines; `files` is the output store in Gradio's folder.

What the page holds and runs (the model, the GPU line, jobs, the store) is in
`direct2v.services`, which never imports Gradio."""

from ..services.runtime import DEFAULT_MODEL, RUNTIME, configure
from .layout import build_ui, launch_kwargs, page_css

__all__ = ["build_ui", "launch_kwargs", "page_css", "configure", "RUNTIME", "DEFAULT_MODEL"]
