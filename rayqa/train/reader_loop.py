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
import math
from functools import partial

import numpy as np
import ray
import ray.train
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, StackDataset

from rayqa import storage
from rayqa.answer.extractive import span_logits
from rayqa.config import ReaderJobConfig
from rayqa.data.features import prepare_eval_features, prepare_train_features
from rayqa.data.lakm import LAKMCollator, PhrasePassage, prepare_lakm_features
from rayqa.data.postprocess import postprocess_predictions
from rayqa.data.squad import QAExample
from rayqa.models.multitask import MultiTaskReader
from rayqa.train.checkpoint import report_checkpoint
from rayqa.train.distributed import (
    log,
    max_across_workers,
    mean_across_workers,
    rank_world,
    sharded_dev_scores,
)
from rayqa.train.data import ShardLoader, featurized_dataset
from rayqa.train.loop import run_epochs, start_engine, seeded_loader_generator
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
    checkpoint = partial(checkpoint_and_log, engine, tokenizer, ray.get(config["dev"]), cfg,
                         step, probes, select=config.get("select"))
    run_epochs(engine, loader, state, cfg.train, step, checkpoint)


def checkpoint_and_log(engine, tokenizer, dev: list[QAExample], cfg: ReaderJobConfig,
                       step: TaskStep, probes: dict, state: dict, metrics: dict,
                       evaluate_dev: bool, select: dict | None = None) -> None:
    """Per-task losses, probe losses and dev EM/F1 per language (``evaluate_dev``), then
    a checkpoint from every rank."""
    metrics.update(step.drain(sorted(probes)))
    if evaluate_dev:
        metrics.update(probe_losses(engine, probes))
        metrics.update(evaluate(engine, tokenizer, dev, cfg))
    report_checkpoint(engine, tokenizer, cfg, state, metrics, select)
    log(f"epoch {metrics['epoch']} step {state['step']}: " + _summary(metrics))


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
    collate = stack_windows
    if task == "lakm":
        lakm = cfg.lakm
        seed = cfg.train.seed + rank_world()[0]
        collate = LAKMWindows(LAKMCollator(tokenizer, lakm.mask_ratio, lakm.mask_token_prob,
                                           lakm.random_token_prob, seed=seed,
                                           strategy=lakm.strategy), seed)
    return ShardLoader(task, rows, cfg.train.batch_size, cfg.train.seed, collate, shuffle)


def stack_windows(rows: list[dict]) -> dict[str, torch.Tensor]:
    """Span-labelled windows (all of one length) as a batch of tensors."""
    return {name: torch.tensor([row[name] for row in rows]) for name in rows[0]}


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


def span_dataset(tokenizer, examples: list[QAExample], cfg: ReaderJobConfig) -> StackDataset:
    """Tokenized training windows with start/end labels; items are dicts of tensors."""
    with_span = [e for e in examples if e.answers and e.answers[0]["answer_start"] >= 0]
    features = prepare_train_features(
        tokenizer,
        questions=[e.question for e in with_span],
        contexts=[e.context for e in with_span],
        answers=[e.answers for e in with_span],
        **cfg.model.window(),
    )
    return StackDataset(**{c: torch.tensor(features[c]) for c in TRAIN_COLUMNS if c in features})


def span_loader(tokenizer, examples: list[QAExample], cfg: ReaderJobConfig) -> DataLoader:
    """An in-process loader of MRC windows, sharded by a ``DistributedSampler`` when a
    process group is up (what ``bench/train_step.py`` times on both of its sides)."""
    dataset = span_dataset(tokenizer, examples, cfg)
    sampler = DistributedSampler(dataset, seed=cfg.train.seed) if dist.is_initialized() \
        else None
    return DataLoader(dataset, batch_size=cfg.train.batch_size, sampler=sampler,
                      shuffle=sampler is None,
                      generator=seeded_loader_generator(cfg.train.seed))


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
    """Answers for this worker's dev questions.

    Every rank runs the same number of forward passes (ZeRO-3 gathers parameters in
    each one, so ranks with fewer questions repeat their last batch).
    """
    features = prepare_eval_features(
        tokenizer,
        questions=[e.question for e in examples],
        contexts=[e.context for e in examples],
        example_ids=[e.id for e in examples],
        **cfg.model.window(),
    )
    batches = math.ceil(len(features["input_ids"]) / cfg.train.eval_batch_size)
    start, end = span_logits(engine, features, cfg.train.eval_batch_size, engine.device,
                             min_batches=max_across_workers(batches))
    return postprocess_predictions(examples, features, start, end,
                                   n_best_size=cfg.model.n_best_size,
                                   max_answer_length=cfg.model.max_answer_length)


def _summary(metrics: dict) -> str:
    keys = ["train_loss", *sorted(k for k in metrics if k.startswith("train_loss/")),
            "dev_exact_match", "dev_f1"]
    return ", ".join(f"{k} {metrics[k]:.4f}" for k in keys if k in metrics)
