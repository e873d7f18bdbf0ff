"""Ray Train worker loop for mGEN (mT5 + DeepSpeed, label smoothing, per-language dev EM/F1).

Same shape as the reader's loop (``rayqa.train.reader_loop``): the driver validates the
examples, ``train_dataset`` formats and tokenizes them as a Ray Data step
(``GeneratorFeatures``) split across the workers (``rayqa.train.data``); every worker
trains on its shard, generates answers for its share of the dev questions, and the
answers are gathered so every rank reports the same metrics. Synthetic examples
(CORA appendix A.2) are a second dataset whose batches join each epoch from
``data.synthetic_from_epoch`` on (``LateJoinLoader``). ``state["step"]``
counts optimizer steps (one per ``grad_accum`` micro-batches); a checkpoint is reported
every ``checkpoint_every`` epochs and when ``max_steps`` is reached, and a re-created
trainer with the same run name resumes from the latest one.
"""

from __future__ import annotations

import functools
import random

import ray
import ray.train
import torch
import torch.distributed as dist

from rayqa import storage
from rayqa.answer.generative import generate_answers
from rayqa.config import MGENJobConfig
from rayqa.models.generator import (
    collate,
    encode_sources,
    encode_targets,
    format_source,
    seq2seq_loss,
)
from rayqa.train.data import ShardLoader, featurized_dataset
from rayqa.train.distributed import sharded_dev_scores
from rayqa.train.loop import (checkpoint_and_log, lockstep_batches, run_epochs, start_engine,
                              summarize)

TRAIN = "train"  # the trainer's dataset of training examples
SYNTHETIC = "synthetic"  # ... and of synthetic examples, trained on from an epoch on
LOGGED = ("train_loss", "dev_f1")  # the metrics of a checkpoint's line


def mgen_train_loop(config: dict) -> None:
    """``train_loop_per_worker`` of mGEN's ``TorchTrainer``.

    Args:
        config: ``{"cfg": MGENJobConfig as a dict, "rows": {"train": rows of the
            training dataset, "synthetic"?: rows of the synthetic one}, "dev": ObjectRef
            of the dev examples (``id``, ``question``, ``lang``, ``answers``, ``ctxs``),
            "select": ...}``.
    """
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    cfg = MGENJobConfig.model_validate(config["cfg"])
    torch.manual_seed(cfg.train.seed)
    model_path = storage.local_model(cfg.model.name_or_path)  # s3:// -> verified local copy
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_path)
    collate_fn = functools.partial(collate, pad_id=tokenizer.pad_token_id)
    loader = ShardLoader(TRAIN, config["rows"][TRAIN], cfg.train.batch_size, cfg.train.seed,
                         collate_fn)
    if SYNTHETIC in config["rows"]:
        synthetic = ShardLoader(SYNTHETIC, config["rows"][SYNTHETIC], cfg.train.batch_size,
                                cfg.train.seed, collate_fn)
        loader = LateJoinLoader(loader, synthetic, cfg.data.synthetic_from_epoch,
                                cfg.train.seed)
    engine, state = start_engine(model, cfg.train, epoch_batches(loader, cfg.train.epochs))
    # Dev EM/F1 of generated answers at the evaluated checkpoints.
    checkpoint = functools.partial(
        checkpoint_and_log, engine, tokenizer, cfg,
        summary=functools.partial(summarize, keys=LOGGED),
        dev_metrics=functools.partial(evaluate, engine, tokenizer, ray.get(config["dev"]), cfg),
        select=config.get("select"))
    run_epochs(engine, loader, state, cfg.train,
               functools.partial(smoothed_loss, cfg.model.label_smoothing), checkpoint)


def smoothed_loss(label_smoothing: float, engine, batch: dict) -> tuple:
    """Label-smoothed cross entropy of one micro-batch (backward and logged alike)."""
    batch = {name: tensor.to(engine.device) for name, tensor in batch.items()}
    loss = seq2seq_loss(engine, batch, label_smoothing, engine.module.config)
    return loss, loss


