"""The value-mapping processor against a plain re-statement of Eq. 4-6 (per-frame copies of the
reference keys/values, a Python loop for sparse-causal, the materialised dual softmax and a
torch.quantile mask, own-frame attention for every query): the processor's one-gather,
shared-reference and select-attend-scatter paths must compute the same thing."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from direct2v.render.attention import (
    ValueMappingController,
    ValueMappingProcessor,
    installed_value_mapping,
)
from direct2v.render.dsf import dsf_confidence_reference

HEADS, DIM_HEAD, TOKENS = 2, 8, 64


def reference_attention(attn, x, refs, halves, p):
    """Eq. 4-6 written out: x (batch, tokens, channels), refs[i] = reference frames of frame i."""
    batch, tokens, inner = x.shape[0], x.shape[1], HEADS * DIM_HEAD
    frames = batch // halves
    q, k, v = attn.to_q(x), attn.to_k(x), attn.to_v(x)

    def heads(t):
        return t.reshape(t.shape[0], -1, HEADS, DIM_HEAD).transpose(1, 2)

    k5, v5 = k.view(halves, frames, tokens, inner), v.view(halves, frames, tokens, inner)
    rk = torch.stack([torch.cat([k5[:, j] for j in refs[i]], 1) for i in range(frames)], 1).reshape(batch, -1, inner)
    rv = torch.stack([torch.cat([v5[:, j] for j in refs[i]], 1) for i in range(frames)], 1).reshape(batch, -1, inner)
    qh, rkh, rvh = heads(q), heads(rk), heads(rv)
    mapped = F.scaled_dot_product_attention(qh, rkh, rvh)
    if p > 0:
        own = F.scaled_dot_product_attention(qh, heads(k), heads(v))
        conf = dsf_confidence_reference(qh, rkh, DIM_HEAD**-0.5)
        keep = conf > torch.quantile(conf, p, dim=-1, keepdim=True)
        mapped = torch.where(keep[..., None], mapped, own)
    out = mapped.transpose(1, 2).reshape(batch, tokens, inner)
    return attn.to_out[0](out)


@pytest.fixture(scope="module")
def attn():
    torch.manual_seed(0)
    return Attention(query_dim=16, heads=HEADS, dim_head=DIM_HEAD).eval()


def run_processor(attn, x, ctl, frames, step):
    attn.set_processor(ValueMappingProcessor(ctl, "layer"))
    ctl.begin_step(step, frames, x.device)
    try:
        return attn(x)
    finally:
        ctl.finish()
        attn.set_processor(AttnProcessor2_0())


@pytest.mark.parametrize("mode", ["rotational", "first", "random", "sparse_causal"])
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5])
@pytest.mark.parametrize("halves", [1, 2])
def test_processor_equals_the_written_out_method(attn, mode, p, halves):
    frames, step = 4, 5
    x = torch.randn(halves * frames, TOKENS, 16, generator=torch.Generator().manual_seed(1))
    ctl = ValueMappingController(mode=mode, rvm_period=2, dsf_quantile=p, num_halves=halves, random_draws=[0.6] * 8)
    ctl.step = step
    refs = ctl.references(frames)
    with torch.no_grad():
        expected = reference_attention(attn, x, refs, halves, p)
        got = run_processor(attn, x, ctl, frames, step)
    assert refs[1] != (1,)  # the frame really attends elsewhere
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_sparse_causal_gathers_first_and_previous_frame(attn):
    frames = 3
    x = torch.randn(2 * frames, TOKENS, 16, generator=torch.Generator().manual_seed(2))
    ctl = ValueMappingController(mode="sparse_causal", num_halves=2)
    ctl.begin_step(0, frames, "cpu")
    assert ctl.ref_index.tolist() == [0, 0, 0, 0, 0, 1]
    with torch.no_grad():
        got = run_processor(attn, x, ctl, frames, 0)
        expected = reference_attention(attn, x, [(0, 0), (0, 0), (0, 1)], 2, 0.0)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_reference_index_is_one_tensor_updated_in_place():
    ctl = ValueMappingController(mode="rotational", rvm_period=2)
    ctl.begin_step(0, 4, "cpu")
    tensor = ctl.ref_index
    seen = []
    for step in range(8):
        ctl.begin_step(step, 4, "cpu")
        assert ctl.ref_index is tensor and ctl.active
        seen.append(tensor.item())
    assert seen == [0, 0, 1, 1, 2, 2, 3, 3]
    ctl.begin_step(None, 4, "cpu")
    assert not ctl.active


def test_p_one_never_computes_the_mapped_attention(attn, monkeypatch):
    calls = []

    class Counting(AttnProcessor2_0):
        def __call__(self, *a, **kw):
            calls.append(1)
            return super().__call__(*a, **kw)

    def fail(*a, **kw):
        raise AssertionError("mapped attention computed with p = 1")

    monkeypatch.setattr(ValueMappingProcessor, "_attend", fail)
    x = torch.randn(8, TOKENS, 16, generator=torch.Generator().manual_seed(3))
    ctl = ValueMappingController(mode="rotational", dsf_quantile=1.0)
    attn.set_processor(ValueMappingProcessor(ctl, "layer", Counting()))
    try:
        ctl.begin_step(3, 4, "cpu")
        with torch.no_grad():
            got = attn(x)
    finally:
        attn.set_processor(AttnProcessor2_0())
    with torch.no_grad():
        plain = attn(x)
    assert calls == [1]
    assert torch.equal(got, plain)


def test_value_mapping_is_installed_for_a_render_and_reused_by_the_next():
    from direct2v.render.loading import tiny_components

    unet = tiny_components()["unet"].eval()
    x = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(4))
    ctx = torch.randn(2, 77, 32, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        before = unet(x, 10, encoder_hidden_states=ctx).sample
    own = dict(unet.attn_processors)
    ctl, bound = ValueMappingController(), {}
    with installed_value_mapping(unet, ctl, ("up_blocks.3",), bound):
        procs = dict(unet.attn_processors)
        with torch.no_grad():
            idle = unet(x, 10, encoder_hidden_states=ctx).sample
    mapped = {n for n, p in procs.items() if isinstance(p, ValueMappingProcessor)}
    assert mapped and all(n.startswith("up_blocks.3.") and n.endswith("attn1.processor") for n in mapped)
    assert all(procs[n].original is own[n] for n in mapped)
    assert torch.equal(idle, before)
    assert all(unet.attn_processors[n] is p for n, p in own.items())  # the layers' own, the same objects
    with installed_value_mapping(unet, ctl, ("up_blocks.3",), bound):  # the next render: the same processor objects
        assert all(unet.attn_processors[n] is procs[n] for n in procs)
    with installed_value_mapping(unet, ctl, ("up_blocks.2",), bound):  # other blocks: up_blocks.3 keeps its own
        assert not any(isinstance(unet.attn_processors[n], ValueMappingProcessor) for n in mapped)
    with pytest.raises(RuntimeError, match="stop"), installed_value_mapping(unet, ctl, "all", bound):
        raise RuntimeError("stop")
    assert all(unet.attn_processors[n] is p for n, p in own.items())
