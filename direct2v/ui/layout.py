"""The Gradio Blocks page: components and wiring only; the work is in `handlers`."""

from __future__ import annotations

import os

from pathlib import Path
from typing import Any

import gradio as gr

from ..settings import DirectorOptions, RenderSettings
from . import compare as compare_tab
from . import controls
from . import direct
from . import gpu_jobs
from . import messages as msg
from . import models as model_chooser
from . import project
from . import history as hist
from . import render as render_tab
from ..services import runtime as rt
from . import identity as identity_tab
from . import start_image as image_tab
from . import table as table_tab
from .controls import SETTING_NAMES, build_controls, steps_changed
from ..services.turns import Turns

ASSETS = Path(__file__).resolve().parents[2] / "assets"
CSS_PATH = ASSETS / "style.css"
KEYS_PATH = ASSETS / "keys.js"  # Ctrl+Enter renders, Enter in the prompt directs, Ctrl+Z / Ctrl+Shift+Z
DEFAULTS = RenderSettings()


def page_css() -> str:
    try:
        return CSS_PATH.read_text(encoding="utf-8")
    except OSError:
        return ""


# Clicks the first cell of row `r` (1-based) once the table has its new rows, so the
# Dataframe's own selection, which the highlight follows, is the row the tools act on (the
# Dataframe selects on mousedown, so a bare click() would not do).
SELECT_ROW_JS = """(r) => { setTimeout(() => {
  const cell = document.querySelector(`#frame-table [data-testid="cell-${Number(r) - 1}-0"]`);
  for (const type of ["mousedown", "mouseup", "click"])
    cell?.dispatchEvent(new MouseEvent(type, {bubbles: true, cancelable: true, view: window, button: 0}));
}, 150); }"""

INTRO = """
# DirecT2V Studio
One prompt → an LLM **director** writes a prompt per frame → Stable Diffusion renders them into
a video with **rotational value mapping** and **dual-softmax filtering** (zero-shot; after
*DirecT2V: Large Language Models are Frame-Level Directors for Zero-Shot Text-to-Video Generation*).
"""


