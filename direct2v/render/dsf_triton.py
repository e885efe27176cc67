"""DSF's score passes fused in Triton: value mapping's output and the DSF confidence in two passes.

The PyTorch route (dsf.py `dsf_confidence`) reads the scores S = scale * Q K^T three times
through fused attention kernels: the mapped attention itself (output and row log-sum-exp r),
a call with queries and keys swapped (column log-sum-exp c) and one more for LSE_k(2 S - c).
Here two kernels read them twice, per (image, head), never holding S:

1. `column_lse`: c[k] = LSE_q S[q, k], one program per block of keys sweeping the queries;
2. `mapped_rows`: one program per block of queries sweeping the keys, with two online
   log-sum-exps side by side: softmax(S) V and r (flash attention's), and LSE_k(2 S - c),
   whence conf[q] = exp(LSE_k(2 S[q, k] - c[k]) - r[q]) / N_k (method.md section 4).

`mapped_attention_confidence` is used on CUDA when Triton is importable and the shapes fit
(`fits`), outside torch.compile; dsf.py's forms stay the reference that
tests/test_render_dsf_triton.py holds it to, running the same kernels on the CPU under Triton's
interpreter (TRITON_INTERPRET=1).
"""

from __future__ import annotations

import torch

try:  # Triton ships with CUDA builds of torch on Linux; without it the PyTorch route serves
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - depends on the platform
    triton = tl = None

# Kernels compile for the GPU; with TRITON_INTERPRET=1 set before Triton's first import they
# run in its interpreter instead, on CPU tensors too (how CI holds them to the reference).
jit = triton.jit if triton is not None else (lambda fn: fn)

ENABLED = True  # bench/bench_speed.py switches it off for the PyTorch route's row
MAX_HEAD_DIM = 128  # registers: one block of queries holds its output row of this width


@jit
def column_lse_kernel(Q, K, C, sqb, sqh, sqn, sqd, skb, skh, skn, skd, heads, lq, lk, scale,
                      BLOCK_K: tl.constexpr, BLOCK_Q: tl.constexpr, BLOCK_D: tl.constexpr, D: tl.constexpr,
                      PRECISION: tl.constexpr):
    """c[b, h, k] = LSE over the queries q of scale * Q[b, h, q] . K[b, h, k]."""
    bh = tl.program_id(1)
    b, h = bh // heads, bh % heads
    keys = tl.program_id(0) * BLOCK_K + tl.arange(0, BLOCK_K)
    dims = tl.arange(0, BLOCK_D)
    k = tl.load(K + b * skb + h * skh + keys[:, None] * skn + dims[None, :] * skd,
                mask=(keys[:, None] < lk) & (dims[None, :] < D), other=0.0)
    m = tl.full([BLOCK_K], float("-inf"), tl.float32)
    total = tl.zeros([BLOCK_K], tl.float32)
    for start in range(0, lq, BLOCK_Q):
        queries = start + tl.arange(0, BLOCK_Q)
        q = tl.load(Q + b * sqb + h * sqh + queries[:, None] * sqn + dims[None, :] * sqd,
                    mask=(queries[:, None] < lq) & (dims[None, :] < D), other=0.0)
        s = tl.dot(k, tl.trans(q), input_precision=PRECISION) * scale  # (keys, queries)
        s = tl.where(queries[None, :] < lq, s, float("-inf"))
        m_new = tl.maximum(m, tl.max(s, 1))
        total = total * tl.exp(m - m_new) + tl.sum(tl.exp(s - m_new[:, None]), 1)
        m = m_new
    tl.store(C + bh * lk + keys, m + tl.log(total), mask=keys < lk)


