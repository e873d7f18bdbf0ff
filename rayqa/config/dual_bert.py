"""The Dual BERT job (cross-lingual MRC, Cui et al. 2019 section 4): pairs of files and
the model's ablation switches."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from rayqa.config.base import DataFile, Section
from rayqa.config.reader import ReaderConfig
from rayqa.config.train import TrainConfig
from rayqa.models.dual_bert_options import DualBertOptions


def _as_data_file(value):
    """A plain path is shorthand for ``{"path": ...}``."""
    return {"path": value} if isinstance(value, str) else value


def _as_pairs(value):
    """A single pair may be given without the list."""
    return [value] if isinstance(value, dict) else value


class FilePair(Section):
    """A target-language SQuAD file and its translation into the source language.

    Questions are paired by id: every target question needs a source question with the
    same id (XQuAD zh / en; CMRC 2018 or DRCD / their machine translation into English).
    """

    target: DataFile
    source: DataFile

    _files = field_validator("target", "source", mode="before")(_as_data_file)


class DualBertOptionsConfig(Section):
    """``rayqa.models.dual_bert.DualBertOptions``: the full model, or one Table 4 ablation."""

    # The source span head and its loss L_aux (False: "w/o Auxiliary Loss").
    auxiliary_loss: bool = True
    # None: the dynamic lambda of eq. 12; a constant c >= 0: "w/o Dynamic Lambda".
    fixed_lambda: float | None = Field(None, ge=0)
    # Self-Adaptive Attention (False: plain dot attention, "w/o Self-Adaptive Att.").
    self_adaptive: bool = True
    # False: no source input at all ("w/o Source BERT"); needs auxiliary_loss false.
    source_encoder: bool = True
    # No gradient through lambda (see DualBertOptions for why that is the default).
    detach_lambda: bool = True

    @model_validator(mode="after")
    def _consistent(self):
        self.options()  # DualBertOptions' rules, so a bad config fails before Ray starts
        return self

    def options(self) -> DualBertOptions:
        """The model's ``DualBertOptions``."""
        return DualBertOptions(**self.model_dump())


class DualBertDataConfig(Section):
    """Training, dev and test pairs (SQuAD v1.1 JSON) and how strictly to read them.

    Training reads ``train_files``; the exported checkpoint is the best by dev F1 of the
    target side over ``dev_files``; ``test_files`` are for a table runner, not read here.
    """

    train_files: list[FilePair] = Field(default_factory=list)
    dev_files: list[FilePair] = Field(default_factory=list)
    test_files: list[FilePair] = Field(default_factory=list)
    strict: bool = False
    # Target-side EM/F1 rules, as the reader's data.scoring (cmrc: zh by the CMRC script).
    scoring: Literal["mlqa", "cmrc"] = "mlqa"

    _pairs = field_validator("train_files", "dev_files", "test_files", mode="before")(_as_pairs)


class DualBertJobConfig(Section):
    """``jobs/train_dual_bert.py``: train Dual BERT on target data and its translation."""

    output_dir: str
    # Encoder checkpoint and window geometry, the same on both sides.
    model: ReaderConfig
    dual_bert: DualBertOptionsConfig = Field(default_factory=DualBertOptionsConfig)
    data: DualBertDataConfig = Field(default_factory=DualBertDataConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
