"""Ray Train worker loop of the extractive reader, alone or multi-task (mixMRC, LAKM).

The driver reads and validates the data once: the MRC examples, and those of the
auxiliary tasks the config lists (mixMRC examples, LAKM passages). ``task_datasets``
turns each task into a Ray Dataset of training windows (``ReaderFeatures``, a Ray Data
step: span-labelled windows, or phrase-marked LAKM windows) split across the workers
(``rayqa.train.data``). Every worker iterates its own shard of each task and trains on
their batches in turn, each batch with its own optimizer step (``rayqa.train.multitask``). Every checkpoint reports the mean loss per
task, the loss of a fixed probe batch per task (same inputs, same masks every time, so
its curve shows learning), and per-language dev EM/F1; predictions are gathered so every
rank reports the same metrics. A re-created trainer with the same run name resumes from
the latest checkpoint, skipping the batches of a partly finished epoch.
"""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import ray
import ray.train
import torch

from rayqa import storage
from rayqa.answer.extractive import span_logits
from rayqa.config import ReaderJobConfig
from rayqa.data.features import prepare_eval_features, prepare_train_features
from rayqa.data.lakm import LAKMCollator, PhrasePassage, prepare_lakm_features
from rayqa.data.squad import QAExample
from rayqa.models.multitask import MultiTaskReader
from rayqa.train.distributed import mean_across_workers, rank_world, sharded_dev_scores
from rayqa.train.data import ShardLoader, featurized_dataset
from rayqa.train.loop import (checkpoint_and_log, predict_spans, run_epochs,
                              stack_trimmed_windows, start_engine, summarize)
from rayqa.train.multitask import TaskLoader, TaskStep

TRAIN_COLUMNS = ("input_ids", "attention_mask", "token_type_ids", "start_positions",
                 "end_positions")


def reader_train_loop(config: dict) -> None:
    """``train_loop_per_worker`` of the reader's ``TorchTrainer``.

    Args:
        config: ``{"cfg": ReaderJobConfig as a dict, "rows": {task: rows of its
            dataset}, "dev": ObjectRef of the dev examples, "select": ...}``; the
            trainer's datasets are named by task.
    """
    from transformers import AutoTokenizer

    cfg = ReaderJobConfig.model_validate(config["cfg"])
    torch.manual_seed(cfg.train.seed)
    model_path = storage.local_model(cfg.model.name_or_path)  # s3:// -> verified local copy
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    rows = config["rows"]
    model = MultiTaskReader.from_pretrained(model_path, with_mlm="lakm" in rows)
    # This worker's first batch of each task in its fixed order, masked once.
    probes = {task: next(iter(task_loader(task, count, tokenizer, cfg, shuffle=False)))
              for task, count in rows.items()}
    loaders = {task: task_loader(task, count, tokenizer, cfg) for task, count in rows.items()}
    loader = TaskLoader(loaders, {t.name: t.ratio for t in cfg.tasks if t.name in rows})
    engine, state = start_engine(model, cfg.train, len(loader))
    step = TaskStep()
    # Per-task losses at every checkpoint; probe losses and dev EM/F1 per language at
    # the evaluated ones.
    dev = ray.get(config["dev"])
    checkpoint = partial(
        checkpoint_and_log, engine, tokenizer, cfg, summary=_summary,
        train_metrics=partial(step.drain, sorted(probes)),
        dev_metrics=partial(probe_and_dev_metrics, engine, tokenizer, dev, cfg, probes),
        select=config.get("select"))
    run_epochs(engine, loader, state, cfg.train, step, checkpoint)


def probe_and_dev_metrics(engine, tokenizer, dev: list[QAExample], cfg: ReaderJobConfig,
                          probes: dict) -> dict:
    """Every task's probe loss, then dev EM/F1 per language."""
    return {**probe_losses(engine, probes), **evaluate(engine, tokenizer, dev, cfg)}


def task_datasets(data: dict[str, list], cfg: ReaderJobConfig) -> dict[str, tuple]:
    """Every task's training windows as a Ray Dataset: ``{task: (dataset, rows)}``."""
    train = cfg.train
    return {task: featurized_dataset(
        [_as_row(task, example) for example in examples], ReaderFeatures,
        {"task": task, "tokenizer": cfg.model.name_or_path, "window": cfg.model.window(),
         "lakm_length": cfg.lakm.max_seq_length, "lakm_stride": cfg.lakm.stride},
        world_size=max(1, train.num_workers), parallelism=max(1, train.num_workers),
        cpus_per_task=train.cpus_per_worker) for task, examples in data.items()}


def _as_row(task: str, example) -> dict:
    """An example as a plain row (answers and phrase spans as JSON, for Arrow)."""
    if task == "lakm":
        return {"text": example.text, "phrases": json.dumps(example.phrases)}
    return {"question": example.question, "context": example.context,
            "answers": json.dumps(example.answers, ensure_ascii=False)}


