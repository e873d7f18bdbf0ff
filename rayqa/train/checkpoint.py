"""Checkpoints: a ``save_pretrained`` directory, the rayqa config, and DeepSpeed state.

Layout of one checkpoint (what Ray Train uploads to ``storage_path``, local or ``s3://``)::

    config.json, model.safetensors, tokenizer files   # from_pretrained() loads this
    rayqa_config.yaml                                 # the resolved job config
    train_state.json                                  # epoch, step, LR schedule, history
    deepspeed/                                        # optimizer + scheduler, per rank
    rng/rank-<r>.pt                                   # each rank's random number state

Every rank calls ``engine.save_checkpoint`` (ZeRO shards the optimizer state across
ranks) into its own temporary directory, then every rank reports; Ray Train merges the
rank directories into one checkpoint. Restoring the RNG state too makes a resumed run
draw the same dropout masks as an uninterrupted one.

The export of a finished run (``export_checkpoint``) is the checkpoint without its
training state plus a ``manifest.json`` with the sha256 of every file, so a replica that
loads it from object storage (``rayqa.storage.local_copy``) can verify what it got.
"""

from __future__ import annotations

import json
import math
import random
import sys
import tempfile
from pathlib import Path, PurePosixPath

import numpy as np
import ray.train
import torch
import torch.distributed as dist
from pydantic import BaseModel

from rayqa import storage
from rayqa.config import CONFIG_FILENAME, save_config
from rayqa.storage import MANIFEST_FILE, write_manifest

STATE_FILE = "train_state.json"
DEEPSPEED_DIR = "deepspeed"
RNG_DIR = "rng"
# The reported metric Ray Train ranks checkpoints by: the dev metric signed so that
# higher is better, UNEVALUATED for step checkpoints taken between evaluations (kept
# only while they are the latest, for resume).
SELECTION = "selection_score"
# The lowest finite float, not -inf: Ray Train keeps its list of checkpoints as JSON,
# where -inf becomes null, and a re-created trainer (a resumed run) then fails to rank
# the null against its new checkpoints.
UNEVALUATED = -sys.float_info.max
TRAINING_ONLY = (DEEPSPEED_DIR, RNG_DIR)  # left out of exports


def _model_state_dict(engine):
    """Full weights on rank 0; ZeRO-3 has to gather them (a collective call)."""
    if engine.zero_optimization_stage() == 3:
        return engine._zero3_consolidated_16bit_state_dict()
    return engine.module.state_dict() if dist.get_rank() == 0 else None


def selection_score(metrics: dict, select: dict | None) -> float:
    """``metrics[select["metric"]]`` signed so that higher is better; -inf when absent."""
    value = metrics.get(select["metric"]) if select else None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return -math.inf
    return float(value) if select["order"] == "max" else -float(value)


def report_checkpoint(engine, tokenizer, cfg: BaseModel, state: dict, metrics: dict,
                      select: dict | None = None) -> None:
    """Save a checkpoint from every rank and report it with ``metrics``.

    Args:
        select: ``{"metric", "order"}`` that ranks checkpoints (adds ``SELECTION`` to
            ``metrics``); None when the run has no dev set.
    """
    if select:
        metrics[SELECTION] = max(selection_score(metrics, select), UNEVALUATED)
    rank = dist.get_rank()
    with tempfile.TemporaryDirectory(prefix="rayqa-ckpt-") as tmp:
        engine.save_checkpoint(str(Path(tmp) / DEEPSPEED_DIR), tag="state")
        Path(tmp, RNG_DIR).mkdir()
        torch.save(rng_state(), Path(tmp, RNG_DIR, f"rank-{rank}.pt"))
        weights = _model_state_dict(engine)
        if rank == 0:
            engine.module.save_pretrained(tmp, state_dict=weights)
            tokenizer.save_pretrained(tmp)
            save_config(cfg, tmp)
            Path(tmp, STATE_FILE).write_text(json.dumps(state, indent=1))
        ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(tmp))


def rng_state() -> dict:
    """This process's random number generators (torch, CUDA, numpy, Python)."""
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
            "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(saved: dict) -> None:
    """Restores what ``rng_state`` returned."""
    torch.set_rng_state(saved["torch"])
    np.random.set_state(saved["numpy"])
    random.setstate(saved["python"])
    if saved.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(saved["cuda"])


def resumed_state() -> dict | None:
    """The train state of the checkpoint this run resumes from, or None for a fresh run.

    Reads ``train_state.json`` alone (not the optimizer state), so a worker can plan
    its LR schedule before it builds the engine that ``restore`` then fills.
    """
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        return None
    path = str(PurePosixPath(checkpoint.path, STATE_FILE))
    with checkpoint.filesystem.open_input_stream(path) as stream:
        return json.loads(stream.read())


def restore(engine) -> None:
    """Load the latest reported checkpoint's DeepSpeed and RNG state into this rank."""
    checkpoint = ray.train.get_checkpoint()
    with checkpoint.as_directory() as directory:
        engine.load_checkpoint(str(Path(directory) / DEEPSPEED_DIR), tag="state")
        rng = Path(directory, RNG_DIR, f"rank-{dist.get_rank()}.pt")
        if rng.is_file():  # a world size that changed since the save has no file here
            set_rng_state(torch.load(rng, weights_only=False))


def export_checkpoint(checkpoint: ray.train.Checkpoint, target: str,
                      cfg: BaseModel | None = None) -> str:
    """Copy a checkpoint without its training state to ``target`` (a path or URI).

    The copy reads through the checkpoint's own file system (local or object storage)
    and leaves out the optimizer and RNG state, which can be most of its size. ``cfg``,
    when given, replaces the checkpoint's ``rayqa_config.yaml`` (the driver's resolved
    config). A ``manifest.json`` with the sha256 of every file is written last, so a
    loader (``storage.local_model``) can refuse a file changed after the export.

    Returns:
        ``target``, a plain ``from_pretrained`` directory.
    """
    storage.delete(target)
    files = storage.copy_tree(checkpoint.filesystem, checkpoint.path, target,
                              exclude=TRAINING_ONLY)
    if cfg is not None:
        save_config(cfg, target)
        files = sorted({*files, CONFIG_FILENAME})
    write_manifest(target, {"kind": "model", "checkpoint": checkpoint.path},
                   [f for f in files if f != MANIFEST_FILE])
    return target