class LateJoinLoader:
    """The batches of ``main`` every epoch, joined by those of ``extra`` from epoch
    ``from_epoch`` on, the two interleaved in a seeded order per epoch.

    Both loaders must yield ``len()`` batches per epoch. The order depends only on the
    seed and the epoch, so a run resumed inside an epoch replays the same batches, and
    every worker (same shard sizes, same seed) steps through the same number.

    Args:
        main: A loader (``ShardLoader``, ``DataLoader``) trained on every epoch.
        extra: One trained on from ``from_epoch`` on.
        from_epoch: The first epoch (0-based) that includes ``extra``.
        seed: Seed of the interleaving; epoch ``e`` draws from ``(seed, e)``.
    """

    def __init__(self, main, extra, from_epoch: int, seed: int):
        self.main, self.extra, self.from_epoch, self.seed = main, extra, from_epoch, seed
        self.epoch = 0

    def batches(self, epoch: int) -> int:
        """Batches of epoch ``epoch``."""
        return len(self.main) + (len(self.extra) if epoch >= self.from_epoch else 0)

    def __len__(self) -> int:
        return self.batches(self.epoch)

    def set_epoch(self, epoch: int) -> None:
        """Shuffle both loaders and the interleaving anew for ``epoch``."""
        self.epoch = epoch
        for loader in (self.main, self.extra):
            if hasattr(loader, "set_epoch"):
                loader.set_epoch(epoch)

    def order(self) -> list[int]:
        """The epoch's sequence of sources: 0 for a batch of ``main``, 1 of ``extra``."""
        sources = [0] * len(self.main)
        if self.epoch >= self.from_epoch:
            sources += [1] * len(self.extra)
            random.Random(f"{self.seed}:{self.epoch}").shuffle(sources)
        return sources

    def __iter__(self):
        loaders = (iter(self.main), iter(self.extra) if self.epoch >= self.from_epoch else None)
        for source in self.order():
            yield next(loaders[source])


def epoch_batches(loader, epochs: int) -> int | list[int]:
    """What ``plan_schedule`` counts: one batch count, or one per epoch when they differ."""
    if isinstance(loader, LateJoinLoader):
        return [loader.batches(epoch) for epoch in range(epochs)]
    return len(loader)


def train_dataset(examples, cfg: MGENJobConfig, synthetic=()) -> dict[str, tuple]:
    """The examples as Ray Datasets of token ids: ``{"train": (dataset, rows)}``, plus
    ``"synthetic"`` when there are synthetic examples.

    Each row is a question's formatted source over its top ``train_passages`` passages
    and its first gold answer, the target as in the official mGEN.
    """
    datasets = {TRAIN: _featurized(examples, cfg)}
    if synthetic:
        datasets[SYNTHETIC] = _featurized(synthetic, cfg)
    return datasets


def _featurized(examples, cfg: MGENJobConfig) -> tuple:
    model_cfg, train = cfg.model, cfg.train
    rows = [{"source": format_source(e.question, e.lang, e.ctxs[:model_cfg.train_passages]),
             "target": e.answers[0]} for e in examples]
    return featurized_dataset(
        rows, GeneratorFeatures, {"tokenizer": model_cfg.name_or_path,
                                  "max_source_length": model_cfg.max_source_length,
                                  "max_target_length": model_cfg.max_target_length},
        world_size=max(1, train.num_workers), parallelism=max(1, train.num_workers),
        cpus_per_task=train.cpus_per_worker)


class GeneratorFeatures:
    """Ray Data step: ``source``/``target`` texts -> ``input_ids``/``labels`` token ids.

    Args:
        tokenizer: The model location (its tokenizer is loaded once per process).
        max_source_length: Source tokens kept.
        max_target_length: Target tokens kept.
    """

    def __init__(self, tokenizer: str, max_source_length: int, max_target_length: int):
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(storage.local_model(tokenizer))
        self.max_source_length, self.max_target_length = max_source_length, max_target_length

    def __call__(self, batch):
        import pandas as pd

        return pd.DataFrame({
            "input_ids": encode_sources(self.tokenizer, list(batch["source"]),
                                        self.max_source_length),
            "labels": encode_targets(self.tokenizer, list(batch["target"]),
                                     self.max_target_length)})


def evaluate(engine, tokenizer, examples, cfg: MGENJobConfig) -> dict:
    """Dev EM/F1 of generated answers per language (MLQA rules) and macro averages."""
    predict = functools.partial(predict_shard, engine, tokenizer, cfg=cfg)
    return sharded_dev_scores(examples, predict)


def predict_shard(engine, tokenizer, examples, cfg: MGENJobConfig) -> dict[str, str]:
    """Generated answers for this worker's dev questions over their top passages, in
    lockstep with the other ranks (``lockstep_batches`` of ``generate`` calls)."""
    k = cfg.model.eval_passages
    sources = [format_source(e.question, e.lang, e.ctxs[:k]) for e in examples]
    batch_size = cfg.train.eval_batch_size
    zero3 = engine.zero_optimization_stage() == 3 and dist.is_initialized()
    answers, _ = generate_answers(
        engine.module, tokenizer, sources, max_source_length=cfg.model.max_source_length,
        batch_size=batch_size, num_beams=cfg.model.num_beams,
        max_new_tokens=cfg.model.max_target_length, device=engine.device,
        min_batches=lockstep_batches(len(sources), batch_size),
        synced_gpus=zero3)
    return {e.id: answer for e, answer in zip(examples, answers)}
