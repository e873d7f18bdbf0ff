"""Retrieval split over deployments, so that no replica holds the whole index.

With `split_retrieval: true` the app's `Retriever` is a merger in front of parts that
each load only their piece of the index directory:

    Retriever --handle--> QueryEncoder        (batched question encoding)
              --handle--> Searcher-000 ...    (one per FAISS shard: its shard only)
              --handle--> BM25-de, BM25-en .. (one per language: its BM25 only)

A question is encoded once, searched on every shard at once, and the shards' top-k
merged exactly as `ShardedFaissIndex` merges them in one process; BM25 asks the
question's language (every language, merged by score, when it is unknown or has no
passages); hybrid mode fuses both lists by RRF; the merger reads the winning rows from
the memory-mapped passage store. The answer equals the one-process `Retriever`'s over
the same index, and each deployment scales (replicas, CPUs, GPUs) on its own.

Each part fetches only its files when the index is a URI (`storage.local_copy` with
`include`) and checks them against the index manifest before it serves.
"""

from __future__ import annotations

import asyncio

import numpy as np
from ray import serve

from rayqa.serve.deployments import _BatchedModel


def index_parts(index_dir: str) -> tuple[int, list[str]]:
    """The number of FAISS shards (1 when unsharded) and the BM25 languages of an index.

    Read from the index manifest and BM25 language list without checking files: the
    deployments check what they load.
    """
    import json

    from rayqa import storage
    from rayqa.storage import read_manifest
    from rayqa.retrieval.bm25 import LANGS_FILE
    from rayqa.retrieval.build import BM25_DIR

    manifest = read_manifest(index_dir, verify=False)
    langs_file = storage.join(index_dir, BM25_DIR, LANGS_FILE)
    langs = json.loads(storage.read_text(langs_file)) if storage.is_file(langs_file) else []
    return manifest.get("num_shards", 1), langs


def _index_part(index_dir: str, part: tuple[str, ...]):
    """`part` of the index: a local directory holding it and the manifest, its files
    checked against the manifest."""
    from rayqa.storage import read_manifest
    from rayqa.retrieval.retriever import fetch_index

    local = fetch_index(index_dir, part)
    return local, read_manifest(local, only=part)


@serve.deployment(name="QueryEncoder")
class QueryEncoderDeployment(_BatchedModel):
    """Encodes questions with the index's query encoder (CORA: round 0's), batched.

    Args:
        index_dir: The index directory (local path or URI); its manifest names the
            encoder and the vector size.
        query_encoder: Encoder overriding the manifest's.
        max_batch_size: Most questions encoded together.
        batch_wait_timeout_s: How long the first question of a batch waits for company.
    """

    def __init__(self, index_dir: str, query_encoder: str | None = None,
                 max_batch_size: int = 8, batch_wait_timeout_s: float = 0.01):
        from rayqa.storage import read_manifest
        from rayqa.retrieval.retriever import load_query_encoder

        manifest = read_manifest(index_dir, verify=False)  # facts only: no index file is read
        self._encoder = load_query_encoder(manifest, None, query_encoder, manifest["dim"])
        self._name = query_encoder or manifest["encoder"].get(
            "query_name_or_path") or manifest["encoder"]["name_or_path"]
        self._setup_batching(self.encode, max_batch_size, batch_wait_timeout_s)

    @serve.batch
    async def encode(self, questions: list[str]) -> list[np.ndarray]:
        """One float32 vector per question (`handle.encode.remote(question)`)."""
        return list(await self._run(self._encoder.encode_queries, questions))

    def info(self) -> dict:
        """Returns `{"encoder"}` for the health check."""
        return {"encoder": self._name}


