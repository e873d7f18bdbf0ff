"""mGEN training on the shared local Ray: 2 DeepSpeed workers, loss, dev EM/F1, resume, export."""

import json
import math

import pytest

from rayqa.answer.generative import GenerativeReader
from rayqa.data.squad import read_squad
from rayqa.demo import demo_file
from rayqa.models.generator import format_source
from rayqa.testing.tiny_seq2seq import build_tiny_mt5
from tests.test_train import assert_resume_equals_not_stopping, final_state, stop_then_resume

pytestmark = pytest.mark.ray
LANGS = ("en", "zh", "ar", "de")


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    """A tiny mT5 and retrieval-style JSONL from the demo corpus: each question's own
    paragraph is its single passage; dev is a quarter of train, every language in it."""
    root = tmp_path_factory.mktemp("mgen")
    examples = [e for e in read_squad(demo_file("train.json")) if e.lang in LANGS][::9]
    rows = [{"id": e.id, "question": e.question, "lang": e.lang,
             "answers": [a["text"] for a in e.answers],
             "ctxs": [{"id": f"{e.id}-p", "title": e.title, "text": e.context, "lang": e.lang}]}
            for e in examples]
    for name, part in (("train", rows), ("dev", [r for lang in LANGS for r in rows if r["lang"] == lang][::4])):
        (root / f"{name}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), encoding="utf-8")
    texts = [format_source(r["question"], r["lang"], r["ctxs"]) for r in rows]
    build_tiny_mt5(texts + [a for r in rows for a in r["answers"]], root / "init",
                   extra_ids=0, d_model=64, layers=2, heads=2, d_ff=128)
    return root, len(rows)


def overrides(root, **extra):
    base = {
        "output_dir": root / "out", "model.name_or_path": root / "init",
        "model.max_source_length": 128, "model.max_target_length": 8,
        "data.train_files": f"[{root / 'train.jsonl'}]",
        "data.dev_files": f"[{root / 'dev.jsonl'}]",
        "train.run_name": "t", "train.num_workers": 2, "train.use_gpu": False,
        "train.batch_size": 4, "train.grad_accum": 2, "train.eval_batch_size": 16,
        "train.lr": 3e-3, "train.warmup_steps": 0, "train.checkpoints_to_keep": "null",
        "train.deepspeed.zero_stage": 2, "train.log_every": 2,
    }
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


def run_job(args):
    from jobs.train_mgen import main

    return main(["--config", "configs/mgen.yaml", *args])


def write_synthetic(root, count: int = 32) -> str:
    """`count` synthetic lines (English questions tagged with another language, as CORA
    makes them) in a JSONL file; returns its path."""
    english = [json.loads(line) for line in (root / "train.jsonl").read_text().splitlines()
               if json.loads(line)["lang"] == "en"]
    synthetic = [{**row, "id": f"{row['id']}@{lang}#{n}", "lang": lang}
                 for n in range(2) for lang in ("de", "zh", "ar") for row in english][:count]
    assert len(synthetic) == count
    path = root / "synthetic.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in synthetic),
                    encoding="utf-8")
    return str(path)


def test_two_workers_synthetic_from_epoch_two_loss_decreases_then_resume(ray_local,
                                                                        tiny_setup):
    """Two epochs on 2 DeepSpeed workers, 32 synthetic lines joining in the second (as
    CORA's round 0 adds them after epoch 3); then the same run stopped one optimizer
    step into epoch 2 (training and synthetic batches interleaved) and resumed."""
    root, count = tiny_setup
    settings = {"train.epochs": 2, "data.synthetic_files": f"[{write_synthetic(root)}]",
                "data.synthetic_from_epoch": 1}
    first = run_job(overrides(root, **settings))
    checkpoints = sorted(first.best_checkpoints, key=lambda pair: pair[1]["step"])
    losses = [metrics["train_loss"] for _, metrics in checkpoints]
    assert len(losses) == 2, first.error
    assert losses[-1] < losses[0], losses
    last = checkpoints[-1][1]
    assert all(f"dev/{lang}/f1" in last for lang in LANGS)
    # 2 workers x batch 4 x accumulation 2: an optimizer step every 2 micro-batches;
    # epoch 2 adds 32 / 2 / 4 = 4 synthetic micro-batches, 2 steps.
    micro_batches = math.ceil(math.ceil(count / 2) / 4)
    assert micro_batches % 2 == 0  # so no accumulation straddles an epoch end
    per_epoch = micro_batches // 2
    assert [m["step"] for _, m in checkpoints] == [per_epoch, 2 * per_epoch + 2]
    assert first.metrics["epoch"] == 2

    stop = per_epoch + 1
    args = overrides(root, **{"train.run_name": "stopped", "output_dir": root / "stopped",
                              **settings})
    assert_resume_equals_not_stopping(stop_then_resume(run_job, args, stop),
                                      final_state(first), stop)

    final = root / "out" / "final"
    assert (final / "rayqa_config.yaml").is_file() and not (final / "deepspeed").exists()
    reader = GenerativeReader(final, device="cpu")
    assert reader.config.max_target_length == 8
    got = reader.answer_batch(["When was Brenna Lighthouse built?"], ["en"], [[]], num_beams=2)
    assert isinstance(got[0]["answer"], str) and got[0]["score"] <= 0


def test_synthetic_batches_join_from_their_epoch_in_a_seeded_order():
    """Cheap, no Ray Train: the loader CORA's mGEN uses for synthetic data (appendix
    A.2) and the LR schedule planned over its growing epochs."""
    from torch.utils.data import DataLoader

    from rayqa.config import TrainConfig
    from rayqa.train.loop import plan_schedule
    from rayqa.train.mgen_loop import LateJoinLoader, epoch_batches

    train = DataLoader(list(range(10)), batch_size=2)  # 5 batches
    synthetic = DataLoader(list(range(100, 106)), batch_size=2)  # 3 batches
    loader = LateJoinLoader(train, synthetic, from_epoch=3, seed=7)
    assert epoch_batches(loader, 5) == [5, 5, 5, 8, 8]
    seen = {}
    for epoch in range(5):
        loader.set_epoch(epoch)
        seen[epoch] = [batch.tolist() for batch in loader]
        assert len(seen[epoch]) == len(loader) == loader.batches(epoch)
    assert all(seen[e] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]] for e in range(3))
    for epoch in (3, 4):
        got = seen[epoch]
        assert [b for b in got if b[0] < 100] == seen[0]  # every training batch, in order
        assert sorted(b for b in got if b[0] >= 100) == [[100, 101], [102, 103], [104, 105]]
    # Interleaved, not appended; each epoch its own order, the same one when replayed
    # (a run resumed inside epoch 3 sees the batches of the run it continues).
    loader.set_epoch(3)
    assert loader.order() != sorted(loader.order())
    assert [batch.tolist() for batch in loader] == seen[3]
    assert seen[3] != seen[4]
    # The schedule counts the longer epochs: (3 x 5 + 2 x 8) // 2 optimizer steps.
    cfg = TrainConfig(epochs=5, grad_accum=2, warmup_ratio=0.0)
    state = plan_schedule(cfg, epoch_batches(loader, 5), None)
    assert state["schedule"]["total"] == 15
    # One more epoch on resume: 8 more batches, 4 more steps.
    state["step"] = 10
    longer = plan_schedule(cfg.model_copy(update={"epochs": 6}), epoch_batches(loader, 6), state)
    assert longer["schedule"]["total"] == 19
