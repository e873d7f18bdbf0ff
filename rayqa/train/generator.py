"""Ray Train worker loop for mGEN (mT5 + DeepSpeed, label smoothing, per-language dev EM/F1).

Same shape as the reader's loop (``rayqa.train.reader``): the driver puts validated
examples in the object store; every worker formats and tokenizes them, trains on its
``DistributedSampler`` shard, generates answers for its share of the dev questions, and
the answers are gathered so every rank reports the same metrics. ``state["step"]``
counts optimizer steps (one per ``grad_accum`` micro-batches); a checkpoint is reported
every ``checkpoint_every`` epochs and when ``max_steps`` is reached, and a re-created
trainer with the same run name resumes from the latest one.
"""

from __future__ import annotations

import functools
import math

import ray
import ray.train
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler

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
from rayqa.train.checkpoint import report_checkpoint, restore, resumed_state
from rayqa.train.distributed import (
    log,
    max_across_workers,
    sharded_dev_scores,
)
from rayqa.train.engine import build_engine
from rayqa.train.loop import plan_schedule, run_epochs, seeded_loader_generator


def mgen_train_loop(config: dict) -> None:
    """``train_loop_per_worker`` of mGEN's ``TorchTrainer``.

    Args:
        config: ``{"cfg": MGENJobConfig as a dict, "train": ObjectRef, "dev": ObjectRef}``;
            the refs hold lists of examples with ``id``, ``question``, ``lang``,
            ``answers`` and ``ctxs``.
    """
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    cfg = MGENJobConfig.model_validate(config["cfg"])
    torch.manual_seed(cfg.train.seed)
    model_path = storage.local_model(cfg.model.name_or_path)  # s3:// -> verified local copy
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForSeq2SeqLM.from_pretrained(model_path)
    loader = train_loader(tokenizer, ray.get(config["train"]), cfg)
    resumed = resumed_state()
    state = plan_schedule(cfg.train, len(loader), resumed)
    engine = build_engine(model, cfg.train, state["schedule"])
    if resumed:
        restore(engine)
    checkpoint = functools.partial(checkpoint_and_log, engine, tokenizer,
                                   ray.get(config["dev"]), cfg, select=config.get("select"))
    run_epochs(engine, loader, state, cfg.train,
               functools.partial(smoothed_loss, cfg.model.label_smoothing), checkpoint)


def smoothed_loss(label_smoothing: float, engine, batch: dict) -> tuple:
    """Label-smoothed cross entropy of one micro-batch (backward and logged alike)."""
    batch = {name: tensor.to(engine.device) for name, tensor in batch.items()}
    loss = seq2seq_loss(engine, batch, label_smoothing, engine.module.config)
    return loss, loss


def checkpoint_and_log(engine, tokenizer, dev, cfg: MGENJobConfig, state: dict,
                       metrics: dict, evaluate_dev: bool, select: dict | None = None) -> None:
    """Dev EM/F1 of generated answers (``evaluate_dev``), then a checkpoint from every rank."""
    if evaluate_dev:
        metrics.update(evaluate(engine, tokenizer, dev, cfg))
    report_checkpoint(engine, tokenizer, cfg, state, metrics, select)
    log(f"epoch {metrics['epoch']} step {state['step']}: train_loss {metrics['train_loss']:.4f}"
        + (f", dev_f1 {metrics['dev_f1']:.4f}" if "dev_f1" in metrics else ""))


def train_features(tokenizer, examples, cfg: MGENJobConfig) -> list[dict]:
    """Tokenized (source, first gold answer) pairs over each question's top passages."""
    model_cfg = cfg.model
    sources = [format_source(e.question, e.lang, e.ctxs[:model_cfg.train_passages])
               for e in examples]
    inputs = encode_sources(tokenizer, sources, model_cfg.max_source_length)
    # As in the official mGEN the first gold answer is the target.
    labels = encode_targets(tokenizer, [e.answers[0] for e in examples],
                            model_cfg.max_target_length)
    return [{"input_ids": i, "labels": t} for i, t in zip(inputs, labels)]


def train_loader(tokenizer, examples, cfg: MGENJobConfig) -> DataLoader:
    """Batches padded to their longest member, sharded across workers."""
    features = train_features(tokenizer, examples, cfg)
    sampler = DistributedSampler(features, seed=cfg.train.seed) if dist.is_initialized() else None
    return DataLoader(features, batch_size=cfg.train.batch_size, sampler=sampler,
                      shuffle=sampler is None, drop_last=False,
                      collate_fn=functools.partial(collate, pad_id=tokenizer.pad_token_id),
                      generator=seeded_loader_generator(cfg.train.seed))


def evaluate(engine, tokenizer, examples, cfg: MGENJobConfig) -> dict:
    """Dev EM/F1 of generated answers per language (MLQA rules) and macro averages."""
    predict = functools.partial(predict_shard, engine, tokenizer, cfg=cfg)
    return sharded_dev_scores(examples, predict)


def predict_shard(engine, tokenizer, examples, cfg: MGENJobConfig) -> dict[str, str]:
    """Generated answers for this worker's dev questions over their top passages.

    Every rank runs the same number of ``generate`` calls (ZeRO-3 gathers weights in
    each forward pass, so ranks with fewer questions repeat their last batch).
    """
    k = cfg.model.eval_passages
    sources = [format_source(e.question, e.lang, e.ctxs[:k]) for e in examples]
    batch_size = cfg.train.eval_batch_size
    zero3 = engine.zero_optimization_stage() == 3 and dist.is_initialized()
    answers, _ = generate_answers(
        engine.module, tokenizer, sources, max_source_length=cfg.model.max_source_length,
        batch_size=batch_size, num_beams=cfg.model.num_beams,
        max_new_tokens=cfg.model.max_target_length, device=engine.device,
        min_batches=max_across_workers(math.ceil(len(sources) / batch_size)),
        synced_gpus=zero3)
    return {e.id: answer for e, answer in zip(examples, answers)}
