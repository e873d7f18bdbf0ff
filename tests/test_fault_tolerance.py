"""Fault tolerance of training: LR schedule on resume, checkpoint ranking, and a
worker SIGKILLed mid-run that the run survives, ending as if it had never stopped."""

import json
import math
import os
import signal
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from rayqa.config import TrainConfig
from rayqa.train.checkpoint import SELECTION, selection_score
from rayqa.train.engine import schedule_factor
from rayqa.train.launch import best_checkpoint
from rayqa.train.loop import plan_schedule
from tests.test_train import tiny_setup  # noqa: F401 - the tiny reader and data (a fixture)


def test_fresh_schedule_warms_up_then_decays_to_zero():
    state = plan_schedule(TrainConfig(epochs=2, warmup_ratio=0.25), 10, None)
    schedule = state["schedule"]
    assert schedule == {"warmup": 5, "total": 20}
    assert [schedule_factor(s, schedule) for s in (0, 4, 5, 20)] == [0.2, 1.0, 1.0, 0.0]
    assert state["step"] == 0 and state["resumed_at"] == []


def test_resume_keeps_the_schedule_it_started_with():
    first = plan_schedule(TrainConfig(epochs=2, warmup_ratio=0.25), 10, None)
    first["step"] = 7
    resumed = plan_schedule(TrainConfig(epochs=2, warmup_ratio=0.25), 10, first)
    assert resumed["schedule"] == first["schedule"]
    assert resumed["resumed_at"] == [7]


def test_resume_with_more_epochs_continues_the_curve_instead_of_restarting():
    first = plan_schedule(TrainConfig(epochs=2, warmup_ratio=0.0), 10, None)
    first["step"] = 15  # 20 steps planned, lr factor 0.25 here
    longer = plan_schedule(TrainConfig(epochs=4, warmup_ratio=0.0), 10, first)
    schedule = longer["schedule"]
    assert schedule["total"] == 40
    # No jump at the resume step, then a straight line down to zero at the new end.
    assert schedule_factor(15, schedule) == pytest.approx(schedule_factor(15, first["schedule"]))
    assert schedule_factor(40, schedule) == 0.0
    assert schedule_factor(27.5, schedule) == pytest.approx(0.125)
    # A restarted schedule would have jumped back up to (40 - 15) / 40 = 0.625.
    assert schedule_factor(15, schedule) < 0.3


def test_selection_score_ranks_higher_better_and_unevaluated_last():
    assert selection_score({"dev_f1": 40.0}, {"metric": "dev_f1", "order": "max"}) == 40.0
    assert selection_score({"dev_avg_rank": 3.0},
                           {"metric": "dev_avg_rank", "order": "min"}) == -3.0
    assert selection_score({"step": 4}, {"metric": "dev_f1", "order": "max"}) == -math.inf


def test_best_checkpoint_never_picks_a_step_checkpoint_over_an_evaluated_one():
    evaluated, step_ckpt, latest = object(), object(), object()
    result = SimpleNamespace(best_checkpoints=[(evaluated, {SELECTION: -7.0}),
                                               (step_ckpt, {SELECTION: -math.inf})],
                             checkpoint=latest, error=None)
    assert best_checkpoint(result) is evaluated
    unscored = SimpleNamespace(best_checkpoints=[(step_ckpt, {SELECTION: -math.inf})],
                               checkpoint=latest, error=None)
    assert best_checkpoint(unscored) is latest


def reader_args(root: Path, name: str) -> list[str]:
    values = {
        "output_dir": root / name, "model.name_or_path": root / "init",
        "model.max_seq_length": 192, "model.doc_stride": 64,
        "data.train_files": f"[{root / 'train.json'}]",
        "data.dev_files": f"[{root / 'train.json'}]",
        "train.run_name": name, "train.num_workers": 2, "train.batch_size": 8,
        "train.epochs": 4, "train.lr": 2e-3, "train.warmup_ratio": 0.2,
        "train.deepspeed.zero_stage": 1, "train.checkpoint_every": 2,
        "train.checkpoint_every_steps": 4, "train.max_failures": 2, "train.log_every": 100,
    }
    return ["--config", "configs/reader.yaml", *(f"{k}={v}" for k, v in values.items())]


def final_state(result) -> dict:
    """``train_state.json`` of a run's latest checkpoint."""
    with result.checkpoint.as_directory() as directory:
        return json.loads(Path(directory, "train_state.json").read_text())


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:  # exited meanwhile
        return []


def _registered_checkpoint(snapshot: Path) -> bool:
    try:
        return json.loads(snapshot.read_text()).get("latest_checkpoint_result") is not None
    except (OSError, ValueError):  # not written yet, or being replaced
        return False


def kill_one_worker_after_first_checkpoint(run_dir: Path, killed: list, deadline: float):
    """SIGKILLs a Ray Train worker process once the run has registered a checkpoint.

    A checkpoint counts once Ray Train's controller has recorded it in its snapshot: a
    directory that is uploaded but not yet reported would not be resumed from.
    """
    snapshot = run_dir / "checkpoint_manager_snapshot.json"
    while time.monotonic() < deadline:
        if _registered_checkpoint(snapshot):
            # Only this session's Ray (its raylet is a child of this process).
            workers = [p for p in psutil.Process().children(recursive=True)
                       if any("RayTrainWorker" in part for part in _cmdline(p))]
            if workers:
                os.kill(workers[-1].pid, signal.SIGKILL)
                killed.append(workers[-1].pid)
                return
        time.sleep(0.1)


@pytest.mark.ray
def test_killed_worker_run_restarts_and_matches_the_uninterrupted_run(ray_local,
                                                                     tiny_setup):
    from jobs.train import main

    clean = final_state(main(reader_args(tiny_setup, "clean")))
    assert clean["resumed_at"] == []

    killed: list[int] = []
    watcher = threading.Thread(target=kill_one_worker_after_first_checkpoint, args=(
        tiny_setup / "killed" / "ray" / "killed", killed, time.monotonic() + 600))
    watcher.start()
    result = main(reader_args(tiny_setup, "killed"))
    watcher.join()
    state = final_state(result)

    assert killed, "no worker was killed: the run finished before its first checkpoint?"
    assert result.error is None
    assert len(state["resumed_at"]) == 1 and state["resumed_at"][0] % 4 == 0  # a step ckpt
    # Same optimizer steps, and the same learning rate at every one of them.
    assert state["step"] == clean["step"] == clean["schedule"]["total"]
    assert state["history"]["step"] == clean["history"]["step"]
    assert state["history"]["lr"] == pytest.approx(clean["history"]["lr"], rel=1e-9)
    # Same data order, dropout (RNG restored) and optimizer state: the losses agree up to
    # float summation order; 1e-3 relative is far below one step's change (checked below).
    assert state["history"]["loss"] == pytest.approx(clean["history"]["loss"], rel=1e-3)
    changes = [abs(a - b) / a for a, b in zip(clean["history"]["loss"],
                                              clean["history"]["loss"][1:])]
    assert max(changes) > 1e-2
    assert (tiny_setup / "killed" / "final" / "manifest.json").is_file()
