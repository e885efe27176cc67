"""Directing: one prompt in, a frame table out; re-direct a row; double the frame rate.

The director options travel as the page's fields and become a `DirectorOptions`; the API
key is used for the request and never stored.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import gradio as gr

from ..errors import PromptError
from ..frames import MAX_FPS, MAX_FRAMES, MAX_PROMPT_CHARS, MIN_FRAMES, check_frame_count
from ..services import runtime as rt
from ..services.visitors import VisitorRefused
from ..settings import DirectorOptions
from .messages import session_of
from .table import _list, _row_index, make_table, table_notes, table_prompts
from ..services.undo import directed_table
from . import edits

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
    try:
        check_frame_count(n)
    except PromptError as e:
        raise gr.Error(str(e)) from None
    if not 1 <= f <= MAX_FPS:
        raise gr.Error(f"Frames per second must be between 1 and {MAX_FPS} (got {f}).")
    return n, f


# The page's director fields (also the API's parameter names) -> DirectorOptions fields.
DIRECTOR_FIELDS = {"style": "style", "camera": "camera", "backend": "backend", "llm_model": "model", "base_url": "base_url"}


def director_options(fields: dict[str, Any]) -> DirectorOptions:
    """DirectorOptions from the page's director fields (missing ones keep their defaults)."""
    return DirectorOptions.from_dict({DIRECTOR_FIELDS[k]: v for k, v in fields.items() if k in DIRECTOR_FIELDS})


def director_values(options: DirectorOptions) -> list[Any]:
    """The page's director fields, in DIRECTOR_FIELDS order (the inverse of director_options)."""
    return [getattr(options, f) for f in DIRECTOR_FIELDS.values()]


def make_director_for(options: DirectorOptions, api_key: str | None):
    """Build the chosen director. The key is used, never stored."""
    from ..director import make_director

    name, kwargs = options.director_args()
    if options.backend.strip() == "compatible" and not kwargs["base_url"]:
        raise gr.Error("Enter the server's base URL for an OpenAI-compatible back end, e.g. http://127.0.0.1:11434/v1.")
    return make_director(name, api_key=(api_key or "").strip() or None, **kwargs, **public_limits(name))


def public_limits(backend: str) -> dict[str, Any]:
    """The owner's limits for a director built for a visitor: base URLs checked (urls.py) and,
    for the local model, only the owner's director models. Nothing off a public server."""
    from ..director.local_backend import default_local_model
    from ..director.urls import URLPolicy
    from ..services import runtime as rt

    policy = rt.RUNTIME.policy
    if not policy.public:
        return {}
    limits: dict[str, Any] = {"url_policy": URLPolicy.of(True, policy.base_urls)}
    if backend == "local":
        limits["listed"] = (*policy.llm_models, default_local_model())
    return limits


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


def _ask_director(options: DirectorOptions, api_key: str | None, verb: str, *args: Any,
                  oauth_token: Any = None, **kwargs: Any) -> Any:
    """Build the chosen director and call one of its verbs (direct, redirect_frame, double_fps)
    with the page's camera and style; any failure becomes one page message without the key.
    Returns the director's result (director/result.py): the frames and who wrote them. A
    fallback (the built-in writer standing in for a local model that cannot load) and an
    unseen start picture also raise a toast, on every call."""
    key = _visitor_key(options.backend.strip(), api_key, oauth_token)
    session, gate = session_of(), rt.RUNTIME.director_gate
    try:  # public mode: the owner's key only where shared, within its rate
        key = gate.key_for(session, options.backend, options.model, key)
    except VisitorRefused as e:
        raise gr.Error(str(e)) from None

    def call():
        director = make_director_for(options, key)
        if getattr(director, "backend", "") == "local":
            from ..director import local_backend

            loading = local_backend.loading_message(director.model, director.device, director.dtype)
            if loading:
                gr.Info(loading)  # shown while the model loads, with where it goes (GPU or CPU)
        style = options.style.strip() or None
        result = getattr(director, verb)(*args, camera=options.camera or None, style=style, **kwargs)
        if getattr(result, "fallback", None):
            gr.Warning(result.byline())
        if getattr(result, "image_note", None) and not result.image_sent:
            gr.Warning(result.image_note)  # the picture was not used: the script may lack its content
        return result

    def gated():  # public mode: one call in flight per visitor, given up after about 60 s
        try:
            return gate.call(session, call)
        except VisitorRefused as e:
            raise gr.Error(str(e)) from None

    return _run_director(gated, key)


