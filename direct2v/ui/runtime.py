"""What the page holds across requests: the loaded model, per-session cancel flags, and the
GPU-bound render stream (decorated with `spaces.GPU` on Hugging Face ZeroGPU hardware).

Nothing here imports Gradio, so the CLI and tests can use it too.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..settings import DEFAULT_MODEL

# On ZeroGPU a GPU call is granted for at most this many seconds.
ZEROGPU_DURATION = int(os.environ.get("DIRECT2V_GPU_DURATION", "240"))


class ModelHolder:
    """Loads the Stable Diffusion pipeline once and keeps it; remembers why loading failed.

    A failed load is retried on the next request (the network may be back, the id fixed),
    so the page keeps working for the director meanwhile.
    """

    def __init__(self, model: str = DEFAULT_MODEL, device: str | None = None):
        self.model = model
        self.device = device
        self._pipe: Any = None
        self._error: str | None = None
        self._loading = False
        self._lock = threading.Lock()

    @property
    def is_tiny(self) -> bool:
        return self.model in ("tiny", "tiny-sdxl")

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    @property
    def error(self) -> str | None:
        return self._error

    def get(self) -> Any:
        """The pipeline, loading it first if needed. Raises ModelLoadError with a readable message."""
        with self._lock:
            if self._pipe is not None:
                return self._pipe
            from ..render import ModelLoadError, load_pipeline

            self._loading = True
            try:
                self._pipe = load_pipeline(self.model, device=self.device)
                self._error = None
            except ModelLoadError as e:
                self._error = str(e)
                raise
            except Exception as e:  # an unexpected failure is still a load failure for the page
                self._error = f"Could not load the model {self.model!r}: {type(e).__name__}: {e}"
                raise ModelLoadError(self._error) from e
            finally:
                self._loading = False
            return self._pipe

    def preload(self, background: bool = True) -> None:
        """Start loading now so the first render does not wait; errors are kept, not raised."""

        def _load() -> None:
            try:
                self.get()
            except Exception:
                pass

        if background:
            threading.Thread(target=_load, name="direct2v-model-load", daemon=True).start()
        else:
            _load()

    def status(self) -> str:
        if self._pipe is not None:
            state = "loaded"
        elif self._error:
            state = "failed to load"
        elif self._loading:
            state = "loading"
        else:
            state = "loads on first render"
        return state


class CancelRegistry:
    """One cancel flag per browser session, so Cancel stops only that session's render."""

    def __init__(self) -> None:
        self._flags: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, session: str) -> threading.Event:
        with self._lock:
            flag = threading.Event()
            self._flags[session] = flag
            return flag

    def cancel(self, session: str) -> bool:
        with self._lock:
            flag = self._flags.get(session)
        if flag is None:
            return False
        flag.set()
        return True

    def finish(self, session: str, flag: threading.Event) -> None:
        with self._lock:
            if self._flags.get(session) is flag:
                del self._flags[session]


@dataclass
class Runtime:
    models: ModelHolder = field(default_factory=ModelHolder)
    cancels: CancelRegistry = field(default_factory=CancelRegistry)
    preview_every: int = 5
    out_dir: str | None = None  # where finished videos go; a temp dir when None
    clip_model: str | None = None  # for the Compare tab; None = the evaluation's default CLIP
    store: Any = None  # the page's bounded OutputStore, made on first use (ui.render.output_store)


RUNTIME = Runtime()


def configure(
    model: str = DEFAULT_MODEL, device: str | None = None, preview_every: int = 5, clip_model: str | None = None
) -> Runtime:
    """Point the page at a model (hub id, local folder or 'tiny'); returns the shared runtime.

    The Compare tab's CLIP model defaults to 'tiny' with the tiny SD model (all offline),
    else to the evaluation's default."""
    RUNTIME.models = ModelHolder(model, device)
    RUNTIME.preview_every = max(1, int(preview_every))
    RUNTIME.clip_model = clip_model or ("tiny" if model in ("tiny", "tiny-sdxl") else None)
    return RUNTIME


# ----------------------------------------------------------------------------- render stream
# The loaded pipeline is one object whose attention processors a render swaps, so renders
# on it take turns even when the queue lets several events run at once.
PIPELINE_LOCK = threading.Lock()


def _render_stream(
    model: str, prompts: list[str], settings_dict: dict[str, Any], preview_every: int, image: Any = None
) -> Iterator[tuple[str, Any]]:
    """Yield ("step", StepInfo) while rendering, then ("done", RenderResult).

    Closing this generator (the page's Cancel, a closed tab) stops the render within one
    step. Arguments are plain data so this also runs in a ZeroGPU worker process.
    """
    from ..render import render
    from ..settings import RenderSettings
    from .jobs import stream_job

    pipe = RUNTIME.models.get() if RUNTIME.models.model == model else ModelHolder(model).get()
    settings = RenderSettings.from_dict(settings_dict)

    def work(emit, stopped):
        return render(pipe, prompts, settings, on_step=emit, should_cancel=stopped, preview_every=preview_every, image=image)

    for kind, payload in stream_job(work, lock=PIPELINE_LOCK, name="direct2v-render"):
        yield ("step" if kind == "update" else kind), payload


def _compare_stream(
    model: str, clip_model: str | None, prompts: list[str], settings_dict: dict[str, Any], methods: list[str], dsf_quantile: float
) -> Iterator[tuple[str, float, str | None, str | None, str | None]]:
    """Yield (status, progress 0..1, grid video, table markdown, plot) of the comparison.

    Plain data in and out, like `_render_stream`, so it also runs in a ZeroGPU worker;
    closing it stops the comparison at the next step.
    """
    from ..evaluate.clip import load_clip
    from ..settings import RenderSettings
    from .compare_job import check_compare_input, compare_for_page

    settings = RenderSettings.from_dict(settings_dict)
    check_compare_input(prompts, settings, methods, dsf_quantile)  # before loading anything
    pipe = RUNTIME.models.get() if RUNTIME.models.model == model else ModelHolder(model).get()
    updates = compare_for_page(
        pipe, prompts, settings, methods, load_clip(clip_model), dsf_quantile=dsf_quantile, lock=PIPELINE_LOCK
    )
    try:
        for u in updates:
            yield u.status, u.progress, u.grid_video, u.table_markdown, u.plot
    finally:
        updates.close()  # stops the comparison's worker and releases the lock


def _maybe_zerogpu(fn):
    try:
        import spaces  # type: ignore[import-not-found]
    except ImportError:
        return fn
    return spaces.GPU(duration=ZEROGPU_DURATION)(fn)


render_stream = _maybe_zerogpu(_render_stream)
compare_stream = _maybe_zerogpu(_compare_stream)


def eta_text(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "estimating time left"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"about {seconds} s left"
    return f"about {seconds // 60} min {seconds % 60:02d} s left"


def elapsed_text(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds) // 60} min {int(seconds) % 60:02d} s"
