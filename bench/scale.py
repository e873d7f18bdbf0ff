"""Index build at scale: throughput and memory of the driver and of a replica vs corpus size.

    python bench/scale.py [--sizes 100000,1000000] [--json]

For each size a synthetic passages file is generated on disk (streamed, never held in
memory), then `jobs/build_index.py` runs as a driver subprocess (with `RAY_ADDRESS` it
joins that cluster, otherwise it starts a local Ray) with the model-free hashing encoder
(`encoder.kind=hashing`: the data plane is measured, not a transformer), and a replica
subprocess loads the index with `Retriever` and answers queries. Printed per size:
passages/s of the whole build, the driver's peak RSS, the replica's peak RSS and its
anonymous RSS after the queries, its start time (imports, then the index load with
every file checked against the manifest: what a new Serve retriever replica pays before
it answers), and the FAISS index size; then the ratios of the
largest size to the smallest. The driver holds counts and plans only, so its peak RSS
should stay flat. The replica's RSS counts the pages it touched of the memory-mapped
FAISS index and passage store, which replicas on one node share through the page
cache; its anonymous RSS (`RssAnon` in /proc/self/status) is what is private to it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
# Runs a script as __main__ and reports its own peak RSS, whatever happens to the script.
_PEAK_RSS = ("import resource, runpy, sys\nsys.argv = sys.argv[1:]\ntry:\n"
             "    runpy.run_path(sys.argv[0], run_name='__main__')\nfinally:\n"
             "    print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
             " flush=True)\n")
# Loads the index as a replica does, queries it, and reports its peak RSS and its
# anonymous (private, not file-backed) RSS after the queries.
_REPLICA = ("import json, resource, sys, time\nstarted = time.perf_counter()\n"
            "from rayqa.retrieval.retriever import Retriever\n"
            "imported = time.perf_counter()\n"
            "retriever = Retriever(sys.argv[1], mode='dense', device='cpu')\n"
            "loaded = time.perf_counter()\n"
            "hits = retriever.search(['river city history'] * 32, None, 10)\n"
            "anon = next(int(line.split()[1]) for line in open('/proc/self/status')\n"
            "            if line.startswith('RssAnon:'))\n"
            "print(json.dumps({'rss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
            " 'anon_kb': anon, 'hits': sum(map(len, hits)), 'size': len(retriever.passages),"
            " 'import_s': imported - started, 'load_s': loaded - imported}))\n")
_WORDS = ("river mountain city history music science ocean forest language empire "
          "Fluss Berg Stadt Geschichte Musik ville montagne histoire musique "
          "река гора город история музыка 河流 山脉 城市 历史 音乐 नदी पहाड़ शहर इतिहास").split()
_LANGS = ("en", "de", "fr", "ru", "zh", "hi")


def write_passages(path: Path, n: int, seed: int = 0, chunk: int = 10_000) -> None:
    """Writes `n` synthetic passages (20-40 words) as JSON Lines, `chunk` at a time."""
    rng = np.random.default_rng(seed)
    words = np.asarray(_WORDS)
    with open(path, "w", encoding="utf-8") as out:
        for first in range(0, n, chunk):
            lengths = rng.integers(20, 40, min(chunk, n - first))
            out.writelines(json.dumps({
                "id": f"p{first + i}", "title": f"title {first + i}",
                "text": " ".join(rng.choice(words, length)), "lang": _LANGS[(first + i) % 6]},
                ensure_ascii=False) + "\n" for i, length in enumerate(lengths))


def run_peak_rss(argv: list[str], cwd: Path, env: dict) -> tuple[int, str]:
    """Runs `python argv...` in a subprocess; returns its peak RSS (KiB) and its output.

    Raises:
        RuntimeError: The subprocess failed (its output's tail in the message).
    """
    result = subprocess.run([sys.executable, "-c", _PEAK_RSS, *argv], cwd=cwd, env=env,
                            capture_output=True, text=True)
    log = result.stdout + result.stderr
    if result.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{log[-4000:]}")
    peak = [line for line in result.stdout.splitlines() if line.startswith("PEAK_RSS_KB")]
    return int(peak[-1].split()[1]), log


def build(workdir: Path, n: int, shard_mb: float, env: dict,
          overrides: tuple[str, ...] = (), replica: bool = True) -> dict:
    """Generates `n` passages, builds their index with a driver subprocess and (when
    `replica`) loads it with a replica subprocess; returns throughput and memory facts."""
    passages = workdir / f"passages-{n}.jsonl"
    write_passages(passages, n)
    config = workdir / f"index-{n}.yaml"
    config.write_text(yaml.safe_dump({
        "output_dir": f"index-{n}", "passages_files": [str(passages)],
        "encoder": {"name_or_path": "hashing", "kind": "hashing", "batch_size": 1024,
                    "min_actors": 1, "max_actors": 2, "cpus_per_actor": 0.5,
                    "shard_mb": shard_mb},
        "index": {"factory": "Flat", "bm25": False}}), encoding="utf-8")
    start = time.perf_counter()
    driver_kb, _ = run_peak_rss([str(REPO / "jobs" / "build_index.py"), "--config",
                                 str(config), *overrides], workdir, env)
    seconds = time.perf_counter() - start
    out = workdir / f"index-{n}"
    facts = {"passages": n, "seconds": seconds, "passages_per_s": n / seconds,
             "driver_rss_mib": driver_kb / 1024,
             "faiss_mib": (out / "faiss.index").stat().st_size / 2**20}
    if replica:
        loaded = json.loads(subprocess.run([sys.executable, "-c", _REPLICA, str(out)], env=env,
                                           capture_output=True, text=True, check=True,
                                           cwd=workdir).stdout.splitlines()[-1])
        if loaded["size"] != n:
            raise AssertionError(f"index of {n} passages holds {loaded['size']}")
        facts["replica_rss_mib"] = loaded["rss_kb"] / 1024
        facts["replica_anon_mib"] = loaded["anon_kb"] / 1024
        facts["replica_import_s"], facts["replica_load_s"] = loaded["import_s"], loaded["load_s"]
    return facts


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated corpus sizes")
    parser.add_argument("--passages-per-unit", type=int, default=25_000,
                        help="about this many passages per unit of work (sets shard_mb)")
    parser.add_argument("--workdir", help="keep files here (default: a temporary directory)")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    parser.add_argument("--no-replica", action="store_true", help="skip the replica load")
    parser.add_argument("overrides", nargs="*", help="index config overrides for every build")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    shard_mb = args.passages_per_unit * 260 / 2**20  # synthetic lines are ~260 bytes
    with tempfile.TemporaryDirectory(prefix="rayqa-scale-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        rows = [build(workdir, n, shard_mb, env, tuple(args.overrides), not args.no_replica)
                for n in sizes]
    first, last = rows[0], rows[-1]
    result = {"sizes": rows,
              "driver_rss_ratio": last["driver_rss_mib"] / first["driver_rss_mib"],
              "throughput_ratio": last["passages_per_s"] / first["passages_per_s"]}
    for row in rows:
        replica = (f", replica peak RSS {row['replica_rss_mib']:6.0f} MiB"
                   f" (anonymous {row['replica_anon_mib']:.0f} MiB), replica start "
                   f"{row['replica_import_s']:.1f} s imports + {row['replica_load_s']:.1f} s "
                   "index load (manifest checks included)"
                   if "replica_rss_mib" in row else "")
        print(f"{row['passages']:>9} passages: {row['passages_per_s']:8.0f} passages/s "
              f"({row['seconds']:.1f}s), driver peak RSS {row['driver_rss_mib']:6.0f} MiB"
              f"{replica} (FAISS index {row['faiss_mib']:.0f} MiB)")
    if "replica_rss_mib" in last:
        result["replica_rss_ratio"] = last["replica_rss_mib"] / first["replica_rss_mib"]
    print(f"ratios {last['passages']}/{first['passages']}: driver RSS "
          f"{result['driver_rss_ratio']:.2f}x, passages/s {result['throughput_ratio']:.2f}x"
          + (f", replica RSS {result['replica_rss_ratio']:.2f}x" if "replica_rss_ratio" in result
             else ""))
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
