"""What the page holds across requests: the loaded model, per-session cancel flags, and the
GPU-bound render stream (decorated with `spaces.GPU` on Hugging Face ZeroGPU hardware).

Nothing here imports Gradio, so the CLI and tests can use it too.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Iterator

from ..settings import DEFAULT_MODEL, ModelChoice, SettingsError
from .policy import ServerPolicy
from .session import PerSession
from .turns import Turns
from .visitors import DirectorGate

# On ZeroGPU a GPU call is granted for at most this many seconds; each call asks for what its
# size needs (gpu_seconds), since a shorter request waits less for a GPU and spends less quota.
ZEROGPU_DURATION = int(os.environ.get("DIRECT2V_GPU_DURATION", "240"))
# Seconds per frame-step at 512x512 with guidance (an A100-class GPU, with margin), and the
# fixed part: moving weights, the first frame alone, decoding and export.
GPU_SECONDS_PER_FRAME_STEP = float(os.environ.get("DIRECT2V_GPU_SECONDS_PER_FRAME_STEP", "0.08"))
GPU_SECONDS_FIXED = 20.0


def gpu_seconds(num_frames: int, settings_dict: dict[str, Any], renders: int = 1) -> int:
    """The GPU time to ask ZeroGPU for: frames x steps x pixels (relative to 512x512), per
    render, within [30 s, ZEROGPU_DURATION]."""
    pixels = int(settings_dict.get("width", 512)) * int(settings_dict.get("height", 512)) / (512 * 512)
    steps = int(settings_dict.get("num_inference_steps", 50))
    need = renders * (GPU_SECONDS_FIXED + GPU_SECONDS_PER_FRAME_STEP * num_frames * steps * max(pixels, 0.1))
    return int(min(ZEROGPU_DURATION, max(30.0, need)))


class ModelHolder:
    """The page's model: loads it once and keeps it; remembers why loading failed.

    A failed first load is retried on the next request (the network may be back, the id
    fixed), so the page keeps working for the director meanwhile. `switch` loads another
    model (or LoRA, or scale) and makes it the page's only once it is ready: a load that fails
    or is cancelled leaves the current model loaded and working.

    On a public server a visitor's switch is theirs alone (`session=`): it loads into the
    loader's bounded cache and becomes that session's choice (`choice_for`), while the page's
    model, and every other visitor's, stays as it was. `listed` (public mode) is the owner's
    list of models and LoRAs; the loader refuses anything else before any request.
    """

    def __init__(self, model: str = DEFAULT_MODEL, device: str | None = None, config: str = "",
                 lora: str = "", lora_scale: float = 1.0, dtype: Any = None, listed: Collection[str] | None = None):
        self.choice = ModelChoice(model, config or "", lora or "", lora_scale)
        self.listed = None if listed is None else tuple(listed)
        self._sessions = PerSession()  # session -> its own ModelChoice (public mode)
        self.device = device
        self.dtype = dtype  # None: the loader's default (fp16 on CUDA)
        self._pipe: Any = None
        self._error: str | None = None
        self._loading = False
        self._lock = threading.Lock()
        self._switch_lock = threading.Lock()  # one switch at a time
        # One flag per running or waiting switch, by the session that asked (None: the page's own).
        self._cancels: dict[str | None, set[threading.Event]] = {}
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

        if self.listed is not None:
            hooks["listed"] = self.listed
        return load_pipeline(choice.model, device=self.device, dtype=self.dtype, config=choice.config, lora=choice.lora,
                             lora_scale=choice.lora_scale, **hooks)

    def choice_for(self, session: str | None) -> ModelChoice:
        """The model `session` renders with: its own choice (public mode), else the page's."""
        own = self._sessions.get(session) if session is not None else None
        return own or self.choice

    def forget(self, session: str) -> None:
        """The session left: stop its switches and drop its choice."""
        self.cancel_switch(session)
        self._sessions.pop(session)

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

    def switch(self, choice: ModelChoice, on_stage: Callable[[str], None] | None = None, session: str | None = None) -> Any:
        """Load `choice` and make it the page's model, or with `session` that session's only;
        `cancel_switch()` stops it at its next stage. Raises ModelLoadError (ModelLoadCancelled
        when cancelled); the current model stays then. Switches take turns: a second one waits
        for the first (and can be cancelled meanwhile)."""
        from ..render import ModelLoadCancelled, ModelLoadError

        try:
            choice = choice.clean().validate()
        except SettingsError as e:
            raise ModelLoadError(str(e)) from None
        cancelled = threading.Event()  # this switch's own flag: a stale Cancel never stops a later switch
        with self._cancels_lock:
            self._cancels.setdefault(session, set()).add(cancelled)
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
                if session is not None:
                    self._sessions.put(session, choice)
                    return pipe
                with self._lock:
                    self.choice, self._pipe, self._error = choice, pipe, None
                return pipe
        finally:
            with self._cancels_lock:
                flags = self._cancels.get(session, set())
                flags.discard(cancelled)
                if not flags:
                    self._cancels.pop(session, None)

    def cancel_switch(self, session: str | None = None) -> bool:
        """Ask the running or waiting switches of `session` to stop (None: every switch, the
        owner's Cancel); False when there is none."""
        with self._cancels_lock:
            if session is None:
                flags = [f for group in self._cancels.values() for f in group]
            else:
                flags = list(self._cancels.get(session, ()))
        for flag in flags:
            flag.set()
        return bool(flags)

    def choice_data(self, choice: ModelChoice | None = None) -> dict[str, Any]:
        """`choice` (default: the current one) as plain data, what the GPU jobs take."""
        return dataclasses.asdict(choice or self.choice)

    @property
    def switching(self) -> bool:
        return bool(self._cancels)

    def switching_for(self, session: str | None) -> bool:
        return self.switching if session is None else bool(self._cancels.get(session))

    def preload(self, background: bool = True) -> None:
        """Start loading now so the first render does not wait; errors are kept, not raised."""

        def _load() -> None:
            try:
                import_model_libraries()
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
    """Cancel flags per browser session: Cancel (or leaving the page) stops every job of that
    session, running or waiting, and no other session's."""

    def __init__(self) -> None:
        self._flags: dict[str, set[threading.Event]] = {}
        self._lock = threading.Lock()

    def start(self, session: str) -> threading.Event:
        with self._lock:
            flag = threading.Event()
            self._flags.setdefault(session, set()).add(flag)
            return flag

    def cancel(self, session: str) -> bool:
        """Set every flag of `session`; False when it has no job."""
        with self._lock:
            flags = list(self._flags.get(session, ()))
        for flag in flags:
            flag.set()
        return bool(flags)

    def finish(self, session: str, flag: threading.Event) -> None:
        with self._lock:
            flags = self._flags.get(session)
            if flags is not None:
                flags.discard(flag)
                if not flags:
                    del self._flags[session]


