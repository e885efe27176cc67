"""The numbers of the paper's Table 1 for one rendered video and its frame script.

All scores are plain cosine similarities of unit-norm CLIP embeddings, in [-1, 1], not
scaled by 100 and not clipped at 0 (the paper's values, about 0.29 to 0.32, are plain
cosines). With N frames, image embeddings I_j and prompt embeddings P_j (j = 1..N):

    S[j, k]            = cos(I_j, P_k)                       score matrix (frame j, prompt k)
    clip_scores[j]     = s_j = S[j, j]                       per-frame CLIP score
    avg_clip           = (1/N) sum_j s_j                     Table 1's "Avg."
    avg_dist           = (1/N) sum_j |s_1 - s_j|             Table 1's "Avg. Dist."
    first_prompt_tie[j]= S[j, 1] - S[j, j]                   (0 for j = 1)
    avg_first_prompt_tie = mean over j = 2..N of first_prompt_tie[j]
    consistency[j]     = cos(I_j, I_{j+1}), j = 1..N-1
    avg_consistency    = mean of consistency
    identity[j]        = cos(I_j, R_j)                       with a reference picture R_j (IP-Adapter)
    avg_identity       = mean of identity over the frames that have a reference

"Avg. Dist." is the paper's "average L1 distance between frame 1 and the other frames": the
distance between frame 1's score and each frame's score, summed over the frames and divided
by N (frame 1 contributes 0). This reading reproduces all four Avg. Dist. entries of Table 1
from its per-frame columns to the fourth decimal; when frame 1 scores highest it equals
s_1 - avg_clip. It is large when the video fits its first prompt much better than the later
ones, the symptom of a method that stays tied to frame 1.

The first-prompt tie measures that tie directly: how much better frame j matches frame 1's
prompt than its own. Positive means frame j still shows the first prompt; negative means it
moved on to its own. Frames whose prompt equals frame 1's score 0 by construction.

The identity score is what a reference picture buys (render/ip_adapter.py): the CLIP image
similarity of each frame to the picture it was given (one for the video, or its own), NaN for
a frame without one. Read beside Avg. and the first-prompt tie, it shows what the adapter
costs in per-frame prompt fidelity.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..settings import SettingsError
from .clip import Scorer, as_float_frames


class EvaluationError(SettingsError):
    """The inputs of an evaluation do not fit (frame and prompt counts, methods, output folder).
    A SettingsError, so the page and the CLI show it as bad input."""


@dataclass(frozen=True)
class VideoMetrics:
    clip_scores: np.ndarray  # (N,) s_j = cos(frame j, prompt j)
    score_matrix: np.ndarray  # (N, N) cos(frame j, prompt k)
    consistency: np.ndarray  # (N-1,) cos(frame j, frame j+1) of the CLIP image embeddings
    avg_clip: float
    avg_dist: float
    first_prompt_tie: np.ndarray  # (N,) S[j, 0] - S[j, j]; 0 for the first frame
    avg_first_prompt_tie: float  # mean over frames 2..N; NaN for a single frame
    avg_consistency: float  # NaN for a single frame
    identity: np.ndarray | None = None  # (N,) cos(frame j, its reference picture); NaN without one
    avg_identity: float = math.nan  # mean over frames with a reference; NaN without references

    @property
    def num_frames(self) -> int:
        return len(self.clip_scores)

    def to_dict(self) -> dict[str, Any]:
        return {
            "clip_scores": [float(x) for x in self.clip_scores],
            "avg_clip": self.avg_clip,
            "avg_dist": self.avg_dist,
            "first_prompt_tie": [float(x) for x in self.first_prompt_tie],
            "avg_first_prompt_tie": _json_float(self.avg_first_prompt_tie),
            "consistency": [float(x) for x in self.consistency],
            "avg_consistency": _json_float(self.avg_consistency),
            "score_matrix": [[float(x) for x in row] for row in self.score_matrix],
            **({"identity": [_json_float(x) for x in self.identity], "avg_identity": _json_float(self.avg_identity)}
               if self.identity is not None else {}),
        }


def _json_float(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def avg_dist(clip_scores: Sequence[float]) -> float:
    """Table 1's "Avg. Dist.": (1/N) * sum_j |s_1 - s_j| over all N frames (frame 1 adds 0)."""
    s = np.asarray(clip_scores, dtype=np.float64)
    if s.ndim != 1 or len(s) == 0:
        raise EvaluationError("Avg. Dist. needs a non-empty list of per-frame scores.")
    return float(np.abs(s[0] - s).mean())


