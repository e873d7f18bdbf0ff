"""Dual BERT training on the shared local Ray: 2 DeepSpeed (ZeRO-2) workers on XQuAD
Chinese targets with their English originals as sources; loss, target dev F1 and aux
diagnostics, a run stopped inside epoch 2 and resumed ending as the one that never
stopped, and the export loading with ``DualBert.from_pretrained``. Three fits."""

import json

import pytest

from rayqa.data.squad import read_squad, write_squad
from rayqa.testing.tiny import build_tiny_reader
from tests.test_train import assert_resume_equals_not_stopping, final_state, stop_then_resume

pytestmark = pytest.mark.ray
CONFIG = "configs/crosslingual/dual_bert.yaml"


@pytest.fixture(scope="module")
def tiny_setup(shared_dir, tmp_path_factory):
    """XQuAD zh (target) / en (source): 2 articles x 2 paragraphs, every 4th question id
    to dev; a tiny encoder with a tokenizer trained on both languages' texts."""
    root = tmp_path_factory.mktemp("dual_bert")
    xquad = shared_dir / "data" / "xquad"
    by_lang = {lang: read_squad(xquad / f"xquad.{lang}.json") for lang in ("zh", "en")}
    titles = list(dict.fromkeys(e.title for e in by_lang["zh"]))[:2]
    keep = {c for title in titles
            for c in list(dict.fromkeys(e.context for e in by_lang["zh"]
                                        if e.title == title))[:2]}
    ids = [e.id for e in by_lang["zh"] if e.context in keep]
    dev_ids = set(ids[::4])
    for lang, examples in by_lang.items():
        chosen = [e for e in examples if e.id in set(ids)]
        write_squad([e for e in chosen if e.id not in dev_ids], root / f"train.{lang}.json")
        write_squad([e for e in chosen if e.id in dev_ids], root / f"dev.{lang}.json")
    texts = [t for examples in by_lang.values() for e in examples if e.id in set(ids)
             for t in (e.context, e.question)]
    build_tiny_reader(texts, root / "init", hidden=64, layers=2, heads=2, intermediate=128)
    return root, len(ids) - len(dev_ids), len(dev_ids)


def overrides(root, **extra):
    def pair(split):
        return (f"[{{target: {root / f'{split}.zh.json'}, "
                f"source: {root / f'{split}.en.json'}}}]")

    base = {
        "output_dir": root / "out", "model.name_or_path": root / "init",
        "model.max_seq_length": 192, "model.doc_stride": 64, "model.max_query_length": 32,
        "data.train_files": pair("train"), "data.dev_files": pair("dev"),
        "train.run_name": "t", "train.num_workers": 2, "train.batch_size": 4,
        "train.eval_batch_size": 16, "train.epochs": 2, "train.lr": 2e-3,
        "train.warmup_ratio": 0.2, "train.deepspeed.zero_stage": 2, "train.log_every": 5,
        "train.checkpoints_to_keep": "null",
    }
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


def run_job(args):
    from jobs.train_dual_bert import main

    return main(["--config", CONFIG, *args])


def evaluated(result) -> list[dict]:
    """Metrics of the run's evaluated (epoch) checkpoints, by step."""
    return sorted((m for _, m in result.best_checkpoints if "dev_f1" in m),
                  key=lambda m: m["step"])


def test_two_workers_loss_falls_dev_f1_resume_and_export(ray_local, tiny_setup):
    root, train_questions, dev_questions = tiny_setup
    assert train_questions >= 12 and dev_questions >= 4
    clean = run_job(overrides(root))
    checkpoints = evaluated(clean)
    assert len(checkpoints) == 2, clean.error
    losses = [m["train_loss"] for m in checkpoints]
    assert losses[-1] < losses[0], losses
    last = checkpoints[-1]
    assert {"dev/zh/exact_match", "dev/zh/f1", "dev_f1"} <= set(last)  # target side only
    assert 0 <= last["aux/lambda_mean"] <= 1
    assert last["aux/windows_with_source_span"] > 0
    assert last["aux/windows_without_source_span"] >= 0
    # The cosine schedule of the config: warmup, then decay to ~0 at the last step.
    state = final_state(clean)
    assert state["schedule"]["kind"] == "cosine"
    assert state["history"]["lr"][-1] < 0.1 * max(state["history"]["lr"])

    # The same run stopped inside its second epoch, then resumed: as if never stopped.
    per_epoch = checkpoints[0]["step"]
    stop = per_epoch + per_epoch // 2
    args = overrides(root, **{"train.run_name": "stopped", "output_dir": root / "stopped"})
    assert_resume_equals_not_stopping(stop_then_resume(run_job, args, stop), state, stop)

    final = root / "out" / "final"
    assert {"rayqa_config.yaml", "dual_bert.json", "dual_bert.safetensors",
            "manifest.json"} <= {p.name for p in final.iterdir()}
    assert not (final / "deepspeed").exists()
    from rayqa.answer.dual_bert import DualBertReader
    from rayqa.models.dual_bert import DualBert, DualBertOptions

    assert DualBert.from_pretrained(final).options == DualBertOptions()
    reader = DualBertReader(final, device="cpu")
    targets = read_squad(root / "dev.zh.json")
    sources = {e.id: e for e in read_squad(root / "dev.en.json")}
    predictions = reader.predict(targets, [sources[e.id] for e in targets])
    assert set(predictions) == {e.id for e in targets}
    assert all(predictions[e.id] in e.context for e in targets)
    print(json.dumps({"losses": losses, "dev_f1": last["dev_f1"],
                      "lambda": last["aux/lambda_mean"]}))
