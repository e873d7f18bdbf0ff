"""Driver side of reader training: read data once, run the ``TorchTrainer``, export.

``train_reader(cfg)`` validates and reads the data on the driver (bad records counted
and reported there, strict mode fails before any worker starts), shares the examples
through the object store, runs the workers, and writes the best checkpoint's model to
``<output_dir>/final`` as a plain ``from_pretrained`` directory with the resolved config.
"""

from __future__ import annotations

from pathlib import Path

import ray
from ray.train import CheckpointConfig, RunConfig, ScalingConfig
from ray.train.torch import TorchConfig, TorchTrainer

from rayqa.config import ReaderJobConfig, save_config
from rayqa.data.records import BadRecords
from rayqa.data.squad import QAExample, read_squad
from rayqa.train.checkpoint import export_model
from rayqa.train.reader import reader_train_loop


def read_files(files, strict: bool, report: BadRecords) -> list[QAExample]:
    """Read every SQuAD file of a ``DataConfig`` list into one example list.

    Parallel sets (XQuAD, MLQA) reuse question ids across languages; an id seen in an
    earlier file is qualified as ``<lang>:<id>`` so predictions never collide.
    """
    examples: list[QAExample] = []
    seen: set[str] = set()
    for item in files:
        for example in read_squad(item.path, lang=item.lang, strict=strict, report=report):
            if example.id in seen:
                example.id = f"{example.lang}:{example.id}"
            seen.add(example.id)
            examples.append(example)
    return examples


def storage_path(cfg: ReaderJobConfig) -> str:
    """Where Ray Train keeps checkpoints: ``train.storage_path`` or ``<output_dir>/ray``."""
    return cfg.train.storage_path or str(Path(cfg.output_dir, "ray").resolve())


def build_trainer(cfg: ReaderJobConfig, train: list[QAExample],
                  dev: list[QAExample]) -> TorchTrainer:
    """A ``TorchTrainer`` for ``cfg``; the same run name and storage resume a run."""
    train_cfg = cfg.train
    scaling = ScalingConfig(num_workers=train_cfg.num_workers, use_gpu=train_cfg.use_gpu,
                            resources_per_worker={"CPU": train_cfg.cpus_per_worker})
    score = "dev_f1" if dev else None
    run = RunConfig(
        name=train_cfg.run_name,
        storage_path=storage_path(cfg),
        checkpoint_config=CheckpointConfig(num_to_keep=train_cfg.checkpoints_to_keep,
                                           checkpoint_score_attribute=score),
    )
    return TorchTrainer(
        reader_train_loop,
        train_loop_config={"cfg": cfg.model_dump(mode="json"),
                           "train": ray.put(train), "dev": ray.put(dev)},
        scaling_config=scaling,
        torch_config=TorchConfig(backend="nccl" if train_cfg.use_gpu else "gloo"),
        run_config=run,
    )


def train_reader(cfg: ReaderJobConfig):
    """Train the reader described by ``cfg``; returns the Ray Train ``Result``."""
    report = BadRecords()
    train = read_files(cfg.data.train_files, cfg.data.strict, report)
    dev = read_files(cfg.data.dev_files, cfg.data.strict, report)
    if not train:
        raise ValueError("no usable training examples in data.train_files")
    print(f"[rayqa.train] {len(train)} training and {len(dev)} dev questions; "
          f"{report.total} bad records", flush=True)
    result = build_trainer(cfg, train, dev).fit()
    best = best_checkpoint(result)
    final = export_model(best.path, Path(cfg.output_dir) / "final")
    save_config(cfg, final)
    print(f"[rayqa.train] best checkpoint {best.path} -> {final}", flush=True)
    return result


def best_checkpoint(result):
    """Best retained checkpoint by dev F1 (latest when there is no dev set)."""
    scored = [(c, m) for c, m in (result.best_checkpoints or []) if "dev_f1" in m]
    if scored:
        return max(scored, key=lambda pair: pair[1]["dev_f1"])[0]
    if result.checkpoint is None:
        raise RuntimeError(f"training reported no checkpoint: {result.error}")
    return result.checkpoint
