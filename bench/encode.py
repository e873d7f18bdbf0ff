"""Passage encoding throughput: the path `build_index` uses vs a plain single-process loop.

    python bench/encode.py [--passages 2000] [--model DIR] [--cpus-per-actor 2] [--mdpr]

Three timings over the same passages, model, max length and batch size, each end to end
(model loading included):

- loop: `encode_passages_local`, a plain torch loop in this process (torch's default
  threads: every core);
- step: the `UnitEncoder` step called in this process on every unit (no Ray): reading
  the byte ranges from disk, parsing and checking the lines, tokenizing, encoding, and
  writing passages (Arrow), vectors and unit manifests - the work of an actor;
- ray: `encode_units`, the Ray Data actor pool `build_index` runs (Ray itself started
  before the clock), `--num-actors` actors of `--cpus-per-actor` CPUs each.

step - loop is what reading and writing units costs; ray - step is Ray's own overhead
(scheduling, actor start-up, blocks). During the ray timing every process's CPU time is
sampled (`CpuAccount`), and split into the encoder actor, the driver (Ray Data's
streaming executor runs there), Ray's other processes (raylet, GCS, idle workers) and
the rest of the machine: with every core given to the actor's torch threads, each CPU
second spent elsewhere is one the actor waits for (Ray workers run at nice 15). The loop's own time is split into tokenization and
the model's forward passes. Without `--model` a small BERT (4 layers, hidden 256) is
built on the fly with a tokenizer trained on the synthetic passages; with `--mdpr` the
encoder is the passage side of an mDPR bi-encoder (`rayqa.models.biencoder`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.config import EncoderConfig  # noqa: E402
from rayqa.retrieval.embedding_shards import EmbeddingShards, plan_units  # noqa: E402
from rayqa.retrieval.encode import (  # noqa: E402
    UnitEncoder,
    build_encoder,
    encode_passages_local,
    encode_units,
    encoder_args,
)

# Word pools in four scripts, so the tokenizer and the passages are multilingual.
_WORDS = ("river mountain city history music science ocean forest language empire "
          "Fluss Berg Stadt Geschichte Musik ville montagne histoire musique "
          "река гора город история музыка 河流 山脉 城市 历史 音乐 नदी पहाड़ शहर इतिहास").split()


def synthetic_passages(n: int, seed: int = 0) -> list[dict]:
    """`n` passages of 60-120 words drawn from the word pools."""
    rng = np.random.default_rng(seed)
    return [{"title": " ".join(rng.choice(_WORDS, 2)),
             "text": " ".join(rng.choice(_WORDS, int(rng.integers(60, 120))))}
            for _ in range(n)]


def tiny_model(rows: list[dict], out_dir: str) -> str:
    """Builds the default benchmark encoder in `out_dir` and returns its path."""
    from rayqa.testing.tiny import build_tiny_reader

    texts = [f"{r['title']} {r['text']}" for r in rows[:200]]
    build_tiny_reader(texts, out_dir, vocab_size=2000, hidden=256, layers=4, heads=4,
                      intermediate=1024)
    return out_dir


def mdpr_passage_encoder(model: str, out_dir: str) -> str:
    """The passage encoder of the bi-encoder at ``model`` (built from it when plain)."""
    from rayqa.models.biencoder import PASSAGE_DIR, BiEncoder

    if (Path(model) / PASSAGE_DIR).is_dir():
        return str(Path(model) / PASSAGE_DIR)
    from transformers import AutoTokenizer

    BiEncoder.from_pretrained(model).save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(model).save_pretrained(Path(out_dir) / PASSAGE_DIR)
    return str(Path(out_dir) / PASSAGE_DIR)


class CpuAccount:
    """CPU seconds (user + system) each group of processes spends while it runs.

    A thread samples every process every `interval` seconds and keeps, per pid, the first
    and the last CPU time seen (0 for a pid born during the window), so processes that
    start or exit inside the window still count. Ray starts idle workers ahead of need and
    renames one when it becomes the actor, so a pid's group is looked up at every sample.
    """

    GROUPS = ("encoder actor", "driver", "ray, other processes", "rest of the machine")

    def __init__(self, interval: float = 0.25):
        import threading

        self.interval, self.first, self.last, self.group = interval, {}, {}, {}
        self._stop = threading.Event()
        self._sample(initial=True)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self, initial: bool = False) -> None:
        import psutil

        for proc in psutil.process_iter(["pid", "cmdline", "cpu_times"]):
            times = proc.info["cpu_times"]
            if times is None:
                continue
            pid, used = proc.info["pid"], times.user + times.system
            if pid not in self.first:
                self.first[pid] = used if initial else 0.0
            if self.group.get(pid) != "encoder actor":  # an idle worker becomes the actor
                self.group[pid] = self._group_of(pid, " ".join(proc.info["cmdline"] or []))
            self.last[pid] = used

    @staticmethod
    def _group_of(pid: int, cmdline: str) -> str:
        if "MapWorker" in cmdline or "UnitEncoder" in cmdline:
            return "encoder actor"
        if pid == os.getpid():
            return "driver"
        if "ray" in cmdline or "gcs_server" in cmdline:
            return "ray, other processes"
        return "rest of the machine"

    def seconds(self) -> dict[str, float]:
        out = dict.fromkeys(self.GROUPS, 0.0)
        for pid, last in self.last.items():
            out[self.group[pid]] += last - self.first[pid]
        return out


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def tokenize_seconds(rows: list[dict], cfg: EncoderConfig) -> float:
    """Seconds the loop's tokenizer alone takes over all batches."""
    tokenizer = build_encoder(**encoder_args(cfg)).tokenizer
    start = time.perf_counter()
    for i in range(0, len(rows), cfg.batch_size):
        batch = rows[i:i + cfg.batch_size]
        tokenizer([r["title"] for r in batch], [r["text"] for r in batch],
                  truncation="only_second", max_length=cfg.max_length, padding=True,
                  return_tensors="pt")
    return time.perf_counter() - start


