"""What a comparison writes: the paper-layout table (Markdown, CSV), the per-frame CLIP score
plot (PNG), and the side-by-side video grid (frames; `direct2v.video.write_mp4` writes it)."""

from __future__ import annotations

import csv
import io
import math
import textwrap
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..video import to_uint8
from .metrics import VideoMetrics

DIGITS = 4  # Table 1 prints four decimals


def table_rows(metrics: Mapping[str, VideoMetrics]) -> tuple[list[str], list[list[str | float]]]:
    """Header and rows of Table 1's layout: one row per frame (1-based), then Avg. and Avg. Dist.;
    one column per method, keyed by the method's label."""
    labels = list(metrics)
    n = _common_length(metrics)
    header = ["Frame #", *labels]
    rows: list[list[str | float]] = [[str(j + 1), *(float(metrics[m].clip_scores[j]) for m in labels)] for j in range(n)]
    rows.append(["Avg.", *(metrics[m].avg_clip for m in labels)])
    rows.append(["Avg. Dist.", *(metrics[m].avg_dist for m in labels)])
    if any(metrics[m].identity is not None for m in labels):  # a reference picture was given
        rows.append(["Identity", *(metrics[m].avg_identity for m in labels)])
    return header, rows


def extra_rows(metrics: Mapping[str, VideoMetrics]) -> tuple[list[str], list[list[str | float]]]:
    """The metrics beyond Table 1: first-prompt tie and frame-to-frame consistency."""
    labels = list(metrics)
    return ["Metric", *labels], [
        ["First-prompt tie", *(metrics[m].avg_first_prompt_tie for m in labels)],
        ["Consistency", *(metrics[m].avg_consistency for m in labels)],
    ]


def _common_length(metrics: Mapping[str, VideoMetrics]) -> int:
    lengths = {m.num_frames for m in metrics.values()}
    if len(lengths) != 1:
        raise ValueError(f"Every method must have the same number of frames; got {sorted(lengths)}.")
    return lengths.pop()


def _fmt(x: str | float, digits: int = DIGITS) -> str:
    if isinstance(x, str):
        return x
    return "n/a" if math.isnan(x) else f"{x:.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str | float]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def csv_table(header: Sequence[str], rows: Sequence[Sequence[str | float]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([c if isinstance(c, str) else ("" if math.isnan(c) else f"{c:.6f}") for c in row])
    return buf.getvalue()


def plot_scores(metrics: Mapping[str, VideoMetrics], path: str | Path, title: str = "") -> Path:
    """Per-frame CLIP score, one line per method, averages as dashed lines."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure  # no pyplot: no global state, safe in a server thread

    n = _common_length(metrics)
    x = np.arange(1, n + 1)
    width_in = max(5.0, 0.6 * n + 2.0)
    fig = Figure(figsize=(width_in, 3.6), dpi=100)
    ax = fig.add_subplot()
    for i, (label, m) in enumerate(metrics.items()):
        color = f"C{i % 10}"
        ax.plot(x, m.clip_scores, marker="o", color=color, label=f"{label} (avg {m.avg_clip:.4f})")
        ax.axhline(m.avg_clip, color=color, linestyle="--", linewidth=0.8, alpha=0.6)
    ax.set_xlabel("Frame #")
    ax.set_ylabel("CLIP score (cosine)")
    ax.set_xticks(x)
    # Long titles (they carry the prompt) wrap to the figure instead of running off its edges.
    ax.set_title(textwrap.fill(title or "Per-frame CLIP score", width=int(width_in * 11)), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, format="png")
    return path


def label_height(frame_height: int) -> int:
    """Height of the label strip above each tile: at least 16 px and about 1/10 of the frame,
    chosen so that the grid's height is a multiple of 16 (H.264 macroblocks, no rescale)."""
    h = max(16, frame_height // 10)
    return h + (-(frame_height + h)) % 16


def video_grid(videos: Mapping[str, np.ndarray], labels: Sequence[str] | None = None) -> np.ndarray:
    """Methods side by side: (F, L + H, M * W, 3) uint8, a label strip of height L over each
    tile (white text on dark grey), tile m holding method m's video unchanged below it."""
    from PIL import Image, ImageDraw, ImageFont

    arrays = [to_uint8(v) for v in videos.values()]
    if not arrays:
        raise ValueError("No videos to put in a grid.")
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"Every video in the grid must have the same shape; got {sorted(shapes)}.")
    f, h, w, _ = arrays[0].shape
    labels = list(labels) if labels is not None else list(videos)
    lh = label_height(h)
    strip = Image.new("RGB", (w * len(arrays), lh), (32, 32, 32))
    draw = ImageDraw.Draw(strip)
    size = max(8, int(lh * 0.7))
    try:
        font = ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        font = ImageFont.load_default()
    for i, text in enumerate(labels):
        # Shrink the label until it fits its tile.
        t = text
        while t and draw.textlength(t, font=font) > w - 4:
            t = t[:-1]
        tw = draw.textlength(t, font=font)
        draw.text((i * w + (w - tw) / 2, lh / 2), t, fill=(255, 255, 255), font=font, anchor="lm")
    strip_arr = np.asarray(strip, dtype=np.uint8)
    grid = np.empty((f, lh + h, w * len(arrays), 3), np.uint8)
    grid[:, :lh] = strip_arr
    for i, a in enumerate(arrays):
        grid[:, lh:, i * w : (i + 1) * w] = a
    return grid
