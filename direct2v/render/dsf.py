"""Dual-softmax filtering (DSF), paper Eq. 5 and 6, method.md section 4.

For one image and head, with scores S = Q K^T / sqrt(c) (queries x keys):

    P       = softmax_over_keys(S) * softmax_over_queries(S)        (Eq. 5)
    conf[q] = mean over keys of P[q, :]
    M[q]    = conf[q] > quantile_p(conf)                             (per image and head)
    out     = M * VM + (1 - M) * Attn                                (Eq. 6)

With the row log-sum-exp r_q = LSE_k S[q, k] and the column log-sum-exp c_k = LSE_q S[q, k],

    conf[q] = exp(LSE_k(2 S[q, k] - c_k) - r_q) / N_k

Three forms of conf, all equal up to rounding:

* `dsf_confidence_reference` materialises P: the definition the tests hold the others to;
* `dsf_confidence_slab` sweeps S in bounded slabs (the previous implementation, kept as a
  second reference and as the baseline of bench/bench_dsf.py);
* `dsf_confidence` never holds S: all three log-sum-exps come from fused attention kernels
  (flash.py). r is the log-sum-exp of the mapped attention call itself (pass it in as
  `row_lse`), c that of a call with queries and keys swapped, and the last one that of a call
  whose queries are [2Q, 1, 1] and keys [K, hi, lo] with hi + lo = -c/scale (two channels so
  that float16 keeps c to about 22 bits; c is shifted by its maximum first).

The mask keeps value mapping for all but the floor(p (N_q - 1)) + 1 least confident queries
of each image and head: exactly `conf > torch.quantile(conf, p, interpolation="lower")` when
no two confidences tie, with a count that depends on p and N_q only, so the queries that
fall back can be gathered into a tensor of fixed shape (select, attend, scatter back).
"""

from __future__ import annotations

import math

import torch

from .flash import attention_lse

# Size of one slab of scores, in float32 elements (64 Mi elements = 256 MiB).
DEFAULT_SLAB_ELEMENTS = 64 * 1024 * 1024


def dsf_confidence_reference(query: torch.Tensor, key: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    """conf of shape (..., Lq) from query (..., Lq, d) and key (..., Lk, d); materialises S and P."""
    scale = query.shape[-1] ** -0.5 if scale is None else scale
    s = torch.matmul(query.float(), key.float().transpose(-1, -2)) * scale
    p = torch.softmax(s, dim=-1) * torch.softmax(s, dim=-2)
    return p.mean(dim=-1)


def dsf_confidence_slab(
    query: torch.Tensor,
    key: torch.Tensor,
    scale: float | None = None,
    slab_elements: int = DEFAULT_SLAB_ELEMENTS,
) -> torch.Tensor:
    """The same conf as `dsf_confidence_reference`, in O(Lq + Lk) memory per (image, head) beyond one slab."""
    scale = query.shape[-1] ** -0.5 if scale is None else scale
    *lead, lq, d = query.shape
    lk = key.shape[-2]
    q = query.reshape(-1, lq, d)
    k = key.reshape(-1, lk, d)
    g = q.shape[0]
    # Split the (image x head) groups and the queries so that one slab holds at most slab_elements scores.
    groups_per_slab = max(1, min(g, slab_elements // (lq * lk)))
    q_chunk = lq if groups_per_slab > 1 or lq * lk <= slab_elements else max(1, slab_elements // lk)

    conf = torch.empty(g, lq, device=query.device, dtype=torch.float32)
    for g0 in range(0, g, groups_per_slab):
        # Scores come from a matmul in the inputs' dtype (tensor cores for fp16), then float32.
        qg = q[g0 : g0 + groups_per_slab] * scale
        kg = k[g0 : g0 + groups_per_slab]
        # Pass 1: column log-sum-exp over all queries, accumulated slab by slab.
        col_lse = None
        for q0 in range(0, lq, q_chunk):
            s = torch.matmul(qg[:, q0 : q0 + q_chunk], kg.transpose(-1, -2)).float()
            part = torch.logsumexp(s, dim=-2)
            col_lse = part if col_lse is None else torch.logaddexp(col_lse, part)
        # Pass 2: row log-sum-exp and LSE_k(2 S - c) for each slab of queries.
        for q0 in range(0, lq, q_chunk):
            s = torch.matmul(qg[:, q0 : q0 + q_chunk], kg.transpose(-1, -2)).float()
            row_lse = torch.logsumexp(s, dim=-1)
            s.mul_(2).sub_(col_lse[:, None, :])
            both = torch.logsumexp(s, dim=-1)
            conf[g0 : g0 + groups_per_slab, q0 : q0 + q_chunk] = torch.exp(both - row_lse) / lk
    return conf.reshape(*lead, lq)


def dsf_confidence(
    query: torch.Tensor,
    key: torch.Tensor,
    scale: float | None = None,
    row_lse: torch.Tensor | None = None,
) -> torch.Tensor:
    """conf (..., Lq), float32, from query (..., Lq, d) and key (..., Lk, d) with fused attention kernels.

    `row_lse` (..., Lq): LSE_k of scale * q k^T when the caller already has it (the mapped
    attention's own log-sum-exp); computed here otherwise.
    """
    scale = query.shape[-1] ** -0.5 if scale is None else scale
    *lead, lq, d = query.shape
    lk = key.shape[-2]
    q = query.reshape(-1, 1, lq, d) if query.dim() != 4 else query
    k = key.reshape(-1, 1, lk, d) if key.dim() != 4 else key
    k = k.expand(q.shape[0], q.shape[1], lk, d)
    if k.device.type != "cpu":  # the CUDA kernels want real strides in every dimension
        k = k.contiguous()
    if row_lse is None:
        row_lse = attention_lse(q, k, k, scale)[1]
    row_lse = row_lse.reshape(q.shape[:3]).float()
    col_lse = attention_lse(k, q, q, scale)[1].float()  # (B, H, Lk)
    shift = col_lse.amax(dim=-1, keepdim=True)
    term = (shift - col_lse) / scale  # >= 0; scale * term = -(c - max c)
    hi = term.to(query.dtype)
    lo = (term - hi.float()).to(query.dtype)
    pad = -(d + 2) % 8  # fused kernels want head sizes in multiples of 8
    b, h = q.shape[:2]
    q2 = torch.cat([q * 2, q.new_ones(b, h, lq, 2), q.new_zeros(b, h, lq, pad)], dim=-1)
    k2 = torch.cat([k, hi[..., None], lo[..., None], k.new_zeros(b, h, lk, pad)], dim=-1)
    both = attention_lse(q2, k2, k2, scale)[1].float()  # LSE_k(2 S - c + max c)
    conf = torch.exp(both - shift - row_lse) / lk
    return conf.reshape(*lead, lq)


def fallback_count(quantile: float, num_queries: int) -> int:
    """How many queries of one image and head fall back to their own frame's attention."""
    return min(num_queries, math.floor(quantile * (num_queries - 1)) + 1)


def fallback_queries(conf: torch.Tensor, quantile: float) -> torch.Tensor:
    """Indices (..., m) of the m = fallback_count least confident queries along the last dimension."""
    m = fallback_count(quantile, conf.shape[-1])
    return torch.topk(conf, m, dim=-1, largest=False, sorted=False).indices


def dsf_mask(conf: torch.Tensor, quantile: float) -> torch.Tensor:
    """Boolean mask (..., Lq): True where value mapping is kept, False for the queries that fall back."""
    keep = torch.ones(conf.shape, dtype=torch.bool, device=conf.device)
    return keep.scatter_(-1, fallback_queries(conf, quantile), False)
