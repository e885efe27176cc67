"""The page's event handlers: plain functions of values that return values.

They are unit-tested without a browser. A handler that rejects its input raises
`gr.Error(message)`; Gradio then shows the message and leaves every component as it was, so
the user's prompt, table and settings are never lost.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import gradio as gr
import numpy as np

from ..settings import MAX_FRAMES, DirectorOptions, Project, RenderSettings, SettingsError
from . import runtime as rt
from .controls import SETTING_NAMES, apply_preset, settings_from_values, settings_values  # noqa: F401 (page API)

CLIP_TOKEN_LIMIT = 77
MAX_PROMPT_CHARS = 2000
MIN_FRAMES = 2
TABLE_HEADERS = ["Frame prompt", "Tokens"]

# Back-end choices as (label, value); "compatible" is the openai back end with a base URL.
BACKENDS = [
    ("Local model (default, no key)", "local"),
    ("OpenAI (GPT-4 class)", "openai"),
    ("OpenAI-compatible server (vLLM, Ollama, llama.cpp)", "compatible"),
    ("Google Gemini", "gemini"),
    ("Hugging Face inference", "huggingface"),
    ("Built-in writer (no model)", "offline"),
]
BACKEND_MODEL_HINTS = {
    "offline": "",
    "openai": "model, e.g. gpt-4o (blank: the director's default)",
    "compatible": "model name the server serves, e.g. llama3.1",
    "gemini": "model, e.g. gemini-2.5-flash (blank: the director's default)",
    "local": "Hub id or local folder (blank: $DIRECT2V_LOCAL_MODEL or Qwen/Qwen3-4B-Instruct-2507)",
    "huggingface": "Hub model id (blank: meta-llama/Llama-3.3-70B-Instruct)",
}
CAMERA_CHOICES = [
    ("Let the director decide", ""),
    ("Static camera", "static"),
    ("No camera talk", "remove"),
    ("Slow pan left", "slow pan left"),
    ("Slow pan right", "slow pan right"),
    ("Slow zoom in", "slow zoom in"),
    ("Slow zoom out", "slow zoom out"),
]

# ----------------------------------------------------------------------------- the table
def table_prompts(table: Any) -> list[str]:
    """Frame prompts from whatever the Dataframe sends: a DataFrame, a list of rows, or None.

    Only the first column matters; the token column is recomputed, never trusted.
    """
    if table is None:
        return []
    if hasattr(table, "values") and hasattr(table, "columns"):  # pandas
        rows = table.values.tolist()
    elif isinstance(table, dict) and "data" in table:  # the API's {"headers", "data"} form
        rows = table["data"]
    else:
        rows = list(table)
    out = []
    for row in rows:
        cell = row[0] if isinstance(row, (list, tuple)) else row
        out.append("" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell))
    # The Dataframe shows one empty row for an empty table; that is not a frame.
    if len(out) == 1 and not out[0].strip():
        return []
    return out


def token_counts(prompts: list[str]) -> list[int]:
    """CLIP token counts (with start and end tokens), from the director's tokenizer.

    If the tokenizer is unavailable we fall back to a word-piece estimate, which is shown the
    same way; the renderer truncates at the model's limit either way.
    """
    try:
        from ..director import token_lengths

        return [int(n) for n in token_lengths(prompts)]
    except Exception:
        return [2 + len(re.findall(r"\w+|[^\w\s]", p)) for p in prompts]


def make_table(prompts: list[str]) -> list[list[str]]:
    counts = token_counts(prompts) if prompts else []
    rows = []
    for p, n in zip(prompts, counts):
        mark = f"{n} ⚠ > {CLIP_TOKEN_LIMIT}" if n > CLIP_TOKEN_LIMIT else str(n)
        rows.append([p, mark])
    return rows


def table_notes(prompts: list[str]) -> str:
    if not prompts:
        return "No frames yet: type a prompt and press **Direct**, or pick an example."
    counts = token_counts(prompts)
    over = [i + 1 for i, n in enumerate(counts) if n > CLIP_TOKEN_LIMIT]
    empty = [i + 1 for i, p in enumerate(prompts) if not p.strip()]
    notes = [f"{len(prompts)} frames."]
    if over:
        notes.append(
            f"⚠ Frame{'s' if len(over) > 1 else ''} {_list(over)} exceed{'' if len(over) > 1 else 's'} "
            f"CLIP's {CLIP_TOKEN_LIMIT} tokens; the text encoder will cut off the end. Shorten "
            f"{'them' if len(over) > 1 else 'it'}."
        )
    if empty:
        notes.append(f"⚠ Frame{'s' if len(empty) > 1 else ''} {_list(empty)} {'are' if len(empty) > 1 else 'is'} empty.")
    return " ".join(notes)


def _list(nums: list[int]) -> str:
    return ", ".join(str(n) for n in nums)


def _row_index(row: Any, n: int, what: str) -> int:
    """0-based index from the 1-based row box; a readable error when it points nowhere."""
    if n == 0:
        raise gr.Error(f"The table is empty, so there is no row to {what}.")
    try:
        r = int(row)
    except (TypeError, ValueError):
        raise gr.Error(f"Pick a row to {what}: click a row in the table or type its number.") from None
    if not 1 <= r <= n:
        raise gr.Error(f"Row {r} does not exist; the table has rows 1 to {n}.")
    return r - 1


def refresh_table(table: Any) -> tuple[list[list[str]], str, int]:
    """After a cell edit: recompute token counts and notes; the frame count follows the rows."""
    prompts = table_prompts(table)
    return make_table(prompts), table_notes(prompts), max(len(prompts), MIN_FRAMES)


def select_row(evt: gr.SelectData) -> int:
    """Clicking a cell selects its row (1-based, as the row numbers show)."""
    index = evt.index
    row = index[0] if isinstance(index, (list, tuple)) else index
    return int(row) + 1


def add_row(table: Any, row: Any) -> tuple[list[list[str]], str, int, int]:
    """Insert a copy of the selected row below it (or a blank row at the end of an empty table)."""
    prompts = table_prompts(table)
    if len(prompts) >= MAX_FRAMES:
        raise gr.Error(f"The table already has {MAX_FRAMES} frames, the most one video can have.")
    if prompts:
        try:
            i = _row_index(row, len(prompts), "copy")
        except gr.Error:
            i = len(prompts) - 1
        prompts.insert(i + 1, prompts[i])
        new_row = i + 2
    else:
        prompts = [""]
        new_row = 1
    return make_table(prompts), table_notes(prompts), max(len(prompts), MIN_FRAMES), new_row


def delete_row(table: Any, row: Any) -> tuple[list[list[str]], str, int, int]:
    prompts = table_prompts(table)
    i = _row_index(row, len(prompts), "delete")
    if len(prompts) <= MIN_FRAMES:
        raise gr.Error(f"A video needs at least {MIN_FRAMES} frames; edit this row instead of deleting it.")
    del prompts[i]
    return make_table(prompts), table_notes(prompts), len(prompts), min(i + 1, len(prompts))


def move_row(table: Any, row: Any, delta: int) -> tuple[list[list[str]], int]:
    prompts = table_prompts(table)
    i = _row_index(row, len(prompts), "move")
    j = i + int(delta)
    if not 0 <= j < len(prompts):
        edge = "first" if j < 0 else "last"
        raise gr.Error(f"Row {i + 1} is already the {edge} row.")
    prompts[i], prompts[j] = prompts[j], prompts[i]
    return make_table(prompts), j + 1


def move_row_up(table: Any, row: Any) -> tuple[list[list[str]], int]:
    return move_row(table, row, -1)


def move_row_down(table: Any, row: Any) -> tuple[list[list[str]], int]:
    return move_row(table, row, +1)


# ----------------------------------------------------------------------------- directing
def _check_prompt(user_prompt: Any) -> str:
    text = (user_prompt or "").strip() if isinstance(user_prompt, str) or user_prompt is None else str(user_prompt)
    if not text:
        raise gr.Error("Type a prompt first, e.g. “A corgi is running, and another corgi joins later”.")
    if len(text) > MAX_PROMPT_CHARS:
        raise gr.Error(
            f"The prompt is {len(text)} characters long; keep it under {MAX_PROMPT_CHARS}. "
            "Describe the story in a sentence or two; the director writes the details."
        )
    return text


def _check_frames(num_frames: Any, fps: Any) -> tuple[int, int]:
    try:
        n, f = int(num_frames), int(fps)
    except (TypeError, ValueError):
        raise gr.Error("Frames and fps must be whole numbers.") from None
    if not MIN_FRAMES <= n <= MAX_FRAMES:
        raise gr.Error(f"Frames must be between {MIN_FRAMES} and {MAX_FRAMES} (got {n}).")
    if not 1 <= f <= 120:
        raise gr.Error(f"Frames per second must be between 1 and 120 (got {f}).")
    return n, f


def make_director_for(backend: str, llm_model: str | None, base_url: str | None, api_key: str | None):
    """Build a director from the page's back-end fields. The key is used, never stored."""
    from ..director import make_director

    options = DirectorOptions(backend=backend or "local", model=llm_model or "", base_url=base_url or "")
    name, kwargs = options.director_args()
    if options.backend.strip() == "compatible" and not kwargs["base_url"]:
        raise gr.Error("Enter the server's base URL for an OpenAI-compatible back end, e.g. http://127.0.0.1:11434/v1.")
    return make_director(name, api_key=(api_key or "").strip() or None, **kwargs)


