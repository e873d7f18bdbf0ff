"""Multi-task reader training (MRC + mixMRC + LAKM) with 2 DeepSpeed workers on Ray Train."""

import json
import math

import pytest

from rayqa.data.squad import QAExample, read_squad, write_squad
from rayqa.demo import demo_file
from rayqa.models.tiny import build_tiny_reader

pytestmark = pytest.mark.ray
LANGS = ("en", "de", "zh")


def mixed_pairs(examples: list[QAExample]) -> list[QAExample]:
    """Question in one language, passage and answer in another (the demo is parallel)."""
    by_key = {}
    for e in examples:
        topic, lang, number = e.id.rsplit("-", 2)
        by_key.setdefault((topic, number), {})[lang] = e
    pairs = []
    for versions in by_key.values():
        for k, question in versions.items():
            for l, passage in versions.items():
                if k != l:
                    pairs.append(QAExample(f"{passage.id}.q-{k}", question.question,
                                           passage.context, passage.answers, passage.title, l))
    return pairs


def phrase_passages(examples: list[QAExample]) -> list[dict]:
    """Each distinct passage with the occurrences of its title as knowledge phrases."""
    rows, seen = [], set()
    for e in examples:
        if e.context in seen:
            continue
        seen.add(e.context)
        phrases = [{"text": e.title, "start": i, "end": i + len(e.title)}
                   for i in range(len(e.context)) if e.context.startswith(e.title, i)]
        rows.append({"id": e.id, "lang": e.lang, "text": e.context,
                     "phrases": phrases or [{"text": e.context[:5], "start": 0, "end": 5}]})
    return rows


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("multitask")
    examples = [e for e in read_squad(demo_file("train.json")) if e.lang in LANGS]
    train = examples[::3]
    write_squad(train, root / "train.json")
    write_squad(mixed_pairs(examples)[::8], root / "mixed.json")
    lines = [json.dumps(row, ensure_ascii=False) for row in phrase_passages(examples)]
    (root / "passages.jsonl").write_text("\n".join(lines) + "\n{broken\n", encoding="utf-8")
    build_tiny_reader([e.context for e in examples] + [e.question for e in examples],
                      root / "init", hidden=64, layers=2, heads=2, intermediate=128)
    return root


def overrides(root, **extra):
    base = {
        "output_dir": root / "out", "model.name_or_path": root / "init",
        "model.max_seq_length": 192, "model.doc_stride": 64,
        "data.train_files": f"[{root / 'train.json'}]",
        "data.dev_files": f"[{root / 'train.json'}]",
        "tasks": f"[{{name: mrc}}, {{name: mixmrc, files: [{root / 'mixed.json'}]}}, "
                 f"{{name: lakm, files: [{root / 'passages.jsonl'}], ratio: 0.5}}]",
        "lakm.max_seq_length": 128, "lakm.stride": 32,
        "train.run_name": "mt", "train.num_workers": 2, "train.batch_size": 8,
        "train.lr": 2e-3, "train.warmup_ratio": 0.0, "train.deepspeed.zero_stage": 1,
        "train.log_every": 5,
    }
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


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

    second = run_job(overrides(setup, **{"train.epochs": 3}))
    assert second.metrics["epoch"] == 3
    assert second.metrics["step"] == end["step"] * 3 // 2

    from transformers import AutoModelForQuestionAnswering

    final = setup / "out" / "final"
    model = AutoModelForQuestionAnswering.from_pretrained(final)  # the reader alone
    assert not any(name.startswith("cls.") for name, _ in model.named_parameters())


def test_settings_runner_writes_the_table_and_skips_finished_settings(ray_local, setup):
    from jobs.run_settings import main

    out = setup / "table"
    args = ["--output", str(out), "configs/boundary/baseline.yaml",
            "configs/boundary/lakm.yaml",
            f"model.name_or_path={setup / 'init'}", "model.max_seq_length=192",
            "model.doc_stride=64", f"data.train_files=[{setup / 'train.json'}]",
            f"data.dev_files=[{setup / 'train.json'}]", "train.num_workers=1",
            "train.use_gpu=false", "train.cpus_per_worker=1.0", "train.max_steps=3",
            "train.epochs=1", "train.batch_size=8", "lakm.max_seq_length=128",
            "lakm.stride=32"]
    lakm_task = f"tasks=[{{name: mrc}}, {{name: lakm, files: [{setup / 'passages.jsonl'}]}}]"
    # The lakm setting's own task list names a file that does not exist here; the
    # override applies to both settings, so the baseline trains mrc + lakm as well:
    # what is checked is the runner, not the settings' difference.
    md, csv_path = main([*args, lakm_task])
    table = md.read_text(encoding="utf-8").splitlines()
    assert table[0] == "| setting | " + " | ".join(f"{lang} EM / F1" for lang in LANGS) + " |"
    assert [row.split(" | ")[0] for row in table[2:]] == ["| baseline", "| lakm"]
    header, *rows = csv_path.read_text(encoding="utf-8").splitlines()
    assert header.split(",")[:3] == ["setting", "en_em", "en_f1"] and len(rows) == 2
    scores = json.loads((out / "lakm" / "scores.json").read_text())
    assert scores["step"] == 3 and set(scores["dev"]) == set(LANGS)
    assert (out / "lakm" / "final" / "config.json").is_file()

    (out / "table.md").unlink()
    main([*args, lakm_task])  # both finished: nothing trains again, the table is rewritten
    assert (out / "table.md").read_text(encoding="utf-8").splitlines() == table
