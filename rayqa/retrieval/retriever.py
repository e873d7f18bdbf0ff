"""Question -> passages over an index directory written by `build_index`.

Modes:

- `dense`: the question is encoded by the passage encoder named in the manifest
  (`[CLS] question [SEP]`) and searched by inner product over every language - the
  many-to-many retrieval of CORA's mDPR.
- `bm25`: the BM25 index of the question's language; every language, merged by score,
  when the language is None or has no passages.
- `hybrid`: reciprocal-rank fusion (Cormack et al., 2009) of the two lists:
  `score(p) = sum over lists of 1 / (rrf_k + rank of p)`, rank from 1, taking the top
  `rrf_depth` of each list. RRF uses ranks only, so the unbounded BM25 scores and the
  inner products need no calibration against each other.

An index given as a URI is downloaded once per node into a cache (`storage.local_copy`,
checked against the manifest, without the build-only embeddings). For CPU search the
FAISS index is memory-mapped and passages are read from the memory-mapped passage
store, so the replicas of a node share both through the page cache. Privately a
replica holds the query encoder and the index's small parts (its id map, the IVF
quantizer), never the vectors or the collection as Python objects.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rayqa import storage
from rayqa.retrieval.bm25 import MultilingualBM25
from rayqa.retrieval.build import BM25_DIR, BUILD_ONLY
from rayqa.retrieval.faiss_shards import load_dense_index
from rayqa.retrieval.passage_store import PassageStore
from rayqa.storage import read_manifest

MODES = ("hybrid", "dense", "bm25")
_QUERY_BATCH = 64


class Retriever:
    """Loads an index directory and returns the top passages for questions.

    Args:
        index_dir: A directory written by `rayqa.retrieval.build.build_index`: a local
            path or a URI (fetched into the local cache).
        mode: `hybrid`, `dense` or `bm25` (see the module docstring).
        device: Where the query encoder runs (`cuda`/`cpu`); None picks `cuda` if present.
        rrf_k: The RRF constant; 60 as in the RRF paper.
        rrf_depth: How many results of each list hybrid mode fuses (at least `top_k`).
        query_encoder: Encoder for questions, overriding the manifest's (CORA keeps the
            round-0 query encoder while passages come from the newest passage encoder).
        mmap: Memory-map the FAISS index for CPU search (see
            `rayqa.retrieval.faiss_index.FaissIndex.load`); False reads it into memory.

    Raises:
        ValueError: Unknown mode, an index file changed since it was built, or a mode
            that needs BM25 over an index built without it.
    """

    def __init__(self, index_dir: str | Path, mode: str = "hybrid", device: str | None = None,
                 rrf_k: int = 60, rrf_depth: int = 100, query_encoder: str | None = None,
                 mmap: bool = True):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.index_dir = str(index_dir)
        self.mode, self.rrf_k, self.rrf_depth = mode, rrf_k, rrf_depth
        self.dense = self.encoder = self.bm25 = None
        self.local_dir = fetch_index(index_dir)
        self.manifest = read_manifest(self.local_dir)  # checks every file once
        if mode != "bm25":
            # One index or shards; the manifest's files were checked just above.
            self.dense = load_dense_index(self.local_dir, verify=False, mmap=mmap)
            self.encoder = load_query_encoder(self.manifest, device, query_encoder,
                                              self.dense.dim)
        if mode != "dense":
            self.bm25 = _load_bm25(self.local_dir)
        self.passages = PassageStore.from_manifest(str(self.local_dir), self.manifest)

    def search(self, questions: list[str], langs: list[str | None] | None,
               top_k: int) -> list[list[dict]]:
        """Returns the `top_k` passages per question, best first.

        Args:
            questions: Question texts.
            langs: Language code per question (None entries, or None for all, when
                unknown); used by BM25 only.
            top_k: Passages per question, at least 1.

        Returns:
            Per question a list of `{"id", "title", "text", "lang", "score"}`.
        """
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        langs = [None] * len(questions) if langs is None else list(langs)
        if len(langs) != len(questions):
            raise ValueError(f"{len(questions)} questions but {len(langs)} languages")
        depth = search_depth(self.mode, top_k, self.rrf_depth)
        dense = self._dense(questions, depth) if self.dense is not None else None
        sparse = ([self.bm25.search(q, lang, depth) for q, lang in zip(questions, langs)]
                  if self.bm25 is not None else None)
        ranked = fuse(self.mode, dense, sparse, self.rrf_k)
        return [passage_hits(self.passages, hits[:top_k]) for hits in ranked]

    def _dense(self, questions: list[str], k: int) -> list[list[tuple[int, float]]]:
        """FAISS hits `(row, inner product)` per question."""
        vectors = np.concatenate([self.encoder.encode_queries(questions[i:i + _QUERY_BATCH])
                                  for i in range(0, len(questions), _QUERY_BATCH)])
        return hit_lists(*self.dense.search(vectors, min(k, self.dense.ntotal)))


def search_depth(mode: str, top_k: int, rrf_depth: int) -> int:
    """How many results each list must hold: `top_k`, or `rrf_depth` for fusion."""
    return top_k if mode != "hybrid" else max(top_k, rrf_depth)


def hit_lists(scores: np.ndarray, rows: np.ndarray) -> list[list[tuple[int, float]]]:
    """FAISS's `[q, k]` results as `(row, score)` lists per query, padding dropped."""
    return [[(int(r), float(s)) for r, s in zip(row, score) if r >= 0]
            for row, score in zip(rows, scores)]