def result_line(result: Any, notes: str, said: str = "") -> str:
    """The line under the table after a director action: who wrote the script (and why not the
    chosen back end), the result's own notes, then the table's notes and what the action did."""
    head = result.notes() if hasattr(result, "notes") else []
    if getattr(result, "fallback", None):  # only the local model stands down; chooser_after follows
        head[0] += " The back-end chooser now shows the built-in writer."
    lines = [f"✍️ {head[0]}", *(f"ℹ️ {n}" for n in head[1:])] if head else []
    return "\n\n".join([*lines, notes + said])


def _same_script(result: Any, before: list[str]) -> str:
    """What to say when a re-direct brings back the script that was there."""
    if getattr(result, "backend", "") == "offline":
        return (" The built-in writer returned the same script: it writes one script per prompt. Change the prompt, "
                "re-direct single rows, or choose a language model for a different one.")
    return " The director returned the same script as before; press **Re-direct all** again for another try."


def _rows(rows: list[int]) -> str:
    return _list(rows[:12]) + ("…" if len(rows) > 12 else "")


def direct_script(
    user_prompt: str, num_frames: Any, fps: Any,
    api_key: str = "", oauth_token: gr.OAuthToken | None = None,  # the key typed, or the visitor's sign-in
    table: Any = None,  # the table the script replaces, for Undo
    request: gr.Request = None,
    *, fresh: bool = False, start_image: Any = None,
    **director: Any,  # DIRECTOR_FIELDS by name
) -> tuple[list[list[str]], str, int]:
    """Direct: one prompt in, a frame table out (replacing the table only on success).

    `start_image` (the start-image box's picture) goes to the director as frame 1. A table
    that was there (`table`) is kept for Undo, and the notes say how many of its rows had
    been edited by hand."""
    text = _check_prompt(user_prompt)
    n, f = _check_frames(num_frames, fps)
    extra: dict[str, Any] = {"fresh": True} if fresh else {}
    if start_image is not None:
        extra["image"] = start_image
    result = _ask_director(director_options(director), api_key, "direct", text, num_frames=n, fps=f,
                           oauth_token=oauth_token, **extra)
    frames = [str(x) for x in result]
    if len(frames) != n:  # the director promises exactly n; never show a wrong-length script
        raise gr.Error(f"The director returned {len(frames)} frames instead of {n}; press Direct again.")
    session = session_of(request)
    before = edits.table_now(session, table_prompts(table), f)
    said = _same_script(result, list(before.prompts)) if fresh and list(before.prompts) == frames else ""
    if any(p.strip() for p in before.prompts) and list(before.prompts) != frames:
        edited = before.hand_edited()
        said = f" Replaced the previous {len(before.prompts)} rows" + (
            f", {len(edited)} of them edited by hand (row{'s' if len(edited) > 1 else ''} {_rows(edited)})" if edited else ""
        ) + "; **Undo** (Ctrl+Z) brings them back."
    # Row pictures stay at their row numbers: the new script's frame 5 is still frame 5.
    edits.record(session, "Re-direct all" if fresh else "Direct", before, directed_table(frames, f, before.row_pictures()))
    return make_table(frames), result_line(result, table_notes(frames), said), n


# Gradio reads which inputs a handler takes (and where the sign-in's token and the request go)
# from its signature; Re-direct all takes exactly Direct's, so it shows Direct's.
@functools.wraps(direct_script, assigned=("__annotations__",))
def redirect_all(*args: Any, **kwargs: Any) -> tuple[list[list[str]], str, int]:
    """Re-direct all: the same as Direct, but an LLM is asked again (a new script) instead of
    the cached answer to the same request."""
    return direct_script(*args, **kwargs, fresh=True)


