"""Learning-rate schedules (rayqa.train.engine.schedule_factor): linear as before, cosine
decay after the warmup, and both when a resumed run changes its length. No Ray."""

import math

import pytest
import torch

from rayqa.config import TrainConfig
from rayqa.train.engine import new_schedule, schedule_factor, warmup_decay_scheduler
from rayqa.train.loop import plan_schedule

COSINE = {"kind": "cosine", "warmup": 4, "total": 24}  # 20 decay steps


def test_linear_is_unchanged_against_hand_computed_values():
    schedule = {"warmup": 4, "total": 24}
    # warmup (step + 1) / 4, then (24 - step) / 20
    expected = {0: 0.25, 3: 1.0, 4: 1.0, 9: 0.75, 14: 0.5, 23: 0.05, 24: 0.0, 30: 0.0}
    assert {step: schedule_factor(step, schedule) for step in expected} == expected
    assert schedule_factor(14, {**schedule, "kind": "linear"}) == 0.5
    resumed = {"warmup": 4, "total": 44, "from_step": 14, "from_factor": 0.5}
    assert [schedule_factor(s, resumed) for s in (14, 29, 44)] == [0.5, 0.5 * 15 / 30, 0.0]


def test_a_linear_config_writes_the_schedule_it_always_did():
    assert new_schedule(TrainConfig(warmup_ratio=0.25), 20) == {"warmup": 5, "total": 20}
    assert new_schedule(TrainConfig(warmup_ratio=0.25, lr_schedule="cosine"), 20) == {
        "warmup": 5, "total": 20, "kind": "cosine"}
    with pytest.raises(ValueError):
        TrainConfig(lr_schedule="step")


def test_cosine_warms_up_linearly_then_decays_along_a_half_cosine():
    assert [schedule_factor(s, COSINE) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert schedule_factor(4, COSINE) == 1.0  # end of warmup
    assert schedule_factor(14, COSINE) == pytest.approx(0.5)  # halfway through the decay
    assert schedule_factor(24, COSINE) == 0.0  # the last step
    assert schedule_factor(30, COSINE) == 0.0  # and after
    assert schedule_factor(9, COSINE) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))


def test_cosine_decreases_monotonically_after_warmup():
    factors = [schedule_factor(s, COSINE) for s in range(4, 25)]
    assert all(a > b for a, b in zip(factors, factors[1:]))
    # Slower than linear at first, faster near the end.
    linear = {"warmup": 4, "total": 24}
    assert schedule_factor(6, COSINE) > schedule_factor(6, linear)
    assert schedule_factor(22, COSINE) < schedule_factor(22, linear)


def test_cosine_without_warmup_starts_at_the_base_rate():
    schedule = {"kind": "cosine", "warmup": 0, "total": 10}
    assert schedule_factor(0, schedule) == 1.0
    assert schedule_factor(5, schedule) == pytest.approx(0.5)
    assert schedule_factor(10, schedule) == 0.0


def test_resumed_cosine_with_more_steps_continues_from_where_it_was():
    cfg = TrainConfig(epochs=2, warmup_ratio=0.2, lr_schedule="cosine")
    first = plan_schedule(cfg, 10, None)
    assert first["schedule"] == {"warmup": 4, "total": 20, "kind": "cosine"}
    first["step"] = 12  # progress 0.5 of the decay: factor 0.5
    # The resumed config may say linear: the run keeps the kind it began with.
    longer = plan_schedule(TrainConfig(epochs=4, warmup_ratio=0.2), 10, first)
    schedule = longer["schedule"]
    assert schedule["kind"] == "cosine" and schedule["total"] == 40
    assert schedule["from_step"] == 12
    assert schedule["from_factor"] == pytest.approx(0.5)
    # No jump at the resume step; a half cosine from there down to zero at the new end.
    assert schedule_factor(12, schedule) == pytest.approx(schedule_factor(12, first["schedule"]))
    assert schedule_factor(26, schedule) == pytest.approx(0.25)  # halfway of 12..40
    assert schedule_factor(40, schedule) == 0.0
    factors = [schedule_factor(s, schedule) for s in range(12, 41)]
    assert all(a > b for a, b in zip(factors, factors[1:]))
    # A restarted cosine would be back near the base rate here.
    assert schedule_factor(12, new_schedule(cfg.model_copy(update={"epochs": 4}), 40)) > 0.9


def test_resumed_cosine_with_the_same_length_keeps_its_schedule():
    cfg = TrainConfig(epochs=2, warmup_ratio=0.2, lr_schedule="cosine")
    first = plan_schedule(cfg, 10, None)
    first["step"] = 7
    resumed = plan_schedule(cfg, 10, first)
    assert resumed["schedule"] == first["schedule"]


@pytest.mark.parametrize("schedule", [{"warmup": 4, "total": 24}, COSINE])
def test_the_scheduler_steps_the_rate_along_the_schedule(schedule):
    """``warmup_decay_scheduler`` (what ``build_engine`` hands DeepSpeed) applies the
    linear and the cosine schedule alike."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    scheduler = warmup_decay_scheduler(optimizer, schedule)
    rates = []
    for _ in range(26):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates == pytest.approx([0.1 * schedule_factor(s, schedule) for s in range(26)])
