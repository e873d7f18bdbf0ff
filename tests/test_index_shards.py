"""Resumable embedding shards (units of work), FAISS factory types, sharded FAISS
indexes filled unit by unit.

Unit tests run without Ray; the tests marked `ray` drive `jobs/build_index.main` on the
shared local Ray through a resume after damage."""

import gzip
import json
import sys
from pathlib import Path

import faiss
import numpy as np
import pytest
import yaml

from rayqa.config import IndexConfig
from rayqa.data.passages import Passage, read_passage_range
from rayqa.data.records import BadRecords, DataError
from rayqa.storage import read_manifest
from rayqa.testing.tiny import build_tiny_reader
from rayqa.retrieval.embedding_shards import (EMBEDDINGS_DIR, EmbeddingShards, RowMap, Unit,
                                              merge_bad_records, plan_units)
from rayqa.retrieval.encode import build_encoder
from rayqa.retrieval.faiss_index import FaissIndex
from rayqa.retrieval.faiss_shards import (
    SHARDS_DIR,
    ShardedFaissIndex,
    fill_shard,
    load_dense_index,
    merge_topk,
    shard_edges,
    train_on_sample,
)
from rayqa.retrieval.retriever import Retriever
from rayqa.testing.dense_index import build_dense_index, save_dense_index

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
import build_index as job  # noqa: E402

FINGERPRINT = {"encoder": {"name_or_path": "m"}, "files": {}}
WORDS = ("river mountain city history music Fluss Berg Stadt ville montagne "
         "река гора город 河流 山脉 城市 नदी पहाड़").split()


def _passages(n=20, seed=0):
    rng = np.random.default_rng(seed)
    return [{"id": f"p{i}", "title": f"title {i}", "text": " ".join(rng.choice(WORDS, 12)),
             "lang": "xx", "article_id": f"a{i}"} for i in range(n)]