def import_model_libraries() -> None:
    """Import what loading a pipeline and the local director need, under `hub.MODEL_IMPORTS`, so
    a Direct click while the model loads finds them imported (or waits) instead of importing
    transformers' lazy modules alongside the load (ImportError: cannot import name 'AutoConfig')."""
    from .. import hub

    with hub.MODEL_IMPORTS:
        import transformers

        from ..render import pipeline  # noqa: F401  (diffusers and the CLIP classes)

        for name in ("AutoConfig", "AutoTokenizer", "AutoProcessor", "AutoModelForCausalLM", "AutoModelForImageTextToText"):
            getattr(transformers, name)


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
    director_gate: DirectorGate = field(default_factory=lambda: DirectorGate(ServerPolicy()))  # keys, rate, one call each
    ip_adapter: str = ""  # the owner's IP-Adapter for "Keep this identity" (render/ip_adapter.py); "" = none


RUNTIME = Runtime()


def configure(
    model: str = DEFAULT_MODEL, device: str | None = None, preview_every: int = 5, clip_model: str | None = None,
    model_config: str = "", lora: str = "", lora_scale: float = 1.0, precision: str = "auto",
    policy: ServerPolicy | None = None, ip_adapter: str = "",
) -> Runtime:
    """Point the page at a model (hub id, local folder, single file or 'tiny', with an optional
    config and LoRA); returns the shared runtime.

    The Compare tab's CLIP model defaults to 'tiny' with the tiny SD model (all offline),
    else to the evaluation's default."""
    from ..render.loading import precision_dtype

    policy = policy or ServerPolicy()
    # Public mode: the loader takes only the owner's names (the start model, its config and
    # LoRA, and the lists), so a visitor's typed name never reaches the Hub or the disk.
    listed = policy.owner_names(model, model_config, lora) if policy.public else None
    RUNTIME.models = ModelHolder(model, device, model_config, lora, lora_scale, precision_dtype(precision), listed=listed)
    RUNTIME.preview_every = max(1, int(preview_every))
    RUNTIME.clip_model = clip_model or ("tiny" if model in ("tiny", "tiny-sdxl") else None)
    RUNTIME.policy = policy
    RUNTIME.director_gate = DirectorGate(policy)
    RUNTIME.turns = Turns(RUNTIME.turns.slots, RUNTIME.turns.max_waiting, policy.per_visitor)
    RUNTIME.ip_adapter = (ip_adapter or "").strip()
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
    model: str | dict[str, Any], prompts: list[str], settings_dict: dict[str, Any], preview_every: int, image: Any = None,
    ip_image: Any = None, ip_adapter: str = "",
) -> Iterator[tuple[str, Any]]:
    """Yield ("step", StepInfo) while rendering, then ("done", RenderResult).

    Closing this generator (the page's Cancel, a closed tab) stops the render within one
    step. Arguments are plain data so this also runs in a ZeroGPU worker process. `ip_image`:
    the identity picture, shown through `ip_adapter` (loaded on first use and kept: without a
    picture a loaded adapter changes nothing).
    """
    from ..render import render
    from ..settings import RenderSettings
    from .jobs import stream_job

    from ..render.ip_adapter import ensure_ip_adapter
    from ..render.loading import set_lora_scale

    pipe, choice = _pipeline(model)
    settings = RenderSettings.from_dict(settings_dict)

    def work(emit, stopped):
        set_lora_scale(pipe, choice.lora_scale)
        if ip_image is not None:
            ensure_ip_adapter(pipe, ip_adapter)
        # A visitor's draft LoRA: the model family's own, or one of the owner's listed LoRAs.
        public = RUNTIME.policy.public
        return render(pipe, prompts, settings, on_step=emit, should_cancel=stopped, preview_every=preview_every, image=image,
                      ip_image=ip_image, token=False if public else None, listed=RUNTIME.policy.loras if public else None)

    for kind, payload in stream_job(work, lock=PIPELINE_LOCK, name="direct2v-render"):
        yield ("step" if kind == "update" else kind), payload


