"""Table 2 of the cross-lingual MRC paper, run as configured on the shipped data with
tiny models: every row of configs/crosslingual/table2.yaml, in order, end to end.

    python bench/xl_table2_chain.py [--set-size 300] [--steps 40]
                                    [--output runs/bench/xl_table2_chain]

This shows that the chain runs (feeder readers, translate-test over the training set, the
aligner and verifier trained on its output, the marked T -> S translation feeding Dual
BERT, all twelve rows scored); its numbers are those of untrained-size models and
random-weight translators, not the paper's.

The rows and job configs are the shipped ones; only what a user changes for their own
setting is changed, in a working directory (``--output``) laid out like a checkout:

* ``data/``: the paths the configs name, filled with what ../shared/data has: CMRC 2018
  trial split by paragraph as ``train.json`` (80%) and ``train_heldout.json`` (20%), the
  first ``--set-size`` questions (whole paragraphs) of CMRC 2018 dev and of DRCD dev as
  the reported sets (CMRC test and challenge are not public, DRCD stands in for the
  second column), XQuAD English split by article as SQuAD train / dev.
* ``models/``: tiny BERT encoders with tokenizers trained here (English for
  bert-base-cased and bert-large-cased, Chinese for bert-base-chinese, both for
  multilingual BERT) and random-weight MarianMT zh-en / en-zh in place of OPUS-MT.
* every training row: ``--steps`` optimizer steps of one Ray Train worker (2 CPUs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TABLE = "configs/crosslingual/table2.yaml"
HUB = {"bert-base-cased": "en_base", "bert-large-cased": "en_large",
       "bert-base-chinese": "zh", "bert-base-multilingual-cased": "mul"}


def write_data(shared: Path, work: Path, set_size: int) -> dict[str, list]:
    """The stand-in files under ``work/data``; returns the texts per language."""
    from rayqa.data.squad import read_squad, write_squad

    data = work / "data"
    cmrc = read_squad(shared / "data/cmrc2018/squad-style-data/cmrc2018_trial.json", lang="zh")
    contexts = list(dict.fromkeys(e.context for e in cmrc))
    held_out = set(contexts[int(len(contexts) * 0.8):])
    write_squad([e for e in cmrc if e.context not in held_out], data / "cmrc2018/train.json")
    write_squad([e for e in cmrc if e.context in held_out], data / "cmrc2018/train_heldout.json")
    sets = {"cmrc2018/dev.json": shared / "data/cmrc2018/squad-style-data/cmrc2018_dev.json",
            "drcd/dev.json": shared / "data/drcd/DRCD_dev.json"}
    for name, path in sets.items():
        examples = read_squad(path, lang="zh")
        first = _whole_paragraphs(examples, set_size)
        write_squad(first, data / name)
    xquad = read_squad(shared / "data/xquad/xquad.en.json", lang="en")
    titles = list(dict.fromkeys(e.title for e in xquad))
    write_squad([e for e in xquad if e.title in set(titles[:40])], data / "squad/train-v1.1.json")
    write_squad([e for e in xquad if e.title in set(titles[40:])], data / "squad/dev-v1.1.json")
    zh = read_squad(shared / "data/xquad/xquad.zh.json", lang="zh")
    return {"en": [t for e in xquad for t in (e.context, e.question)],
            "zh": [t for e in cmrc + zh for t in (e.context, e.question)]}


def _whole_paragraphs(examples: list, size: int) -> list:
    out, contexts = [], set()
    for example in examples:
        if len(out) >= size and example.context not in contexts:
            break
        contexts.add(example.context)
        out.append(example)
    return out


def build_models(texts: dict[str, list], models: Path) -> None:
    from rayqa.testing.tiny import build_tiny_reader
    from rayqa.testing.tiny_seq2seq import build_tiny_marian

    sizes = {"hidden": 128, "layers": 2, "heads": 4, "intermediate": 256}
    for name, langs in (("en_base", ["en"]), ("en_large", ["en"]), ("zh", ["zh"]),
                        ("mul", ["zh", "en"])):
        if not (models / name / "config.json").is_file():
            build_tiny_reader([t for lang in langs for t in texts[lang]], models / name,
                              vocab_size=6000, **sizes)
    for src, tgt in (("zh", "en"), ("en", "zh")):
        if not (models / f"{src}-{tgt}" / "config.json").is_file():
            build_tiny_marian(texts[src], texts[tgt], models / f"{src}-{tgt}", vocab_size=3000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set-size", type=int, default=300)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--output", default="runs/bench/xl_table2_chain")
    parser.add_argument("--shared", default="../shared")
    args = parser.parse_args()

    work, shared = Path(args.output).resolve(), Path(args.shared).resolve()
    os.environ.setdefault("NLTK_DATA", str(shared / "data" / "nltk_data"))
    texts = write_data(shared, work, args.set_size)
    build_models(texts, work / "models")
    if not (work / "configs").exists():
        (work / "configs").symlink_to(REPO / "configs")
    os.chdir(work)  # the configs' relative paths now name the stand-ins

    import ray

    from jobs.xl_table import main as xl_table
    from rayqa.pipelines.xl_table import CONFIGS
    from rayqa.config import load_config

    table = yaml.safe_load((REPO / TABLE).read_text(encoding="utf-8"))
    models = work / "models"
    marian = (f"translator.models={{zh-en: {models / 'zh-en'}, en-zh: {models / 'en-zh'}}}")
    training = ["model.max_seq_length=256", "model.doc_stride=96", "train.num_workers=1",
                "train.cpus_per_worker=2.0", "train.use_gpu=false", "train.epochs=1",
                f"train.max_steps={args.steps}", "train.batch_size=16",
                "train.eval_batch_size=64", "train.lr=1e-3", "train.log_every=20"]
    rows = []
    for row in table["rows"]:
        if row["name"] == "X_S of challenge":
            continue
        overrides = [_tiny(o, models) for o in row.get("overrides", [])]
        kind = row["kind"]
        if kind in ("reader", "dual_bert"):
            default = load_config(CONFIGS[kind], row["config"]).model.name_or_path
            overrides = [f"model.name_or_path={models / HUB[default]}", *training, *overrides]
        elif kind == "translate_test":
            overrides = [marian, "translator.max_new_tokens=32", "translator.num_beams=1",
                         *overrides]
        elif kind == "mixmrc":
            overrides = [marian, "translator.max_new_tokens=64", "translator.num_beams=1",
                         *overrides]
        if row["name"] == "X_S of test":
            overrides.append("data_files=[data/drcd/dev.json]")
        rows.append({**row, "overrides": overrides})
    sets = [{"name": f"CMRC dev ({args.set_size} q)", "path": "data/cmrc2018/dev.json",
             "lang": "zh", "source": "runs/crosslingual/table2/X_S_of_dev/source.json"},
            {"name": f"DRCD dev ({args.set_size} q)", "path": "data/drcd/dev.json",
             "lang": "zh", "source": "runs/crosslingual/table2/X_S_of_test/source.json"}]
    ray.init(address="local", num_cpus=2, include_dashboard=False)
    md, _ = xl_table(["--config", str(REPO / TABLE), f"sets={json.dumps(sets)}",
                      f"rows={json.dumps(rows)}"])
    print(Path(md).read_text(encoding="utf-8"))


def _tiny(override: str, models: Path) -> str:
    """An override naming a hub model names its tiny stand-in instead."""
    key, _, value = override.partition("=")
    return f"{key}={models / HUB[value]}" if value in HUB else override


if __name__ == "__main__":
    main()
