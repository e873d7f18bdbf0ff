"""Does the source side help at tiny scale? Dual BERT vs the same model without it.

    python bench/dual_bert_source.py [--seeds 1 2] [--epochs 4] [--ablations]
                                     [--output runs/bench/dual_bert_source]

XQuAD Chinese is the target and its English original the source (human translations,
gold spans on both sides: the cross-lingual MRC paper's (X_T, X_S) pairs without a
translation system). XQuAD's 48 articles are split by article: the first 32 train, the
next 6 select the checkpoint (dev), the last 10 are the reported set. One tiny encoder
(2 layers, tokenizer trained here on both languages' texts) is the start of every row:

* ``untrained``: that encoder with a fresh span head, no training;
* ``Dual BERT``: the full model (SAA, auxiliary source loss, dynamic lambda);
* ``w/o Source BERT``: the same job with ``dual_bert.source_encoder=false`` (the target
  side alone), same data, steps, learning rate and seed;
* with ``--ablations`` also ``w/o Auxiliary Loss``, ``w/o Dynamic Lambda`` (lambda 1),
  ``w/o Self-Adaptive Att.`` (paper Table 4).

Each row runs through ``rayqa xl-table`` (Ray Train + DeepSpeed, one worker of 2 CPUs),
scored on the reported set by the CMRC 2018 script's rules. The printed table is the
result; the last line gives Dual BERT's F1 minus the target-only model's, per seed.
A pretrained multilingual encoder aligns Chinese and English tokens before training;
this tiny one starts from nothing, so the source side has to be learned from ~800
pairs, which is what this measures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DUAL_BERT, READER = "configs/crosslingual/dual_bert.yaml", "configs/reader.yaml"
ABLATIONS = {"w/o Auxiliary Loss": ["dual_bert.auxiliary_loss=false"],
             "w/o Dynamic Lambda": ["dual_bert.fixed_lambda=1.0"],
             "w/o Self-Adaptive Att.": ["dual_bert.self_adaptive=false"]}


def split_xquad(shared: Path, out: Path) -> dict[str, Path]:
    """train / dev / test files per language, split by article (32 / 6 / 10)."""
    from rayqa.data.squad import read_squad, write_squad

    files = {}
    for lang in ("zh", "en"):
        examples = read_squad(shared / "data" / "xquad" / f"xquad.{lang}.json")
        titles = list(dict.fromkeys(e.title for e in examples))
        parts = {"train": titles[:32], "dev": titles[32:38], "test": titles[38:]}
        for part, chosen in parts.items():
            path = out / f"{part}.{lang}.json"
            write_squad([e for e in examples if e.title in set(chosen)], path)
            files[f"{part}.{lang}"] = path
    return files


def build_encoder(files: dict[str, Path], out: Path) -> Path:
    from rayqa.data.squad import read_squad
    from rayqa.testing.tiny import build_tiny_reader

    texts = [t for name in ("train.zh", "train.en") for e in read_squad(files[name])
             for t in (e.context, e.question)]
    return build_tiny_reader(texts, out, vocab_size=6000, hidden=128, layers=2, heads=4,
                             intermediate=256)


def table_args(files: dict[str, Path], init: Path, out: Path, seeds: list[int],
               epochs: int, ablations: bool) -> list[str]:
    def pair(part: str) -> str:
        return f"[{{target: {files[part + '.zh']}, source: {files[part + '.en']}}}]"

    def training(seed: int) -> list[str]:
        return [f"model.name_or_path={init}", "model.max_seq_length=256",
                "model.doc_stride=96", "model.max_query_length=32",
                f"data.train_files={pair('train')}", f"data.dev_files={pair('dev')}",
                "data.scoring=cmrc", "train.num_workers=1", "train.cpus_per_worker=2.0",
                "train.use_gpu=false", f"train.epochs={epochs}", "train.batch_size=16",
                "train.eval_batch_size=64", "train.lr=1e-3", "train.warmup_ratio=0.1",
                f"train.seed={seed}", "train.log_every=100", "train.checkpoints_to_keep=1"]

    variants = {"Dual BERT": [], "w/o Source BERT": ["dual_bert.source_encoder=false",
                                                     "dual_bert.auxiliary_loss=false"]}
    if ablations:
        variants.update(ABLATIONS)
    rows = [{"name": "untrained", "kind": "reader", "config": READER, "train": False,
             "overrides": [f"model.name_or_path={init}", "model.max_seq_length=256",
                           "model.doc_stride=96"]}]
    rows += [{"name": f"{name} (seed {seed})", "kind": "dual_bert", "config": DUAL_BERT,
              "overrides": [*training(seed), *extra]}
             for seed in seeds for name, extra in variants.items()]
    sets = [{"name": "XQuAD zh, 10 held-out articles", "path": str(files["test.zh"]),
             "lang": "zh", "source": str(files["test.en"])}]
    return ["--config", "configs/crosslingual/table4.yaml", f"output_dir={out / 'table'}",
            "scoring=cmrc", f"sets={json.dumps(sets)}", f"rows={json.dumps(rows)}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--ablations", action="store_true")
    parser.add_argument("--output", default="runs/bench/dual_bert_source")
    parser.add_argument("--shared", default="../shared")
    args = parser.parse_args()

    import ray

    from jobs.xl_table import main as xl_table

    out, shared = Path(args.output).resolve(), Path(args.shared).resolve()
    # The CMRC scorer's English tokenizer (NLTK punkt), for the workers too.
    os.environ.setdefault("NLTK_DATA", str(shared / "data" / "nltk_data"))
    files = split_xquad(shared, out / "xquad")
    init = out / "init"
    if not (init / "config.json").is_file():
        build_encoder(files, init)
    ray.init(address="local", num_cpus=2, include_dashboard=False)
    md, _ = xl_table(table_args(files, init, out, args.seeds, args.epochs, args.ablations))
    table = Path(md).read_text(encoding="utf-8")
    print(table)
    scores = {line.split(" | ")[0].strip("| "): float(line.rsplit("/", 1)[1].strip(" |"))
              for line in table.splitlines()[2:]}
    for seed in args.seeds:
        gain = scores[f"Dual BERT (seed {seed})"] - scores[f"w/o Source BERT (seed {seed})"]
        print(f"seed {seed}: Dual BERT F1 - target-only F1 = {gain:+.2f} "
              f"(untrained F1 {scores['untrained']:.2f})")


if __name__ == "__main__":
    main()
