"""DeepSpeed engine setup shared by every rayqa training loop.

DeepSpeed's own optimizers (FusedAdam, CPUAdam) compile CUDA or C++ ops at first use;
a torch AdamW handed in as the client optimizer works the same on CPU (gloo) and GPU
(NCCL) with ZeRO stages 0-2, so that is what rayqa passes.
"""

from __future__ import annotations

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


def linear_schedule(optimizer: torch.optim.Optimizer, warmup_steps: int,
                    total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup to the base learning rate, then linear decay to zero."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def build_engine(model: torch.nn.Module, cfg: TrainConfig, total_steps: int):
    """Wrap ``model`` in a DeepSpeed engine with AdamW and a linear schedule.

    Must run inside a Ray Train worker: the process group Ray Train set up (gloo on
    CPU, NCCL on GPU) is the one DeepSpeed uses.
    """
    import deepspeed  # imported on the worker: it probes accelerators at import time

    decay, no_decay = [], []
    for name, param in model.named_parameters():
        (no_decay if param.ndim < 2 or "LayerNorm" in name else decay).append(param)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay},
         {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    warmup = cfg.warmup_steps
    if warmup is None:
        warmup = int(cfg.warmup_ratio * total_steps)
    scheduler = linear_schedule(optimizer, warmup, total_steps)
    engine, _, _, _ = deepspeed.initialize(model=model, optimizer=optimizer,
                                           lr_scheduler=scheduler,
                                           config=deepspeed_config(cfg))
    return engine
