"""The extractive reader's job: span geometry, tasks (mrc, mixMRC, LAKM) and masking."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from rayqa.config.base import DataFile, Section, as_data_files
from rayqa.config.train import DataConfig, TrainConfig


class ReaderConfig(Section):
    """The extractive reader: checkpoint and the span geometry used in train and predict."""

    name_or_path: str
    max_seq_length: int = Field(384, ge=32)
    doc_stride: int = Field(128, ge=1)
    max_query_length: int = Field(64, ge=4)
    max_answer_length: int = Field(30, ge=1)
    n_best_size: int = Field(20, ge=1)

    def window(self) -> dict:
        """Keyword arguments of ``prepare_train_features`` / ``prepare_eval_features``."""
        return {"max_length": self.max_seq_length, "stride": self.doc_stride,
                "max_query_length": self.max_query_length}

    @model_validator(mode="after")
    def _window_fits(self):
        # A window holds [CLS] question [SEP] passage [SEP]; the stride must leave room
        # for new passage tokens or the tokenizer cannot make progress.
        room = self.max_seq_length - self.max_query_length - 3
        if self.doc_stride >= room:
            raise ValueError(f"doc_stride ({self.doc_stride}) must be below max_seq_length - "
                             f"max_query_length - 3 = {room}")
        return self


class TaskConfig(Section):
    """One task of reader training; tasks take their batches in turn (mixMRC/LAKM paper).

    ``mrc`` is the main task: it reads ``data.train_files`` and one pass over it is an
    epoch. ``mixmrc`` reads SQuAD files of mixed-language pairs (``jobs/make_mixmrc.py``),
    ``lakm`` the passages of ``jobs/mine_phrases.py``.
    """

    name: Literal["mrc", "mixmrc", "lakm"]
    files: list[DataFile] = Field(default_factory=list)
    # Batches of this task per `ratio` of the mrc task (1.0 each: strict alternation).
    ratio: float = Field(1.0, gt=0)

    _files = field_validator("files", mode="before")(as_data_files)

    @model_validator(mode="after")
    def _files_match_task(self):
        if self.name == "mrc" and self.files:
            raise ValueError("the mrc task reads data.train_files; give it no files")
        if self.name != "mrc" and not self.files:
            raise ValueError(f"task {self.name!r} needs files")
        return self


class LAKMConfig(Section):
    """Knowledge-phrase masking (LAKM): windows, the masking budget and its 80/10/10 split."""

    max_seq_length: int = Field(256, ge=16)
    # Tokens shared by consecutive windows of a passage longer than max_seq_length.
    stride: int = Field(64, ge=0)
    mask_ratio: float = Field(0.15, gt=0, le=1)
    mask_token_prob: float = Field(0.8, ge=0, le=1)
    random_token_prob: float = Field(0.1, ge=0, le=1)
    # knowledge: phrases first; random_ngram: random 2-4 token spans (paper Table 8 ablation).
    strategy: Literal["knowledge", "random_ngram"] = "knowledge"
    # Paper 3.2: "the number of passages in different languages is equal, and the total
    # amount of training data in LAKM is the same as that of mixMRC". On: the driver samples
    # (seed train.seed) every language down to the smallest one's passage count and caps the
    # total number of passages at total_passages, or else at the mixMRC task's number of
    # training examples (question-passage pairs) when the run has one. Off: every passage.
    balance: bool = False
    # Cap on the balanced passage total; None: the mixMRC task's example count, if any.
    total_passages: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _split_fits(self):
        if self.mask_token_prob + self.random_token_prob > 1:
            raise ValueError("mask_token_prob + random_token_prob must be at most 1")
        if self.stride >= self.max_seq_length - 2:
            raise ValueError("stride must be below max_seq_length - 2")
        return self


class ReaderDataConfig(DataConfig):
    """The reader's data: ``DataConfig`` plus the test files a settings table reports.

    Training reads ``train_files`` and picks the exported checkpoint by dev F1 over
    ``dev_files``; ``test_files`` are read only by ``jobs/run_settings.py``, which
    scores that exported reader on them (select on dev, report on test).
    """

    test_files: list[DataFile] = Field(default_factory=list)
    # Dev and test EM/F1 per language: MLQA's rules (mlqa), or cmrc: Chinese (zh) as
    # cmrc2018_evaluate.py scores CMRC 2018 and DRCD, other languages as mlqa.
    scoring: Literal["mlqa", "cmrc"] = "mlqa"

    _test_files = field_validator("test_files", mode="before")(as_data_files)


class AlignmentConfig(Section):
    """Train the reader as the Answer Aligner or Answer Verifier (cross-lingual MRC,
    Cui et al. 2019, sections 3.3-3.4).

    The data files are SQuAD files whose questions carry ``translated_answer`` (A_trans,
    written by ``rayqa translate-test``); a question without one is a bad record. The
    reader's question (segment A) becomes A_trans alone (aligner) or ``Q_T [SEP]
    A_trans`` (verifier), each part cut to its own token limit
    (``rayqa.crosslingual.features``); the label is still the gold span of P_T.
    """

    mode: Literal["aligner", "verifier"]
    max_question_tokens: int = Field(64, ge=1)  # Q_T's share of segment A (verifier)
    max_answer_tokens: int = Field(32, ge=1)  # A_trans's share of segment A

    def segment_tokens(self) -> int:
        """The most tokens segment A can take (with the verifier's separator)."""
        if self.mode == "aligner":
            return self.max_answer_tokens
        return self.max_question_tokens + 1 + self.max_answer_tokens


def _mrc_only() -> list[TaskConfig]:
    return [TaskConfig(name="mrc")]


class ReaderJobConfig(Section):
    """``jobs/train.py``: fine-tune an extractive reader, alone or with mixMRC / LAKM."""

    output_dir: str
    model: ReaderConfig
    data: ReaderDataConfig = Field(default_factory=ReaderDataConfig)
    tasks: list[TaskConfig] = Field(default_factory=_mrc_only)
    lakm: LAKMConfig = Field(default_factory=LAKMConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    # Set: this reader is an Answer Aligner or Verifier (see AlignmentConfig).
    alignment: AlignmentConfig | None = None

    @model_validator(mode="after")
    def _alignment_fits(self):
        if self.alignment is None:
            return self
        if [task.name for task in self.tasks] != ["mrc"]:
            raise ValueError("an aligner or verifier trains the mrc task alone")
        if self.alignment.segment_tokens() > self.model.max_query_length:
            raise ValueError(f"model.max_query_length ({self.model.max_query_length}) must "
                             f"hold segment A: {self.alignment.segment_tokens()} tokens for "
                             f"the {self.alignment.mode}'s limits")
        return self

    @model_validator(mode="after")
    def _tasks_valid(self):
        names = [task.name for task in self.tasks]
        if len(set(names)) != len(names):
            raise ValueError(f"tasks are listed more than once: {names}")
        if "mrc" not in names:
            raise ValueError("tasks must include the main task mrc")
        if len(names) > 1 and self.train.grad_accum > 1:
            # Accumulating would sum the gradients of different tasks into one update;
            # the paper updates after every batch of every task.
            raise ValueError("multi-task training steps after every batch: "
                             "train.grad_accum must be 1")
        return self
