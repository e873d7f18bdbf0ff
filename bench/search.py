"""Dense search: rayqa's index layer vs raw FAISS, and approximate indexes vs Flat.

    python bench/search.py [--n 1000000] [--dim 64] [--queries 1000]

Data: `--n` float32 unit vectors around `--clusters` random centres, spread in a
16-dim subspace (the cluster and low-rank structure that real passage embeddings have
and that IVF and HNSW exploit), plus `--queries` query vectors from the same
distribution. All indexes use inner product.

(a) Overhead: the same saved index file searched through `load_dense_index(...).search`
    (what `Retriever` calls: manifest checks at load, shape checks per call) and through
    `faiss.read_index(...).search` with the same search parameters, with one query per
    call (the Serve case, where fixed per-call costs show most; one FAISS thread, see
    `overhead`) and with all queries in one call (batch retrieval). The ratio is raw
    q/s over rayqa q/s: 1.0 means no overhead. Measured on the first approximate index, the fastest per
    query, so the wrapper's share is the largest it gets.
(b) Each approximate factory vs Flat (exact): queries/s of a batched search, the speedup
    over Flat, and recall@10 against Flat's results, so the recall ratio is recall/1.0.

Build and train times are printed but not compared; training uses `--train-sample`
vectors as the index job does (`index.train_sample`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.retrieval.faiss_index import INDEX_FILE, FaissIndex  # noqa: E402
from rayqa.retrieval.faiss_shards import load_dense_index  # noqa: E402


def clustered_vectors(n: int, dim: int, clusters: int, seed: int, rank: int = 16) -> np.ndarray:
    """`n` unit vectors: a random unit centre plus noise in a shared `rank`-dim subspace.

    Real embeddings vary along far fewer directions than they have dimensions; noise
    in all `dim` directions would make nearest neighbours close to random (and every
    approximate index look bad), so the spread lies in a random `rank`-dim subspace.
    """
    rng = np.random.default_rng(0)  # the same centres and subspace for data and queries
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    basis = np.linalg.qr(rng.normal(size=(dim, rank)))[0].T.astype(np.float32)
    rng = np.random.default_rng(seed)
    vectors = centres[rng.integers(0, clusters, n)]
    vectors += rng.normal(scale=0.8 / np.sqrt(rank), size=(n, rank)).astype(np.float32) @ basis
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def queries_per_second(search, queries: np.ndarray, k: int, batch: int,
                       min_seconds: float = 1.0) -> tuple[float, np.ndarray]:
    """Runs `search` over `queries` in calls of `batch` until `min_seconds` have passed.

    Returns:
        Queries per second and the ids of the last pass.
    """
    done, ids, start = 0, None, time.perf_counter()
    while True:
        ids = np.concatenate([search(queries[i:i + batch], k)[1]
                              for i in range(0, len(queries), batch)])
        done += len(queries)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed, ids


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each query's true top-k found in its returned top-k."""
    k = truth.shape[1]
    return float(np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth)]))


