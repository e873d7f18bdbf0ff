"""Dual BERT (Cui et al., 2019, section 4): the bilingual decoder's Self-Adaptive Attention.

A shared multilingual encoder reads the target example (B_T, [batch, L_T, h]) and its
translation into the source language (B_S, [batch, L_S, h]). Self-Adaptive Attention
(SAA) lets the target read the source through attention that is first filtered by each
side's own self-attention (paper equations 1-5):

    A_TS = B_T B_S^T                    raw target-to-source attention   (1)
    A_T  = softmax(B_T B_T^T)           target self-attention            (2)
    A_S  = softmax(B_S B_S^T)           source self-attention            (3)
    Ã_TS = A_T A_TS A_S^T                                                (4)
    R'   = softmax(Ã_TS) B_S                                             (5)

then R = W_r R' + b_r (6) and H_T = [B_T ; LayerNorm(B_T + R)] (7). Softmaxes are over
the last axis (keys). As in the paper's equations there is no 1/sqrt(d) scaling of any
dot product; inputs of large norm therefore give sharp (near one-hot) attention.

Only this layer lives here for now; the span heads and the auxiliary source loss of
section 4.3 come later.
"""

from __future__ import annotations

import torch
from torch import nn


def self_adaptive_attention(
    b_t: torch.Tensor,
    b_s: torch.Tensor,
    mask_t: torch.Tensor | None = None,
    mask_s: torch.Tensor | None = None,
    value: torch.Tensor | None = None,
) -> torch.Tensor:
    """Self-Adaptive Attention, equations 1-5, over a padded batch.

    Padding never reaches a real row: padded rows of the inputs are zeroed before any
    product, the softmaxes of A_T, A_S and R' mask their padded keys, and padded rows of
    the attention matrices are zeroed. On real rows the result equals that of the
    unpadded tensors; padded rows of R' are zero.

    Args:
        b_t: Target representations B_T, [batch, L_T, h] (the query).
        b_s: Source representations B_S, [batch, L_S, h] (the key).
        mask_t: [batch, L_T], nonzero (or True) for real target tokens; None: all real.
        mask_s: [batch, L_S], the same for the source.
        value: [batch, L_S, h_v] read out in equation 5 in place of B_S (the multi-head
            layer's value projection of B_S); None: B_S itself, as in the paper.

    Returns:
        R', [batch, L_T, h_v].
    """
    value = b_s if value is None else value
    if b_t.shape[0] != b_s.shape[0] or b_t.shape[-1] != b_s.shape[-1]:
        raise ValueError(
            f"b_t {tuple(b_t.shape)} and b_s {tuple(b_s.shape)} must share batch and h"
        )
    if value.shape[:2] != b_s.shape[:2]:
        raise ValueError(f"value {tuple(value.shape)} must be [batch, L_S, h_v] like b_s")
    mask_t = _as_mask(mask_t, b_t)
    mask_s = _as_mask(mask_s, b_s)
    # masked_fill, not a product, so that even inf/nan padding cannot leak in.
    b_t = b_t.masked_fill(~mask_t[..., None], 0.0)
    b_s = b_s.masked_fill(~mask_s[..., None], 0.0)
    value = value.masked_fill(~mask_s[..., None], 0.0)
    a_ts = b_t @ b_s.transpose(-1, -2)  # (1)
    a_t = _masked_softmax(b_t @ b_t.transpose(-1, -2), mask_t, mask_t)  # (2)
    a_s = _masked_softmax(b_s @ b_s.transpose(-1, -2), mask_s, mask_s)  # (3)
    a_tilde = a_t @ a_ts @ a_s.transpose(-1, -2)  # (4)
    return _masked_softmax(a_tilde, mask_t, mask_s) @ value  # (5)