def _director_error(e: Exception, api_key: str | None) -> gr.Error:
    from ..director.errors import DirectorError, scrub

    msg = str(e) if isinstance(e, DirectorError) else f"The director failed: {type(e).__name__}: {e}"
    return gr.Error(scrub(msg, api_key))


def _run_director(call, api_key: str | None):
    try:
        return call()
    except gr.Error:
        raise
    except Exception as e:
        raise _director_error(e, api_key) from None


def _visitor_key(backend: str, api_key: str | None, oauth_token: Any) -> str | None:
    """The typed key, else, for Hugging Face inference, the visitor's own sign-in token (on a
    Space each visitor spends their own quota)."""
    typed = (api_key or "").strip()
    if typed or backend != "huggingface" or oauth_token is None:
        return typed or None
    return getattr(oauth_token, "token", None) or None


def _ask_director(backend, llm_model, base_url, api_key, camera, style, verb: str, *args: Any,
                  oauth_token: Any = None, **kwargs: Any) -> tuple[Any, str | None]:
    """Build the chosen director and call one of its verbs (direct, redirect_frame, double_fps)
    with the page's camera and style; any failure becomes one page message without the key.
    Returns (answer, notice): the notice (e.g. "using the built-in writer: <why>") goes on
    the page once."""
    key = _visitor_key((backend or "").strip(), api_key, oauth_token)

    def call():
        director = make_director_for(backend, llm_model, base_url, key)
        if getattr(director, "backend", "") == "local":
            from ..director import local_backend

            loading = local_backend.loading_message(director.model, director.device, director.dtype)
            if loading:
                gr.Info(loading)  # shown while the model loads, with where it goes (GPU or CPU)
        answer = getattr(director, verb)(*args, camera=camera or None, style=(style or "").strip() or None, **kwargs)
        take_notice = getattr(director, "take_notice", None)
        notice = take_notice() if take_notice is not None else None
        if notice:
            gr.Warning(notice)
        return answer, notice

    return _run_director(call, key)