def _clustered(n, dim=32, clusters=40, seed=0):
    """Unit vectors around random centres: the structure IVF and HNSW exploit."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    vectors = centres[rng.integers(0, clusters, n)] + rng.normal(scale=0.3, size=(n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _exact_top(vectors, queries, k):
    return np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    texts = [f"{p['title']} {p['text']}" for p in _passages()]
    return str(build_tiny_reader(texts, tmp_path_factory.mktemp("encoder"), vocab_size=300))


def _write_units(directory, sizes, dim=8):
    """Units of `sizes` passages with clustered vectors; returns the shards and vectors."""
    shards = EmbeddingShards(str(directory))
    shards.prepare([Unit(n, "mem") for n in range(len(sizes))], FINGERPRINT)
    vectors = _clustered(sum(sizes), dim=dim)
    for number, (start, end) in enumerate(zip(np.cumsum([0, *sizes]).tolist(),
                                              np.cumsum(sizes).tolist())):
        passages = [Passage(f"p{i}", "t", "xx") for i in range(start, end)]
        shards.write(Unit(number, "mem"), passages, vectors[start:end], end - start,
                     BadRecords())
    return shards, vectors


# --- units without Ray ------------------------------------------------------------------

def test_plan_cuts_files_into_byte_ranges_and_gzipped_files_whole(tmp_path):
    plain, packed = tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz"
    plain.write_bytes(b"x" * 2500)
    packed.write_bytes(b"y" * 100)
    units = plan_units([str(plain), str(packed)], 1000)
    assert [(u.number, u.start, u.end) for u in units] == [(0, 0, 1000), (1, 1000, 2000),
                                                           (2, 2000, 2500), (3, 0, None)]
    assert units[3].path == str(packed)


@pytest.mark.parametrize("unit_bytes", [1, 7, 100, 1000, 10**6])
def test_byte_ranges_tile_a_file_and_strict_mode_names_the_file_line(tmp_path, unit_bytes):
    rows = _passages(40)
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    lines[5], lines[17], lines[30] = "{broken", "", '{"id": "x", "lang": "xx"}'
    source = tmp_path / "p.jsonl"
    source.write_text("\n".join(lines), encoding="utf-8")  # no final newline
    parts = [read_passage_range(str(source), u.start, u.end)
             for u in plan_units([str(source)], unit_bytes)]
    assert sum(part.lines for part in parts) == 40
    assert [p.id for part in parts for p in part.passages] == \
        [r["id"] for i, r in enumerate(rows) if i not in (5, 17, 30)]
    report = merge_bad_records(plan_units([str(source)], unit_bytes),
                               [{"lines": part.lines, "bad": part.report.to_dict()}
                                for part in parts])
    assert [(r.line, r.reason) for r in report.examples] == [(6, "broken_json"),
                                                             (31, "missing_field")]
    with pytest.raises(DataError, match=r"p\.jsonl:6: broken_json"):
        for unit in plan_units([str(source)], unit_bytes):
            read_passage_range(str(source), unit.start, unit.end, strict=True)


def test_gzipped_file_is_one_unit(tmp_path):
    source = tmp_path / "p.jsonl.gz"
    with gzip.open(source, "wt", encoding="utf-8") as out:
        out.writelines(json.dumps(r) + "\n" for r in _passages(5))
    (unit,) = plan_units([str(source)], 10)
    assert [p.id for p in read_passage_range(unit.path, unit.start, unit.end).passages] == \
        [f"p{i}" for i in range(5)]


def test_hashing_encoder_is_deterministic_and_normalized():
    encoder = build_encoder("hashing", max_length=8)
    vectors = encoder.encode_passages(["river"], ["city history"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(vectors, encoder.encode_queries(["river city history"]))


def test_unit_encoder_keeps_only_the_requested_languages(tmp_path):
    """``IndexJobConfig.langs`` (e.g. CORA's English index for MT+DPR): a unit keeps its
    passages in those languages, counts every line it read, and records the languages."""
    from rayqa.retrieval.encode import UnitEncoder

    rows = [{**p, "lang": ("en", "de", "zh")[i % 3]} for i, p in enumerate(_passages(9))]
    path = tmp_path / "passages.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    shards = EmbeddingShards(str(tmp_path / "index"))
    shards.prepare(plan_units([str(path)], 1 << 20), FINGERPRINT)
    step = UnitEncoder(str(tmp_path / "index"), strict=False, batch_size=4, num_threads=1,
                       langs=["en", "zh"], kind="hashing", max_length=16)
    assert step.encode_unit(shards.units[0].to_dict()) == (0, 6, "")
    manifest = shards.manifests()[0]
    assert (manifest["count"], manifest["lines"], manifest["langs"]) == (6, 9, {"en": 3, "zh": 3})
    assert shards.vectors(0).shape[0] == 6


def test_units_resume_by_manifest_and_size_and_discard_another_plan(tmp_path):
    shards, vectors = _write_units(tmp_path, [4, 4, 2])
    assert shards.missing() == []
    np.testing.assert_array_equal(shards.vectors(2), vectors[8:])
    (tmp_path / "units" / "unit-00001.json").unlink()  # killed before the done mark
    with open(tmp_path / EMBEDDINGS_DIR / "unit-00002.npy", "ab") as f:
        f.write(b"\0")  # changed after it was written
    (tmp_path / EMBEDDINGS_DIR / ".unit-00001.npy.1234.tmp").write_bytes(b"half")
    shards.prepare(shards.units, FINGERPRINT)
    assert [u.number for u in shards.missing()] == [1, 2]
    assert not list((tmp_path / EMBEDDINGS_DIR).glob(".*.tmp"))
    with pytest.raises(ValueError, match=r"unit-00001\.json: no manifest"):
        shards.manifests()
    shards.prepare(shards.units, {**FINGERPRINT, "encoder": {"name_or_path": "other"}})
    assert [u.number for u in shards.missing()] == [0, 1, 2]
    assert not (tmp_path / EMBEDDINGS_DIR).exists()
    with pytest.raises(ValueError, match=r"expected \[2, dim\]"):
        shards.write(Unit(2, "mem"), [Passage("a", "t", "xx")] * 2, vectors[:3], 2, BadRecords())


def test_row_map_and_bad_records_renumbered_per_file():
    rows = RowMap.of([{"count": 3}, {"count": 0}, {"count": 2}])
    assert rows.starts == (0, 3, 3, 5)
    units, local = rows.locate(np.array([0, 2, 3, 4]))
    assert (units.tolist(), local.tolist()) == ([0, 0, 2, 2], [0, 2, 0, 1])
    def bad(path):  # a unit's report: its line 2 is broken
        return {"counts": {"broken_json": 1}, "examples": [
            {"path": path, "reason": "broken_json", "line": 2, "location": None, "detail": ""}]}

    none = {"counts": {}, "examples": []}
    report = merge_bad_records(
        [Unit(0, "a", 0, 10), Unit(1, "a", 10, 20), Unit(2, "b", 0, 10)],
        [{"lines": 5, "bad": bad("a")}, {"lines": 4, "bad": bad("a")},
         {"lines": 3, "bad": bad("b")}])
    assert [(r.path, r.line) for r in report.examples] == [("a", 2), ("a", 7), ("b", 2)]
    assert report.counts == {"broken_json": 3}
    assert merge_bad_records([Unit(0, "a")], [{"lines": 1, "bad": none}]).total == 0


@pytest.mark.parametrize("factory,params,num_shards", [("Flat", "", 1), ("IVF16,Flat", "nprobe=3", 3)])
def test_filled_unit_by_unit_answers_like_the_in_memory_build(tmp_path, factory, params,
                                                             num_shards):
    """Training on a sample read unit by unit and filling shard by shard gives the index
    that one in-memory build of the same vectors gives."""
    shards, vectors = _write_units(tmp_path, [300, 0, 450, 250], dim=32)
    cfg = IndexConfig(factory=factory, train_sample=1000, search_params=params,
                      num_shards=num_shards)
    rows = RowMap.of(shards.manifests())
    trained = train_on_sample(str(tmp_path), rows.starts, 32, cfg)
    edges = shard_edges(rows.count, num_shards)
    parts = [fill_shard(str(tmp_path), rows.starts, (int(a), int(b)), trained, cfg,
                        None if num_shards == 1 else n, {})
             for n, (a, b) in enumerate(zip(edges, edges[1:]))]
    assert [p["count"] for p in parts] == list(np.diff(edges))
    queries = _clustered(30, dim=32, seed=1)
    expected = build_dense_index(vectors, cfg).search(queries, 10)
    if num_shards == 1:
        scores, ids = faiss.read_index(str(tmp_path / "faiss.index")).search(queries, 10)
    else:
        loaded = ShardedFaissIndex([FaissIndex.load(tmp_path / SHARDS_DIR / f"shard-{n:03d}")
                                    for n in range(num_shards)])
        for shard in loaded.shards:
            shard._prepare_search()
        scores, ids = loaded.search(queries, 10)
    np.testing.assert_array_equal(ids, expected[1])
    np.testing.assert_allclose(scores, expected[0], rtol=1e-5)


# --- FAISS factory types and shards ------------------------------------------------------

# "np" skips FAISS's polysemous PQ training: slow, and only used by polysemous search.
@pytest.mark.parametrize("factory,params,floor", [
    ("Flat", "", 1.0), ("IVF16,Flat", "nprobe=4", 0.85), ("IVF16,PQ8np", "nprobe=4", 0.6),
    ("HNSW32", "efSearch=64", 0.8), ("HNSW32,SQ8", "efSearch=64", 0.8)])
def test_factory_types_recall_and_round_trip(tmp_path, factory, params, floor):
    vectors, queries = _clustered(3000, dim=16), _clustered(50, dim=16, seed=1)
    index = FaissIndex(factory, train_sample=2000, search_params=params).build(vectors)
    index.save(tmp_path, {"encoder": {"pooling": "cls"}})
    loaded = load_dense_index(tmp_path)
    assert (loaded.manifest["factory"], loaded.manifest["count"]) == (factory, 3000)
    _, found = index.search(queries, 10)
    np.testing.assert_array_equal(loaded.search(queries, 10)[1], found)
    truth = _exact_top(vectors, queries, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
    assert recall >= floor, f"{factory}: recall@10 {recall:.2f}"


@pytest.mark.parametrize("factory,params", [("Flat", ""), ("IVF16,Flat", "nprobe=3")])
def test_sharded_index_answers_like_one_index(tmp_path, factory, params):
    """Shards share one trained quantizer, so the merge returns the unsharded top-k."""
    vectors, queries = _clustered(1000), _clustered(30, seed=1)
    cfg = IndexConfig(factory=factory, train_sample=800, search_params=params, num_shards=3)
    single = build_dense_index(vectors, cfg.model_copy(update={"num_shards": 1}))
    sharded = build_dense_index(vectors, cfg)
    assert [s.ntotal for s in sharded.shards] == [333, 333, 334]
    save_dense_index(sharded, tmp_path, {"encoder": {"pooling": "cls"}})
    loaded = load_dense_index(tmp_path)
    assert isinstance(loaded, ShardedFaissIndex) and loaded.manifest["num_shards"] == 3
    expected_scores, expected_ids = single.search(queries, 10)
    for index in (sharded, loaded):
        scores, ids = index.search(queries, 10)
        np.testing.assert_array_equal(ids, expected_ids)
        np.testing.assert_allclose(scores, expected_scores, rtol=1e-5)
    shard = read_manifest(tmp_path / SHARDS_DIR / "shard-002")
    assert (shard["count"], shard["first_row"], shard["encoder"]) == (334, 666, {"pooling": "cls"})


def test_sharded_index_rejects_changed_shards(tmp_path):
    two_shards = IndexConfig(num_shards=2)
    save_dense_index(build_dense_index(_clustered(40), two_shards), tmp_path)
    index_file = tmp_path / SHARDS_DIR / "shard-001" / "faiss.index"
    data = bytearray(index_file.read_bytes())
    data[-1] ^= 0xFF
    index_file.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"shard-001/faiss\.index: sha256 differs"):
        load_dense_index(tmp_path)
    with pytest.raises(ValueError, match="sharded index; load it with"):
        FaissIndex.load(tmp_path)

    save_dense_index(build_dense_index(_clustered(40), two_shards), tmp_path)
    shard_manifest = tmp_path / SHARDS_DIR / "shard-000" / "manifest.json"
    facts = json.loads(shard_manifest.read_text())
    shard_manifest.write_text(json.dumps({**facts, "first_row": 5}))
    with pytest.raises(ValueError, match=r"shard-000/manifest\.json: sha256 differs"):
        load_dense_index(tmp_path)
    with pytest.raises(ValueError, match=r"num_shards must be in \[1, 40\]"):
        build_dense_index(_clustered(40), IndexConfig(num_shards=41))


def test_merge_topk_keeps_best_and_puts_padding_last():
    low = np.finfo(np.float32).min  # FAISS's score for a missing (-1) result
    scores, ids = merge_topk([np.array([[0.9, 0.1]]), np.array([[0.5, low]])],
                             [np.array([[3, 4]]), np.array([[7, -1]])], k=3)
    assert ids.tolist() == [[3, 7, 4]]
    np.testing.assert_allclose(scores, [[0.9, 0.5, 0.1]])


# --- Ray: the job resume ----------------------------------------------------------------

@pytest.mark.ray
def test_job_resumes_and_builds_the_same_sharded_index(tmp_path, encoder_dir, ray_local):
    passages = tmp_path / "passages.jsonl"
    passages.write_text("".join(json.dumps(r) + "\n" for r in _passages(20)), encoding="utf-8")
    config = tmp_path / "index.yaml"
    config.write_text(yaml.safe_dump({
        "output_dir": str(tmp_path / "index"), "passages_files": [str(passages)],
        "encoder": {"name_or_path": encoder_dir, "max_length": 32, "batch_size": 4,
                    "shard_mb": 0.0005, "cpus_per_actor": 0.5},
        "index": {"num_shards": 2, "bm25": False}}), encoding="utf-8")
    out = Path(job.main(["--config", str(config)]))
    shards = EmbeddingShards(str(out))
    shards.load_plan()
    assert len(shards.units) >= 4
    queries = np.concatenate([shards.vectors(m["unit"]) for m in shards.manifests()
                              if m["count"]])  # a range inside one long line is empty
    fresh = load_dense_index(out).search(queries, 5)

    (out / "units" / "unit-00002.json").unlink()  # as if killed while encoding unit 2
    (out / EMBEDDINGS_DIR / "unit-00003.npy").write_bytes(b"truncated")
    kept = {p.name: p.stat().st_mtime_ns for p in (out / EMBEDDINGS_DIR).iterdir()}
    job.main(["--config", str(config)])
    changed = {p.name for p in (out / EMBEDDINGS_DIR).iterdir()
               if p.stat().st_mtime_ns != kept[p.name]}
    assert changed == {"unit-00002.npy", "unit-00003.npy"}
    resumed = load_dense_index(out)
    assert read_manifest(out)["num_shards"] == 2
    np.testing.assert_array_equal(resumed.search(queries, 5)[1], fresh[1])
    np.testing.assert_allclose(resumed.search(queries, 5)[0], fresh[0], atol=1e-5)
    hits = Retriever(out, mode="dense", device="cpu").search(["river mountain"], None, 3)[0]
    assert len(hits) == 3 and all(h["text"] for h in hits)
