"""Driver side shared by every rayqa training job: the ``TorchTrainer`` and the export.

A job reads its data on the driver, then ``fit_and_export`` runs its worker loop on Ray
Train (same run name and storage resume a run; a lost worker restarts the group from
the latest checkpoint, ``train.max_failures`` times), picks the best retained checkpoint
by the job's dev metric, and exports it to ``<output_dir>/final`` with the resolved
config. ``output_dir`` and ``train.storage_path`` are local paths or URIs
(``s3://bucket/...``): on a cluster every node must reach them.
"""

from __future__ import annotations

from pathlib import Path

import ray
from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
from ray.train.torch import TorchConfig, TorchTrainer

from rayqa import storage
from rayqa.train.checkpoint import SELECTION, UNEVALUATED, export_checkpoint
from rayqa.train.data import data_config

FINAL_DIR = "final"


def storage_path(cfg) -> str:
    """Where Ray Train keeps checkpoints: ``train.storage_path`` or ``<output_dir>/ray``.

    Local paths are made absolute: Ray Train workers do not share the driver's working
    directory.
    """
    return storage.absolute(cfg.train.storage_path or storage.join(cfg.output_dir, "ray"))


def final_dir(cfg) -> str:
    """Where a job's export goes: ``<output_dir>/final`` (a path or URI)."""
    return storage.join(storage.absolute(cfg.output_dir), FINAL_DIR)


def build_torch_trainer(loop, cfg, train, dev, score: str | None, order: str = "max",
                        datasets: dict[str, tuple] | None = None) -> TorchTrainer:
    """A ``TorchTrainer`` running ``loop`` with ``{"cfg", "train", "dev", "select", "rows"}``.

    ``datasets`` (``{name: (Ray Dataset, rows)}``, see ``rayqa.train.data``) are split
    across the workers, each reading its shard; ``train`` and ``dev`` (anything else the
    loop needs) travel whole through the object store, so workers on other nodes need no
    access to the driver's files. ``score`` (a reported dev metric) ranks checkpoints:
    workers report it signed as ``selection_score``, and Ray Train keeps the best
    ``train.checkpoints_to_keep`` plus the latest.
    """
    datasets = datasets or {}
    train_cfg = cfg.train
    run = RunConfig(
        name=train_cfg.run_name,
        storage_path=storage_path(cfg),
        checkpoint_config=CheckpointConfig(num_to_keep=train_cfg.checkpoints_to_keep,
                                           checkpoint_score_attribute=SELECTION if score
                                           else None,
                                           checkpoint_score_order="max"),
        failure_config=FailureConfig(max_failures=train_cfg.max_failures),
    )
    select = {"metric": score, "order": order} if score else None
    return TorchTrainer(
        loop,
        train_loop_config={"cfg": with_absolute_models(cfg.model_dump(mode="json")),
                           "train": ray.put(train), "dev": ray.put(dev), "select": select,
                           "rows": {name: rows for name, (_, rows) in datasets.items()}},
        datasets={name: dataset for name, (dataset, _) in datasets.items()},
        dataset_config=data_config(),
        scaling_config=ScalingConfig(num_workers=train_cfg.num_workers,
                                     use_gpu=train_cfg.use_gpu,
                                     resources_per_worker={"CPU": train_cfg.cpus_per_worker}),
        torch_config=TorchConfig(backend="nccl" if train_cfg.use_gpu else "gloo"),
        run_config=run,
    )


def with_absolute_models(tree):
    """``tree`` with every local ``name_or_path`` made absolute.

    Ray Train workers do not run in the driver's working directory, so a relative
    model directory in a config (``model.name_or_path=runs/x/final``) would be looked
    up on the hub there; hub names (no such local path) and URIs stay as they are.
    """
    if isinstance(tree, dict):
        return {k: str(Path(v).resolve()) if k == "name_or_path" and isinstance(v, str)
                and not storage.is_uri(v) and Path(v).exists() else with_absolute_models(v)
                for k, v in tree.items()}
    if isinstance(tree, list):
        return [with_absolute_models(item) for item in tree]
    return tree


def best_checkpoint(result, score: str = SELECTION, order: str = "max"):
    """Best retained checkpoint by ``score`` (the latest when none reported it).

    Checkpoints whose score is missing, -inf or ``UNEVALUATED`` (step checkpoints
    between evaluations) rank below every evaluated one.
    """
    scored = [(c, m) for c, m in (result.best_checkpoints or [])
              if m.get(score) is not None and m[score] > UNEVALUATED]
    if scored:
        pick = max if order == "max" else min
        return pick(scored, key=lambda pair: pair[1][score])[0]
    if result.checkpoint is None:
        raise RuntimeError(f"training reported no checkpoint: {result.error}")
    return result.checkpoint


def fit_and_export(loop, cfg, train, dev, score: str = "dev_f1", order: str = "max",
                   datasets: dict[str, tuple] | None = None):
    """Train, then export the best checkpoint to ``<output_dir>/final``; returns the Result."""
    has_dev = bool(dev)
    result = build_torch_trainer(loop, cfg, train, dev, score if has_dev else None,
                                 order, datasets).fit()
    best = best_checkpoint(result)
    final = export_checkpoint(best, final_dir(cfg), cfg)
    print(f"[rayqa.train] best checkpoint {best.path} -> {final}", flush=True)
    return result


def read_data_files(files, read_file, strict: bool, report) -> list:
    """Read every ``DataFile`` with ``read_file(path, lang, strict, report)`` into one list.

    Parallel sets (XQuAD, MLQA) reuse question ids across languages; an id seen in an
    earlier file is qualified as ``<lang>:<id>`` so predictions never collide.
    """
    examples: list = []
    seen: set[str] = set()
    for item in files:
        for example in read_file(item.path, item.lang, strict, report):
            if example.id in seen:
                example.id = f"{example.lang}:{example.id}"
            seen.add(example.id)
            examples.append(example)
    return examples
