"""The suite report's statistics on constructed numbers: t-intervals, paired differences,
aggregation over prompts of different lengths, and when a finding is stated."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from direct2v.suite.report import ItemScores, aggregate, findings, paired_csv, summary_csv, table1_markdown
from direct2v.suite.stats import mean_interval, paired_interval


def test_t_interval_matches_hand_computation():
    # x = 1..5: mean 3, s = sqrt(2.5); t(0.975, 4) = 2.7764451051977987 (tables give 2.776).
    iv = mean_interval([1, 2, 3, 4, 5])
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert iv.n == 5 and iv.mean == pytest.approx(3.0, abs=1e-12)
    assert iv.sd == pytest.approx(math.sqrt(2.5), abs=1e-12)
    assert (iv.low, iv.high) == (pytest.approx(3 - half, abs=1e-12), pytest.approx(3 + half, abs=1e-12))
    assert half == pytest.approx(1.9632432, abs=1e-7)


def test_t_interval_equals_scipys_one_sample_interval():
    x = np.array([0.291, 0.305, 0.288, 0.312, 0.299, 0.301, 0.283, 0.310])
    iv = mean_interval(x)
    ref = sps.ttest_1samp(x, 0.0).confidence_interval(0.95)
    assert (iv.low, iv.high) == (pytest.approx(ref.low, abs=1e-12), pytest.approx(ref.high, abs=1e-12))


def test_paired_interval_is_the_paired_t_tests_interval():
    rng = np.random.default_rng(0)
    b = rng.normal(0.29, 0.01, size=12)
    a = b + rng.normal(0.01, 0.004, size=12)
    iv = paired_interval(a, b)
    ref = sps.ttest_rel(a, b).confidence_interval(0.95)
    assert (iv.low, iv.high) == (pytest.approx(ref.low, abs=1e-12), pytest.approx(ref.high, abs=1e-12))
    assert iv.excludes_zero() and iv.sign() == 1
    # The same numbers unpaired would not show it: the prompts' spread swamps the difference.
    assert mean_interval(a).low < mean_interval(b).high


def test_difference_is_called_only_when_the_interval_excludes_zero():
    b = [0.30, 0.28, 0.31, 0.29]
    assert paired_interval([x + 0.01 for x in b], b).excludes_zero()  # constant +0.01: sd 0, [0.01, 0.01]
    mixed = paired_interval([0.31, 0.27, 0.32, 0.28], b)  # differences +0.01, -0.01, +0.01, -0.01
    assert mixed.mean == pytest.approx(0.0, abs=1e-12) and not mixed.excludes_zero() and mixed.sign() == 0
    lower = paired_interval(b, [x + 0.02 for x in b])
    assert lower.sign() == -1


def test_nan_values_are_dropped_pairwise_and_one_value_has_no_interval():
    iv = paired_interval([1.0, math.nan, 3.0, 4.0], [0.0, 1.0, math.nan, 2.0])
    assert iv.n == 2 and iv.mean == pytest.approx(1.5)
    one = mean_interval([0.3])
    assert one.n == 1 and one.mean == 0.3 and math.isnan(one.low) and not one.excludes_zero()
    assert mean_interval([]).n == 0
    with pytest.raises(ValueError, match="one value per prompt"):
        paired_interval([1.0, 2.0], [1.0])


def _item(i: int, per_method: dict[str, list[float]]) -> ItemScores:
    summary = {}
    for m, s in per_method.items():
        s = np.asarray(s)
        summary[m] = {
            "avg_clip": float(s.mean()), "avg_dist": float(np.abs(s[0] - s).mean()),
            "avg_first_prompt_tie": math.nan if len(s) < 2 else 0.0, "avg_consistency": math.nan if len(s) < 2 else 0.9,
        }
    n = len(next(iter(per_method.values())))
    return ItemScores(index=i, folder=f"f{i}", title=f"prompt {i}", frames=[f"p{j}" for j in range(n)],
                      videos={m: f"{m}.mp4" for m in per_method}, clip_scores={m: list(v) for m, v in per_method.items()},
                      summary=summary)


def test_aggregate_over_prompts_of_different_lengths():
    items = [
        _item(0, {"first": [0.30, 0.28, 0.26], "rotational": [0.30, 0.30, 0.31]}),
        _item(1, {"first": [0.32, 0.27], "rotational": [0.32, 0.31]}),
        _item(2, {"first": [0.29, 0.25, 0.24], "rotational": [0.29, 0.30, 0.30]}),
    ]
    agg = aggregate(items, ["first", "rotational"])
    assert agg.labels == ["T2V-Z", "RVM"]
    assert [c["first"].n for c in agg.per_frame] == [3, 3, 2]  # frame 3 exists in two prompts
    assert agg.per_frame[2]["first"].mean == pytest.approx((0.26 + 0.24) / 2)
    assert agg.summary["avg_clip"]["rotational"].mean == pytest.approx(np.mean([0.91 / 3, 0.315, 0.89 / 3]))
    (a, b, cells), = agg.paired
    assert (a, b) == ("rotational", "first")
    diffs = [0.91 / 3 - 0.84 / 3, 0.315 - 0.295, 0.89 / 3 - 0.78 / 3]
    ref = sps.ttest_rel(diffs, np.zeros(3)).confidence_interval(0.95)
    assert cells["avg_clip"].low == pytest.approx(ref.low) and cells["avg_clip"].high == pytest.approx(ref.high)
    table = table1_markdown(agg)
    assert table.splitlines()[0] == "| Frame # | T2V-Z | RVM | n |"
    assert "| 3 | 0.2500 ± " in table and table.count("\n") == 2 + 3 + 4
    said = findings(agg)
    assert any(s.startswith("RVM scores higher than T2V-Z on Avg. (") for s in said)
    assert any(s.startswith("RVM scores lower than T2V-Z on Avg. Dist.") for s in said)
    # Ties and consistency are equal for both methods: nothing is said about them.
    assert not any("tie" in s or "Consistency" in s for s in said)
    rows = paired_csv(agg).splitlines()
    assert rows[1].startswith("avg_clip,rotational,first,3,") and rows[1].endswith(",1")
    assert summary_csv(agg).splitlines()[1].startswith("clip_frame_1,first,T2V-Z,3,0.303333,")