def _with_notice(notes: str, notice: str | None) -> str:
    return f"ℹ️ {notice}\n\n{notes}" if notice else notes


def direct_script(
    user_prompt: str,
    num_frames: Any,
    fps: Any,
    style: str,
    camera: str,
    backend: str,
    llm_model: str,
    base_url: str,
    api_key: str,
    oauth_token: gr.OAuthToken | None = None,
    *,
    fresh: bool = False,
) -> tuple[list[list[str]], str, int]:
    """Direct: one prompt in, a frame table out (replacing the table only on success)."""
    text = _check_prompt(user_prompt)
    n, f = _check_frames(num_frames, fps)
    extra = {"fresh": True} if fresh else {}
    frames, notice = _ask_director(backend, llm_model, base_url, api_key, camera, style, "direct", text,
                                   num_frames=n, fps=f, oauth_token=oauth_token, **extra)
    frames = [str(x) for x in frames]
    if len(frames) != n:  # the director promises exactly n; never show a wrong-length script
        raise gr.Error(f"The director returned {len(frames)} frames instead of {n}; press Direct again.")
    return make_table(frames), _with_notice(table_notes(frames), notice), n


def redirect_all(
    user_prompt: str,
    num_frames: Any,
    fps: Any,
    style: str,
    camera: str,
    backend: str,
    llm_model: str,
    base_url: str,
    api_key: str,
    oauth_token: gr.OAuthToken | None = None,
) -> tuple[list[list[str]], str, int]:
    """Re-direct all: the same as Direct, but an LLM is asked again (a new script) instead of
    the cached answer to the same request."""
    return direct_script(user_prompt, num_frames, fps, style, camera, backend, llm_model, base_url, api_key,
                         oauth_token, fresh=True)


