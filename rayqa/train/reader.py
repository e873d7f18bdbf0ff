"""Ray Train worker loop for the extractive reader (DeepSpeed, per-language dev EM/F1).

The driver reads and validates the data once and puts the examples in the object store;
every worker tokenizes them, trains on its ``DistributedSampler`` shard, evaluates its
share of the dev questions, and the predictions are gathered so every rank reports the
same metrics. A checkpoint is reported at the end of every epoch and when ``max_steps``
is reached; a re-created trainer with the same run name resumes from the latest one,
skipping the batches of a partly finished epoch.
"""

from __future__ import annotations

import math
from functools import partial

import ray
import ray.train
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from rayqa.answer.extractive import span_logits
from rayqa.config import ReaderJobConfig
from rayqa.data.features import prepare_eval_features, prepare_train_features
from rayqa.data.postprocess import postprocess_predictions
from rayqa.data.squad import QAExample
from rayqa.train.checkpoint import report_checkpoint, restore
from rayqa.train.distributed import (
    log,
    max_across_workers,
    sharded_dev_scores,
)
from rayqa.train.engine import build_engine
from rayqa.train.loop import NEW_STATE, run_epochs, total_steps

TRAIN_COLUMNS = ("input_ids", "attention_mask", "token_type_ids", "start_positions",
                 "end_positions")


def reader_train_loop(config: dict) -> None:
    """``train_loop_per_worker`` of the reader's ``TorchTrainer``.

    Args:
        config: ``{"cfg": ReaderJobConfig as a dict, "train": ObjectRef, "dev": ObjectRef}``.
    """
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    cfg = ReaderJobConfig.model_validate(config["cfg"])
    torch.manual_seed(cfg.train.seed)
    tokenizer = AutoTokenizer.from_pretrained(cfg.model.name_or_path)
    model = AutoModelForQuestionAnswering.from_pretrained(cfg.model.name_or_path)
    loader = train_loader(tokenizer, ray.get(config["train"]), cfg)
    total = total_steps(cfg.train, len(loader))
    engine = build_engine(model, cfg.train, total)
    state = restore(engine) or dict(NEW_STATE)
    checkpoint = partial(checkpoint_and_log, engine, tokenizer, ray.get(config["dev"]), cfg)
    run_epochs(engine, loader, state, total, cfg.train,
               partial(span_loss, loader.dataset.columns), checkpoint)


def span_loss(columns: list[str], engine, batch) -> tuple:
    """Start/end cross entropy of one batch of windows (backward and logged alike)."""
    loss = engine(**{c: t.to(engine.device) for c, t in zip(columns, batch)}).loss
    return loss, loss


def checkpoint_and_log(engine, tokenizer, dev: list[QAExample], cfg: ReaderJobConfig,
                       state: dict, metrics: dict) -> None:
    """Dev EM/F1 per language, then a checkpoint from every rank."""
    metrics.update(evaluate(engine, tokenizer, dev, cfg))
    report_checkpoint(engine, tokenizer, cfg, state, metrics)
    log(f"epoch {metrics['epoch']} step {state['step']}: " + _summary(metrics))


def train_loader(tokenizer, examples: list[QAExample], cfg: ReaderJobConfig) -> DataLoader:
    """Tokenized training windows, sharded across workers by a ``DistributedSampler``."""
    with_span = [e for e in examples if e.answers and e.answers[0]["answer_start"] >= 0]
    features = prepare_train_features(
        tokenizer,
        questions=[e.question for e in with_span],
        contexts=[e.context for e in with_span],
        answers=[e.answers for e in with_span],
        **cfg.model.window(),
    )
    columns = [c for c in TRAIN_COLUMNS if c in features]
    dataset = TensorDataset(*(torch.tensor(features[c]) for c in columns))
    dataset.columns = columns
    sampler = DistributedSampler(dataset, seed=cfg.train.seed) if dist.is_initialized() else None
    return DataLoader(dataset, batch_size=cfg.train.batch_size, sampler=sampler,
                      shuffle=sampler is None, drop_last=False)


def evaluate(engine, tokenizer, examples: list[QAExample], cfg: ReaderJobConfig) -> dict:
    """Dev EM/F1 per language and their macro average, flat for reporting."""
    return sharded_dev_scores(examples, partial(predict_shard, engine, tokenizer, cfg=cfg))


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
    keys = ["train_loss", "dev_exact_match", "dev_f1"]
    return ", ".join(f"{k} {metrics[k]:.4f}" for k in keys if k in metrics)
