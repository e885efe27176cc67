"""The Render tab: render the table on the shared pipeline, streaming previews and progress
into the page; Cancel stops it within one step."""

from __future__ import annotations

import time
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import gradio as gr
import numpy as np

from ..render.errors import RenderCancelled, RenderOutOfMemory
from ..errors import without_server_details
from ..render.start_image import StartImageError, load_image
from .identity import check_identity, keep_identity_pictures
from .row_pictures import references_for
from ..services import runtime as rt
from ..services.line import session_id
from ..services.progress import Eta, eta_words, single_frame_steps, step_label
from ..settings import RenderSettings, SettingsError
from .files import session_store
from .gpu_jobs import cancel_flag, in_line, job_input, load_model, visitor_of, wait_turn


class _GalleryFiles:
    """Gallery images as PNG files with unique names, in one render's folder of the store.

    Gradio caches numpy images under a hash of their bytes and rewrites that file in place
    each time; with previews arriving every few steps, identical images get rewritten while
    the browser is still fetching them and show up broken. A frame gets a fresh file only
    when its image changed; final frames carry the project (`project`) in a PNG text chunk.
    """

    def __init__(self, folder: Path, project: Any = None) -> None:
        self.dir = Path(folder)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.project = project
        self.count = 0
        self.latest: dict[int, np.ndarray] = {}  # frame index -> newest image of it
        self.paths: dict[int, str] = {}  # frame index -> file of that image, once written

    def update(self, images: np.ndarray, frame_ids: list[int] | None = None) -> None:
        ids = frame_ids if frame_ids and len(frame_ids) == len(images) else list(range(len(images)))
        for i, img in zip(ids, images):
            self.latest[int(i)] = img
            self.paths.pop(int(i), None)

    def items(self, limit: int | None = None) -> list[tuple[str, str]]:
        from ..video import write_png

        out = []
        for i in sorted(self.latest)[:limit]:
            if i not in self.paths:
                self.count += 1
                self.paths[i] = str(write_png(self.latest[i], self.dir / f"{self.count:06d}.png", self.project))
            out.append((self.paths[i], f"Frame {i + 1}"))
        return out


def _progress_bar(step: int, total: int) -> str:
    """An HTML progress bar for the status line (Gradio's own bar hides once a generator yields)."""
    return f'<progress value="{int(step)}" max="{max(int(total), 1)}"></progress>'


def render_video(
    table: Any,
    num_frames: Any,
    fps: Any,
    user_prompt: str = "",
    progress: gr.Progress = gr.Progress(),
    request: gr.Request = None,
    start_image: Any = None,
    identity_image: Any = None,
    **settings: Any,
) -> Iterator[tuple[Any, Any, Any, Any, str]]:
    """Render the table. Yields (preview gallery, video, downloads, used seed, status).
    `start_image` (an RGB array from the page, or None) takes frame 1's place; `identity_image`
    is kept in every frame through the server's IP-Adapter (ui/identity.py), but in rows that
    have their own picture, from each on (ui/row_pictures.py).

    Previews of all frames stream in every few steps; then the final frames appear one by
    one, then the mp4 with mp4/gif/zip downloads. Cancel stops it within one step.
    """
    prompts, s = job_input(table, num_frames, fps, settings)
    if start_image is not None:
        try:
            load_image(start_image)
        except StartImageError as e:
            raise gr.Error(str(e)) from None
    references = references_for(prompts, identity_image, request)
    check_identity(references)
    keep = gr.update()
    with cancel_flag(request) as flag, in_line(request) as ticket:
        for line in wait_turn(ticket, flag):
            yield keep, keep, keep, keep, line
        if flag.is_set():
            yield keep, keep, keep, keep, "■ Cancelled while waiting in the queue; nothing was rendered."
            return
        yield from _render(prompts, s, flag, progress, start_image, user_prompt, settings, session_id(request), references)


