"""Driver of `jobs/build_index.py`: passages files in, a self-contained index directory out.

Layout of `output_dir` (a local path or a URI; relative paths are made absolute on the
driver before anything travels to Ray workers)::

    plan.json, units/,    the resumable encoding: units of work (byte ranges of the
    embeddings/           passages files), their vectors and manifests (see
                          `rayqa.retrieval.embedding_shards`); a rerun encodes only
                          the units a killed or failed run did not finish
    passages/             the passage store, one Arrow file per unit plus the sorted
                          id index (see `rayqa.retrieval.passage_store`)
    bad_records.json      what was skipped while reading, by reason, with file:line
    faiss.index           dense vectors, inner product, id map (index.num_shards = 1)
    faiss_shards/         or index.num_shards FAISS shards with their own manifests
                          (see `rayqa.retrieval.faiss_shards`)
    bm25/<lang>/          per-language BM25 (when index.bm25), with the rows it covers
    manifest.json         count, dim, encoder, factory, the store's files and first
                          rows, sha256 of every file serving reads; written after
                          everything it vouches for
    rayqa_config.yaml     the resolved job config

The driver only plans and collects counts: the encoder actors read the passages and
write units straight to storage, and the index builders (id index, FAISS training on
a sample, FAISS shards, BM25 per language) run as Ray tasks reading the units, so its
memory does not grow with the collection.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

from rayqa import storage
from rayqa.config import EncoderConfig, IndexJobConfig, save_config
from rayqa.data.passages import Passage
from rayqa.data.records import BadRecords, DataError
from rayqa.retrieval.bm25 import BM25Builder, MultilingualBM25, lang_dir
from rayqa.retrieval.embedding_shards import (EmbeddingShards, RowMap, Unit, file_facts,
                                              merge_bad_records, plan_units)
from rayqa.retrieval.encode import encode_units
from rayqa.retrieval.faiss_shards import (SHARDS_DIR, fill_shard, shard_edges,
                                          train_on_sample)
from rayqa.retrieval.faiss_index import INDEX_FILE
from rayqa.retrieval.passage_store import IDS_FILE, read_table, write_id_index
from rayqa.storage import MANIFEST_FILE, sha256, write_manifest

BAD_RECORDS_FILE = "bad_records.json"
BM25_DIR = "bm25"
# Top-level names a server does not read: build state, left out of cached copies.
BUILD_ONLY = ("plan.json", "units", "embeddings")

Runner = Callable[[list[tuple[Callable, tuple]]], list]


def _log(message: str) -> None:
    print(f"[rayqa.index] {message}", flush=True)


def encoder_facts(cfg: EncoderConfig) -> dict:
    """What the retriever needs to encode queries like the passages were encoded."""
    name = cfg.name_or_path
    # A local directory is recorded absolute, so the index works from any working dir
    # and the encoder actors (in their own working dir) find it.
    path = Path(name)
    facts = {"kind": cfg.kind, "name_or_path": str(path.resolve()) if path.is_dir() else name,
             "max_length": cfg.max_length, "pooling": cfg.pooling}
    # An mDPR bi-encoder (rayqa.models.biencoder) keeps its question encoder beside the
    # passage encoder; queries must go through that one unless the config names another.
    query = Path(cfg.query_name_or_path) if cfg.query_name_or_path else (
        path.parent / "query_encoder")
    if query.is_dir() and (cfg.query_name_or_path or path.name == "passage_encoder"):
        facts["query_name_or_path"] = str(query.resolve())
    elif cfg.query_name_or_path:  # a hub name
        facts["query_name_or_path"] = cfg.query_name_or_path
    return facts


def build_index(cfg: IndexJobConfig) -> str:
    """Encodes passages files with a Ray Data actor pool and writes FAISS + BM25 indexes.

    Rerunning on the same `output_dir` reuses the units that are complete and encodes
    the rest, so a killed job resumes where it stopped.

    Args:
        cfg: The job config; Ray must be initialized.

    Returns:
        The output location, absolute (see the module docstring for its layout).

    Raises:
        DataError: In strict mode, at a bad passage line (file and line named).
        ValueError: No usable passages.
    """
    out = storage.absolute(cfg.output_dir)
    files = [storage.absolute(item.path) for item in cfg.passages_files]
    facts = encoder_facts(cfg.encoder)
    encoder = cfg.encoder.model_copy(update={"name_or_path": facts["name_or_path"]})
    shards = EmbeddingShards(out)
    _start_output(out)
    fingerprint = {"encoder": facts, "files": {path: file_facts(path) for path in files}}
    if cfg.langs is not None:  # units encoded under another language filter are redone
        fingerprint["langs"] = sorted(cfg.langs)
    shards.prepare(plan_units(files, max(1, int(encoder.shard_mb * 2**20))), fingerprint)
    todo = shards.missing()
    began = time.perf_counter()
    encoded = encode_units(out, todo, encoder, cfg.strict, cfg.langs)
    seconds = max(time.perf_counter() - began, 1e-9)
    _log(f"encoded {len(todo)} of {len(shards.units)} units ({encoded} passages) in "
         f"{seconds:.1f}s ({encoded / seconds:.1f}/s); "
         f"{len(shards.units) - len(todo)} units were already done")
    return finish_index(shards, cfg, run_on_ray)


def write_index(out: str | Path, passages: list[Passage], embeddings,
                cfg: IndexJobConfig, report: BadRecords | None = None) -> str:
    """Writes a complete index of passages and vectors held in memory, in this process.

    For small collections and tests without Ray: the passages become one unit, and the
    same builders as `build_index` write the rest.

    Args:
        out: The output directory (path or URI).
        passages: The passages in row order.
        embeddings: Their float32 `[n, dim]` vectors.
        cfg: The job config (its `encoder` is recorded for query encoding).
        report: Bad records met while reading the passages.

    Returns:
        The output location.
    """
    out = storage.absolute(out)
    shards = EmbeddingShards(out)
    unit = Unit(0, "<memory>")
    _start_output(out)
    shards.prepare([unit], {"encoder": encoder_facts(cfg.encoder)})
    shards.write(unit, passages, embeddings, len(passages), report or BadRecords())
    return finish_index(shards, cfg, run_here)


def _start_output(out: str) -> None:
    """Invalidates an old index in `out` before anything is rewritten."""
    # A crash midway must not leave a manifest vouching for half-written files, nor a
    # stale BM25 or FAISS shard beside a new index.
    for name in (MANIFEST_FILE, BM25_DIR, SHARDS_DIR, INDEX_FILE, IDS_FILE):
        storage.delete(storage.join(out, name))


def finish_index(shards: EmbeddingShards, cfg: IndexJobConfig, run: Runner) -> str:
    """Writes bad records, the id index, FAISS, BM25, the manifest and the config.

    Args:
        shards: The finished units of the output directory.
        cfg: The job config.
        run: Runs a list of `(function, args)` calls and returns their results in
            order (`run_on_ray` or `run_here`).

    Returns:
        The output location.
    """
    out = shards.directory
    manifests = shards.manifests()
    _write_bad_records(shards, manifests, cfg.strict)
    rows = RowMap.of(manifests)
    if not rows.count:
        raise ValueError(f"no usable passages in {sorted({u.path for u in shards.units})}")
    passage_files = [shards.files(unit.number)[0] for unit in shards.units]
    langs = sorted({lang for m in manifests for lang in m["langs"]}) if cfg.index.bm25 else []
    dim = max(m["dim"] for m in manifests)
    dense_calls = _dense_calls(out, rows, dim, cfg, run)
    results = run([(write_id_index, (out, passage_files, rows.starts)), *dense_calls,
                   *((build_bm25, (out, passage_files, rows.starts, lang)) for lang in langs)])
    dense, bm25 = results[1:1 + len(dense_calls)], results[1 + len(dense_calls):]
    # The writers hashed what they wrote: the driver reads none of it back.
    checksums = {file: m["files"][file] for file, m in zip(passage_files, manifests)}
    checksums[IDS_FILE] = results[0]
    checksums.update({r["file"]: r["sha256"] for r in dense if r["sha256"]})
    for written in bm25:
        checksums.update(written)
    files = [r["file"] for r in dense if not r["sha256"]]  # shard manifests: small
    if cfg.index.bm25:
        MultilingualBM25.write_langs(storage.join(out, BM25_DIR), langs)
        files.append(f"{BM25_DIR}/langs.json")
    facts = {"count": rows.count, "dim": dim, "factory": cfg.index.factory,
             "search_params": cfg.index.search_params, "num_shards": cfg.index.num_shards,
             "encoder": encoder_facts(cfg.encoder),
             "passages": {"files": passage_files, "starts": list(rows.starts)},
             "bm25": langs if cfg.index.bm25 else None}
    if cfg.index.num_shards > 1:
        facts["shards"] = [file.rsplit("/", 1)[0] for file in files
                           if file.startswith(SHARDS_DIR)]
    write_manifest(out, facts, files, checksums=checksums)
    save_config(cfg, out)
    _log(f"FAISS {cfg.index.factory!r} index of {rows.count} vectors in "
         f"{cfg.index.num_shards} shard(s), BM25 for {langs or 'no language'} -> {out}")
    return out


def _write_bad_records(shards: EmbeddingShards, manifests: list[dict], strict: bool) -> None:
    """Writes `bad_records.json` (lines numbered per file); strict mode raises instead.

    Raises:
        DataError: In strict mode, at the first bad record of units an earlier,
            lenient run kept.
    """
    report = merge_bad_records(shards.units, manifests)
    _log(report.summary())
    if strict and report.total:
        raise DataError(report.examples[0])
    storage.write_text(shards.path(BAD_RECORDS_FILE),
                       json.dumps(report.to_dict(), indent=2, ensure_ascii=False))


def _dense_calls(out: str, rows: RowMap, dim: int, cfg: IndexJobConfig,
                 run: Runner) -> list[tuple[Callable, tuple]]:
    """Trains the quantizer on a sample (one call), then returns the shard fill calls."""
    edges = shard_edges(rows.count, cfg.index.num_shards)
    trained = run([(train_on_sample, (out, rows.starts, dim, cfg.index))])[0]
    sharded = cfg.index.num_shards > 1
    fields = {"encoder": encoder_facts(cfg.encoder)}
    return [(fill_shard, (out, rows.starts, (int(start), int(end)), trained, cfg.index,
                          number if sharded else None, fields))
            for number, (start, end) in enumerate(pairwise(edges))]


def build_bm25(out: str, passage_files: list[str], starts: tuple[int, ...],
               lang: str) -> dict[str, str]:
    """Builds and writes `bm25/<lang>/` from the passage store, unit by unit.

    Runs as a Ray task per language in `build_index`: it keeps token ids, never texts.

    Returns:
        The sha256 of each written file, by path relative to `out`.
    """
    import pyarrow.compute as pc

    builder = BM25Builder(lang)
    for file, start in zip(passage_files, starts):
        table = read_table(storage.join(out, file), ["title", "text", "lang"])
        mine = pc.equal(table.column("lang"), lang).to_numpy(zero_copy_only=False)
        rows = (start + mine.nonzero()[0]).tolist()
        titles = table.column("title").filter(mine).to_pylist()
        texts = table.column("text").filter(mine).to_pylist()
        builder.add([f"{title} {text}" for title, text in zip(titles, texts)], rows)
    name = lang_dir(lang)
    with storage.staged_dir(storage.join(out, BM25_DIR, name)) as local:
        builder.finish().save(local)
        return {f"{BM25_DIR}/{name}/{path.name}": sha256(path)
                for path in sorted(Path(local).iterdir())}


def run_here(calls: list[tuple[Callable, tuple]]) -> list:
    """Runs the calls one after another in this process."""
    return [function(*args) for function, args in calls]


def run_on_ray(calls: list[tuple[Callable, tuple]]) -> list:
    """Runs the calls as Ray tasks (one CPU each), anywhere in the cluster."""
    import ray

    return ray.get([ray.remote(num_cpus=1)(function).remote(*args) for function, args in calls])
