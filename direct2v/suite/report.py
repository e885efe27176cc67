"""The suite's report, merged from the finished item folders on disk (rank 0 writes it).

Table 1's layout over the suite: per frame position the mean CLIP score of each method, then
Avg., Avg. Dist., first-prompt tie and consistency (direct2v.evaluate.metrics), each the mean
over prompts with a 95% t-interval (stats.py); then every pair of methods compared on
per-prompt differences. Files in the output folder:

    report.md      both tables, the findings, the CI method, the items
    summary.csv    metric, method, n, mean, sd, ci_low, ci_high
    paired.csv     metric, method_a, method_b, n, mean_diff, sd, ci_low, ci_high, excludes_zero
    items.csv      one row per item and method: its Table 1 numbers
    clip_scores.png  mean per-frame CLIP score with 95% intervals, one line per method
    paired.png     Avg. CLIP differences with 95% intervals, one row per pair
    index.html     the contact sheet: every item's methods playing side by side
    report.json    all of the above as numbers

Only what is on disk goes in, and nothing that depends on timing or on which process did the
work, so a run split over K processes writes the same report as one process.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence  # config and items: runner.SuiteConfig / PlannedItem

import numpy as np

from ..evaluate.methods import parse_methods
from ..evaluate.report import markdown_table
from .items import DONE_FILE, failures
from .stats import METHOD_NOTE, Interval, mean_interval, paired_interval

# The per-prompt summaries of a video (VideoMetrics.to_dict keys), with Table 1's row names.
METRICS = {
    "avg_clip": "Avg.",
    "avg_dist": "Avg. Dist.",
    "avg_first_prompt_tie": "First-prompt tie",
    "avg_consistency": "Consistency",
}
# With reference pictures (IP-Adapter): CLIP image similarity of the frames to them, a row of
# Table 1 over the suite only when some item has it.
IDENTITY = {"avg_identity": "Identity"}


@dataclass
class ItemScores:
    index: int  # position in the suite file, 0-based
    folder: str
    title: str
    frames: list[str]
    videos: dict[str, str]  # method -> file name inside the folder
    clip_scores: dict[str, list[float]]  # method -> per-frame scores
    summary: dict[str, dict[str, float]]  # method -> METRICS key -> value (NaN when undefined)


def load_scores(config: Any, planned: Sequence[Any]) -> tuple[list[ItemScores], list[Any]]:
    """The finished items' numbers in suite order, and the planned items that are not finished."""
    done, missing = [], []
    for p in planned:
        folder = config.items_dir / p.folder
        try:
            record = json.loads((folder / DONE_FILE).read_text(encoding="utf-8"))
            metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            missing.append(p)
            continue
        by_method = {m["name"]: m for m in metrics["methods"]}
        done.append(ItemScores(
            index=p.item.index, folder=p.folder, title=record["title"], frames=list(record["frames"]),
            videos=dict(record["videos"]),
            clip_scores={name: [float(x) for x in m["clip_scores"]] for name, m in by_method.items()},
            summary={name: {k: _num(m.get(k)) for k in (*METRICS, *IDENTITY)} for name, m in by_method.items()},
        ))
    return done, missing


def _num(x: Any) -> float:
    return math.nan if x is None else float(x)


@dataclass
class Aggregate:
    methods: list[str]
    labels: list[str]
    per_frame: list[dict[str, Interval]]  # frame position -> method -> interval
    summary: dict[str, dict[str, Interval]]  # metric -> method -> interval
    paired: list[tuple[str, str, dict[str, Interval]]]  # (a, b, metric -> interval of a - b)


def aggregate(items: Sequence[ItemScores], methods: Sequence[str]) -> Aggregate:
    labels = [m.label for m in parse_methods(list(methods))]
    longest = max((len(it.frames) for it in items), default=0)
    per_frame = []
    for j in range(longest):
        per_frame.append({m: mean_interval([it.clip_scores[m][j] for it in items if len(it.clip_scores[m]) > j])
                          for m in methods})
    # Items scored before the identity score existed (a resumed suite) have no identity keys.
    keys = [*METRICS, *(k for k in IDENTITY
                        if any(math.isfinite(it.summary[m].get(k, math.nan)) for it in items for m in methods))]
    summary = {k: {m: mean_interval([it.summary[m].get(k, math.nan) for it in items]) for m in methods} for k in keys}
    paired = []
    for i, b in enumerate(methods):
        for a in methods[i + 1:]:
            paired.append((a, b, {k: paired_interval([it.summary[a][k] for it in items],
                                                     [it.summary[b][k] for it in items]) for k in METRICS}))
    return Aggregate(list(methods), labels, per_frame, summary, paired)


