"""The Compare tab's handler, without Gradio: a generator of plain values.

    for update in compare_for_page(pipe, frames, settings, methods, scorer):
        status_box, progress_bar = update.status, update.progress
    update.grid_video, update.table_markdown, update.plot        # set on the last update

The comparison runs in a worker thread so that progress can stream out of the generator.
Closing the generator (the page cancelled or went away) stops the worker at its next step.
Bad input raises PromptError / SettingsError / EvaluationError on the first `next()`, before
anything renders; a cancel raises RenderCancelled; the page turns these into messages.
"""

from __future__ import annotations

import queue
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from ..settings import RenderSettings
from .clip import Scorer
from .compare import CompareProgress, Comparison, check_prompts, compare_methods, summary_markdown
from .methods import DEFAULT_DSF_QUANTILE, DEFAULT_METHODS, parse_methods


class PageUpdate(NamedTuple):
    status: str  # one line for a status box
    progress: float  # 0..1 over the whole comparison
    grid_video: str | None = None  # mp4 path: the methods side by side, in sync (last update)
    table_markdown: str | None = None  # Table 1 layout plus first-prompt tie / consistency (last update)
    plot: str | None = None  # PNG path of per-frame CLIP score per method (last update)
    comparison: Comparison | None = None  # everything else (last update)


def _status(p: CompareProgress) -> str:
    eta = f", about {p.eta_s:.0f} s left" if p.eta_s is not None else ""
    return (
        f"Rendering {p.label} ({p.method_index + 1}/{p.method_count}): step {p.method_step}/{p.method_total}"
        f" ({p.step}/{p.total} overall{eta})"
    )


def compare_for_page(
    pipe: Any,
    frames: Sequence[str],
    settings: RenderSettings | dict,
    methods: Iterable[str] | str = DEFAULT_METHODS,
    scorer: Scorer | str | None = None,
    *,
    dsf_quantile: float = DEFAULT_DSF_QUANTILE,
    out_dir: str | Path | None = None,
    should_cancel: Callable[[], bool] | None = None,
    render_fn: Callable[..., Any] | None = None,
) -> Iterator[PageUpdate]:
    """Render and score the frame table with each method; yield PageUpdate values.

    Plain data works too, for a ZeroGPU worker: `pipe` may be a model id ("tiny", a hub id, a
    folder; loaded through `load_pipeline`, cached), `scorer` a CLIP id or None (the default
    CLIP), `settings` a dict (`RenderSettings.to_dict()`). `out_dir` None writes into a fresh
    temporary folder (the page serves the files from there)."""
    # Check everything cheap before loading or starting anything, so bad input fails at once.
    if isinstance(settings, dict):
        settings = RenderSettings.from_dict(settings)
    prompts = check_prompts(frames)
    chosen = parse_methods(methods)
    for m in chosen:
        m.settings(settings.replace(seed=max(settings.seed, 0)), dsf_quantile).validate()
    if scorer is None or isinstance(scorer, str):
        from .clip import load_clip

        scorer = load_clip(scorer)
    if isinstance(pipe, str):
        from ..render import load_pipeline

        pipe = load_pipeline(pipe)
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="direct2v-compare-"))

    events: queue.Queue = queue.Queue()
    stop = threading.Event()

    def cancelled() -> bool:
        return stop.is_set() or (should_cancel is not None and bool(should_cancel()))

    def work() -> None:
        try:
            result = compare_methods(
                pipe, prompts, settings, scorer=scorer, methods=[m.name for m in chosen],
                dsf_quantile=dsf_quantile, out_dir=out, on_step=events.put, should_cancel=cancelled,
                render_fn=render_fn, preview_every=0,
            )
            events.put(("done", result))
        except BaseException as e:  # handed to the caller's thread
            events.put(("error", e))

    started = time.monotonic()
    worker = threading.Thread(target=work, name="direct2v-compare", daemon=True)
    names = ", ".join(m.label for m in chosen)
    yield PageUpdate(f"Comparing {names} on {len(prompts)} frames...", 0.0)
    worker.start()
    try:
        while True:
            item = events.get()
            # Skip to the newest progress when the page reads slower than the renderer steps.
            while isinstance(item, CompareProgress):
                try:
                    nxt = events.get_nowait()
                except queue.Empty:
                    break
                item = nxt
            if isinstance(item, CompareProgress):
                yield PageUpdate(_status(item), item.fraction)
                continue
            kind, value = item
            if kind == "error":
                raise value
            result: Comparison = value
            best = max(result.methods, key=lambda m: result.metrics[m.name].avg_clip)
            yield PageUpdate(
                f"Done in {time.monotonic() - started:.1f} s: {len(result.methods)} methods, seed {result.seed}. "
                f"Highest average CLIP score: {best.label} ({result.metrics[best.name].avg_clip:.4f}).",
                1.0,
                grid_video=str(result.grid_video_path),
                table_markdown=summary_markdown(result),
                plot=str(result.plot_path),
                comparison=result,
            )
            return
    finally:
        # A closed generator stops the worker at its next step; wait for it, so that whoever
        # holds the GPU for this generator releases it only once the GPU is really free.
        stop.set()
        worker.join(timeout=120)

