"""The index job: the passage encoder's actor pool, FAISS and BM25."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from rayqa.config.base import DataFile, Section, as_data_files


class EncoderConfig(Section):
    """Passage encoder for the dense index, and the Ray Data actor pool that runs it."""

    name_or_path: str
    # The encoder of questions, recorded in the index manifest for the retriever (and
    # the Serve app) to load: null takes an mDPR export's own query_encoder beside a
    # passage_encoder, else the passage encoder itself. CORA records round 0's query
    # encoder (its inference rule: first-round queries, last-round passages).
    query_name_or_path: str | None = None
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
    # Index only passages in these languages (e.g. [en]: the English index of CORA's
    # MT+DPR baseline from the multilingual collection); null: every passage.
    langs: list[str] | None = None
    strict: bool = False

    _files = field_validator("passages_files", mode="before")(as_data_files)
