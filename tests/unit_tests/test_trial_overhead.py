"""What keeps a trial cheap changes no result: the fold pruner decides as Optuna's MedianPruner
does while reading the storage once a trial, and the reused thread-pool inspection still caps and
restores every pool."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from harness.contracts.model import thread_limits
from harness.tuning.pruning import FoldMedianPruner


def _replay(direction: str, seed: int, pruner) -> list[tuple[int, int, bool]]:
    """Run a seeded study whose trials report noisy scores (some NaN) for up to 6 steps; return
    every (trial, step, pruned) decision `pruner` made."""
    rng = np.random.default_rng(seed)
    decisions: list[tuple[int, int, bool]] = []

    def objective(trial: optuna.Trial) -> float:
        level = rng.normal()
        for step in range(int(rng.integers(1, 7))):
            value = float("nan") if rng.random() < 0.1 else level + rng.normal(scale=0.3)
            trial.report(value, step)
            pruned = trial.should_prune()
            decisions.append((trial.number, step, pruned))
            if pruned:
                raise optuna.TrialPruned
        return level

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=direction, pruner=pruner)
    study.optimize(objective, n_trials=40)
    return decisions


@pytest.mark.filterwarnings("ignore:All-NaN slice")
@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fold_pruner_decides_exactly_as_optunas_median_pruner(direction, seed):
    ours = _replay(direction, seed, FoldMedianPruner(n_startup_trials=5, n_warmup_steps=1))
    theirs = _replay(
        direction, seed, optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    )
    assert ours == theirs
    assert any(pruned for *_, pruned in ours)  # the comparison covers pruning, not only "go on"


def test_fold_pruner_reads_the_completed_trials_once_per_trial():
    pruner = FoldMedianPruner(n_startup_trials=1, n_warmup_steps=0)
    reads: list[int] = []
    study = optuna.create_study(pruner=pruner)
    get_trials = study.get_trials

    def counting(*args, **kwargs):
        reads.append(1)
        return get_trials(*args, **kwargs)

    study.get_trials = counting  # type: ignore[method-assign]

    def objective(trial: optuna.Trial) -> float:
        for step in range(5):
            trial.report(1.0, step)
            trial.should_prune()
        return 1.0

    study.optimize(objective, n_trials=3)
    assert len(reads) == 3  # one read per trial, not one per report (15 with Optuna's)


def test_thread_limits_caps_and_restores_the_pools_and_reuses_one_inspection():
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)
    from threadpoolctl import threadpool_info

    from harness.contracts import model

    before = {lib["filepath"]: lib["num_threads"] for lib in threadpool_info()}
    assert before, "no BLAS or OpenMP library is loaded"
    with thread_limits(1):
        assert {lib["num_threads"] for lib in threadpool_info()} == {1}
        with thread_limits(1, user_api="openmp"):  # nested, as a booster's own cap is
            pass
        assert {lib["num_threads"] for lib in threadpool_info()} == {1}
    assert {lib["filepath"]: lib["num_threads"] for lib in threadpool_info()} == before
    inspected = model._CONTROLLER
    with thread_limits(1):
        pass
    assert model._CONTROLLER is inspected  # no import since: the same inspection


def test_a_settled_study_attribute_is_read_from_the_storage_until_it_is_set_then_kept():
    from harness.tuning.attrs import SLOTTED_ATTR
    from harness.tuning.slots import settled_attr

    study = optuna.create_study()
    reads: list[int] = []
    get_attrs = study._storage.get_study_user_attrs

    def counting(*args, **kwargs):
        reads.append(1)
        return get_attrs(*args, **kwargs)

    study._storage.get_study_user_attrs = counting  # type: ignore[method-assign]
    assert settled_attr(study, SLOTTED_ATTR) is None
    assert settled_attr(study, SLOTTED_ATTR) is None
    assert len(reads) == 2  # not set yet: asked each time
    study.set_user_attr(SLOTTED_ATTR, True)
    assert [settled_attr(study, SLOTTED_ATTR) for _ in range(5)] == [True] * 5
    assert len(reads) == 3  # then once
    other = optuna.load_study(study_name=study.study_name, storage=study._storage)
    assert settled_attr(other, SLOTTED_ATTR) is True  # another study object asks for itself


def test_a_trial_whose_results_are_separate_attributes_is_read_as_one_written_in_one():
    # Studies made before the results were one attribute hold them as separate keys.
    from harness.run.trials import trial_payload
    from harness.tuning import attrs as tuning_attrs

    results = {
        "fold_rmse": [1.0, 3.0],
        "fit_seconds": [0.5, 0.7],
        "predict_seconds": [0.1, 0.1],
        tuning_attrs.FIT_INFO_ATTR: {"rounds_used": [10.0, 30.0]},
    }
    common = {tuning_attrs.SLOT_ATTR: 0, tuning_attrs.DEFAULT_ATTR: True}
    distribution = optuna.distributions.FloatDistribution(0.0, 1.0)
    trials = [
        optuna.trial.create_trial(
            value=2.0,
            params={"alpha": 0.5},
            distributions={"alpha": distribution},
            user_attrs={**common, **attrs},
        )
        for attrs in (results, {tuning_attrs.RESULT_ATTR: results})
    ]
    legacy, current = (tuning_attrs.results_of(t) for t in trials)
    assert legacy == current == {**common, **results}
    payloads = [trial_payload(t, ("rmse",)) for t in trials]
    assert payloads[0] == payloads[1]
    assert payloads[0]["metrics"]["cv_rmse_mean"] == 2.0
    assert payloads[0]["metrics"]["fit_seconds"] == pytest.approx(1.2)
    assert payloads[0]["metrics"]["rounds_used"] == 20.0
    assert payloads[0]["tags"]["harness.default_config"] == "true"
