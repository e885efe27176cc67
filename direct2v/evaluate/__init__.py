"""Evaluation: CLIP-score metrics of a rendered video and the method comparison of the
paper's Table 1 (method.md section 6).

    from direct2v.evaluate import load_clip, video_metrics, compare_methods
    scorer = load_clip("openai/clip-vit-large-patch14")    # or a local folder, or "tiny"
    m = video_metrics(result.frames, prompts, scorer)       # VideoMetrics
    cmp = compare_methods(pipe, prompts, settings, scorer=scorer, out_dir="results/")

Metric definitions are in `direct2v/evaluate/metrics.py`. Heavy imports (torch,
transformers, matplotlib) happen on first use. The CLI's `compare` command is in
`direct2v/cli.py`, the page's Compare tab in `direct2v/ui/compare.py`.
"""

from __future__ import annotations

from ..lazy import lazy_attributes

_LAZY = {
    "ClipScorer": "clip",
    "ClipLoadError": "clip",
    "DEFAULT_CLIP_MODEL": "clip",
    "Scorer": "clip",
    "load_clip": "clip",
    "tiny_clip": "clip",
    "EvaluationError": "metrics",
    "VideoMetrics": "metrics",
    "avg_dist": "metrics",
    "identity_scores": "metrics",
    "metrics_from_embeddings": "metrics",
    "video_metrics": "metrics",
    "DEFAULT_METHODS": "methods",
    "Method": "methods",
    "parse_methods": "methods",
    "Comparison": "compare",
    "CompareProgress": "compare",
    "compare_methods": "compare",
    "summary_markdown": "compare",
    "video_grid": "report",
}
__all__ = sorted(_LAZY)

__getattr__ = lazy_attributes(__name__, _LAZY)
