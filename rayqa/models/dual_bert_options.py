"""What Dual BERT (`rayqa.models.dual_bert`) is built from and what it reads, without torch.

`DualBertOptions` are the model's switches (the paper's Table 4 ablations) and the one
place their rules are checked; the job config validates through them, so a bad config
fails before Ray starts. `SOURCE_PREFIX` and `ENCODER_INPUTS` name the batch columns the
model reads, which `rayqa.crosslingual.dual_bert_features` writes.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

SOURCE_PREFIX = "source_"  # batch keys of the source side: source_input_ids, ...
ENCODER_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class DualBertOptions:
    """The switches of Dual BERT, defaults the full model; Table 4's ablations flip one.

    Attributes:
        auxiliary_loss: The source span head and its loss L_aux. False: "w/o Auxiliary
            Loss", L = L_T (SAA still reads the source).
        fixed_lambda: None: the dynamic lambda of equation 12. A value c >= 0: "w/o
            Dynamic Lambda", L = L_T + c L_aux (for examples whose source has a span).
        self_adaptive: SAA (equations 1-5). False: "w/o Self-Adaptive Att.", the plain
            attention of equation 1 with the same projections, W_r and fusion.
        source_encoder: False: "w/o Source BERT", no source input at all; the target
            span logits come from B_T through a linear h -> 2 head, i.e. a plain BERT
            question-answering model (the paper: it "degenerates to cascade training").
            Needs `auxiliary_loss=False`.
        detach_lambda: Treat lambda as a constant weight (no gradient through it). The
            default, True, because L_aux >= 0: with a gradient through lambda, lowering
            lambda lowers L, so training would learn to push the source and target span
            representations apart until lambda is 0 and the auxiliary loss is off, the
            opposite of what lambda measures (how well the translation matches). The
            paper does not say; False keeps the gradient, for comparison.
        num_heads: SAA heads; None: the encoder's `num_attention_heads`.
        dropout: Dropout on R in equation 7; None: the encoder's `hidden_dropout_prob`.
    """

    auxiliary_loss: bool = True
    fixed_lambda: float | None = None
    self_adaptive: bool = True
    source_encoder: bool = True
    detach_lambda: bool = True
    num_heads: int | None = None
    dropout: float | None = None

    def __post_init__(self):
        for name in ("auxiliary_loss", "self_adaptive", "source_encoder", "detach_lambda"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool, got {getattr(self, name)!r}")
        if self.fixed_lambda is not None and not (
            isinstance(self.fixed_lambda, (int, float))
            and math.isfinite(self.fixed_lambda)
            and self.fixed_lambda >= 0
        ):
            raise ValueError(f"fixed_lambda must be a finite number >= 0 or None, "
                             f"got {self.fixed_lambda!r}")
        if self.auxiliary_loss and not self.source_encoder:
            raise ValueError("auxiliary_loss needs the source encoder: "
                             "set auxiliary_loss=False with source_encoder=False")
        if self.fixed_lambda is not None and not self.auxiliary_loss:
            raise ValueError("fixed_lambda weights the auxiliary loss: it needs auxiliary_loss")
        if self.num_heads is not None and self.num_heads < 1:
            raise ValueError(f"num_heads must be >= 1, got {self.num_heads}")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        """The options as JSON-ready values."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> DualBertOptions:
        """Options from `to_dict`'s output; unknown keys are errors."""
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown Dual BERT options: {sorted(unknown)}")
        return cls(**values)
