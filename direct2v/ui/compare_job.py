"""The comparison as a cancellable stream of page updates, without Gradio.

    for update in compare_for_page(pipe, frames, settings, methods, scorer):
        status_box, progress_bar = update.status, update.progress
    update.grid_video, update.table_markdown, update.plot        # set on the last update
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple, Sequence

from ..evaluate.clip import Scorer
from ..evaluate.compare import CompareProgress, Comparison, compare_methods, summary_markdown
from ..evaluate.methods import DEFAULT_DSF_QUANTILE, Method, parse_methods
from ..frames import check_frame_prompts
from ..settings import RenderSettings
from .jobs import stream_job


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


def check_compare_input(frames: Sequence[str], settings: RenderSettings, methods: Sequence[str], dsf_quantile: float) -> list[Method]:
    """Everything cheap, before a model loads: raises PromptError / SettingsError / EvaluationError."""
    check_frame_prompts(frames)
    chosen = parse_methods(methods)
    for m in chosen:
        m.settings(settings.replace(seed=max(settings.seed, 0)), dsf_quantile).validate()
    return chosen


def compare_for_page(
    pipe: Any,
    frames: Sequence[str],
    settings: RenderSettings,
    methods: Sequence[str],
    scorer: Scorer,
    *,
    dsf_quantile: float = DEFAULT_DSF_QUANTILE,
    out_dir: str | Path | None = None,
    should_cancel: Callable[[], bool] | None = None,
    render_fn: Callable[..., Any] | None = None,
    lock: threading.Lock | None = None,
) -> Iterator[PageUpdate]:
    """Render and score the frame table with each method; yield PageUpdate values.

    Bad input raises on the first `next()`, before anything renders; a cancel raises
    RenderCancelled; closing the generator stops the comparison at its next step.
    `out_dir` None writes into a fresh temporary folder (the page serves the files from there).
    """
    chosen = check_compare_input(frames, settings, methods, dsf_quantile)
    prompts = check_frame_prompts(frames)
    out = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="direct2v-compare-"))

    def work(emit, stopped):
        return compare_methods(
            pipe, prompts, settings, scorer=scorer, methods=[m.name for m in chosen], dsf_quantile=dsf_quantile,
            out_dir=out, on_step=emit, render_fn=render_fn, preview_every=0,
            should_cancel=lambda: stopped() or (should_cancel is not None and bool(should_cancel())),
        )

    started = time.monotonic()
    yield PageUpdate(f"Comparing {', '.join(m.label for m in chosen)} on {len(prompts)} frames...", 0.0)
    for kind, item in stream_job(work, lock=lock, newest_only=True, name="direct2v-compare"):
        if kind == "update":
            yield PageUpdate(_status(item), item.fraction)
            continue
        result: Comparison = item
        yield PageUpdate(
            f"Done in {time.monotonic() - started:.1f} s: {len(result.methods)} methods, seed {result.seed}. "
            + leader_sentence(result),
            1.0,
            grid_video=str(result.grid_video_path),
            table_markdown=summary_markdown(result),
            plot=str(result.plot_path),
            comparison=result,
        )


def leader_sentence(result: Comparison) -> str:
    """Name the method with the highest average CLIP score only when its lead over the
    runner-up is more than noise: the 95% t-interval of their paired per-frame differences
    (same frames, same prompts, same seed) must lie above zero (direct2v.suite.stats)."""
    from ..suite.stats import paired_interval

    ranked = sorted(result.methods, key=lambda m: result.metrics[m.name].avg_clip, reverse=True)
    best = ranked[0]
    top = f"{best.label} ({result.metrics[best.name].avg_clip:.4f})"
    if len(ranked) < 2:
        return f"Average CLIP score: {top}."
    second = ranked[1]
    d = paired_interval(result.metrics[best.name].clip_scores, result.metrics[second.name].clip_scores)
    if d.n < 2:
        return f"Highest average CLIP score: {top}; one frame cannot tell a lead from noise."
    if not d.excludes_zero():
        return (
            f"{best.label} and {second.label} are within noise of each other: a lead of {d.mean:.4f}, "
            f"95% interval {d.low:+.4f} to {d.high:+.4f} over {d.n} frames; no method is ahead."
        )
    return f"Highest average CLIP score: {top}, ahead of {second.label} by {d.mean:.4f} (95% interval {d.low:+.4f} to {d.high:+.4f})."
