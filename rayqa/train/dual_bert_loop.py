"""Ray Train worker loop of Dual BERT (cross-lingual MRC, Cui et al. 2019 section 4).

Same shape as the reader's loop (``rayqa.train.reader_loop``): the driver pairs each
target question with its translation, ``train_dataset`` turns the pairs into paired
windows with a Ray Data step (``DualBertFeatures``; which source window goes with which
target window is described in ``rayqa.crosslingual.dual_bert_features``), split across
the workers (``rayqa.train.data``), and ``rayqa.train.loop`` runs the epochs (LR
schedule, resume inside an epoch, checkpoint cadence, ``stop_at_step``). The loss is
the model's L = L_T + lambda L_aux; every checkpoint also reports the auxiliary
diagnostics of the batches trained since the previous checkpoint of this process (a
resumed run: since it resumed), summed over the workers: ``aux/lambda_mean`` and
``aux/aux_loss`` over the windows whose pair has both gold spans,
``aux/windows_with_source_span`` and ``aux/windows_without_source_span`` (the windows
trained on L_T alone), and ``train_loss/target`` (mean L_T).
Dev evaluation is on the target side only: answers decoded from the target logits
with the reader's post-processing, EM/F1 per language by MLQA rules, or Chinese by the
CMRC 2018 script's with ``data.scoring: cmrc`` (``sharded_dev_scores``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial

import ray
import ray.train
import torch

from rayqa import storage
from rayqa.answer.dual_bert import dual_span_logits
from rayqa.config import DualBertJobConfig
from rayqa.crosslingual.dual_bert_features import (prepare_dual_eval_features,
                                                   prepare_dual_train_features)
from rayqa.data.squad import QAExample
from rayqa.models.dual_bert import DualBert
from rayqa.train.data import ShardLoader, featurized_dataset
from rayqa.train.distributed import all_reduce, sharded_dev_scores
from rayqa.train.loop import (checkpoint_and_log, predict_spans, run_epochs, stack_windows,
                              start_engine, summarize)

TRAIN = "train"  # the trainer's dataset of paired training windows
LOGGED = ("train_loss", "train_loss/target", "aux/lambda_mean",
          "aux/windows_without_source_span", "dev_f1")  # the metrics of a checkpoint's line


@dataclass
class PairedExample:
    """A target question and its translation into the source language (same id).

    Attributes:
        target: The target-language example (trained on, evaluated, answered).
        source: Its translation; ``answers`` may be empty or not located (``-1``).
    """

    target: QAExample
    source: QAExample


def dual_bert_train_loop(config: dict) -> None:
    """``train_loop_per_worker`` of Dual BERT's ``TorchTrainer``.

    Args:
        config: ``{"cfg": DualBertJobConfig as a dict, "rows": {"train": rows of the
            training dataset}, "dev": ObjectRef of the dev ``PairedExample``s,
            "select": ...}``.
    """
    from transformers import AutoTokenizer

    cfg = DualBertJobConfig.model_validate(config["cfg"])
    torch.manual_seed(cfg.train.seed)  # the same fresh heads on every rank
    model_path = storage.local_model(cfg.model.name_or_path)  # s3:// -> verified local copy
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = DualBert.from_pretrained(model_path, cfg.dual_bert.options())
    loader = ShardLoader(TRAIN, config["rows"][TRAIN], cfg.train.batch_size, cfg.train.seed,
                         stack_windows)
    engine, state = start_engine(model, cfg.train, len(loader))
    step = DualBertStep()
    # Auxiliary diagnostics at every checkpoint, dev EM/F1 per language at the evaluated
    # ones; the checkpoint is DualBert.save_pretrained + tokenizer + config.
    checkpoint = partial(
        checkpoint_and_log, engine, tokenizer, cfg,
        summary=partial(summarize, keys=LOGGED, spec=".4g"), train_metrics=step.drain,
        dev_metrics=partial(evaluate, engine, tokenizer, ray.get(config["dev"]), cfg),
        select=config.get("select"))
    run_epochs(engine, loader, state, cfg.train, step, checkpoint)


class DualBertStep:
    """``step_loss`` of ``run_epochs``: the model's loss, with its diagnostics summed.

    ``drain`` returns the diagnostics since the last call, summed over the workers, and
    starts over (a collective: every rank calls it at every checkpoint).
    """

    def __init__(self):
        self.sums = _zero_sums()

    def __call__(self, engine, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        out = engine({name: tensor.to(engine.device) for name, tensor in batch.items()})
        diagnostics = {k: float(v) for k, v in out.diagnostics.items()}
        with_span = diagnostics.get("source_with_span", 0.0)
        self.sums["target_loss"] += diagnostics["target_loss"]
        self.sums["batches"] += 1
        self.sums["lambda"] += diagnostics.get("lambda", 0.0) * with_span
        self.sums["aux_loss"] += diagnostics.get("aux_loss", 0.0) * with_span
        self.sums["with_span"] += with_span
        self.sums["without_span"] += diagnostics.get("source_without_span", 0.0)
        return out.loss, out.loss.detach()

    def drain(self) -> dict[str, float]:
        names = sorted(self.sums)
        total = dict(zip(names, all_reduce([self.sums[n] for n in names]).tolist()))
        self.sums = _zero_sums()
        with_span = max(total["with_span"], 1.0)
        return {"train_loss/target": total["target_loss"] / max(total["batches"], 1.0),
                "aux/lambda_mean": total["lambda"] / with_span,
                "aux/aux_loss": total["aux_loss"] / with_span,
                "aux/windows_with_source_span": int(total["with_span"]),
                "aux/windows_without_source_span": int(total["without_span"])}


def _zero_sums() -> dict[str, float]:
    return dict.fromkeys(("target_loss", "batches", "lambda", "aux_loss", "with_span",
                          "without_span"), 0.0)


def train_dataset(pairs: list[PairedExample], cfg: DualBertJobConfig) -> dict[str, tuple]:
    """The pairs as a Ray Dataset of paired training windows: ``{"train": (dataset, rows)}``."""
    train = cfg.train
    rows = [{**_side(pair.target, ""), **_side(pair.source, "source_")} for pair in pairs]
    return {TRAIN: featurized_dataset(
        rows, DualBertFeatures, {"tokenizer": cfg.model.name_or_path,
                                 "window": cfg.model.window()},
        world_size=max(1, train.num_workers), parallelism=max(1, train.num_workers),
        cpus_per_task=train.cpus_per_worker)}


def _side(example: QAExample, prefix: str) -> dict:
    """One side of a pair as plain columns (answers as JSON, for Arrow)."""
    return {prefix + "question": example.question, prefix + "context": example.context,
            prefix + "answers": json.dumps(example.answers, ensure_ascii=False)}


class DualBertFeatures:
    """Ray Data step: a batch of pairs -> paired training windows (the model's batch keys).

    Pairs whose target answer is not located in the target passage are left out, as the
    reader leaves such examples out.

    Args:
        tokenizer: The model location (its tokenizer is loaded once per process).
        window: ``ReaderConfig.window()``, used on both sides.
    """

    def __init__(self, tokenizer: str, window: dict):
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(storage.local_model(tokenizer))
        self.window = window

    def __call__(self, batch):
        import pandas as pd

        answers = [json.loads(a) for a in batch["answers"]]
        keep = [i for i, a in enumerate(answers) if a and a[0]["answer_start"] >= 0]
        kept = {name: [batch[name].iloc[i] for i in keep] for name in batch.columns}
        features = prepare_dual_train_features(
            self.tokenizer, kept["question"], kept["context"], [answers[i] for i in keep],
            kept["source_question"], kept["source_context"],
            [json.loads(a) for a in kept["source_answers"]], **self.window)
        return pd.DataFrame(features)


def evaluate(engine, tokenizer, dev: list[PairedExample], cfg: DualBertJobConfig) -> dict:
    """Dev EM/F1 of the target side per language and their macro average, flat."""
    sources = {pair.target.id: pair.source for pair in dev}
    return sharded_dev_scores([pair.target for pair in dev],
                              partial(predict_shard, engine, tokenizer, sources, cfg),
                              cfg.data.scoring)


def predict_shard(engine, tokenizer, sources: dict[str, QAExample], cfg: DualBertJobConfig,
                  targets: list[QAExample]) -> dict[str, str]:
    """Answers for this worker's dev questions (in lockstep with the other ranks)."""
    features = prepare_dual_eval_features(
        tokenizer, [e.question for e in targets], [e.context for e in targets],
        [e.id for e in targets], [sources[e.id].question for e in targets],
        [sources[e.id].context for e in targets], **cfg.model.window())
    return predict_spans(engine, targets, features, dual_span_logits, cfg)
