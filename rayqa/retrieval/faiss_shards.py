"""A dense index split into FAISS shards, searched shard by shard with a top-k merge.

An index is cut into `num_shards` FAISS indexes over contiguous row ranges so that
no process ever builds or writes the whole index at once (each shard is filled and
written by its own Ray task) and so that each shard fits one GPU; a CPU replica
memory-maps every shard, so its private memory does not grow with the index. All shards copy one quantizer trained on a
sample of all vectors (so IVF cells and PQ codebooks mean the same in every shard),
and each keeps global row numbers through its id map. A query searches every shard
for its `k` best and `merge_topk` keeps the `k` best of the `num_shards * k`
candidates - the same answer an unsharded index of the same type gives.

The merge is a numpy sort rather than `faiss.IndexShards`: the shards are whole
`FaissIndex` objects (each with its own manifest, and its own GPU copy when GPUs are
present), and a stable sort over `[q, num_shards * k]` candidates is exact, short and
easy to test. Shards are searched one after another: on CPU FAISS already spreads one
search over all cores.

Layout inside the index directory::

    faiss_shards/shard-000/   faiss.index + manifest.json (count, dim, factory,
                              encoder, its row range, sha256 of faiss.index)
    manifest.json             count, dim, factory, num_shards, encoder, and the sha256
                              of every shard manifest and of the passage store

`build_index` never holds all vectors in one process: `train_on_sample` trains the
quantizer on a seeded sample read unit by unit from the embedding shards, then
`fill_shard` (one Ray task per FAISS shard) adds its row range unit by unit to a copy
of it and writes the shard. FAISS's own route for an IVF index larger than memory is
to fill one trained copy per part and `merge_ondisk` their inverted lists into one
file that search reads through `OnDiskInvertedLists`. rayqa keeps shards instead: they
work for every index type (Flat and HNSW too), each is a self-contained checksummed
file, and each gets its own GPU copy when GPUs are present. Every process that loads
the index still opens all shards, but for CPU search `FaissIndex.load` memory-maps
each one, so the shards' pages live once in the node's page cache, shared by its
replicas, rather than once per process.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np

from rayqa import storage
from rayqa.config import IndexConfig
from rayqa.retrieval.embedding_shards import EmbeddingShards, RowMap
from rayqa.retrieval.faiss_index import INDEX_FILE, FaissIndex
from rayqa.storage import read_manifest

SHARDS_DIR = "faiss_shards"


def merge_topk(scores: list[np.ndarray], ids: list[np.ndarray],
               k: int) -> tuple[np.ndarray, np.ndarray]:
    """Merges per-shard results into the `k` best per query (largest score first).

    Args:
        scores: Per shard `[q, k_shard]` scores.
        ids: Per shard `[q, k_shard]` ids (-1 for padding, whose score FAISS sets to
            the lowest float, so padding sorts last).
        k: Results per query.

    Returns:
        `(scores, ids)`, both `[q, k]`; ties keep shard order.
    """
    all_scores, all_ids = np.concatenate(scores, axis=1), np.concatenate(ids, axis=1)
    order = np.argsort(-all_scores, axis=1, kind="stable")[:, :k]
    return (np.take_along_axis(all_scores, order, axis=1),
            np.take_along_axis(all_ids, order, axis=1))


class ShardedFaissIndex:
    """`FaissIndex` shards over contiguous row ranges, searched as one index.

    Args:
        shards: The shards, in row order.
        manifest: The top-level manifest (set by `load`).
    """

    def __init__(self, shards: list[FaissIndex], manifest: dict | None = None):
        if not shards:
            raise ValueError("a sharded index needs at least one shard")
        self.shards = shards
        self.manifest = manifest or {}

    @property
    def ntotal(self) -> int:
        """Number of indexed vectors over all shards."""
        return sum(shard.ntotal for shard in self.shards)

    @property
    def dim(self) -> int:
        """Vector dimension."""
        return self.shards[0].dim

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Returns the `k` best rows per query over all shards (see `FaissIndex.search`)."""
        results = [shard.search(queries, k) for shard in self.shards]
        return merge_topk([r[0] for r in results], [r[1] for r in results], k)

    @classmethod
    def load(cls, directory: str | Path, use_gpu: bool | None = None,
             verify: bool = True, mmap: bool = True) -> ShardedFaissIndex:
        """Reads a sharded index, checking every manifest against its files and each other.

        Args:
            directory: The local index directory.
            use_gpu: Search on the GPUs; None uses them when FAISS sees any.
            verify: Check the top manifest's files (the shards always check theirs).
            mmap: Memory-map the shards for CPU search (see `FaissIndex.load`).

        Raises:
            ValueError: A file changed, or a shard disagrees with the top manifest
                (factory, dimension, first row, or the total count).
        """
        directory = Path(directory)
        manifest = read_manifest(directory, verify=verify)
        shards = [FaissIndex.load(directory / name, use_gpu, mmap=mmap)
                  for name in manifest["shards"]]
        first = 0
        for name, shard in zip(manifest["shards"], shards):
            facts = (shard.manifest.get("first_row"), shard.dim, shard.factory)
            if facts != (first, manifest["dim"], manifest["factory"]):
                raise ValueError(f"{directory / name}: (first row, dim, factory) {facts} but "
                                 f"the index manifest says "
                                 f"{(first, manifest['dim'], manifest['factory'])}")
            first += shard.ntotal
        if first != manifest["count"]:
            raise ValueError(f"{directory}: shards hold {first} vectors, manifest says "
                             f"{manifest['count']}")
        return cls(shards, manifest)