def redirect_row(
    table: Any, row: Any, user_prompt: str, fps: Any,
    api_key: str = "", oauth_token: gr.OAuthToken | None = None,  # the key typed, or the visitor's sign-in
    request: gr.Request = None,
    **director: Any,  # DIRECTOR_FIELDS by name
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
    result = _ask_director(director_options(director), api_key, "redirect_frame", prompts, i,
                           user_prompt=text, fps=f, oauth_token=oauth_token, fresh=True)
    rows = list(result) if isinstance(result, list) and len(result) == len(prompts) else []
    fresh = " ".join(str(rows[i]).split()) if rows else ""
    if not fresh:
        raise gr.Error(f"The director returned no text for row {i + 1}; try again.")
    session = session_of(request)
    before = edits.table_now(session, prompts)
    edited = i + 1 in before.hand_edited()
    if fresh == prompts[i]:
        said = f" Row {i + 1} came back the same as it was" + (
            ": the built-in writer derives it from the story and its neighbours; edit a neighbour or the row itself."
            if getattr(result, "backend", "") == "offline" else "; press **Re-direct row** again for another try."
        )
    else:
        said = f" Row {i + 1} re-directed" + (" (it had been edited by hand)" if edited else "") + "; **Undo** (Ctrl+Z) brings the old row back."
    prompts[i] = fresh
    after = dataclasses.replace(before, prompts=tuple(prompts), directed=(*before.directed[:i], fresh, *before.directed[i + 1:]))
    edits.record(session, f"Re-direct row {i + 1}", before, after)
    return make_table(prompts), result_line(result, table_notes(prompts), said)


def double_frame_rate(
    table: Any, user_prompt: str, fps: Any,
    api_key: str = "", oauth_token: gr.OAuthToken | None = None,  # the key typed, or the visitor's sign-in
    request: gr.Request = None,
    **director: Any,  # DIRECTOR_FIELDS by name
) -> tuple[list[list[str]], str, int, int]:
    """Paper 4.3: split every frame into two; the frame count and fps double with the rows.

    The notes say which frames came back as two copies of the same prompt (a director that
    cannot split a hand-written row copies it), and Undo restores the table before."""
    prompts = table_prompts(table)
    if not prompts:
        raise gr.Error("The table is empty; press Direct first, then double the frame rate.")
    if any(not p.strip() for p in prompts):
        raise gr.Error("Fill in the empty rows before doubling the frame rate.")
    _, f = _check_frames(len(prompts), fps)
    if 2 * len(prompts) > MAX_FRAMES:
        raise gr.Error(f"Doubling {len(prompts)} frames would exceed {MAX_FRAMES} frames.")
    if 2 * f > MAX_FPS:
        raise gr.Error(f"Doubling {f} fps would exceed {MAX_FPS} fps.")
    text = (user_prompt or "").strip()
    result = _ask_director(director_options(director), api_key, "double_fps", prompts, fps=f,
                           user_prompt=text, oauth_token=oauth_token)
    doubled = [str(x) for x in result]
    if len(doubled) != 2 * len(prompts):
        raise gr.Error(f"The director returned {len(doubled)} frames instead of {2 * len(prompts)}; try again.")
    session = session_of(request)
    before = edits.table_now(session, prompts, f)
    # Row k becomes rows 2k and 2k+1: its picture starts the same span of the video at 2k.
    pictures = tuple(p for key in before.row_pictures() for p in (key, None))
    edits.record(session, "Double frame rate", before, directed_table(doubled, 2 * f, pictures))
    copied = [k + 1 for k in range(len(prompts)) if doubled[2 * k].strip() == doubled[2 * k + 1].strip()]
    said = f" Doubled {len(prompts)} → {len(doubled)} frames at {2 * f} fps."
    if copied:
        said += (
            f" {len(copied)} of the {len(prompts)} frames (rows {_rows(copied)} before doubling) could not be "
            "split and were copied as they are; edit the copies or **Undo**."
        )
    else:
        said += " **Undo** restores the table before."
    return make_table(doubled), result_line(result, table_notes(doubled), said), len(doubled), 2 * f


def chooser_after(backend: str, llm_model: str = "") -> Any:
    """After a director action: when the local model is known not to load on this machine, the
    back-end chooser shows the built-in writer that stood in for it (the line under the table
    has said why and how to get the model), so the page never claims a model wrote the script."""
    if (backend or "").strip() != "local":
        return gr.update()
    from ..director import local_backend

    return gr.update(value="offline") if local_backend.load_failure((llm_model or "").strip() or None) else gr.update()


def initial_backend() -> str:
    """OpenAI or Gemini when a key is in the environment, else the local model (which falls back
    to the built-in writer, announced, when it cannot be loaded)."""
    try:
        from ..director import default_backend

        return default_backend()
    except Exception:
        return "offline"


def backend_changed(
    backend: str, llm_model: str = "", models: dict | None = None, previous: str | None = None
) -> tuple[Any, Any, Any, dict, str]:
    """Show only the fields a back end uses (model, base URL, key), and give each back end its
    own model name: the one typed for the back end being left is kept for it, and the chosen
    back end's own comes back (blank the first time, so its placeholder shows). Returns
    (model field, base URL field, key field, models by back end, the back end now shown)."""
    models = dict(models or {})
    if previous:
        models[previous] = (llm_model or "").strip()
    return (
        gr.update(visible=backend != "offline", placeholder=BACKEND_MODEL_HINTS.get(backend, ""), value=models.get(backend, "")),
        gr.update(visible=backend == "compatible"),
        gr.update(visible=backend in ("openai", "compatible", "gemini", "huggingface")),
        models,
        backend,
    )


def load_examples() -> list[dict[str, Any]]:
    path = Path(__file__).resolve().parents[2] / "assets" / "examples.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))["examples"]
    except (OSError, ValueError, KeyError):
        return []
