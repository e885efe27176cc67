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

import numpy as np

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
    references: Any = None,
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
            out_dir=out, on_step=emit, render_fn=render_fn, preview_every=0, references=references,
            should_cancel=lambda: stopped() or (should_cancel is not None and bool(should_cancel())),
        )

    started = time.monotonic()
    caveat = " ".join(f"⚠ {w}" for w in cannot_separate(chosen, settings, dsf_quantile))
    yield PageUpdate(" ".join(x for x in (caveat, f"Comparing {', '.join(m.label for m in chosen)} on {len(prompts)} frames...") if x), 0.0)
    for kind, item in stream_job(work, lock=lock, newest_only=True, name="direct2v-compare"):
        if kind == "update":
            yield PageUpdate(_status(item), item.fraction)
            continue
        result: Comparison = item
        # What these settings cannot tell apart comes before any claim about the scores.
        caveats = [*cannot_separate(chosen, settings, dsf_quantile), *identical_outputs(result)]
        said = " ".join(f"⚠ {w}" for w in caveats)
        yield PageUpdate(
            f"Done in {time.monotonic() - started:.1f} s: {len(result.methods)} methods, seed {result.seed}. "
            + (said + " " if said else "") + leader_sentence(result),
            1.0,
            grid_video=str(result.grid_video_path),
            table_markdown="\n\n".join(x for x in ("\n\n".join(f"⚠ {w}" for w in caveats), summary_markdown(result)) if x),
            plot=str(result.plot_path),
            comparison=result,
        )


def joint_steps(settings: RenderSettings) -> int:
    """Joint-phase steps, t' = 0 .. t1 (method.md section 3; a scheduler's warm-up repeat is not one)."""
    return int(settings.t1) + 1


def cannot_separate(methods: Sequence[Method], settings: RenderSettings, dsf_quantile: float) -> list[str]:
    """Sentences for chosen pairs these settings make render the very same frames, known
    before rendering: RVM with tau at least the joint steps never leaves frame 1, which is
    T2V-Z (method.md section 3). (DSF at p = 0 never gets here: +dsf methods need p > 0.)"""
    names = {m.name for m in methods}
    label = {m.name: m.label for m in methods}
    out = []
    n = joint_steps(settings)
    tau = int(settings.rvm_period)
    for dsf in ("", "+dsf"):
        rvm, first = "rotational" + dsf, "first" + dsf
        if rvm in names and first in names and tau >= n:
            out.append(
                f"{label[rvm]} cannot differ from {label[first]} at these settings: τ = {tau} is at least the "
                f"{n} joint steps (t1 + 1), so every frame takes its values from frame 1 throughout, as in "
                f"{label[first]}. Lower τ below {n} or raise t1 (and Steps) to compare them."
            )
    return out


def identical_outputs(result: Comparison) -> list[str]:
    """Sentences for pairs of methods whose videos came out the same at 8 bits per channel."""
    as8 = {m.name: np.round(np.asarray(result.videos[m.name]) * 255).astype(np.uint8)
           for m in result.methods if m.name in getattr(result, "videos", {})}
    out = []
    for i, a in enumerate(result.methods):
        for b in result.methods[i + 1:]:
            if a.name in as8 and b.name in as8 and np.array_equal(as8[a.name], as8[b.name]):
                out.append(
                    f"{a.label} and {b.label} rendered identical frames, so their scores are equal and say "
                    "nothing about which method is better (their lines on the plot lie on each other)."
                )
    return out


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
    if np.array_equal(result.metrics[best.name].clip_scores, result.metrics[second.name].clip_scores):
        return f"{best.label} and {second.label} score the same on every frame; no method is ahead."
    d = paired_interval(result.metrics[best.name].clip_scores, result.metrics[second.name].clip_scores)
    if d.n < 2:
        return f"Highest average CLIP score: {top}; one frame cannot tell a lead from noise."
    if not d.excludes_zero():
        return (
            f"{best.label} and {second.label} are within noise of each other: a lead of {d.mean:.4f}, "
            f"95% interval {d.low:+.4f} to {d.high:+.4f} over {d.n} frames; no method is ahead."
        )
    return f"Highest average CLIP score: {top}, ahead of {second.label} by {d.mean:.4f} (95% interval {d.low:+.4f} to {d.high:+.4f})."
