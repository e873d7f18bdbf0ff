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

`DualBert` is the whole model of section 4: the shared encoder, SAA, the target span
head over H_T (eq. 8-9), the auxiliary source span head over B_S with its loss weighted
per example by the dynamic lambda of section 4.3 (eq. 10-13), and the ablations of the
paper's Table 4 as `DualBertOptions` switches. See `DualBert` for the batch it reads and
`DualBert.save_pretrained` for the checkpoint layout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from rayqa.models.dual_bert_options import ENCODER_INPUTS, SOURCE_PREFIX, DualBertOptions


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
    b_t, b_s, value, mask_t, mask_s = _zero_padding(b_t, b_s, mask_t, mask_s, value)
    a_ts = b_t @ b_s.transpose(-1, -2)  # (1)
    a_t = _masked_softmax(b_t @ b_t.transpose(-1, -2), mask_t, mask_t)  # (2)
    a_s = _masked_softmax(b_s @ b_s.transpose(-1, -2), mask_s, mask_s)  # (3)
    a_tilde = a_t @ a_ts @ a_s.transpose(-1, -2)  # (4)
    return _masked_softmax(a_tilde, mask_t, mask_s) @ value  # (5)


def dot_product_attention(
    b_t: torch.Tensor,
    b_s: torch.Tensor,
    mask_t: torch.Tensor | None = None,
    mask_s: torch.Tensor | None = None,
    value: torch.Tensor | None = None,
) -> torch.Tensor:
    """Plain attention from the raw scores of equation 1: R' = softmax(B_T B_S^T) B_S.

    The "w/o Self-Adaptive Att." ablation of Table 4: equation 5 with A_TS in place of
    the self-adaptive Ã_TS. Arguments, masking and result are those of
    `self_adaptive_attention`.
    """
    b_t, b_s, value, mask_t, mask_s = _zero_padding(b_t, b_s, mask_t, mask_s, value)
    return _masked_softmax(b_t @ b_s.transpose(-1, -2), mask_t, mask_s) @ value  # (1)


