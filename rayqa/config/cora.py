"""CORA: mDPR and mGEN training, the iterative job (Algorithm 1) and its baselines."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from rayqa.config.base import DataFile, Section, as_data_files
from rayqa.config.data_prep import TranslatorConfig
from rayqa.config.index import IndexConfig
from rayqa.config.train import DataConfig, DeepSpeedConfig, TrainConfig

# Appendix A.2: the target languages of the paper's synthetic mGEN data.
PAPER_SYNTHETIC_LANGS = ("ar", "fi", "ja", "ko", "ru", "es", "sv", "he", "th", "da", "fr",
                         "it", "nl", "pl", "pt")


class BiEncoderConfig(Section):
    """mDPR's question and passage encoders and their input lengths."""

    name_or_path: str
    max_query_length: int = Field(64, ge=4)
    max_passage_length: int = Field(256, ge=16)


class MDPRDataConfig(Section):
    """mDPR training data: DPR JSONL or SQuAD JSON files, and hard negatives."""

    train_files: list[DataFile] = Field(default_factory=list)
    dev_files: list[DataFile] = Field(default_factory=list)
    hard_negatives: int = Field(1, ge=0)
    bm25_negatives: bool = False
    passages_files: list[DataFile] = Field(default_factory=list)
    strict: bool = False

    _files = field_validator("train_files", "dev_files", "passages_files",
                             mode="before")(as_data_files)


class MDPRJobConfig(Section):
    """``jobs/train_mdpr.py``: train the mDPR bi-encoder."""

    output_dir: str
    encoder: BiEncoderConfig
    data: MDPRDataConfig = Field(default_factory=MDPRDataConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)


class GeneratorConfig(Section):
    """mGEN (CORA): the mT5 checkpoint, its input/output lengths and decoding (paper Table 10)."""

    name_or_path: str
    max_source_length: int = Field(1000, ge=16)
    max_target_length: int = Field(25, ge=1)
    train_passages: int = Field(10, ge=0)  # top-k passages per training question
    eval_passages: int = Field(15, ge=0)  # top-k passages at dev evaluation and inference
    label_smoothing: float = Field(0.1, ge=0, lt=1)
    num_beams: int = Field(1, ge=1)  # beams for dev evaluation


def _mgen_train_defaults() -> TrainConfig:
    """Paper Table 10: per-GPU batch 2, accumulation 2, lr 3e-5, 500 warmup steps, ..."""
    return TrainConfig(run_name="mgen", batch_size=2, eval_batch_size=16, lr=3e-5,
                       weight_decay=0.001, warmup_steps=500, grad_accum=2, epochs=15,
                       deepspeed=DeepSpeedConfig(gradient_clipping=0.1))


class MGENDataConfig(DataConfig):
    """mGEN training and dev files (retrieval output), and synthetic examples that join
    the training data from an epoch on (CORA appendix A.2: after the third epoch)."""

    synthetic_files: list[DataFile] = Field(default_factory=list)
    # The first epoch (0-based) whose batches include the synthetic examples; the
    # epochs before it train on train_files alone.
    synthetic_from_epoch: int = Field(0, ge=0)

    _synthetic_files = field_validator("synthetic_files", mode="before")(as_data_files)


class MGENJobConfig(Section):
    """``jobs/train_mgen.py``: fine-tune mGEN on retrieval output (JSONL with ``ctxs``)."""

    output_dir: str
    model: GeneratorConfig
    data: MGENDataConfig = Field(default_factory=MGENDataConfig)
    train: TrainConfig = Field(default_factory=_mgen_train_defaults)


class CORAMDPRConfig(Section):
    """The mDPR part of a CORA round: encoders, hard negatives and Ray Train settings."""

    encoder: BiEncoderConfig
    hard_negatives: int = Field(1, ge=0)  # per question per step, from the mined negatives
    # Round 0 (no mined negatives yet): top hard negatives up with BM25 passages of the
    # collection in the question's language that contain no answer. The paper's initial
    # mDPR follows DPR (its NQ training file and hyperparameters: one BM25 hard negative
    # per question); it does not say which negatives its TyDi / XOR-TyDi stage used. Off
    # by default: the BM25 index is built over the whole collection on the driver.
    bm25_negatives: bool = False
    train: TrainConfig = Field(default_factory=lambda: TrainConfig(run_name="mdpr"))


