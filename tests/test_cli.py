"""The `rayqa` command and the jobs/*.py scripts: one table of stages, input errors exit 2."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.evaluate import main as evaluate_job
from rayqa.cli import COMMANDS, ConfigStage, load, main

REPO = Path(__file__).resolve().parents[1]
JOB_SCRIPTS = sorted(path.name for path in (REPO / "jobs").glob("*.py"))
# Every stage the README documents; the table may grow, never lose one.
SUBCOMMANDS = {"evaluate", "predict", "train", "index", "mixmrc", "mine-phrases", "demo",
               "make-passages", "train-mdpr", "train-mgen", "cora", "baselines",
               "run-settings", "split-xquad"}
CONFIG_STAGES = sorted(name for name, command in COMMANDS.items()
                       if isinstance(command.main, ConfigStage))


def listed_commands(help_text: str) -> set[str]:
    """The subcommand names of `rayqa --help` (first word of each COMMAND entry)."""
    entries = help_text.split("COMMAND\n", 2)[-1].split("\noptions:")[0]
    return {line.split()[0] for line in entries.splitlines()
            if line.startswith("    ") and not line.startswith("     ")}


def words_of(help_text: str, prog: str) -> list[str]:
    """The help's words with the program name of its usage block made neutral (argparse
    wraps usage lines by the name's length, so lines cannot be compared)."""
    usage, _, rest = help_text.partition("\n\n")
    return usage.replace(prog, "PROG").split() + rest.split()


@pytest.mark.shared
def test_evaluate_prints_the_official_numbers(shared_dir, capsys):
    expected = json.loads((shared_dir / "eval-parity" / "expected.json").read_text())
    gold = shared_dir / "data" / "xquad" / "xquad.de.json"
    predictions = shared_dir / "eval-parity" / "mlqa_de.predictions.json"
    scores = evaluate_job(["--benchmark", "mlqa", str(gold), str(predictions)])
    assert scores == pytest.approx(expected["mlqa_de"], abs=1e-6)
    assert json.loads(capsys.readouterr().out) == pytest.approx(expected["mlqa_de"], abs=1e-6)


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    code = main(["evaluate", "--benchmark", "squad", str(tmp_path / "gold.json"),
                 str(tmp_path / "pred.json")])
    assert code == 2
    assert "gold.json" in capsys.readouterr().err


def test_help_lists_every_subcommand():
    out = subprocess.run([sys.executable, "-m", "rayqa.cli", "--help"], capture_output=True,
                         text=True, check=True, cwd=REPO)
    assert listed_commands(out.stdout) == set(COMMANDS)
    assert SUBCOMMANDS <= set(COMMANDS)


def test_importing_the_cli_leaves_heavy_libraries_to_the_stages():
    """``import rayqa.cli`` (what ``rayqa --help`` and ``rayqa evaluate`` pay before they
    start) loads no torch, transformers, Ray Train or Ray Data: each stage imports its
    own when it runs. Checked in a fresh interpreter by what it loaded, not by a time
    (machine load makes times flaky); the time is printed for the record."""
    heavy = ("torch", "transformers", "ray.train", "ray.data")
    code = ("import sys, time; start = time.perf_counter(); import rayqa.cli; "
            "print(time.perf_counter() - start); "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO).stdout.splitlines()
    print(f"import rayqa.cli: {float(out[0]) * 1000:.0f} ms")
    assert out[1] == "[]"


def test_every_job_script_is_a_subcommand():
    assert sorted(c.script for c in COMMANDS.values() if c.script) == JOB_SCRIPTS


@pytest.mark.parametrize("script", JOB_SCRIPTS)
def test_job_script_takes_the_subcommands_arguments(script, capsys):
    name = next(n for n, c in COMMANDS.items() if c.script == script)
    job = importlib.import_module(f"jobs.{script[:-3]}")
    with pytest.raises(SystemExit) as exit_job:
        job.main(["--help"])
    job_help = capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_cli:
        main([name, "--help"])
    cli_help = capsys.readouterr().out
    assert exit_job.value.code == exit_cli.value.code == 0
    assert job_help.startswith(f"usage: jobs/{script} ")
    assert words_of(job_help, f"jobs/{script}") == words_of(cli_help, f"rayqa {name}")


@pytest.mark.parametrize("name", CONFIG_STAGES)
def test_every_stage_resolves(name):
    stage = COMMANDS[name].main
    assert isinstance(load(stage.config), type)
    for path in (stage.run, stage.check):
        assert path is None or callable(load(path))


@pytest.mark.parametrize("name", CONFIG_STAGES)
def test_missing_config_exits_2_with_one_line(name, tmp_path, capsys):
    missing = tmp_path / "missing.yaml"
    assert main([name, "--config", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"rayqa {name}: error: {missing}: config file not found"]


def test_bad_override_through_the_job_script_prints_one_line():
    run = subprocess.run([sys.executable, "jobs/train.py", "--config", "configs/reader.yaml",
                          "train.epochs=abc"], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert run.returncode == 2
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert lines[0].startswith("jobs/train.py: error: configs/reader.yaml")
    assert "train.epochs: Input should be a valid integer" in lines[0]
    assert run.stdout == ""


def test_job_main_raises_what_the_script_reports():
    from jobs.train import main as train_job
    from rayqa.config import ConfigError

    with pytest.raises(ConfigError, match=r"train\.epochs"):
        train_job(["--config", "configs/reader.yaml", "train.epochs=abc"])


def test_unknown_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bogus"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


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


def test_demo_output_keeps_progress_on_the_console_and_the_rest_in_the_log(tmp_path, capfd):
    from rayqa.demo import console_and_log

    log = tmp_path / "demo.log"
    with console_and_log(log) as console:
        print("=== 3/5 training", file=console)
        print("\x1b[36m(RayTrainWorker pid=7)\x1b[0m [rayqa.train] step 50/440 loss 2.67")
        print("(PlacementGroupCleaner pid=8) Failed to query Ray Train Controller actor state")
        print("[transformers] This checkpoint seem corrupted.", file=sys.stderr)
        os.write(2, b"[E core_worker.cc:2465] written below Python\n")
        subprocess.run([sys.executable, "-c", "print('child process output')"], check=True)
    print("after the demo")
    console_lines = capfd.readouterr().out.splitlines()
    assert console_lines == ["=== 3/5 training", "  [rayqa.train] step 50/440 loss 2.67",
                             "after the demo"]
    logged = log.read_text(encoding="utf-8")
    for text in ("[rayqa.train] step 50/440", "Failed to query", "seem corrupted",
                 "core_worker.cc", "child process output"):
        assert text in logged
    assert "=== 3/5" not in logged and "after the demo" not in logged