def _zero_padding(b_t, b_s, mask_t, mask_s, value):
    """Checked shapes, boolean masks, and the inputs with padded rows zeroed:
    ``(b_t, b_s, value, mask_t, mask_s)`` (``value`` defaults to ``b_s``)."""
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
    return (b_t.masked_fill(~mask_t[..., None], 0.0), b_s.masked_fill(~mask_s[..., None], 0.0),
            value.masked_fill(~mask_s[..., None], 0.0), mask_t, mask_s)


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
        self_adaptive: False replaces SAA by the plain attention of equation 1
            (`dot_product_attention`), with the same projections and fusion: the
            "w/o Self-Adaptive Att." ablation.
    """

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        dropout: float = 0.1,
        layer_norm_eps: float = 1e-12,
        self_adaptive: bool = True,
    ):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"num_heads {num_heads} must divide hidden_size {hidden_size}")
        self.num_heads = num_heads
        self.self_adaptive = self_adaptive
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
        attention = self_adaptive_attention if self.self_adaptive else dot_product_attention
        r_prime = attention(
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


HEADS_FILE = "dual_bert.safetensors"  # every weight outside the encoder
OPTIONS_FILE = "dual_bert.json"  # the DualBertOptions that built the model
# Span logits of padded positions. Finite (not the dtype's lowest value) so that sums of
# start and end logits in post-processing cannot overflow, and representable in bf16;
# exp(-1e4) is 0 in every float type, so padding takes no probability mass and the loss
# does not depend on how much padding a batch has.
MASKED_LOGIT = -1e4


@dataclass
class DualBertOutput:
    """What `DualBert.forward` returns.

    Attributes:
        start_logits: Target start logits, [batch, L_T]; padded positions MASKED_LOGIT.
            Answers are decoded from these (and `end_logits`) alone.
        end_logits: Target end logits, [batch, L_T].
        source_start_logits: Source start logits from B_S, [batch, L_S]; None without
            the auxiliary head.
        source_end_logits: Source end logits, [batch, L_S]; None without the head.
        loss: L = mean over the batch of L_T_i + lambda_i L_aux_i; None without labels.
        target_losses: L_T_i, [batch]; None without labels.
        aux_losses: L_aux_i, [batch], 0 where the source has no span; None without
            labels or without the auxiliary head.
        lambdas: lambda_i, [batch], 0 where the source has no span; None likewise.
        diagnostics: Detached scalar tensors for logging (see `DualBert.forward`).
    """

    start_logits: torch.Tensor
    end_logits: torch.Tensor
    source_start_logits: torch.Tensor | None = None
    source_end_logits: torch.Tensor | None = None
    loss: torch.Tensor | None = None
    target_losses: torch.Tensor | None = None
    aux_losses: torch.Tensor | None = None
    lambdas: torch.Tensor | None = None
    diagnostics: dict[str, torch.Tensor] = field(default_factory=dict)


def span_loss(
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    start_positions: torch.Tensor,
    end_positions: torch.Tensor,
) -> torch.Tensor:
    """Per-example span loss, the mean of the start and end cross-entropies (eq. 9).

    BERT's question-answering loss before its batch mean: [batch, L] logits and [batch]
    gold token positions (which must be valid positions) give [batch] losses.
    """
    start = F.cross_entropy(_at_least_float32(start_logits), start_positions, reduction="none")
    end = F.cross_entropy(_at_least_float32(end_logits), end_positions, reduction="none")
    return (start + end) / 2


def span_representation(
    hidden: torch.Tensor, start_positions: torch.Tensor, end_positions: torch.Tensor
) -> torch.Tensor:
    """H~ = [B_start ; B_end ; B_att] of each example's gold span (equations 10-11).

    B_att is the span's self-attended, mean-pooled representation. With B_span the
    encoder states of the n span tokens (start..end inclusive), [n, h]:

        B_att = mean over the n rows of softmax(B_span B_span^T) B_span

    The dot product is unscaled, like every attention of the paper; tokens outside the
    span take no part, neither as queries nor as keys (the paper's footnote 3: "we mask
    out the values that out of span"). A span of one token gives B_att = B_start.

    Args:
        hidden: Encoder states B, [batch, L, h].
        start_positions: [batch] first span token.
        end_positions: [batch] last span token (>= the start).

    Returns:
        [batch, 3h].
    """
    batch, length, _ = hidden.shape
    rows = torch.arange(batch, device=hidden.device)
    positions = torch.arange(length, device=hidden.device)
    in_span = (positions >= start_positions[:, None]) & (positions <= end_positions[:, None])
    span = hidden.masked_fill(~in_span[..., None], 0.0)
    weights = _masked_softmax(span @ span.transpose(-1, -2), in_span, in_span)
    attended = weights @ span  # rows outside the span are 0
    sizes = in_span.sum(dim=1, keepdim=True).clamp(min=1).to(attended.dtype)
    b_att = attended.sum(dim=1) / sizes
    return torch.cat([hidden[rows, start_positions], hidden[rows, end_positions], b_att], -1)


def dynamic_lambda(span_source: torch.Tensor, span_target: torch.Tensor) -> torch.Tensor:
    """lambda = max(0, cos(H~_S, H~_T)) per example (equation 12), [batch].

    Computed in float32 or wider whatever the autocast dtype: it is a weight, and the
    cosine of bf16 vectors is coarse.
    """
    cosine = F.cosine_similarity(
        _at_least_float32(span_source), _at_least_float32(span_target), dim=-1
    )
    return cosine.clamp(min=0.0)


def dual_bert_loss(
    target_losses: torch.Tensor,
    aux_losses: torch.Tensor,
    both_have_span: torch.Tensor,
    span_source: torch.Tensor | None = None,
    span_target: torch.Tensor | None = None,
    fixed_lambda: float | None = None,
    detach_lambda: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """L = mean over the batch of L_T_i + lambda_i L_aux_i (equation 13).

    Args:
        target_losses: L_T_i, [batch].
        aux_losses: L_aux_i, [batch]; ignored (taken as 0) where both_have_span is False.
        both_have_span: [batch] bool, True where the source window holds the source
            answer and the target window the target answer (False: the translation
            lost the answer, or the target window does not hold it).
        span_source: H~_S, [batch, 3h], for the dynamic lambda.
        span_target: H~_T, [batch, 3h], for the dynamic lambda.
        fixed_lambda: A constant lambda instead of the dynamic one.
        detach_lambda: No gradient through the dynamic lambda (see `DualBertOptions`).

    Returns:
        The loss and the lambdas, [batch], 0 where both_have_span is False.
    """
    both_have_span = both_have_span.bool()
    if fixed_lambda is not None:
        lambdas = torch.full_like(target_losses, float(fixed_lambda))
    else:
        if span_source is None or span_target is None:
            raise ValueError("the dynamic lambda needs span_source and span_target")
        lambdas = dynamic_lambda(span_source, span_target)
        if detach_lambda:
            lambdas = lambdas.detach()
    # where, not a product: a loss computed from placeholder positions never leaks in.
    lambdas = torch.where(both_have_span, lambdas, 0.0)
    aux_losses = torch.where(both_have_span, aux_losses, 0.0)
    return (target_losses + lambdas * aux_losses).mean(), lambdas


class DualBert(nn.Module):
    """Dual BERT (section 4): a shared encoder over X_T and X_S, SAA, two span heads.

    The shared encoder reads X_T = [CLS] Q_T [SEP] P_T [SEP] into B_T and its
    translation X_S into B_S; SAA fuses them into H_T, [batch, L_T, 2h], and a linear
    2h -> 2 head gives the target start/end logits. A second linear h -> 2 head gives
    source span logits from B_S directly (section 4.3), trained by L_aux with the
    per-example weight lambda. Answers are decoded from the target logits only, but
    SAA needs B_S, so inference too takes both sides (the source being the test
    example's translation), as in the paper.

    `forward` reads one dict of tensors, the features of `run_qa`-style preprocessing
    for each side, the source keys prefixed with "source_":

        input_ids, attention_mask, token_type_ids        [batch, L_T]  target X_T
        source_input_ids, source_attention_mask,
        source_token_type_ids                            [batch, L_S]  source X_S
        start_positions, end_positions                   [batch]  target gold span
        source_start_positions, source_end_positions     [batch]  source gold span
        both_have_span                                   [batch]  bool, both gold spans held

    Attention masks and token type ids are optional (all real / BERT's default). The
    labels are optional: without `start_positions` no loss is computed. The source
    keys are not needed with `source_encoder=False`. Where `both_have_span` is False
    the source positions are never read (any placeholder will do). Target and source
    rows are paired as given: choosing which source window goes with which target
    window (doc stride) is the data preparation's job.

    Args:
        encoder: The shared `AutoModel` (e.g. `bert-base-multilingual-cased`).
        options: The switches; None: the full model.
    """

    def __init__(self, encoder: nn.Module, options: DualBertOptions | None = None):
        super().__init__()
        self.options = DualBertOptions() if options is None else options
        self.encoder = encoder
        config = encoder.config
        hidden = config.hidden_size
        # Span heads read token states, never BERT's pooler. It stays (the encoder
        # saves and loads whole) but frozen, so it never waits for a gradient in DDP.
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler.requires_grad_(False)
        if self.options.source_encoder:
            dropout = self.options.dropout
            self.saa = SelfAdaptiveAttention(
                hidden,
                self.options.num_heads or config.num_attention_heads,
                dropout=config.hidden_dropout_prob if dropout is None else dropout,
                layer_norm_eps=getattr(config, "layer_norm_eps", 1e-12),
                self_adaptive=self.options.self_adaptive,
            )
            self.target_head = nn.Linear(2 * hidden, 2)  # W_T, b of equation 8
        else:
            self.saa = None
            self.target_head = nn.Linear(hidden, 2)  # a plain BERT QA head
        self.source_head = nn.Linear(hidden, 2) if self.options.auxiliary_loss else None
        self._init_new_weights(getattr(config, "initializer_range", 0.02))

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | Path, options: DualBertOptions | None = None
    ) -> DualBert:
        """Loads a saved Dual BERT, or starts one from a pre-trained encoder.

        The model comes back in eval mode, as `transformers` models do.

        Args:
            name_or_path: A directory written by `save_pretrained` (it holds
                OPTIONS_FILE), or any `AutoModel` name or directory (e.g.
                `bert-base-multilingual-cased`), which gets freshly initialized heads.
            options: For a fresh model, its switches. For a saved one, None or the saved
                options (anything else is an error: the weights fit only those).
        """
        from transformers import AutoModel

        path = Path(name_or_path)
        encoder = AutoModel.from_pretrained(str(name_or_path))
        if not (path / OPTIONS_FILE).is_file():
            return cls(encoder, options).eval()
        saved = DualBertOptions.from_dict(json.loads((path / OPTIONS_FILE).read_text()))
        if options is not None and options != saved:
            raise ValueError(f"{path} was saved with {saved}, not {options}")
        model = cls(encoder, saved)
        from safetensors.torch import load_file

        missing, unexpected = model.load_state_dict(load_file(str(path / HEADS_FILE)),
                                                    strict=False)
        missing = [key for key in missing if not key.startswith("encoder.")]
        if missing or unexpected:
            raise ValueError(f"{path / HEADS_FILE}: missing {missing}, unexpected {unexpected}")
        return model.eval()

    def save_pretrained(self, directory: str | Path, state_dict: dict | None = None) -> None:
        """Writes the encoder as an `AutoModel` directory, plus the heads and options.

        Layout: the encoder's `config.json` and weights at the top (so `AutoModel`
        loads `directory` as is; a training job adds the tokenizer), HEADS_FILE with
        every other weight (SAA, W_r, the span heads) and OPTIONS_FILE.

        Args:
            directory: The output directory.
            state_dict: This module's full state dict (e.g. gathered from ZeRO-3); the
                module's own when None.
        """
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state_dict = self.state_dict() if state_dict is None else state_dict
        prefix = "encoder."
        encoder = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
        self.encoder.save_pretrained(str(directory), state_dict=encoder)
        heads = {k: v.detach().cpu().contiguous() for k, v in state_dict.items()
                 if not k.startswith(prefix)}
        save_file(heads, str(directory / HEADS_FILE))
        options = json.dumps(self.options.to_dict(), indent=2, sort_keys=True)
        (directory / OPTIONS_FILE).write_text(options + "\n")

    def encode(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The shared encoder's last hidden states B, [batch, L, h]."""
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        return self.encoder(**inputs).last_hidden_state

    def forward(self, batch: dict[str, torch.Tensor]) -> DualBertOutput:
        """Span logits of both sides and, given labels, the loss and its diagnostics.

        Diagnostics (detached scalars): target_loss (mean L_T), aux_loss and lambda
        (means over the examples whose source has a span; 0 if none has),
        weighted_aux_loss (mean lambda_i L_aux_i, so loss = target_loss +
        weighted_aux_loss), source_with_span and source_without_span (counts).

        Args:
            batch: The tensors described in the class docstring.
        """
        target = _side(batch, "")
        b_t = self.encode(**target)
        mask_t = _as_mask(target.get("attention_mask"), b_t)
        b_s = mask_s = None
        if self.saa is not None:
            source = _side(batch, SOURCE_PREFIX)
            b_s = self.encode(**source)
            mask_s = _as_mask(source.get("attention_mask"), b_s)
            h_t = self.saa(b_t, b_s, mask_t, mask_s)
        else:
            h_t = b_t
        out = DualBertOutput(*_span_logits(self.target_head(h_t), mask_t))
        if self.source_head is not None:
            out.source_start_logits, out.source_end_logits = _span_logits(
                self.source_head(b_s), mask_s
            )
        if "start_positions" in batch:
            self._add_loss(out, batch, b_t, b_s)
        return out

    def _add_loss(self, out: DualBertOutput, batch: dict[str, torch.Tensor],
                  b_t: torch.Tensor, b_s: torch.Tensor | None) -> None:
        """Fills the loss fields and diagnostics of `out`."""
        start, end = _require(batch, "start_positions", "end_positions")
        out.target_losses = span_loss(out.start_logits, out.end_logits, start, end)
        if self.source_head is None:
            out.loss = out.target_losses.mean()
            out.diagnostics = {"target_loss": out.loss.detach()}
            return
        has_span, source_start, source_end = _require(
            batch, "both_have_span", "source_start_positions", "source_end_positions"
        )
        has_span = has_span.bool()
        # Placeholder positions of span-less sources become 0 before any lookup.
        source_start = torch.where(has_span, source_start, 0)
        source_end = torch.where(has_span, source_end, 0)
        aux_losses = span_loss(
            out.source_start_logits, out.source_end_logits, source_start, source_end
        )
        span_source = span_target = None
        if self.options.fixed_lambda is None:
            span_target = span_representation(b_t, start, end)
            span_source = span_representation(b_s, source_start, source_end)
        out.loss, out.lambdas = dual_bert_loss(
            out.target_losses, aux_losses, has_span, span_source, span_target,
            self.options.fixed_lambda, self.options.detach_lambda,
        )
        out.aux_losses = torch.where(has_span, aux_losses, 0.0)
        out.diagnostics = _diagnostics(out, has_span)

    def _init_new_weights(self, std: float) -> None:
        """BERT's initialization for every layer outside the pre-trained encoder."""
        for name, module in self.named_modules():
            if name.startswith("encoder"):
                continue
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=std)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)


