"""Dense passage and query embeddings, in one process or as a Ray Data actor pool.

Passages are encoded as `[CLS] title [SEP] text [SEP]` and questions as
`[CLS] question [SEP]` by the same encoder (DPR's input format), pooled to one vector
by the `[CLS]` state or the mean of the token states. `TextEncoder` holds the model;
`HashingEncoder` is a model-free stand-in with the same interface for scale tests and
benchmarks of the data plane. `UnitEncoder` is the Ray Data step `build_index` runs: it reads a
unit (a byte range of a passages file) from storage, encodes it and writes its
passages and vectors back to storage (`rayqa.retrieval.embedding_shards`), so only
counts travel back to the driver.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict

import numpy as np

from rayqa import storage
from rayqa.config import EncoderConfig
from rayqa.data.passages import read_passage_range
from rayqa.data.records import BadRecord, DataError
from rayqa.retrieval.embedding_shards import EmbeddingShards, Unit

HASHING_DIM = 64  # vector size of HashingEncoder


class TextEncoder:
    """An `AutoModel` encoder that turns texts (or title/text pairs) into vectors.

    Args:
        name_or_path: A `from_pretrained` directory or hub name (local only when offline).
        max_length: Longest input in tokens; the passage text (second segment) is cut.
        pooling: `cls` takes the `[CLS]` state, `mean` averages the non-padding states.
        device: `cuda` or `cpu`; None picks `cuda` when available.
    """

    def __init__(self, name_or_path: str, max_length: int = 256, pooling: str = "cls",
                 device: str | None = None):
        import torch
        from transformers import AutoModel, AutoTokenizer

        if pooling not in ("cls", "mean"):
            raise ValueError(f"pooling must be 'cls' or 'mean', got {pooling!r}")
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.max_length = max_length
        self.pooling = pooling
        name_or_path = storage.local_model(name_or_path)  # s3:// -> verified local copy
        self.tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        self.model = AutoModel.from_pretrained(name_or_path).to(self.device).eval()

    def encode_passages(self, titles: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        """Returns float32 `[n, dim]` embeddings of `[CLS] title [SEP] text [SEP]`."""
        # only_second: a long passage loses its tail, never its title.
        inputs = self.tokenizer(list(titles), list(texts), truncation="only_second",
                                max_length=self.max_length, padding=True, return_tensors="pt")
        return self._embed(inputs)

    def encode_passages_batched(self, titles: Sequence[str], texts: Sequence[str],
                                batch_size: int) -> np.ndarray:
        """`encode_passages` over `batch_size` passages at a time; `[n, dim]` float32."""
        chunks = [self.encode_passages(titles[i:i + batch_size], texts[i:i + batch_size])
                  for i in range(0, len(titles), batch_size)]
        return np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32)

    def encode_queries(self, questions: Sequence[str]) -> np.ndarray:
        """Returns float32 `[n, dim]` embeddings of `[CLS] question [SEP]`."""
        inputs = self.tokenizer(list(questions), truncation=True, max_length=self.max_length,
                                padding=True, return_tensors="pt")
        return self._embed(inputs)

    def _embed(self, inputs) -> np.ndarray:
        import torch

        inputs = {name: tensor.to(self.device) for name, tensor in inputs.items()}
        with torch.inference_mode():
            states = self.model(**inputs).last_hidden_state
        if self.pooling == "cls":
            pooled = states[:, 0]
        else:
            mask = inputs["attention_mask"].unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return pooled.float().cpu().numpy()


def encode_passages_local(rows: Iterable[dict], cfg: EncoderConfig) -> np.ndarray:
    """Encodes passages in this process, `cfg.batch_size` at a time.

    The baseline of `bench/encode.py` and the reference the Ray pipeline must match.

    Args:
        rows: Dicts with `title` and `text`.
        cfg: The encoder settings.

    Returns:
        Float32 `[len(rows), dim]` embeddings in the order of `rows`.
    """
    encoder = build_encoder(**encoder_args(cfg))
    rows = list(rows)
    return encoder.encode_passages_batched([r["title"] for r in rows], [r["text"] for r in rows],
                                           cfg.batch_size)


class HashingEncoder:
    """Model-free vectors with `TextEncoder`'s interface: L2-normalized counts of hashed
    words (crc32 modulo `HASHING_DIM`).

    Only for measuring and testing the data plane at sizes where a transformer would
    take hours on a CPU: deterministic everywhere, no retrieval quality to speak of.

    Args:
        name_or_path: Ignored (the interface's).
        max_length: Most words read per input.
        pooling: Ignored.
        device: Ignored.
    """

    def __init__(self, name_or_path: str = "", max_length: int = 256, pooling: str = "cls",
                 device: str | None = None):
        self.max_length = max_length

    def encode_passages(self, titles: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        """Float32 `[n, HASHING_DIM]` vectors of `title text`."""
        return self._embed([f"{title} {text}" for title, text in zip(titles, texts)])

    def encode_passages_batched(self, titles: Sequence[str], texts: Sequence[str],
                                batch_size: int) -> np.ndarray:
        """`encode_passages` (no batches needed)."""
        return self.encode_passages(titles, texts)

    def encode_queries(self, questions: Sequence[str]) -> np.ndarray:
        """Float32 `[n, HASHING_DIM]` vectors of the questions."""
        return self._embed(list(questions))

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), HASHING_DIM), np.float32)
        for i, text in enumerate(texts):
            words = text.lower().split()[:self.max_length]
            out[i] = np.bincount([zlib.crc32(w.encode()) % HASHING_DIM for w in words],
                                 minlength=HASHING_DIM)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


ENCODERS = {"transformer": TextEncoder, "hashing": HashingEncoder}


def build_encoder(kind: str = "transformer", **kwargs) -> TextEncoder | HashingEncoder:
    """The encoder of `kind` (`transformer` or `hashing`) built from `TextEncoder`'s
    arguments (`name_or_path`, `max_length`, `pooling`, `device`)."""
    return ENCODERS[kind](**kwargs)


def encoder_args(cfg: EncoderConfig) -> dict:
    """`build_encoder` arguments of an `EncoderConfig` (CPU unless `use_gpu`)."""
    return {"kind": cfg.kind, "name_or_path": cfg.name_or_path, "max_length": cfg.max_length,
            "pooling": cfg.pooling, "device": "cuda" if cfg.use_gpu else "cpu"}


class UnitEncoder:
    """Ray Data step: reads, encodes and writes whole units of an index build.

    Each input row is one unit (`unit`: its JSON, see `embedding_shards.Unit`). The
    actor reads the unit's byte range straight from storage, encodes its passages
    `batch_size` at a time and writes passages, vectors and the unit's manifest under
    the index directory, so only a count (or, in strict mode, the first bad record)
    travels back to the driver, and a killed run loses at most the units in flight.

    Args:
        directory: The index directory, absolute or a URI (actors have their own cwd).
        strict: Stop a unit at its first bad line and return it as `error`.
        batch_size: Passages per forward pass.
        num_threads: Torch threads; the actor's CPUs, since Ray pins OMP_NUM_THREADS to
            1 for fractional CPUs and torch would otherwise size itself to the machine.
        langs: Keep only passages in these languages; None keeps every passage.
        **encoder: `build_encoder` arguments.
    """

    def __init__(self, directory: str, strict: bool, batch_size: int, num_threads: int,
                 langs: list[str] | None = None, **encoder):
        if encoder.get("kind", "transformer") == "transformer":
            import torch

            torch.set_num_threads(num_threads)
        self.encoder = build_encoder(**encoder)
        self.shards = EmbeddingShards(directory)
        self.strict, self.batch_size = strict, batch_size
        self.langs = None if langs is None else frozenset(langs)
        self.node = _node_id()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = [self.encode_unit(json.loads(str(unit))) for unit in batch["unit"]]
        return {"unit": np.asarray([r[0] for r in results], np.int64),
                "count": np.asarray([r[1] for r in results], np.int64),
                "error": np.asarray([r[2] for r in results], dtype=object)}

    def encode_unit(self, unit: dict) -> tuple[int, int, str]:
        """Encodes and writes one unit; returns `(number, passages, error JSON or "")`."""
        unit = Unit(**unit)
        try:
            part = read_passage_range(unit.path, unit.start, unit.end, self.strict)
        except DataError as err:
            return unit.number, 0, json.dumps(asdict(err.record), ensure_ascii=False)
        passages = [p for p in part.passages if self.langs is None or p.lang in self.langs]
        vectors = self.encoder.encode_passages_batched([p.title for p in passages],
                                                       [p.text for p in passages],
                                                       self.batch_size)
        self.shards.write(unit, passages, vectors, part.lines, part.report, self.node)
        return unit.number, len(passages), ""


def _node_id() -> str | None:
    """The Ray node this process runs on, None outside Ray."""
    import ray

    return ray.get_runtime_context().get_node_id() if ray.is_initialized() else None


def encode_units(directory: str, units: Sequence, cfg: EncoderConfig, strict: bool,
                 langs: list[str] | None = None) -> int:
    """Encodes `units` with a Ray Data actor pool of `UnitEncoder`s; returns passages encoded
    (only those in `langs`, when given).

    The pool autoscales between `cfg.pool_size()` actors (never more than units), each
    with `cpus_per_actor` CPUs, `gpus_per_actor` GPUs when `use_gpu`, and the custom
    resources and node labels of the config. Only the unit descriptors travel from the
    driver; the passages never pass through it.

    Raises:
        DataError: In strict mode, at the first bad line met (file and line named).
        ValueError: A unit is still missing after the pool finished.
    """
    import ray
    from ray.data import ActorPoolStrategy

    if not units:
        return 0
    low, high = (min(size, len(units)) for size in cfg.pool_size())
    # One block per unit, so that the pool's actors take units independently.
    ds = ray.data.from_items([{"unit": json.dumps(u.to_dict())} for u in units],
                             override_num_blocks=len(units)).map_batches(
        UnitEncoder,
        batch_size=1,
        compute=ActorPoolStrategy(min_size=low, max_size=high),
        num_cpus=cfg.cpus_per_actor,
        num_gpus=cfg.gpus_per_actor if cfg.use_gpu else 0,
        resources=cfg.resources or None,
        label_selector=cfg.label_selector or None,
        fn_constructor_kwargs={"directory": directory, "strict": strict, "langs": langs,
                               "batch_size": cfg.batch_size,
                               "num_threads": max(1, int(cfg.cpus_per_actor)),
                               **encoder_args(cfg)},
    )
    encoded = 0
    for batch in ds.iter_batches(batch_format="numpy", batch_size=None):
        for error in batch["error"]:
            if error:
                raise DataError(BadRecord(**json.loads(error)))
        encoded += int(batch["count"].sum())
    return encoded
