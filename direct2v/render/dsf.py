"""Dual-softmax filtering (DSF), paper Eq. 5 and 6, method.md section 4.

For one image and head, with scores S = Q K^T / sqrt(c) (queries x keys):

    P       = softmax_over_keys(S) * softmax_over_queries(S)        (Eq. 5)
    conf[q] = mean over keys of P[q, :]
    M[q]    = conf[q] > quantile_p(conf)                             (per image and head)
    out     = M * VM + (1 - M) * Attn                                (Eq. 6)

`dsf_confidence_reference` materialises P and is the definition tests hold everything to.
`dsf_confidence` never holds more than a bounded slab of S: with the row log-sum-exp
r_q = LSE_k S[q, k] and the column log-sum-exp c_k = LSE_q S[q, k],

    conf[q] = exp(LSE_k(2 S[q, k] - c_k) - r_q) / N_k

so one pass over S (in slabs) gives c, and a second pass gives r and the last LSE.
"""

from __future__ import annotations

import torch

# Size of one slab of scores, in float32 elements (64 Mi elements = 256 MiB).
DEFAULT_SLAB_ELEMENTS = 64 * 1024 * 1024


def dsf_confidence_reference(query: torch.Tensor, key: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    """conf of shape (..., Lq) from query (..., Lq, d) and key (..., Lk, d); materialises S and P."""
    scale = query.shape[-1] ** -0.5 if scale is None else scale
    s = torch.matmul(query.float(), key.float().transpose(-1, -2)) * scale
    p = torch.softmax(s, dim=-1) * torch.softmax(s, dim=-2)
    return p.mean(dim=-1)


def dsf_confidence(
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


def dsf_mask(conf: torch.Tensor, quantile: float) -> torch.Tensor:
    """Boolean mask (..., Lq): True where value mapping is kept (conf above the per-row p-quantile)."""
    flat = conf.float().reshape(-1, conf.shape[-1])
    # torch.quantile refuses inputs over 2**24 elements; take the rows in slices.
    rows = max(1, (2**24 - 1) // flat.shape[-1])
    threshold = torch.cat([torch.quantile(flat[i : i + rows], quantile, dim=-1, keepdim=True) for i in range(0, flat.shape[0], rows)])
    return (flat > threshold).reshape(conf.shape)
