"""Typed, validated configuration: YAML files plus dotted command-line overrides.

Each component has its own config model (``ModelConfig``, ``TrainConfig``, ...); a job
config groups the ones that job needs, and code receives only its component's part
(``cfg.train``, never the whole tree). Unknown keys and wrong types fail with the file
and the dotted key named. The resolved config is written next to every output so a
checkpoint always says what made it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONFIG_FILENAME = "rayqa_config.yaml"


class ConfigError(ValueError):
    """A config file or override is invalid; the message names the file and the key."""


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)


class DataFile(Section):
    """One data file and, where the file does not say it, its language."""

    path: str
    lang: str | None = None


def _as_data_files(value):
    """Accept plain paths as shorthand for ``{"path": ...}``."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [{"path": v} if isinstance(v, str) else v for v in value]
    return value


class ModelConfig(Section):
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


class DataConfig(Section):
    """Training and dev files (SQuAD v1.1 JSON) and how strictly to read them."""

    train_files: list[DataFile] = Field(default_factory=list)
    dev_files: list[DataFile] = Field(default_factory=list)
    strict: bool = False

    _files = field_validator("train_files", "dev_files", mode="before")(_as_data_files)


class DeepSpeedConfig(Section):
    """The parts of a DeepSpeed config rayqa exposes; the rest follows from TrainConfig."""

    zero_stage: int = Field(1, ge=0, le=3)
    bf16: Literal["auto", "on", "off"] = "auto"
    gradient_clipping: float = Field(1.0, ge=0)


class TrainConfig(Section):
    """Ray Train + DeepSpeed settings for one training job."""

    run_name: str = "reader"
    storage_path: str | None = None
    num_workers: int = Field(2, ge=0)
    use_gpu: bool = False
    cpus_per_worker: float = Field(1.0, gt=0)
    epochs: int = Field(2, ge=1)
    max_steps: int = Field(-1, ge=-1)
    batch_size: int = Field(16, ge=1)
    eval_batch_size: int = Field(64, ge=1)
    lr: float = Field(3e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, le=1)
    # Warmup in optimizer steps; when set it replaces warmup_ratio (mGEN: 500).
    warmup_steps: int | None = Field(None, ge=0)
    # Micro-batches per optimizer step (DeepSpeed gradient accumulation).
    grad_accum: int = Field(1, ge=1)
    seed: int = 42
    # Progress line every this many optimizer steps, and at least every progress_every_s.
    log_every: int = Field(10, ge=1)
    progress_every_s: float = Field(30.0, gt=0)
    # Evaluate and checkpoint every this many epochs (and always at the end).
    checkpoint_every: int = Field(1, ge=1)
    # Also checkpoint (without dev evaluation) every this many optimizer steps; 0: off.
    # A restarted worker group resumes from the latest one, so a lost worker costs at
    # most this many steps.
    checkpoint_every_steps: int = Field(0, ge=0)
    # Checkpoints retained: the best by the dev metric (plus always the latest, for
    # resume); each holds the full DeepSpeed optimizer state. None keeps all.
    checkpoints_to_keep: int | None = Field(2, ge=1)
    # Worker-group failures (a lost worker or node) a run recovers from by restarting
    # from its latest checkpoint; -1 retries forever (Ray Train FailureConfig).
    max_failures: int = Field(2, ge=-1)
    deepspeed: DeepSpeedConfig = Field(default_factory=DeepSpeedConfig)


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

    _files = field_validator("files", mode="before")(_as_data_files)

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

    @model_validator(mode="after")
    def _split_fits(self):
        if self.mask_token_prob + self.random_token_prob > 1:
            raise ValueError("mask_token_prob + random_token_prob must be at most 1")
        if self.stride >= self.max_seq_length - 2:
            raise ValueError("stride must be below max_seq_length - 2")
        return self


def _mrc_only() -> list[TaskConfig]:
    return [TaskConfig(name="mrc")]


class ReaderJobConfig(Section):
    """``jobs/train.py``: fine-tune an extractive reader, alone or with mixMRC / LAKM."""

    output_dir: str
    model: ModelConfig
    data: DataConfig = Field(default_factory=DataConfig)
    tasks: list[TaskConfig] = Field(default_factory=_mrc_only)
    lakm: LAKMConfig = Field(default_factory=LAKMConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)

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