def load_dense_index(directory: str | Path, use_gpu: bool | None = None,
                     verify: bool = True, mmap: bool = True) -> FaissIndex | ShardedFaissIndex:
    """Loads the dense index of a local index directory, sharded or not, checked at load.

    Args:
        directory: The local index directory.
        use_gpu: Search on the GPUs; None uses them when FAISS sees any.
        verify: Check the files of the top manifest (False when the caller just did).
        mmap: Memory-map the index for CPU search, so the processes of a node share
            its pages (see `FaissIndex.load`); False reads it into memory.
    """
    if read_manifest(directory, verify=False).get("num_shards", 1) > 1:  # the loader verifies
        return ShardedFaissIndex.load(directory, use_gpu, verify, mmap)
    return FaissIndex.load(directory, use_gpu, verify, mmap)


def shard_dir(number: int) -> str:
    """The directory of FAISS shard `number`, relative to the index directory."""
    return f"{SHARDS_DIR}/shard-{number:03d}"


def shard_edges(count: int, num_shards: int) -> np.ndarray:
    """Row boundaries of `num_shards` contiguous shards over `count` rows."""
    if not 1 <= num_shards <= count:
        raise ValueError(f"num_shards must be in [1, {count}], got {num_shards}")
    return np.linspace(0, count, num_shards + 1).astype(np.int64)


def train_on_sample(directory: str, starts: tuple[int, ...], dim: int,
                    cfg: IndexConfig) -> np.ndarray:
    """The factory index trained on a seeded sample of the units' vectors, serialized.

    Reads at most `cfg.train_sample` rows, unit by unit, so memory stays bounded by the
    sample whatever the collection's size (and nothing for types without training).
    Runs as a Ray task in `build_index`.

    Args:
        directory: The index directory holding the embedding shards.
        starts: The units' first rows plus the total (`RowMap.starts`).
        dim: The vector dimension.
        cfg: Factory and sample size.

    Returns:
        `faiss.serialize_index` of the empty trained index (uint8).
    """
    import faiss

    base = faiss.index_factory(dim, cfg.factory, faiss.METRIC_INNER_PRODUCT)
    if base.is_trained:  # Flat, HNSW: nothing to learn
        return faiss.serialize_index(base)
    rows_map = RowMap(starts)
    count = rows_map.count
    rows = np.arange(count)
    if count > cfg.train_sample:
        rows = np.sort(np.random.default_rng(0).choice(count, cfg.train_sample, replace=False))
    units, local = rows_map.locate(rows)
    shards = EmbeddingShards(directory)
    sample = np.concatenate([np.asarray(shards.vectors(int(unit))[local[units == unit]])
                             for unit in np.unique(units)])
    return faiss.serialize_index(_new_shard(cfg).trained_base(sample))


def fill_shard(directory: str, starts: tuple[int, ...], bounds: tuple[int, int],
               trained: np.ndarray, cfg: IndexConfig, shard: int | None,
               fields: dict) -> dict:
    """Fills a copy of the trained index with rows `[start, end)`, unit by unit, and
    writes it: as `faiss.index` of the index directory (`shard` None; the caller's
    manifest vouches for it) or as FAISS shard `shard` with its own manifest.

    Runs as a Ray task in `build_index`, one per shard.

    Args:
        directory: The index directory holding the embedding shards.
        starts: The units' first rows plus the total (`RowMap.starts`).
        bounds: The shard's rows `[start, end)`.
        trained: `train_on_sample`'s result.
        cfg: Factory and search parameters.
        shard: The shard number, or None for an unsharded index.
        fields: More facts for the shard's manifest (the encoder).

    Returns:
        `{"file": written file relative to directory, "sha256": its checksum or None
        for a shard manifest (small, hashed by the caller), "count": vectors}`.
    """
    import faiss

    index = _new_shard(cfg).start(faiss.deserialize_index(trained))
    start, end = bounds
    shards = EmbeddingShards(directory)
    for unit, (first, last) in enumerate(pairwise(starts)):
        low, high = max(start, first), min(end, last)
        if low < high:
            index.add(shards.vectors(unit)[low - first:high - first], np.arange(low, high))
    if shard is None:
        return {"file": INDEX_FILE, "count": index.ntotal,
                "sha256": index.write(storage.join(directory, INDEX_FILE))}
    index.save(storage.join(directory, shard_dir(shard)),
               {**fields, "shard": shard, "first_row": start})
    return {"file": f"{shard_dir(shard)}/manifest.json", "count": index.ntotal, "sha256": None}


def _new_shard(cfg: IndexConfig) -> FaissIndex:
    return FaissIndex(cfg.factory, cfg.train_sample, cfg.search_params, use_gpu=False)
