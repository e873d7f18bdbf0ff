"""Knowledge-phrase mining throughput and memory: Ray Data actor pool vs one local loop.

    python bench/mine_phrases.py [--queries 2000] [--xquad-dir DIR] [--langs en,de,zh,...]
        [--num-actors 1] [--cpus-per-actor 0.5] [--batch-size 256]

The log is the synthetic XQuAD search log (`rayqa.mining.search_log`, all questions of
`--langs`, top-5 BM25 paragraphs each), shuffled and repeated until it has `--queries`
lines, and a copy 4x as long. Both sides run `mine_phrases` end to end on the same file,
from "here is the log" to "the outputs are written": the loop in this process, the Ray
side through the pipeline with its actor start-up (Ray itself is started before the
clock). The two outputs must be identical.

Memory, per log size:
- local: the peak of Python allocations (tracemalloc) while the loop mines and writes;
- ray driver: the same peak on the driver while the pipeline runs (rows it holds);
- ray actors: the peak resident set (RSS, sampled every 50 ms with psutil) summed over
  the mining actors and read tasks of this Ray instance.
Memory runs are separate from the timed runs, since tracemalloc slows Python down.

On one machine the pool can only win by using more cores than the loop; its point is
scaling out across nodes, which this measures the overhead of.
"""

from __future__ import annotations

import argparse
import filecmp
import itertools
import os
import random
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Self

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.config import PhraseMiningConfig  # noqa: E402
from rayqa.mining.phrase_job import mine_phrases  # noqa: E402
from rayqa.mining.search_log import build_xquad_search_log  # noqa: E402

_REPO = Path(__file__).resolve().parents[1]
_WORKER_NAMES = ("PhraseMiningStep", "ReadSearchLog")  # process titles of the pipeline


def repeat_log(source: Path, lines: int, out: Path) -> Path:
    """Writes `lines` lines of `source`, shuffled once (so every size mixes the languages
    alike) and repeated as often as needed."""
    base = source.read_text(encoding="utf-8").splitlines(keepends=True)
    random.Random(0).shuffle(base)
    with open(out, "w", encoding="utf-8") as f:
        f.writelines(itertools.islice(itertools.cycle(base), lines))
    return out


class RSSSampler:
    """Samples the summed RSS of this Ray instance's pipeline workers in a thread."""

    def __init__(self, interval: float = 0.05):
        import ray

        node = ray._private.worker._global_node  # this session's raylet, not another's
        self.raylet = psutil.Process(node.all_processes["raylet"][0].process.pid)
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for proc in self.raylet.children(recursive=True):
                try:
                    if any(name in " ".join(proc.cmdline()) for name in _WORKER_NAMES):
                        total += proc.memory_info().rss
                except psutil.Error:  # a worker that exits while we look at it
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def timed(log: Path, out: Path, cfg: PhraseMiningConfig, use_ray: bool) -> float:
    start = time.perf_counter()
    mine_phrases(log, out, cfg, use_ray=use_ray)
    return time.perf_counter() - start


def python_peak(log: Path, out: Path, cfg: PhraseMiningConfig, use_ray: bool) -> int:
    """Peak bytes of Python allocations in this process during one run."""
    tracemalloc.start()
    try:
        mine_phrases(log, out, cfg, use_ray=use_ray)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(log: Path, tmp: Path, cfg: PhraseMiningConfig) -> dict:
    """Times both sides on `log`, checks they agree, then measures memory."""
    local_s = timed(log, tmp / "local", cfg, use_ray=False)
    ray_s = timed(log, tmp / "ray", cfg, use_ray=True)
    for name in ("phrases.jsonl", "passages.jsonl", "stats.json"):
        if not filecmp.cmp(tmp / "local" / name, tmp / "ray" / name, shallow=False):
            raise AssertionError(f"Ray and the local loop disagree on {name}")
    local_mem = python_peak(log, tmp / "local_mem", cfg, use_ray=False)
    with RSSSampler() as sampler:
        driver_mem = python_peak(log, tmp / "ray_mem", cfg, use_ray=True)
    return {"lines": sum(1 for _ in open(log, "rb")), "bytes": log.stat().st_size,
            "local_s": local_s, "ray_s": ray_s, "local_peak": local_mem,
            "driver_peak": driver_mem, "actors_rss_peak": sampler.peak}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=2000, help="log lines of the small log")
    parser.add_argument("--xquad-dir", default=str(_REPO.parent / "shared" / "data" / "xquad"))
    parser.add_argument("--langs", default="en,de,es,zh,ru,ar,hi")
    parser.add_argument("--num-actors", type=int, default=1)
    parser.add_argument("--cpus-per-actor", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--num-cpus", type=int, default=os.cpu_count(), help="Ray's CPUs")
    return parser.parse_args(argv)


def report(runs: list[dict], cfg: PhraseMiningConfig) -> None:
    mib = 1 << 20
    print(f"actors={cfg.num_actors} x {cfg.cpus_per_actor:g} CPU, batch_size={cfg.batch_size}")
    for run in runs:
        print(f"log {run['lines']:6d} lines ({run['bytes'] / mib:5.1f} MiB): "
              f"local {run['lines'] / run['local_s']:7.1f} q/s ({run['local_s']:.1f}s)  "
              f"ray {run['lines'] / run['ray_s']:7.1f} q/s ({run['ray_s']:.1f}s)  "
              f"ratio ray/local {run['local_s'] / run['ray_s']:.2f}x")
        print(f"{'':33}peak: local python {run['local_peak'] / mib:6.1f} MiB  "
              f"ray driver python {run['driver_peak'] / mib:6.1f} MiB  "
              f"ray workers RSS {run['actors_rss_peak'] / mib:6.1f} MiB")
    small, large = runs[0], runs[-1]
    print(f"4x log -> peak x{large['local_peak'] / small['local_peak']:.2f} local, "
          f"x{large['driver_peak'] / small['driver_peak']:.2f} ray driver, "
          f"x{large['actors_rss_peak'] / max(small['actors_rss_peak'], 1):.2f} ray workers")


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    cfg = PhraseMiningConfig(num_actors=args.num_actors, cpus_per_actor=args.cpus_per_actor,
                             batch_size=args.batch_size)
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        build_xquad_search_log(args.xquad_dir, args.langs.split(","), tmp / "base.jsonl")
        ray.init(address="local", num_cpus=args.num_cpus, include_dashboard=False,
                 log_to_driver=False)
        try:
            runs = []
            for size in (args.queries, 4 * args.queries):
                log = repeat_log(tmp / "base.jsonl", size, tmp / f"log{size}.jsonl")
                (tmp / str(size)).mkdir()
                runs.append(measure(log, tmp / str(size), cfg))
        finally:
            ray.shutdown()
    report(runs, cfg)
    return runs


if __name__ == "__main__":
    main()
