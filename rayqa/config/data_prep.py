"""Data preparation jobs: passages from articles, translation, mixMRC, phrase mining."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from rayqa.config.base import DataFile, Section, as_data_files


class ArticleFile(Section):
    """One article file (or a directory of wikiextractor files) and how to read it."""

    path: str
    lang: str | None = None  # required for wikiextractor; a default for JSONL records
    format: Literal["jsonl", "wikiextractor"] = "jsonl"

    @model_validator(mode="after")
    def _wikiextractor_has_lang(self):
        if self.format == "wikiextractor" and not self.lang:
            raise ValueError(f"{self.path}: wikiextractor files need a lang")
        return self


class PassagesJobConfig(Section):
    """``jobs/make_passages.py``: articles into 100-token passages with Ray Data."""

    output_dir: str
    article_files: list[ArticleFile] = Field(default_factory=list)
    language_links: str | None = None
    xquad_dir: str | None = None
    xquad_langs: list[str] | None = None
    passage_tokens: int = Field(100, ge=1)
    min_article_tokens: int = Field(20, ge=0)
    strict: bool = False
    num_actors: int = Field(1, ge=1)
    cpus_per_actor: float = Field(1.0, gt=0)

    _files = field_validator("article_files", mode="before")(as_data_files)

    @model_validator(mode="after")
    def _one_source(self):
        if bool(self.article_files) == bool(self.xquad_dir):
            raise ValueError("give either article_files or xquad_dir (not both)")
        return self


_PAIR = re.compile(r"^[A-Za-z_]+-[A-Za-z_]+$")


class TranslatorConfig(Section):
    """A translator: MarianMT models per language pair, or a parallel corpus (XQuAD)."""

    kind: Literal["marian", "parallel"] = "marian"
    # marian: {"en-ar": "Helsinki-NLP/opus-mt-en-ar" or a local directory, ...}
    models: dict[str, str] = Field(default_factory=dict)
    # Target-language tokens per pair over CORA Table 11's (">>ara<<"; "" for none).
    prefixes: dict[str, str] = Field(default_factory=dict)
    batch_size: int = Field(32, ge=1)
    max_new_tokens: int = Field(128, ge=1)
    num_beams: int = Field(1, ge=1)
    num_actors: int = Field(1, ge=1)  # Ray Data actors for bulk translation
    use_gpu: bool = False  # one GPU per actor
    xquad_dir: str | None = None  # parallel: the xquad.<lang>.json directory
    langs: list[str] | None = None  # parallel: languages to load (None: all files)

    @field_validator("models", "prefixes")
    @classmethod
    def _pair_keys(cls, value: dict) -> dict:
        bad = [k for k in value if not _PAIR.match(k)]
        if bad:
            raise ValueError(f"keys must be language pairs like 'en-ar', got {bad}")
        return value

    @model_validator(mode="after")
    def _backend_has_source(self):
        if self.kind == "marian" and not self.models:
            raise ValueError("kind 'marian' needs models: {'src-tgt': path}")
        if self.kind == "parallel" and not self.xquad_dir:
            raise ValueError("kind 'parallel' needs xquad_dir")
        return self


class MixMRCJobConfig(Section):
    """``jobs/make_mixmrc.py``: translated and mixed-language MRC data (mixMRC, paper §3.1)."""

    output_dir: str
    # SQuAD v1.1 JSON in source_lang; the first answer of each question is translated.
    source_files: list[DataFile]
    source_lang: str = "en"
    target_langs: list[str] = Field(min_length=1)
    translator: TranslatorConfig
    # Mixed pairs kept per example, sampled with `seed` and the example id; None: all.
    max_pairs_per_example: int | None = Field(None, ge=1)
    seed: int = 0
    # CPUs per translation actor; below 1 leaves Ray Data's read tasks a CPU on 2 cores.
    cpus_per_actor: float = Field(0.5, gt=0)
    # true: translated.<lang>.json also holds the skipped instances, with their
    # translated question and passage and no answers - every source question once, as
    # Dual BERT's source side needs (configs/crosslingual/source_side.yaml: the target
    # training set translated into the source language with its answer marked; where
    # the span is lost the pair trains without the auxiliary loss).
    keep_skipped: bool = False
    strict: bool = False

    _files = field_validator("source_files", mode="before")(as_data_files)

    @model_validator(mode="after")
    def _langs_valid(self):
        if not self.source_files:
            raise ValueError("source_files needs at least one SQuAD file")
        if self.source_lang in self.target_langs or len(set(self.target_langs)) != len(
                self.target_langs):
            raise ValueError(f"target_langs must be distinct and differ from source_lang "
                             f"{self.source_lang!r}, got {self.target_langs}")
        for data_file in self.source_files:
            if data_file.lang not in (None, self.source_lang):
                raise ValueError(f"{data_file.path}: lang {data_file.lang!r} is not "
                                 f"source_lang {self.source_lang!r}")
        return self


class PhraseMiningConfig(Section):
    """``jobs/mine_phrases.py``: LAKM knowledge phrases from a search log (paper §3.2)."""

    # A candidate is kept when it occurs in at least this fraction of the result titles.
    threshold: float = Field(0.7, gt=0, le=1)
    # The n of the query n-grams that are phrase candidates (paper: 2, 3, 4).
    ngram_sizes: list[int] = Field(default_factory=lambda: [2, 3, 4], min_length=1)
    # Result texts longer than this are split into blank-line paragraphs (SQuAD-style).
    max_passage_chars: int = Field(1000, ge=1)
    # Queries with fewer results are bad lines (a phrase in 1 of 1 title says little).
    min_results: int = Field(1, ge=1)
    # Ray Data actors mining in parallel, each holding the segmenters and stop words.
    num_actors: int = Field(1, ge=1)
    # CPUs per actor; below 1 leaves Ray Data's read tasks a CPU on small machines.
    cpus_per_actor: float = Field(0.5, gt=0)
    # Log lines per batch handed to an actor.
    batch_size: int = Field(256, ge=1)
    # Fail at the first bad line (naming file and line) instead of counting it.
    strict: bool = False

    @field_validator("ngram_sizes")
    @classmethod
    def _sizes_positive(cls, value: list[int]) -> list[int]:
        if min(value) < 1:
            raise ValueError(f"ngram sizes must be positive, got {value}")
        return sorted(set(value))
