"""Render one frame script with several methods from the same seed and compare them
(the paper's Table 1 for any prompt).

`compare_methods` takes the renderer as a parameter (`render_fn`, default
`direct2v.render.render`), so the page and the CLI reuse their loaded pipeline and tests can
drive the plumbing with any callable of the same signature.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..render.errors import RenderCancelled
from ..frames import check_frame_prompts
from ..settings import RenderSettings, resolve_seed
from .clip import Scorer
from .methods import DEFAULT_DSF_QUANTILE, DEFAULT_METHODS, Method, parse_methods
from .metrics import EvaluationError, VideoMetrics, video_metrics
from .report import csv_table, extra_rows, markdown_table, plot_scores, table_rows, video_grid

OUTPUT_FILES = {
    "table_md": "table.md",
    "table_csv": "table.csv",
    "plot": "clip_scores.png",
    "grid_video": "grid.mp4",
    "metrics_json": "metrics.json",
}


@dataclass(frozen=True)
class CompareProgress:
    """One renderer step, placed in the whole comparison. The fields of
    `direct2v.render.StepInfo` (step, total, phase, elapsed_s, eta_s, preview, frames) keep
    their meaning, counted over all methods: step runs from 1 to total = methods x steps
    per render; the method_* fields say where in the current render it is."""

    step: int
    total: int
    phase: str
    elapsed_s: float
    eta_s: float | None
    preview: Any
    frames: list[int]  # the frame indices the preview shows
    method: str  # e.g. "rotational+dsf"
    label: str  # e.g. "RVM+DSF"
    method_index: int  # 0-based
    method_count: int
    method_step: int
    method_total: int

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / self.total) if self.total else 0.0


@dataclass
class Comparison:
    methods: list[Method]
    prompts: list[str]
    settings: RenderSettings  # the shared settings, seed resolved; each method changes value_mapping/dsf
    seed: int
    dsf_quantile: float
    metrics: dict[str, VideoMetrics]  # by method name, in the order rendered
    videos: dict[str, np.ndarray]  # by method name: (F, H, W, 3) float in [0, 1]
    render_seconds: dict[str, float]
    grid: np.ndarray  # (F, label + H, methods x W, 3) uint8
    table_markdown: str  # Table 1's layout: frames, Avg., Avg. Dist. as rows; methods as columns
    table_csv: str
    extra_markdown: str  # first-prompt tie and consistency per method
    paths: dict[str, Path] = field(default_factory=dict)  # keys of OUTPUT_FILES, when written

    @property
    def labels(self) -> list[str]:
        return [m.label for m in self.methods]

    @property
    def metrics_by_label(self) -> dict[str, VideoMetrics]:
        return {m.label: self.metrics[m.name] for m in self.methods}

    @property
    def grid_video_path(self) -> Path | None:
        return self.paths.get("grid_video")

    @property
    def plot_path(self) -> Path | None:
        return self.paths.get("plot")

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompts": list(self.prompts),
            "seed": self.seed,
            "dsf_quantile": self.dsf_quantile,
            "settings": self.settings.to_dict(),
            "methods": [
                {
                    "name": m.name,
                    "label": m.label,
                    "value_mapping": m.value_mapping,
                    "dsf_quantile": self.dsf_quantile if m.dsf else 0.0,
                    "render_seconds": self.render_seconds[m.name],
                    **self.metrics[m.name].to_dict(),
                }
                for m in self.methods
            ],
        }


def _render_video(render_fn, pipe, prompts: list[str], settings: RenderSettings, label: str, **kwargs) -> np.ndarray:
    """One method's frames (F, H, W, 3), checked to be one image per frame prompt."""
    video = np.asarray(render_fn(pipe, prompts, settings, **kwargs).frames)
    if video.ndim != 4 or len(video) != len(prompts):
        raise EvaluationError(f"The {label} render returned frames of shape {video.shape}; expected {len(prompts)} frames.")
    return video


