"""The QA service under load: batching vs none, and HTTP + Serve vs in-process.

    python bench/serve.py [--requests 400] [--concurrency 1 8 32] [--mode extractive]
                          [--index-dir D --reader-dir R [--generator-dir G]]

Without directories it builds the tiny service of the tests (`rayqa.testing.service`:
seven passages in four languages, a 2-layer reader, a tiny mT5) in a temp folder; give
`make demo`'s `runs/demo/index` and `runs/demo/reader/final` (or a CORA run's) to
measure those. All runs use the same local Ray (2 CPUs) and one replica per deployment.

(a) Throughput and latency: `--requests` valid questions (`rayqa.serve.loadgen`) at
    each `--concurrency`, first with batching (`max_batch_size` 16, a 5 ms wait) and
    then without (`max_batch_size` 1, no wait). Prints requests/s, p50 and p99, and the
    ratio batched/unbatched throughput per concurrency (target >= 3 at 32).
(b) Overhead: the same pipeline in this process (`Retriever.search` then the reader's
    `answer_batch`, one question at a time, as the deployments call them) against HTTP
    at concurrency 1 without batching. Prints both p50s and their difference (target
    <= 10 ms). Measured before Serve starts, so the two do not share the CPUs; note
    that Ray workers run at nice 15 while this process does not.
(c) Replica start: seconds to load the index (Retriever) and the models in a fresh
    process, and how long `serve.run` takes until every replica is healthy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.serve.loadgen import make_requests, percentile_ms, run_load  # noqa: E402

PORT = 8131
BASE_URL = f"http://127.0.0.1:{PORT}"
LIMITS = {"max_top_k": 5, "max_body_bytes": 65536, "max_question_chars": 1000}

_LOAD_SNIPPET = """
import json, sys, time
started = time.perf_counter()
from rayqa.retrieval.retriever import Retriever
Retriever(sys.argv[1], sys.argv[2])
index_s = time.perf_counter() - started
started = time.perf_counter()
from rayqa.answer.extractive import ExtractiveReader
ExtractiveReader(sys.argv[3])
print(json.dumps({"index": index_s, "reader": time.perf_counter() - started}))
"""


def in_process_latencies(args, requests) -> list[float]:
    """Seconds per question of the pipeline called directly, one question at a time."""
    from rayqa.answer.extractive import ExtractiveReader
    from rayqa.retrieval.retriever import Retriever

    retriever = Retriever(args.index_dir, args.retriever_mode)
    reader = ExtractiveReader(args.reader_dir)
    latencies = []
    for request in requests:
        body = json.loads(request.content)
        started = time.perf_counter()
        (hits,) = retriever.search([body["question"]], [body.get("lang")], body["top_k"])
        reader.answer_batch([body["question"]], [[hit["text"] for hit in hits]])
        latencies.append(time.perf_counter() - started)
    return latencies


def app_args(args, batch_size: int, wait_s: float) -> dict:
    """The service's args with one replica per deployment and the given batching."""
    batching = {"max_batch_size": batch_size, "batch_wait_timeout_s": wait_s,
                "max_ongoing_requests": 64}
    served = {"index_dir": args.index_dir, "reader_dir": args.reader_dir,
              "retriever_mode": args.retriever_mode, "default_mode": args.mode,
              "ingress": {"num_cpus": 0.1, "max_ongoing_requests": 256},
              "retriever": {"num_cpus": 0.1, **batching},
              "reader": {"num_cpus": 0.1, **batching}, **LIMITS}
    if args.generator_dir:
        served["generator_dir"] = args.generator_dir
        served["generator"] = {"num_cpus": 0.1, **batching, "max_new_tokens": 8}
    return served


def measure_service(args, name: str, batch_size: int, wait_s: float) -> dict:
    """Starts the service with this batching, measures every concurrency, stops it."""
    from ray import serve

    from rayqa.serve.app import start

    started = time.perf_counter()
    start(app_args(args, batch_size, wait_s), port=PORT)
    deploy_s = time.perf_counter() - started
    results = {"deploy_s": deploy_s}
    try:
        warmup = make_requests(32, LIMITS, [args.mode], malformed_fraction=0, seed=1)
        asyncio.run(run_load(BASE_URL, warmup, 8))
        for concurrency in args.concurrency:
            requests = make_requests(args.requests, LIMITS, [args.mode], malformed_fraction=0,
                                     seed=concurrency)
            report = asyncio.run(run_load(BASE_URL, requests, concurrency))
            if report.wrong_count:
                raise SystemExit(f"{name} at {concurrency}: wrong answers\n{report.summary()}")
            results[concurrency] = report
            print(f"{name:>9} c={concurrency:<3} {report.sent / report.elapsed_s:8.1f} req/s  "
                  f"p50 {percentile_ms(report.latencies_s, 0.5):8.1f} ms  "
                  f"p99 {percentile_ms(report.latencies_s, 0.99):8.1f} ms", flush=True)
    finally:
        serve.shutdown()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--mode", choices=["extractive", "generative"], default="extractive")
    parser.add_argument("--retriever-mode", default="hybrid")
    parser.add_argument("--index-dir")
    parser.add_argument("--reader-dir")
    parser.add_argument("--generator-dir")
    args = parser.parse_args()

    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    tmp = tempfile.TemporaryDirectory(prefix="rayqa-bench-serve-")
    if not (args.index_dir and args.reader_dir):
        from rayqa.testing.service import build_tiny_service

        built = build_tiny_service(tmp.name)
        args.index_dir, args.reader_dir = built["index_dir"], built["reader_dir"]
        args.generator_dir = args.generator_dir or built["generator_dir"]

    # (c) load times in a fresh process (imports included: what a new replica pays).
    out = subprocess.run([sys.executable, "-c", _LOAD_SNIPPET, args.index_dir,
                          args.retriever_mode, args.reader_dir],
                         capture_output=True, text=True, check=True)
    loads = json.loads(out.stdout.strip().splitlines()[-1])

    # (b) the pipeline in this process, before Serve takes the CPUs.
    requests = make_requests(min(args.requests, 200), LIMITS, [args.mode], malformed_fraction=0,
                             seed=1)
    in_process = in_process_latencies(args, requests)

    # (a) the service, batched then not.
    batched = measure_service(args, "batched", 16, 0.005)
    unbatched = measure_service(args, "unbatched", 1, 0.0)
    ray.shutdown()

    print("\nthroughput, batched / unbatched:")
    for concurrency in args.concurrency:
        b, u = batched[concurrency], unbatched[concurrency]
        ratio = (b.sent / b.elapsed_s) / (u.sent / u.elapsed_s)
        print(f"  concurrency {concurrency:>3}: {ratio:.2f}x")
    if 1 in args.concurrency:
        http_p50 = percentile_ms(unbatched[1].latencies_s, 0.5)
        local_p50 = percentile_ms(in_process, 0.5)
        print(f"\nHTTP + Serve p50 {http_p50:.1f} ms vs in-process p50 {local_p50:.1f} ms: "
              f"overhead {http_p50 - local_p50:.1f} ms")
    print(f"\nreplica start (fresh process, imports included): index {loads['index']:.1f} s, "
          f"reader {loads['reader']:.1f} s; serve.run until healthy: batched "
          f"{batched['deploy_s']:.1f} s, unbatched {unbatched['deploy_s']:.1f} s")


if __name__ == "__main__":
    main()
