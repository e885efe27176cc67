"""What the Render and Compare tabs share: the job's input read from the page and checked,
the model loaded once, the session's place in the GPU line (direct2v.services.line) with
Gradio's messages, and Cancel. The tabs import this, never each other."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

import gradio as gr

from ..errors import PromptError
from ..frames import MIN_FRAMES, check_frame_prompts
from ..services import line
from ..services import runtime as rt
from ..services.line import session_id, wait_turn
from ..services.turns import QueueFull
from ..settings import RenderSettings, SettingsError, resolve_seed
from .controls import settings_from_values
from .table import table_prompts

__all__ = ["cancel_flag", "in_line", "wait_turn", "job_input", "load_model", "visitor_of", "cancel_render", "cancel_from_page"]


@contextmanager
def cancel_flag(request: Any) -> Iterator[Any]:
    """This browser session's cancel flag for the length of one GPU job (render or compare)."""
    with line.cancel_flag(session_id(request)) as flag:
        yield flag


@contextmanager
def in_line(request: Any = None) -> Iterator[int]:
    """A place in the page's GPU line for the length of one job; a full line is a page message."""
    try:
        with line.in_line(session_id(request)) as ticket:
            yield ticket
    except QueueFull as e:
        raise gr.Error(str(e)) from None


def job_input(
    table: Any, num_frames: Any, fps: Any, settings: dict[str, Any],
    rendered: Callable[[RenderSettings], list[RenderSettings]] | None = None,
) -> tuple[list[str], RenderSettings]:
    """The frame prompts and settings a GPU job gets from the page, checked; gr.Error if not.

    `rendered(s)`: the settings the job renders from `s` (Compare: one per method), the ones
    checked; by default what `s` renders (`s.for_render()`: a draft's few-step settings)."""
    prompts = table_prompts(table)
    check_render_input(prompts, num_frames)
    try:
        # The seed is drawn here, so the settings checked now are the ones that render (checked once).
        s = settings_from_values(settings, fps)
        return prompts, within_policy(len(prompts), s.replace(seed=resolve_seed(s.seed)), rendered)
    except SettingsError as e:
        raise gr.Error(str(e)) from None


def within_policy(
    num_frames: int, s: RenderSettings, rendered: Callable[[RenderSettings], list[RenderSettings]] | None = None,
) -> RenderSettings:
    """`s` as this server renders it, checked once: on a public server compile and low-memory
    mode as the owner set them for the shared pipeline (a visitor's switch would change it for
    everyone), set before the check so the renderer finds them checked; then the owner's maxima."""
    policy = rt.RUNTIME.policy
    if policy.public:
        s = s.replace(compile=policy.compile, low_memory=policy.low_memory)
    for each in rendered(s) if rendered is not None else [s.for_render()]:
        each.validate()
    policy.check_render(num_frames, s.width, s.height, s.num_inference_steps)
    return s


def visitor_of(session: str) -> str | None:
    """The session whose own model choice applies (public mode), or None for the page's model."""
    return session if rt.RUNTIME.policy.public else None


def load_model(again: str) -> None:
    """The shared pipeline, loaded once; a failure is one page message (the director still works)."""
    try:
        rt.RUNTIME.models.get()
    except Exception as e:
        raise gr.Error(f"{e} The director still works; fix the model and {again}.") from None


def cancel_render(request: gr.Request = None) -> str:
    """The API's /cancel: stops this session's running job, or takes its waiting one out of the line."""
    if rt.RUNTIME.cancels.cancel(session_id(request)):
        return "Cancelling… the render stops after the current step."
    return "Nothing is rendering."


def cancel_from_page(request: gr.Request = None) -> None:
    """The page's Cancel writes nothing itself: the job answers in its own status line
    ("Cancelled at step …" or "Cancelled while waiting"), which a later reply from Cancel
    would overwrite."""
    if not rt.RUNTIME.cancels.cancel(session_id(request)):
        gr.Info("Nothing is rendering or waiting in this tab.")


def check_render_input(prompts: list[str], num_frames: Any) -> None:
    """The table against the shared frame-prompt check, plus what only the page has: the
    Frames box must match the rows."""
    try:
        check_frame_prompts(prompts)
    except PromptError as e:
        raise gr.Error(str(e)) from None
    try:
        n = int(num_frames)
    except (TypeError, ValueError):
        n = len(prompts)
    if n != len(prompts):
        raise gr.Error(
            f"The table has {len(prompts)} rows but Frames is set to {n}. Press Direct to write "
            f"{n} frames, or set Frames to {len(prompts)}."
        )
    if len(prompts) < MIN_FRAMES:
        raise gr.Error(f"A video needs at least {MIN_FRAMES} frames.")


def visitor_left(request: gr.Request = None) -> None:
    """The tab closed (Gradio's unload): end this session's jobs, running or waiting, and its
    model loads; on a public server also delete its files and what the page kept for it."""
    session = session_id(request)
    line.leave_page(session)
    if not rt.RUNTIME.policy.public:
        return  # the owner's files and history stay for their next tab
    from ..services.undo import HISTORIES
    from .files import output_store
    from .history import FINISHED, RESTORED, SHOWN

    from ..services.row_pictures import ROW_PICTURES
    from .project_pictures import EXPECTED

    output_store().drop_session(session)
    for kept in (FINISHED, SHOWN, EXPECTED, RESTORED):
        kept.pop(session)
    HISTORIES.forget(session)
    ROW_PICTURES.drop(session)
