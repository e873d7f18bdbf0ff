"""DeepSpeed engine setup shared by every rayqa training loop.

DeepSpeed's own optimizers (FusedAdam, CPUAdam) compile CUDA or C++ ops at first use;
a torch AdamW handed in as the client optimizer works the same on CPU (gloo) and GPU
(NCCL) with ZeRO stages 0-2, so that is what rayqa passes.
"""

from __future__ import annotations

import math

import torch

from rayqa.config import TrainConfig


def use_bf16(cfg: TrainConfig) -> bool:
    """bf16 ``auto`` means: on for GPUs that support it, off on CPU (fp32 there)."""
    if cfg.deepspeed.bf16 == "auto":
        return cfg.use_gpu and torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return cfg.deepspeed.bf16 == "on"


def deepspeed_config(cfg: TrainConfig) -> dict:
    """The DeepSpeed JSON config that follows from a ``TrainConfig``."""
    return {
        "train_micro_batch_size_per_gpu": cfg.batch_size,
        "gradient_accumulation_steps": cfg.grad_accum,
        "gradient_clipping": cfg.deepspeed.gradient_clipping,
        "zero_optimization": {"stage": cfg.deepspeed.zero_stage},
        "bf16": {"enabled": use_bf16(cfg)},
        "steps_per_print": 10**9,  # rayqa logs progress itself
        "wall_clock_breakdown": False,
    }


def schedule_factor(step: int, schedule: dict) -> float:
    """The learning-rate multiplier at optimizer step ``step`` of a linear or cosine schedule.

    ``schedule`` is ``{"warmup", "total"}`` plus ``"kind": "cosine"`` for a cosine decay
    (no ``"kind"``, or ``"linear"``, is linear: schedules saved before there was a choice
    read as what they were). Linear warmup to the base rate over ``warmup`` steps, then a
    decay to zero at ``total``: linear, ``(total - step) / (total - warmup)``, or cosine,
    ``0.5 * (1 + cos(pi * progress))`` with ``progress = (step - warmup) / (total - warmup)``
    (1 at the end of warmup, 0.5 halfway, 0 at ``total`` and after).

    A run resumed with another length (``train.epochs`` or ``max_steps`` changed) carries
    ``"from_step"`` and ``"from_factor"``: from that step on the rate decays from where the
    original schedule had it to zero at the new ``total``, so it continues the original
    curve instead of jumping back (see ``rayqa.train.loop.plan_schedule``). The decay keeps
    its kind: a straight line, or a half cosine ``from_factor * 0.5 * (1 + cos(pi * p))``
    with ``p = (step - from_step) / (total - from_step)``. The cosine restarts its shape
    over the remaining steps (it is flat at the resume step, where the original was already
    falling); only the rate itself is continuous.
    """
    warmup, total = schedule["warmup"], schedule["total"]
    cosine = schedule.get("kind", "linear") == "cosine"
    start = schedule.get("from_step")
    if start is not None and step >= start:
        if cosine:
            return schedule["from_factor"] * _cosine_decay(step, start, total)
        return max(0.0, schedule["from_factor"] * (total - step) / max(1, total - start))
    if step < warmup:
        return (step + 1) / max(1, warmup)
    if cosine:
        return _cosine_decay(step, warmup, total)
    return max(0.0, (total - step) / max(1, total - warmup))


def _cosine_decay(step: int, start: int, total: int) -> float:
    """1 at ``start``, falling along a half cosine to 0 at ``total`` (and 0 after)."""
    progress = min(1.0, (step - start) / max(1, total - start))
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_decay_scheduler(optimizer: torch.optim.Optimizer,
                           schedule: dict) -> torch.optim.lr_scheduler.LambdaLR:
    """A ``LambdaLR`` following ``schedule_factor`` (linear or cosine, as ``schedule`` says).

    The multiplier is a plain function: ``LambdaLR`` leaves functions out of its state
    dict, so a restored scheduler keeps this run's schedule and only takes the step count
    from the checkpoint.
    """

    def factor(step: int) -> float:
        return schedule_factor(step, schedule)

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def warmup_steps(cfg: TrainConfig, total: int) -> int:
    """Warmup optimizer steps: ``warmup_steps`` when set, else ``warmup_ratio`` of ``total``."""
    return cfg.warmup_steps if cfg.warmup_steps is not None else int(cfg.warmup_ratio * total)


def new_schedule(cfg: TrainConfig, total: int) -> dict:
    """The ``schedule`` dict of a fresh run of ``total`` optimizer steps.

    ``"kind"`` is only written for a cosine decay, so a linear schedule is the same
    ``{"warmup", "total"}`` that checkpoints held before the choice existed.
    """
    schedule = {"warmup": warmup_steps(cfg, total), "total": total}
    if cfg.lr_schedule != "linear":
        schedule["kind"] = cfg.lr_schedule
    return schedule


SHARED_MEMORY_OP = "deepspeed_shm_comm"


def skip_shared_memory_op(deepspeed) -> None:
    """Keeps DeepSpeed from compiling its shared-memory all-reduce when it initializes.

    DeepSpeed's torch backend JIT-compiles that C++ op (``ShareMemCommBuilder``) on the
    first ``initialize`` of every machine and Python environment - one to three minutes
    on two cores, while every worker waits - and a worker killed mid-compile leaves a
    lock file that makes every later run wait forever. Only its ``inference_all_reduce``
    uses the op; training all-reduces through ``torch.distributed``. DeepSpeed reads
    the op's availability from ``deepspeed.ops.__compatible_ops__``, a dict computed
    once and kept, so marking the op unavailable there skips the build.
    """
    deepspeed.ops.__compatible_ops__[SHARED_MEMORY_OP] = False


def build_engine(model: torch.nn.Module, cfg: TrainConfig, schedule: dict):
    """Wrap ``model`` in a DeepSpeed engine with AdamW and the (linear or cosine) ``schedule``.

    Must run inside a Ray Train worker: the process group Ray Train set up (gloo on
    CPU, NCCL on GPU) is the one DeepSpeed uses.
    """
    import deepspeed  # imported on the worker: it probes accelerators at import time

    skip_shared_memory_op(deepspeed)
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (no_decay if param.ndim < 2 or "LayerNorm" in name else decay).append(param)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    scheduler = warmup_decay_scheduler(optimizer, schedule)
    engine, _, _, _ = deepspeed.initialize(model=model, optimizer=optimizer,
                                           lr_scheduler=scheduler,
                                           config=deepspeed_config(cfg))
    return engine