@jit
def mapped_rows_kernel(Q, K, V, C, O, R, F, sqb, sqh, sqn, sqd, skb, skh, skn, skd, svb, svh, svn, svd,
                       sob, soh, son, sod, heads, lq, lk, scale,
                       BLOCK_Q: tl.constexpr, BLOCK_K: tl.constexpr, BLOCK_D: tl.constexpr, D: tl.constexpr,
                       PRECISION: tl.constexpr):
    """O = softmax(S) V, R = LSE_k S and F = exp(LSE_k(2 S - c) - R) / lk for a block of queries."""
    bh = tl.program_id(1)
    b, h = bh // heads, bh % heads
    queries = tl.program_id(0) * BLOCK_Q + tl.arange(0, BLOCK_Q)
    dims = tl.arange(0, BLOCK_D)
    q = tl.load(Q + b * sqb + h * sqh + queries[:, None] * sqn + dims[None, :] * sqd,
                mask=(queries[:, None] < lq) & (dims[None, :] < D), other=0.0)
    m = tl.full([BLOCK_Q], float("-inf"), tl.float32)  # flash attention's running max and sum
    total = tl.zeros([BLOCK_Q], tl.float32)
    acc = tl.zeros([BLOCK_Q, BLOCK_D], tl.float32)
    m2 = tl.full([BLOCK_Q], float("-inf"), tl.float32)  # the same for 2 S - c
    total2 = tl.zeros([BLOCK_Q], tl.float32)
    for start in range(0, lk, BLOCK_K):
        keys = start + tl.arange(0, BLOCK_K)
        inside = (keys[:, None] < lk) & (dims[None, :] < D)
        k = tl.load(K + b * skb + h * skh + keys[:, None] * skn + dims[None, :] * skd, mask=inside, other=0.0)
        v = tl.load(V + b * svb + h * svh + keys[:, None] * svn + dims[None, :] * svd, mask=inside, other=0.0)
        c = tl.load(C + bh * lk + keys, mask=keys < lk, other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * scale  # (queries, keys)
        s = tl.where(keys[None, :] < lk, s, float("-inf"))
        m_new = tl.maximum(m, tl.max(s, 1))
        alpha = tl.exp(m - m_new)
        p = tl.exp(s - m_new[:, None])
        total = total * alpha + tl.sum(p, 1)
        acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
        m = m_new
        t = tl.where(keys[None, :] < lk, 2 * s - c[None, :], float("-inf"))
        m2_new = tl.maximum(m2, tl.max(t, 1))
        total2 = total2 * tl.exp(m2 - m2_new) + tl.sum(tl.exp(t - m2_new[:, None]), 1)
        m2 = m2_new
    row = m + tl.log(total)
    out = acc / total[:, None]
    tl.store(O + b * sob + h * soh + queries[:, None] * son + dims[None, :] * sod, out.to(O.dtype.element_ty),
             mask=(queries[:, None] < lq) & (dims[None, :] < D))
    tl.store(R + bh * lq + queries, row, mask=queries < lq)
    tl.store(F + bh * lq + queries, tl.exp(m2 + tl.log(total2) - row) / lk, mask=queries < lq)


def available() -> bool:
    return triton is not None


def fits(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask=None) -> bool:
    """Whether the fused route takes these (images, heads, tokens, d) inputs: CUDA, Triton,
    no attention mask, one head size up to MAX_HEAD_DIM, outside torch.compile's tracing."""
    return (
        ENABLED
        and available()
        and q.device.type == "cuda"
        and mask is None
        and q.dtype in (torch.float16, torch.bfloat16, torch.float32)
        and q.dtype == k.dtype == v.dtype
        and q.shape[-1] == k.shape[-1] == v.shape[-1] <= MAX_HEAD_DIM
        and q.shape[:2] == k.shape[:2] == v.shape[:2]
        and not torch.compiler.is_compiling()
    )


def _blocks(q: torch.Tensor) -> tuple[int, int]:
    """(block of queries or keys, block of channels): tl.dot wants 16 or more of each."""
    block = 32 if q.device.type == "cpu" else 64  # the interpreter pays per operation, not per element
    return block, max(16, triton.next_power_of_2(q.shape[-1]))


def mapped_attention_confidence(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(softmax(S) V (images, heads, Lq, d) in q's dtype, a view of token-major memory, row LSE (images, heads, Lq) and DSF's
    conf (images, heads, Lq), both float32) with S = scale * q k^T per image and head.

    CUDA tensors, or CPU tensors under Triton's interpreter."""
    images, heads, lq, d = q.shape
    lk = k.shape[-2]
    block, block_d = _blocks(q)
    precision = "ieee" if q.dtype == torch.float32 else "tf32"
    col = torch.empty(images, heads, lk, device=q.device, dtype=torch.float32)
    column_lse_kernel[(triton.cdiv(lk, block), images * heads)](
        q, k, col, *q.stride(), *k.stride(), heads, lq, lk, scale,
        BLOCK_K=block, BLOCK_Q=block, BLOCK_D=block_d, D=d, PRECISION=precision,
    )
    # Token-major memory (images, Lq, heads, d), as value mapping hands it on: no copy after.
    out = q.new_empty(images, lq, heads, d).transpose(1, 2)
    row = torch.empty(images, heads, lq, device=q.device, dtype=torch.float32)
    conf = torch.empty_like(row)
    mapped_rows_kernel[(triton.cdiv(lq, block), images * heads)](
        q, k, v, col, out, row, conf, *q.stride(), *k.stride(), *v.stride(), *out.stride(), heads, lq, lk, scale,
        BLOCK_Q=block, BLOCK_K=block, BLOCK_D=block_d, D=d, PRECISION=precision,
    )
    return out, row, conf
