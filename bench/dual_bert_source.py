"""Does the source side help at tiny scale? Dual BERT vs the same model without it.

    python bench/dual_bert_source.py [--task xquad|synthetic] [--seeds 1 2] [--epochs 4]
                                     [--ablations] [--output runs/bench/dual_bert_source]

``--task xquad``: XQuAD Chinese is the target and its English original the source (human
translations, gold spans on both sides: the cross-lingual MRC paper's (X_T, X_S) pairs
without a translation system). XQuAD's 48 articles are split by article: the first 32
train, the next 6 select the checkpoint (dev), the last 10 are the reported set.

``--task synthetic`` (``dual_task``): made-up facts where only the source question says
which fact is asked, so the target side alone can do no better than guess among the
values of its passage; 800 training pairs, 90 dev, 200 reported, names and values of the
three splits from disjoint word sets.

One tiny encoder (2 layers, tokenizer trained here on both languages' texts) is the
start of every row:

* ``untrained``: that encoder with a fresh span head, no training;
* ``Dual BERT``: the full model (SAA, auxiliary source loss, dynamic lambda);
* ``w/o Source BERT``: the same job with ``dual_bert.source_encoder=false`` (the target
  side alone), same data, steps, learning rate and seed;
* with ``--ablations`` also ``w/o Auxiliary Loss``, ``w/o Dynamic Lambda`` (lambda 1),
  ``w/o Self-Adaptive Att.`` (paper Table 4).

Each row runs through ``rayqa xl-table`` (Ray Train + DeepSpeed, one worker of 2 CPUs),
selected on dev and scored on the reported set (CMRC 2018 rules for XQuAD Chinese, MLQA
rules for the German synthetic task). The printed table is the result; the last lines
give Dual BERT's F1 minus the target-only model's, per seed. A pretrained multilingual
encoder aligns the two languages' tokens before training; this tiny one starts from
nothing, so whatever the source side gives has to be learned from ~800 pairs, which is
what this measures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DUAL_BERT, READER = "configs/crosslingual/dual_bert.yaml", "configs/reader.yaml"
ABLATIONS = {"w/o Auxiliary Loss": ["dual_bert.auxiliary_loss=false"],
             "w/o Dynamic Lambda": ["dual_bert.fixed_lambda=1.0"],
             "w/o Self-Adaptive Att.": ["dual_bert.self_adaptive=false"]}


OPEN_QUESTIONS = {"de": "Was wissen wir über {name}?", "ru": "Что мы знаем о {name}?"}


def dual_task(seed: int, split: str, count: int, facts: int = 4, target_lang: str = "de",
              source_lang: str = "en", draw: str = "") -> tuple[list, list]:
    """Target examples and their source-language translations (same ids) for Dual BERT,
    where only the source question says which fact is asked.

    A passage states ``facts`` facts of one person (in an order drawn per language); the
    source question asks one of them, the target question (``OPEN_QUESTIONS``) only
    names the person. Read alone, the target side can at best pick one of the values
    (1 / ``facts`` exact match); the answer is found by reading the source side, whose
    passage holds the same made-up words: what Self-Adaptive Attention and the
    auxiliary source loss are for. Names and values of ``train`` and ``dev`` come from
    disjoint word sets, as in ``reader_task``; ``draw`` varies the draws of a split.

    Returns:
        ``(targets, sources)``, both with the value's span as the answer.
    """
    from rayqa.data.squad import QAExample
    from rayqa.testing.learnable import RELATIONS, TEMPLATES, Lexicon

    lexicon = Lexicon(seed)
    rng = random.Random(f"{seed}:{split}:dual{draw}")
    targets, sources = [], []
    for index in range(count):
        asked = lexicon.person(source_lang, split, rng)
        stated = rng.sample(RELATIONS, facts)
        relation = rng.choice(stated)
        qid = f"{split}-{index}"
        for lang, question, out in ((target_lang, OPEN_QUESTIONS[target_lang], targets),
                                    (source_lang, TEMPLATES[source_lang][relation][1], sources)):
            order = rng.sample(stated, facts)
            statements = [TEMPLATES[lang][r][0].format(name=asked.name, value=asked.values[r])
                          for r in order]
            context = " ".join(statements)
            statement = statements[order.index(relation)]
            after_name = (context.index(statement) + statement.index(asked.name)
                          + len(asked.name))
            answer = asked.values[relation]
            out.append(QAExample(qid, question.format(name=asked.name), context,
                                 [{"text": answer, "answer_start": context.index(answer,
                                                                                 after_name)}],
                                 title=qid, lang=lang))
    return targets, sources


def synthetic_files(out: Path, facts: int = 2) -> dict[str, Path]:
    """``dual_task`` train / dev / test files (German target, English source). The
    lexicon has two disjoint word sets: test draws from the dev words with its own seed
    of questions, never from training words."""
    from rayqa.data.squad import write_squad

    files = {}
    for part, split, count, draw in (("train", "train", 800, ""), ("dev", "dev", 90, ""),
                                     ("test", "dev", 200, ":test")):
        targets, sources = dual_task(0, split, count, facts, draw=draw)
        for side, examples in (("target", targets), ("source", sources)):
            files[f"{part}.{side}"] = out / f"{part}.{side}.json"
            write_squad(examples, files[f"{part}.{side}"])
    return files


def split_xquad(shared: Path, out: Path) -> dict[str, Path]:
    """train / dev / test files per language, split by article (32 / 6 / 10)."""
    from rayqa.data.squad import read_squad, write_squad

    files = {}
    for side, lang in (("target", "zh"), ("source", "en")):
        examples = read_squad(shared / "data" / "xquad" / f"xquad.{lang}.json")
        titles = list(dict.fromkeys(e.title for e in examples))
        parts = {"train": titles[:32], "dev": titles[32:38], "test": titles[38:]}
        for part, chosen in parts.items():
            path = out / f"{part}.{side}.json"
            write_squad([e for e in examples if e.title in set(chosen)], path)
            files[f"{part}.{side}"] = path
    return files


def build_encoder(files: dict[str, Path], out: Path, vocab: int, hidden: int,
                  heads: int) -> Path:
    from rayqa.data.squad import read_squad
    from rayqa.testing.tiny import build_tiny_reader

    texts = [t for name in ("train.target", "train.source") for e in read_squad(files[name])
             for t in (e.context, e.question)]
    return build_tiny_reader(texts, out, vocab_size=vocab, hidden=hidden, layers=2,
                             heads=heads, intermediate=2 * hidden)


# Per task: the reported set's label and language, the scoring rules, the windows
# (max_seq_length, doc_stride, max_query_length), the learning rate and the encoder: a
# vocabulary small enough that the synthetic task's made-up words are split into
# syllable pieces (a whole held-out word would be a token never trained).
TASKS = {"xquad": {"set": "XQuAD zh, 10 held-out articles", "lang": "zh", "scoring": "cmrc",
                   "window": (256, 96, 32), "lr": 1e-3, "vocab": 6000, "hidden": 128, "heads": 4},
         "synthetic": {"set": "synthetic de, 200 held-out", "lang": "de", "scoring": "mlqa",
                       "window": (96, 32, 16), "lr": 2e-3, "vocab": 600, "hidden": 64, "heads": 2}}


def table_args(task: dict, files: dict[str, Path], init: Path, out: Path, seeds: list[int],
               epochs: int, ablations: bool) -> list[str]:
    def pair(part: str) -> str:
        return f"[{{target: {files[part + '.target']}, source: {files[part + '.source']}}}]"

    length, stride, query = task["window"]
    window = [f"model.max_seq_length={length}", f"model.doc_stride={stride}",
              f"model.max_query_length={query}"]

    def training(seed: int) -> list[str]:
        return [f"model.name_or_path={init}", *window,
                f"data.train_files={pair('train')}", f"data.dev_files={pair('dev')}",
                f"data.scoring={task['scoring']}", "train.num_workers=1",
                "train.cpus_per_worker=2.0", "train.use_gpu=false", f"train.epochs={epochs}",
                "train.batch_size=16", "train.eval_batch_size=64", f"train.lr={task['lr']}",
                "train.warmup_ratio=0.1", f"train.seed={seed}", "train.log_every=100",
                "train.checkpoints_to_keep=1"]

    variants = {"Dual BERT": [], "w/o Source BERT": ["dual_bert.source_encoder=false",
                                                     "dual_bert.auxiliary_loss=false"]}
    if ablations:
        variants.update(ABLATIONS)
    rows = [{"name": "untrained", "kind": "reader", "config": READER, "train": False,
             "overrides": [f"model.name_or_path={init}", *window]}]
    rows += [{"name": f"{name} (seed {seed})", "kind": "dual_bert", "config": DUAL_BERT,
              "overrides": [*training(seed), *extra]}
             for seed in seeds for name, extra in variants.items()]
    sets = [{"name": task["set"], "path": str(files["test.target"]), "lang": task["lang"],
             "source": str(files["test.source"])}]
    return ["--config", "configs/crosslingual/table4.yaml", f"output_dir={out / 'table'}",
            f"scoring={task['scoring']}", f"sets={json.dumps(sets)}", f"rows={json.dumps(rows)}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", choices=sorted(TASKS), default="xquad")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--epochs", type=int, default=None,
                        help="default: 4 (xquad, ~316 steps), 12 (synthetic, 600 steps)")
    parser.add_argument("--ablations", action="store_true")
    parser.add_argument("--output", default="runs/bench/dual_bert_source")
    parser.add_argument("--shared", default="../shared")
    args = parser.parse_args()

    import ray

    from jobs.xl_table import main as xl_table

    out, shared = Path(args.output).resolve(), Path(args.shared).resolve()
    # The CMRC scorer's English tokenizer (NLTK punkt), for the workers too.
    os.environ.setdefault("NLTK_DATA", str(shared / "data" / "nltk_data"))
    files = (split_xquad(shared, out / "data") if args.task == "xquad"
             else synthetic_files(out / "data"))
    epochs = args.epochs or (4 if args.task == "xquad" else 12)
    init = out / "init"
    if not (init / "config.json").is_file():
        task = TASKS[args.task]
        build_encoder(files, init, task["vocab"], task["hidden"], task["heads"])
    ray.init(address="local", num_cpus=2, include_dashboard=False)
    md, _ = xl_table(table_args(TASKS[args.task], files, init, out, args.seeds, epochs,
                                args.ablations))
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