@serve.deployment(name="Searcher")
class SearcherDeployment(_BatchedModel):
    """Searches one FAISS shard of the index (the whole index when it has one).

    Args:
        index_dir: The index directory (local path or URI).
        shard: The shard number.
        max_batch_size: Most queries searched together.
        batch_wait_timeout_s: How long the first query of a batch waits for company.
    """

    def __init__(self, index_dir: str, shard: int, max_batch_size: int = 8,
                 batch_wait_timeout_s: float = 0.01):
        from rayqa.retrieval.faiss_index import INDEX_FILE, FaissIndex
        from rayqa.retrieval.faiss_shards import shard_dir

        sharded = index_parts(index_dir)[0] > 1
        part = shard_dir(shard) if sharded else INDEX_FILE
        local, _ = _index_part(index_dir, (part,))
        # A shard's own manifest checks its file; an unsharded index's was just checked.
        self._index = (FaissIndex.load(local / part) if sharded
                       else FaissIndex.load(local, verify=False))
        self._shard = shard
        self._setup_batching(self.search, max_batch_size, batch_wait_timeout_s)

    @serve.batch
    async def search(self, vectors: list[np.ndarray], ks: list[int]
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The shard's `k` best `(scores, rows)` per query vector, FAISS's padding kept
        (`handle.search.remote(vector, k)`)."""
        scores, rows = await self._run(self._index.search, np.stack(vectors), max(ks))
        return [(scores[i, :k], rows[i, :k]) for i, k in enumerate(ks)]

    def info(self) -> dict:
        """Returns `{"shard", "first_row", "count", "factory"}` for the health check."""
        return {"shard": self._shard, "first_row": self._index.manifest.get("first_row", 0),
                "count": self._index.ntotal, "factory": self._index.factory}


@serve.deployment(name="BM25")
class BM25Deployment(_BatchedModel):
    """Searches the BM25 index of one language.

    Args:
        index_dir: The index directory (local path or URI).
        lang: The language.
        max_batch_size: Most queries searched together.
        batch_wait_timeout_s: How long the first query of a batch waits for company.
    """

    def __init__(self, index_dir: str, lang: str, max_batch_size: int = 8,
                 batch_wait_timeout_s: float = 0.01):
        from rayqa.retrieval.bm25 import BM25Index, lang_dir
        from rayqa.retrieval.build import BM25_DIR

        part = f"{BM25_DIR}/{lang_dir(lang)}"
        local, _ = _index_part(index_dir, (part,))
        self._index, self._lang = BM25Index.load(local / part, lang), lang
        self._setup_batching(self.search, max_batch_size, batch_wait_timeout_s)

    @serve.batch
    async def search(self, queries: list[str], ks: list[int]) -> list[list[tuple[int, float]]]:
        """Up to `k` `(row, score)` per query, best first (`handle.search.remote(q, k)`)."""
        hits = await self._run(self._index.search, queries, max(ks))
        return [found[:k] for found, k in zip(hits, ks)]

    def info(self) -> dict:
        """Returns `{"lang", "count"}` for the health check."""
        return {"lang": self._lang, "count": len(self._index.rows)}


@serve.deployment(name="Retriever")
class MergingRetrieverDeployment:
    """The split retrieval's front: asks the parts, merges, reads the passages.

    Args:
        index_dir: The index directory (local path or URI); only its passage store is
            fetched here.
        mode: `hybrid`, `dense` or `bm25` (as `rayqa.retrieval.retriever.Retriever`).
        encoder: The `QueryEncoder` handle (None in bm25 mode).
        searchers: The `Searcher` handles, one per shard in row order (none in bm25 mode).
        bm25: The `BM25` handle per language (none in dense mode).
        rrf_k: The RRF constant of hybrid mode.
        rrf_depth: How many results of each list hybrid mode fuses.
    """

    def __init__(self, index_dir: str, mode: str, encoder, searchers: list, bm25: dict,
                 rrf_k: int = 60, rrf_depth: int = 100):
        from rayqa.storage import read_manifest
        from rayqa.retrieval.passage_store import IDS_FILE, PassageStore

        files = read_manifest(index_dir, verify=False)["passages"]["files"]
        local, manifest = _index_part(index_dir, (*files, IDS_FILE))
        self._passages = PassageStore.from_manifest(str(local), manifest)
        self._manifest, self._index_dir = manifest, index_dir
        self._mode, self._rrf_k, self._rrf_depth = mode, rrf_k, rrf_depth
        self._encoder, self._searchers, self._bm25 = encoder, searchers, bm25
        self._languages: dict[str, int] | None = None

    async def search(self, question: str, lang: str | None, top_k: int) -> list[dict]:
        """The `top_k` passages of one question, best first, as
        `{"id", "title", "text", "lang", "score"}` (the `Retriever`'s contract)."""
        from rayqa.retrieval.retriever import fuse, passage_hits, search_depth

        depth = search_depth(self._mode, top_k, self._rrf_depth)
        dense, sparse = await asyncio.gather(self._dense(question, depth),
                                             self._sparse(question, lang, depth))
        ranked = fuse(self._mode, dense, sparse, self._rrf_k)[0]
        return passage_hits(self._passages, ranked[:top_k])

    async def _dense(self, question: str, k: int) -> list | None:
        """`[(row, inner product), ...]` over every shard, merged (None: no dense part)."""
        from rayqa.retrieval.faiss_shards import merge_topk
        from rayqa.retrieval.retriever import hit_lists

        if self._encoder is None:
            return None
        vector = await self._encoder.encode.remote(question)
        found = await asyncio.gather(*(s.search.remote(vector, k) for s in self._searchers))
        return hit_lists(*merge_topk([f[0][None] for f in found],
                                     [f[1][None] for f in found], k))

    async def _sparse(self, question: str, lang: str | None, k: int) -> list | None:
        """BM25 `[(row, score), ...]` of the question's language, or of every language
        merged by score (None: no BM25 part)."""
        from rayqa.retrieval.bm25 import merge_by_score

        if not self._bm25:
            return None
        targets = [self._bm25[lang]] if lang in self._bm25 else list(self._bm25.values())
        found = await asyncio.gather(*(t.search.remote(question, k) for t in targets))
        return [merge_by_score(found, k)]

    def info(self) -> dict:
        """Returns `{"index_dir", "mode", "index_size", "languages", "encoder",
        "shards"}` for the health check and `/v1/info`."""
        if self._languages is None:
            self._languages = self._passages.languages()
        encoder = self._manifest.get("encoder") or {}
        return {"index_dir": self._index_dir, "mode": self._mode,
                "index_size": len(self._passages), "languages": self._languages,
                "encoder": {"passages": encoder.get("name_or_path")},
                "shards": len(self._searchers), "bm25_languages": sorted(self._bm25)}
