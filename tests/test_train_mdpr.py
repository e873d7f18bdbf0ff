"""mDPR on the shared local Ray: cross-worker negatives, then 2-worker DeepSpeed training."""

import json
import sys

import pytest
import ray.cloudpickle
import torch

from rayqa.data.squad import read_squad, write_squad
from rayqa.demo import demo_file
from rayqa.models.biencoder import biencoder_nll
from rayqa.testing.tiny import build_tiny_reader
from tests.test_train import assert_resume_equals_not_stopping, final_state, stop_then_resume

pytestmark = pytest.mark.ray
# Ray workers cannot import this test module: ship its functions by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

LOCAL_BATCH, HARD, DIM = 3, 1, 4


def toy_batch(world: int):
    """The global batch of the cross-worker test: inputs of toy linear encoders."""
    generator = torch.Generator().manual_seed(7)
    questions = torch.randn(world * LOCAL_BATCH, DIM, generator=generator)
    positives = torch.randn(world * LOCAL_BATCH, DIM, generator=generator)
    hard = torch.randn(world * LOCAL_BATCH * HARD, DIM, generator=generator)
    return questions, positives, hard


def toy_encoders():
    torch.manual_seed(0)
    return torch.nn.Linear(DIM, DIM, bias=False), torch.nn.Linear(DIM, DIM, bias=False)


def cross_worker_step(rank: int, world: int) -> dict:
    """One step of `global_loss` on a worker's slice: score shape, loss, mean gradients."""
    import torch.distributed as dist

    from rayqa.train.mdpr_loop import global_loss

    questions, positives, hard = toy_batch(world)
    mine = slice(rank * LOCAL_BATCH, (rank + 1) * LOCAL_BATCH)
    mine_hard = slice(rank * LOCAL_BATCH * HARD, (rank + 1) * LOCAL_BATCH * HARD)
    query_encoder, passage_encoder = toy_encoders()
    passages = torch.cat([positives[mine], hard[mine_hard]])
    keys = torch.arange(len(passages)) + rank * len(passages)  # all distinct
    loss, scores = global_loss(query_encoder(questions[mine]), passage_encoder(passages), keys)
    (loss * world).backward()
    grads = torch.cat([query_encoder.weight.grad.flatten(), passage_encoder.weight.grad.flatten()])
    if dist.is_initialized():
        dist.all_reduce(grads)  # DDP / DeepSpeed average the workers' gradients
    return {"shape": list(scores.shape), "loss": loss.item(), "grads": (grads / world).tolist(),
            "negatives": int(torch.isfinite(scores[0]).sum()) - 1}


def cross_worker_loop(config):
    """Ray Train worker: runs `cross_worker_step` and writes its result as JSON."""
    import torch.distributed as dist

    rank = dist.get_rank()
    result = cross_worker_step(rank, dist.get_world_size())
    with open(f"{config['out']}/rank{rank}.json", "w", encoding="utf-8") as out:
        json.dump(result, out)


