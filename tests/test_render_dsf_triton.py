"""The Triton route of DSF (render/dsf_triton.py) held to the reference forms of dsf.py.

Triton runs its kernels on a CPU only in its interpreter, which it chooses when first imported
(TRITON_INTERPRET=1); so the comparison runs in a fresh process with that set, on tiny shapes,
unless this process already interprets (or has a GPU, where the kernels run compiled)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("triton")

ROOT = Path(__file__).resolve().parents[1]
# (images, heads, queries, keys, head size, dtype, reference shared by every image)
CASES = [
    (2, 2, 40, 40, 8, "float32", False),  # ragged against the blocks of 32
    (3, 1, 33, 17, 20, "float32", True),  # fewer keys than queries, head size 20 padded to 32, one shared reference
    (1, 2, 48, 64, 16, "float16", False),  # half precision: scores in float32 from half inputs
]


def compare(case) -> dict:
    """Largest differences of the kernels' output, row log-sum-exp and confidence from the
    reference, and whether DSF's masks agree, for one case."""
    from direct2v.render.dsf import dsf_confidence_reference, dsf_mask
    from direct2v.render.dsf_triton import mapped_attention_confidence
    from direct2v.render.flash import _math

    images, heads, lq, lk, d, dtype, shared = case
    g = torch.Generator().manual_seed(lq)
    q = (torch.randn(images, heads, lq, d, generator=g) * 2).to(getattr(torch, dtype))
    k, v = ((torch.randn(1 if shared else images, heads, lk, d, generator=g) * 2).to(q.dtype) for _ in range(2))
    if shared:  # a view with stride 0 over the images, as value mapping passes a shared reference
        k, v = k.expand(images, -1, -1, -1), v.expand(images, -1, -1, -1)
    scale = d**-0.5
    out, row, conf = mapped_attention_confidence(q, k, v, scale)
    ref_out, ref_row = _math(q, k, v, scale)
    ref_conf = dsf_confidence_reference(q, k, scale)
    return dict(
        out=(out.float() - ref_out.float()).abs().max().item(),
        row=(row - ref_row).abs().max().item(),
        conf=((conf - ref_conf).abs() / ref_conf).max().item(),
        masks=all(torch.equal(dsf_mask(conf, p), dsf_mask(ref_conf, p)) for p in (0.1, 0.2, 0.5, 0.9)),
        dtypes=[str(out.dtype), str(row.dtype), str(conf.dtype)],
        token_major=out.transpose(1, 2).is_contiguous(),  # as value mapping hands it on
    )


def processor_differences() -> dict:
    """The value-mapping processor on the fused route (forced, on CPU tensors) against Eq. 4-6
    written out (test_render_attention.py): largest difference per mode, 3 frames x 2 CFG halves, p = 0.2."""
    from diffusers.models.attention_processor import Attention
    from test_render_attention import DIM_HEAD, HEADS, TOKENS, reference_attention, run_processor

    import direct2v.render.attention as attention
    from direct2v.render import dsf_triton

    attention.fused_dsf_route = lambda *a: dsf_triton
    torch.manual_seed(0)
    attn = Attention(query_dim=16, heads=HEADS, dim_head=DIM_HEAD).eval()
    x = torch.randn(6, TOKENS, 16, generator=torch.Generator().manual_seed(1))  # 3 frames x CFG
    found = {}
    for mode in ("rotational", "sparse_causal"):  # one shared reference; per-frame keys of twice the length
        ctl = attention.ValueMappingController(mode=mode, rvm_period=2, dsf_quantile=0.2, num_halves=2)
        ctl.step = 5
        with torch.no_grad():
            expected = reference_attention(attn, x, ctl.references(3), 2, 0.2)
            found[mode] = (run_processor(attn, x, ctl, 3, 5) - expected).abs().max().item()
    return found


def run_all() -> dict:
    return dict(kernels=[compare(c) for c in CASES], processor=processor_differences())


def interpreted_results() -> dict:
    import triton

    if triton.knobs.runtime.interpret or torch.cuda.is_available():
        return run_all()
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
           "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, __file__], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def results():
    return interpreted_results()


def test_fused_kernels_equal_the_reference_with_identical_masks(results):
    for case, got in zip(CASES, results["kernels"], strict=True):
        half = case[5] == "float16"
        assert got["masks"], case
        assert got["out"] < (1e-2 if half else 1e-5) and got["row"] < (1e-3 if half else 1e-5), (case, got)
        assert got["conf"] < (1e-3 if half else 2e-5), (case, got)
        assert got["dtypes"] == [f"torch.{case[5]}", "torch.float32", "torch.float32"] and got["token_major"]


def test_value_mapping_on_the_fused_route_is_the_method(results):
    assert set(results["processor"]) == {"rotational", "sparse_causal"}
    assert max(results["processor"].values()) < 1e-5, results["processor"]


def test_the_route_is_taken_only_where_it_fits():
    from direct2v.render import dsf_triton

    q = torch.zeros(2, 2, 16, 8)
    assert not dsf_triton.fits(q, q, q)  # CPU tensors: the PyTorch route
    cuda = torch.device("cuda")

    class Meta:  # stands in for a CUDA tensor where there is none; fits reads only these
        def __init__(self, shape, dtype=torch.float16):
            self.shape, self.dtype, self.device = torch.Size(shape), dtype, cuda

    assert dsf_triton.fits(*(Meta((2, 2, 16, 64)),) * 3)
    assert not dsf_triton.fits(*(Meta((2, 2, 16, 64)),) * 3, mask=torch.zeros(1))
    assert not dsf_triton.fits(*(Meta((2, 2, 16, 160)),) * 3)  # head size over MAX_HEAD_DIM
    assert not dsf_triton.fits(Meta((2, 2, 16, 64)), Meta((2, 2, 16, 64), torch.float32), Meta((2, 2, 16, 64)))


if __name__ == "__main__":  # the fresh interpreting process of interpreted_results
    print(json.dumps(run_all()))
