"""The identity score (evaluate/metrics.py): CLIP image similarity of every frame to its
reference picture, beside Avg. and Avg. Dist. in the comparison."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from direct2v.evaluate import compare_methods, load_clip, video_metrics
from direct2v.evaluate.metrics import EvaluationError, identity_scores
from direct2v.evaluate.report import table_rows
from direct2v.settings import RenderSettings

RNG = np.random.default_rng(1)
VIDEO = RNG.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)  # uint8: a reference is exactly its frame
PROMPTS = ["a red cat", "a blue dog", "a green bird"]


@pytest.fixture(scope="module")
def scorer():
    return load_clip("tiny", device="cpu")


def test_identity_is_the_cosine_of_each_frame_to_its_reference():
    img = np.eye(3)[:, :3]
    ref = np.array([[1.0, 0, 0], [0.6, 0.8, 0], [np.nan] * 3])
    s = identity_scores(img, ref)
    assert s[0] == 1.0 and s[1] == pytest.approx(0.8) and math.isnan(s[2])
    with pytest.raises(EvaluationError, match="one reference embedding per frame"):
        identity_scores(img, ref[:2])


def test_video_metrics_with_one_reference_or_one_per_frame(scorer):
    plain = video_metrics(VIDEO, PROMPTS, scorer)
    assert plain.identity is None and "identity" not in plain.to_dict()
    same = video_metrics(VIDEO, PROMPTS, scorer, references=VIDEO[1])
    emb = scorer.encode_images(VIDEO)
    np.testing.assert_allclose(same.identity, emb @ emb[1], atol=1e-6)
    assert same.identity[1] == pytest.approx(1.0, abs=1e-6)
    assert same.avg_clip == plain.avg_clip and same.avg_dist == plain.avg_dist  # the other numbers unchanged
    per_frame = video_metrics(VIDEO, PROMPTS, scorer, references=[VIDEO[0], None, VIDEO[2]])
    assert per_frame.identity[0] == pytest.approx(1.0, abs=1e-6) and math.isnan(per_frame.identity[1])
    assert per_frame.avg_identity == pytest.approx((per_frame.identity[0] + per_frame.identity[2]) / 2)
    assert per_frame.to_dict()["identity"][1] is None
    spans = video_metrics(VIDEO, PROMPTS, scorer, references={1: VIDEO[0]})  # frames 2 and 3 from frame 2 on
    assert math.isnan(spans.identity[0])
    np.testing.assert_allclose(spans.identity[1:], emb[1:] @ emb[0], atol=1e-6)
    with pytest.raises(EvaluationError, match="3 frames but 2 reference pictures"):
        video_metrics(VIDEO, PROMPTS, scorer, references=[VIDEO[0], None])


def test_table_gains_an_identity_row_only_with_references(scorer):
    plain = {"RVM": video_metrics(VIDEO, PROMPTS, scorer)}
    assert [r[0] for r in table_rows(plain)[1]][-2:] == ["Avg.", "Avg. Dist."]
    with_ref = {"RVM": video_metrics(VIDEO, PROMPTS, scorer, references=VIDEO[0])}
    rows = table_rows(with_ref)[1]
    assert [r[0] for r in rows][-3:] == ["Avg.", "Avg. Dist.", "Identity"]
    assert rows[-1][1] == with_ref["RVM"].avg_identity


def test_compare_passes_the_references_to_every_render_and_scores_them(scorer):
    calls = []

    def fake_render(pipe, prompts, settings, **kw):
        calls.append(kw.get("ip_image"))
        return SimpleNamespace(frames=VIDEO)

    settings = RenderSettings(height=64, width=64, num_inference_steps=6, t0=3, t1=4, seed=3)
    ref = VIDEO[2]
    cmp = compare_methods(None, PROMPTS, settings, scorer=scorer, methods="first,rotational", render_fn=fake_render,
                          references=ref)
    assert len(calls) == 2 and all(c is ref for c in calls)
    assert "| Identity |" in cmp.table_markdown
    assert cmp.to_dict()["methods"][0]["identity"][2] == pytest.approx(1.0, abs=1e-6)
    compare_methods(None, PROMPTS, settings, scorer=scorer, methods="first", render_fn=fake_render)
    assert calls[-1] is None  # no references: the renderer is called as before
