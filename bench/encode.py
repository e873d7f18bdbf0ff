"""Passage encoding throughput: Ray Data actor pool vs a plain single-process torch loop.

    python bench/encode.py [--passages 2000] [--model DIR] [--num-actors 1] [--mdpr]

Both sides encode the same passages with the same model, max length and batch size, and
both are timed end to end from "here are the rows" to "here is the array": the loop
includes loading the model, the Ray side its actor start-up (Ray itself is started
before the clock). Without `--model` a small BERT (4 layers, hidden 256) is built on the
fly with a tokenizer trained on the synthetic passages. With `--mdpr` the encoder is the
passage side of an mDPR bi-encoder (`rayqa.models.biencoder`): the `passage_encoder/` of
`--model` when it is a saved bi-encoder, else one started from the tiny BERT.

On one machine the pool can only win by using more cores than the loop's torch threads
do; its point is scaling out across nodes and GPUs, which this measures the overhead of.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too

from rayqa.config import EncoderConfig  # noqa: E402
from rayqa.retrieval.encode import encode_passages_local, encode_passages_ray  # noqa: E402

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
    from rayqa.models.tiny import build_tiny_reader

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


def timed(fn, *args) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=2000, help="number of passages")
    parser.add_argument("--model", help="from_pretrained directory (default: built tiny BERT)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--num-actors", type=int, default=1, help="encoder actors in the pool")
    parser.add_argument("--cpus-per-actor", type=float, default=1.0)
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

        ray.init(address="local", num_cpus=args.num_cpus, include_dashboard=False,
                 log_to_driver=False)
        try:
            local, local_s = timed(encode_passages_local, rows, cfg)
            pooled, ray_s = timed(encode_passages_ray, rows, cfg)
        finally:
            ray.shutdown()
    if not np.allclose(local, pooled, atol=1e-4):
        raise AssertionError("Ray and the local loop disagree on the embeddings")
    n = len(rows)
    result = {"local_per_s": n / local_s, "ray_per_s": n / ray_s, "ratio": local_s / ray_s}
    print(f"passages={n} batch_size={cfg.batch_size} max_length={cfg.max_length} "
          f"model={args.model or 'tiny BERT 4x256'}{' (mDPR passage encoder)' * args.mdpr}")
    print(f"local loop  : {result['local_per_s']:8.1f} passages/s "
          f"({local_s:.1f}s, torch threads {torch.get_num_threads()})")
    print(f"ray data    : {result['ray_per_s']:8.1f} passages/s ({ray_s:.1f}s, "
          f"{cfg.num_actors} actor(s) x {cfg.cpus_per_actor:g} CPU)")
    print(f"ratio ray/local: {result['ratio']:.2f}x")
    return result


if __name__ == "__main__":
    main()