def test_two_workers_double_the_negatives_and_match_one_process(ray_local, tmp_path):
    from ray.train import ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    TorchTrainer(cross_worker_loop, train_loop_config={"out": str(tmp_path)},
                 torch_config=TorchConfig(backend="gloo"),
                 scaling_config=ScalingConfig(num_workers=2)).fit()
    two = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    one = cross_worker_step(0, 1)  # the same code with a world of one process
    passages = LOCAL_BATCH * (1 + HARD)
    assert one["shape"] == [LOCAL_BATCH, passages]
    assert two[0]["shape"] == two[1]["shape"] == [2 * LOCAL_BATCH, 2 * passages]
    # Candidates per question double: 2 * passages, one of them the positive.
    assert one["negatives"] == passages - 1 and two[0]["negatives"] == 2 * passages - 1
    assert two[0]["loss"] == two[1]["loss"]

    # The same global batch in one process: positives first, then all hard negatives.
    questions, positives, hard = toy_batch(2)
    query_encoder, passage_encoder = toy_encoders()
    loss, _ = biencoder_nll(query_encoder(questions),
                            passage_encoder(torch.cat([positives, hard])),
                            torch.arange(2 * LOCAL_BATCH))
    loss.backward()
    grads = torch.cat([query_encoder.weight.grad.flatten(), passage_encoder.weight.grad.flatten()])
    assert two[0]["loss"] == pytest.approx(loss.item(), rel=1e-5)
    assert two[0]["grads"] == pytest.approx(grads.tolist(), rel=1e-4, abs=1e-6)


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    """A tiny encoder, DPR JSONL training data (en, zh) and a SQuAD dev file."""
    root = tmp_path_factory.mktemp("mdpr")
    keep = {"en", "zh"}
    train = [e for e in read_squad(demo_file("train.json")) if e.lang in keep]
    lines = [json.dumps({"id": e.id, "question": e.question, "lang": e.lang,
                         "answers": [a["text"] for a in e.answers],
                         "positive_ctxs": [{"title": e.title, "text": e.context,
                                            "id": f"{e.title}-{e.lang}"}]}, ensure_ascii=False)
             for e in train]
    (root / "train.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    dev = [e for e in read_squad(demo_file("dev.json")) if e.lang in keep]
    write_squad(dev, root / "dev.json")
    build_tiny_reader([e.context for e in train] + [e.question for e in train], root / "init",
                      vocab_size=2000, hidden=64, layers=2, heads=2, intermediate=128)
    return root


def overrides(root, **extra):
    base = {
        "output_dir": root / "out", "encoder.name_or_path": root / "init",
        "encoder.max_passage_length": 128, "encoder.max_query_length": 32,
        "data.train_files": f"[{root / 'train.jsonl'}]",
        "data.dev_files": f"[{root / 'dev.json'}]",
        "data.passages_files": f"[{demo_file('passages.jsonl')}]",
        "data.hard_negatives": 1, "data.bm25_negatives": True,
        "train.run_name": "t", "train.num_workers": 2, "train.batch_size": 8,
        "train.epochs": 2, "train.lr": 1e-3, "train.warmup_ratio": 0.0,
        "train.deepspeed.zero_stage": 2, "train.log_every": 5, "train.checkpoints_to_keep": "null",
    }
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


def run_job(args):
    from jobs.train_mdpr import main

    return main(["--config", "configs/mdpr.yaml", *args])


def test_two_worker_deepspeed_training_learns_and_resumes(ray_local, tiny_setup):
    first = run_job(overrides(tiny_setup))
    checkpoints = sorted(first.best_checkpoints, key=lambda pair: pair[1]["step"])
    losses = [metrics["train_loss"] for _, metrics in checkpoints]
    assert len(losses) == 2 and losses[-1] < losses[0], losses
    last = checkpoints[-1][1]
    assert {"dev_recall@1", "dev_recall@5", "dev_recall@20", "dev_avg_rank"} <= set(last)
    # 48 dev questions ranked over their 24 paragraphs.
    assert 0 <= last["dev_recall@1"] <= last["dev_recall@5"] <= last["dev_recall@20"] <= 1
    assert 1 <= last["dev_avg_rank"] <= 24

    # The same run stopped inside its second epoch (other hard negatives drawn there than
    # in the first), then resumed: as if never stopped.
    per_epoch = checkpoints[0][1]["step"]
    stop = per_epoch + per_epoch // 2
    args = overrides(tiny_setup, **{"train.run_name": "stopped",
                                    "output_dir": tiny_setup / "stopped"})
    assert_resume_equals_not_stopping(stop_then_resume(run_job, args, stop),
                                      final_state(first), stop)

    from rayqa.retrieval.encode import TextEncoder

    final = tiny_setup / "out" / "final"
    assert (final / "rayqa_config.yaml").is_file() and not (final / "deepspeed").exists()
    passages = TextEncoder(str(final / "passage_encoder"), 128, "cls", "cpu")
    queries = TextEncoder(str(final / "query_encoder"), 32, "cls", "cpu")
    scores = queries.encode_queries(["When was Brenna Lighthouse built?"]) @ \
        passages.encode_passages(["Brenna Lighthouse", "Tea"], ["A tower.", "A drink."]).T
    assert scores.shape == (1, 2)
