"""A dense index split into FAISS shards, searched shard by shard with a top-k merge.

When an index outgrows one machine's (or GPU's) memory it is cut into `num_shards`
FAISS indexes over contiguous row ranges. All shards copy one quantizer trained on a
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
                              of every shard manifest and of passages.jsonl
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np

from rayqa.config import IndexConfig
from rayqa.manifest import read_manifest, write_manifest
from rayqa.retrieval.faiss_index import FaissIndex

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
        manifest: The top-level manifest (set by `save` and `load`).
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

    @classmethod
    def build(cls, embeddings: np.ndarray, num_shards: int, cfg: IndexConfig,
              use_gpu: bool | None = False) -> ShardedFaissIndex:
        """Trains one quantizer on a sample, then fills `num_shards` copies of it.

        Args:
            embeddings: Float32 `[n, dim]` in row order.
            num_shards: Number of shards (at most n).
            cfg: Factory, train sample and search parameters.
            use_gpu: Whether the shards keep GPU copies for search.
        """
        if not 1 <= num_shards <= len(embeddings):
            raise ValueError(f"num_shards must be in [1, {len(embeddings)}], got {num_shards}")
        trained = _new_shard(cfg, use_gpu).trained_base(embeddings)
        edges = np.linspace(0, len(embeddings), num_shards + 1).astype(np.int64)
        return cls([_new_shard(cfg, use_gpu).build(embeddings[start:end],
                                                   np.arange(start, end), trained)
                    for start, end in pairwise(edges)])

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Returns the `k` best rows per query over all shards (see `FaissIndex.search`)."""
        results = [shard.search(queries, k) for shard in self.shards]
        return merge_topk([r[0] for r in results], [r[1] for r in results], k)

    def save(self, directory: str | Path, fields: dict | None = None,
             checksum_files: tuple[str, ...] = ()) -> Path:
        """Writes every shard with its manifest, then the top-level manifest.

        Args:
            directory: The index directory.
            fields: More manifest facts (the encoder), recorded in every manifest.
            checksum_files: Other files in `directory` the index depends on.

        Returns:
            The top-level manifest path.
        """
        directory, fields = Path(directory), fields or {}
        names, first = [], 0
        for number, shard in enumerate(self.shards):
            name = f"{SHARDS_DIR}/shard-{number:03d}"
            shard.save(directory / name, {**fields, "shard": number, "first_row": first})
            names.append(name)
            first += shard.ntotal
        head = self.shards[0]
        facts = {"count": self.ntotal, "dim": self.dim, "factory": head.factory,
                 "search_params": head.search_params, "num_shards": len(self.shards),
                 "shards": names, **fields}
        # The shard manifests carry the sha256 of their index files, so checking theirs
        # here chains the top manifest to every byte of every shard.
        path = write_manifest(directory, facts,
                              [*checksum_files, *(f"{name}/manifest.json" for name in names)])
        self.manifest = read_manifest(directory)
        return path

    @classmethod
    def load(cls, directory: str | Path, use_gpu: bool | None = None) -> ShardedFaissIndex:
        """Reads a sharded index, checking every manifest against its files and each other.

        Raises:
            ValueError: A file changed, or a shard disagrees with the top manifest
                (factory, dimension, first row, or the total count).
        """
        directory = Path(directory)
        manifest = read_manifest(directory)
        shards = [FaissIndex.load(directory / name, use_gpu) for name in manifest["shards"]]
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


def build_dense_index(embeddings: np.ndarray, cfg: IndexConfig,
                      use_gpu: bool | None = False) -> FaissIndex | ShardedFaissIndex:
    """The dense index `cfg` asks for: one `FaissIndex`, or `cfg.num_shards` shards.

    Args:
        embeddings: Float32 `[n, dim]` in row order.
        cfg: Factory, train sample, search parameters and number of shards.
        use_gpu: Whether to keep GPU copies for search (building needs none).
    """
    if cfg.num_shards > 1:
        return ShardedFaissIndex.build(embeddings, cfg.num_shards, cfg, use_gpu)
    return _new_shard(cfg, use_gpu).build(embeddings)


def load_dense_index(directory: str | Path,
                     use_gpu: bool | None = None) -> FaissIndex | ShardedFaissIndex:
    """Loads the dense index of an index directory, sharded or not, checked at load.

    Args:
        directory: The index directory.
        use_gpu: Search on the GPUs; None uses them when FAISS sees any.
    """
    if read_manifest(directory, verify=False).get("num_shards", 1) > 1:  # the loader verifies
        return ShardedFaissIndex.load(directory, use_gpu)
    return FaissIndex.load(directory, use_gpu)


def _new_shard(cfg: IndexConfig, use_gpu: bool | None) -> FaissIndex:
    return FaissIndex(cfg.factory, cfg.train_sample, cfg.search_params, use_gpu=use_gpu)
