"""Driver of `jobs/build_index.py`: passages in, a self-contained index directory out.

Layout of `output_dir`::

    passages.jsonl        the good passages; row i of every index is line i
    bad_records.json      what was skipped while reading, by reason, with file:line
    embeddings/           the passage vectors in resumable shards (Ray Data actor pool,
                          see `rayqa.retrieval.shards`); a rerun encodes only the
                          shards a killed or failed run did not finish
    faiss.index           dense vectors, inner product, id map (index.num_shards = 1)
    faiss_shards/         or index.num_shards FAISS shards with their own manifests
                          (see `rayqa.retrieval.sharded`)
    bm25/<lang>/          per-language BM25 (when index.bm25), with the rows it covers
    manifest.json         count, dim, encoder, factory, sha256 of faiss.index (or of
                          the shard manifests) and passages.jsonl; written after
                          everything it vouches for
    rayqa_config.yaml     the resolved job config
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from rayqa.config import EncoderConfig, IndexJobConfig, save_config
from rayqa.data.passages import Passage, read_passages, write_passages
from rayqa.data.records import BadRecords
from rayqa.retrieval.bm25 import MultilingualBM25
from rayqa.retrieval.encode import encode_to_shards
from rayqa.manifest import MANIFEST_FILE, sha256_file
from rayqa.retrieval.retriever import BM25_DIR, PASSAGES_FILE
from rayqa.retrieval.sharded import SHARDS_DIR, build_dense_index
from rayqa.retrieval.shards import EMBEDDINGS_DIR, EmbeddingShards

BAD_RECORDS_FILE = "bad_records.json"


def _log(message: str) -> None:
    print(f"[rayqa.index] {message}", flush=True)


def read_all_passages(cfg: IndexJobConfig, report: BadRecords) -> list[Passage]:
    """Reads every passages file; bad lines go to `report` (strict mode raises at one)."""
    passages: list[Passage] = []
    for item in cfg.passages_files:
        passages.extend(read_passages(item.path, strict=cfg.strict, report=report))
    if not passages:
        raise ValueError(f"no usable passages in {[f.path for f in cfg.passages_files]}")
    return passages


def encoder_facts(cfg: EncoderConfig) -> dict:
    """What the retriever needs to encode queries like the passages were encoded."""
    name = cfg.name_or_path
    # A local directory is recorded absolute, so the index works from any working dir.
    path = Path(name)
    facts = {"name_or_path": str(path.resolve()) if path.is_dir() else name,
             "max_length": cfg.max_length, "pooling": cfg.pooling}
    # An mDPR bi-encoder (rayqa.models.biencoder) keeps its question encoder beside the
    # passage encoder; queries must go through that one.
    query = path.parent / "query_encoder"
    if path.name == "passage_encoder" and query.is_dir():
        facts["query_name_or_path"] = str(query.resolve())
    return facts


def build_index(cfg: IndexJobConfig) -> Path:
    """Reads passages, encodes them with Ray Data, and writes FAISS + BM25 indexes.

    Rerunning on the same `output_dir` reuses the embedding shards that are complete
    and encodes the rest, so a killed job resumes where it stopped.

    Args:
        cfg: The job config; Ray must be initialized.

    Returns:
        The output directory (see the module docstring for its layout).

    Raises:
        DataError: In strict mode, at the first bad passage line (file and line named).
    """
    out = Path(cfg.output_dir)
    report = BadRecords()
    passages = read_all_passages(cfg, report)
    _log(f"{len(passages)} passages in languages {sorted({p.lang for p in passages})}; "
         f"{report.summary()}")
    start_output(out, passages, report)
    write_index(out, passages, _encode(out, passages, cfg), cfg)
    return out


def write_index(out: Path, passages: list[Passage], embeddings: np.ndarray,
                cfg: IndexJobConfig) -> None:
    """Writes BM25, FAISS, the manifest and the config next to `passages.jsonl` in `out`.

    Args:
        out: The output directory, already holding `passages.jsonl`.
        passages: The passages in row order.
        embeddings: Their vectors in the same order.
        cfg: The job config (its `encoder` is recorded for query encoding).
    """
    if cfg.index.bm25:
        bm25 = MultilingualBM25.build([p.title for p in passages], [p.text for p in passages],
                                      [p.lang for p in passages])
        bm25.save(out / BM25_DIR)
        _log(f"BM25 indexes for {', '.join(bm25.indexes)}")
    index = build_dense_index(embeddings, cfg.index)  # building needs no GPU copy for search
    index.save(out, {"encoder": encoder_facts(cfg.encoder)}, (PASSAGES_FILE,))
    _log(f"FAISS {cfg.index.factory!r} index of {index.ntotal} vectors in "
         f"{cfg.index.num_shards} shard(s) -> {out}")
    save_config(cfg, out)


def start_output(out: Path, passages: list[Passage], report: BadRecords) -> None:
    """Invalidates an old index in `out`, then writes the passages and the bad records.

    Args:
        out: The output directory (created when missing).
        passages: The passages in row order.
        report: The bad records met while reading them.
    """
    out.mkdir(parents=True, exist_ok=True)
    # A crash midway must not leave a manifest vouching for half-written files, nor a
    # stale BM25 beside a new FAISS index.
    (out / MANIFEST_FILE).unlink(missing_ok=True)
    shutil.rmtree(out / BM25_DIR, ignore_errors=True)
    shutil.rmtree(out / SHARDS_DIR, ignore_errors=True)
    (out / BAD_RECORDS_FILE).write_text(json.dumps(report.to_dict(), indent=2,
                                                   ensure_ascii=False), encoding="utf-8")
    write_passages(passages, out / PASSAGES_FILE)


def _encode(out: Path, passages: list[Passage], cfg: IndexJobConfig) -> np.ndarray:
    """Dense vectors of the passages in row order, encoding only the missing shards."""
    # Shards of other passages or another encoder must not be reused: both are part
    # of the plan the shards were written under.
    fingerprint = {"passages_sha256": sha256_file(out / PASSAGES_FILE),
                   "encoder": encoder_facts(cfg.encoder)}
    store = EmbeddingShards(out / EMBEDDINGS_DIR, len(passages), cfg.encoder.shard_size)
    start = time.perf_counter()
    encoded = encode_to_shards([p.to_dict() for p in passages], store.directory, cfg.encoder,
                               fingerprint)
    seconds = time.perf_counter() - start
    rows = sum(len(range(*store.bounds(shard))) for shard in encoded)
    _log(f"encoded {len(encoded)} of {store.num_shards} shards ({rows} passages) in "
         f"{seconds:.1f}s ({rows / seconds:.1f}/s); {store.num_shards - len(encoded)} "
         "shards were already done")
    embeddings = store.load()
    _log(f"{len(embeddings)} embeddings of dim {embeddings.shape[1]}")
    return embeddings
