"""Resumable embedding shards, FAISS factory types, and sharded FAISS indexes.

Unit tests run without Ray; the tests marked `ray_local` drive the Ray Data actor pool
and `jobs/build_index.main` through a resume after damage."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from rayqa.config import EncoderConfig, IndexConfig
from rayqa.models.tiny import build_tiny_reader
from rayqa.retrieval.encode import ShardEncoder, encode_passages_local, encode_to_shards
from rayqa.manifest import read_manifest
from rayqa.retrieval.faiss_index import FaissIndex
from rayqa.retrieval.retriever import Retriever
from rayqa.retrieval.sharded import (
    SHARDS_DIR,
    ShardedFaissIndex,
    build_dense_index,
    load_dense_index,
    merge_topk,
)
from rayqa.retrieval.shards import EMBEDDINGS_DIR, EmbeddingShards

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
import build_index as job  # noqa: E402

FINGERPRINT = {"encoder": {"name_or_path": "m"}, "passages_sha256": "abc"}
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


# --- embedding shards without Ray -------------------------------------------------------

def test_shards_write_load_and_find_damaged_or_missing_ones(tmp_path):
    store = EmbeddingShards(tmp_path, count=10, shard_size=4)
    store.prepare(FINGERPRINT)
    assert (store.num_shards, store.bounds(2), store.missing()) == (3, (8, 10), [0, 1, 2])
    vectors = _clustered(10, dim=8)
    for shard in (0, 2):
        store.write(shard, vectors[slice(*store.bounds(shard))])
    assert store.missing() == [1]  # an interrupted run: only some shards are done
    with pytest.raises(ValueError, match="shard-00001.json: no manifest"):
        store.load()
    store.write(1, vectors[4:8])
    np.testing.assert_array_equal(store.load(), vectors)

    data = bytearray((tmp_path / "shard-00001.npy").read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / "shard-00001.npy").write_bytes(bytes(data))
    assert store.missing() == [1]
    with pytest.raises(ValueError, match=r"shard-00001\.npy: sha256 differs"):
        store.load()
    with pytest.raises(ValueError, match=r"expected \[4, dim\]"):
        store.write(1, vectors[:3])


def test_prepare_discards_shards_of_another_plan_and_temporaries(tmp_path):
    store = EmbeddingShards(tmp_path, count=4, shard_size=2)
    store.prepare(FINGERPRINT)
    store.write(0, _clustered(2, dim=4))
    (tmp_path / ".shard-00001.npy.tmp").write_bytes(b"half")  # a killed writer's leftover
    store.prepare(FINGERPRINT)
    assert store.missing() == [1] and not (tmp_path / ".shard-00001.npy.tmp").exists()
    store.prepare({**FINGERPRINT, "encoder": {"name_or_path": "other"}})
    assert store.missing() == [0, 1] and not list(tmp_path.glob("shard-*"))
    assert EmbeddingShards(tmp_path, count=4, shard_size=3).num_shards == 2


def test_shard_encoder_step_writes_what_the_local_loop_computes(tmp_path, encoder_dir):
    rows = _passages(7)
    step = ShardEncoder(str(tmp_path), count=7, shard_size=4, batch_size=3,
                        name_or_path=encoder_dir, max_length=32, device="cpu")
    out = step({"shard": np.array([1]), "title": np.array([[r["title"] for r in rows[4:]]]),
                "text": np.array([[r["text"] for r in rows[4:]]])})
    assert (list(out["shard"]), list(out["count"])) == ([1], [3])
    assert step.store.missing() == [0]
    local = encode_passages_local(rows[4:], EncoderConfig(name_or_path=encoder_dir,
                                                          max_length=32, batch_size=3))
    np.testing.assert_allclose(np.load(tmp_path / "shard-00001.npy"), local, atol=1e-5)


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
    sharded.save(tmp_path, {"encoder": {"pooling": "cls"}})
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
    ShardedFaissIndex.build(_clustered(40), 2, IndexConfig()).save(tmp_path)
    index_file = tmp_path / SHARDS_DIR / "shard-001" / "faiss.index"
    data = bytearray(index_file.read_bytes())
    data[-1] ^= 0xFF
    index_file.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"shard-001/faiss\.index: sha256 differs"):
        load_dense_index(tmp_path)
    with pytest.raises(ValueError, match="sharded index; load it with"):
        FaissIndex.load(tmp_path)

    ShardedFaissIndex.build(_clustered(40), 2, IndexConfig()).save(tmp_path)
    shard_manifest = tmp_path / SHARDS_DIR / "shard-000" / "manifest.json"
    facts = json.loads(shard_manifest.read_text())
    shard_manifest.write_text(json.dumps({**facts, "first_row": 5}))
    with pytest.raises(ValueError, match=r"shard-000/manifest\.json: sha256 differs"):
        load_dense_index(tmp_path)
    with pytest.raises(ValueError, match=r"num_shards must be in \[1, 40\]"):
        ShardedFaissIndex.build(_clustered(40), 41, IndexConfig())


def test_merge_topk_keeps_best_and_puts_padding_last():
    low = np.finfo(np.float32).min  # FAISS's score for a missing (-1) result
    scores, ids = merge_topk([np.array([[0.9, 0.1]]), np.array([[0.5, low]])],
                             [np.array([[3, 4]]), np.array([[7, -1]])], k=3)
    assert ids.tolist() == [[3, 7, 4]]
    np.testing.assert_allclose(scores, [[0.9, 0.5, 0.1]])


# --- Ray: the actor pool and the job resume ---------------------------------------------

@pytest.mark.ray
def test_rerun_encodes_only_missing_and_damaged_shards(tmp_path, encoder_dir, ray_local):
    rows = _passages(20)
    cfg = EncoderConfig(name_or_path=encoder_dir, max_length=32, batch_size=4, shard_size=6)
    assert encode_to_shards(rows, tmp_path, cfg, FINGERPRINT) == [0, 1, 2, 3]
    mtimes = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("shard-*")}
    (tmp_path / "shard-00001.json").unlink()  # killed after the vectors, before the mark
    (tmp_path / "shard-00002.npy").write_bytes(b"truncated")
    assert encode_to_shards(rows, tmp_path, cfg, FINGERPRINT) == [1, 2]
    for name in ("shard-00000.npy", "shard-00000.json", "shard-00003.npy"):
        assert (tmp_path / name).stat().st_mtime_ns == mtimes[name]  # not rewritten
    assert encode_to_shards(rows, tmp_path, cfg, FINGERPRINT) == []
    np.testing.assert_allclose(EmbeddingShards(tmp_path, 20, 6).load(),
                               encode_passages_local(rows, cfg), atol=1e-5)


@pytest.mark.ray
def test_job_resumes_and_builds_the_same_sharded_index(tmp_path, encoder_dir, ray_local):
    passages = tmp_path / "passages.jsonl"
    passages.write_text("".join(json.dumps(r) + "\n" for r in _passages(20)), encoding="utf-8")
    config = tmp_path / "index.yaml"
    config.write_text(yaml.safe_dump({
        "output_dir": str(tmp_path / "index"), "passages_files": [str(passages)],
        "encoder": {"name_or_path": encoder_dir, "max_length": 32, "batch_size": 4,
                    "shard_size": 7},
        "index": {"num_shards": 2, "bm25": False}}), encoding="utf-8")
    out = job.main(["--config", str(config)])
    queries = EmbeddingShards(out / EMBEDDINGS_DIR, 20, 7).load()
    fresh = load_dense_index(out).search(queries, 5)

    (out / EMBEDDINGS_DIR / "shard-00002.json").unlink()  # as if killed while encoding
    kept = (out / EMBEDDINGS_DIR / "shard-00000.npy").stat().st_mtime_ns
    job.main(["--config", str(config)])
    assert (out / EMBEDDINGS_DIR / "shard-00000.npy").stat().st_mtime_ns == kept
    resumed = load_dense_index(out)
    assert read_manifest(out)["num_shards"] == 2
    np.testing.assert_array_equal(resumed.search(queries, 5)[1], fresh[1])
    np.testing.assert_allclose(resumed.search(queries, 5)[0], fresh[0], atol=1e-5)
    hits = Retriever(out, mode="dense", device="cpu").search(["river mountain"], None, 3)[0]
    assert len(hits) == 3 and all(h["text"] for h in hits)
