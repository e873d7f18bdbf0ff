"""The back-translation systems of cross-lingual MRC (Cui et al. 2019, section 3; Table 2
rows 1-5): translate-test, SimpleMatch, and trained Answer Aligners / Verifiers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from rayqa.config.base import DataFile, Section, as_data_files
from rayqa.config.data_prep import TranslatorConfig


class ReadingConfig(Section):
    """A Ray Data actor pool of extractive readers (the source reader, the aligners)."""

    batch_size: int = Field(32, ge=1)  # questions per actor call
    num_actors: int = Field(1, ge=1)
    # CPUs per actor (the translation actors' too); below 1 leaves Ray Data's read
    # tasks a CPU on small machines.
    cpus_per_actor: float = Field(0.5, gt=0)
    use_gpu: bool = False  # one GPU per actor


class TranslateTestJobConfig(Section):
    """``rayqa translate-test``: answer target-language questions through the source
    language, and align the answers back onto the target passages."""

    output_dir: str
    # Target-language SQuAD v1.1 files (CMRC 2018, DRCD, XQuAD zh); answers optional
    # (without them nothing is scored).
    data_files: list[DataFile]
    target_lang: str = "zh"
    source_lang: str = "en"
    # The source-language extractive reader (paper: BERT trained on SQuAD, SQ-B_en or
    # SQ-L_en): a save_pretrained directory, URI or hub name.
    reader: str
    # T -> S for questions and passages; also S -> T for answers unless answer_translator.
    translator: TranslatorConfig
    # S -> T for the reader's answers, when another system should bring them back.
    answer_translator: TranslatorConfig | None = None
    # Passages are translated whole (passage) or sentence by sentence (sentence: split
    # after . ! ? and their CJK forms, joined again in the source language); MT models
    # cut long inputs, so real runs translate sentences. A parallel corpus translates
    # whole passages only.
    passage_unit: Literal["passage", "sentence"] = "sentence"
    # SimpleMatch: windows of the passage len(A_trans) +- delta characters long.
    simple_match_delta: int = Field(5, ge=0)
    # Trained Answer Aligners / Verifiers (rayqa train with configs/crosslingual/
    # aligner.yaml, verifier.yaml) by row name: each reads A_trans with the target
    # passage (and question) and writes its own predictions.
    aligners: dict[str, str] = Field(default_factory=dict)
    reading: ReadingConfig = Field(default_factory=ReadingConfig)
    # EM/F1 rules: cmrc (Chinese by cmrc2018_evaluate.py) or mlqa.
    scoring: Literal["mlqa", "cmrc"] = "cmrc"
    # Fail at the first bad input record (file and line) instead of counting it.
    strict: bool = False

    _files = field_validator("data_files", mode="before")(as_data_files)

    @model_validator(mode="after")
    def _valid(self):
        if not self.data_files:
            raise ValueError("data_files needs at least one SQuAD file")
        if self.source_lang == self.target_lang:
            raise ValueError(f"source_lang and target_lang must differ, got {self.source_lang!r}")
        if self.passage_unit == "sentence" and self.translator.kind == "parallel":
            raise ValueError("a parallel corpus translates whole passages: "
                             "set passage_unit: passage")
        reserved = {"translate_test", "simple_match"} & set(self.aligners)
        if reserved:
            raise ValueError(f"aligner names {sorted(reserved)} are taken by the untrained rows")
        return self

    def answers_translator(self) -> TranslatorConfig:
        """The S -> T translator of the answers."""
        return self.answer_translator or self.translator


class TableSetConfig(Section):
    """A reported set (a column of the table): a target-language SQuAD file."""

    name: str  # the column label, e.g. "CMRC dev"
    path: str
    lang: str | None = None
    # The set in the source language (same question ids), for Dual BERT rows: e.g. the
    # source.json that `rayqa translate-test` writes for it.
    source: str | None = None


class TableRowConfig(Section):
    """One row: a job config (its path relative to the table config) and how to run it.

    ``overrides`` may name other rows' outputs: ``{final:NAME}`` is row NAME's exported
    model (``<output_dir>/<row>/final``), ``{augmented:NAME}`` the augmented.json of a
    translate-test row run without sets (e.g. over the target training set), ``{dir:NAME}``
    the row's directory (a mixmrc row's ``{dir:NAME}/translated.en.json``).
    """

    name: str
    # mixmrc: the mixMRC translation job (report: false), e.g. Dual BERT's source side.
    kind: Literal["reader", "dual_bert", "translate_test", "mixmrc"]
    config: str
    overrides: list[str] = Field(default_factory=list)
    # translate_test rows: the system whose answers the row reports (translate_test,
    # simple_match, or an aligner's name from `aligners`).
    system: str = "translate_test"
    # False: run it for the rows after it (an S reader, an aligner, an augmented
    # training file), no table row.
    report: bool = True
    # reader rows: score model.name_or_path as it is, no training (a zero-shot row that
    # reports an earlier row's export: {final:ROW}).
    train: bool = True

    @model_validator(mode="after")
    def _kind_fits(self):
        if not self.train and self.kind != "reader":
            raise ValueError(f"row {self.name!r}: train: false is for reader rows")
        if self.report and self.kind == "mixmrc":
            raise ValueError(f"row {self.name!r}: a mixmrc row only feeds others: "
                             "report: false")
        return self


class CrossLingualTableConfig(Section):
    """``rayqa xl-table``: run a list of rows and tabulate EM / F1 per reported set
    (the cross-lingual MRC paper's Tables 2-4)."""

    output_dir: str
    sets: list[TableSetConfig] = Field(min_length=1)
    rows: list[TableRowConfig] = Field(min_length=1)
    # EM/F1 rules of every set: cmrc (Chinese by cmrc2018_evaluate.py) or mlqa.
    scoring: Literal["mlqa", "cmrc"] = "cmrc"

    @model_validator(mode="after")
    def _names_unique(self):
        for what, names in (("row", [r.name for r in self.rows]),
                            ("set", [s.name for s in self.sets])):
            if len(set(names)) != len(names):
                raise ValueError(f"{what} names must differ: {names}")
        return self
