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
    MAX_REPEATS,
    MAX_TRIALS,
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


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"seed": -1}, r"--seed must be between 0 and 2\*\*32 - 1 \(4294967295\), got -1\."),
        ({"seed": 2**32}, r"--seed must be between 0 and 2\*\*32 - 1"),
        ({"trials": MAX_TRIALS + 1}, "--trials must be at most 100,000"),
        ({"repeats": MAX_REPEATS + 1}, "--repeats must be at most 100, got 101"),
        ({"n_jobs": 10**20}, "--jobs 100000000000000000000 is more than the"),
        ({"timeout": float("nan")}, "--timeout must be a positive number of seconds, got nan"),
        ({"trial_timeout": float("inf")}, "got inf; to have no limit, leave it out"),
        ({"trial_timeout": -2.0}, "--trial-timeout must be a positive number of seconds"),
        ({"budget": float("nan")}, "--budget must be a finite number of seconds above 0"),
        ({"budget": float("inf")}, "--budget must be a finite number of seconds above 0"),
        ({"memory_limit": float("nan")}, "--memory-limit must be a finite size such as 4G"),
        ({"memory_limit": float("inf")}, "--memory-limit must be a finite size such as 4G"),
    ],
)
def test_values_no_run_can_use_are_usage_errors(fields, message):
    with pytest.raises(UsageError, match=message):
        RunConfig(task="ames", **fields)


@pytest.mark.parametrize("text", ["nan", "nanG", "inf", "infG", "-infM", "1e400", "9" * 400])
def test_memory_sizes_that_are_not_finite_are_refused(text):
    with pytest.raises(UsageError, match="--memory-limit must be a finite size"):
        devices.parse_memory(text)


@pytest.mark.parametrize("text", ["9" * 400, "9" * 400 + "h"])
def test_durations_that_are_not_finite_are_refused(text):
    from harness.run.schedule import parse_duration

    with pytest.raises(UsageError, match="--budget must be a finite number of seconds; got"):
        parse_duration(text)


def test_the_largest_seed_works_and_the_seeds_derived_from_it_wrap_around():
    from harness.protocol.splits import SEEDS, prepare
    from harness.registry import get_task
    from harness.tuning.studies import make_sampler

    assert RunConfig(task="penguins", seed=SEEDS - 1).seed == 2**32 - 1
    task = get_task("penguins")
    data = prepare(task, task.load(), folds=3, seed=SEEDS - 1, repeats=2)  # seeds 2**32 - 1, 0
    assert len(data.folds) == 6
    assert make_sampler(SEEDS - 1, 3) is not None  # TPE's NumPy seed 2
    with pytest.raises(UsageError, match="--seed must be between 0 and 2"):
        prepare(task, task.load(), folds=3, seed=SEEDS)
