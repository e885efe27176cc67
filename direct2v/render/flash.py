"""Attention that also returns its row log-sum-exp, from PyTorch's fused kernels.

`attention_lse(q, k, v, scale)` gives `(softmax(S) V, LSE_k S)` with S = scale * Q K^T, for
(batch, heads, tokens, head_dim) inputs, without ever holding S in memory. Fused kernels
compute the log-sum-exp anyway (online softmax) and PyTorch exposes it on the private aten
ops that `F.scaled_dot_product_attention` dispatches to:

* CPU: `_scaled_dot_product_flash_attention_for_cpu` (float32/64, float16, bfloat16);
* CUDA, float16/bfloat16, head size a multiple of 8 up to 256: `_scaled_dot_product_flash_attention`;
* other CUDA cases: `_scaled_dot_product_efficient_attention` with `compute_log_sumexp`
  (its log-sum-exp comes padded to a multiple of 32 rows, hence the slice);
* anything else (MPS, masks): the plain formula, which does hold S.

The log-sum-exp is float32 (float64 for float64 inputs) and in natural log units.
"""

from __future__ import annotations

import torch


def _math(q, k, v, scale, mask=None):
    s = torch.matmul(q.float(), k.float().transpose(-1, -2)) * scale
    if mask is not None:
        s = s + mask.float() if mask.dtype != torch.bool else s.masked_fill(~mask, float("-inf"))
    lse = torch.logsumexp(s, dim=-1)
    out = torch.matmul(torch.exp(s - lse[..., None]), v.float())
    return out.to(q.dtype), lse


CPU_HEAD_MULTIPLE = 16


def _pad_head(x: torch.Tensor, extra: int) -> torch.Tensor:
    return torch.nn.functional.pad(x, (0, extra)) if extra else x


def _cuda_flash_ok(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> bool:
    d = q.shape[-1]
    return (
        q.dtype in (torch.float16, torch.bfloat16)
        and d % 8 == 0
        and d <= 256
        and k.shape[-1] == d == v.shape[-1]
        and torch.backends.cuda.flash_sdp_enabled()
    )


def attention_lse(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    scale: float,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(output (B, H, Lq, dv), log-sum-exp (B, H, Lq)) of attention with scores scale * q k^T."""
    if mask is not None:
        return _math(q, k, v, scale, mask)
    if q.device.type == "cpu" and k.shape[-1] == v.shape[-1] == q.shape[-1]:
        d = q.shape[-1]
        # Zero channels change no score; the CPU kernel is faster on head sizes that are
        # multiples of 16 (torch 2.13, 8 frames x 8 heads x 1024 tokens: d=8 165 ms, d=16 108 ms).
        q, k, v = (_pad_head(x, -d % CPU_HEAD_MULTIPLE) for x in (q, k, v))
        out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v, 0.0, False, scale=scale)
        return out[..., :d], lse
    if q.device.type == "cuda":
        if _cuda_flash_ok(q, k, v):
            res = torch.ops.aten._scaled_dot_product_flash_attention(q, k, v, 0.0, False, False, scale=scale)
            return res[0], res[1]
        if torch.backends.cuda.mem_efficient_sdp_enabled() and q.shape[-1] % 8 == 0 and v.shape[-1] % 8 == 0:
            res = torch.ops.aten._scaled_dot_product_efficient_attention(q, k, v, None, True, 0.0, False, scale=scale)
            return res[0], res[1][..., : q.shape[-2]]
    return _math(q, k, v, scale)