def fuse(mode: str, dense: list | None, sparse: list | None,
         rrf_k: int) -> list[list[tuple[int, float]]]:
    """The ranked `(row, score)` lists of `mode` from the dense and BM25 lists (RRF of
    both in hybrid mode), one per query."""
    if mode == "dense":
        return dense
    if mode == "bm25":
        return sparse
    return [rrf([d, s], rrf_k) for d, s in zip(dense, sparse)]


def passage_hits(passages: PassageStore, hits: list[tuple[int, float]]) -> list[dict]:
    """`{"id", "title", "text", "lang", "score"}` of each `(row, score)`, read from the
    passage store."""
    out = []
    for row, score in hits:
        passage = passages[row]
        out.append({"id": passage.id, "title": passage.title, "text": passage.text,
                    "lang": passage.lang, "score": score})
    return out


def rrf(ranked_lists: list[list[tuple[int, float]]], k: int = 60) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: `sum 1 / (k + rank)` per row over the lists, best first.

    Args:
        ranked_lists: Lists of `(row, score)`, each best first; the scores are ignored.
        k: The RRF constant, damping the weight of the first ranks.
    """
    fused: dict[int, float] = {}
    for hits in ranked_lists:
        for rank, (row, _) in enumerate(hits, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: -item[1])


def fetch_index(index_dir: str | Path, part: tuple[str, ...] | None = None) -> Path:
    """A local directory holding the index: itself, or a verified cached copy of a URI
    (of only `part`, relative paths, and the manifest, when given: see
    `rayqa.serve.retrieval`)."""
    return storage.local_copy(index_dir, exclude=BUILD_ONLY, include=part)


def load_query_encoder(manifest: dict, device: str | None, override: str | None = None,
                   dim: int | None = None):
    """The question encoder: ``override``, the bi-encoder's query side, or the passage one.

    Raises:
        ValueError: Its vectors are not ``dim``-dimensional, so the index cannot be
            searched with them (a query encoder of another model size than the passage
            encoder that built the index).
    """
    from rayqa.retrieval.encode import build_encoder

    enc = manifest["encoder"]
    name = override or enc.get("query_name_or_path") or enc["name_or_path"]
    encoder = build_encoder(enc.get("kind", "transformer"), name_or_path=name,
                            max_length=enc["max_length"], pooling=enc["pooling"], device=device)
    if dim is not None and (got := encoder.encode_queries(["?"]).shape[1]) != dim:
        raise ValueError(f"the question encoder {name!r} gives {got}-dim vectors but the "
                         f"index holds {dim}-dim ones (passages encoded by "
                         f"{enc['name_or_path']!r}); give a query encoder of that model")
    return encoder


def _load_bm25(index_dir: Path) -> MultilingualBM25:
    if not (index_dir / BM25_DIR).is_dir():
        raise ValueError(f"{index_dir / BM25_DIR}: no BM25 indexes (built with index.bm25=false?);"
                         " use mode='dense'")
    return MultilingualBM25.load(index_dir / BM25_DIR)
