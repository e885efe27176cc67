"""Dual-softmax filtering: the memory-lean confidence against the definition."""

from __future__ import annotations

import pytest
import torch

from direct2v.render.dsf import dsf_confidence, dsf_confidence_reference, dsf_mask


@pytest.mark.parametrize(
    "shape_q, shape_k, slab",
    [
        ((2, 3, 64, 16), (2, 3, 64, 16), 64 * 1024 * 1024),  # whole groups per slab
        ((2, 3, 64, 16), (2, 3, 64, 16), 64 * 64),  # one group per slab
        ((2, 3, 100, 8), (2, 3, 80, 8), 80 * 7),  # query chunks of 7 rows, ragged
        ((4, 1, 33, 4), (4, 1, 50, 4), 50),  # one query row per slab
    ],
)
def test_lean_confidence_equals_reference(shape_q, shape_k, slab):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(shape_q, generator=g) * 2
    k = torch.randn(shape_k, generator=g) * 2
    ref = dsf_confidence_reference(q, k)
    lean = dsf_confidence(q, k, slab_elements=slab)
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
    lean, ref = dsf_confidence(q, k, slab_elements=128 * 16), dsf_confidence_reference(q, k)
    # fp16 scores cost about 3 significant digits, which leaves the masks unchanged.
    torch.testing.assert_close(lean, ref, rtol=1e-2, atol=1e-8)
    for p in (0.2, 0.5):
        assert (dsf_mask(lean, p) != dsf_mask(ref, p)).float().mean() < 0.01


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
