"""The page's panels: each builds its components inside the Blocks being laid out and returns
them by name. `direct2v.ui.layout` puts the panels on the page and gathers their parts into one
`Page`; `direct2v.ui.wiring` connects them.

Which panel holds what:
  header            the title, the server's mode line, the model notice (`notice`)
  direct_panel      1 · Direct: prompt, frames, fps, style, camera, Direct and Stop, the paper's
                    prompts; its boxes are start_picture_box, identity_box and backend_box
  settings_panel    3 · Render settings: RenderSettings' controls, seed used, presets, the model
                    chooser, Save and Load project
  script_panel      2 · Frame script: the table, the strip of rows' pictures, its notes, the row
                    tools, Undo and Redo; its box is row_picture_box (a picture per row)
  output_panel      4 · Render (render_tab_parts) and Compare methods (compare_tab_parts), as tabs
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import gradio as gr

from ..services import runtime as rt
from ..settings import DirectorOptions, RenderSettings
from . import compare as compare_tab
from . import controls
from . import direct
from . import identity as identity_tab
from . import models as model_chooser
from . import row_pictures
from . import start_image as image_tab
from . import table as table_tab
from .controls import SETTING_NAMES, build_controls

DEFAULTS = RenderSettings()

INTRO = """
# DirecT2V Studio
One prompt → an LLM **director** writes a prompt per frame → Stable Diffusion renders them into
a video with **rotational value mapping** and **dual-softmax filtering** (zero-shot; after
*DirecT2V: Large Language Models are Frame-Level Directors for Zero-Shot Text-to-Video Generation*).
"""


class Page(SimpleNamespace):
    """Every part of the page by name (the panels' dicts together), plus the groups the wiring
    passes around: `settings` (RenderSettings' controls by name, in SETTING_NAMES order),
    `setting_list` (the same, as a list) and `director_fields` (DIRECTOR_FIELDS by name)."""

    @classmethod
    def of(cls, parts: dict[str, Any]) -> "Page":
        settings = {name: parts["settings"][name] for name in SETTING_NAMES}
        # Director fields travel by name (DIRECTOR_FIELDS); the key only to the director's handlers.
        director_fields = {name: parts[name] for name in ("style", "camera", "backend", "llm_model", "base_url")}
        assert tuple(director_fields) == tuple(direct.DIRECTOR_FIELDS)
        return cls(**{**parts, "settings": settings, "setting_list": list(settings.values()),
                      "director_fields": director_fields})


def header() -> dict[str, Any]:
    """The title, the server's mode (so a visitor knows what is theirs to choose) and the
    model line (`notice`)."""
    gr.Markdown(INTRO, elem_id="intro")
    gr.Markdown(lambda: rt.RUNTIME.policy.mode_line(), elem_id="server-mode", elem_classes=["notice"])
    return {"notice": gr.Markdown(model_chooser.model_notice, elem_id="model-notice", elem_classes=["notice"])}


def direct_panel(examples: list[dict]) -> dict[str, Any]:
    """1 · Direct: the prompt, frames and fps, style and camera, the start picture, the identity
    picture and the director's back end, with Direct and Stop."""
    with gr.Column(elem_classes=["panel"], elem_id="direct-panel"):
        gr.Markdown("### 1 · Direct", elem_classes=["step-title"])
        user_prompt = gr.Textbox(value="", label="Prompt", placeholder="A corgi is running, and another corgi joins later",
                                 lines=2, max_lines=6, elem_id="user-prompt")
        with gr.Row():
            num_frames = controls.schema_control(DirectorOptions, "num_frames", DirectorOptions().num_frames)
            fps = build_controls("direct", defaults=DEFAULTS)["fps"]
        with gr.Row():
            style = gr.Textbox(value="", label="Style (optional)", placeholder="watercolor, 35 mm film, anime…", elem_id="style")
            camera = gr.Dropdown(direct.CAMERA_CHOICES, value="", label="Camera", allow_custom_value=True, elem_id="camera")
        parts = dict(user_prompt=user_prompt, num_frames=num_frames, fps=fps, style=style, camera=camera)
        parts.update(start_picture_box())
        parts.update(identity_box())
        parts.update(backend_box())
        with gr.Row(elem_id="direct-actions"):
            parts["direct_btn"] = gr.Button("Direct ▸", variant="primary", min_width=0, elem_id="direct-btn")
            parts["stop_direct_btn"] = gr.Button("Stop", variant="stop", scale=0, min_width=80, elem_id="stop-direct")
        if examples:
            gr.Examples(
                examples=[[e["prompt"], e["frames"], e["fps"]] for e in examples],
                inputs=[user_prompt, num_frames, fps],
                label="The paper's prompts (work offline)",
                examples_per_page=4,
                # One line per example: a three-column table is wider than a phone.
                example_labels=[e["prompt"] for e in examples],
            )
    return parts


def start_picture_box() -> dict[str, Any]:
    """"Start from a picture": the picture, its settings (group 'image'), Use frame k, the crop note."""
    with gr.Accordion("Start from a picture (optional)", open=False, elem_id="start-image-box") as start_box:
        start_image = image_tab.decode_once(gr.Image(
            label="Frame 1 is this picture (upload or paste)", type="numpy", image_mode="RGB",
            sources=["upload", "clipboard"], height=220, elem_id="start-image",
        ))
        image_controls = build_controls("image")
        with gr.Row(elem_classes=["row-tools"]):
            use_k = gr.Number(value=1, precision=0, minimum=1, label="Frame", min_width=70, scale=0, elem_id="use-frame-k")
            use_frame_btn = gr.Button("Use frame k of the last render", size="sm", elem_id="use-frame")
        crop = gr.Markdown(image_tab.crop_note(None, 512, 512), elem_id="start-image-crop")
    return dict(start_box=start_box, start_image=start_image, image_controls=image_controls, use_k=use_k,
                use_frame_btn=use_frame_btn, crop=crop)


def identity_box() -> dict[str, Any]:
    """"Keep this identity": the reference picture and its strength (group 'identity')."""
    with gr.Accordion("Keep this identity (optional)", open=False, elem_id="identity-box") as identity_box:
        identity_image = image_tab.decode_once(gr.Image(
            label="This character, face or product in every frame (upload or paste)", type="numpy",
            image_mode="RGB", sources=["upload", "clipboard"], height=220, elem_id="identity-image",
        ))
        identity_controls = build_controls("identity")
        gr.Markdown(identity_tab.identity_note, elem_id="identity-note")
    return dict(identity_box=identity_box, identity_image=identity_image, identity_controls=identity_controls)


def key_label(policy) -> str:
    """The key box says what a blank key means on this server: the owner's environment only
    where the owner shares it (a public server's visitors sign in or bring their own)."""
    if not policy.public:
        blank = "blank = environment"
    elif policy.share_keys:
        blank = f"blank = the owner's key for {', '.join(sorted(policy.share_keys))}, else your sign-in"
    else:
        blank = "blank = your Hugging Face sign-in (Hugging Face inference only)"
    return f"API key (used for this request only; never saved or logged; {blank})"


def base_url_hint(policy) -> str:
    """A loopback example only where this server may reach loopback (a public one may not)."""
    if not policy.public:
        return "http://127.0.0.1:11434/v1"
    return policy.base_urls[0] if policy.base_urls else "https://… (a public https host)"


def backend_box() -> dict[str, Any]:
    """"Director back end": the back end, its model, base URL and key."""
    with gr.Accordion("Director back end", open=False, elem_id="backend-box"):
        initial = direct.initial_backend()
        backend = gr.Radio(direct.BACKENDS, value=initial, label="Back end", elem_id="backend")
        llm_model = gr.Textbox(value="", label="LLM model", visible=initial != "offline",
                               placeholder=direct.BACKEND_MODEL_HINTS.get(initial, ""), elem_id="llm-model")
        base_url = gr.Textbox(value="", label="Base URL", placeholder=base_url_hint(rt.RUNTIME.policy), visible=False,
                              elem_id="base-url")
        api_key = gr.Textbox(
            value="", label=key_label(rt.RUNTIME.policy),
            type="password", visible=initial in ("openai", "gemini", "huggingface"), elem_id="api-key",
        )
        if os.environ.get("SPACE_ID"):
            # On a Space, Hugging Face inference runs on the visitor's own sign-in and quota.
            gr.LoginButton(elem_id="hf-login")
        # Each back end keeps its own model name (switching must not carry "llama3.1" from one
        # to another).
        backend_models = gr.State({})
        shown_backend = gr.State(initial)
    return dict(backend=backend, llm_model=llm_model, base_url=base_url, api_key=api_key,
                backend_models=backend_models, shown_backend=shown_backend)


def settings_panel(image_controls: dict[str, Any], identity_controls: dict[str, Any]) -> dict[str, Any]:
    """3 · Render settings: the controls (RenderSettings' knobs, with the start picture's and the
    identity's), the seed used, presets, the model chooser and the project's Save and Load."""
    with gr.Column(elem_classes=["panel"], elem_id="settings-panel"):
        gr.Markdown("### 3 · Render settings", elem_classes=["step-title"])
        settings = build_controls("main")
        settings.update(image_controls)
        settings.update(identity_controls)
        with gr.Row():
            # A text box: an empty Number shows 0, which reads as a seed that was used.
            used_seed = gr.Textbox(value="", placeholder="none yet", label="Seed used", interactive=False, elem_id="used-seed")
            reuse_btn = gr.Button("Reuse", size="sm", scale=0, min_width=70, elem_id="reuse-seed")
        with gr.Row():
            paper_btn = gr.Button("Paper preset (PNDM, 100 steps, t0=90, t1=95, guidance 12)", size="sm", elem_id="paper-preset")
            default_btn = gr.Button("Default preset", size="sm", elem_id="default-preset")
        # What a preset or a change of Steps did to the other settings.
        settings_note = gr.Markdown("", elem_id="settings-note", elem_classes=["status"])
        with gr.Accordion("Advanced", open=False, elem_id="advanced"):
            settings.update(build_controls("advanced"))
        chooser = model_chooser.build()
        # [Steps, t0, t1] as the person last set them: Steps changes scale t0 and t1 from here.
        window = gr.State(controls.motion_window(DEFAULTS.num_inference_steps, DEFAULTS.t0, DEFAULTS.t1))
        parts = dict(settings=settings, used_seed=used_seed, reuse_btn=reuse_btn, paper_btn=paper_btn,
                     default_btn=default_btn, settings_note=settings_note, chooser=chooser, window=window)
        parts.update(project_buttons())
    return parts


def project_buttons() -> dict[str, Any]:
    """Save project and Load project or output, with their own status line and the saved file."""
    with gr.Row():
        save_btn = gr.Button("Save project", size="sm", elem_id="save-project")
        load_btn = gr.UploadButton(
            "Load project or output…", file_types=[".json", ".png", ".mp4", ".gif", ".zip"], size="sm", elem_id="load-project"
        )
    # Saving and loading answer here, beside their buttons (not under Render, off-screen).
    project_status = gr.Markdown("", elem_id="project-status", elem_classes=["status"])
    project_file = gr.File(label="Project file", visible=False, interactive=False, elem_id="project-file")
    return dict(save_btn=save_btn, load_btn=load_btn, project_status=project_status, project_file=project_file)


def script_panel() -> dict[str, Any]:
    """2 · Frame script: the table, the strip of the rows' own pictures, its notes, the row tools,
    the director's row actions, Undo and Redo, and the picture of the selected row."""
    with gr.Column(elem_classes=["panel"], elem_id="script-panel"):
        gr.Markdown("### 2 · Frame script", elem_classes=["step-title"])
        table = gr.Dataframe(
            value=[], headers=table_tab.TABLE_HEADERS, datatype=["str", "str"], type="array", interactive=True,
            static_columns=[1],
            column_widths=["auto", "84px"],  # assets/style.css fits them to the width
            show_row_numbers=True, wrap=True, max_height=240,
            label="One prompt per frame: click a cell to edit, click a row to select it", elem_id="frame-table",
        )
        # Rows with a picture of their own (a Dataframe cannot show pictures), under the table.
        row_strip = gr.Gallery(
            label="Rows with their own picture (click one to select its row)", visible=False, columns=8,
            height="auto", object_fit="contain", allow_preview=False, format="png", fit_columns=False,
            interactive=False, elem_id="row-pictures",
        )
        notes = gr.Markdown(table_tab.table_notes([]), elem_id="table-notes", elem_classes=["status"])
        with gr.Row(elem_classes=["row-tools"], elem_id="row-tools"):
            row = gr.Number(value=1, precision=0, minimum=1, label="Selected row", min_width=180, scale=0, elem_id="row")
            add_btn = gr.Button("+ Add", size="sm", min_width=0, elem_id="add-row")
            del_btn = gr.Button("✕ Delete", size="sm", min_width=0, elem_id="delete-row")
            up_btn = gr.Button("↑ Up", size="sm", min_width=0, elem_id="row-up")
            down_btn = gr.Button("↓ Down", size="sm", min_width=0, elem_id="row-down")
        with gr.Row(elem_classes=["row-tools"]):
            redirect_btn = gr.Button("↻ Re-direct row", size="sm", min_width=0, elem_id="redirect-row")
            redirect_all_btn = gr.Button("↻ Re-direct all", size="sm", min_width=0, elem_id="redirect-all")
            double_btn = gr.Button("×2 Double frame rate", size="sm", min_width=0, elem_id="double-fps")
            undo_btn = gr.Button("↶ Undo", size="sm", min_width=0, elem_id="undo")
            redo_btn = gr.Button("↷ Redo", size="sm", min_width=0, elem_id="redo")
        parts = dict(table=table, notes=notes, row=row, add_btn=add_btn, del_btn=del_btn, up_btn=up_btn,
                     down_btn=down_btn, redirect_btn=redirect_btn, redirect_all_btn=redirect_all_btn,
                     double_btn=double_btn, undo_btn=undo_btn, redo_btn=redo_btn, row_strip=row_strip)
        parts.update(row_picture_box())
    return parts


def row_picture_box() -> dict[str, Any]:
    """"Pictures per row": the selected row's own identity picture (it holds from that row on,
    until the next row with one), Remove, and "No picture from this row" (ui/row_pictures.py)."""
    with gr.Accordion("Pictures per row (optional): an identity from a row on", open=False, elem_id="row-picture-box"):
        with gr.Row(equal_height=False):
            row_image = image_tab.decode_once(gr.Image(
                label="Selected row's picture", type="numpy", image_mode="RGB", sources=["upload", "clipboard"],
                height=180, scale=2, min_width=160, elem_id="row-image",
            ))
            with gr.Column(scale=3, min_width=160):
                gr.Markdown(row_pictures.BOX_NOTE, elem_id="row-picture-note")
                row_picture_line = gr.Markdown("", elem_id="row-picture-line", elem_classes=["status"])
                with gr.Row(elem_classes=["row-tools"]):
                    remove_picture_btn = gr.Button("✕ Remove its picture", size="sm", min_width=0, elem_id="remove-row-picture")
                    no_picture_btn = gr.Button("∅ No picture from this row", size="sm", min_width=0, elem_id="no-row-picture")
    return dict(row_image=row_image, row_picture_line=row_picture_line, remove_picture_btn=remove_picture_btn,
                no_picture_btn=no_picture_btn)


def output_panel() -> dict[str, Any]:
    """4 · Render and Compare methods, as two tabs of one panel."""
    with gr.Column(elem_classes=["panel"], elem_id="render-panel"):
        with gr.Tabs(elem_id="output-tabs"):
            with gr.Tab("4 · Render", elem_id="render-tab"):
                parts = render_tab_parts()
            with gr.Tab("Compare methods", elem_id="compare-tab"):
                parts.update(compare_tab_parts())
    return parts


def render_tab_parts() -> dict[str, Any]:
    """Render, Render final, Cancel and the phone's settings button; the status line, the live
    preview, the video, the downloads and this session's renders."""
    with gr.Row():
        render_btn = gr.Button("Render ▸", variant="primary", min_width=0, elem_id="render-btn")
        # A draft's table, seed and settings at full quality (Draft off).
        final_btn = gr.Button("Render final ▸", min_width=0, elem_id="render-final-btn")
        cancel_btn = gr.Button("Cancel", variant="stop", min_width=0, elem_id="cancel-btn")
        # Phones only (assets/style.css): the render settings as a drawer over the page, so
        # Steps and size are one tap away from Render.
        drawer_btn = gr.Button("⚙ Settings", size="sm", min_width=0, scale=0, elem_id="settings-drawer-btn")
    status = gr.Markdown("Ready.", elem_id="render-status", elem_classes=["status"])
    preview = gr.Gallery(
        label="Frames (live preview while rendering)",
        columns=8,  # assets/style.css keeps a frame one column wide, so the preview stays in view
        height="auto", object_fit="contain", allow_preview=True, preview=False, format="png", fit_columns=False,
        interactive=False,  # an input of "Use frame k", but nothing to upload into
        elem_id="preview",
    )
    video = gr.Video(label="Video", autoplay=True, loop=True, interactive=False, height=360, elem_id="video")
    downloads = gr.File(label="Downloads (mp4, gif, zip of PNG frames; each holds its project)", file_count="multiple",
                        interactive=False, elem_id="downloads")
    history = gr.Gallery(
        label="This session's renders (click one to restore its table and settings)",
        columns=6,
        fit_columns=False,  # one render is one square, not a strip across the page
        height="auto", object_fit="contain", allow_preview=False, format="png", elem_id="history",
    )
    history_state = gr.State([])
    return dict(render_btn=render_btn, final_btn=final_btn, cancel_btn=cancel_btn, drawer_btn=drawer_btn, status=status,
                preview=preview, video=video, downloads=downloads, history=history, history_state=history_state)


def compare_tab_parts() -> dict[str, Any]:
    """Compare methods: the methods to tick, Compare and Cancel, and the results."""
    gr.Markdown(
        "Render the table with each method (same seed and settings) and score every "
        "frame against its prompt with CLIP: the paper's Table 1 for your prompt. "
        "RVM + DSF uses the DSF quantile from the settings (0.2 when it is 0).",
    )
    compare_choice = gr.CheckboxGroup(compare_tab.COMPARE_METHODS, value=compare_tab.DEFAULT_COMPARE, label="Methods",
                                      elem_id="compare-methods")
    with gr.Row():
        compare_btn = gr.Button("Compare ▸", variant="primary", min_width=0, elem_id="compare-btn")
        compare_cancel_btn = gr.Button("Cancel", variant="stop", min_width=0, elem_id="compare-cancel-btn")
    compare_status = gr.Markdown("Ready.", elem_id="compare-status", elem_classes=["status"])
    compare_video = gr.Video(label="Side by side, in sync", autoplay=True, loop=True, interactive=False, height=300,
                             elem_id="compare-video")
    compare_table = gr.Markdown(elem_id="compare-table")
    # The plot carries its own title; a label over it would hide it.
    compare_plot = gr.Image(type="filepath", interactive=False, show_label=False, elem_id="compare-plot")
    return dict(compare_choice=compare_choice, compare_btn=compare_btn, compare_cancel_btn=compare_cancel_btn,
                compare_status=compare_status, compare_video=compare_video, compare_table=compare_table,
                compare_plot=compare_plot)