class ReaderFeatures:
    """Ray Data step: a batch of one task's examples -> its training windows.

    ``mrc`` and ``mixmrc`` examples become span-labelled windows (``TRAIN_COLUMNS``;
    examples without a located answer are left out), ``lakm`` passages become
    phrase-marked windows (``input_ids``, ``special``, ``phrases`` as JSON), masked later
    by ``LAKMCollator`` as they are drawn.

    Args:
        task: ``mrc``, ``mixmrc`` or ``lakm``.
        tokenizer: The model location (its tokenizer is loaded once per process).
        window: ``ReaderConfig.window()`` (span tasks).
        lakm_length: LAKM window length.
        lakm_stride: LAKM window overlap.
    """

    def __init__(self, task: str, tokenizer: str, window: dict, lakm_length: int,
                 lakm_stride: int):
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(storage.local_model(tokenizer))
        self.task, self.window = task, window
        self.lakm_length, self.lakm_stride = lakm_length, lakm_stride

    def __call__(self, batch):
        import pandas as pd

        if self.task == "lakm":
            passages = [PhrasePassage("", text, phrases=[tuple(p) for p in json.loads(spans)])
                        for text, spans in zip(batch["text"], batch["phrases"])]
            windows = prepare_lakm_features(self.tokenizer, passages,
                                            max_length=self.lakm_length,
                                            stride=self.lakm_stride)
            return pd.DataFrame({"input_ids": [w["input_ids"] for w in windows],
                                 "special": [w["special"] for w in windows],
                                 "phrases": [json.dumps(w["phrases"]) for w in windows]})
        answers = [json.loads(a) for a in batch["answers"]]
        keep = [i for i, a in enumerate(answers) if a and a[0]["answer_start"] >= 0]
        features = prepare_train_features(
            self.tokenizer, questions=[batch["question"].iloc[i] for i in keep],
            contexts=[batch["context"].iloc[i] for i in keep],
            answers=[answers[i] for i in keep], **self.window)
        return pd.DataFrame({c: features[c] for c in TRAIN_COLUMNS if c in features})


def task_loader(task: str, rows: int, tokenizer, cfg: ReaderJobConfig,
                shuffle: bool = True) -> ShardLoader:
    """The loader of this worker's shard of one task's windows.

    ``lakm`` windows are masked by ``LAKMCollator`` as they are drawn (fresh masks every
    pass, as BERT's dynamic masking; those of a pass depend on seed, rank and pass only).
    """
    collate = stack_trimmed_windows
    if task == "lakm":
        lakm = cfg.lakm
        seed = cfg.train.seed + rank_world()[0]
        collate = LAKMWindows(LAKMCollator(tokenizer, lakm.mask_ratio, lakm.mask_token_prob,
                                           lakm.random_token_prob, seed=seed,
                                           strategy=lakm.strategy), seed)
    return ShardLoader(task, rows, cfg.train.batch_size, cfg.train.seed, collate, shuffle)


class LAKMWindows:
    """Collate of LAKM windows read from Ray Data: phrases back from JSON, then masked.

    The masking RNG restarts from ``(seed, epoch)`` at every ``set_epoch`` (each pass
    over the task): a run resumed in a later epoch draws the masks the run that never
    stopped drew, not those of the first epoch again.
    """

    def __init__(self, collator: LAKMCollator, seed: int):
        self.collator, self.seed = collator, seed

    def set_epoch(self, epoch: int) -> None:
        self.collator.rng = np.random.default_rng([self.seed, epoch])

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        return self.collator([{**row, "phrases": json.loads(row["phrases"])} for row in rows])


def probe_losses(engine, probes: dict) -> dict[str, float]:
    """Loss of every task's probe batch without training, averaged over workers."""
    was_training = engine.training
    engine.eval()
    losses = {}
    with torch.no_grad():
        for task, batch in sorted(probes.items()):
            inputs = {k: v.to(engine.device) for k, v in batch.items()}
            loss = engine(task=task, **inputs).loss.item()
            losses[f"probe_loss/{task}"] = mean_across_workers(loss, 1)
    if was_training:
        engine.train()
    return losses


def evaluate(engine, tokenizer, examples: list[QAExample], cfg: ReaderJobConfig) -> dict:
    """Dev EM/F1 per language and their macro average, flat for reporting."""
    return sharded_dev_scores(examples, partial(predict_shard, engine, tokenizer, cfg=cfg),
                              cfg.data.scoring)


def predict_shard(engine, tokenizer, examples: list[QAExample], cfg: ReaderJobConfig) -> dict:
    """Answers for this worker's dev questions (in lockstep with the other ranks)."""
    features = prepare_eval_features(
        tokenizer,
        questions=[e.question for e in examples],
        contexts=[e.context for e in examples],
        example_ids=[e.id for e in examples],
        **cfg.model.window(),
    )
    return predict_spans(engine, examples, features, span_logits, cfg)


def _summary(metrics: dict) -> str:
    keys = ["train_loss", *sorted(k for k in metrics if k.startswith("train_loss/")),
            "dev_exact_match", "dev_f1"]
    return summarize(metrics, keys)
