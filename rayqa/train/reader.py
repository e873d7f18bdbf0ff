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
import time
from functools import partial

import ray
import ray.train
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from rayqa.answer.extractive import span_logits
from rayqa.config import ReaderJobConfig, TrainConfig
from rayqa.data.features import prepare_eval_features, prepare_train_features
from rayqa.data.postprocess import postprocess_predictions
from rayqa.data.squad import QAExample
from rayqa.train.checkpoint import report_checkpoint, restore
from rayqa.train.distributed import (
    log,
    max_across_workers,
    mean_across_workers,
    sharded_dev_scores,
)
from rayqa.train.engine import build_engine

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
    state = restore(engine) or {"epoch": 0, "step": 0, "batches_done": 0}
    dev = ray.get(config["dev"])
    while state["epoch"] < cfg.train.epochs and state["step"] < total:
        loss = train_epoch(engine, loader, state, total, cfg.train)
        finished = state["epoch"] >= cfg.train.epochs or state["step"] >= total
        if state["epoch"] % cfg.train.checkpoint_every and not finished:
            continue  # evaluate and checkpoint every `checkpoint_every` epochs, and at the end
        done = state["epoch"] + state["batches_done"] / len(loader)  # epochs completed
        metrics = {"epoch": round(done, 4), "step": state["step"], "train_loss": loss}
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


def total_steps(cfg: TrainConfig, steps_per_epoch: int) -> int:
    """Optimizer steps of the whole run: ``max_steps`` when set, else all epochs."""
    planned = cfg.epochs * steps_per_epoch
    return min(planned, cfg.max_steps) if cfg.max_steps > 0 else planned


def train_epoch(engine, loader: DataLoader, state: dict, total: int, cfg: TrainConfig) -> float:
    """Train until the epoch ends or ``total`` steps are done; updates ``state``.

    Returns the mean training loss of the steps taken, averaged over workers.
    """
    if isinstance(loader.sampler, DistributedSampler):
        loader.sampler.set_epoch(state["epoch"])
    engine.train()
    columns = loader.dataset.columns
    losses, started = [], time.perf_counter()
    for index, batch in enumerate(loader):
        if index < state["batches_done"]:  # resuming inside a partly trained epoch
            continue
        inputs = {c: t.to(engine.device) for c, t in zip(columns, batch)}
        loss = engine(**inputs).loss
        engine.backward(loss)
        engine.step()
        losses.append(loss.item())
        state["step"] += 1
        state["batches_done"] = index + 1
        if state["step"] % cfg.log_every == 0:
            rate = len(losses) * cfg.batch_size / (time.perf_counter() - started)
            log(f"step {state['step']}/{total} loss {loss.item():.4f} ({rate:.1f} ex/s/worker)")
        if state["step"] >= total:
            break
    if state["batches_done"] >= len(loader):
        state["epoch"] += 1
        state["batches_done"] = 0
    return mean_across_workers(sum(losses), len(losses))


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
