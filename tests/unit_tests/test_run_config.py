"""The run's policy is RunConfig's: a library call gets what `harness run` gets."""

from __future__ import annotations

import dataclasses

import pytest

from harness import devices
from harness.errors import UsageError
from harness.run.config import (
    BUDGET_MAX_TRIALS,
    DEFAULT_STUDY_TIMEOUT,
    DEFAULT_TRIALS,
    MEMORY_SHARE,
    RunConfig,
)


def test_a_bare_config_gets_the_commands_defaults():
    config = RunConfig(task="ames")
    assert (config.trials, config.timeout, config.budget) == (DEFAULT_TRIALS, 20.0, None)
    assert DEFAULT_STUDY_TIMEOUT == 20.0 and config.ensemble is True and config.folds is None
    assert config.memory_limit == pytest.approx(devices.memory_mb(MEMORY_SHARE))
    halved = RunConfig(task="ames", workers=2)
    assert halved.memory_limit == pytest.approx(devices.memory_mb(MEMORY_SHARE / 2))


def test_trials_given_means_no_default_timeout():
    assert RunConfig(task="ames", trials=3).timeout is None
    assert RunConfig(task="ames", timeout=5).trials == DEFAULT_TRIALS


def test_a_budget_makes_time_the_only_limit_and_excludes_a_timeout():
    config = RunConfig(task="ames", budget=60)
    assert (config.trials, config.timeout) == (BUDGET_MAX_TRIALS, None)
    assert RunConfig(task="ames", budget=60, trials=7).trials == 7
    with pytest.raises(UsageError, match="--timeout .* and --budget .* exclude each other"):
        RunConfig(task="ames", budget=60, timeout=10)


def test_a_preset_fills_what_was_not_given_and_given_fields_win():
    best = RunConfig(task="ames", preset="best")
    assert (best.budget, best.folds, best.ensemble) == (1800.0, 5, True)
    fast = RunConfig(task="ames", preset="fast", folds=4, ensemble=True, budget=30)
    assert (fast.budget, fast.folds, fast.ensemble) == (30, 4, True)
    assert RunConfig(task="ames", preset="fast").ensemble is False
    with pytest.raises(UsageError, match="Unknown preset 'quick'; use one of fast, medium, best"):
        RunConfig(task="ames", preset="quick")


def test_replace_keeps_what_the_policy_chose():
    config = RunConfig(task="ames")
    assert dataclasses.replace(config, task="penguins").timeout == DEFAULT_STUDY_TIMEOUT
    assert dataclasses.replace(config, seed=3) == dataclasses.replace(RunConfig("ames"), seed=3)
