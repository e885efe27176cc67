"""The page's wiring: which handler each event calls, with what, into what. `wire_page(p, demo)`
connects the parts the panels made (direct2v.ui.panels), given as one `Page` `p`.

Every failure is also written into its area's status line (the script's notes, the render
line, the project line, the compare line) by a .failure() listener, and stays there until the
next action; the toast alone fades. Events show their progress on those lines only, so no
"Error" badge ever covers the table, the settings or the previous frames.

Which function wires what:
  wire_script      Direct, Re-direct (row, all), ×2, the table's edits and row tools, Undo,
                   Redo, Stop, the back end's fields, the rows' own pictures (wire_row_pictures)
  wire_settings    presets, Steps scaling t0 and t1, Reuse seed
  wire_project     Save and Load project, the model chooser
  wire_render      Render, Render final, the history, the start picture's crop note and Use
                   frame k, the phone's settings drawer, Cancel
  wire_compare     Compare and its Cancel
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from . import compare as compare_tab
from . import controls
from . import direct
from . import gpu_jobs
from . import history as hist
from . import messages as msg
from . import models as model_chooser
from . import project
from . import project_pictures
from . import render as render_tab
from . import row_pictures
from . import start_image as image_tab
from . import table as table_tab
from .controls import steps_changed

QUIET = dict(api_visibility="private", queue=False, show_progress="hidden")
# Renders and comparisons start at once and wait in the page's own line (services/turns.py),
# which shows their place and lets Cancel take them out; it runs `render_concurrency` at a time.
GPU = dict(concurrency_limit=None, show_progress="hidden")
on_table = msg.reports("table")
on_render = msg.reports("render")
on_project = msg.reports("project")

# Clicks the first cell of row `r` (1-based) once the table has its new rows, so the
# Dataframe's own selection, which the highlight follows, is the row the tools act on (the
# Dataframe selects on mousedown, so a bare click() would not do).
SELECT_ROW_JS = """(r) => { setTimeout(() => {
  const cell = document.querySelector(`#frame-table [data-testid="cell-${Number(r) - 1}-0"]`);
  for (const type of ["mousedown", "mouseup", "click"])
    cell?.dispatchEvent(new MouseEvent(type, {bubbles: true, cancelable: true, view: window, button: 0}));
}, 150); }"""


def on_failure(event: Any, area: str, line: Any) -> Any:
    """`event`'s failure also goes into `area`'s status line `line`; returns `event`."""
    event.failure(msg.status_after_failure(area), None, line, **QUIET)
    return event


def wire_page(p: Any, demo: gr.Blocks) -> None:
    """Every event of the page, in the order the page has always registered them (their ids)."""
    wire_script(p)
    wire_settings(p)
    wire_project(p)
    wire_render(p)
    wire_compare(p)
    # Leaving the page ends that visitor's jobs (and on a public server deletes their files).
    demo.unload(gpu_jobs.visitor_left)


def wire_script(p: Any) -> None:
    """The director's actions and the table's own tools; Stop cancels any director action."""
    p.backend.change(
        direct.backend_changed, [p.backend, p.llm_model, p.backend_models, p.shown_backend],
        [p.llm_model, p.base_url, p.api_key, p.backend_models, p.shown_backend], **QUIET,
    )
    events = wire_direct(p)
    wire_table(p)
    events += wire_row_director(p)
    for button, command in ((p.undo_btn, table_tab.undo), (p.redo_btn, table_tab.redo)):
        # A step may have changed only a row's picture, which the table's .change does not see.
        on_failure(button.click(on_table(command), None, [p.table, p.notes, p.num_frames, p.fps], **QUIET), "table",
                   p.notes).success(**show_row_pictures(p)).then(**show_selected_picture(p))
    wire_row_pictures(p)
    # A local model that cannot load: the chooser shows the built-in writer that wrote the script.
    for event in events:
        event.success(direct.chooser_after, [p.backend, p.llm_model], p.backend, **QUIET)
    # Stop frees the page from a director that hangs (a local model loading, a slow server);
    # the table stays as it was.
    p.stop_direct_btn.click(
        lambda: "■ Stopped waiting for the director; the table is unchanged.", None, p.notes, cancels=events, **QUIET,
    )


def _director_kwargs(p: Any, *extra: str) -> dict[str, Any]:
    """The keyword inputs of a director action: the director fields, the key and `extra` parts."""
    return dict(inputs_kwargs={**p.director_fields, "api_key": p.api_key, **{name: getattr(p, name) for name in extra}},
                concurrency_limit=4, show_progress="minimal", show_progress_on=[p.notes])


def wire_direct(p: Any) -> list[Any]:
    """Direct (button, Enter in the prompt) and Re-direct all. They also show the director the
    start picture (issue 17) and get the table they replace, for Undo."""
    inputs, outputs = [p.user_prompt, p.num_frames, p.fps], [p.table, p.notes, p.num_frames]
    with_table = _director_kwargs(p, "start_image", "table")
    return [
        on_failure(p.direct_btn.click(on_table(direct.direct_script), inputs, outputs, api_name="direct", **with_table),
                   "table", p.notes),
        on_failure(p.user_prompt.submit(on_table(direct.direct_script), inputs, outputs, api_visibility="private",
                                        **with_table), "table", p.notes),
        on_failure(p.redirect_all_btn.click(on_table(direct.redirect_all), inputs, outputs, api_visibility="private",
                                            **with_table), "table", p.notes),
    ]


def wire_table(p: Any) -> None:
    """Editing the table by hand, selecting a row, and the row tools."""
    p.table.input(table_tab.refresh_table, p.table, [p.table, p.notes, p.num_frames], **QUIET)
    p.table.select(table_tab.select_row, None, p.row, **QUIET)
    # After a row tool the highlight moves to the row it left selected (a moved row, a new one).
    follow_row = dict(fn=None, inputs=p.row, outputs=None, js=SELECT_ROW_JS)
    for button, tool, outputs in (
        (p.add_btn, table_tab.add_row, [p.table, p.notes, p.num_frames, p.row]),
        (p.del_btn, table_tab.delete_row, [p.table, p.notes, p.num_frames, p.row]),
        (p.up_btn, table_tab.move_row_up, [p.table, p.notes, p.row]),
        (p.down_btn, table_tab.move_row_down, [p.table, p.notes, p.row]),
    ):
        on_failure(button.click(on_table(tool), [p.table, p.row], outputs, **QUIET), "table", p.notes).success(**follow_row)


def show_row_pictures(p: Any) -> dict[str, Any]:
    """The .then() arguments that redraw the strip of the rows' own pictures."""
    return dict(fn=row_pictures.row_gallery, inputs=p.table, outputs=p.row_strip, **QUIET)