def compare_methods(
    pipe: Any,
    frames: Sequence[str],
    settings: RenderSettings,
    *,
    scorer: Scorer,
    methods: Iterable[str] | str = DEFAULT_METHODS,
    dsf_quantile: float = DEFAULT_DSF_QUANTILE,
    out_dir: str | Path | None = None,
    on_step: Callable[[CompareProgress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    render_fn: Callable[..., Any] | None = None,
    preview_every: int = 5,
    references: Any = None,
) -> Comparison:
    """Render `frames` with each method from one seed, score each video, and (with `out_dir`)
    write table.md, table.csv, clip_scores.png, grid.mp4 and metrics.json there.

    Every method uses `settings` unchanged except value_mapping and dsf_quantile: plain methods
    run with DSF off, "+dsf" methods with `dsf_quantile`. A seed of -1 is drawn once.
    Raises PromptError / SettingsError / EvaluationError before rendering anything when the
    inputs are wrong, and RenderCancelled when `should_cancel()` turns true.

    `references` (a picture, or one picture or None per frame) go to every render as the
    IP-Adapter's references (`ip_image`) and add the identity score to the table.
    """
    prompts = check_frame_prompts(frames)
    chosen = parse_methods(methods)
    if any(m.dsf for m in chosen) and not 0.0 < float(dsf_quantile) <= 1.0:
        raise EvaluationError(f"The DSF quantile for +dsf methods must be in (0, 1]; got {dsf_quantile}.")
    seed = resolve_seed(settings.seed)
    base = settings.replace(seed=seed)
    per_method = {m.name: m.settings(base, dsf_quantile).validate() for m in chosen}
    if render_fn is None:
        from ..render import render as render_fn
    out_path = _prepare_out_dir(out_dir)

    started = time.monotonic()
    videos: dict[str, np.ndarray] = {}
    scores: dict[str, VideoMetrics] = {}
    seconds: dict[str, float] = {}
    steps_done = 0  # renderer steps of the methods already finished
    for index, method in enumerate(chosen):
        if should_cancel is not None and should_cancel():
            raise RenderCancelled("Comparison cancelled.")
        forward = _MethodProgress(on_step, method, index, len(chosen), steps_done, started)
        t = time.monotonic()
        extra = {"ip_image": references} if references is not None else {}
        videos[method.name] = video = _render_video(
            render_fn, pipe, prompts, per_method[method.name], method.label,
            on_step=forward, should_cancel=should_cancel, preview_every=preview_every, **extra,
        )
        seconds[method.name] = time.monotonic() - t
        steps_done += forward.method_total
        scores[method.name] = video_metrics(video, prompts, scorer, references)

    comparison = _comparison(chosen, prompts, base, float(dsf_quantile), scores, videos, seconds)
    if out_path is not None:
        comparison.paths = write_outputs(comparison, out_path)
    return comparison


class _MethodProgress:
    """One method's renderer steps as CompareProgress over the whole comparison; later methods
    are assumed to take as many steps as this one (same settings)."""

    def __init__(self, on_step, method: Method, index: int, count: int, steps_done: int, started: float):
        self.on_step, self.method, self.index, self.count = on_step, method, index, count
        self.steps_done, self.started = steps_done, started
        self.method_total = 0

    def __call__(self, info: Any) -> None:
        self.method_total = int(info.total)
        if self.on_step is None:
            return
        step = self.steps_done + int(info.step)
        total = self.steps_done + self.method_total * (self.count - self.index)
        elapsed = time.monotonic() - self.started
        m = self.method
        self.on_step(
            CompareProgress(
                step=step, total=total, phase=f"{m.label}: {info.phase}", elapsed_s=elapsed,
                eta_s=elapsed / step * (total - step) if step > 0 else None,
                preview=getattr(info, "preview", None), frames=list(getattr(info, "frames", []) or []),
                method=m.name, label=m.label, method_index=self.index, method_count=self.count,
                method_step=int(info.step), method_total=self.method_total,
            )
        )


def _comparison(chosen, prompts, base: RenderSettings, dsf_quantile: float, scores, videos, seconds) -> Comparison:
    """The tables (Table 1 and the extra columns) and the side-by-side grid of the rendered methods."""
    by_label = {m.label: scores[m.name] for m in chosen}
    header, rows = table_rows(by_label)
    xheader, xrows = extra_rows(by_label)
    return Comparison(
        methods=chosen, prompts=prompts, settings=base, seed=base.seed, dsf_quantile=dsf_quantile,
        metrics=scores, videos=videos, render_seconds=seconds,
        grid=video_grid({m.name: videos[m.name] for m in chosen}, labels=[m.label for m in chosen]),
        table_markdown=markdown_table(header, rows), table_csv=csv_table(header, rows),
        extra_markdown=markdown_table(xheader, xrows),
    )


def _prepare_out_dir(out_dir: str | Path | None) -> Path | None:
    if out_dir is None:
        return None
    path = Path(out_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EvaluationError(f"Cannot create the output folder {path}: {e.strerror or e}.") from None
    if not path.is_dir():
        raise EvaluationError(f"The output path {path} is not a folder.")
    return path


def write_outputs(comparison: Comparison, out_dir: str | Path) -> dict[str, Path]:
    """Write the comparison's files into out_dir; return their paths by OUTPUT_FILES key."""
    from ..video import write_mp4

    out = Path(out_dir)
    paths = {key: out / name for key, name in OUTPUT_FILES.items()}
    try:
        paths["table_md"].write_text(comparison.table_markdown, encoding="utf-8")
        paths["table_csv"].write_text(comparison.table_csv, encoding="utf-8")
        paths["metrics_json"].write_text(json.dumps(comparison.to_dict(), indent=2) + "\n", encoding="utf-8")
        plot_scores(comparison.metrics_by_label, paths["plot"], title=_plot_title(comparison.prompts))
        write_mp4(comparison.grid, paths["grid_video"], fps=comparison.settings.fps)
    except OSError as e:
        raise EvaluationError(f"Cannot write the comparison into {out}: {e.strerror or e}.") from None
    return paths


def _plot_title(prompts: Sequence[str]) -> str:
    first = prompts[0] if len(prompts[0]) <= 60 else prompts[0][:57] + "..."
    return f"Per-frame CLIP score, {len(prompts)} frames: {first}"


def summary_markdown(comparison: Comparison) -> str:
    """Both tables with a one-line caption each, for the page."""
    return (
        f"**CLIP score per frame** (cosine; seed {comparison.seed})\n\n{comparison.table_markdown}\n"
        f"**First-prompt tie and consistency** (averages over frames)\n\n{comparison.extra_markdown}"
        + ("\n*Identity*: CLIP image similarity of each frame to its reference picture, averaged.\n"
           if any(m.identity is not None for m in comparison.metrics.values()) else "")
    )

