"""Dense indexes built whole in one process from an array, for tests.

`rayqa.retrieval.build` never holds all vectors at once: it trains on a sample and fills
each FAISS shard unit by unit as Ray tasks (`train_on_sample`, `fill_shard`). The tests
compare that path with the same index built here in memory, and write small sharded
indexes in the layout `rayqa.retrieval.faiss_shards` loads.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np

from rayqa import storage
from rayqa.config import IndexConfig
from rayqa.retrieval.faiss_index import FaissIndex
from rayqa.retrieval.faiss_shards import ShardedFaissIndex, shard_dir, shard_edges
from rayqa.storage import read_manifest, write_manifest


def build_dense_index(embeddings: np.ndarray, cfg: IndexConfig,
                      use_gpu: bool | None = False) -> FaissIndex | ShardedFaissIndex:
    """The dense index `cfg` asks for over `embeddings` (float32 `[n, dim]`, row order):
    one `FaissIndex`, or `cfg.num_shards` shards filled from one trained quantizer."""
    if cfg.num_shards == 1:
        return _empty(cfg, use_gpu).build(embeddings)
    edges = shard_edges(len(embeddings), cfg.num_shards)
    trained = _empty(cfg, use_gpu).trained_base(embeddings)
    return ShardedFaissIndex([_empty(cfg, use_gpu).build(embeddings[start:end],
                                                         np.arange(start, end), trained)
                              for start, end in pairwise(edges)])


def save_dense_index(index: FaissIndex | ShardedFaissIndex, directory: str | Path,
                     fields: dict | None = None) -> str:
    """Writes `index` as `build_index` lays it out (each shard with its manifest, then the
    top-level manifest chaining them); returns the location `FaissIndex.save` returns
    for one index, the top-level manifest's for shards."""
    fields = fields or {}
    if isinstance(index, FaissIndex):
        return index.save(directory, fields)
    names, first = [], 0
    for number, shard in enumerate(index.shards):
        names.append(shard_dir(number))
        shard.save(storage.join(directory, names[-1]),
                   {**fields, "shard": number, "first_row": first})
        first += shard.ntotal
    head = index.shards[0]
    facts = {"count": index.ntotal, "dim": index.dim, "factory": head.factory,
             "search_params": head.search_params, "num_shards": len(index.shards),
             "shards": names, **fields}
    path = write_manifest(directory, facts, [f"{name}/manifest.json" for name in names])
    index.manifest = read_manifest(directory)
    return path


def _empty(cfg: IndexConfig, use_gpu: bool | None) -> FaissIndex:
    return FaissIndex(cfg.factory, cfg.train_sample, cfg.search_params, use_gpu=use_gpu)
