"""Ray Train + DeepSpeed settings shared by the reader, mDPR and mGEN jobs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from rayqa.config.base import DataFile, Section, as_data_files


class DataConfig(Section):
    """Training and dev files (SQuAD v1.1 JSON) and how strictly to read them."""

    train_files: list[DataFile] = Field(default_factory=list)
    dev_files: list[DataFile] = Field(default_factory=list)
    strict: bool = False

    _files = field_validator("train_files", "dev_files", mode="before")(as_data_files)


class DeepSpeedConfig(Section):
    """The parts of a DeepSpeed config rayqa exposes; the rest follows from TrainConfig."""

    # 0: plain data parallelism (gradients all-reduced, every worker keeps the whole
    # optimizer state); 1-3 shard optimizer state, gradients, weights to save memory at
    # a cost per step (ZeRO-1 took 15% more per step than 0 for a 6-layer reader on CPU,
    # bench/train_step.py), worth it when the state does not fit (mT5, mDPR on GPUs).
    zero_stage: int = Field(0, ge=0, le=3)
    bf16: Literal["auto", "on", "off"] = "auto"
    gradient_clipping: float = Field(1.0, ge=0)


class TrainConfig(Section):
    """Ray Train + DeepSpeed settings for one training job."""

    run_name: str = "reader"
    storage_path: str | None = None
    num_workers: int = Field(2, ge=0)
    use_gpu: bool = False
    cpus_per_worker: float = Field(1.0, gt=0)
    epochs: int = Field(2, ge=1)
    max_steps: int = Field(-1, ge=-1)
    # Checkpoint and end the run after this many optimizer steps in total, while its
    # LR schedule still plans for all epochs / max_steps (a time-boxed slot); rerunning
    # with the same run name and no stop, or a later one, continues the same schedule.
    # None: run to the end.
    stop_at_step: int | None = Field(None, ge=1)
    batch_size: int = Field(16, ge=1)
    eval_batch_size: int = Field(64, ge=1)
    lr: float = Field(3e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, le=1)
    # Warmup in optimizer steps; when set it replaces warmup_ratio (mGEN: 500).
    warmup_steps: int | None = Field(None, ge=0)
    # Decay after warmup: "linear" to zero at the last step, or "cosine",
    # 0.5 * (1 + cos(pi * progress)) to zero (rayqa.train.engine.schedule_factor).
    lr_schedule: Literal["linear", "cosine"] = "linear"
    # Micro-batches per optimizer step (DeepSpeed gradient accumulation).
    grad_accum: int = Field(1, ge=1)
    seed: int = 42
    # Progress line every this many optimizer steps, and at least every progress_every_s.
    log_every: int = Field(10, ge=1)
    progress_every_s: float = Field(30.0, gt=0)
    # Evaluate and checkpoint every this many epochs (and always at the end).
    checkpoint_every: int = Field(1, ge=1)
    # Also checkpoint (without dev evaluation) every this many optimizer steps; 0: off.
    # A restarted worker group resumes from the latest one, so a lost worker costs at
    # most this many steps.
    checkpoint_every_steps: int = Field(0, ge=0)
    # Checkpoints retained: the best by the dev metric (plus always the latest, for
    # resume); each holds the full DeepSpeed optimizer state. None keeps all.
    checkpoints_to_keep: int | None = Field(2, ge=1)
    # Worker-group failures (a lost worker or node) a run recovers from by restarting
    # from its latest checkpoint; -1 retries forever (Ray Train FailureConfig).
    max_failures: int = Field(2, ge=-1)
    deepspeed: DeepSpeedConfig = Field(default_factory=DeepSpeedConfig)