def redirect_row(
    table: Any,
    row: Any,
    user_prompt: str,
    fps: Any,
    style: str,
    camera: str,
    backend: str,
    llm_model: str,
    base_url: str,
    api_key: str,
    oauth_token: gr.OAuthToken | None = None,
) -> tuple[list[list[str]], str]:
    """Re-direct one row: the director rewrites only row `row` to fit the table around it.

    The current table (the user's edits included) is the context, so the prompt may be empty;
    every other row comes back exactly as it was.
    """
    prompts = table_prompts(table)
    i = _row_index(row, len(prompts), "re-direct")
    text = (user_prompt or "").strip() if isinstance(user_prompt, str) or user_prompt is None else str(user_prompt)
    if text:
        text = _check_prompt(text)
    if len(prompts) > MAX_FRAMES:
        raise gr.Error(f"The table has {len(prompts)} rows; a video can have at most {MAX_FRAMES} frames.")
    _, f = _check_frames(max(len(prompts), MIN_FRAMES), fps)
    fresh, notice = _ask_director(backend, llm_model, base_url, api_key, camera, style, "redirect_frame", prompts, i,
                                  user_prompt=text, fps=f, oauth_token=oauth_token)
    fresh = " ".join(str(fresh or "").split()) if isinstance(fresh, str) else ""
    if not fresh:
        raise gr.Error(f"The director returned no text for row {i + 1}; try again.")
    prompts[i] = fresh
    return make_table(prompts), _with_notice(table_notes(prompts), notice)


def double_frame_rate(
    table: Any,
    user_prompt: str,
    fps: Any,
    style: str,
    camera: str,
    backend: str,
    llm_model: str,
    base_url: str,
    api_key: str,
    oauth_token: gr.OAuthToken | None = None,
) -> tuple[list[list[str]], str, int, int]:
    """Paper 4.3: split every frame into two; the frame count and fps double with the rows."""
    prompts = table_prompts(table)
    if not prompts:
        raise gr.Error("The table is empty; press Direct first, then double the frame rate.")
    if any(not p.strip() for p in prompts):
        raise gr.Error("Fill in the empty rows before doubling the frame rate.")
    _, f = _check_frames(len(prompts), fps)
    if 2 * len(prompts) > MAX_FRAMES:
        raise gr.Error(f"Doubling {len(prompts)} frames would exceed {MAX_FRAMES} frames.")
    if 2 * f > 120:
        raise gr.Error(f"Doubling {f} fps would exceed 120 fps.")
    text = (user_prompt or "").strip()
    doubled, notice = _ask_director(backend, llm_model, base_url, api_key, camera, style, "double_fps", prompts,
                                    fps=f, user_prompt=text, oauth_token=oauth_token)
    doubled = [str(x) for x in doubled]
    if len(doubled) != 2 * len(prompts):
        raise gr.Error(f"The director returned {len(doubled)} frames instead of {2 * len(prompts)}; try again.")
    return make_table(doubled), _with_notice(table_notes(doubled), notice), len(doubled), 2 * f


def initial_backend() -> str:
    """OpenAI or Gemini when a key is in the environment, else the local model (which falls back
    to the built-in writer, announced, when it cannot be loaded)."""
    try:
        from ..director import default_backend

        return default_backend()
    except Exception:
        return "offline"


def backend_changed(backend: str) -> tuple[Any, Any, Any]:
    """Show only the fields a back end uses: model, base URL, key."""
    return (
        gr.update(visible=backend != "offline", placeholder=BACKEND_MODEL_HINTS.get(backend, "")),
        gr.update(visible=backend == "compatible"),
        gr.update(visible=backend in ("openai", "compatible", "gemini", "huggingface")),
    )


# ----------------------------------------------------------------------------- projects
def save_project(
    user_prompt: str,
    table: Any,
    fps: Any,
    style: str,
    camera: str,
    backend: str,
    llm_model: str,
    base_url: str,
    **settings: Any,
) -> str:
    """Write a project file (prompt, frames, director options, every setting and the seed).

    No API key goes in: the key field is not even an input of this handler.
    """
    prompts = table_prompts(table)
    try:
        s = settings_from_values(settings, fps)
    except SettingsError as e:
        raise gr.Error(f"Cannot save: {e}") from None
    project = Project(
        user_prompt=user_prompt or "",
        frames=prompts,
        settings=s,
        director=DirectorOptions(backend=backend, model=llm_model or "", base_url=base_url or "", style=style or "", camera=camera or ""),
        model=rt.RUNTIME.models.model,
    )
    stem = _slug(user_prompt) or "project"
    out = Path(tempfile.mkdtemp(prefix="direct2v-project-")) / f"{stem}.direct2v.json"
    project.save(out)
    return str(out)


