"""The QA service under 10,000 requests with 5% malformed, optionally losing a replica.

    python bench/serve_load.py [--requests 10000] [--concurrency 32]
                               [--kill reader|retriever|generator] [--kill-after-s 10]

Serves the tiny service of the tests (`rayqa.testing.service`, both answer modes) on
local Ray and sends `--requests` requests (`rayqa.serve.loadgen`: 5% malformed, one of
each kind at least: wrong types, empty, oversized, invalid JSON, unknown fields,
unknown language, question over the cap, top_k over the maximum). Every answer is
checked: valid -> 200 with an answer, malformed -> its 4xx naming the field, never a
5xx. With `--kill`, that deployment's replica is killed `--kill-after-s` into the run;
the client retries 503s after their Retry-After, and the script prints how long until
`/healthz` was whole again and whether any request was lost. Exits 1 when an answer
was wrong or a 5xx was final.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.serve.loadgen import make_requests, run_load  # noqa: E402
from rayqa.testing.service import serve_replicas  # noqa: E402

PORT = 8132
BASE_URL = f"http://127.0.0.1:{PORT}"
DEPLOYMENTS = {"reader": "Reader", "retriever": "Retriever", "generator": "Generator"}


def kill_and_watch(deployment: str, after_s: float, seen: dict) -> None:
    """Kills the deployment's replica after `after_s`, then polls /healthz until the
    outage is over; records what it saw in `seen`."""
    import ray

    time.sleep(after_s)
    (victim,) = serve_replicas("rayqa", deployment)
    killed = time.monotonic()
    ray.kill(ray.get_actor(victim, namespace="serve"), no_restart=True)
    with httpx.Client(base_url=BASE_URL, timeout=30) as client:
        while time.monotonic() - killed < 120:
            health = client.get("/healthz")
            if health.status_code == 503:
                seen.setdefault("outage_reported", health.json()["deployments"])
            elif serve_replicas("rayqa", deployment) - {victim}:
                seen["whole_after_s"] = time.monotonic() - killed
                return
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--malformed", type=float, default=0.05)
    parser.add_argument("--kill", choices=sorted(DEPLOYMENTS))
    parser.add_argument("--kill-after-s", type=float, default=10.0)
    args = parser.parse_args()

    import ray
    from ray import serve

    from rayqa.serve.app import start
    from rayqa.testing.service import build_tiny_service

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    tmp = tempfile.TemporaryDirectory(prefix="rayqa-bench-load-")
    small = {"num_cpus": 0.25, "max_batch_size": 16, "batch_wait_timeout_s": 0.005,
             "health_check_period_s": 1.0}
    served = {**build_tiny_service(tmp.name), "retriever_mode": "hybrid", "max_top_k": 5,
              "max_question_chars": 300, "max_body_bytes": 8192,
              "ingress": {"num_cpus": 0.25}, "retriever": small, "reader": small,
              "generator": {**small, "max_new_tokens": 6}}
    start(served, port=PORT)
    seen: dict = {}
    try:
        info = httpx.get(BASE_URL + "/v1/info", timeout=30).json()
        requests = make_requests(args.requests, info["limits"], info["modes"],
                                 malformed_fraction=args.malformed)
        watcher = None
        if args.kill:
            watcher = threading.Thread(target=kill_and_watch, daemon=True,
                                       args=(DEPLOYMENTS[args.kill], args.kill_after_s, seen))
            watcher.start()
        report = asyncio.run(run_load(BASE_URL, requests, args.concurrency,
                                      retry_503=bool(args.kill)))
        if watcher:
            watcher.join(timeout=120)
    finally:
        serve.shutdown()
        ray.shutdown()
    print(report.summary())
    if args.kill:
        print(f"killed the {args.kill} replica {args.kill_after_s:.0f} s in; /healthz "
              f"reported: {seen.get('outage_reported')}; whole again after "
              f"{seen.get('whole_after_s', float('nan')):.1f} s")
    lost = report.server_errors + report.wrong_count
    print(f"5xx answers: {report.server_errors}; wrong answers: {report.wrong_count}; "
          f"{'PASS' if not lost else 'FAIL'}")
    sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
