"""The epoch loop shared by every rayqa worker loop (reader, mDPR, mGEN, Dual BERT).

A task supplies two functions: ``step_loss(engine, batch) -> (backward_loss, logged_loss)``
for one micro-batch, and ``checkpoint(state, metrics, evaluate)`` that (when
``evaluate``) adds dev metrics, reports a checkpoint and logs. The loop owns what must
be the same everywhere: the LR schedule of a fresh or resumed run, resuming inside a
partly trained epoch, counting optimizer steps at DeepSpeed's gradient-accumulation
boundaries, stopping at ``max_steps`` (or earlier at ``stop_at_step``, a stop that leaves
the schedule as planned, checkpointed for a later run to continue), checkpointing every
``checkpoint_every`` epochs (with dev evaluation), every ``checkpoint_every_steps`` steps
(without) and at the end,
the per-step history (loss, LR) every checkpoint carries, and progress lines.

The loops also share how a checkpoint is made (``checkpoint_and_log``: each loop passes
its metrics and its log line), how span windows are batched (``stack_windows``,
``stack_trimmed_windows``) and how an extractive model answers its dev questions in
lockstep with the other ranks (``predict_spans``, ``lockstep_batches``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence

import torch
from pydantic import BaseModel
from torch.utils.data import DataLoader

from rayqa.config import TrainConfig
from rayqa.data.postprocess import postprocess_predictions
from rayqa.train.checkpoint import report_checkpoint, restore, resumed_state
from rayqa.train.distributed import log, max_across_workers, mean_across_workers, rank_world
from rayqa.train.engine import build_engine, new_schedule, schedule_factor


def new_state(schedule: dict) -> dict:
    """The train state of a fresh run (what every checkpoint's ``train_state.json`` holds)."""
    return {"epoch": 0, "step": 0, "batches_done": 0, "schedule": schedule,
            "history": {"step": [], "loss": [], "lr": []}, "resumed_at": []}


def total_steps(cfg: TrainConfig, batches_per_epoch: int | Sequence[int]) -> int:
    """Optimizer steps of the run: ``max_steps`` when set, else all epochs' batches / grad_accum.

    ``batches_per_epoch`` is one count for every epoch, or a count per epoch (at least
    ``cfg.epochs`` of them) for a loader whose epochs differ in length.
    """
    if isinstance(batches_per_epoch, int):
        batches = cfg.epochs * batches_per_epoch
    else:
        batches = sum(batches_per_epoch[:cfg.epochs])
    planned = max(1, batches // cfg.grad_accum)
    return min(planned, cfg.max_steps) if cfg.max_steps > 0 else planned


def start_engine(model: torch.nn.Module, cfg: TrainConfig,
                 batches_per_epoch: int | Sequence[int]) -> tuple:
    """The DeepSpeed engine of a worker loop and the state to train from: fresh, or
    restored from the run's latest checkpoint (weights, optimizer, LR schedule, position)
    when Ray Train hands one over. Returns ``(engine, state)``."""
    resumed = resumed_state()
    state = plan_schedule(cfg, batches_per_epoch, resumed)
    engine = build_engine(model, cfg, state["schedule"])
    if resumed:
        restore(engine)
    return engine, state


def plan_schedule(cfg: TrainConfig, batches_per_epoch: int | Sequence[int],
                  resumed: dict | None) -> dict:
    """The train state to start from: fresh, or the resumed one with its LR schedule.

    A resumed run keeps the schedule it started with (``train.lr_schedule`` included),
    so it follows the same LR curve as a run that never stopped. When ``train.epochs`` or
    ``max_steps`` changed since (the run is extended or shortened), the LR decays from
    where it was at the resume step to zero at the new end, linearly or along a half
    cosine as the schedule began, instead of restarting the schedule.
    """
    total = total_steps(cfg, batches_per_epoch)
    if resumed is None:
        return new_state(new_schedule(cfg, total))
    state = {**new_state(new_schedule(cfg, total)), **resumed}
    old = state["schedule"]  # a checkpoint from before schedules were recorded: today's plan
    if old["total"] != total:
        step = state["step"]
        factor = schedule_factor(step, old)
        kind = {"kind": old["kind"]} if "kind" in old else {}  # linear or cosine, as begun
        state["schedule"] = {**kind, "warmup": old["warmup"], "total": total,
                             "from_step": step, "from_factor": factor}
        log(f"the run now ends at step {total} (was {old['total']}): the learning rate "
            f"decays from {factor:.3g}x at step {step} to zero at step {total}")
        if factor == 0:
            log("warning: the original schedule had reached zero; the added steps train "
                "at learning rate 0 (start a new train.run_name from the export instead)")
    state["resumed_at"] = [*state.get("resumed_at", []), state["step"]]
    return state


def run_epochs(engine, loader: DataLoader, state: dict, cfg: TrainConfig,
               step_loss, checkpoint) -> None:
    """Train from ``state`` (fresh or restored) until the epochs or the schedule are done,
    or ``stop_at_step`` is reached."""
    total = state["schedule"]["total"]
    progress = Progress(total, cfg, state["step"])
    while state["epoch"] < cfg.epochs and state["step"] < stop_step(state, cfg):
        loss = train_epoch(engine, loader, state, cfg, step_loss, checkpoint, progress)
        finished = state["epoch"] >= cfg.epochs or state["step"] >= total
        stopped = state["step"] >= stop_step(state, cfg) and not finished
        # (an epoch stopped inside has batches_done > 0: not an epoch end)
        epoch_due = state["batches_done"] == 0 and state["epoch"] % cfg.checkpoint_every == 0
        if finished or epoch_due:
            # evaluate and checkpoint every `checkpoint_every` epochs, and at the end
            checkpoint(state, _metrics(state, loader, loss), True)
        elif stopped:
            # A stop is no point of the schedule: checkpointed for resume, not evaluated.
            checkpoint(state, _metrics(state, loader, loss), False)
        if stopped:
            log(f"stopped at step {state['step']} of {total} (train.stop_at_step): the same "
                f"run name without the stop, or with a later one, continues the schedule")


def stop_step(state: dict, cfg: TrainConfig) -> int:
    """The step this run ends at: the schedule's last, or ``stop_at_step`` if earlier."""
    total = state["schedule"]["total"]
    return total if cfg.stop_at_step is None else min(total, cfg.stop_at_step)


def _metrics(state: dict, loader, loss: float) -> dict:
    done = state["epoch"] + state["batches_done"] / len(loader)  # epochs completed
    return {"epoch": round(done, 4), "step": state["step"], "train_loss": loss}


def train_epoch(engine, loader: DataLoader, state: dict, cfg: TrainConfig, step_loss,
                checkpoint=None, progress: Progress | None = None) -> float:
    """Train until the epoch ends or the schedule's last step is done; updates ``state``.

    Returns the mean logged loss of the micro-batches taken, averaged over workers.
    """
    end = stop_step(state, cfg)
    if hasattr(loader, "set_epoch"):  # reshuffles: the same order again on a resumed run
        loader.set_epoch(state["epoch"])
    engine.train()
    losses, step_losses = [], []
    for index, batch in enumerate(loader):
        if index < state["batches_done"]:  # resuming inside a partly trained epoch
            continue
        backward_loss, logged = step_loss(engine, batch)
        boundary = engine.is_gradient_accumulation_boundary()  # DeepSpeed steps only there
        lr = engine.get_lr()[0]  # the rate this step applies
        engine.backward(backward_loss)
        engine.step()
        losses.append(logged.item())
        step_losses.append(losses[-1])
        state["batches_done"] = index + 1
        if not boundary:
            continue
        _record_step(state, sum(step_losses) / len(step_losses), lr)
        step_losses = []
        if progress is not None:
            progress.update(state)
        if state["step"] >= end:
            break
        if _step_checkpoint_due(state, cfg, len(loader)) and checkpoint is not None:
            loss = mean_across_workers(sum(losses), len(losses))
            checkpoint(state, _metrics(state, loader, loss), False)
    if state["batches_done"] >= len(loader):
        state["epoch"] += 1
        state["batches_done"] = 0
    return mean_across_workers(sum(losses), len(losses))


def _step_checkpoint_due(state: dict, cfg: TrainConfig, batches: int) -> bool:
    """Every ``checkpoint_every_steps`` steps, except on an epoch's last batch (the
    epoch's own checkpoint logic decides there)."""
    every = cfg.checkpoint_every_steps
    return bool(every) and state["step"] % every == 0 and state["batches_done"] < batches


def _record_step(state: dict, loss: float, lr: float) -> None:
    """Counts one optimizer step and appends it to the history (this rank's loss)."""
    state["step"] += 1
    history = state["history"]
    history["step"].append(state["step"])
    history["loss"].append(loss)
    history["lr"].append(lr)


def checkpoint_and_log(engine, tokenizer, cfg: BaseModel, state: dict, metrics: dict,
                       evaluate_dev: bool, *, summary: Callable[[dict], str],
                       train_metrics: Callable[[], dict] | None = None,
                       dev_metrics: Callable[[], dict] | None = None,
                       select: dict | None = None) -> None:
    """The ``checkpoint`` of ``run_epochs``: a loop's metrics added, a checkpoint reported
    from every rank, a line logged.

    A loop binds (``functools.partial``) all but ``state``, ``metrics`` and
    ``evaluate_dev``, which ``run_epochs`` passes.

    Args:
        engine: The DeepSpeed engine.
        tokenizer: Saved into the checkpoint beside the model (``report_checkpoint``).
        cfg: The job config saved with it.
        state: The train state (``new_state``).
        metrics: Epoch, step and train loss; updated in place.
        evaluate_dev: Whether this checkpoint is evaluated on the dev set.
        summary: ``metrics -> str``, the line logged after ``epoch E step S: ``.
        train_metrics: ``() -> dict`` added at every checkpoint; a collective where it
            reduces over workers, so every rank calls it.
        dev_metrics: ``() -> dict`` added when ``evaluate_dev``.
        select: How the best checkpoint is chosen (``report_checkpoint``).
    """
    if train_metrics is not None:
        metrics.update(train_metrics())
    if evaluate_dev and dev_metrics is not None:
        metrics.update(dev_metrics())
    report_checkpoint(engine, tokenizer, cfg, state, metrics, select)
    log(f"epoch {metrics['epoch']} step {state['step']}: " + summary(metrics))


def summarize(metrics: dict, keys: Iterable[str], spec: str = ".4f") -> str:
    """``key value`` of each of ``keys`` that ``metrics`` holds, comma-separated."""
    return ", ".join(f"{key} {metrics[key]:{spec}}" for key in keys if key in metrics)


def stack_windows(rows: list[dict]) -> dict[str, torch.Tensor]:
    """Training windows (each column of one length) as a batch of tensors: the collate
    of a ``ShardLoader`` of reader or Dual BERT windows."""
    return {name: torch.tensor([row[name] for row in rows]) for name in rows[0]}


def stack_trimmed_windows(rows: list[dict]) -> dict[str, torch.Tensor]:
    """``stack_windows``, cut after the last position any window of the batch attends to.

    Windows come padded to ``max_seq_length``; a batch of short ones (a question with a
    paragraph, not a page) then skips the padding's compute, as HF's per-batch padding
    does. Left-padded windows keep their length.
    """
    batch = stack_windows(rows)
    used = int(batch["attention_mask"].any(dim=0).nonzero().max()) + 1
    return {name: column[:, :used] if column.dim() == 2 else column
            for name, column in batch.items()}


def lockstep_batches(count: int, batch_size: int) -> int:
    """Batches every rank runs to predict its ``count`` dev inputs: the most any rank needs.

    ZeRO-3 gathers the parameters in every forward pass, a collective, so every rank
    runs as many as the others; ranks with fewer inputs repeat their last batch.
    """
    return max_across_workers(math.ceil(count / batch_size))


def predict_spans(engine, examples: list, features: dict, span_logits,
                  cfg: BaseModel) -> dict[str, str]:
    """Answers of an extractive model (reader, Dual BERT) to this rank's dev questions.

    Args:
        engine: The DeepSpeed engine of the model.
        examples: This rank's dev examples (``QAExample``s).
        features: Their eval windows (``prepare_eval_features`` or Dual BERT's).
        span_logits: ``(model, features, batch_size, device, min_batches=) -> (start,
            end)`` logits of every window.
        cfg: The job config: ``model`` decodes spans, ``train.eval_batch_size`` batches.

    Returns:
        ``{example id: answer}``.
    """
    batch_size = cfg.train.eval_batch_size
    start, end = span_logits(engine, features, batch_size, engine.device,
                             min_batches=lockstep_batches(len(features["input_ids"]),
                                                          batch_size))
    return postprocess_predictions(examples, features, start, end,
                                   n_best_size=cfg.model.n_best_size,
                                   max_answer_length=cfg.model.max_answer_length)


class Progress:
    """Progress lines from rank 0: every ``log_every`` steps and at least every
    ``progress_every_s`` seconds, with step/total, loss, LR, examples/s and ETA.

    Workers' output reaches the driver through Ray's log pipe, never a terminal, so the
    bar is drawn in text inside the line.
    """

    WIDTH = 20

    def __init__(self, total: int, cfg: TrainConfig, start_step: int):
        self.total, self.cfg = total, cfg
        self.start_step = start_step
        self.started = self.last = time.monotonic()
        self.examples_per_step = cfg.batch_size * cfg.grad_accum * rank_world()[1]

    def update(self, state: dict) -> None:
        step, now = state["step"], time.monotonic()
        due = step % self.cfg.log_every == 0 or now - self.last >= self.cfg.progress_every_s
        if not due and step < self.total:
            return
        self.last = now
        done = step - self.start_step
        rate = done / max(now - self.started, 1e-9)  # steps per second since (re)start
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        filled = int(self.WIDTH * step / self.total)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        history = state["history"]
        log(f"[{bar}] step {step}/{self.total} epoch {state['epoch'] + 1}/{self.cfg.epochs} "
            f"loss {history['loss'][-1]:.4f} lr {history['lr'][-1]:.3g} "
            f"{rate * self.examples_per_step:.1f} ex/s ETA {_duration(eta)}")


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
