"""Multi-task reader training (MRC + mixMRC + LAKM) with 2 DeepSpeed workers on Ray Train,
on data made by the project's own jobs: mixMRC pairs from XQuAD (parallel translator),
knowledge-phrase passages mined from the demo search log."""

import json
import math

import pytest

from rayqa.data.lakm import read_lakm_passages
from rayqa.data.squad import read_squad, write_squad
from rayqa.demo import demo_file
from rayqa.testing.tiny import build_tiny_reader
from tests.test_train import assert_resume_equals_not_stopping, final_state, stop_then_resume
from tests.test_train import overrides as reader_overrides

pytestmark = [pytest.mark.ray, pytest.mark.shared]
LANGS = ("en", "de", "zh")


@pytest.fixture(scope="module")
def setup(tmp_path_factory, shared_dir, ray_local):
    from jobs.make_mixmrc import main as make_mixmrc
    from jobs.mine_phrases import main as mine_phrases

    root = tmp_path_factory.mktemp("multitask")
    xquad = shared_dir / "data" / "xquad"
    source = json.loads((xquad / "xquad.en.json").read_text(encoding="utf-8"))
    source["data"] = source["data"][:2]  # two articles, about 50 questions
    (root / "source.json").write_text(json.dumps(source), encoding="utf-8")
    make_mixmrc(["--config", "configs/mixmrc.yaml", f"output_dir={root / 'mixmrc'}",
                 f"source_files=[{root / 'source.json'}]", "target_langs=[de, zh]",
                 f"translator.xquad_dir={xquad}", "translator.langs=[en, de, zh]",
                 "max_pairs_per_example=2"])
    # In this process: the Ray job writes the same files (test_mine_phrases.py
    # ::test_ray_job_matches_local) and would only add a Ray Data job's start-up here.
    mine_phrases(["--input", str(demo_file("search_log.jsonl")),
                  "--output", str(root / "phrases"), "--local"])
    passages = root / "phrases" / "passages.jsonl"
    with passages.open("a", encoding="utf-8") as lines:
        lines.write("{broken\n")  # counted and reported by the training job, not fatal

    train = [e for e in read_squad(demo_file("train.json")) if e.lang in LANGS][::3]
    write_squad(train, root / "train.json")
    mixed = read_squad(root / "mixmrc" / "mixed.json")
    texts = [e.context for e in train + mixed] + [e.question for e in train + mixed]
    texts += [p.text for p in read_lakm_passages(passages)]
    build_tiny_reader(texts, root / "init", hidden=64, layers=2, heads=2, intermediate=128)
    return root


def overrides(root, **extra):
    """The reader test's overrides plus the three tasks."""
    tasks = {
        "tasks": f"[{{name: mrc}}, {{name: mixmrc, files: [{root / 'mixmrc' / 'mixed.json'}]}}, "
                 f"{{name: lakm, files: [{root / 'phrases' / 'passages.jsonl'}], ratio: 0.5}}]",
        "lakm.max_seq_length": 128, "lakm.stride": 32,
        "train.run_name": "mt", "train.deepspeed.zero_stage": 0,
        # Not the reader test's step checkpoints (its killed-worker run needs them) nor
        # its warmup: one evaluated checkpoint per epoch, the full LR from the start.
        "train.checkpoint_every_steps": 0, "train.warmup_ratio": 0.0,
    }
    return reader_overrides(root, **{**tasks, **extra})


def run_job(args):
    from jobs.train import main

    return main(["--config", "configs/reader.yaml", *args])


def test_three_tasks_two_workers_probe_losses_fall_then_resume(ray_local, setup):
    first = run_job(overrides(setup, **{"train.epochs": 2}))
    checkpoints = sorted(first.best_checkpoints, key=lambda pair: pair[1]["step"])
    assert len(checkpoints) == 2
    start, end = checkpoints[0][1], checkpoints[-1][1]
    for task in ("mrc", "mixmrc", "lakm"):
        losses = [metrics[f"probe_loss/{task}"] for _, metrics in checkpoints]
        assert all(math.isfinite(loss) for loss in losses), (task, losses)
        assert math.isfinite(end[f"train_loss/{task}"])
    # The fixed probe batches: the same inputs (and masks) at every checkpoint.
    assert end["probe_loss/mrc"] < start["probe_loss/mrc"]
    assert end["probe_loss/mixmrc"] < start["probe_loss/mixmrc"]
    assert end["probe_loss/lakm"] < start["probe_loss/lakm"]
    assert all(f"dev/{lang}/f1" in end for lang in LANGS)

    # The same run stopped inside its second epoch (LAKM masks drawn there, auxiliary
    # loaders mid-pass), then resumed: as if never stopped.
    per_epoch = start["step"]
    stop = per_epoch + per_epoch // 2
    args = overrides(setup, **{"train.epochs": 2, "train.run_name": "mt-stopped",
                               "output_dir": setup / "stopped"})
    assert_resume_equals_not_stopping(stop_then_resume(run_job, args, stop),
                                      final_state(first), stop)

    from transformers import AutoModelForQuestionAnswering

    final = setup / "out" / "final"
    model = AutoModelForQuestionAnswering.from_pretrained(final)  # the reader alone
    assert not any(name.startswith("cls.") for name, _ in model.named_parameters())