def prepared_units(rows: list[dict], directory: Path, cfg: EncoderConfig,
                   per_unit: int) -> EmbeddingShards:
    """The passages as a JSON Lines file cut into units of about `per_unit` passages."""
    directory.mkdir(parents=True)
    source = directory / "passages.jsonl"
    source.write_text("".join(json.dumps({"id": f"p{i}", "lang": "xx", **r},
                                         ensure_ascii=False) + "\n"
                              for i, r in enumerate(rows)), encoding="utf-8")
    unit_bytes = max(1, source.stat().st_size * per_unit // len(rows))
    shards = EmbeddingShards(str(directory / "index"))
    shards.prepare(plan_units([str(source)], unit_bytes), {"encoder": cfg.name_or_path})
    return shards


def run_step(shards: EmbeddingShards, cfg: EncoderConfig) -> None:
    """Every unit through one `UnitEncoder` in this process, as an actor would."""
    step = UnitEncoder(shards.directory, strict=False, batch_size=cfg.batch_size,
                       num_threads=max(1, int(cfg.cpus_per_actor)), **encoder_args(cfg))
    for unit in shards.units:
        step({"unit": np.array([json.dumps(unit.to_dict())])})


def vectors_of(shards: EmbeddingShards) -> np.ndarray:
    return np.concatenate([shards.vectors(u.number) for u in shards.units
                           if shards.manifests()[u.number]["count"]])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=2000, help="number of passages")
    parser.add_argument("--model", help="from_pretrained directory (default: built tiny BERT)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--passages-per-unit", type=int, default=500)
    parser.add_argument("--num-actors", type=int, default=1, help="encoder actors in the pool")
    parser.add_argument("--cpus-per-actor", type=float, default=float(os.cpu_count()),
                        help="CPUs (and torch threads) per actor; default: every core")
    parser.add_argument("--num-cpus", type=int, default=os.cpu_count(), help="Ray's CPUs")
    parser.add_argument("--mdpr", action="store_true",
                        help="encode with an mDPR bi-encoder's passage encoder")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    rows = synthetic_passages(args.passages)
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or tiny_model(rows, tmp)
        if args.mdpr:
            model = mdpr_passage_encoder(model, str(Path(tmp) / "mdpr"))
        cfg = EncoderConfig(name_or_path=model, max_length=args.max_length,
                            batch_size=args.batch_size, num_actors=args.num_actors,
                            cpus_per_actor=args.cpus_per_actor)
        import ray
        import torch

        local, local_s = timed(encode_passages_local, rows, cfg)
        tokenize_s = tokenize_seconds(rows, cfg)
        step_shards = prepared_units(rows, Path(tmp) / "step", cfg, args.passages_per_unit)
        _, step_s = timed(run_step, step_shards, cfg)
        shards = prepared_units(rows, Path(tmp) / "ray", cfg, args.passages_per_unit)
        ray.init(address="local", num_cpus=args.num_cpus, include_dashboard=False,
                 log_to_driver=False)
        try:
            with CpuAccount() as account:
                _, ray_s = timed(encode_units, shards.directory, shards.units, cfg, False)
        finally:
            ray.shutdown()
        for encoded in (vectors_of(step_shards), vectors_of(shards)):
            if not np.allclose(local, encoded, atol=1e-4):
                raise AssertionError("the unit path and the local loop disagree on the vectors")
        units = len(shards.units)
    n = len(rows)
    cpu = account.seconds()
    result = {"local_per_s": n / local_s, "step_per_s": n / step_s, "ray_per_s": n / ray_s,
              "ratio": local_s / ray_s, "tokenize_s": tokenize_s, "local_s": local_s,
              "step_s": step_s, "ray_s": ray_s, "ray_cpu_s": cpu}
    print(f"passages={n} batch_size={cfg.batch_size} max_length={cfg.max_length} units={units} "
          f"model={args.model or 'tiny BERT 4x256'}{' (mDPR passage encoder)' * args.mdpr}")
    print(f"local loop  : {result['local_per_s']:8.1f} passages/s ({local_s:.1f}s, torch "
          f"threads {torch.get_num_threads()}; tokenization {tokenize_s:.1f}s of it)")
    print(f"unit step   : {result['step_per_s']:8.1f} passages/s ({step_s:.1f}s: read, encode, "
          f"write {units} units in this process)")
    print(f"ray data    : {result['ray_per_s']:8.1f} passages/s ({ray_s:.1f}s, "
          f"{cfg.num_actors} actor(s) x {cfg.cpus_per_actor:g} CPU)")
    print(f"ratio ray/local: {result['ratio']:.2f}x (units read+write {step_s - local_s:+.1f}s, "
          f"Ray overhead {ray_s - step_s:+.1f}s)")
    print(f"CPU seconds during the ray timing ({ray_s * os.cpu_count():.0f} available): " +
          ", ".join(f"{group} {seconds:.1f}" for group, seconds in cpu.items()))
    return result


if __name__ == "__main__":
    main()
