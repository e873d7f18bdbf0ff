"""An in-process loader of span-labelled reader windows, for benchmarks.

Training itself reads its windows from Ray Data (``rayqa.train.reader_loop``,
``rayqa.train.data.ShardLoader``); ``bench/train_step.py`` times a plain torch loop
against Ray Train on the same windows, and reads them on both sides from here.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, StackDataset

from rayqa.config import ReaderJobConfig
from rayqa.data.features import prepare_train_features
from rayqa.data.squad import QAExample
from rayqa.train.reader_loop import TRAIN_COLUMNS


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
    process group is up (what ``bench/train_step.py`` times on both of its sides).

    The loader gets a seeded ``generator``: without one, each new iterator draws its
    seed from the global torch RNG, which dropout also draws from.
    """
    dataset = span_dataset(tokenizer, examples, cfg)
    sampler = DistributedSampler(dataset, seed=cfg.train.seed) if dist.is_initialized() \
        else None
    return DataLoader(dataset, batch_size=cfg.train.batch_size, sampler=sampler,
                      shuffle=sampler is None,
                      generator=torch.Generator().manual_seed(cfg.train.seed))