class EncoderConfig(Section):
    """Passage encoder for the dense index, and the Ray Data actor pool that runs it."""

    name_or_path: str
    # "transformer": an AutoModel checkpoint; "hashing": a model-free vector of hashed
    # words (scale tests and benchmarks of the data plane only, no retrieval quality).
    kind: Literal["transformer", "hashing"] = "transformer"
    max_length: int = Field(256, ge=8)
    pooling: Literal["cls", "mean"] = "cls"
    batch_size: int = Field(32, ge=1)
    # A fixed pool of num_actors, or an autoscaling one between min_actors and max_actors.
    num_actors: int = Field(1, ge=1)
    min_actors: int | None = Field(None, ge=1)
    max_actors: int | None = Field(None, ge=1)
    cpus_per_actor: float = Field(1.0, gt=0)  # also the actor's torch threads (at least 1)
    use_gpu: bool = False
    gpus_per_actor: float = Field(1.0, gt=0, le=1)  # with use_gpu; fractions share a GPU
    # Custom resources each actor needs, and labels its node must carry: pins encoding
    # to GPU nodes (or, in tests, to one node of a cluster).
    resources: dict[str, float] = Field(default_factory=dict)
    label_selector: dict[str, str] = Field(default_factory=dict)
    # MiB of passages file per unit of work, write and resume (gzipped files: one unit).
    shard_mb: float = Field(32.0, gt=0)

    @model_validator(mode="after")
    def _pool_valid(self):
        if (self.min_actors is None) != (self.max_actors is None):
            raise ValueError("set both min_actors and max_actors (or neither: num_actors)")
        if self.min_actors is not None and self.min_actors > self.max_actors:
            raise ValueError(f"min_actors {self.min_actors} > max_actors {self.max_actors}")
        return self

    def pool_size(self) -> tuple[int, int]:
        """The pool's ``(min, max)`` actors."""
        if self.min_actors is None:
            return self.num_actors, self.num_actors
        return self.min_actors, self.max_actors


class IndexConfig(Section):
    """FAISS index (factory string, inner product) and the per-language BM25 indexes."""

    factory: str = "Flat"
    bm25: bool = True
    train_sample: int = Field(100_000, ge=1)
    search_params: str = ""  # FAISS ParameterSpace string, e.g. "nprobe=16" for IVF
    num_shards: int = Field(1, ge=1)  # FAISS shards searched one by one, top-k merged


class IndexJobConfig(Section):
    """``jobs/build_index.py``: encode passages with Ray Data and write the indexes."""

    output_dir: str
    passages_files: list[DataFile]
    encoder: EncoderConfig
    index: IndexConfig = Field(default_factory=IndexConfig)
    strict: bool = False

    _files = field_validator("passages_files", mode="before")(_as_data_files)


ConfigT = TypeVar("ConfigT", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads ``3e-5`` as a float (YAML 1.1 wants ``3.0e-5``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def parse_yaml(text: str):
    """Parse YAML text with rayqa's float rule."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def apply_override(tree: dict, override: str) -> None:
    """Apply one ``a.b.c=value`` override in place; the value is parsed as YAML."""
    key, sep, raw = override.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {override!r}: expected dotted.key=value")
    parts = key.strip().split(".")
    node = tree
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"override {override!r}: {part!r} is not a section")
        node = child
    node[parts[-1]] = parse_yaml(raw) if raw.strip() else ""


def _format_errors(source: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "<root>"
        lines.append(f"{source}: {key}: {e['msg']}")
    return "\n".join(lines)


def build_config(cls: type[ConfigT], tree: dict, source: str = "<config>") -> ConfigT:
    """Validate a plain dict into ``cls``; errors name ``source`` and every bad key."""
    try:
        return cls.model_validate(tree)
    except ValidationError as err:
        raise ConfigError(_format_errors(source, err)) from None


def load_config(cls: type[ConfigT], path: str | Path | None = None,
                overrides: list[str] | None = None, defaults: dict | None = None) -> ConfigT:
    """Load ``path`` (YAML) over ``defaults``, apply dotted overrides, validate.

    Args:
        cls: the job config model.
        path: YAML file; ``None`` uses ``defaults`` only.
        overrides: ``["train.lr=3e-5", ...]``, applied after the file.
        defaults: a dict the file is merged over (e.g. embedded demo defaults).
    """
    tree = _deep_merge(defaults or {}, _read_yaml(path) if path else {})
    for override in overrides or []:
        apply_override(tree, override)
    source = str(path) if path else "<defaults>"
    if overrides:
        source += " (with overrides " + " ".join(overrides) + ")"
    return build_config(cls, tree, source)


BASE_KEY = "base"  # a config file may extend another: `base: baseline.yaml`


def _read_yaml(path: str | Path, seen: tuple[Path, ...] = ()) -> dict:
    """The file's tree, merged over the file its ``base`` key names (relative to it)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    if path.resolve() in seen:
        raise ConfigError(f"{path}: base configs form a cycle")
    try:
        tree = parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: invalid YAML: {err}") from None
    if tree is None:
        return {}
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(tree).__name__}")
    base = tree.pop(BASE_KEY, None)
    if base is None:
        return tree
    if not isinstance(base, str):
        raise ConfigError(f"{path}: {BASE_KEY} must be a file name, got {base!r}")
    return _deep_merge(_read_yaml(path.parent / base, (*seen, path.resolve())), tree)


def _deep_merge(base: dict, top: dict) -> dict:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def save_config(cfg: BaseModel, directory: str | Path) -> str:
    """Write the resolved config as ``rayqa_config.yaml`` into ``directory`` (path or URI)."""
    from rayqa import storage

    location = storage.join(directory, CONFIG_FILENAME)
    storage.write_text(location, yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False,
                                                allow_unicode=True))
    return location


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
                             mode="before")(_as_data_files)


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


