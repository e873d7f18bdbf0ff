"""Held-out learning checks for the training tests (not a test module itself).

A training test that trains on a ``rayqa.testing.learnable`` task (names and values of
the dev split drawn from words the training split never uses) measures the job's export
on the dev split with the same code it measures the untrained model with; the trained
model must beat the untrained one by a wide margin and clear an absolute floor, and the
job's own dev metric of the export must agree with the recomputed one. The helpers here
write the task files, build the tiny models and score a model directory.
"""

import json
import os
import shutil

from rayqa.data.squad import write_squad
from rayqa.testing.tiny import build_tiny_reader

# The seed of data, model and training; another one (RAYQA_LEARNING_SEED=1) checks that
# the margins are no accident of seed 0.
SEED = int(os.environ.get("RAYQA_LEARNING_SEED", "0"))
CONFIG_FILE = "rayqa_config.yaml"


def write_jsonl(rows: list[dict], path) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")


def reported(result, metric: str, order: str = "max") -> float:
    """The best value of `metric` over the run's evaluated checkpoints (what was exported)."""
    values = [m[metric] for _, m in result.best_checkpoints if metric in m]
    return max(values) if order == "max" else min(values)


def untrained_and_trained(score, init, final, dev, name: str) -> tuple[float, float]:
    """Dev F1 (``score(model_dir, dev)``) of the untrained model at ``init`` and of the
    job's export ``final``; the untrained one is read from a copy of ``init`` with the
    export's config (the same window geometry and lengths), so that later runs from
    ``init`` start as before."""
    trained = score(final, dev)
    untrained_dir = init.parent / f"{init.name}-untrained"
    shutil.copytree(init, untrained_dir, dirs_exist_ok=True)
    shutil.copy(final / CONFIG_FILE, untrained_dir / CONFIG_FILE)
    untrained = score(untrained_dir, dev)
    print(f"{name} dev F1: untrained {untrained:.1f}, trained {trained:.1f}")
    return untrained, trained


def mean_f1(examples, predictions) -> float:
    from rayqa.eval import score_by_language

    scores = score_by_language(examples, predictions)
    return sum(v["f1"] for v in scores.values()) / len(scores)


# --------------------------------------------------------------------------- reader


def reader_f1(model_dir, dev) -> float:
    from rayqa.answer.extractive import ExtractiveReader

    return mean_f1(dev, ExtractiveReader(model_dir, device="cpu").predict(dev))


def task_files(root, train, dev, **encoder):
    """``train.json`` / ``dev.json`` of a learnable task in ``root`` and a tiny reader
    (``init``, tokenizer on the training contexts and questions) of ``encoder`` sizes."""
    write_squad(train, root / "train.json")
    write_squad(dev, root / "dev.json")
    return build_tiny_reader([e.context for e in train] + [e.question for e in train],
                             root / "init", layers=2, heads=2, seed=SEED, **encoder)


# --------------------------------------------------------------------------- mDPR


def retrieval_metrics(query_dir, passage_dir, dev_file) -> dict:
    """Recall@k and average rank of the dev questions over all dev passages, by the
    job's own dev set and ranking."""
    from rayqa.config import DataFile
    from rayqa.data.records import BadRecords
    from rayqa.retrieval.encode import TextEncoder
    from rayqa.train.mdpr_job import build_dev_set, read_dpr_file
    from rayqa.train.mdpr_loop import retrieval_ranks

    examples = read_dpr_file(DataFile(path=str(dev_file)), True, BadRecords())
    dev = build_dev_set(examples)
    queries = TextEncoder(str(query_dir), 16, "cls", "cpu").encode_queries(dev.questions)
    passages = TextEncoder(str(passage_dir), 32, "cls", "cpu").encode_passages(
        [p.title for p in dev.passages], [p.text for p in dev.passages])
    return retrieval_ranks(queries, passages, dev.positive_rows)


def without_dropout(model_dir) -> None:
    """Turns dropout off in a saved BERT config.

    At random initialization every [CLS] vector is nearly the same (the scores of one
    question differ by ~1e-3), and dropout noise drowns that signal: with dropout the
    in-batch loss stays at chance and the dev ranking gets worse than untrained. DPR
    starts from a pretrained BERT, whose [CLS] already tells texts apart.
    """
    from transformers import BertConfig

    config = BertConfig.from_pretrained(model_dir)
    config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0.0
    config.save_pretrained(model_dir)


# --------------------------------------------------------------------------- mGEN


def generator_f1(model_dir, dev) -> float:
    from rayqa.answer.generative import GenerativeReader

    reader = GenerativeReader(model_dir, device="cpu")
    answers = reader.answer_batch([r["question"] for r in dev], [r["lang"] for r in dev],
                                  [r["ctxs"] for r in dev])
    return mean_f1(dev, {r["id"]: a["answer"] for r, a in zip(dev, answers)})
