"""One mapped self-attention layer, side by side in one process: plain attention (the peer's
cost per layer), value mapping and value mapping + DSF, each in the previous implementation
(reference keys/values copied per frame, slab-swept dual softmax, own-frame attention for
every query) and the current one (one reference for all frames, log-sum-exps from fused
kernels, own-frame attention only for the queries that fall back).

    python bench/bench_dsf.py                                  # CPU: 32x32 layer, 4 frames, CFG
    python bench/bench_dsf.py --tokens 4096 --frames 8 --dtype float16   # on a GPU: a 64x64 layer

Variants run in rotation (round r runs every variant once) so load changes hit all alike;
the table gives the median and the ratio to plain attention. Outputs are checked against the
previous implementation before timing.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from common import ROOT, device_name, sync  # noqa: F401  (ROOT puts the project on sys.path)

from direct2v.render.attention import ValueMappingController, ValueMappingProcessor  # noqa: E402
from direct2v.render.dsf import dsf_confidence_slab  # noqa: E402


def previous_attention(q, k, v, ref: int, halves: int, p: float, heads: int):
    """The implementation before the fused-kernel DSF: per-frame copies and the slab form."""
    batch, tokens, inner = q.shape
    frames = batch // halves
    d = inner // heads

    def split(x):
        return x.view(x.shape[0], -1, heads, d).transpose(1, 2)

    rk = k.view(halves, frames, tokens, inner)[:, ref][:, None].expand(halves, frames, tokens, inner).reshape(batch, tokens, inner)
    rv = v.view(halves, frames, tokens, inner)[:, ref][:, None].expand(halves, frames, tokens, inner).reshape(batch, tokens, inner)
    qh, rkh = split(q), split(rk)
    mapped = F.scaled_dot_product_attention(qh, rkh, split(rv))
    if p > 0:
        own = F.scaled_dot_product_attention(qh, split(k), split(v))
        conf = dsf_confidence_slab(qh, rkh, d**-0.5)
        keep = conf > torch.quantile(conf, p, dim=-1, keepdim=True)
        mapped = torch.where(keep[..., None], mapped, own)
    return mapped.transpose(1, 2).reshape(batch, tokens, inner)


class _Attn:
    """The attributes of a diffusers Attention layer that `_attend` reads."""

    norm_q = norm_k = None

    def __init__(self, heads):
        self.heads = heads


def current_attention(q, k, v, ref: int, halves: int, p: float, heads: int):
    frames = q.shape[0] // halves
    ctl = ValueMappingController(mode="first" if ref == 0 else "rotational", rvm_period=1, dsf_quantile=p, num_halves=halves)
    ctl.begin_step(ref, frames, q.device)
    return ValueMappingProcessor(ctl, "bench")._attend(_Attn(heads), q, k, v, None)


def plain_attention(q, k, v, ref, halves, p, heads):
    d = q.shape[-1] // heads

    def split(x):
        return x.view(x.shape[0], -1, heads, d).transpose(1, 2)

    return F.scaled_dot_product_attention(split(q), split(k), split(v)).transpose(1, 2).reshape(q.shape)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=1024, help="tokens per frame (4096 = the 64x64 layers at 512x512)")
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--dim", type=int, default=40, help="head size (SD 1.5: 40 at the 64x64 layers)")
    ap.add_argument("--p", type=float, default=0.2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    args = ap.parse_args(argv)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = getattr(torch, args.dtype)
    halves = 2
    batch, inner = halves * args.frames, args.heads * args.dim
    g = torch.Generator("cpu").manual_seed(0)
    q, k, v = ((torch.randn(batch, args.tokens, inner, generator=g) * 1.5).to(device, dtype) for _ in range(3))
    ref = 1  # frame 1 is the reference; frame 1 itself attends to its own frame
    variants = [
        ("plain attention (peer)", plain_attention, 0.0),
        ("value mapping, previous", previous_attention, 0.0),
        ("value mapping, current", current_attention, 0.0),
        (f"VM + DSF p={args.p}, previous", previous_attention, args.p),
        (f"VM + DSF p={args.p}, current", current_attention, args.p),
    ]
    with torch.no_grad():
        for p in (0.0, args.p):
            a = previous_attention(q, k, v, ref, halves, p, args.heads).float()
            b = current_attention(q, k, v, ref, halves, p, args.heads).float()
            print(f"check p={p}: max |current - previous| = {(a - b).abs().max().item():.2e}", flush=True)
        times = {label: [] for label, _, _ in variants}
        for _ in range(args.rounds + 1):  # the first round warms up and is dropped
            for label, fn, p in variants:
                sync(device)
                t = time.perf_counter()
                fn(q, k, v, ref, halves, p, args.heads)
                sync(device)
                times[label].append(time.perf_counter() - t)
    peer = statistics.median(times[variants[0][0]][1:])
    print()
    print(f"| {device_name(device)}, {args.dtype}, {args.frames} frames x CFG, {args.tokens} tokens, "
          f"{args.heads}x{args.dim} heads, torch {torch.__version__} | median ms | / plain |")
    print("|---|---|---|")
    for label, _, _ in variants:
        m = statistics.median(times[label][1:])
        print(f"| {label} | {m * 1e3:.1f} | {m / peer:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
