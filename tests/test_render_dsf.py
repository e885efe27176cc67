"""Dual-softmax filtering: the fused-kernel and slab confidences against the definition, and the mask."""

from __future__ import annotations

import pytest
import torch

from direct2v.render.dsf import (
    dsf_confidence,
    dsf_confidence_reference,
    dsf_confidence_slab,
    dsf_mask,
    fallback_count,
    fallback_queries,
)
from direct2v.render.flash import attention_lse


@pytest.mark.parametrize(
    "shape_q, shape_k, slab",
    [
        ((2, 3, 64, 16), (2, 3, 64, 16), 64 * 1024 * 1024),  # whole groups per slab
        ((2, 3, 64, 16), (2, 3, 64, 16), 64 * 64),  # one group per slab
        ((2, 3, 100, 8), (2, 3, 80, 8), 80 * 7),  # query chunks of 7 rows, ragged
        ((4, 1, 33, 4), (4, 1, 50, 4), 50),  # one query row per slab
    ],
)
def test_slab_confidence_equals_reference(shape_q, shape_k, slab):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(shape_q, generator=g) * 2
    k = torch.randn(shape_k, generator=g) * 2
    ref = dsf_confidence_reference(q, k)
    lean = dsf_confidence_slab(q, k, slab_elements=slab)
    assert lean.shape == ref.shape == shape_q[:-1]
    torch.testing.assert_close(lean, ref, rtol=1e-4, atol=1e-9)


def test_reference_is_the_mean_of_the_dual_softmax_product():
    q = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    k = torch.tensor([[[2.0, 0.0], [0.0, 2.0]]])
    s = q @ k.transpose(-1, -2) / 2**0.5
    p = torch.softmax(s, -1) * torch.softmax(s, -2)
    torch.testing.assert_close(dsf_confidence_reference(q, k), p.mean(-1))


def test_half_precision_inputs_agree():
    g = torch.Generator().manual_seed(1)
    q = torch.randn(2, 2, 128, 8, generator=g).half()
    k = torch.randn(2, 2, 128, 8, generator=g).half()
    lean, ref = dsf_confidence_slab(q, k, slab_elements=128 * 16), dsf_confidence_reference(q, k)
    # fp16 scores cost about 3 significant digits, which leaves the masks unchanged.
    torch.testing.assert_close(lean, ref, rtol=1e-2, atol=1e-8)
    for p in (0.2, 0.5):
        assert (dsf_mask(lean, p) != dsf_mask(ref, p)).float().mean() < 0.01


@pytest.mark.parametrize(
    "shape_q, shape_k",
    [
        ((2, 3, 64, 16), (2, 3, 64, 16)),
        ((2, 3, 100, 8), (2, 3, 80, 8)),  # ragged: more queries than keys
        ((4, 1, 33, 4), (4, 1, 50, 4)),  # fewer queries than keys, tiny heads
        ((1, 2, 50, 9), (1, 2, 70, 9)),  # head size 9: padded to 16 inside
        ((3, 40, 8), (3, 56, 8)),  # three-dimensional inputs
    ],
)
def test_fused_confidence_equals_reference_with_identical_masks(shape_q, shape_k):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(shape_q, generator=g) * 2
    k = torch.randn(shape_k, generator=g) * 2
    ref = dsf_confidence_reference(q, k)
    fused = dsf_confidence(q, k)
    assert fused.shape == ref.shape == shape_q[:-1] and fused.dtype == torch.float32
    torch.testing.assert_close(fused, ref, rtol=2e-5, atol=1e-12)
    torch.testing.assert_close(fused, dsf_confidence_slab(q, k, slab_elements=shape_k[-2] * 5), rtol=2e-5, atol=1e-12)
    for p in (0.1, 0.2, 0.5, 0.9):
        assert torch.equal(dsf_mask(fused, p), dsf_mask(ref, p))


