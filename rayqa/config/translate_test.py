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
