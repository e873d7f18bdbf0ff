"""Memory-mapped FAISS loads: the same answers as an in-memory load, for single and
sharded indexes, and the vectors left out of the process's anonymous memory (measured
in a fresh subprocess)."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rayqa.config import IndexConfig
from rayqa.retrieval import faiss_index
from rayqa.retrieval.faiss_index import INDEX_FILE, FaissIndex
from rayqa.retrieval.faiss_shards import SHARDS_DIR, load_dense_index
from rayqa.testing.dense_index import build_dense_index, save_dense_index

REPO = Path(__file__).resolve().parents[1]

# Loads an index in a fresh process and prints how much its anonymous (private) resident
# memory grew over the load and one search; page-cache pages of a mapped file are not in it.
_MEASURE = """
import json, sys
import numpy as np
from rayqa.retrieval.faiss_index import FaissIndex

def rss_anon_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("RssAnon:"))

query = np.ones((1, int(sys.argv[3])), np.float32)
before = rss_anon_kib()
index = FaissIndex.load(sys.argv[1], use_gpu=False, mmap=sys.argv[2] == "mmap")
index.search(query, 10)
print(json.dumps({"growth_kib": rss_anon_kib() - before, "mapped": index.mapped}))
"""


def _vectors(n, dim=16, seed=0):
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.mark.parametrize("num_shards", [1, 3])
@pytest.mark.parametrize("factory,params", [("Flat", ""), ("IVF8,Flat", "nprobe=3"),
                                            ("IVF8,PQ4x4np", "nprobe=3"),
                                            ("HNSW16", "efSearch=32")])
def test_mapped_load_answers_like_an_in_memory_load(tmp_path, factory, params, num_shards):
    cfg = IndexConfig(factory=factory, train_sample=1000, search_params=params,
                      num_shards=num_shards)
    save_dense_index(build_dense_index(_vectors(1200), cfg), tmp_path)
    queries = _vectors(40, seed=1)
    in_memory = load_dense_index(tmp_path, use_gpu=False, mmap=False)
    mapped = load_dense_index(tmp_path, use_gpu=False)  # mmap is the default
    shards = getattr(mapped, "shards", [mapped])
    assert len(shards) == num_shards and all(shard.mapped for shard in shards)
    assert not any(shard.mapped for shard in getattr(in_memory, "shards", [in_memory]))
    expected_scores, expected_ids = in_memory.search(queries, 10)
    scores, ids = mapped.search(queries, 10)
    np.testing.assert_array_equal(ids, expected_ids)
    np.testing.assert_array_equal(scores, expected_scores)  # the same bytes, the same code


def test_mapped_index_is_read_only_and_still_checksummed(tmp_path):
    FaissIndex().build(_vectors(50)).save(tmp_path)
    mapped = FaissIndex.load(tmp_path, use_gpu=False)
    # FAISS would abort the process on growing a mapped array; rayqa refuses first.
    with pytest.raises(ValueError, match="memory-mapped index is read-only"):
        mapped.add(_vectors(2), np.arange(50, 52))
    writable = FaissIndex.load(tmp_path, use_gpu=False, mmap=False)
    writable.add(_vectors(2), np.arange(50, 52))
    assert writable.ntotal == 52
    data = bytearray((tmp_path / INDEX_FILE).read_bytes())
    data[-1] ^= 0xFF
    (tmp_path / INDEX_FILE).write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"faiss\.index: sha256 differs"):
        FaissIndex.load(tmp_path, use_gpu=False)


def test_fast_scan_index_falls_back_to_an_in_memory_read_logged_once(tmp_path, caplog,
                                                                     monkeypatch):
    """FAISS re-lays fast-scan codes at load, so mapping the file would save nothing."""
    monkeypatch.setattr(faiss_index, "_LOGGED_UNMAPPED", set())
    cfg = IndexConfig(factory="IVF4,PQ4x4fs", train_sample=500, search_params="nprobe=2",
                      num_shards=2)
    save_dense_index(build_dense_index(_vectors(600), cfg), tmp_path)
    with caplog.at_level(logging.WARNING, logger=faiss_index.__name__):
        loaded = load_dense_index(tmp_path, use_gpu=False)
    assert not any(shard.mapped for shard in loaded.shards)
    assert len([r for r in caplog.records if "cannot memory-map" in r.message]) == 1
    queries = _vectors(10, seed=1)
    np.testing.assert_array_equal(loaded.search(queries, 5)[1],
                                  load_dense_index(tmp_path, use_gpu=False,
                                                   mmap=False).search(queries, 5)[1])


def test_mapped_load_keeps_the_vectors_out_of_anonymous_memory(tmp_path):
    """An in-memory load grows private memory by about the index size; a mapped one
    leaves the vectors in the shared page cache. Each load runs in a fresh process."""
    if not Path("/proc/self/status").is_file():
        pytest.skip("needs Linux /proc to read RssAnon")
    dim = 128
    FaissIndex("Flat").build(_vectors(200_000, dim)).save(tmp_path)
    index_kib = (tmp_path / INDEX_FILE).stat().st_size / 1024  # about 100 MiB
    # One thread: the measurement is the index, not thread arenas.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    growth = {}
    for how in ("mmap", "memory"):
        result = subprocess.run([sys.executable, "-c", _MEASURE, str(tmp_path), how, str(dim)],
                                cwd=REPO, env=env, capture_output=True, text=True, check=True)
        growth[how] = json.loads(result.stdout.splitlines()[-1])
    assert growth["mmap"]["mapped"] and not growth["memory"]["mapped"]
    assert growth["memory"]["growth_kib"] > 0.75 * index_kib, growth
    assert growth["mmap"]["growth_kib"] < 0.25 * index_kib, growth


def test_sharded_mapped_index_maps_every_shard_file(tmp_path):
    """Each shard is a mapping of its own file (visible in /proc/self/maps on Linux)."""
    if not Path("/proc/self/maps").is_file():
        pytest.skip("needs Linux /proc to list mappings")
    cfg = IndexConfig(factory="Flat", num_shards=2)
    save_dense_index(build_dense_index(_vectors(300), cfg), tmp_path)
    loaded = load_dense_index(tmp_path, use_gpu=False)  # kept alive: its shards map
    maps = Path("/proc/self/maps").read_text()
    for number in range(2):
        path = (tmp_path / SHARDS_DIR / f"shard-{number:03d}" / INDEX_FILE).resolve()
        assert str(path) in maps
    assert loaded.ntotal == 300
