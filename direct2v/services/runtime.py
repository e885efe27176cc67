"""What the page holds across requests: the loaded model, per-session cancel flags, and the
GPU-bound render stream (decorated with `spaces.GPU` on Hugging Face ZeroGPU hardware).

Nothing here imports Gradio, so the CLI and tests can use it too.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from ..settings import DEFAULT_MODEL, ModelChoice, SettingsError
from .policy import ServerPolicy
from .turns import Turns

# On ZeroGPU a GPU call is granted for at most this many seconds.
ZEROGPU_DURATION = int(os.environ.get("DIRECT2V_GPU_DURATION", "240"))


class ModelHolder:
    """The page's model: loads it once and keeps it; remembers why loading failed.

    A failed first load is retried on the next request (the network may be back, the id
    fixed), so the page keeps working for the director meanwhile. `switch` loads another
    model (or LoRA, or scale) and makes it the page's only once it is ready: a load that fails
    or is cancelled leaves the current model loaded and working.
    """

    def __init__(self, model: str = DEFAULT_MODEL, device: str | None = None, config: str = "",
                 lora: str = "", lora_scale: float = 1.0, dtype: Any = None):
        self.choice = ModelChoice(model, config or "", lora or "", lora_scale)
        self.device = device
        self.dtype = dtype  # None: the loader's default (fp16 on CUDA)
        self._pipe: Any = None
        self._error: str | None = None
        self._loading = False
        self._lock = threading.Lock()
        self._switch_lock = threading.Lock()  # one switch at a time
        self._cancels: set[threading.Event] = set()  # one flag per running or waiting switch
        self._cancels_lock = threading.Lock()  # not _lock: that one is held while a first load runs

    @property
    def model(self) -> str:
        return self.choice.model

    @property
    def is_tiny(self) -> bool:
        return self.model in ("tiny", "tiny-sdxl")

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    @property
    def error(self) -> str | None:
        return self._error

    def _load(self, choice: ModelChoice, **hooks: Any) -> Any:
        from ..render import load_pipeline

        return load_pipeline(choice.model, device=self.device, dtype=self.dtype, config=choice.config, lora=choice.lora,
                             lora_scale=choice.lora_scale, **hooks)

    def get(self) -> Any:
        """The pipeline, loading it first if needed. Raises ModelLoadError with a readable message."""
        with self._lock:
            if self._pipe is not None:
                return self._pipe
            from ..render import ModelLoadError

            self._loading = True
            try:
                self._pipe = self._load(self.choice)
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

    def pipeline_for(self, choice: ModelChoice) -> Any:
        """The pipeline of `choice`: the page's own when it is the current model, else from the
        loader's cache (a render that started before a switch keeps the model it started with)."""
        if choice == self.choice:
            return self.get()
        return self._load(choice)

    def switch(self, choice: ModelChoice, on_stage: Callable[[str], None] | None = None) -> Any:
        """Load `choice` and make it the page's model; `cancel_switch()` stops it at its next stage.
        Raises ModelLoadError (ModelLoadCancelled when cancelled); the current model stays then.
        Switches take turns: a second one waits for the first (and can be cancelled meanwhile)."""
        from ..render import ModelLoadCancelled, ModelLoadError

        try:
            choice = choice.clean().validate()
        except SettingsError as e:
            raise ModelLoadError(str(e)) from None
        cancelled = threading.Event()  # this switch's own flag: a stale Cancel never stops a later switch
        with self._cancels_lock:
            self._cancels.add(cancelled)
        try:
            with self._switch_lock:
                if cancelled.is_set():
                    raise ModelLoadCancelled(f"Loading {choice.model} was cancelled.")
                try:
                    pipe = self._load(choice, on_stage=on_stage, should_cancel=cancelled.is_set)
                except ModelLoadError:
                    raise
                except Exception as e:
                    raise ModelLoadError(f"Could not load the model {choice.model!r}: {type(e).__name__}: {e}") from e
                with self._lock:
                    self.choice, self._pipe, self._error = choice, pipe, None
                return pipe
        finally:
            with self._cancels_lock:
                self._cancels.discard(cancelled)

    def cancel_switch(self) -> bool:
        """Ask every running or waiting switch to stop; False when there is none."""
        with self._cancels_lock:
            flags = list(self._cancels)
        for flag in flags:
            flag.set()
        return bool(flags)

    def choice_data(self, choice: ModelChoice | None = None) -> dict[str, Any]:
        """`choice` (default: the current one) as plain data, what the GPU jobs take."""
        return dataclasses.asdict(choice or self.choice)

    @property
    def switching(self) -> bool:
        return bool(self._cancels)

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
    store: Any = None  # the page's bounded OutputStore, made on first use (ui.files.output_store)
    turns: Turns = field(default_factory=Turns)  # the visible line renders and comparisons wait in
    policy: ServerPolicy = field(default_factory=ServerPolicy)  # who may do what (private: everything)


