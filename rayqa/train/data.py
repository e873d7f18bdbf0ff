"""Training data on Ray Data: featurized once by Ray tasks, split across the workers.

A job's driver reads and validates its examples (bad records are counted there), then
``featurized_dataset`` turns them into a Ray Dataset and tokenizes/windows them with a
``map_batches`` step - a callable class that loads its tokenizer once per actor - and
materializes the features in the object store. The datasets go to the ``TorchTrainer``
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
                       world_size: int, num_actors: int = 1, cpus_per_actor: float = 1.0):
    """Rows -> features with the Ray Data step ``step``, materialized and padded.

    Args:
        rows: Plain-data examples (what ``step`` reads).
        step: A callable class mapping a batch of rows to a batch of features; None
            keeps the rows as they are (a loop that tokenizes per batch).
        step_kwargs: Its constructor arguments (a model path is made a local copy there).
        world_size: Training workers; the features are padded to a multiple of it.
        num_actors: Most featurizing actors (at least one).
        cpus_per_actor: CPUs of each.

    Returns:
        ``(dataset, count)``: the materialized features and their number of rows.

    Raises:
        ValueError: The examples produce no features.
    """
    import ray
    from ray.data import ActorPoolStrategy

    blocks = max(1, min(len(rows) // 64, 8 * num_actors))
    features = ray.data.from_items(rows, override_num_blocks=blocks)
    if step is not None:
        features = features.map_batches(
            step, fn_constructor_kwargs=step_kwargs, batch_format="pandas",
            compute=ActorPoolStrategy(min_size=1, max_size=max(1, num_actors)),
            num_cpus=cpus_per_actor)
    # Blocks in input order, whichever actor finishes first: the split (and so every
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

