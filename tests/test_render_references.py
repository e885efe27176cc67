"""One rule for reference frames: what the processors attend to is what the anchor cache keeps."""

from __future__ import annotations

import pytest

from direct2v.render.attention import ValueMappingController, random_draws, reference_frames
from direct2v.render.long import cache_plan
from direct2v.settings import VALUE_MAPPING_MODES


def test_reference_frames_by_mode():
    draws = [0.0, 0.99, 0.5]
    assert reference_frames("rotational", None, 0, 3, 2, draws) == [(0,), (1,), (2,)]  # before the joint phase
    assert reference_frames("none", 5, 2, 2, 2, draws) == [(2,), (3,)]
    assert reference_frames("first", 1, 0, 3, 2, draws) == [(0,)] * 3
    # k(t') = floor(t'/tau) mod N over a pool of 2 anchors + 3 frames
    assert [reference_frames("rotational", t, 2, 3, 2, draws)[0] for t in range(0, 12, 2)] == [(0,), (1,), (2,), (3,), (4,), (0,)]
    assert reference_frames("sparse_causal", 0, 2, 2, 4, draws) == [(0, 1), (0, 2)]
    assert reference_frames("random", 1, 0, 4, 4, draws) == [(3,)] * 4


@pytest.mark.parametrize("mode", VALUE_MAPPING_MODES)
@pytest.mark.parametrize("anchors, sizes, tau", [(8, {8}, 4), (4, {4, 3}, 1), (3, {1}, 2)])
def test_cache_plan_keeps_exactly_the_anchors_chunks_read(mode, anchors, sizes, tau):
    steps = 12
    ctl = ValueMappingController(mode=mode, rvm_period=tau, random_draws=random_draws(7, steps))
    plan = cache_plan(ctl, anchors, sizes, steps)
    for t in range(steps):
        read = set()
        for size in sizes:
            ctl.step, ctl.num_anchors = t, anchors
            read |= {k for refs in ctl.references(size) for k in refs if k < anchors}
        assert plan.get(t, set()) == read
    if mode == "none":
        assert plan == {}