# ----------------------------------------------------------------------------- text
def _ci(iv: Interval, signed: bool = False) -> str:
    if math.isnan(iv.mean):
        return "n/a"
    mean = f"{iv.mean:+.4f}" if signed else f"{iv.mean:.4f}"
    return mean if math.isnan(iv.low) else f"{mean} ± {iv.half_width:.4f}"


def table1_markdown(agg: Aggregate) -> str:
    header = ["Frame #", *agg.labels, "n"]
    rows: list[list[Any]] = []
    for j, cells in enumerate(agg.per_frame):
        rows.append([str(j + 1), *(_ci(cells[m]) for m in agg.methods), str(cells[agg.methods[0]].n)])
    for key, cells in agg.summary.items():
        name = {**METRICS, **IDENTITY}[key]
        rows.append([name, *(_ci(cells[m]) for m in agg.methods), str(cells[agg.methods[0]].n)])
    return markdown_table(header, rows)


def paired_markdown(agg: Aggregate) -> str:
    header = ["A − B", *METRICS.values(), "n"]
    rows = []
    for a, b, cells in agg.paired:
        row = [f"{_label(agg, a)} − {_label(agg, b)}"]
        for key in METRICS:
            iv = cells[key]
            row.append(_ci(iv, signed=True) + (" *" if iv.excludes_zero() else ""))
        row.append(str(cells["avg_clip"].n))
        rows.append(row)
    return markdown_table(header, rows)


def _label(agg: Aggregate, method: str) -> str:
    return agg.labels[agg.methods.index(method)]


def findings(agg: Aggregate) -> list[str]:
    """One sentence per pair and metric whose interval excludes zero; nothing is said otherwise."""
    out = []
    for a, b, cells in agg.paired:
        for key, name in METRICS.items():
            iv = cells[key]
            if not iv.excludes_zero():
                continue
            word = "higher" if iv.sign() > 0 else "lower"
            out.append(
                f"{_label(agg, a)} scores {word} than {_label(agg, b)} on {name} "
                f"({iv.mean:+.4f}, 95% CI {iv.low:+.4f} to {iv.high:+.4f}, n = {iv.n})."
            )
    return out


def report_markdown(agg: Aggregate, items: Sequence[ItemScores], missing: Sequence[Any],
                    config: Any, planned: Sequence[Any]) -> str:
    first = planned[0].settings if planned else None
    lines = [
        f"# DirecT2V suite: {len(items)} of {len(planned)} items",
        "",
        f"Model `{config.model}`, CLIP `{config.clip_model}`, methods {', '.join(agg.labels)}"
        + (f", DSF quantile {config.dsf_quantile:g} for +DSF" if any(m.endswith('+dsf') for m in agg.methods) else "")
        + (f"; seed {first.seed}, {first.num_inference_steps} steps, {first.width}x{first.height}, "
           f"scheduler {first.scheduler}, t0={first.t0}, t1={first.t1}" if first else "") + ".",
        "",
        "## Table 1 over the suite",
        "",
        "Mean over prompts ± the half-width of its 95% confidence interval; CLIP scores are cosines.",
        "",
        table1_markdown(agg),
        "## Paired differences (A − B, per prompt)",
        "",
        "`*`: the 95% interval of the per-prompt difference excludes zero.",
        "",
        paired_markdown(agg),
        "## Findings",
        "",
    ]
    found = findings(agg)
    lines += [f"- {f}" for f in found] if found else ["- No pair of methods differs with its 95% interval excluding zero."]
    lines += ["", "## Method", "", METHOD_NOTE, ""]
    lines += ["## Items", ""]
    header = ["#", "Prompt", *(f"{lab} Avg." for lab in agg.labels), "Folder"]
    rows = [[str(it.index + 1), _cell(it.title), *(it.summary[m]["avg_clip"] for m in agg.methods),
             f"[{it.folder}](items/{it.folder}/)"] for it in items]
    lines.append(markdown_table(header, rows))
    if missing:
        reasons = failures(config, missing)
        lines += ["## Not finished", ""]
        lines += [f"- {p.item.index + 1}. {_cell(p.item.title)}: {reasons.get(p.folder, 'not rendered yet')}"
                  for p in missing]
        lines.append("")
    return "\n".join(lines)