def build_ui(title: str = "DirecT2V Studio", render_concurrency: int = 1, queue_size: int = 16) -> gr.Blocks:
    """The page. Call `.queue(...)` and `.launch(**launch_kwargs())` on what it returns.

    Renders and comparisons run `render_concurrency` at a time (one per GPU) and wait in the
    page's own visible line of at most `queue_size` (turns.py); everything else is light.

    Wide screens: Direct and the render settings on the left; the frame script, Render and
    the live preview on the right, so the table and the preview are on screen together.
    Below 720 px it is one column in the order of work: Direct, script, Render, settings
    (assets/style.css).
    """
    rt.RUNTIME.turns = Turns(slots=render_concurrency, max_waiting=queue_size, per_visitor=rt.RUNTIME.policy.per_visitor)
    examples = direct.load_examples()
    # A public server also deletes uploads and outputs an hour old (Gradio's cache), beside the
    # bounded store and each visitor's files going when they leave.
    delete_cache = (900, 3600) if rt.RUNTIME.policy.public else None
    with gr.Blocks(title=title, fill_width=False, delete_cache=delete_cache) as demo:
        gr.Markdown(INTRO, elem_id="intro")
        # Which mode the server is in, so a visitor knows what is theirs to choose.
        gr.Markdown(lambda: rt.RUNTIME.policy.mode_line(), elem_id="server-mode", elem_classes=["notice"])
        notice = gr.Markdown(model_chooser.model_notice, elem_id="model-notice", elem_classes=["notice"])

        with gr.Row(equal_height=False, elem_id="main-row"):
            with gr.Column(scale=5, min_width=0, elem_id="left-col"):
                # ----------------------------------------------------- 1. direct
                with gr.Column(elem_classes=["panel"], elem_id="direct-panel"):
                    gr.Markdown("### 1 · Direct", elem_classes=["step-title"])
                    user_prompt = gr.Textbox(
                        value="",
                        label="Prompt",
                        placeholder="A corgi is running, and another corgi joins later",
                        lines=2,
                        max_lines=6,
                        elem_id="user-prompt",
                    )
                    with gr.Row():
                        num_frames = controls.schema_control(DirectorOptions, "num_frames", DirectorOptions().num_frames)
                        fps = build_controls("direct", defaults=DEFAULTS)["fps"]
                    with gr.Row():
                        style = gr.Textbox(value="", label="Style (optional)", placeholder="watercolor, 35 mm film, anime…", elem_id="style")
                        camera = gr.Dropdown(
                            direct.CAMERA_CHOICES, value="", label="Camera", allow_custom_value=True, elem_id="camera"
                        )
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
                    with gr.Accordion("Keep this identity (optional)", open=False, elem_id="identity-box"):
                        identity_image = gr.Image(
                            label="This character, face or product in every frame (upload or paste)", type="numpy",
                            image_mode="RGB", sources=["upload", "clipboard"], height=220, elem_id="identity-image",
                        )
                        identity_controls = build_controls("identity")
                        gr.Markdown(identity_tab.identity_note, elem_id="identity-note")
                    with gr.Accordion("Director back end", open=False, elem_id="backend-box"):
                        initial = direct.initial_backend()
                        backend = gr.Radio(direct.BACKENDS, value=initial, label="Back end", elem_id="backend")
                        llm_model = gr.Textbox(
                            value="", label="LLM model", visible=initial != "offline",
                            placeholder=direct.BACKEND_MODEL_HINTS.get(initial, ""), elem_id="llm-model",
                        )
                        base_url = gr.Textbox(
                            value="",
                            label="Base URL", placeholder="http://127.0.0.1:11434/v1", visible=False, elem_id="base-url"
                        )
                        api_key = gr.Textbox(
                            value="",
                            label="API key (used for this request only; never saved or logged; blank = environment)",
                            type="password",
                            visible=initial in ("openai", "gemini", "huggingface"),
                            elem_id="api-key",
                        )
                        if os.environ.get("SPACE_ID"):
                            # On a Space, Hugging Face inference runs on the visitor's own sign-in and quota.
                            gr.LoginButton(elem_id="hf-login")
                        # Each back end keeps its own model name (switching must not carry
                        # "llama3.1" from one to another).
                        backend_models = gr.State({})
                        shown_backend = gr.State(initial)
                    with gr.Row(elem_id="direct-actions"):
                        direct_btn = gr.Button("Direct ▸", variant="primary", min_width=0, elem_id="direct-btn")
                        stop_direct_btn = gr.Button("Stop", variant="stop", scale=0, min_width=80, elem_id="stop-direct")
                    if examples:
                        gr.Examples(
                            examples=[[e["prompt"], e["frames"], e["fps"]] for e in examples],
                            inputs=[user_prompt, num_frames, fps],
                            label="The paper's prompts (work offline)",
                            examples_per_page=4,
                            # One line per example: a three-column table is wider than a phone.
                            example_labels=[e["prompt"] for e in examples],
                        )

                # ----------------------------------------------------- 3. settings
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
                    with gr.Row():
                        save_btn = gr.Button("Save project", size="sm", elem_id="save-project")
                        load_btn = gr.UploadButton(
                            "Load project or output…", file_types=[".json", ".png", ".mp4", ".gif", ".zip"], size="sm", elem_id="load-project"
                        )
                    # Saving and loading answer here, beside their buttons (not under Render, off-screen).
                    project_status = gr.Markdown("", elem_id="project-status", elem_classes=["status"])
                    project_file = gr.File(label="Project file", visible=False, interactive=False, elem_id="project-file")

            with gr.Column(scale=7, min_width=0, elem_id="right-col"):
                # ----------------------------------------------------- 2. the script
                with gr.Column(elem_classes=["panel"], elem_id="script-panel"):
                    gr.Markdown("### 2 · Frame script", elem_classes=["step-title"])
                    table = gr.Dataframe(
                        value=[],
                        headers=table_tab.TABLE_HEADERS,
                        datatype=["str", "str"],
                        type="array",
                        interactive=True,
                        static_columns=[1],
                        column_widths=["auto", "84px"],  # assets/style.css fits them to the width
                        show_row_numbers=True,
                        wrap=True,
                        max_height=240,
                        label="One prompt per frame: click a cell to edit, click a row to select it",
                        elem_id="frame-table",
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

                # ----------------------------------------------------- 4. render / compare
                with gr.Column(elem_classes=["panel"], elem_id="render-panel"):
                    with gr.Tabs(elem_id="output-tabs"):
                        with gr.Tab("4 · Render", elem_id="render-tab"):
                            with gr.Row():
                                render_btn = gr.Button("Render ▸", variant="primary", min_width=0, elem_id="render-btn")
                                # A draft's table, seed and settings at full quality (Draft off).
                                final_btn = gr.Button("Render final ▸", min_width=0, elem_id="render-final-btn")
                                cancel_btn = gr.Button("Cancel", variant="stop", min_width=0, elem_id="cancel-btn")
                                # Phones only (assets/style.css): the render settings as a drawer over
                                # the page, so Steps and size are one tap away from Render.
                                drawer_btn = gr.Button("⚙ Settings", size="sm", min_width=0, scale=0, elem_id="settings-drawer-btn")
                            status = gr.Markdown("Ready.", elem_id="render-status", elem_classes=["status"])
                            preview = gr.Gallery(
                                label="Frames (live preview while rendering)",
                                columns=8,  # assets/style.css keeps a frame one column wide, so the preview stays in view
                                height="auto",
                                object_fit="contain",
                                allow_preview=True,
                                preview=False,
                                format="png",
                                fit_columns=False,
                                interactive=False,  # an input of "Use frame k", but nothing to upload into
                                elem_id="preview",
                            )
                            video = gr.Video(label="Video", autoplay=True, loop=True, interactive=False, height=360, elem_id="video")
                            downloads = gr.File(
                                label="Downloads (mp4, gif, zip of PNG frames; each holds its project)", file_count="multiple",
                                interactive=False, elem_id="downloads",
                            )
                            history = gr.Gallery(
                                label="This session's renders (click one to restore its table and settings)",
                                columns=6,
                                fit_columns=False,  # one render is one square, not a strip across the page
                                height="auto",
                                object_fit="contain",
                                allow_preview=False,
                                format="png",
                                elem_id="history",
                            )
                            history_state = gr.State([])
                        with gr.Tab("Compare methods", elem_id="compare-tab"):
                            gr.Markdown(
                                "Render the table with each method (same seed and settings) and score every "
                                "frame against its prompt with CLIP: the paper's Table 1 for your prompt. "
                                "RVM + DSF uses the DSF quantile from the settings (0.2 when it is 0).",
                            )
                            compare_choice = gr.CheckboxGroup(
                                compare_tab.COMPARE_METHODS, value=compare_tab.DEFAULT_COMPARE, label="Methods", elem_id="compare-methods"
                            )
                            with gr.Row():
                                compare_btn = gr.Button("Compare ▸", variant="primary", min_width=0, elem_id="compare-btn")
                                compare_cancel_btn = gr.Button("Cancel", variant="stop", min_width=0, elem_id="compare-cancel-btn")
                            compare_status = gr.Markdown("Ready.", elem_id="compare-status", elem_classes=["status"])
                            compare_video = gr.Video(
                                label="Side by side, in sync", autoplay=True, loop=True, interactive=False, height=300, elem_id="compare-video"
                            )
                            compare_table = gr.Markdown(elem_id="compare-table")
                            # The plot carries its own title; a label over it would hide it.
                            compare_plot = gr.Image(type="filepath", interactive=False, show_label=False, elem_id="compare-plot")

        settings = {name: settings[name] for name in SETTING_NAMES}
        setting_list = list(settings.values())
        # Director fields travel by name (DIRECTOR_FIELDS); the key only to the director's handlers.
        director_fields = {"style": style, "camera": camera, "backend": backend, "llm_model": llm_model, "base_url": base_url}
        assert tuple(director_fields) == tuple(direct.DIRECTOR_FIELDS)
        with_key = dict(inputs_kwargs={**director_fields, "api_key": api_key})
        # Directing also shows the director the start picture (issue 17).
        with_picture = dict(inputs_kwargs={**director_fields, "api_key": api_key, "start_image": start_image})

        # ------------------------------------------------------------- wiring
        # Every failure is also written into its area's status line (the script's notes, the
        # render line, the compare line) by a .failure() listener, and stays there until the
        # next action; the toast alone fades. Events show their progress on those lines only,
        # so no "Error" badge ever covers the table, the settings or the previous frames.
        quiet = dict(api_visibility="private", queue=False, show_progress="hidden")
        on_notes = dict(show_progress="minimal", show_progress_on=[notes])

        def wire(event, area: str, line):
            event.failure(msg.status_after_failure(area), None, line, **quiet)
            return event

        on_table = msg.reports("table")
        on_render = msg.reports("render")
        direct_io = ([user_prompt, num_frames, fps], [table, notes, num_frames])
        # Direct and Re-direct all also get the table they replace, for Undo.
        with_table = dict(inputs_kwargs={**with_picture["inputs_kwargs"], "table": table})
        backend.change(
            direct.backend_changed, [backend, llm_model, backend_models, shown_backend],
            [llm_model, base_url, api_key, backend_models, shown_backend], **quiet,
        )
        direct_evt = wire(direct_btn.click(
            on_table(direct.direct_script), *direct_io, api_name="direct", concurrency_limit=4, **with_table, **on_notes
        ), "table", notes)
        submit_evt = wire(user_prompt.submit(
            on_table(direct.direct_script), *direct_io, api_visibility="private", concurrency_limit=4, **with_table, **on_notes
        ), "table", notes)
        redirect_all_evt = wire(redirect_all_btn.click(
            on_table(direct.redirect_all), *direct_io, api_visibility="private", concurrency_limit=4, **with_table, **on_notes
        ), "table", notes)
        table.input(table_tab.refresh_table, table, [table, notes, num_frames], **quiet)
        table.select(table_tab.select_row, None, row, **quiet)
        # After a row tool the highlight moves to the row it left selected (a moved row, a new one).
        follow_row = dict(fn=None, inputs=row, outputs=None, js=SELECT_ROW_JS)
        for button, tool, outs in (
            (add_btn, table_tab.add_row, [table, notes, num_frames, row]),
            (del_btn, table_tab.delete_row, [table, notes, num_frames, row]),
            (up_btn, table_tab.move_row_up, [table, notes, row]),
            (down_btn, table_tab.move_row_down, [table, notes, row]),
        ):
            wire(button.click(on_table(tool), [table, row], outs, **quiet), "table", notes).success(**follow_row)
        redirect_evt = wire(redirect_btn.click(
            on_table(direct.redirect_row), [table, row, user_prompt, fps], [table, notes],
            api_visibility="private", concurrency_limit=4, **with_key, **on_notes,
        ), "table", notes)
        double_evt = wire(double_btn.click(
            on_table(direct.double_frame_rate), [table, user_prompt, fps], [table, notes, num_frames, fps],
            api_name="double_fps", concurrency_limit=4, **with_key, **on_notes,
        ), "table", notes)
        wire(undo_btn.click(on_table(table_tab.undo), None, [table, notes, num_frames, fps], **quiet), "table", notes)
        wire(redo_btn.click(on_table(table_tab.redo), None, [table, notes, num_frames, fps], **quiet), "table", notes)
        # A local model that cannot load: the chooser shows the built-in writer that wrote the script.
        for evt in (direct_evt, submit_evt, redirect_all_evt, redirect_evt, double_evt):
            evt.success(direct.chooser_after, [backend, llm_model], backend, **quiet)
        # Stop frees the page from a director that hangs (a local model loading, a slow server);
        # the table stays as it was.
        stop_direct_btn.click(
            lambda: "■ Stopped waiting for the director; the table is unchanged.", None, notes,
            cancels=[direct_evt, submit_evt, redirect_all_evt, redirect_evt, double_evt], **quiet,
        )

        steps, t0, t1 = settings["num_inference_steps"], settings["t0"], settings["t1"]
        remember_window = dict(fn=controls.motion_window, inputs=[steps, t0, t1], outputs=window, **quiet)
        for name, button in (("paper", paper_btn), ("default", default_btn)):
            button.click(
                lambda name=name: [*controls.apply_preset(name), controls.preset_note(name)], None,
                [*setting_list, settings_note], **quiet,
            ).then(**remember_window)
        steps.input(steps_changed, [steps, t0, t1, window], [t0, t1, settings_note], **quiet)
        for typed in (t0, t1):
            typed.input(**remember_window)
        wire(reuse_btn.click(on_render(render_tab.reuse_seed), used_seed, settings["seed"], **quiet), "render", status)

        on_project = msg.reports("project")
        save_evt = wire(save_btn.click(
            on_project(project.save_project),
            [user_prompt, table, fps],
            project_file,
            inputs_kwargs={**director_fields, **settings, "start_image": start_image, "identity_image": identity_image},
            api_name="save_project",
            show_progress="hidden",
        ), "project", project_status)
        # One click saves: the file is linked under the buttons and its download starts at once.
        save_evt.success(
            lambda: (gr.update(visible=True), "✓ Project saved; your browser downloads it (also linked below)."),
            None, [project_file, project_status], **quiet,
        ).then(None, None, None, js="() => { setTimeout(() => document.querySelector('#project-file a')?.click(), 300); }")
        loaded = wire(load_btn.upload(
            on_project(project.load_project),
            load_btn,
            [user_prompt, table, notes, num_frames, fps, *director_fields.values(), *setting_list],
            api_name="load_project",
            show_progress="hidden",
        ), "project", project_status)
        loaded.success(**remember_window).then(project.loaded_line, load_btn, project_status, **quiet)
        # Only after a good load: a failed one leaves the picture in the box as it was.
        loaded.success(project.load_start_picture, [load_btn, notes], [start_image, notes, start_box], **quiet)

        model_chooser.wire(chooser, notice, load_btn)
        gr.api(model_chooser.model_notice, api_name="model_line")  # the model line as this visitor sees it

        # Renders and comparisons start at once and wait in the page's own line (turns.py),
        # which shows their place and lets Cancel take them out; it runs
        # `render_concurrency` at a time.
        gpu = dict(concurrency_limit=None, show_progress="hidden")
        render_evt = wire(render_btn.click(
            on_render(render_tab.render_video),
            [table, num_frames, fps, user_prompt],
            [preview, video, downloads, used_seed, status],
            inputs_kwargs={**director_fields, **settings, "start_image": start_image, "identity_image": identity_image},
            api_name="render",
            **gpu,
        ), "render", status)
        render_evt.then(model_chooser.model_notice, None, notice, **quiet)
        render_evt.success(hist.add_to_history, history_state, [history_state, history], **quiet)
        final_evt = wire(final_btn.click(lambda: False, None, settings["draft"], **quiet).then(
            on_render(render_tab.render_video),
            [table, num_frames, fps, user_prompt],
            [preview, video, downloads, used_seed, status],
            inputs_kwargs={**director_fields, **settings, "start_image": start_image},
            **gpu,
        ), "render", status)
        final_evt.success(hist.add_to_history, history_state, [history_state, history], **quiet)
        history.select(
            on_render(hist.restore_from_history), history_state,
            [user_prompt, table, notes, num_frames, fps, *director_fields.values(), *setting_list,
             preview, video, downloads, used_seed, status],
            **quiet,
        ).then(**remember_window)
        for source in (start_image, settings["width"], settings["height"]):
            source.change(image_tab.crop_note, [start_image, settings["width"], settings["height"]], crop, **quiet)
        wire(use_frame_btn.click(on_render(image_tab.use_rendered_frame), [preview, use_k], start_image, **quiet), "render", status)
        drawer_btn.click(None, None, None, js="() => document.getElementById('settings-panel').classList.toggle('drawer-open')")
        cancel_btn.click(gpu_jobs.cancel_from_page, None, None, api_visibility="private", queue=False, show_progress="hidden")
        gr.api(gpu_jobs.cancel_render, api_name="cancel")
        wire(compare_btn.click(
            msg.reports("comparison")(compare_tab.compare_methods),
            [table, num_frames, fps, compare_choice],
            [compare_status, compare_video, compare_table, compare_plot],
            inputs_kwargs={**settings, "identity_image": identity_image},
            api_name="compare",
            **gpu,
        ), "comparison", compare_status)
        compare_cancel_btn.click(gpu_jobs.cancel_from_page, None, None, api_visibility="private", queue=False, show_progress="hidden")
        # Leaving the page ends that visitor's jobs (and on a public server deletes their files).
        demo.unload(gpu_jobs.visitor_left)
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
