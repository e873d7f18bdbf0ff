"""Training data on Ray Data: featurized once by Ray tasks, split across the workers.

A job's driver reads and validates its examples (bad records are counted there), then
``featurized_dataset`` turns them into a Ray Dataset and tokenizes/windows them with a
``map_batches`` step - a class that loads its tokenizer in ``__init__``, built once per
worker process and kept there - and materializes the features in the object store. The
step runs as Ray tasks, not an actor pool: tasks land on the cluster's warm worker
processes, where an actor pool would start (and import torch and transformers in) new
processes for every job, seconds before the first row for a step that takes
milliseconds. The datasets go to the ``TorchTrainer``
(``datasets=``); Ray Train splits each into one equal shard per worker, so a worker
receives, holds and iterates its own shard only (before, every worker got the whole
training set and tokenized all of it).

The split keeps Ray Data's order (``preserve_order``) and the dataset is padded to a
multiple of the world size (by repeating its first rows, as ``DistributedSampler``
pads), so every worker gets the same rows in the same order on every run and the same
number of batches; ``ShardLoader`` shuffles them within a buffer with a seed per epoch.
A resumed run therefore replays exactly the batches of the run it continues.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np

SHUFFLE_BUFFER = 10_000  # windows per worker shuffled together (Ray Data local shuffle)


def data_config():
    """The ``ray.train.DataConfig`` of rayqa's trainers: every dataset split, in order."""
    from ray.data import ExecutionOptions
    from ray.train import DataConfig

    return DataConfig(datasets_to_split="all",
                      execution_options=ExecutionOptions(preserve_order=True))


def featurized_dataset(rows: list[dict], step: type | None, step_kwargs: dict,
                       world_size: int, parallelism: int = 1, cpus_per_task: float = 1.0):
    """Rows -> features with the Ray Data step ``step``, materialized and padded.

    Args:
        rows: Plain-data examples (what ``step`` reads).
        step: A class whose instances map a batch of rows (pandas) to a batch of
            features; None keeps the rows as they are (a loop that tokenizes per batch).
        step_kwargs: Its constructor arguments, JSON-serializable (a model path is made
            a local copy there).
        world_size: Training workers; the features are padded to a multiple of it.
        parallelism: Featurizing tasks to split the rows for (8 blocks each at most).
        cpus_per_task: CPUs of each task.

    Returns:
        ``(dataset, count)``: the materialized features and their number of rows.

    Raises:
        ValueError: The examples produce no features.
    """
    import ray

    blocks = max(1, min(len(rows) // 64, 8 * parallelism))
    features = ray.data.from_items(rows, override_num_blocks=blocks)
    if step is not None:
        features = features.map_batches(
            apply_step, fn_kwargs={"step": step,
                                   "step_kwargs": json.dumps(step_kwargs, sort_keys=True)},
            batch_format="pandas", num_cpus=cpus_per_task)
    # Blocks in input order, whichever task finishes first: the split (and so every
    # worker's rows and their order) must not depend on timing.
    features.context.execution_options.preserve_order = True
    features = features.materialize()
    count = features.count()
    if count == 0:
        raise ValueError("the training examples produce no training windows")
    padding = -count % max(1, world_size)
    if padding:
        features = features.union(features.limit(padding)).materialize()
    return features, count + padding


def apply_step(batch, step: type, step_kwargs: str):
    """``step(**json.loads(step_kwargs))(batch)``, the step built once per process."""
    return _built_step(step, step_kwargs)(batch)


@functools.lru_cache(maxsize=8)
def _built_step(step: type, step_kwargs: str):
    return step(**json.loads(step_kwargs))


class ShardLoader:
    """Batches of this worker's shard of a training dataset, one pass per epoch.

    Args:
        name: The dataset's name in the trainer's ``datasets``.
        rows: Rows of the whole (padded) dataset; every worker holds ``rows / world``.
        batch_size: Rows per batch.
        seed: Shuffle seed; epoch ``e`` shuffles with ``seed + e``.
        collate: Turns a list of row dicts into the model's batch.
        shuffle: False iterates in the shard's fixed order (probe batches).
    """

    def __init__(self, name: str, rows: int, batch_size: int, seed: int, collate,
                 shuffle: bool = True):
        # Ray Train and torch (rank_world's) load here, on the training worker: Ray
        # Data's tasks import this module for apply_step, and need neither.
        import ray.train

        from rayqa.train.distributed import rank_world

        self.shard = ray.train.get_dataset_shard(name)
        self.per_worker = rows // rank_world()[1]
        self.batch_size, self.seed, self.collate = batch_size, seed, collate
        self.shuffle = shuffle
        self.epoch = 0

    def __len__(self) -> int:
        return math.ceil(self.per_worker / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Shuffle anew for ``epoch`` (the same order again for the same epoch); a
        ``collate`` with a ``set_epoch`` of its own (drawing per epoch) is told too."""
        self.epoch = epoch
        if hasattr(self.collate, "set_epoch"):
            self.collate.set_epoch(epoch)

    def __iter__(self):
        shuffle = {"local_shuffle_buffer_size": min(SHUFFLE_BUFFER, self.per_worker),
                   "local_shuffle_seed": self.seed + self.epoch} if self.shuffle else {}
        for batch in self.shard.iter_batches(batch_size=self.batch_size,
                                             batch_format="numpy", **shuffle):
            yield self.collate(rows_of(batch))


def rows_of(batch: dict[str, np.ndarray]) -> list[dict]:
    """A numpy batch as a list of row dicts (list-valued columns as Python lists)."""
    columns = list(batch)
    size = len(batch[columns[0]]) if columns else 0
    return [{name: _plain(batch[name][i]) for name in columns} for i in range(size)]


def _plain(value):
    return value.tolist() if isinstance(value, np.ndarray | np.generic) else value