def load_project(path: Any) -> list[Any]:
    """Values for [prompt, table, notes, frames, fps, style, camera, backend, llm_model, base_url, *SETTING_NAMES]."""
    if path is None:
        raise gr.Error("Choose a project file to load.")
    path = getattr(path, "name", path)
    try:
        project = Project.load(path)
        project.settings.validate()
    except SettingsError as e:
        raise gr.Error(f"Cannot load {Path(str(path)).name}: {e}") from None
    d = project.director
    prompts = project.frames
    backend = d.backend or "offline"
    if backend not in {v for _, v in BACKENDS}:
        backend = "offline"
    return [
        project.user_prompt,
        make_table(prompts),
        table_notes(prompts),
        max(len(prompts), MIN_FRAMES),
        project.settings.fps,
        d.style,
        d.camera,
        backend,
        d.model,
        d.base_url,
        *settings_values(project.settings),
    ]


def _slug(text: str | None) -> str:
    words = re.findall(r"[a-z0-9]+", (text or "").lower())[:6]
    return "-".join(words)


# ----------------------------------------------------------------------------- rendering
def _session(request: Any) -> str:
    return getattr(request, "session_hash", None) or "local"


def cancel_render(request: gr.Request = None) -> str:
    if rt.RUNTIME.cancels.cancel(_session(request)):
        return "Cancelling… the render stops after the current step."
    return "Nothing is rendering."


def check_render_input(prompts: list[str], num_frames: Any) -> None:
    if not prompts:
        raise gr.Error("The frame table is empty: press Direct to write a script, or add rows.")
    empty = [i + 1 for i, p in enumerate(prompts) if not p.strip()]
    if empty:
        raise gr.Error(f"Frame{'s' if len(empty) > 1 else ''} {_list(empty)} {'are' if len(empty) > 1 else 'is'} empty; write a prompt or delete the row.")
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


class _GalleryFiles:
    """Gallery images as PNG files with unique names, one folder per render.

    Gradio caches numpy images under a hash of their bytes and rewrites that file in place
    each time; with previews arriving every few steps, identical images get rewritten while
    the browser is still fetching them and show up broken. Files with fresh names are copied
    into Gradio's cache atomically. Folders of renders older than an hour are removed.
    """

    MAX_AGE_S = 3600

    def __init__(self) -> None:
        root = Path(tempfile.gettempdir()) / "direct2v-gallery"
        root.mkdir(parents=True, exist_ok=True)
        for old in root.iterdir():
            try:
                if time.time() - old.stat().st_mtime > self.MAX_AGE_S:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:
                pass
        self.dir = Path(tempfile.mkdtemp(prefix="render-", dir=root))
        self.count = 0
        self.latest: dict[int, np.ndarray] = {}  # frame index -> newest image of it

    def update(self, images: np.ndarray, frame_ids: list[int] | None = None) -> None:
        ids = frame_ids if frame_ids and len(frame_ids) == len(images) else list(range(len(images)))
        for i, img in zip(ids, images):
            self.latest[int(i)] = img

    def items(self, limit: int | None = None) -> list[tuple[str, str]]:
        from PIL import Image

        out = []
        for i in sorted(self.latest)[:limit]:
            img = np.asarray(self.latest[i])
            if img.dtype != np.uint8:
                img = (np.clip(img, 0.0, 1.0) * 255).round().astype(np.uint8)
            self.count += 1
            path = self.dir / f"{self.count:06d}.png"
            Image.fromarray(img).save(path)
            out.append((str(path), f"Frame {i + 1}"))
        return out


def _progress_bar(step: int, total: int) -> str:
    """An HTML progress bar for the status line (Gradio's own bar hides once a generator yields)."""
    return f'<progress value="{int(step)}" max="{max(int(total), 1)}"></progress>'



