"""The epoch loop shared by every rayqa worker loop (reader, mDPR, mGEN).

A task supplies two functions: ``step_loss(engine, batch) -> (backward_loss, logged_loss)``
for one micro-batch, and ``checkpoint(state, metrics)`` that evaluates, reports a
checkpoint and logs. The loop owns what must be the same everywhere: resuming inside a
partly trained epoch, counting optimizer steps at DeepSpeed's gradient-accumulation
boundaries, stopping at ``max_steps``, and checkpointing every ``checkpoint_every``
epochs and at the end.
"""

from __future__ import annotations

import time

from torch.utils.data import DataLoader, DistributedSampler

from rayqa.config import TrainConfig
from rayqa.train.distributed import log, mean_across_workers

NEW_STATE = {"epoch": 0, "step": 0, "batches_done": 0}


def total_steps(cfg: TrainConfig, batches_per_epoch: int) -> int:
    """Optimizer steps of the run: ``max_steps`` when set, else all epochs' batches / grad_accum."""
    planned = max(1, cfg.epochs * batches_per_epoch // cfg.grad_accum)
    return min(planned, cfg.max_steps) if cfg.max_steps > 0 else planned


def run_epochs(engine, loader: DataLoader, state: dict, total: int, cfg: TrainConfig,
               step_loss, checkpoint) -> None:
    """Train from ``state`` (fresh or restored) until the epochs or ``total`` steps are done."""
    while state["epoch"] < cfg.epochs and state["step"] < total:
        loss = train_epoch(engine, loader, state, total, cfg, step_loss)
        finished = state["epoch"] >= cfg.epochs or state["step"] >= total
        if state["epoch"] % cfg.checkpoint_every and not finished:
            continue  # evaluate and checkpoint every `checkpoint_every` epochs, and at the end
        done = state["epoch"] + state["batches_done"] / len(loader)  # epochs completed
        checkpoint(state, {"epoch": round(done, 4), "step": state["step"], "train_loss": loss})


def train_epoch(engine, loader: DataLoader, state: dict, total: int, cfg: TrainConfig,
                step_loss) -> float:
    """Train until the epoch ends or ``total`` optimizer steps are done; updates ``state``.

    Returns the mean logged loss of the micro-batches taken, averaged over workers.
    """
    if hasattr(loader, "set_epoch"):  # a multi-task loader shuffles each of its tasks
        loader.set_epoch(state["epoch"])
    elif isinstance(loader.sampler, DistributedSampler):
        loader.sampler.set_epoch(state["epoch"])  # the same order on a resumed run
    engine.train()
    losses, started = [], time.perf_counter()
    for index, batch in enumerate(loader):
        if index < state["batches_done"]:  # resuming inside a partly trained epoch
            continue
        backward_loss, logged = step_loss(engine, batch)
        boundary = engine.is_gradient_accumulation_boundary()  # DeepSpeed steps only there
        engine.backward(backward_loss)
        engine.step()
        losses.append(logged.item())
        state["batches_done"] = index + 1
        if not boundary:
            continue
        state["step"] += 1
        if state["step"] % cfg.log_every == 0:
            rate = len(losses) * cfg.batch_size / (time.perf_counter() - started)
            log(f"step {state['step']}/{total} loss {losses[-1]:.4f} ({rate:.1f} ex/s/worker)")
        if state["step"] >= total:
            break
    if state["batches_done"] >= len(loader):
        state["epoch"] += 1
        state["batches_done"] = 0
    return mean_across_workers(sum(losses), len(losses))