def overhead(index: FaissIndex, queries: np.ndarray, k: int) -> list[dict]:
    """Part (a): saved `index` searched through rayqa and through raw FAISS."""
    with tempfile.TemporaryDirectory() as tmp:
        index.save(tmp)
        rayqa_index = load_dense_index(tmp, use_gpu=False)
        raw = faiss.read_index(str(Path(tmp) / INDEX_FILE))
    if index.search_params:
        faiss.ParameterSpace().set_index_parameters(raw, index.search_params)
    rows, threads = [], faiss.omp_get_max_threads()
    for batch in (1, len(queries)):
        # One query per call cannot be split across threads; an OpenMP team per call only
        # adds start-up jitter (milliseconds on a busy machine) that would hide the
        # wrapper's cost, so single-query calls run on one FAISS thread on both sides.
        faiss.omp_set_num_threads(1 if batch == 1 else threads)
        # Alternate the sides and keep each one's best of three, so neither pays for
        # warm-up or for a burst of load from other processes alone.
        raw_runs, our_runs = [], []
        for _ in range(3):
            raw_runs.append(queries_per_second(raw.search, queries, k, batch))
            our_runs.append(queries_per_second(rayqa_index.search, queries, k, batch))
        if not np.array_equal(raw_runs[-1][1], our_runs[-1][1]):
            raise AssertionError("rayqa and raw FAISS disagree on the same index")
        raw_qps, our_qps = max(r[0] for r in raw_runs), max(r[0] for r in our_runs)
        rows.append({"batch": batch, "threads": faiss.omp_get_max_threads(), "raw_qps": raw_qps,
                     "rayqa_qps": our_qps, "ratio": raw_qps / our_qps})
    faiss.omp_set_num_threads(threads)
    return rows


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="indexed vectors")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--clusters", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--train-sample", type=int, default=100_000)
    parser.add_argument("--factory", action="append", metavar="FACTORY[:PARAMS]",
                        help="approximate index, e.g. 'IVF1024,Flat:nprobe=16' (repeatable; "
                             "default IVF1024,Flat:nprobe=16 and HNSW32:efSearch=64)")
    return parser.parse_args(argv)


def build(factory: str, params: str, vectors: np.ndarray, train_sample: int) -> FaissIndex:
    start = time.perf_counter()
    index = FaissIndex(factory, train_sample, params, use_gpu=False).build(vectors)
    print(f"built {factory!r} ({params or 'defaults'}) in {time.perf_counter() - start:.1f}s",
          flush=True)
    return index


def main(argv=None) -> dict:
    args = parse_args(argv)
    specs = [spec.partition(":")[::2] for spec in
             (args.factory or ["HNSW32:efSearch=64", "IVF1024,Flat:nprobe=16"])]
    vectors = clustered_vectors(args.n, args.dim, args.clusters, seed=0)
    queries = clustered_vectors(args.queries, args.dim, args.clusters, seed=1)
    print(f"n={args.n} dim={args.dim} clusters={args.clusters} queries={args.queries} "
          f"k={args.k} faiss={faiss.__version__} threads={faiss.omp_get_max_threads()}")
    flat = build("Flat", "", vectors, args.train_sample)
    flat_qps, truth = queries_per_second(flat.search, queries, args.k, len(queries))
    print(f"\n(b) approximate vs Flat, batched search of {args.queries} queries")
    print(f"{'index':34s} {'queries/s':>10s} {'speedup':>8s} {'recall@10':>10s} {'ratio':>6s}")
    print(f"{'Flat (exact)':34s} {flat_qps:10.1f} {1.0:7.2f}x {1.0:10.3f} {1.0:6.3f}")
    results = {"flat_qps": flat_qps, "approximate": [], "overhead": []}
    first = None
    for factory, params in specs:
        index = build(factory, params, vectors, args.train_sample)
        qps, found = queries_per_second(index.search, queries, args.k, len(queries))
        recall = recall_at_k(found, truth)
        name = f"{factory} ({params})" if params else factory
        print(f"{name:34s} {qps:10.1f} {qps / flat_qps:7.2f}x {recall:10.3f} {recall:6.3f}")
        results["approximate"].append({"factory": factory, "params": params, "qps": qps,
                                       "speedup": qps / flat_qps, "recall": recall})
        first = first or (name, index)
    print(f"\n(a) rayqa load_dense_index(...).search vs raw faiss index.search, {first[0]}")
    print(f"{'queries per call':>16s} {'threads':>7s} {'raw q/s':>10s} {'rayqa q/s':>10s} "
          f"{'raw/rayqa':>10s}")
    for row in overhead(first[1], queries, args.k):
        print(f"{row['batch']:16d} {row['threads']:7d} {row['raw_qps']:10.1f} "
              f"{row['rayqa_qps']:10.1f} {row['ratio']:9.3f}x")
        results["overhead"].append(row)
    return results


if __name__ == "__main__":
    main()