def _oom_message(e: BaseException) -> str | None:
    text = f"{type(e).__name__}: {e}"
    if "out of memory" in text.lower() or type(e).__name__ == "OutOfMemoryError":
        return (
            "The GPU ran out of memory. Try fewer frames per pass (Advanced), a smaller size, "
            "or fewer frames; the model stays loaded, so just press Render again."
        )
    return None


def render_video(
    table: Any,
    num_frames: Any,
    fps: Any,
    progress: gr.Progress = gr.Progress(),
    request: gr.Request = None,
    **settings: Any,
) -> Iterator[tuple[Any, Any, Any, Any, str]]:
    """Render the table. Yields (preview gallery, video, downloads, used seed, status).

    Previews of all frames stream in every few steps; then the final frames appear one by
    one, then the mp4 with mp4/gif/zip downloads. Cancel stops it within one step.
    """
    prompts = table_prompts(table)
    check_render_input(prompts, num_frames)
    try:
        s = settings_from_values(settings, fps)
    except SettingsError as e:
        raise gr.Error(str(e)) from None

    session = _session(request)
    flag = rt.RUNTIME.cancels.start(session)
    keep = gr.update()
    started = time.perf_counter()
    model = rt.RUNTIME.models.model
    if not rt.RUNTIME.models.loaded:
        progress(0, desc=f"Loading {model}…")
        yield keep, keep, keep, keep, f"Loading the model `{model}`… (once per server start)"
        try:
            rt.RUNTIME.models.get()
        except Exception as e:
            rt.RUNTIME.cancels.finish(session, flag)
            raise gr.Error(f"{e} The director still works; fix the model and press Render again.") from None

    seed_note = "a random seed" if s.seed == -1 else f"seed {s.seed}"
    yield keep, None, None, keep, f"Rendering {len(prompts)} frames at {s.width}×{s.height}, {s.num_inference_steps} steps, {seed_note}…"
    stream = rt.render_stream(model, prompts, s.to_dict(), rt.RUNTIME.preview_every)
    gallery = _GalleryFiles()
    result = None
    last_step = 0
    total = s.num_inference_steps
    try:
        for kind, payload in stream:
            if flag.is_set():
                break
            if kind == "step":
                info = payload
                last_step, total = int(info.step), int(info.total)
                eta = rt.eta_text(getattr(info, "eta_s", None))
                progress((last_step, total), desc=f"{info.phase} · {eta}", unit="steps")
                status = f"{_progress_bar(last_step, total)} step {last_step}/{total} · {info.phase} · {eta}"
                if info.preview is not None:
                    # Long videos preview one pass at a time; earlier passes' frames stay shown.
                    gallery.update(np.asarray(info.preview), list(getattr(info, "frames", []) or []))
                    yield gallery.items(), keep, keep, keep, status
                else:
                    yield keep, keep, keep, keep, status
            elif kind == "done":
                result = payload
    except gr.Error:
        raise
    except Exception as e:
        from ..render.errors import PromptError, RenderCancelled, RenderOutOfMemory

        if isinstance(e, RenderCancelled):
            result = None
        elif isinstance(e, (PromptError, SettingsError)):
            raise gr.Error(str(e)) from None
        elif isinstance(e, RenderOutOfMemory):
            _free_gpu_memory()
            raise gr.Error(f"{e} The model stays loaded; press Render again.") from None
        else:
            oom = _oom_message(e)
            _free_gpu_memory()
            raise gr.Error(oom or f"The render failed: {type(e).__name__}: {e}") from None
    finally:
        stream.close()
        rt.RUNTIME.cancels.finish(session, flag)

    if result is None:
        took = rt.elapsed_text(time.perf_counter() - started)
        yield keep, keep, keep, keep, f"■ Cancelled at step {last_step} of {total} after {took}. Settings and table are unchanged; press Render to start again."
        return

    frames = np.asarray(result.frames)
    used = int(result.seed)
    # The final frames, one by one, then the video.
    gallery = _GalleryFiles()
    gallery.update(frames)
    for k in range(1, len(frames) + 1):
        yield gallery.items(k), keep, keep, used, f"Decoded frame {k} of {len(frames)}…"
    out_dir = Path(rt.RUNTIME.out_dir or tempfile.mkdtemp(prefix="direct2v-"))
    stem = f"{_slug(prompts[0])[:40] or 'direct2v'}-seed{used}"
    from ..video import export_all

    paths = export_all(frames, out_dir, fps=s.fps, stem=stem)
    took = rt.elapsed_text(getattr(result, "elapsed_s", time.perf_counter() - started))
    yield (
        gallery.items(),
        str(paths["mp4"]),
        [str(paths["mp4"]), str(paths["gif"]), str(paths["zip"])],
        used,
        f"✓ Done: {len(frames)} frames in {took}, seed {used}, {s.fps} fps"
        + (f", anchor cache {result.anchor_cache_bytes / 2**20:.1f} MiB" if getattr(result, "anchor_cache_bytes", 0) else "")
        + ". Download the mp4, gif or PNG frames below.",
    )