def _compare_stream(
    model: str | dict[str, Any], clip_model: str | None, prompts: list[str], settings_dict: dict[str, Any], methods: list[str],
    dsf_quantile: float, out_dir: str | None = None, ip_image: Any = None, ip_adapter: str = "",
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
        if ip_image is not None:
            from ..render.ip_adapter import ensure_ip_adapter

            ensure_ip_adapter(pipe, ip_adapter)
    updates = compare_for_page(
        pipe, prompts, settings, methods, load_clip(clip_model), dsf_quantile=dsf_quantile, lock=PIPELINE_LOCK,
        out_dir=out_dir, references=ip_image,
    )
    try:
        for u in updates:
            yield u.status, u.progress, u.grid_video, u.table_markdown, u.plot
    finally:
        updates.close()  # stops the comparison's worker and releases the lock


def _render_duration(model: Any, prompts: list[str], settings_dict: dict[str, Any], *args: Any, **kwargs: Any) -> int:
    return gpu_seconds(len(prompts), settings_dict)


def _compare_duration(model: Any, clip_model: Any, prompts: list[str], settings_dict: dict[str, Any], methods: list[str],
                      *args: Any, **kwargs: Any) -> int:
    return gpu_seconds(len(prompts), settings_dict, renders=max(1, len(methods)))


def _maybe_zerogpu(fn, duration):
    """`spaces.GPU` with a duration computed from the call's own arguments (ZeroGPU calls
    `duration` with them), where the `spaces` package is installed."""
    try:
        import spaces  # type: ignore[import-not-found]
    except ImportError:
        return fn
    return spaces.GPU(duration=duration)(fn)


render_stream = _maybe_zerogpu(_render_stream, _render_duration)
compare_stream = _maybe_zerogpu(_compare_stream, _compare_duration)


def elapsed_text(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds) // 60} min {int(seconds) % 60:02d} s"
