"""Dense passage and query embeddings, in one process or as a Ray Data actor pool.

Passages are encoded as `[CLS] title [SEP] text [SEP]` and questions as
`[CLS] question [SEP]` by the same encoder (DPR's input format), pooled to one vector
by the `[CLS]` state or the mean of the token states. `TextEncoder` holds the model;
`PassageEncoder` is the Ray Data step over batches with `title` and `text` columns;
`ShardEncoder` is the step that encodes whole shards and writes them to disk, which
`encode_to_shards` runs over the shards a previous run did not finish.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from rayqa.config import EncoderConfig

EMBEDDING = "embedding"  # the column PassageEncoder adds
ROW = "row"  # passage row number: Ray Data does not keep the order, so rows travel along


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
        self.tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        self.model = AutoModel.from_pretrained(name_or_path).to(self.device).eval()

    @classmethod
    def from_config(cls, cfg: EncoderConfig, device: str | None = None) -> TextEncoder:
        """Builds the encoder an `EncoderConfig` describes (CPU unless `use_gpu`)."""
        return cls(cfg.name_or_path, cfg.max_length, cfg.pooling,
                   device or (None if cfg.use_gpu else "cpu"))

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


class PassageEncoder(TextEncoder):
    """Ray Data step: adds an `embedding` column (float32 `[n, dim]`) to a passage batch.

    The model loads in `__init__`, i.e. once per actor of the pool. Batches need the
    columns `title` and `text`; every other column passes through.
    """

    INPUT_COLUMNS = ("title", "text")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        missing = [name for name in self.INPUT_COLUMNS if name not in batch]
        if missing:
            raise ValueError(f"PassageEncoder needs columns {missing}; got {sorted(batch)}")
        batch[EMBEDDING] = self.encode_passages([str(t) for t in batch["title"]],
                                                [str(t) for t in batch["text"]])
        return batch


def encode_passages_local(rows: Iterable[dict], cfg: EncoderConfig) -> np.ndarray:
    """Encodes passages in this process, `cfg.batch_size` at a time.

    The baseline of `bench/encode.py` and the reference the Ray pipeline must match.

    Args:
        rows: Dicts with `title` and `text`.
        cfg: The encoder settings.

    Returns:
        Float32 `[len(rows), dim]` embeddings in the order of `rows`.
    """
    encoder = TextEncoder.from_config(cfg)
    rows = list(rows)
    return encoder.encode_passages_batched([r["title"] for r in rows], [r["text"] for r in rows],
                                           cfg.batch_size)


def encode_dataset(ds, cfg: EncoderConfig):
    """Adds the `embedding` column to a Ray Dataset with an actor pool of encoders.

    Each actor holds one model and `cfg.cpus_per_actor` CPUs (one GPU when `use_gpu`).
    Leave CPUs free beside the pool: the tasks that read and move blocks need them too,
    and a pool that takes every CPU stalls the stream.

    Args:
        ds: A `ray.data.Dataset` with `title` and `text` columns.
        cfg: The encoder settings.

    Returns:
        The lazy Dataset with `embedding` added.
    """
    from ray.data import ActorPoolStrategy

    return ds.map_batches(
        PassageEncoder,
        compute=ActorPoolStrategy(size=cfg.num_actors),
        batch_size=cfg.batch_size,
        num_cpus=cfg.cpus_per_actor,
        num_gpus=1 if cfg.use_gpu else 0,
        fn_constructor_kwargs={"name_or_path": cfg.name_or_path, "max_length": cfg.max_length,
                               "pooling": cfg.pooling,
                               "device": "cuda" if cfg.use_gpu else "cpu"},
    )


def encode_passages_ray(rows: Sequence[dict], cfg: EncoderConfig) -> np.ndarray:
    """Encodes passages with Ray Data and returns the embeddings in the order of `rows`.

    Only `title`, `text` and the row number travel to the actors; results stream back
    and are written into one array by row number, since the pool may reorder blocks.

    Args:
        rows: Dicts with `title` and `text`.
        cfg: The encoder settings.

    Returns:
        Float32 `[len(rows), dim]` embeddings.
    """
    import ray

    items = [{ROW: i, "title": r["title"], "text": r["text"]} for i, r in enumerate(rows)]
    # Several blocks per actor so that encoding streams instead of waiting on one block.
    blocks = max(1, min(len(items) // cfg.batch_size, 8 * cfg.num_actors))
    ds = encode_dataset(ray.data.from_items(items, override_num_blocks=blocks), cfg)
    out: np.ndarray | None = None
    # No select_columns: that would be one more task stage competing for the CPUs.
    for batch in ds.iter_batches(batch_format="numpy"):
        emb = np.asarray(batch[EMBEDDING], dtype=np.float32)
        if out is None:
            out = np.zeros((len(items), emb.shape[1]), np.float32)
        out[batch[ROW]] = emb
    if out is None:
        raise ValueError("no passages to encode")
    return out


class ShardEncoder(TextEncoder):
    """Ray Data step: encodes whole embedding shards and writes them to disk.

    Each input row is one shard: `shard` (its number) and the lists `title` and `text`
    of its passages. The actor encodes them `batch_size` at a time and writes the shard
    atomically into the embeddings directory (shared storage on a cluster), so only a
    shard number and a row count travel back to the driver, and a killed run loses at
    most the shards in flight.

    Args:
        directory: The embeddings directory (see `rayqa.retrieval.shards`).
        count: Number of passage rows in the whole collection.
        shard_size: Rows per shard.
        batch_size: Passages per forward pass.
        **encoder: `TextEncoder` arguments (`name_or_path`, `max_length`, ...).
    """

    def __init__(self, directory: str, count: int, shard_size: int, batch_size: int,
                 **encoder):
        from rayqa.retrieval.shards import EmbeddingShards

        super().__init__(**encoder)
        self.store = EmbeddingShards(directory, count, shard_size)
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        counts = []
        for shard, titles, texts in zip(batch["shard"], batch["title"], batch["text"]):
            vectors = self.encode_passages_batched([str(t) for t in titles],
                                                   [str(t) for t in texts], self.batch_size)
            self.store.write(int(shard), vectors)
            counts.append(len(vectors))
        return {"shard": np.asarray(batch["shard"], np.int64), "count": np.asarray(counts)}


def encode_to_shards(rows: Sequence[dict], directory: str | Path, cfg: EncoderConfig,
                     fingerprint: dict) -> list[int]:
    """Encodes the passages of the missing embedding shards with a Ray Data actor pool.

    Finished shards (manifest present, checksums right, same plan) are skipped, so a
    rerun after a crash or a kill encodes only what is missing.

    Args:
        rows: Dicts with `title` and `text`, in row order.
        directory: The embeddings directory.
        cfg: The encoder settings (`shard_size` rows per shard).
        fingerprint: What else decides the vectors (encoder facts, passages checksum);
            shards written under another fingerprint are discarded first.

    Returns:
        The shard numbers encoded by this call (empty when all were done).

    Raises:
        ValueError: A shard is still missing after the pool finished.
    """
    import ray
    from ray.data import ActorPoolStrategy

    from rayqa.retrieval.shards import EmbeddingShards

    store = EmbeddingShards(directory, len(rows), cfg.shard_size)
    store.prepare(fingerprint)
    todo = store.missing()
    if not todo:
        return []
    items = [{"shard": shard, "title": [r["title"] for r in rows[slice(*store.bounds(shard))]],
              "text": [r["text"] for r in rows[slice(*store.bounds(shard))]]} for shard in todo]
    # One block per shard, so the pool's actors take shards independently.
    ds = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        ShardEncoder,
        compute=ActorPoolStrategy(size=min(cfg.num_actors, len(todo))),
        batch_size=1,
        num_cpus=cfg.cpus_per_actor,
        num_gpus=1 if cfg.use_gpu else 0,
        fn_constructor_kwargs={"directory": str(directory), "count": len(rows),
                               "shard_size": cfg.shard_size, "batch_size": cfg.batch_size,
                               "name_or_path": cfg.name_or_path, "max_length": cfg.max_length,
                               "pooling": cfg.pooling,
                               "device": "cuda" if cfg.use_gpu else "cpu"},
    )
    for _ in ds.iter_batches(batch_format="numpy"):
        pass  # the shards are on disk; the stream only has to run to its end
    if missing := store.missing():
        raise ValueError(f"{directory}: shards {missing} missing after encoding")
    return todo