COMPARE_METHODS = [
    ("T2V-Z (first frame)", "first"),
    ("TAV (sparse-causal)", "sparse_causal"),
    ("RVM", "rotational"),
    ("RVM + DSF", "rotational+dsf"),
    ("Random reference", "random"),
    ("None (independent)", "none"),
]
DEFAULT_COMPARE = ["first", "sparse_causal", "rotational", "rotational+dsf"]


def compare_methods(
    table: Any,
    num_frames: Any,
    fps: Any,
    methods: list[str] | None,
    progress: gr.Progress = gr.Progress(),
    request: gr.Request = None,
    **settings: Any,
) -> Iterator[tuple[str, Any, Any, Any]]:
    """The Compare tab: render the table with each method (same seed), score with CLIP, and
    yield (status, side-by-side video, table markdown, per-frame CLIP plot)."""
    prompts = table_prompts(table)
    check_render_input(prompts, num_frames)
    try:
        s = settings_from_values(settings, fps)
    except SettingsError as e:
        raise gr.Error(str(e)) from None
    methods = [m for m in (methods or []) if m]
    if not methods:
        raise gr.Error("Tick at least one method to compare.")
    if s.seed < 0:
        s = s.replace(seed=int(np.random.SeedSequence().entropy % (2**31 - 1)))  # one seed for every method
    from ..evaluate.methods import DEFAULT_DSF_QUANTILE

    dsf = s.dsf_quantile if s.dsf_quantile > 0 else DEFAULT_DSF_QUANTILE
    session = _session(request)
    flag = rt.RUNTIME.cancels.start(session)
    keep = gr.update()
    model = rt.RUNTIME.models.model
    try:
        rt.RUNTIME.models.get()
    except Exception as e:
        rt.RUNTIME.cancels.finish(session, flag)
        raise gr.Error(f"{e} The director still works; fix the model and try again.") from None
    stream = rt.compare_stream(model, rt.RUNTIME.clip_model, prompts, s.to_dict(), methods, dsf)
    last = "Starting…"
    try:
        for status, fraction, grid, table_md, plot in stream:
            if flag.is_set():
                yield f"■ Cancelled. {last}", keep, keep, keep
                return
            last = status
            progress(float(fraction), desc=status)
            if grid is not None:
                yield f"✓ {status}", grid, table_md, plot
            else:
                yield status, keep, keep, keep
    except gr.Error:
        raise
    except Exception as e:
        from ..render.errors import ModelLoadError, RenderCancelled, RenderOutOfMemory

        if isinstance(e, RenderCancelled):
            yield f"■ Cancelled. {last}", keep, keep, keep
            return
        if isinstance(e, (SettingsError, ModelLoadError, RenderOutOfMemory, ValueError)):
            raise gr.Error(str(e)) from None
        raise gr.Error(f"The comparison failed: {type(e).__name__}: {e}") from None
    finally:
        stream.close()
        rt.RUNTIME.cancels.finish(session, flag)


def _free_gpu_memory() -> None:
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:
        pass


def reuse_seed(used: Any) -> Any:
    if used is None or used == "":
        raise gr.Error("Render once first; then the seed it used can be reused.")
    return int(used)


def model_notice() -> str:
    m = rt.RUNTIME.models
    if m.is_tiny:
        return (
            f"⚠ **Model: `{m.model}`**, a tiny randomly initialised Stable Diffusion built in-process for "
            "tests and offline use. Its frames are **noise**; start with `--model "
            f"{rt.DEFAULT_MODEL}` for real videos."
        )
    if m.error:
        return f"⚠ **The model could not be loaded:** {m.error} The director still works."
    return f"Model: `{m.model}` ({m.status()})."


def load_examples() -> list[dict[str, Any]]:
    path = Path(__file__).resolve().parents[2] / "assets" / "examples.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["examples"]
    except (OSError, ValueError, KeyError):
        return []
