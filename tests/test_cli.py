"""The `rayqa` command and jobs/evaluate.py: one JSON object out, input errors exit 2."""

import json
import subprocess
import sys

import pytest

from jobs.evaluate import main as evaluate_job
from rayqa.cli import main


@pytest.mark.shared
def test_evaluate_prints_the_official_numbers(shared_dir, capsys):
    expected = json.loads((shared_dir / "eval-parity" / "expected.json").read_text())
    gold = shared_dir / "data" / "xquad" / "xquad.de.json"
    predictions = shared_dir / "eval-parity" / "mlqa_de.predictions.json"
    assert evaluate_job(["--benchmark", "mlqa", str(gold), str(predictions)]) == 0
    assert json.loads(capsys.readouterr().out) == pytest.approx(expected["mlqa_de"], abs=1e-6)


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    code = main(["evaluate", "--benchmark", "squad", str(tmp_path / "gold.json"),
                 str(tmp_path / "pred.json")])
    assert code == 2
    assert "gold.json" in capsys.readouterr().err


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "rayqa.cli", "--help"], capture_output=True,
                         text=True, check=True)
    for command in ("evaluate", "predict", "train", "index", "mixmrc", "mine-phrases", "demo"):
        assert command in out.stdout


@pytest.mark.shared
def test_mixmrc_unsupported_pair_exits_2_naming_it(shared_dir, tmp_path, capsys):
    code = main(["mixmrc", "--config", "configs/mixmrc.yaml", f"output_dir={tmp_path}",
                 f"translator.xquad_dir={shared_dir / 'data' / 'xquad'}",
                 f"source_files=[{shared_dir / 'data' / 'xquad' / 'xquad.en.json'}]",
                 "target_langs=[de, sw]"])
    assert code == 2
    assert "en-sw" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written before the check


def test_mine_phrases_subcommand_passes_its_options_through(tmp_path, capsys):
    assert main(["mine-phrases", "--input", "rayqa/resources/demo/search_log.jsonl",
                 "--output", str(tmp_path), "--local", "--threshold", "0.7"]) == 0
    assert "written to" in capsys.readouterr().out
    lines = (tmp_path / "phrases.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 280 and any(json.loads(line)["phrases"] for line in lines)
