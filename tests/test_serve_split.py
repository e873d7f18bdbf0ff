"""Split retrieval in Serve (`split_retrieval: true`) over a two-shard index on S3: a
QueryEncoder, one Searcher per FAISS shard and one BM25 per language behind the merging
Retriever. The service must answer exactly what the one-process `Retriever` answers,
report every part in `/healthz`, and each part must have fetched only its own files."""

import json
from pathlib import Path

import httpx
import pytest

from rayqa import storage
from rayqa.testing.service import (PASSAGES, QUESTIONS, kill_replica_under_load,
                                   wait_healthy)

pytestmark = pytest.mark.ray
PORT = 8125
LANGS = sorted({p["lang"] for p in PASSAGES})


@pytest.fixture(scope="module")
def service(ray_local, s3_root, tmp_path_factory):
    """The app over the index uploaded to S3, and that index's URI."""
    from ray import serve

    from rayqa.serve.app import start
    from rayqa.testing.service import build_tiny_service

    args = build_tiny_service(tmp_path_factory.mktemp("split"), num_shards=2, generator=False)
    index = f"{s3_root}/split-index"
    storage.upload_dir(args["index_dir"], index)
    small = {"num_cpus": 0.1, "max_batch_size": 4, "batch_wait_timeout_s": 0.02}
    try:
        start({**args, "index_dir": index, "split_retrieval": True,
               "retriever_mode": "hybrid", "max_top_k": len(PASSAGES),
               "ingress": {"num_cpus": 0.1}, "retriever": small, "encoder": small,
               "searcher": small, "bm25": small, "reader": small},
              host="127.0.0.1", port=PORT)
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=120) as http:
            yield http, index
    finally:
        serve.shutdown()


def test_every_part_is_deployed_and_reported(service):
    http, _ = service
    health = wait_healthy(http)
    parts = {"retriever", "reader", "query_encoder", "searcher-000", "searcher-001",
             *(f"bm25-{lang}" for lang in LANGS)}
    assert health["status"] == "ok" and set(health["deployments"]) == parts, health
    assert health["index_size"] == len(PASSAGES)
    models = http.get("/v1/info").json()["models"]
    shards = [models["searcher-000"], models["searcher-001"]]
    assert [s["first_row"] for s in shards] == [0, shards[0]["count"]]
    assert sum(s["count"] for s in shards) == len(PASSAGES)
    assert {models[f"bm25-{lang}"]["count"] for lang in LANGS} == {
        sum(p["lang"] == lang for p in PASSAGES) for lang in LANGS}


def test_each_part_fetched_only_its_own_files(service):
    http, index = service
    http.get("/healthz")  # every replica has started
    # The cache entries of this index (other tests of this process cache theirs too).
    manifest = storage.read_bytes(f"{index}/manifest.json")
    fetched = [sorted(str(f.relative_to(entry)) for f in entry.rglob("*") if f.is_file())
               for entry in storage.cache_root().iterdir() if not entry.name.startswith(".")
               and (entry / "manifest.json").is_file()
               and (entry / "manifest.json").read_bytes() == manifest]
    shard_files = {tuple(f for f in files if f.startswith("faiss_shards/")) for files in fetched}
    assert shard_files >= {("faiss_shards/shard-000/faiss.index",
                            "faiss_shards/shard-000/manifest.json"),
                           ("faiss_shards/shard-001/faiss.index",
                            "faiss_shards/shard-001/manifest.json")}, fetched
    bm25_langs = [{Path(f).parts[1] for f in files if f.startswith("bm25/")}
                  for files in fetched]
    assert sorted(len(langs) for langs in bm25_langs if langs) == [1] * len(LANGS), fetched
    # The merger holds the passage store and nothing of the search indexes.
    (store,) = [files for files in fetched if "passages/ids.arrow" in files]
    assert not [f for f in store if f.startswith(("faiss", "bm25"))], store


@pytest.mark.parametrize("lang", [None, "given"])
def test_answers_equal_the_one_process_retriever(service, tmp_path, monkeypatch, lang):
    from rayqa.retrieval.retriever import Retriever

    http, index = service
    monkeypatch.setenv(storage.CACHE_ENV, str(tmp_path / "cache"))  # keep the parts' cache
    whole = Retriever(index, "hybrid")
    langs = ["en", "de", "zh", "en"]
    for question, question_lang in zip(QUESTIONS, langs):
        code = question_lang if lang else None
        expected = whole.search([question], [code], len(PASSAGES))[0]
        body = {"question": question, "top_k": len(PASSAGES), **({"lang": code} if code else {})}
        reply = http.post("/v1/retrieve", json=body)
        assert reply.status_code == 200, reply.text
        got = reply.json()["passages"]
        assert [p["id"] for p in got] == [p["id"] for p in expected], question
        assert [p["score"] for p in got] == pytest.approx([p["score"] for p in expected])


def test_killed_searcher_replica_is_replaced_and_a_retrying_client_loses_nothing(service):
    """One shard's only replica dies under load: requests needing it wait for the new
    one or get 503 and Retry-After (never a partial top-k from the other shard)."""
    from rayqa.serve.loadgen import make_requests

    http, _ = service
    limits = http.get("/v1/info").json()["limits"]
    requests = make_requests(160, limits, ["extractive"], malformed_fraction=0, seed=11)
    outages, report = kill_replica_under_load(http, f"http://127.0.0.1:{PORT}",
                                              "Searcher-001", requests)
    assert report.server_errors == 0 and report.wrong_count == 0, report.wrong
    assert report.by_kind["valid 200"] == len(requests)
    for body in outages:  # where a poll caught the outage (see kill_replica_under_load)
        assert body["status"] == "degraded", body


def test_a_searcher_serves_an_unsharded_index_whole(ray_local, tmp_path):
    """With one shard the Searcher loads the top-level `faiss.index`, checked against
    the index manifest (and refuses it when it changed)."""
    import numpy as np

    from rayqa.config import IndexJobConfig
    from rayqa.retrieval.build import build_index
    from rayqa.retrieval.faiss_index import INDEX_FILE, FaissIndex
    from rayqa.serve.retrieval import SearcherDeployment
    from rayqa.testing.tiny import build_tiny_reader

    passages = tmp_path / "passages.jsonl"
    passages.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in PASSAGES),
                        encoding="utf-8")
    encoder = build_tiny_reader([p["text"] for p in PASSAGES], tmp_path / "enc",
                                vocab_size=300)
    index = build_index(IndexJobConfig.model_validate({
        "output_dir": str(tmp_path / "index"), "passages_files": [str(passages)],
        "encoder": {"name_or_path": str(encoder), "max_length": 32, "batch_size": 4,
                    "cpus_per_actor": 0.25}, "index": {"bm25": False}}))
    searcher = SearcherDeployment.func_or_class(str(index), 0)
    assert searcher.info() == {"shard": 0, "first_row": 0, "count": len(PASSAGES),
                               "factory": "Flat"}
    queries = np.random.default_rng(0).standard_normal((3, searcher._index.dim), np.float32)
    expected = FaissIndex.load(index).search(queries, 4)
    got = searcher._index.search(queries, 4)
    assert (got[1] == expected[1]).all()
    with open(Path(index) / INDEX_FILE, "ab") as file:
        file.write(b"changed")
    with pytest.raises(ValueError, match="sha256 differs"):
        SearcherDeployment.func_or_class(str(index), 0)