def _side(batch: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The encoder inputs of one side, without the prefix."""
    _require(batch, prefix + "input_ids")
    return {name: batch[prefix + name] for name in ENCODER_INPUTS if prefix + name in batch}


def _require(batch: dict[str, torch.Tensor], *keys: str) -> list[torch.Tensor]:
    """batch[key] for each key; a ValueError naming every missing key."""
    missing = [key for key in keys if key not in batch]
    if missing:
        raise ValueError(f"Dual BERT batch lacks {missing} (has {sorted(batch)})")
    return [batch[key] for key in keys]


def _at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """x in float32, or as is when wider (float64 stays float64)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _span_logits(
    logits: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """[batch, L, 2] head output -> start and end logits, padding set to MASKED_LOGIT."""
    start, end = logits.unbind(dim=-1)
    return start.masked_fill(~mask, MASKED_LOGIT), end.masked_fill(~mask, MASKED_LOGIT)


def _diagnostics(out: DualBertOutput, has_span: torch.Tensor) -> dict[str, torch.Tensor]:
    """Detached scalars for logging; means over span-less sources count those as 0."""
    with_span = has_span.sum()
    denominator = with_span.clamp(min=1)
    return {
        "target_loss": out.target_losses.detach().mean(),
        "aux_loss": out.aux_losses.detach().sum() / denominator,
        "lambda": out.lambdas.detach().sum() / denominator,
        "weighted_aux_loss": (out.lambdas * out.aux_losses).detach().mean(),
        "source_with_span": with_span.detach(),
        "source_without_span": (has_span.numel() - with_span).detach(),
    }


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
