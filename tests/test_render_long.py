"""Long videos (method.md section 5): passes, the anchor cache, and the T2V-Z chunking baseline."""

from __future__ import annotations

import numpy as np
import torch

from direct2v.render.attention import ValueMappingController, random_draws
from direct2v.render.long import cache_plan, plan_passes
from conftest import gen

FAST = dict(num_inference_steps=6, t0=2, t1=4, guidance_scale=7.5)
PROMPTS = [f"frame {i} of a {c} balloon" for i, c in enumerate("red blue green pink gray gold teal plum".split() * 3)]


def test_plan_passes():
    assert [p.frames for p in plan_passes(5, 8)] == [[0, 1, 2, 3, 4]]
    cache = plan_passes(10, 4)
    assert [p.frames for p in cache] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert [p.frames for p in plan_passes(7, 5)] == [[0, 1], [2, 3], [4, 5], [6]]
    t2vz = plan_passes(10, 4, "t2vz")
    assert [p.frames for p in t2vz] == [[0, 1, 2, 3], [0, 4, 5, 6], [0, 7, 8, 9]]
    assert [p.keep_from for p in t2vz] == [0, 1, 1]


def test_few_frames_render_exactly_as_before(pipe):
    plain = pipe(PROMPTS[:6], generator=gen(), **FAST).frames
    with_b = pipe(PROMPTS[:6], generator=gen(), frames_per_pass=6, **FAST).frames
    with_big_b = pipe(PROMPTS[:6], generator=gen(), frames_per_pass=16, chunking="t2vz", **FAST).frames
    assert np.abs(plain - with_b).max() == 0.0 and np.abs(plain - with_big_b).max() == 0.0


def test_anchor_frames_equal_a_plain_run_of_those_frames(pipe):
    long = pipe(PROMPTS[:10], generator=gen(), frames_per_pass=8, **FAST).frames
    anchors = pipe(PROMPTS[:4], generator=gen(), **FAST).frames
    assert long.shape[0] == 10
    assert np.abs(long[:4] - anchors).max() < 1e-6


def test_cache_holds_what_the_anchor_pass_computed(pipe):
    """Record every mapped layer's keys/values in the anchor pass and compare with the cache."""
    recorded = {}

    def capture(name):
        def hook(module, args, output):
            recorded.setdefault(name, []).append(output.detach().clone())
        return hook

    blocks = [m for n, m in pipe.unet.named_modules() if n.startswith(("up_blocks.2.", "up_blocks.3.")) and n.endswith("attn1")]
    names = [n for n, m in pipe.unet.named_modules() if n.startswith(("up_blocks.2.", "up_blocks.3.")) and n.endswith("attn1")]
    handles = []
    for n, m in zip(names, blocks):
        handles.append(m.to_k.register_forward_hook(capture(n + ".k")))
        handles.append(m.to_v.register_forward_hook(capture(n + ".v")))
    ctl = ValueMappingController(mode="rotational", rvm_period=1)
    captured_cache = {}
    import direct2v.render.long as long_mod

    original = long_mod.AnchorCache

    class Spy(original):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            captured_cache["cache"] = self

    long_mod.AnchorCache = Spy
    try:
        result = pipe(PROMPTS[:8], generator=gen(), frames_per_pass=6, controller=ctl, **FAST)
    finally:
        long_mod.AnchorCache = original
        for h in handles:
            h.remove()
    cache = captured_cache["cache"]
    assert cache.entries and result.anchor_cache_bytes == cache.nbytes > 0
    single = len(pipe.scheduler.timesteps) - FAST["t1"] - 1 + FAST["t1"] - FAST["t0"]
    anchors = 3
    for (layer, step, anchor), (k, v) in cache.entries.items():
        # Calls: `single` single-frame steps, then the anchor pass's joint steps (batch 2 * anchors).
        full_k = recorded[layer + ".k"][single + step]
        full_v = recorded[layer + ".v"][single + step]
        assert full_k.shape[0] == 2 * anchors
        torch.testing.assert_close(k, full_k.view(2, anchors, *full_k.shape[1:])[:, anchor])
        torch.testing.assert_close(v, full_v.view(2, anchors, *full_v.shape[1:])[:, anchor])


def test_cache_keeps_only_what_later_passes_read():
    ctl = ValueMappingController(mode="rotational", rvm_period=2)
    plan = cache_plan(ctl, num_anchors=4, chunk_sizes={4}, num_steps=20)
    # Pool of 8: reference (t // 2) % 8; anchors are 0..3.
    assert plan == {t: {(t // 2) % 8} for t in range(20) if (t // 2) % 8 < 4}
    assert all(len(v) == 1 for v in plan.values())
    first = cache_plan(ValueMappingController(mode="first"), 4, {4, 2}, 5)
    assert first == {t: {0} for t in range(5)}
    assert cache_plan(ValueMappingController(mode="none"), 4, {4}, 5) == {}
    rnd = ValueMappingController(mode="random", random_draws=random_draws(3, 10))
    assert all(v <= set(range(4)) for v in cache_plan(rnd, 4, {4}, 10).values())


def test_24_frames_with_8_per_pass_are_distinct_and_in_order(pipe):
    frames_seen, phases = [], []

    def cb(p, i, t, kw):
        if not phases or phases[-1] != p.phase:
            phases.append(p.phase)
        if p.phase != "first frame" and (not frames_seen or frames_seen[-1] != p.frame_ids):
            frames_seen.append(list(p.frame_ids))
        assert kw["latents"].shape[0] == len(p.frame_ids)
        return {}

    result = pipe(PROMPTS[:24], generator=gen(), frames_per_pass=8, value_mapping="rotational", rvm_period=1,
                  callback_on_step_end=cb, **FAST)
    out = result.frames
    assert out.shape == (24, 64, 64, 3)
    assert frames_seen == [list(range(0, 4))] + [list(range(s, s + 4)) for s in range(4, 24, 4)]
    assert phases == ["first frame", "frames 1-4 of 24"] + [f"frames {s + 1}-{s + 4} of 24" for s in range(4, 24, 4)]
    flat = out.reshape(24, -1)
    gaps = np.abs(flat[:, None] - flat[None]).max(-1)
    assert (gaps + np.eye(24) > 1e-4).all()
    # Cache size is bounded by one anchor entry per joint step and mapped layer.
    layers = 6  # attn1 layers in up_blocks.2 and up_blocks.3 of the tiny UNet
    assert 0 < result.anchor_cache_bytes
    steps = FAST["t1"] + 1
    biggest = max(m.to_k.out_features for n, m in pipe.unet.named_modules() if n.endswith("attn1"))
    assert result.anchor_cache_bytes <= steps * layers * 2 * (2 * 8 * 8 * biggest * 4)


def test_t2vz_chunking_shares_frame_zero_and_differs_from_cache(pipe):
    kw = dict(FAST, rvm_period=1)
    a = pipe(PROMPTS[:10], generator=gen(), frames_per_pass=4, chunking="t2vz", **kw).frames
    b = pipe(PROMPTS[:10], generator=gen(), frames_per_pass=4, chunking="cache", **kw).frames
    first4 = pipe(PROMPTS[:4], generator=gen(), **kw).frames
    assert a.shape == b.shape == (10, 64, 64, 3)
    assert np.abs(a[:4] - first4).max() < 1e-6  # first chunk is a plain run
    assert np.abs(a[4:] - b[4:]).max() > 1e-4