RUNTIME = Runtime()


def configure(
    model: str = DEFAULT_MODEL, device: str | None = None, preview_every: int = 5, clip_model: str | None = None,
    model_config: str = "", lora: str = "", lora_scale: float = 1.0, precision: str = "auto",
    policy: ServerPolicy | None = None,
) -> Runtime:
    """Point the page at a model (hub id, local folder, single file or 'tiny', with an optional
    config and LoRA); returns the shared runtime.

    The Compare tab's CLIP model defaults to 'tiny' with the tiny SD model (all offline),
    else to the evaluation's default."""
    dtype = None
    if precision in ("fp16", "fp32"):
        import torch

        dtype = torch.float16 if precision == "fp16" else torch.float32
    RUNTIME.models = ModelHolder(model, device, model_config, lora, lora_scale, dtype)
    RUNTIME.preview_every = max(1, int(preview_every))
    RUNTIME.clip_model = clip_model or ("tiny" if model in ("tiny", "tiny-sdxl") else None)
    RUNTIME.policy = policy or ServerPolicy()
    return RUNTIME


# ----------------------------------------------------------------------------- render stream
# The loaded pipeline is one object whose attention processors a render swaps, so renders
# on it take turns even when the queue lets several events run at once.
PIPELINE_LOCK = threading.Lock()


def _pipeline(model: str | dict[str, Any]) -> Any:
    """The pipeline a GPU job asked for: a model name, or a ModelChoice as a dict (plain data,
    for a ZeroGPU worker); its LoRA scale is set when the job holds PIPELINE_LOCK."""
    choice = ModelChoice(**model) if isinstance(model, dict) else ModelChoice(model)
    holder = RUNTIME.models
    if isinstance(model, str) and model == holder.model:
        choice = holder.choice
    return holder.pipeline_for(choice), choice


def _render_stream(
    model: str | dict[str, Any], prompts: list[str], settings_dict: dict[str, Any], preview_every: int, image: Any = None
) -> Iterator[tuple[str, Any]]:
    """Yield ("step", StepInfo) while rendering, then ("done", RenderResult).

    Closing this generator (the page's Cancel, a closed tab) stops the render within one
    step. Arguments are plain data so this also runs in a ZeroGPU worker process.
    """
    from ..render import render
    from ..settings import RenderSettings
    from .jobs import stream_job

    from ..render.loading import set_lora_scale

    pipe, choice = _pipeline(model)
    settings = RenderSettings.from_dict(settings_dict)

    def work(emit, stopped):
        set_lora_scale(pipe, choice.lora_scale)
        return render(pipe, prompts, settings, on_step=emit, should_cancel=stopped, preview_every=preview_every, image=image)

    for kind, payload in stream_job(work, lock=PIPELINE_LOCK, name="direct2v-render"):
        yield ("step" if kind == "update" else kind), payload


def _compare_stream(
    model: str | dict[str, Any], clip_model: str | None, prompts: list[str], settings_dict: dict[str, Any], methods: list[str], dsf_quantile: float
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
    from ..render.loading import set_lora_scale

    pipe, choice = _pipeline(model)
    with PIPELINE_LOCK:
        set_lora_scale(pipe, choice.lora_scale)
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


def elapsed_text(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds) // 60} min {int(seconds) % 60:02d} s"