class MGENJobConfig(Section):
    """``jobs/train_mgen.py``: fine-tune mGEN on retrieval output (JSONL with ``ctxs``)."""

    output_dir: str
    model: GeneratorConfig
    data: DataConfig = Field(default_factory=DataConfig)
    train: TrainConfig = Field(default_factory=_mgen_train_defaults)


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

    _files = field_validator("article_files", mode="before")(_as_data_files)

    @model_validator(mode="after")
    def _one_source(self):
        if bool(self.article_files) == bool(self.xquad_dir):
            raise ValueError("give either article_files or xquad_dir (not both)")
        return self


class CORAMDPRConfig(Section):
    """The mDPR part of a CORA round: encoders, hard negatives and Ray Train settings."""

    encoder: BiEncoderConfig
    hard_negatives: int = Field(1, ge=0)  # per question per step, from the mined negatives
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
    max_link_candidates: int = Field(20, ge=0)  # per English question and round
    retrieved_candidates: int = Field(10, ge=0)  # top retrieved passages labeled too
    synthetic: bool = True
    synthetic_langs: list[str] | None = None  # None: every language of the collection
    synthetic_max_langs: int = Field(10, ge=0)  # per English question (paper: 10)
    parallel_key: str | None = "xquad_id"  # question field grouping parallel questions
    batch_size: int = Field(16, ge=1)  # mGEN labeling / dev generation per generate call
    num_actors: int = Field(1, ge=1)
    cpus_per_actor: float = Field(1.0, gt=0)
    use_gpu: bool = False
    seed: int = 0  # synthetic-language sampling (plus the round number)


class CORAJobConfig(Section):
    """``jobs/cora.py``: CORA iterative training (paper Algorithm 1) as one job."""

    output_dir: str
    passages_file: str  # JSONL {id, title, text, lang, article_id = link entity}
    language_links: str | None = None  # translates entity answers for synthetic data
    train_questions: str  # JSONL {id, question, lang, answers, gold_passage_ids}
    dev_questions: str | None = None  # per-round metrics; None skips evaluation
    rounds: int = Field(2, ge=1)  # iterations of Algorithm 1; no mining after the last
    mdpr: CORAMDPRConfig
    mgen: CORAMGENConfig
    retrieval: CORARetrievalConfig = Field(default_factory=CORARetrievalConfig)
    mining: CORAMiningConfig = Field(default_factory=CORAMiningConfig)
    strict: bool = False


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


class BaselinesJobConfig(Section):
    """``jobs/baselines.py``: CORA's baselines (BM25, MT+DPR, MT+Mono, closed-book)."""

    output_dir: str
    questions: str  # open-QA JSONL (XOR-TyDi style or MKQA) with gold answers
    scoring: Literal["mlqa", "xor"] = "mlqa"  # per-language EM/F1 rules
    baselines: list[Literal["bm25", "mt_dpr", "mt_mono", "closed_book"]] = Field(
        default_factory=lambda: ["bm25", "mt_dpr", "mt_mono", "closed_book"])
    index_dir: str | None = None  # build_index output (BM25 and dense)
    reader: str | None = None  # extractive reader for BM25 / MT+DPR / MT+Mono
    generator: str | None = None  # mGEN checkpoint for closed-book
    translator: TranslatorConfig | None = None  # question -> pivot, answer -> question lang
    pivot_lang: str = "en"
    top_k: int = Field(10, ge=1)  # passages read per question (paper B.7: top 10)
    dense_depth: int = Field(100, ge=1)  # dense hits searched for top_k pivot passages
    mono_threshold: float = Field(0.5, ge=0, le=1)  # MT+Mono (paper B.8)
    strict: bool = False

    @model_validator(mode="after")
    def _parts_present(self):
        need = {"bm25": ("index_dir", "reader"), "mt_dpr": ("index_dir", "reader", "translator"),
                "mt_mono": ("index_dir", "reader", "translator"), "closed_book": ("generator",)}
        for name in self.baselines:
            missing = [key for key in need[name] if getattr(self, key) is None]
            if missing:
                raise ValueError(f"baseline {name!r} needs {', '.join(missing)}")
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
    strict: bool = False

    _files = field_validator("source_files", mode="before")(_as_data_files)

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