class CORAMGENConfig(Section):
    """The mGEN part of a CORA round; ``model.train_passages`` / ``eval_passages`` are the
    top-k retrieved for training (paper: 10) and at inference (paper: 15)."""

    model: GeneratorConfig
    train: TrainConfig = Field(default_factory=_mgen_train_defaults)


class CORARetrievalConfig(Section):
    """Passage encoding (Ray Data actor pool), the FAISS index and batch retrieval."""

    index: IndexConfig = Field(default_factory=lambda: IndexConfig(bm25=False))
    batch_size: int = Field(32, ge=1)  # passages or questions per forward pass
    num_actors: int = Field(1, ge=1)
    cpus_per_actor: float = Field(1.0, gt=0)
    use_gpu: bool = False
    shard_mb: float = Field(32.0, gt=0)  # MiB of passages file per unit of work and resume
    recall_ks: list[int] = Field(default_factory=lambda: [1, 5, 10, 15])


class CORAMiningConfig(Section):
    """Cross-lingual data mining (paper §2.2.2) and synthetic mGEN data (appendix A.2)."""

    language_links: bool = True  # English questions: passages of linked articles
    # Linked passages per English question and round. None: all of them, as in the paper
    # (§2.2.2); a number caps them (languages interleaved) to bound mGEN labeling work
    # and memory on large collections.
    max_link_candidates: int | None = Field(None, ge=0)
    retrieved_candidates: int = Field(10, ge=0)  # top retrieved passages labeled too
    synthetic: bool = True
    # Target languages of synthetic data; None: every language with a translation.
    synthetic_langs: list[str] | None = Field(
        default_factory=lambda: list(PAPER_SYNTHETIC_LANGS))
    synthetic_max_langs: int = Field(10, ge=0)  # per English question (paper: 10)
    # Share of the synthetic lines kept, seeded (paper: 50%).
    synthetic_fraction: float = Field(0.5, ge=0, le=1)
    # Round 0's mGEN trains on them from this epoch (0-based) on (paper: after its third
    # epoch); later rounds continue from the previous round's mGEN and use them from the
    # start.
    synthetic_from_epoch: int = Field(3, ge=0)
    # English training questions are retrieved this deep; their first
    # mgen.model.train_passages English passages are the synthetic lines' P^En.
    synthetic_depth: int = Field(30, ge=1)
    parallel_key: str | None = "xquad_id"  # question field grouping parallel questions
    batch_size: int = Field(16, ge=1)  # mGEN labeling / dev generation per generate call
    num_actors: int = Field(1, ge=1)
    cpus_per_actor: float = Field(1.0, gt=0)
    use_gpu: bool = False
    seed: int = 0  # synthetic-language sampling and subsampling (plus the round number)


class CORASelectionConfig(Section):
    """Training questions held out to pick each round's mDPR and mGEN checkpoints (by
    dev average rank and dev F1), never trained on; the reporting ``dev_questions`` are
    never used for selection."""

    # JSONL of selection questions (the training format); training questions of the
    # same id (or parallel group) are left out of training. None: hold out `fraction`.
    questions: str | None = None
    # Share of the training questions (by parallel group, else id) held out; 0 selects
    # the latest checkpoints.
    fraction: float = Field(0.05, ge=0, lt=1)
    seed: int = 0  # of the held-out draw (the same split every round)