def test_fused_confidence_reuses_the_mapped_calls_log_sum_exp():
    g = torch.Generator().manual_seed(2)
    q, k, v = (torch.randn(2, 2, 48, 8, generator=g) for _ in range(3))
    out, lse = attention_lse(q, k, v, 0.4)
    torch.testing.assert_close(lse, torch.logsumexp(q @ k.transpose(-1, -2) * 0.4, -1))
    torch.testing.assert_close(out, torch.softmax(q @ k.transpose(-1, -2) * 0.4, -1) @ v)
    torch.testing.assert_close(dsf_confidence(q, k, 0.4, row_lse=lse), dsf_confidence_reference(q, k, 0.4), rtol=2e-5, atol=0)
    # A wrong row log-sum-exp must show: conf scales by exp(-offset).
    shifted = dsf_confidence(q, k, 0.4, row_lse=lse + 1.0)
    torch.testing.assert_close(shifted, dsf_confidence_reference(q, k, 0.4) * torch.exp(torch.tensor(-1.0)), rtol=2e-5, atol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_fused_confidence_in_half_precision_keeps_the_masks(dtype):
    g = torch.Generator().manual_seed(3)
    q = (torch.randn(2, 4, 256, 40, generator=g) * 2).to(dtype)
    k = (torch.randn(2, 4, 256, 40, generator=g) * 2).to(dtype)
    ref = dsf_confidence_reference(q, k)  # the definition on the same rounded inputs, in float32
    fused = dsf_confidence(q, k)
    # c travels as two half-precision channels (hi + lo): the error stays near float32's.
    torch.testing.assert_close(fused, ref, rtol=5e-4, atol=0)
    for p in (0.2, 0.5):
        assert torch.equal(dsf_mask(fused, p), dsf_mask(ref, p))


def test_mutual_matches_score_higher_than_one_sided_ones():
    # Query 0 and key 0 match each other; queries 1, 2 both point at key 1 (not mutual for both).
    k = torch.tensor([[[8.0, 0.0, 0.0], [0.0, 8.0, 0.0]]])
    q = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.05]]])
    conf = dsf_confidence_reference(q, k)[0]
    assert conf[0] > conf[1] and conf[0] > conf[2]


def test_mask_keeps_the_top_fraction_per_image_and_head():
    conf = torch.rand(3, 4, 1000, generator=torch.Generator().manual_seed(0))
    for p in (0.1, 0.5, 0.9):
        kept = dsf_mask(conf, p).float().mean(-1)
        assert torch.all((kept - (1 - p)).abs() < 0.01)
    assert not dsf_mask(conf, 1.0).any()
    # Rows are thresholded independently: scaling one image leaves the others' masks unchanged.
    scaled = conf.clone()
    scaled[0] *= 100
    assert torch.equal(dsf_mask(scaled, 0.3)[1:], dsf_mask(conf, 0.3)[1:])


@pytest.mark.parametrize("p", [0.05, 0.1, 0.2, 0.5, 0.75, 0.9])
def test_mask_is_the_lower_quantile_threshold(p):
    conf = torch.rand(5, 3, 333, generator=torch.Generator().manual_seed(4))
    expected = conf > torch.quantile(conf, p, dim=-1, keepdim=True, interpolation="lower")
    assert torch.equal(dsf_mask(conf, p), expected)
    assert (~dsf_mask(conf, p)).sum(-1).unique().tolist() == [fallback_count(p, 333)]


def test_fallback_queries_are_the_least_confident():
    conf = torch.tensor([[0.5, 0.1, 0.9, 0.3, 0.7]])
    assert fallback_count(0.5, 5) == 3 and fallback_count(1.0, 5) == 5 and fallback_count(0.0, 5) == 1
    assert sorted(fallback_queries(conf, 0.5)[0].tolist()) == [0, 1, 3]
    assert dsf_mask(conf, 0.5).tolist() == [[False, False, True, False, True]]