def _cell(text: str, width: int = 80) -> str:
    text = " ".join(str(text).split()).replace("|", "/")
    return text if len(text) <= width else text[: width - 3] + "..."


def _f(x: float) -> str:
    return "" if math.isnan(x) else f"{x:.6f}"


def summary_csv(agg: Aggregate) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["metric", "method", "label", "n", "mean", "sd", "ci_low", "ci_high"])
    rows = [(f"clip_frame_{j + 1}", cells) for j, cells in enumerate(agg.per_frame)]
    rows += [(k, agg.summary[k]) for k in METRICS]
    for metric, cells in rows:
        for m, lab in zip(agg.methods, agg.labels):
            iv = cells[m]
            w.writerow([metric, m, lab, iv.n, _f(iv.mean), _f(iv.sd), _f(iv.low), _f(iv.high)])
    return buf.getvalue()


def paired_csv(agg: Aggregate) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["metric", "method_a", "method_b", "n", "mean_diff", "sd", "ci_low", "ci_high", "excludes_zero"])
    for a, b, cells in agg.paired:
        for k in METRICS:
            iv = cells[k]
            w.writerow([k, a, b, iv.n, _f(iv.mean), _f(iv.sd), _f(iv.low), _f(iv.high), int(iv.excludes_zero())])
    return buf.getvalue()


def items_csv(items: Sequence[ItemScores], methods: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["item", "folder", "prompt", "method", *METRICS, "clip_scores"])
    for it in items:
        for m in methods:
            w.writerow([it.index + 1, it.folder, it.title, m, *(_f(it.summary[m][k]) for k in METRICS),
                        " ".join(f"{x:.6f}" for x in it.clip_scores[m])])
    return buf.getvalue()


# ----------------------------------------------------------------------------- plots
def _figure(width_in: float, height_in: float):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure  # no pyplot: no global state

    return Figure(figsize=(width_in, height_in), dpi=100)