def _render(
    prompts: list[str], s: RenderSettings, flag: Any, progress: Any, image: Any = None,
    user_prompt: str = "", fields: dict | None = None, session: str = "local", identity: Any = None,
) -> Iterator[tuple[Any, Any, Any, Any, str]]:
    """One render once its turn has come: the model (loaded on first use), the previews, then
    the final frames and the files; or, cancelled, the video still shown back in place."""
    keep = gr.update()
    started = time.perf_counter()
    # This render's model, even if the page switches meanwhile; a visitor's own on a public server.
    choice = rt.RUNTIME.models.choice_for(visitor_of(session))
    yield from _load_first(choice, progress)
    # The previous video and downloads stay until this render is done.
    yield keep, keep, keep, keep, _start_line(prompts, s, image, identity)
    stream = rt.render_stream(rt.RUNTIME.models.choice_data(choice), prompts, s.to_dict(), rt.RUNTIME.preview_every, image,
                              identity, rt.RUNTIME.ip_adapter)
    folder = session_store(session).new_dir("render")
    watch, result = _StepWatch(prompts, s, picture=image is not None), None
    with _failures_as_messages(), closing(stream):
        result = yield from _previews(stream, flag, watch, _GalleryFiles(folder / "preview"), progress)
    if result is None:
        yield _cancelled(session, watch, started)
        return
    job = _Job(prompts, s, choice, folder, session, started, image, identity, user_prompt, fields or {})
    yield from _finish(result, job)


def _load_first(choice: Any, progress: Any) -> Iterator[tuple[Any, Any, Any, Any, str]]:
    """The page's own model is loaded on the first render (once per server start)."""
    if choice == rt.RUNTIME.models.choice and not rt.RUNTIME.models.loaded:
        keep = gr.update()
        progress(0, desc=f"Loading {choice.model}…")
        yield keep, keep, keep, keep, f"Loading the model `{choice.model}`… (once per server start)"
        load_model("press Render again")


def _start_line(prompts: list[str], s: RenderSettings, image: Any, identity: Any = None) -> str:
    seed_note = "a random seed" if s.seed == -1 else f"seed {s.seed}"
    if image is not None:
        seed_note += ", frame 1 from the picture"
    if isinstance(identity, dict):  # pictures per row: say where each identity starts
        starts = [f"{'none' if p is None else 'a picture'} from frame {f + 1}" for f, p in sorted(identity.items())
                  if f or p is not None]
        seed_note += f", identity: {', '.join(starts)}"
    elif identity is not None:
        seed_note += ", the identity picture in every frame"
    return f"Rendering {len(prompts)} frames at {s.width}×{s.height}, {s.num_inference_steps} steps, {seed_note}…"


class _StepWatch:
    """Where a render is (its last step of `total`) and the status line for a step: the label
    that names the phases and the time left from the measured step times."""

    def __init__(self, prompts: list[str], s: RenderSettings, picture: bool) -> None:
        self.s, self.frames, self.picture = s, len(prompts), picture
        self.step, self.total, self.eta = 0, s.num_inference_steps, None
        self.passes = _passes(len(prompts), s)

    def status(self, info: Any, progress: Any) -> str:
        s = self.s
        self.step, self.total = int(info.step), int(info.total)
        n_first = single_frame_steps(s.num_inference_steps, s.t0, s.t1, self.total, s.image_mode if self.picture else None)
        if self.eta is None:
            self.eta = Eta(self.total, n_first, min(self.frames, s.frames_per_pass))
        left = eta_words(*self.eta.update(self.step, float(info.elapsed_s)))
        label = step_label(self.step, self.total, n_first, self.passes, picture=self.picture)
        progress((self.step, self.total), desc=f"{info.phase} · {left}", unit="steps")
        return f"{_progress_bar(self.step, self.total)} {label} · {info.phase} · {left}"


def _previews(
    stream: Iterator[tuple[str, Any]], flag: Any, watch: _StepWatch, gallery: _GalleryFiles, progress: Any,
) -> Iterator[tuple[Any, Any, Any, Any, str]]:
    """Each step into the status line (with the previews when a step has them); returns the
    render's result, or None when Cancel stopped it."""
    keep, result = gr.update(), None
    for kind, payload in stream:
        if flag.is_set():
            break
        if kind == "step":
            status = watch.status(payload, progress)
            if payload.preview is not None:
                # Long videos preview one pass at a time; earlier passes' frames stay shown.
                gallery.update(np.asarray(payload.preview), list(getattr(payload, "frames", []) or []))
                yield gallery.items(), keep, keep, keep, status
            else:
                yield keep, keep, keep, keep, status
        elif kind == "done":
            result = payload
    return result


