"""Checkpoints: a ``save_pretrained`` directory, the rayqa config, and DeepSpeed state.

Layout of one checkpoint (what Ray Train uploads to ``storage_path``)::

    config.json, model.safetensors, tokenizer files   # from_pretrained() loads this
    rayqa_config.yaml                                 # the resolved job config
    train_state.json                                  # epoch, step, metrics
    deepspeed/                                        # optimizer + scheduler, per rank

Every rank calls ``engine.save_checkpoint`` (ZeRO shards the optimizer state across
ranks) into its own temporary directory, then every rank reports; Ray Train merges the
rank directories into one checkpoint.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import ray.train
import torch.distributed as dist
from pydantic import BaseModel

from rayqa.config import save_config

STATE_FILE = "train_state.json"
DEEPSPEED_DIR = "deepspeed"


def _model_state_dict(engine):
    """Full weights on rank 0; ZeRO-3 has to gather them (a collective call)."""
    if engine.zero_optimization_stage() == 3:
        return engine._zero3_consolidated_16bit_state_dict()
    return engine.module.state_dict() if dist.get_rank() == 0 else None


def report_checkpoint(engine, tokenizer, cfg: BaseModel, state: dict, metrics: dict) -> None:
    """Save a checkpoint from every rank and report it with ``metrics``."""
    with tempfile.TemporaryDirectory(prefix="rayqa-ckpt-") as tmp:
        engine.save_checkpoint(str(Path(tmp) / DEEPSPEED_DIR), tag="state")
        weights = _model_state_dict(engine)
        if dist.get_rank() == 0:
            engine.module.save_pretrained(tmp, state_dict=weights)
            tokenizer.save_pretrained(tmp)
            save_config(cfg, tmp)
            Path(tmp, STATE_FILE).write_text(json.dumps(state, indent=1))
        ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(tmp))


def restore(engine) -> dict | None:
    """Load the latest reported checkpoint into ``engine``; returns its train state."""
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        return None
    with checkpoint.as_directory() as directory:
        engine.load_checkpoint(str(Path(directory) / DEEPSPEED_DIR), tag="state")
        return json.loads(Path(directory, STATE_FILE).read_text())


def export_model(checkpoint_dir: str | Path, target: str | Path) -> Path:
    """Copy a checkpoint without its DeepSpeed state: a plain ``from_pretrained`` dir."""
    target = Path(target)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(checkpoint_dir, target, ignore=shutil.ignore_patterns(DEEPSPEED_DIR))
    return target
