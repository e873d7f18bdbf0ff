"""Reader training on the shared local Ray: 2 DeepSpeed workers, loss, resume, export."""

import json

import pytest

from rayqa.config import ConfigError
from rayqa.data.squad import read_squad, write_squad
from rayqa.demo import demo_file
from rayqa.testing.tiny import build_tiny_reader

pytestmark = pytest.mark.ray
REPO_CONFIG = "configs/reader.yaml"


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    """A tiny reader and a 4-language slice of the demo corpus (train = dev)."""
    root = tmp_path_factory.mktemp("train")
    examples = [e for e in read_squad(demo_file("train.json"))
                if e.lang in {"en", "zh", "ar", "hi"}][::2]
    write_squad(examples, root / "train.json")
    build_tiny_reader([e.context for e in examples] + [e.question for e in examples],
                      root / "init", hidden=64, layers=2, heads=2, intermediate=128)
    return root


def overrides(root, **extra):
    base = {
        "output_dir": root / "out", "model.name_or_path": root / "init",
        "model.max_seq_length": 192, "model.doc_stride": 64,
        "data.train_files": f"[{root / 'train.json'}]",
        "data.dev_files": f"[{root / 'train.json'}]",
        "train.run_name": "t", "train.num_workers": 2, "train.batch_size": 8,
        "train.lr": 2e-3, "train.warmup_ratio": 0.0, "train.deepspeed.zero_stage": 2,
        "train.log_every": 5, "train.checkpoints_to_keep": "null",
    }
    base.update(extra)
    return [f"{k}={v}" for k, v in base.items()]


def run_job(args):
    from jobs.train import main

    return main(["--config", REPO_CONFIG, *args])


def test_two_workers_loss_decreases_then_resume(ray_local, tiny_setup):
    first = run_job(overrides(tiny_setup, **{"train.epochs": 3}))
    history = first.metrics_dataframe if hasattr(first, "metrics_dataframe") else None
    checkpoints = sorted(first.best_checkpoints, key=lambda pair: pair[1]["step"])
    losses = [metrics["train_loss"] for _, metrics in checkpoints]
    assert len(losses) == 3, history
    assert losses[-1] < losses[0], losses
    assert all(f"dev/{lang}/f1" in checkpoints[-1][1] for lang in ("en", "zh", "ar", "hi"))
    steps_after_three = checkpoints[-1][1]["step"]

    # Same run name, one more epoch: continues from the checkpoint, not from scratch.
    second = run_job(overrides(tiny_setup, **{"train.epochs": 4}))
    assert second.metrics["epoch"] == 4
    assert second.metrics["step"] == steps_after_three * 4 // 3

    final = tiny_setup / "out" / "final"
    assert (final / "rayqa_config.yaml").is_file()
    assert not (final / "deepspeed").exists()
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    AutoTokenizer.from_pretrained(final)
    AutoModelForQuestionAnswering.from_pretrained(final)


def test_predict_cli_writes_official_format(tiny_setup, tmp_path):
    from rayqa.cli import main

    final = tiny_setup / "out" / "final"
    if not final.is_dir():
        pytest.skip("needs the model of test_two_workers_loss_decreases_then_resume")
    out = tmp_path / "pred.json"
    assert main(["predict", "--model", str(final), "--data", str(tiny_setup / "train.json"),
                 "--out", str(out)]) == 0
    predictions = json.loads(out.read_text(encoding="utf-8"))
    examples = read_squad(tiny_setup / "train.json")
    assert set(predictions) == {e.id for e in examples}
    contexts = {e.id: e.context for e in examples}
    assert all(answer in contexts[qid] for qid, answer in predictions.items())


def test_bad_override_names_the_key(tiny_setup):
    with pytest.raises(ConfigError, match=r"train\.epochs"):
        run_job(overrides(tiny_setup, **{"train.epochs": "many"}))
    with pytest.raises(ConfigError, match=r"train\.learning_rate"):
        run_job(overrides(tiny_setup, **{"train.learning_rate": 0.1}))