class CORAJobConfig(Section):
    """``jobs/cora.py``: CORA iterative training (paper Algorithm 1) as one job."""

    output_dir: str
    passages_file: str  # JSONL {id, title, text, lang, article_id = link entity}
    language_links: str | None = None  # translates entity answers for synthetic data
    train_questions: str  # JSONL {id, question, lang, answers, gold_passage_ids}
    dev_questions: str | None = None  # per-round metrics; None skips evaluation
    # Official rules the dev answers are scored with (rayqa.eval.score_open_qa): xor
    # (eval_xor_full.py F1/EM/BLEU, paper Table 1), mkqa (mkqa_eval.py, Table 2) or mlqa.
    scoring: Literal["xor", "mkqa", "mlqa"] = "xor"
    rounds: int = Field(2, ge=1)  # iterations of Algorithm 1; no mining after the last
    mdpr: CORAMDPRConfig
    mgen: CORAMGENConfig
    retrieval: CORARetrievalConfig = Field(default_factory=CORARetrievalConfig)
    mining: CORAMiningConfig = Field(default_factory=CORAMiningConfig)
    selection: CORASelectionConfig = Field(default_factory=CORASelectionConfig)
    strict: bool = False


class BaselinesJobConfig(Section):
    """``jobs/baselines.py``: CORA's baselines (BM25, MT+DPR, MT+Mono, closed-book)."""

    output_dir: str
    questions: str  # open-QA JSONL (XOR-TyDi style or MKQA) with gold answers
    # Per-language rules (rayqa.eval.score_open_qa): mlqa (EM/F1), xor (eval_xor_full.py
    # F1/EM/BLEU) or mkqa (mkqa_eval.py; MKQA language codes).
    scoring: Literal["mlqa", "xor", "mkqa"] = "mlqa"
    # Only questions with a gold answer run and count: MKQA's unanswerable and
    # long_answer questions are left out, as in the paper (footnote 10, appendix B.3).
    # False keeps them (mkqa scoring only: they count as "no answer" gold).
    answered_only: bool = True
    baselines: list[Literal["bm25", "mt_dpr", "mt_mono", "closed_book"]] = Field(
        default_factory=lambda: ["bm25", "mt_dpr", "mt_mono", "closed_book"])
    index_dir: str | None = None  # build_index output (passages, BM25 and dense)
    # Consecutive passages of one article per BM25 retrieval unit (paper B.7: 2
    # paragraphs); the unit BM25 is built from index_dir's passages each run. 1: the
    # index's own per-passage BM25.
    bm25_unit_passages: int = Field(2, ge=1)
    # build_index output over pivot-language passages only (the paper's English DPR
    # index) for MT+DPR. None: index_dir's dense hits, dense_depth deep, filtered to the
    # pivot language.
    mt_dpr_index_dir: str | None = None
    reader: str | None = None  # extractive reader for BM25 / MT+DPR / MT+Mono
    generator: str | None = None  # mGEN checkpoint for closed-book
    translator: TranslatorConfig | None = None  # question -> pivot, answer -> question lang
    pivot_lang: str = "en"
    top_k: int = Field(10, ge=1)  # units (BM25) or passages (MT+DPR) read (paper B.7: 10)
    dense_depth: int = Field(100, ge=1)  # without mt_dpr_index_dir: hits searched for top_k
    mono_threshold: float = Field(0.5, ge=0, le=1)  # MT+Mono (paper B.8)
    strict: bool = False

    @model_validator(mode="after")
    def _parts_present(self):
        need = {"bm25": ("index_dir", "reader"), "mt_dpr": ("reader", "translator"),
                "mt_mono": ("index_dir", "reader", "translator"), "closed_book": ("generator",)}
        for name in self.baselines:
            missing = [key for key in need[name] if getattr(self, key) is None]
            if name == "mt_dpr" and not (self.index_dir or self.mt_dpr_index_dir):
                missing.append("index_dir or mt_dpr_index_dir")
            if missing:
                raise ValueError(f"baseline {name!r} needs {', '.join(missing)}")
        if not self.answered_only and self.scoring != "mkqa":
            raise ValueError("answered_only: false needs scoring: mkqa (the MLQA and XOR "
                             "rules score only questions with a gold answer)")
        return self