def show_selected_picture(p: Any) -> dict[str, Any]:
    """The .then() arguments that show the selected row's picture and what the row gets."""
    return dict(fn=row_pictures.selected_row_picture, inputs=[p.row, p.table], outputs=[p.row_image, p.row_picture_line],
                **QUIET)


def wire_row_pictures(p: Any) -> None:
    """A picture per row: given, cleared, removed or ended at the selected row; the strip follows
    every change of the table, and a click on it selects the row its picture starts at."""
    p.table.change(**show_row_pictures(p))
    p.row.change(**show_selected_picture(p))
    outputs = [p.row_strip, p.notes]
    for event, handler, inputs in (
        (p.row_image.upload, row_pictures.set_row_picture, [p.row_image, p.row, p.table]),
        (p.row_image.clear, row_pictures.clear_row_picture, [p.row, p.table]),
        (p.remove_picture_btn.click, row_pictures.remove_row_picture, [p.row, p.table]),
        (p.no_picture_btn.click, row_pictures.no_picture_from_row, [p.row, p.table]),
    ):
        on_failure(event(on_table(handler), inputs, outputs, **QUIET), "table", p.notes).then(**show_selected_picture(p))
    p.row_strip.select(row_pictures.select_from_strip, p.table, p.row, **QUIET).then(
        fn=None, inputs=p.row, outputs=None, js=SELECT_ROW_JS)
    # A picture added again after a project that had only its hash: is it the same one?
    p.identity_image.upload(project_pictures.identity_added_again, [p.identity_image, p.notes], p.notes, **QUIET)


def wire_row_director(p: Any) -> list[Any]:
    """Re-direct the selected row, and Double frame rate."""
    with_key = _director_kwargs(p)
    return [
        on_failure(p.redirect_btn.click(on_table(direct.redirect_row), [p.table, p.row, p.user_prompt, p.fps],
                                        [p.table, p.notes], api_visibility="private", **with_key), "table", p.notes),
        on_failure(p.double_btn.click(on_table(direct.double_frame_rate), [p.table, p.user_prompt, p.fps],
                                      [p.table, p.notes, p.num_frames, p.fps], api_name="double_fps", **with_key),
                   "table", p.notes),
    ]


def remember_window(p: Any) -> dict[str, Any]:
    """The .then() arguments that keep [Steps, t0, t1] as the person last set them."""
    steps, t0, t1 = p.settings["num_inference_steps"], p.settings["t0"], p.settings["t1"]
    return dict(fn=controls.motion_window, inputs=[steps, t0, t1], outputs=p.window, **QUIET)


def wire_settings(p: Any) -> None:
    """Presets, Steps scaling t0 and t1, and Reuse seed."""
    steps, t0, t1 = p.settings["num_inference_steps"], p.settings["t0"], p.settings["t1"]
    for name, button in (("paper", p.paper_btn), ("default", p.default_btn)):
        button.click(
            lambda name=name: [*controls.apply_preset(name), controls.preset_note(name)], None,
            [*p.setting_list, p.settings_note], **QUIET,
        ).then(**remember_window(p))
    steps.input(steps_changed, [steps, t0, t1, p.window], [t0, t1, p.settings_note], **QUIET)
    for typed in (t0, t1):
        typed.input(**remember_window(p))
    on_failure(p.reuse_btn.click(on_render(render_tab.reuse_seed), p.used_seed, p.settings["seed"], **QUIET),
               "render", p.status)


