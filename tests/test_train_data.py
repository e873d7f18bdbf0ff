"""Training data through Ray Data: each worker reads its own shard, in the same order on
every run (what resuming needs), reshuffled per epoch."""

import sys

import pandas as pd
import pytest

pytestmark = pytest.mark.ray
ROWS = 601  # 9 blocks over 2 featurizing tasks; odd, so the split pads one row


class Doubled:
    """A stand-in featurizer: one feature row per example, its id doubled."""

    def __init__(self, offset: int):
        self.offset = offset

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"value": batch["id"] * 2 + self.offset})


def record_shard(config: dict) -> None:
    """Worker loop: iterate this worker's shard for two epochs and epoch 0 again (what a
    run resumed in epoch 0 does), write down what it saw."""
    import json
    from pathlib import Path

    from rayqa.train.data import ShardLoader
    from rayqa.train.distributed import rank_world

    loader = ShardLoader("train", config["rows"], batch_size=8, seed=5,
                         collate=lambda rows: [r["value"] for r in rows])
    seen = []
    for epoch in (0, 1, 0):
        loader.set_epoch(epoch)
        seen.append([value for batch in loader for value in batch])
    rank = rank_world()[0]
    Path(config["out"], f"rank-{rank}.json").write_text(
        json.dumps({"seen": seen, "batches": len(loader)}))


def run_once(tmp_path, name: str) -> dict[int, dict]:
    import json

    import ray.cloudpickle
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from rayqa.train.data import data_config, featurized_dataset

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # tests/ is no package
    dataset, rows = featurized_dataset([{"id": i} for i in range(ROWS)], Doubled,
                                       {"offset": 1}, world_size=2, parallelism=2,
                                       cpus_per_task=0.5)
    assert rows == ROWS + 1
    out = tmp_path / name
    out.mkdir()
    TorchTrainer(record_shard, train_loop_config={"rows": rows, "out": str(out)},
                 scaling_config=ScalingConfig(num_workers=2, resources_per_worker={"CPU": 0.5}),
                 datasets={"train": dataset}, dataset_config=data_config(),
                 run_config=RunConfig(name=name, storage_path=str(tmp_path / "ray"))).fit()
    return {rank: json.loads((out / f"rank-{rank}.json").read_text()) for rank in (0, 1)}


def test_each_worker_reads_its_own_shard_in_a_repeatable_order(ray_local, tmp_path):
    """One run of two epochs. That a second run sees the very same batches is what the
    stop-and-resume tests of every training job prove (tests/test_train.py and the
    others: a resumed run's per-step losses equal the uninterrupted run's)."""
    first = run_once(tmp_path, "a")
    values = {2 * i + 1 for i in range(ROWS)}
    for rank in (0, 1):
        epochs = first[rank]["seen"]
        assert len(epochs[0]) == (ROWS + 1) // 2 and first[rank]["batches"] == 38
        assert sorted(epochs[0]) == sorted(epochs[1])  # the same shard every epoch...
        assert epochs[0] != epochs[1]  # ...shuffled anew per epoch
        assert epochs[2] == epochs[0]  # and in the same order again for the same epoch
    shard0, shard1 = set(first[0]["seen"][0]), set(first[1]["seen"][0])
    assert shard0 | shard1 == values  # all rows, split between the workers
    assert len(shard0 & shard1) <= 1  # only the padding row may repeat
