"""mDPR: cross-worker negatives in two gloo processes, then 2-worker DeepSpeed training on
the shared local Ray on a learnable task with held-out names (it learns, resumes,
exports)."""

import json

import pytest
import torch

from rayqa.models.biencoder import biencoder_nll
from rayqa.testing.learnable import retrieval_task
from rayqa.testing.tiny import build_tiny_reader
from tests.learning import SEED, reported, retrieval_metrics, without_dropout, write_jsonl
from tests.test_train import assert_resume_equals_not_stopping, final_state, stop_then_resume

pytestmark = pytest.mark.ray

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


def cross_worker_process(rank: int, world: int, rendezvous: str, out: str) -> None:
    """A worker of the cross-worker test: joins a gloo process group of ``world``
    processes (what Ray Train's workers join on CPUs), runs `cross_worker_step` and
    writes its result as JSON."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank,
                            world_size=world)
    try:
        result = cross_worker_step(rank, world)
    finally:
        dist.destroy_process_group()
    with open(f"{out}/rank{rank}.json", "w", encoding="utf-8") as file:
        json.dump(result, file)


def test_two_workers_double_the_negatives_and_match_one_process(tmp_path):
    """`global_loss` in two processes of one gloo group against the same global batch in
    one process. The processes are plain ones, not a Ray Train fit: what Ray Train adds
    (its workers' process group around the same code) the 2-worker training test below
    runs, and a fit of its own cost this test ~20 s of start-up."""
    import torch.multiprocessing as mp

    mp.spawn(cross_worker_process, args=(2, str(tmp_path / "rendezvous"), str(tmp_path)),
             nprocs=2)
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
    """The learnable retrieval task (``rayqa.testing.learnable.retrieval_task``): 600
    training and 90 held-out dev questions whose names are words training never uses;
    a tiny encoder without dropout (``tests.learning.without_dropout``)."""
    root = tmp_path_factory.mktemp("mdpr")
    train, dev = retrieval_task(SEED, "train", 600), retrieval_task(SEED, "dev", 90)
    write_jsonl(train, root / "train.jsonl")
    write_jsonl(dev, root / "dev.jsonl")
    texts = [r["question"] for r in train] + [c["title"] + " " + c["text"] for r in train
                                              for c in r["positive_ctxs"] + r["hard_negative_ctxs"]]
    build_tiny_reader(texts, root / "init", vocab_size=500, hidden=64, layers=2, heads=2,
                      intermediate=128, seed=SEED)
    without_dropout(root / "init")
    return root


def overrides(root, **extra):
    """2 ZeRO-2 workers x 8 questions (a global batch of 16 in-batch negatives), 4
    epochs (152 steps), dev ranked after epochs 2 and 4."""
    base = {
        "output_dir": root / "out", "encoder.name_or_path": root / "init",
        "encoder.max_passage_length": 32, "encoder.max_query_length": 16,
        "data.train_files": f"[{root / 'train.jsonl'}]",
        "data.dev_files": f"[{root / 'dev.jsonl'}]",
        "data.hard_negatives": 1, "data.bm25_negatives": False,
        "train.run_name": "t", "train.num_workers": 2, "train.batch_size": 8,
        "train.epochs": 4, "train.checkpoint_every": 2, "train.lr": 2e-3,
        "train.warmup_ratio": 0.1, "train.seed": SEED,
        "train.deepspeed.zero_stage": 2, "train.log_every": 50, "train.checkpoints_to_keep": "null",
    }
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


def run_job(args):
    from jobs.train_mdpr import main

    return main(["--config", "configs/mdpr.yaml", *args])


def test_two_worker_deepspeed_training_learns_unseen_names_and_resumes(ray_local, tiny_setup):
    """Loss falls, the held-out dev ranking beats the untrained encoders' by far (the job
    reports the same one), a run stopped inside its second epoch resumes as if never
    stopped, and the export loads as two encoders. (This run was two tests, a 2-worker
    run on demo data and a 1-worker learning run; one fit now checks both.)"""
    first = run_job(overrides(tiny_setup))
    checkpoints = sorted(first.best_checkpoints, key=lambda pair: pair[1]["step"])
    losses = [metrics["train_loss"] for _, metrics in checkpoints]
    assert len(losses) == 2 and losses[-1] < losses[0], losses
    last = checkpoints[-1][1]
    assert {"dev_recall@1", "dev_recall@5", "dev_recall@20", "dev_avg_rank"} <= set(last)

    final = tiny_setup / "out" / "final"
    assert (final / "rayqa_config.yaml").is_file() and not (final / "deepspeed").exists()
    init, dev_file = tiny_setup / "init", tiny_setup / "dev.jsonl"
    untrained = retrieval_metrics(init, init, dev_file)
    trained = retrieval_metrics(final / "query_encoder", final / "passage_encoder", dev_file)
    print(f"mDPR dev: untrained {untrained}, trained {trained}")
    # 90 questions over 180 passages (positive and hard negative each): a random ranking
    # puts the positive at 90.5 on average. Seed 0: untrained average rank 33.6-33.9 and
    # recall@20 0.56-0.57; trained here (152 steps) 8.9 and 0.93, trained 228 steps 6.4
    # and 0.98 (recall@1 0.06 -> 0.12: telling the positive from the hard negative by the
    # unseen name alone takes longer). Seed 1 (one worker, 200 steps): untrained 62.3
    # and 0.28, trained 5.0 and 1.0.
    assert trained["avg_rank"] <= 15 and trained["avg_rank"] < untrained["avg_rank"] / 2.5, \
        (untrained, trained)
    assert trained["recall@20"] >= 0.8 and trained["recall@20"] >= untrained["recall@20"] + 0.2
    # The job ranks with the same code; one question moving by one rank is 1/90.
    assert reported(first, "dev_avg_rank", "min") == pytest.approx(trained["avg_rank"],
                                                                    abs=0.5)

    # The same run stopped inside its second epoch (each epoch draws its hard negatives
    # anew), then resumed: as if never stopped.
    per_epoch = checkpoints[0][1]["step"] // 2
    stop = per_epoch + per_epoch // 2
    args = overrides(tiny_setup, **{"train.run_name": "stopped",
                                    "output_dir": tiny_setup / "stopped"})
    assert_resume_equals_not_stopping(stop_then_resume(run_job, args, stop),
                                      final_state(first), stop)
