"""The Gradio Blocks page: `build_ui` lays out the panels (panels.py) and wires them (wiring.py);
the work is in the handlers of each part of the page; `launch_kwargs` holds the page's CSS and head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ..services import runtime as rt
from ..services.turns import Turns
from . import direct
from . import panels
from . import wiring
from .panels import Page

ASSETS = Path(__file__).resolve().parents[2] / "assets"
CSS_PATH = ASSETS / "style.css"
KEYS_PATH = ASSETS / "keys.js"  # Ctrl+Enter renders, Enter in the prompt directs, Ctrl+Z / Ctrl+Shift+Z


def page_css() -> str:
    try:
        return CSS_PATH.read_text(encoding="utf-8")
    except OSError:
        return ""


def build_ui(title: str = "DirecT2V Studio", render_concurrency: int = 1, queue_size: int = 16) -> gr.Blocks:
    """The page. Call `.queue(...)` and `.launch(**launch_kwargs())` on what it returns.

    Renders and comparisons run `render_concurrency` at a time (one per GPU) and wait in the
    page's own visible line of at most `queue_size` (turns.py); everything else is light.

    Wide screens: Direct and the render settings on the left; the frame script, Render and
    the live preview on the right, so the table and the preview are on screen together.
    Below 720 px it is one column in the order of work: Direct, script, Render, settings
    (assets/style.css). The panels are in direct2v.ui.panels, their events in direct2v.ui.wiring.
    """
    rt.RUNTIME.turns = Turns(slots=render_concurrency, max_waiting=queue_size, per_visitor=rt.RUNTIME.policy.per_visitor)
    examples = direct.load_examples()
    # A public server also deletes uploads and outputs an hour old (Gradio's cache), beside the
    # bounded store and each visitor's files going when they leave.
    delete_cache = (900, 3600) if rt.RUNTIME.policy.public else None
    with gr.Blocks(title=title, fill_width=False, delete_cache=delete_cache) as demo:
        parts = panels.header()
        with gr.Row(equal_height=False, elem_id="main-row"):
            with gr.Column(scale=5, min_width=0, elem_id="left-col"):
                parts.update(panels.direct_panel(examples))
                parts.update(panels.settings_panel(parts["image_controls"], parts["identity_controls"]))
            with gr.Column(scale=7, min_width=0, elem_id="right-col"):
                parts.update(panels.script_panel())
                parts.update(panels.output_panel())
        wiring.wire_page(Page.of(parts), demo)
    return demo


# Gradio scopes the media queries of launch(css=...) to elements inside the page's content,
# so the 32 px gutters around it (a sixth of a phone's width) are narrowed from <head>.
PAGE_HEAD = (
    "<style>@media (max-width: 720px) { .gradio-container > .main { "
    "padding-left: 8px !important; padding-right: 8px !important; } }</style>"
)


def page_head() -> str:
    """The <head> additions: the phone gutters and the keyboard shortcuts (assets/keys.js)."""
    try:
        keys = KEYS_PATH.read_text(encoding="utf-8")
    except OSError:
        keys = ""
    return PAGE_HEAD + (f"<script>{keys}</script>" if keys else "")


# The largest upload a visitor of a public server may send: a project zip with its picture,
# or a 64-frame PNG zip at 1024x1024, fits; Gradio refuses larger ones before saving them.
PUBLIC_MAX_FILE_SIZE = "100mb"


def launch_kwargs(**extra: Any) -> dict[str, Any]:
    """Arguments Gradio 6 takes at launch rather than in Blocks(); on a public server also
    Gradio's upload limit."""
    from ..services import runtime as rt

    limit = {"max_file_size": PUBLIC_MAX_FILE_SIZE} if rt.RUNTIME.policy.public else {}
    return {"css": page_css(), "head": page_head(), "theme": gr.themes.Soft(primary_hue="indigo"), **limit, **extra}