def wire_project(p: Any) -> None:
    """Save project (one click: linked and downloaded), Load project or output, the chooser."""
    save_evt = on_failure(p.save_btn.click(
        on_project(project.save_project), [p.user_prompt, p.table, p.fps], p.project_file,
        inputs_kwargs={**p.director_fields, **p.settings, "start_image": p.start_image, "identity_image": p.identity_image},
        api_name="save_project", show_progress="hidden",
    ), "project", p.project_status)
    # One click saves: the file is linked under the buttons and its download starts at once.
    save_evt.success(
        lambda: (gr.update(visible=True), "✓ Project saved; your browser downloads it (also linked below)."),
        None, [p.project_file, p.project_status], **QUIET,
    ).then(None, None, None, js="() => { setTimeout(() => document.querySelector('#project-file a')?.click(), 300); }")
    loaded = on_failure(p.load_btn.upload(
        on_project(project.load_project), p.load_btn,
        [p.user_prompt, p.table, p.notes, p.num_frames, p.fps, *p.director_fields.values(), *p.setting_list],
        api_name="load_project", show_progress="hidden",
    ), "project", p.project_status)
    loaded.success(**remember_window(p)).then(project.loaded_line, p.load_btn, p.project_status, **QUIET)
    # Only after a good load: a failed one leaves the picture in the box as it was.
    loaded.success(project.load_start_picture, [p.load_btn, p.notes], [p.start_image, p.notes, p.start_box], **QUIET).then(
        project.load_identity_picture, [p.load_btn, p.notes], [p.identity_image, p.notes, p.identity_box], **QUIET,
    ).then(**show_row_pictures(p)).then(**show_selected_picture(p))
    model_chooser.wire(p.chooser, p.notice, p.load_btn)
    gr.api(model_chooser.model_notice, api_name="model_line")  # the model line as this visitor sees it


def _render_io(p: Any) -> tuple[list[Any], list[Any]]:
    """Render's inputs and outputs (the settings and pictures go by name)."""
    return [p.table, p.num_frames, p.fps, p.user_prompt], [p.preview, p.video, p.downloads, p.used_seed, p.status]


def wire_render(p: Any) -> None:
    """Render and Render final (each into the history), restoring from the history, the start
    picture's crop note and Use frame k, the phone's settings drawer and Cancel."""
    render_evt = on_failure(p.render_btn.click(
        on_render(render_tab.render_video), *_render_io(p),
        inputs_kwargs={**p.director_fields, **p.settings, "start_image": p.start_image, "identity_image": p.identity_image},
        api_name="render", **GPU,
    ), "render", p.status)
    render_evt.then(model_chooser.model_notice, None, p.notice, **QUIET)
    render_evt.success(hist.add_to_history, p.history_state, [p.history_state, p.history], **QUIET)
    final_evt = on_failure(p.final_btn.click(lambda: False, None, p.settings["draft"], **QUIET).then(
        on_render(render_tab.render_video), *_render_io(p),
        inputs_kwargs={**p.director_fields, **p.settings, "start_image": p.start_image, "identity_image": p.identity_image},
        **GPU,
    ), "render", p.status)
    final_evt.success(hist.add_to_history, p.history_state, [p.history_state, p.history], **QUIET)
    p.history.select(
        on_render(hist.restore_from_history), p.history_state,
        [p.user_prompt, p.table, p.notes, p.num_frames, p.fps, *p.director_fields.values(), *p.setting_list,
         p.preview, p.video, p.downloads, p.used_seed, p.status],
        **QUIET,
    ).then(**remember_window(p)).then(**show_row_pictures(p)).then(**show_selected_picture(p)).then(
        hist.restored_identity, p.status, [p.identity_image, p.status, p.identity_box], **QUIET)
    size = [p.start_image, p.settings["width"], p.settings["height"]]
    for source in size:
        source.change(image_tab.crop_note, size, p.crop, **QUIET)
    on_failure(p.use_frame_btn.click(on_render(image_tab.use_rendered_frame), [p.preview, p.use_k], p.start_image, **QUIET),
               "render", p.status)
    p.drawer_btn.click(None, None, None, js="() => document.getElementById('settings-panel').classList.toggle('drawer-open')")
    p.cancel_btn.click(gpu_jobs.cancel_from_page, None, None, api_visibility="private", queue=False, show_progress="hidden")
    gr.api(gpu_jobs.cancel_render, api_name="cancel")


def wire_compare(p: Any) -> None:
    """Compare (the table rendered with each ticked method) and its Cancel."""
    on_failure(p.compare_btn.click(
        msg.reports("comparison")(compare_tab.compare_methods), [p.table, p.num_frames, p.fps, p.compare_choice],
        [p.compare_status, p.compare_video, p.compare_table, p.compare_plot],
        inputs_kwargs={**p.settings, "identity_image": p.identity_image}, api_name="compare", **GPU,
    ), "comparison", p.compare_status)
    p.compare_cancel_btn.click(gpu_jobs.cancel_from_page, None, None, api_visibility="private", queue=False,
                               show_progress="hidden")