@contextmanager
def _failures_as_messages() -> Iterator[None]:
    """A render's failures as the page's messages (no server paths); a cancelled render is no failure."""
    try:
        yield
    except gr.Error:
        raise
    except RenderCancelled:
        pass
    except SettingsError as e:  # PromptError included
        raise gr.Error(str(e)) from None
    except RenderOutOfMemory as e:  # render() has already released the memory
        raise gr.Error(f"{e} The model stays loaded; press Render again.") from None
    except Exception as e:
        raise gr.Error(f"The render failed: {type(e).__name__}: {without_server_details(str(e))}") from None


def _cancelled(session: str, watch: _StepWatch, started: float) -> tuple[Any, Any, Any, Any, str]:
    """The frames of the video still shown go back over the partial previews (none: cleared)."""
    from .history import SHOWN

    keep = gr.update()
    shown = SHOWN.get(session) or []
    return shown, keep, keep, keep, cancelled_line(watch.step, watch.total, time.perf_counter() - started, bool(shown))


@dataclass
class _Job:
    """What a finished render needs to make its files: the table, the settings, the model, its
    folder, whose it is, when it started, the pictures and the page's other fields."""

    prompts: list[str]
    settings: RenderSettings
    choice: Any
    folder: Path
    session: str
    started: float
    image: Any = None
    identity: Any = None
    user_prompt: str = ""
    fields: dict = field(default_factory=dict)


def _finish(result: Any, job: _Job) -> Iterator[tuple[Any, Any, Any, Any, str]]:
    """The final frames, one by one, then the video and the downloads; every file carries the
    project, and the render goes into this session's history."""
    from ..video import export_all, output_stem
    from .history import FINISHED, SHOWN
    from .project import keep_start_picture, make_project

    keep, s = gr.update(), job.settings
    frames, used = np.asarray(result.frames), int(result.seed)
    project = make_project(job.user_prompt, job.prompts, result.settings, job.fields, job.choice,
                           start_image=keep_start_picture(job.image, job.folder),
                           identity=keep_identity_pictures(job.identity, job.folder))
    gallery = _GalleryFiles(job.folder / "frames", project)
    gallery.update(frames)
    for k in range(1, len(frames) + 1):
        yield gallery.items(k), keep, keep, used, f"Decoded frame {k} of {len(frames)}…"
    stem = output_stem(job.prompts[0], s.width, s.height, used, project)
    paths = export_all(frames, Path(rt.RUNTIME.out_dir or job.folder), fps=s.fps, stem=stem, project=project)
    took = rt.elapsed_text(getattr(result, "elapsed_s", time.perf_counter() - job.started))
    items = gallery.items()
    files = [str(paths["mp4"]), str(paths["gif"]), str(paths["zip"])]
    FINISHED.put(job.session, {"items": items, "project": project.to_json(), "video": files[0], "downloads": files})
    SHOWN.put(job.session, items)
    cache = getattr(result, "anchor_cache_bytes", 0)
    yield (
        items, files[0], files, used,
        f"✓ Done: {len(frames)} frames in {took}, seed {used}, {s.fps} fps"
        + (f", anchor cache {cache / 2**20:.1f} MiB" if cache else "")
        + ". Download the mp4, gif or PNG frames below.",
    )


def cancelled_line(step: int, total: int, seconds: float, previous: bool) -> str:
    back = "the frames and video of your last render are shown again" if previous else "its partial frames are cleared"
    return (f"■ Cancelled at step {step} of {total} after {rt.elapsed_text(seconds)}; {back}. "
            "Settings and table are unchanged; press Render to start again.")


def _passes(num_frames: int, s: RenderSettings) -> int:
    """How many passes the joint phase makes (long videos); low-memory mode picks its own."""
    from ..render.long import plan_passes

    try:
        return len(plan_passes(num_frames, s.frames_per_pass or num_frames, s.chunking))
    except Exception:
        return 1


def reuse_seed(used: Any) -> Any:
    if used is None or str(used).strip() == "":
        raise gr.Error("Render once first; then the seed it used can be reused.")
    return int(used)
