"""Direct, render and score a suite across processes with Hugging Face Accelerate.

    accelerate launch --num_processes K -m direct2v suite prompts.txt --out-dir DIR ...

Every process holds one model on its own device (`PartialState().device`) and takes a share
of the unfinished items (`split_between_processes`); rank 0 merges after a barrier. Without
a launcher the same code runs as one process.

What makes a run resumable and idempotent:
  * an item lives in DIR/items/<slug>-<key>/; its key hashes every input (items.item_key);
  * an item is written into a private temporary folder and renamed into place when complete,
    so a folder that exists is finished; a killed run leaves only temporary folders, which the
    next run deletes and redoes;
  * before an item is started its lock file is taken (filelock; released by the kernel when a
    process dies), so two processes, of this run or of another, never write the same item;
  * a failed item (the director gave up, out of memory) is recorded in DIR/items/.failed/
    and the others go on; the report lists it, and the exit code says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..settings import Project, RenderSettings
from .items import DONE_FILE, SuiteError, SuiteItem, failures, folder_name, is_done, item_key
from .slots import Slots

API_BACKENDS_LOCAL = ("offline", "local")  # back ends that call no remote API


@dataclass
class PlannedItem:
    item: SuiteItem
    settings: RenderSettings  # validated, seed >= 0
    model: str
    key: str
    folder: str
    source: dict[str, Any]  # what was hashed: {"frames": [...]} or {"prompt": ..., "director": {...}}


@dataclass
class SuiteConfig:
    out_dir: Path
    model: str
    clip_model: str
    methods: list[str]  # canonical method names, e.g. ["first", "rotational+dsf"]
    dsf_quantile: float
    director: dict[str, Any] = field(default_factory=dict)  # backend, model, base_url, frames, style, camera
    director_concurrency: int = 1
    device: str | None = None
    quiet: bool = False
    model_config: str = ""  # a single-file model's config folder or hub id
    lora: str = ""
    lora_scale: float = 1.0
    precision: str = "auto"  # settings.PRECISIONS
    ip_adapter: str = ""  # IP-Adapter weights ("" = none), its image encoder folder and reference records
    ip_image_encoder: str = ""
    ip_images: list[dict[str, Any]] = field(default_factory=list)

    def model_identity(self) -> str:
        """The model as item keys see it: the id alone where there is no config, LoRA or adapter
        (so the keys of runs made before these options existed still match), else all of it, with
        the reference pictures by hash."""
        if not (self.model_config or self.lora or self.ip_adapter):
            return self.model
        lora = f"{self.lora}@{self.lora_scale:g}" if self.lora else ""
        text = f"{self.model}|config={self.model_config}|lora={lora}"
        if self.ip_adapter:
            refs = ",".join(f"{r['frame']}:{r['sha256'][:16]}" for r in self.ip_images)
            text += f"|ip={self.ip_adapter}|refs={refs}"
        return text

    @property
    def items_dir(self) -> Path:
        return self.out_dir / "items"

    def evaluation(self) -> dict[str, Any]:
        dsf = any(m.endswith("+dsf") for m in self.methods)
        return {"methods": list(self.methods), "dsf_quantile": self.dsf_quantile if dsf else None,
                "clip_model": self.clip_model}


def plan_items(
    items: Sequence[SuiteItem], config: SuiteConfig, settings_for: Callable[[SuiteItem], RenderSettings]
) -> list[PlannedItem]:
    """Settings, model and key of every item, in suite order; an item repeated with the same key
    is kept once (its first place)."""
    planned: list[PlannedItem] = []
    seen: set[str] = set()
    for item in items:
        settings = settings_for(item).validate()
        if settings.seed < 0:
            raise SuiteError("A suite needs a fixed --seed (0 or more) so that a rerun finds its finished items.")
        model = config.model  # one model per run: every process loads it once
        if item.needs_directing:
            d = config.director
            director = {k: d.get(k) or "" for k in ("backend", "model", "base_url", "style", "camera")}
            director.update(frames=int(d.get("frames") or 8), fps=settings.fps)
            source: dict[str, Any] = {"prompt": item.prompt, "director": director}
        else:
            source = {"frames": list(item.frames or [])}
        key = item_key(source, settings, config.model_identity(), config.evaluation())
        if key in seen:
            continue
        seen.add(key)
        planned.append(PlannedItem(item, settings, model, key, folder_name(key, item.title), source))
    return planned


@dataclass
class SuiteRun:
    done: list[PlannedItem]  # finished, this run or before
    rendered: list[str]  # keys this process rendered now
    skipped: int  # already finished when the run started
    failed: dict[str, str]  # folder -> one-line reason, over all processes
    report_paths: dict[str, Path]  # rank 0 only


class ItemWorker:
    """Turns one planned item into its finished folder (in this process)."""

    def __init__(self, config: SuiteConfig, pipe: Any, scorer: Any, *, render_fn: Callable[..., Any] | None = None,
                 on_step: Callable[[Any], None] | None = None, process: dict[str, Any] | None = None):
        self.config = config
        self.process = process or {"index": 0, "count": 1}
        self.pipe = pipe
        self.scorer = scorer
        self.render_fn = render_fn
        self.on_step = on_step
        self._director = None
        self._references: Any = None  # the reference pictures, read once per process
        self.notice: str | None = None
        api = str(config.director.get("backend") or "offline") not in API_BACKENDS_LOCAL
        self.slots = Slots(config.items_dir / ".locks" / "director", config.director_concurrency) if api else None

    def run(self, p: PlannedItem) -> str:
        """Finish `p`: "rendered" (here, now), "done" (it already was) or "busy" (another process
        holds its lock; it is that process's to finish)."""
        from filelock import FileLock, Timeout

        items = self.config.items_dir
        lock = FileLock(str(items / ".locks" / f"{p.folder}.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            return "busy"
        try:
            final = items / p.folder
            if (final / DONE_FILE).is_file():
                return "done"
            for stale in items.glob(f".tmp-{p.folder}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            if final.exists():  # a folder without its done file was not made by this code; redo it
                shutil.rmtree(final)
            tmp = items / f".tmp-{p.folder}-{os.getpid()}"
            tmp.mkdir()
            try:
                self._make(p, tmp)
            except Exception:
                shutil.rmtree(tmp, ignore_errors=True)  # a failed item keeps nothing; an interrupt leaves it for the next run
                raise
            os.rename(tmp, final)
            (items / ".failed" / f"{p.folder}.txt").unlink(missing_ok=True)
            return "rendered"
        finally:
            lock.release()

    def director(self) -> Any:
        """The director of this run, made once per process (keys from the environment)."""
        if self._director is None:
            from ..director import make_director

            d = self.config.director
            self._director = make_director(d.get("backend") or "offline", model=d.get("model") or None,
                                           base_url=d.get("base_url") or None)
        return self._director

    def references(self) -> Any:
        """The IP-Adapter's references of every item (render/ip_adapter.py), or None."""
        if self._references is None and self.config.ip_images:
            from ..render.ip_adapter import record_pictures, references_of

            self._references = references_of(record_pictures(self.config.ip_images))
        return self._references

    def _frames(self, p: PlannedItem) -> list[str]:
        if not p.item.needs_directing:
            return list(p.item.frames or [])
        d = p.source["director"]
        kwargs = dict(num_frames=d["frames"], fps=d["fps"], camera=d["camera"] or None, style=d["style"] or None)
        with self.slots.hold() if self.slots is not None else contextlib.nullcontext():
            result = self.director().direct(p.item.prompt, **kwargs)
        # A back end that fell back to the built-in writer says so on each item; a suite must not hide it.
        notes = [result.byline()] if result.fallback else []
        notes += [result.notice] if result.notice else []
        if notes:
            self.notice = " ".join(notes)
            print(f"item {p.item.index + 1}: {self.notice}", file=sys.stderr)
        return list(result)

    def _make(self, p: PlannedItem, tmp: Path) -> None:
        from ..evaluate.compare import compare_methods
        from ..video import write_mp4

        self.notice = None
        frames = self._frames(p)
        cmp = compare_methods(
            self.pipe, frames, p.settings, scorer=self.scorer, methods=self.config.methods,
            dsf_quantile=self.config.dsf_quantile, out_dir=tmp, on_step=self.on_step, render_fn=self.render_fn,
            preview_every=0, references=self.references(),
        )
        videos = {}
        for m in cmp.methods:
            name = video_name(m.name)
            write_mp4(cmp.videos[m.name], tmp / name, fps=p.settings.fps)
            videos[m.name] = name
        from ..settings import DirectorOptions

        d = p.source.get("director")
        director = (DirectorOptions(**{k: d[k] for k in ("backend", "model", "base_url", "style", "camera")})
                    if d else p.item.director or DirectorOptions())
        c = self.config
        Project(user_prompt=p.item.prompt, frames=frames, settings=cmp.settings, model=p.model,
                model_config=c.model_config, lora=c.lora, lora_scale=c.lora_scale if c.lora else 1.0,
                director=director, ip_adapter=c.ip_adapter, ip_images=list(c.ip_images)).save(tmp / "project.json")
        record = {
            "key": p.key, "folder": p.folder, "title": p.item.title, "prompt": p.item.prompt, "frames": frames,
            "source": p.source, "model": p.model, "seed": cmp.seed, "clip_model": self.config.clip_model,
            "methods": [m.name for m in cmp.methods], "labels": [m.label for m in cmp.methods],
            "dsf_quantile": cmp.dsf_quantile, "videos": videos,
            "process": {**self.process, "pid": os.getpid()},  # provenance: which process made it
            "director_notice": self.notice,
        }
        (tmp / DONE_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def video_name(method: str) -> str:
    return method.replace("+", "-") + ".mp4"


def record_failure(config: SuiteConfig, p: PlannedItem, error: BaseException) -> str:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    folder = config.items_dir / ".failed"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{p.folder}.txt").write_text(f"{type(error).__name__}: {reason}\n", encoding="utf-8")
    return reason


# ----------------------------------------------------------------------------- processes
def make_state(device: str | None = None):
    """Accelerate's process state. On a machine without CUDA the processes of a launcher run on
    the CPU over gloo (`PartialState(cpu=True)`); `--device cpu` forces that."""
    import torch
    from accelerate import PartialState

    cpu = device == "cpu" or not torch.cuda.is_available()
    return PartialState(cpu=cpu)


def process_device(state: Any, device: str | None) -> str:
    if device and device != "cpu" and state.num_processes > 1:
        raise SuiteError("--device picks one device; with several processes each takes its own (leave --device out).")
    if device:
        return device
    dev = state.device
    return "cpu" if dev.type == "cpu" else str(dev)


def agree(state: Any, error: str | None) -> str | None:
    """Every process learns whether any process failed (so none waits at a barrier forever);
    returns the first error, or None."""
    from accelerate.utils import gather_object

    errors = gather_object([error]) if state.num_processes > 1 else [error]
    return next((e for e in errors if e), None)


class _Overall:
    """Rank 0's bar over the whole suite, fed by counting finished folders on disk."""

    def __init__(self, config: SuiteConfig, planned: Sequence[PlannedItem], enabled: bool):
        from tqdm.auto import tqdm

        self.config, self.planned = config, planned
        self.bar = tqdm(total=len(planned), desc="suite", unit="item", position=0, disable=not enabled,
                        file=sys.stderr, dynamic_ncols=True)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def count(self) -> int:
        return sum(is_done(self.config, p) for p in self.planned)

    def _poll(self) -> None:
        while not self._stop.wait(1.0):
            self.bar.n = self.count()
            self.bar.refresh()

    def __enter__(self) -> "_Overall":
        self.bar.n = self.count()
        self.bar.refresh()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.bar.n = self.count()
        self.bar.close()


def run_suite(
    planned: Sequence[PlannedItem],
    config: SuiteConfig,
    *,
    state: Any = None,
    render_fn: Callable[..., Any] | None = None,
    load_models: Callable[[str], tuple[Any, Any]] | None = None,
) -> SuiteRun:
    """Finish every planned item across the processes of `state` and (rank 0) write the report.

    `load_models(device) -> (pipe, scorer)` defaults to `load_pipeline(config.model)` and
    `load_clip(config.clip_model)`; `render_fn` goes to `compare_methods`. Both are parameters so
    tests can drive the real plumbing with their own renderer."""
    from tqdm.auto import tqdm

    from .report import write_report

    state = state or make_state(config.device)
    device = process_device(state, config.device)
    rank = state.process_index
    config.items_dir.joinpath(".locks").mkdir(parents=True, exist_ok=True)

    on_step = _StepPostfix()
    worker = _ready_worker(config, state, device, planned, load_models,
                           dict(render_fn=render_fn, on_step=on_step,
                                process={"index": rank, "count": state.num_processes, "device": device}))

    finished_before = {p.key for p in planned if is_done(config, p)}
    state.wait_for_everyone()  # every process has looked before any writes
    pending = [p for p in planned if p.key not in finished_before]
    with state.split_between_processes(pending) as share:
        mine = list(share)

    on_step.bar = bar = tqdm(total=len(mine), desc=f"process {rank}", unit="item", position=rank + 1,
                             disable=config.quiet, file=sys.stderr, dynamic_ncols=True, leave=False)
    overall = _Overall(config, planned, enabled=not config.quiet and state.is_main_process)
    with overall if state.is_main_process else contextlib.nullcontext():
        rendered = _run_items(worker, mine, config, bar, rank)
        bar.close()
        state.wait_for_everyone()

    paths: dict[str, Path] = {}
    if state.is_main_process:
        paths = write_report(config, planned)
    return SuiteRun(
        done=[p for p in planned if is_done(config, p)], rendered=rendered, skipped=len(finished_before),
        failed=failures(config, planned), report_paths=paths,
    )


class _StepPostfix:
    """A renderer step callback that shows the method and step on this process's bar, at most once a second."""

    def __init__(self):
        self.bar: Any = None
        self.last = 0.0

    def __call__(self, info: Any) -> None:
        now = time.monotonic()
        if self.bar is not None and (now - self.last >= 1.0 or info.step >= info.total):
            self.last = now
            self.bar.set_postfix_str(f"{info.label} step {info.method_step}/{info.method_total}")


def _run_items(worker: "ItemWorker", mine: list, config: SuiteConfig, bar: Any, rank: int) -> list[str]:
    """This process's share of the items; the keys of those it rendered. A failed item is recorded
    and the others go on."""
    from tqdm.auto import tqdm

    rendered: list[str] = []
    for p in mine:
        bar.set_description(f"process {rank}: {p.item.title[:30]}")
        try:
            if worker.run(p) == "rendered":
                rendered.append(p.key)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:  # one item's failure must not stop the others
            reason = record_failure(config, p, e)
            tqdm.write(f"item {p.item.index + 1} failed: {reason}", file=sys.stderr)
        bar.update(1)
    return rendered


def _ready_worker(config: SuiteConfig, state: Any, device: str, planned, load_models, worker_kwargs: dict) -> "ItemWorker":
    """Load the models and (when some item needs directing) the director on every process; a
    failure anywhere stops every process together, with the first one's message."""
    error = None
    pipe = scorer = None
    try:
        pipe, scorer = (load_models or _default_loader(config))(device)
    except Exception as e:  # every process must reach agree(); the message is re-raised below
        error = f"model: {e}" if type(e).__name__ in ("ModelLoadError", "ClipLoadError") else f"{type(e).__name__}: {e}"
    worker = ItemWorker(config, pipe, scorer, **worker_kwargs)
    if error is None and any(p.item.needs_directing and not is_done(config, p) for p in planned):
        try:
            worker.director()  # a wrong back end or a missing key stops the run here, not item by item
        except Exception as e:
            error = f"director: {e}"
    error = agree(state, error)
    if error:
        kind, _, message = error.partition(": ")
        raise SuiteModelError(message if kind in ("model", "director") else error, model=kind == "model",
                              director=kind == "director")
    return worker


class SuiteModelError(SuiteError):
    """A process could not load its model (or set up); every process stops with this message."""

    def __init__(self, message: str, model: bool = True, director: bool = False):
        super().__init__(message)
        self.model = model
        self.director = director


def _default_loader(config: SuiteConfig) -> Callable[[str], tuple[Any, Any]]:
    def load(device: str) -> tuple[Any, Any]:
        from ..evaluate.clip import load_clip
        from ..render import load_pipeline

        from ..render.loading import precision_dtype

        pipe = load_pipeline(config.model, device=device, dtype=precision_dtype(config.precision),
                             config=config.model_config or None, lora=config.lora or None, lora_scale=config.lora_scale)
        from ..render.ip_adapter import ensure_ip_adapter

        ensure_ip_adapter(pipe, config.ip_adapter or None, config.ip_image_encoder or None)
        return pipe, load_clip(config.clip_model, device=device)

    return load