def plot_frames(agg: Aggregate, path: Path, title: str) -> Path:
    n = len(agg.per_frame)
    fig = _figure(max(5.0, 0.6 * n + 2.0), 3.8)
    ax = fig.add_subplot()
    x = np.arange(1, n + 1, dtype=float)
    for i, (m, lab) in enumerate(zip(agg.methods, agg.labels)):
        mean = np.array([c[m].mean for c in agg.per_frame])
        half = np.array([c[m].half_width for c in agg.per_frame])
        shift = (i - (len(agg.methods) - 1) / 2) * 0.06  # keep the error bars apart
        ax.errorbar(x + shift, mean, yerr=np.nan_to_num(half), marker="o", capsize=3, color=f"C{i % 10}",
                    label=f"{lab} (avg {agg.summary['avg_clip'][m].mean:.4f})")
    ax.set_xlabel("Frame #")
    ax.set_ylabel("CLIP score (cosine), mean ± 95% CI")
    ax.set_xticks(x)
    ax.set_title(textwrap.fill(title, width=70), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return _save_figure(fig, path)


def plot_paired(agg: Aggregate, path: Path) -> Path:
    pairs = agg.paired
    fig = _figure(6.0, max(2.2, 0.45 * len(pairs) + 1.2))
    ax = fig.add_subplot()
    for row, (a, b, cells) in enumerate(pairs):
        iv = cells["avg_clip"]
        color = "C2" if iv.sign() > 0 else "C3" if iv.sign() < 0 else "C7"
        if not math.isnan(iv.low):
            ax.hlines(row, iv.low, iv.high, color=color, linewidth=2)
        ax.plot([iv.mean], [row], "o", color=color)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(pairs)))
    ax.set_yticklabels([f"{_label(agg, a)} − {_label(agg, b)}" for a, b, _ in pairs], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Difference in Avg. CLIP score, mean and 95% CI over prompts")
    ax.grid(alpha=0.3, axis="x")
    return _save_figure(fig, path)


# ----------------------------------------------------------------------------- contact sheet
def contact_sheet(agg: Aggregate, items: Sequence[ItemScores], title: str) -> str:
    e = html.escape
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:1.5rem;background:#fafafa}"
        ".item{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8rem;margin:0 0 1rem}"
        "video{max-width:100%;image-rendering:pixelated;background:#222}"
        "table{border-collapse:collapse;font-size:.85rem}td,th{padding:.15rem .5rem;border-bottom:1px solid #eee}"
        "h2{font-size:1rem;margin:.2rem 0 .5rem}ol{font-size:.85rem}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        '<p><a href="report.md">report.md</a> · <a href="summary.csv">summary.csv</a> · '
        '<a href="paired.csv">paired.csv</a> · <a href="items.csv">items.csv</a></p>',
        '<p><img src="clip_scores.png" alt="Per-frame CLIP score with 95% intervals"> '
        '<img src="paired.png" alt="Paired differences in Avg. CLIP score"></p>',
    ]
    for it in items:
        base = f"items/{e(it.folder)}/"
        parts.append(f'<div class="item" id="item-{it.index + 1}"><h2>{it.index + 1}. {e(it.title)}</h2>')
        # One video holds every method side by side (labelled), so they play in step.
        parts.append(f'<video src="{base}grid.mp4" autoplay loop muted playsinline controls></video>')
        parts.append("<table><tr><th>Method</th><th>Avg.</th><th>Avg. Dist.</th><th>Consistency</th><th>Video</th></tr>")
        for m, lab in zip(agg.methods, agg.labels):
            s = it.summary[m]
            parts.append(
                f"<tr><td>{e(lab)}</td><td>{_fmt(s['avg_clip'])}</td><td>{_fmt(s['avg_dist'])}</td>"
                f"<td>{_fmt(s['avg_consistency'])}</td><td><a href=\"{base}{e(it.videos[m])}\">mp4</a></td></tr>"
            )
        parts.append("</table>")
        parts.append(f'<details><summary>Frame script ({len(it.frames)} frames) · <a href="{base}project.json">project</a>'
                     "</summary><ol>" + "".join(f"<li>{e(f)}</li>" for f in it.frames) + "</ol></details></div>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _fmt(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.4f}"


# ----------------------------------------------------------------------------- all files
REPORT_FILES = ("report.md", "summary.csv", "paired.csv", "items.csv", "clip_scores.png", "paired.png",
                "index.html", "report.json")


def write_report(config: Any, planned: Sequence[Any]) -> dict[str, Path]:
    """Merge the finished items into the report files; return their paths by file name."""
    items, missing = load_scores(config, planned)
    out = config.out_dir
    paths = {name: out / name for name in REPORT_FILES}
    if not items:
        text = f"# DirecT2V suite: 0 of {len(planned)} items\n\nNo item has finished yet.\n"
        _atomic_write(paths["report.md"], text)
        return {"report.md": paths["report.md"]}
    agg = aggregate(items, config.methods)
    title = f"DirecT2V suite: {len(items)} of {len(planned)} items"
    _atomic_write(paths["report.md"], report_markdown(agg, items, missing, config, planned))
    _atomic_write(paths["summary.csv"], summary_csv(agg))
    _atomic_write(paths["paired.csv"], paired_csv(agg))
    _atomic_write(paths["items.csv"], items_csv(items, config.methods))
    _atomic_write(paths["index.html"], contact_sheet(agg, items, title))
    _atomic_write(paths["report.json"], json.dumps(report_dict(agg, items, missing), indent=2) + "\n")
    plot_frames(agg, paths["clip_scores.png"], f"Per-frame CLIP score over {len(items)} prompts (95% CI)")
    plot_paired(agg, paths["paired.png"])
    return paths


def report_dict(agg: Aggregate, items: Sequence[ItemScores], missing: Sequence[Any]) -> dict[str, Any]:
    return {
        "methods": [{"name": m, "label": lab} for m, lab in zip(agg.methods, agg.labels)],
        "items": [{"index": it.index, "folder": it.folder, "prompt": it.title} for it in items],
        "missing": [{"index": p.item.index, "folder": p.folder, "prompt": p.item.title} for p in missing],
        "per_frame": [{m: c[m].to_dict() for m in agg.methods} for c in agg.per_frame],
        "summary": {k: {m: agg.summary[k][m].to_dict() for m in agg.methods} for k in METRICS},
        "paired": [{"a": a, "b": b, **{k: cells[k].to_dict() for k in METRICS}} for a, b, cells in agg.paired],
        "ci_method": METHOD_NOTE,
    }


def _save_figure(fig, path: Path) -> Path:
    """The PNG written beside `path` and renamed into place: a reader never sees half a plot."""
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png")
    tmp.replace(path)
    return path


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
