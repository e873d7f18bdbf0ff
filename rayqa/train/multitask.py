"""Multi-task batches in turn: the mixMRC/LAKM paper's "gradient updates sequentially at
batch level".

``TaskLoader`` interleaves the data loaders of the tasks of one reader run: an epoch is
one pass over the main task's (``mrc``) loader, and after each main batch every other
task gets ``ratio / main ratio`` batches on average (a credit carried from batch to batch
makes the order deterministic, so a resumed run sees the same sequence). Auxiliary
loaders start over when they run out. Each yielded ``(task, batch)`` gets its own
forward, backward and optimizer step from ``rayqa.train.loop``; ``TaskStep`` computes the
loss of one and keeps per-task means for reporting.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

from rayqa.train.distributed import mean_across_workers

if TYPE_CHECKING:
    from torch.utils.data import DataLoader

    from rayqa.train.data import ShardLoader

MAIN_TASK = "mrc"


def task_order(main_batches: int, ratios: dict[str, float], main: str = MAIN_TASK) -> list[str]:
    """The task of every batch of one epoch.

    Args:
        main_batches: Batches in one pass over the main task's loader.
        ratios: Relative batch frequency per task, the main task's included.
        main: The task whose loader defines the epoch.

    Example:
        ``task_order(4, {"mrc": 1, "lakm": 0.5})`` is
        ``["mrc", "mrc", "lakm", "mrc", "mrc", "lakm"]``.
    """
    credit = dict.fromkeys(ratios, 0.0)
    order = []
    for _ in range(main_batches):
        order.append(main)
        for task, ratio in ratios.items():
            if task == main:
                continue
            credit[task] += ratio / ratios[main]
            while credit[task] >= 1 - 1e-9:  # tolerate float error of fractional ratios
                order.append(task)
                credit[task] -= 1
    return order


class TaskLoader:
    """Iterates ``(task, batch)`` over several loaders in ``task_order``.

    Args:
        loaders: One loader per task (a ``ShardLoader`` of the task's Ray Dataset, or
            an in-process ``DataLoader``); batches are dicts of tensors.
        ratios: Relative batch frequency per task (the keys of ``loaders``).
        main: The task whose loader defines an epoch.
    """

    def __init__(self, loaders: dict[str, DataLoader | ShardLoader], ratios: dict[str, float],
                 main: str = MAIN_TASK):
        if main not in loaders or set(loaders) != set(ratios):
            raise ValueError(f"loaders {sorted(loaders)} and ratios {sorted(ratios)} must "
                             f"name the same tasks, {main!r} among them")
        empty = [task for task, loader in loaders.items() if len(loader) == 0]
        if empty:
            raise ValueError(f"no training batches for task(s) {empty}")
        self.loaders, self.main = loaders, main
        self.order = task_order(len(loaders[main]), ratios, main)
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.order)

    def set_epoch(self, epoch: int) -> None:
        """Shuffle every task's data anew for ``epoch`` (the same order again on resume)."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[tuple[str, dict]]:
        iterators = {task: self._restart(task, 0) for task in self.loaders}
        passes = Counter()
        for task in self.order:
            batch = next(iterators[task], None)
            if batch is None:  # an auxiliary task ran out: start its next pass
                passes[task] += 1
                iterators[task] = self._restart(task, passes[task])
                batch = next(iterators[task])
            yield task, batch

    def _restart(self, task: str, passes: int) -> Iterator:
        # Distinct, reproducible shuffles per (epoch, pass) of every task: a
        # ``rayqa.train.data.ShardLoader`` reshuffles itself for each.
        loader, epoch = self.loaders[task], self.epoch * 1000 + passes
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(epoch)
        return iter(loader)


class TaskStep:
    """``step_loss`` of ``rayqa.train.loop`` for ``TaskLoader`` items.

    Sends the batch to the engine's device, runs the task's forward pass
    (``MultiTaskReader(task=...)``), and keeps the sum and count of each task's losses.
    """

    def __init__(self):
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: Counter = Counter()

    def __call__(self, engine, item: tuple[str, dict]) -> tuple:
        task, batch = item
        loss = engine(task=task, **{k: v.to(engine.device) for k, v in batch.items()}).loss
        self.sums[task] += loss.item()
        self.counts[task] += 1
        return loss, loss

    def drain(self, tasks: list[str]) -> dict[str, float]:
        """Mean loss per task since the last call, over all workers; then start over.

        Every rank must call it with the same ``tasks`` (it all-reduces).
        """
        means = {f"train_loss/{task}": mean_across_workers(self.sums[task], self.counts[task])
                 for task in tasks}
        self.sums.clear()
        self.counts.clear()
        return means