class SelfAdaptiveAttention(nn.Module):
    """Multi-head Self-Adaptive Attention with the residual fusion of equations 6-7.

    B_T is the query, B_S the key and value. Each head projects them (BERT-style
    query/key/value linears, split into `num_heads` heads of size h / num_heads) and runs
    `self_adaptive_attention` on (query, key) with the value read out in equation 5; the
    heads are concatenated and projected by W_r, b_r (eq. 6).

    Args:
        hidden_size: h, the encoder's hidden size.
        num_heads: Number of attention heads; must divide `hidden_size`.
        dropout: Dropout on R before the residual, as BERT's attention output has.
        layer_norm_eps: Epsilon of the LayerNorm in equation 7 (BERT's 1e-12).
    """

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        dropout: float = 0.1,
        layer_norm_eps: float = 1e-12,
    ):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"num_heads {num_heads} must divide hidden_size {hidden_size}")
        self.num_heads = num_heads
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size)
        self.output = nn.Linear(hidden_size, hidden_size)  # W_r, b_r of equation 6
        self.dropout = nn.Dropout(dropout)
        self.layer_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)

    def attend(
        self,
        b_t: torch.Tensor,
        b_s: torch.Tensor,
        mask_t: torch.Tensor | None = None,
        mask_s: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """R = W_r R' + b_r (equations 1-6), [batch, L_T, h]."""
        mask_t = _as_mask(mask_t, b_t)
        mask_s = _as_mask(mask_s, b_s)
        r_prime = self_adaptive_attention(
            self._split_heads(self.query(b_t)),
            self._split_heads(self.key(b_s)),
            self._repeat_heads(mask_t),
            self._repeat_heads(mask_s),
            value=self._split_heads(self.value(b_s)),
        )
        return self.output(self._merge_heads(r_prime, b_t.shape[0]))

    def fuse(self, b_t: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        """H_T = [B_T ; LayerNorm(B_T + R)] (equation 7), [batch, L_T, 2h]."""
        return torch.cat([b_t, self.layer_norm(b_t + self.dropout(r))], dim=-1)

    def forward(
        self,
        b_t: torch.Tensor,
        b_s: torch.Tensor,
        mask_t: torch.Tensor | None = None,
        mask_s: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """H_T, [batch, L_T, 2h]; rows of padded target tokens carry no meaning.

        Args:
            b_t: Target representations, [batch, L_T, h].
            b_s: Source representations, [batch, L_S, h].
            mask_t: [batch, L_T], nonzero for real target tokens; None: all real.
            mask_s: [batch, L_S], nonzero for real source tokens; None: all real.
        """
        return self.fuse(b_t, self.attend(b_t, b_s, mask_t, mask_s))

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """[batch, L, h] -> [batch * heads, L, h / heads], heads of one example adjacent."""
        batch, length, hidden = x.shape
        x = x.view(batch, length, self.num_heads, hidden // self.num_heads)
        return x.transpose(1, 2).reshape(batch * self.num_heads, length, -1)

    def _merge_heads(self, x: torch.Tensor, batch: int) -> torch.Tensor:
        """[batch * heads, L, d] -> [batch, L, heads * d]."""
        _, length, head_size = x.shape
        x = x.view(batch, self.num_heads, length, head_size).transpose(1, 2)
        return x.reshape(batch, length, self.num_heads * head_size)

    def _repeat_heads(self, mask: torch.Tensor) -> torch.Tensor:
        """[batch, L] -> [batch * heads, L], in `_split_heads`'s order."""
        return mask.repeat_interleave(self.num_heads, dim=0)


def _as_mask(mask: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """A boolean [batch, L] mask for x [batch, L, h]; None means every token is real."""
    if mask is None:
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    if mask.shape != x.shape[:2]:
        raise ValueError(f"mask {tuple(mask.shape)} does not match tokens {tuple(x.shape[:2])}")
    return mask.bool()


def _masked_softmax(
    scores: torch.Tensor, query_mask: torch.Tensor, key_mask: torch.Tensor
) -> torch.Tensor:
    """Softmax over real keys; rows of padded queries and columns of padded keys are 0.

    The fill is the dtype's lowest finite value rather than -inf so that a row with no
    real key gives zeros (after the product with the mask) instead of NaN.
    """
    scores = scores.masked_fill(~key_mask[:, None, :], torch.finfo(scores.dtype).min)
    weights = scores.softmax(dim=-1)
    return weights * (query_mask[:, :, None] & key_mask[:, None, :])