def metrics_from_embeddings(image_emb: np.ndarray, text_emb: np.ndarray) -> VideoMetrics:
    """All metrics from unit-norm embeddings: image_emb (N, D) of the frames, text_emb (N, D)
    of the frames' prompts, row j belonging to frame j."""
    img = np.asarray(image_emb, dtype=np.float64)
    txt = np.asarray(text_emb, dtype=np.float64)
    if img.ndim != 2 or txt.ndim != 2 or img.shape != txt.shape or len(img) == 0:
        raise EvaluationError(
            f"Need one image and one prompt embedding per frame; got {img.shape} and {txt.shape}."
        )
    matrix = img @ txt.T
    scores = np.diag(matrix).copy()
    tie = matrix[:, 0] - scores
    tie[0] = 0.0
    consistency = np.einsum("jd,jd->j", img[:-1], img[1:])
    n = len(scores)
    return VideoMetrics(
        clip_scores=scores,
        score_matrix=matrix,
        consistency=consistency,
        avg_clip=float(scores.mean()),
        avg_dist=avg_dist(scores),
        first_prompt_tie=tie,
        avg_first_prompt_tie=float(tie[1:].mean()) if n > 1 else math.nan,
        avg_consistency=float(consistency.mean()) if n > 1 else math.nan,
    )


def identity_scores(image_emb: np.ndarray, reference_emb: np.ndarray) -> np.ndarray:
    """cos(I_j, R_j) per frame from unit-norm embeddings (N, D) each; a NaN row of R gives NaN."""
    img = np.asarray(image_emb, dtype=np.float64)
    ref = np.asarray(reference_emb, dtype=np.float64)
    if img.shape != ref.shape or img.ndim != 2:
        raise EvaluationError(f"Need one reference embedding per frame; got {ref.shape} for frames {img.shape}.")
    return np.einsum("jd,jd->j", img, ref)


def with_identity(metrics: VideoMetrics, image_emb: np.ndarray, reference_emb: np.ndarray) -> VideoMetrics:
    """`metrics` with the identity score added."""
    scores = identity_scores(image_emb, reference_emb)
    given = scores[~np.isnan(scores)]
    avg = float(given.mean()) if len(given) else math.nan
    return dataclasses.replace(metrics, identity=scores, avg_identity=avg)


def reference_embeddings(references: Any, num_frames: int, scorer: Scorer) -> np.ndarray:
    """(N, D) unit-norm CLIP embeddings of each frame's reference picture (NaN rows for frames
    without one) from one picture for every frame, a list with one entry (or None) per frame, or
    {first frame: picture} spans; each distinct picture is encoded once."""
    from ..render.start_image import StartImageError, load_image

    if isinstance(references, dict):  # {first frame: picture}, as the renderer takes spans
        from ..render.ip_adapter import frame_references

        references = frame_references(references, num_frames)
    per_frame = list(references) if isinstance(references, (list, tuple)) else [references] * num_frames
    if len(per_frame) != num_frames:
        raise EvaluationError(f"The video has {num_frames} frames but {len(per_frame)} reference pictures were given.")
    unique: dict[int, np.ndarray] = {}
    for r in per_frame:
        if r is not None and id(r) not in unique:
            try:
                unique[id(r)] = np.asarray(load_image(r))
            except StartImageError as e:
                raise EvaluationError(str(e).replace("start image", "reference picture")) from None
    emb = {k: scorer.encode_images(a)[0] for k, a in unique.items()}
    dim = next(iter(emb.values())).shape[-1] if emb else 1
    return np.stack([emb[id(r)] if r is not None else np.full(dim, np.nan) for r in per_frame])


def video_metrics(frames: Any, prompts: Sequence[str] | str, scorer: Scorer, references: Any = None) -> VideoMetrics:
    """Metrics of a rendered video (F, H, W, 3), float [0, 1] or uint8, against its frame
    script (one prompt per frame; a single string is used for every frame), and with
    `references` (a picture, or a list with one picture or None per frame) the identity score."""
    frames = as_float_frames(frames)
    if isinstance(prompts, str):
        prompts = [prompts] * len(frames)
    prompts = list(prompts)
    if len(prompts) != len(frames):
        raise EvaluationError(f"The video has {len(frames)} frames but the script has {len(prompts)} prompts.")
    # Encode each distinct prompt once; scripts repeat prompts often.
    unique = list(dict.fromkeys(prompts))
    unique_emb = scorer.encode_texts(unique)
    index = {p: i for i, p in enumerate(unique)}
    text_emb = np.asarray(unique_emb)[[index[p] for p in prompts]]
    image_emb = scorer.encode_images(frames)
    metrics = metrics_from_embeddings(image_emb, text_emb)
    if references is None:
        return metrics
    return with_identity(metrics, image_emb, reference_embeddings(references, len(frames), scorer))
