"""Fault tolerance of training without Ray: the LR schedule on resume and checkpoint
ranking. The reader run whose worker is SIGKILLed mid-run and ends as if it had never
stopped is in tests/test_train.py (it shares that module's uninterrupted run)."""

import math
from types import SimpleNamespace

import pytest

from rayqa.config import TrainConfig
from rayqa.train.checkpoint import SELECTION, selection_score
from rayqa.train.engine import schedule_factor
from rayqa.train.launch import best_checkpoint
from rayqa.train.loop import plan_schedule


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
