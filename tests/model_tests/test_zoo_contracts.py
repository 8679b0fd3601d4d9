"""Every built-in classical model keeps the contract, can be pruned, learns on each problem type.

Early-stopped boosters are capped at 100 rounds here (`CHEAP`) so the default suite stays fast;
the real defaults run in the slow end-to-end tests and the benchmark.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import optuna
import pytest

from harness import registry
from harness.contracts.testing import (
    check_estimator_protocol,
    check_model,
    check_search_space,
    probe_data,
)
from harness.execution.jobs import StudyContext
from harness.execution.worker import Worker
from harness.protocol import cv
from harness.protocol.cv import cross_validate, spec_for
from harness.tuning import attrs
from harness.tuning.objective import make_objective

BOOSTERS = ("xgboost", "lightgbm", "catboost", "hist_gradient_boosting")
# The tabular zoo (image- and text-only baselines have their own tests).
CLASSICAL = sorted(
    name
    for name, m in registry.models().items()
    if m.family != "neural" and "tabular" in m.modalities
)
CHEAP = {name: {"max_rounds": 100} for name in BOOSTERS}
PROBLEM_TYPES = ("binary", "multiclass", "regression")


@pytest.fixture
def cheap(monkeypatch):
    """`cheap(name)`: the model with boosters' max_rounds capped in its space and defaults."""
    import importlib

    def make(name: str):
        model = registry.get_model(name)
        overrides = CHEAP.get(name, {})
        if overrides:
            module = importlib.import_module(f"harness.models.{name}")
            monkeypatch.setattr(module, "MAX_ROUNDS", overrides["max_rounds"])
            model = replace(model, defaults={**model.defaults, **overrides})
        return model

    return make


@pytest.mark.parametrize("name", CLASSICAL)
def test_defaults_are_a_point_of_the_search_space(name):
    check_search_space(registry.get_model(name))


@pytest.mark.parametrize("name", CLASSICAL)
def test_model_keeps_the_whole_contract_on_every_problem_type_it_supports(name):
    check_model(registry.get_model(name), overrides=CHEAP.get(name), atol=1e-12)


@pytest.mark.parametrize("name", CLASSICAL)
def test_built_estimators_clone_refuse_to_predict_unfitted_and_pickle(name):
    model = registry.get_model(name)
    problem = "binary" if "binary" in model.problem_types else model.problem_types[0]
    check_estimator_protocol(model, problem_type=problem, overrides=CHEAP.get(name))


def _configuration(estimator) -> dict:
    """What the learner is actually configured with, for wrappers and pipelines alike."""
    if hasattr(estimator, "learner_options"):
        return estimator.learner_options()
    if hasattr(estimator, "steps"):  # every step: preprocessing choices are searched too
        return {
            f"{step}.{key}": value
            for step, part in estimator.steps
            for key, value in part.get_params(deep=False).items()
        }
    return dict(estimator.get_params(deep=False).get("params", {}))


@pytest.mark.parametrize("name", CLASSICAL)
def test_every_search_space_key_changes_the_estimator_it_builds(name):
    model = registry.get_model(name)
    problem = "regression" if "regression" in model.problem_types else "binary"
    data = probe_data(problem)
    spec = spec_for(problem, "tabular", data)
    base = _configuration(model.build(spec, dict(model.defaults), seed=0))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    varied: set[str] = set()
    for _ in range(8):
        sampled = model.search_space(study.ask())
        for key, value in sampled.items():
            if value == model.defaults[key]:
                continue
            params = {**model.defaults, key: value}
            if _configuration(model.build(spec, params, seed=0)) != base:
                varied.add(key)
    fixed = {k for k, d in _distributions(model).items() if d.single()}
    assert set(model.defaults) - fixed <= varied, (
        f"{name}: search-space keys that never reach the estimator: "
        f"{sorted(set(model.defaults) - fixed - varied)}"
    )


def _distributions(model) -> dict:
    study = optuna.create_study()
    trial = study.ask()
    model.search_space(trial)
    return trial.distributions


@pytest.mark.parametrize("name", CLASSICAL)
@pytest.mark.parametrize("problem", PROBLEM_TYPES)
def test_a_two_trial_study_learns_on_each_problem_type(cheap, name, problem):
    model = cheap(name)
    if problem not in model.problem_types:
        pytest.skip(f"{name} does not support {problem}")
    data = probe_data(problem)
    spec = spec_for(problem, "tabular", data, n_jobs=1)
    metric = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}[problem]
    study = optuna.create_study(
        direction="minimize" if metric != "roc_auc" else "maximize",
        sampler=optuna.samplers.TPESampler(seed=0),
    )
    study.enqueue_trial(dict(model.defaults))
    study.optimize(make_objective(StudyContext(model, data, spec, (metric,), 0)), n_trials=2)
    states = [t.state.name for t in study.trials]
    assert states[0] == "COMPLETE", (states, study.trials[0].user_attrs)
    default = study.trials[0]
    # Clearly better than a constant guess on the default configuration.
    baseline = cross_validate(
        registry.get_model("dummy"), {"strategy": "prior"}, data, spec, (metric,), seed=0
    )
    constant = float(np.mean(baseline.scores[metric]))
    better = default.value > constant if metric == "roc_auc" else default.value < constant
    if name != "dummy":
        assert better, f"{name} on {problem}: {metric} {default.value} vs constant {constant}"
    if name in BOOSTERS:
        rounds = attrs.results_of(default)[attrs.FIT_INFO_ATTR]["rounds_used"]
        assert len(rounds) == len(data.folds)
        assert all(1 <= r <= 100 for r in rounds), rounds


class _PruneAfterFirstFold(optuna.pruners.BasePruner):
    def prune(self, study, trial) -> bool:
        return True


@pytest.mark.parametrize("name", CLASSICAL)
def test_every_model_can_be_pruned_after_its_first_fold(cheap, name):
    model = cheap(name)
    problem = "binary" if "binary" in model.problem_types else model.problem_types[0]
    data = probe_data(problem)
    spec = spec_for(problem, "tabular", data)
    study = optuna.create_study(direction="maximize", pruner=_PruneAfterFirstFold())
    study.enqueue_trial(dict(model.defaults))
    # Through a study worker, as `harness run` does: the stop reaches the worker between folds.
    with Worker(StudyContext(model, data, spec, ("roc_auc",), 0)) as worker:
        study.optimize(make_objective(worker.context, worker), n_trials=1)
    trial = study.trials[0]
    assert trial.state.name == "PRUNED", trial.user_attrs
    assert list(trial.intermediate_values) == [0]


class _PruneAnyStep(optuna.pruners.BasePruner):
    def __init__(self) -> None:
        self.asked: list[int] = []

    def prune(self, study, trial) -> bool:
        self.asked.append(trial.last_step)
        return trial.last_step >= 1  # from the second fold's report on


def test_a_trial_whose_folds_are_all_done_completes_instead_of_being_pruned(cheap):
    model = cheap("linear")
    data = probe_data("binary")
    folds = len(data.folds)
    assert folds == 2  # so the second fold is the last: its mean is the trial's value
    pruner = _PruneAnyStep()
    study = optuna.create_study(direction="maximize", pruner=pruner)
    study.enqueue_trial(dict(model.defaults))
    with Worker(
        StudyContext(model, data, spec_for("binary", "tabular", data), ("roc_auc",), 0)
    ) as w:
        study.optimize(make_objective(w.context, w), n_trials=1)
    (trial,) = study.trials
    assert trial.state.name == "COMPLETE", trial.user_attrs
    assert pruner.asked == [0] and list(trial.intermediate_values) == [0]
    assert trial.value == pytest.approx(np.mean(attrs.results_of(trial)["fold_roc_auc"]))


def test_a_completed_trial_writes_its_results_in_one_user_attribute(cheap):
    model = cheap("linear")
    data = probe_data("binary")
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(dict(model.defaults))
    writes: list[str] = []
    write = study._storage.set_trial_user_attr

    def counting(trial_id, key, value):
        writes.append(key)
        return write(trial_id, key, value)

    study._storage.set_trial_user_attr = counting  # type: ignore[method-assign]
    context = StudyContext(
        model, data, spec_for("binary", "tabular", data), ("roc_auc", "accuracy"), 0
    )
    study.optimize(make_objective(context), n_trials=1)
    (trial,) = study.trials
    assert writes == [attrs.RESULT_ATTR]  # not one write per metric, timing and fit info
    results = attrs.results_of(trial)
    assert len(results["fold_roc_auc"]) == len(results["fold_accuracy"]) == len(data.folds)
    assert len(results["fit_seconds"]) == len(results["predict_seconds"]) == len(data.folds)
    assert trial.value == pytest.approx(np.mean(results["fold_roc_auc"]))


@pytest.mark.parametrize("name", CLASSICAL)
def test_every_model_gets_a_fresh_estimator_for_each_fold(cheap, name):
    model = cheap(name)
    built = []

    def counting_build(spec, params, *, seed):
        estimator = model.build(spec, params, seed=seed)
        built.append(estimator)
        return estimator

    counted = replace(model, build=counting_build)
    problem = "binary" if "binary" in model.problem_types else model.problem_types[0]
    data = probe_data(problem)
    spec = spec_for(problem, "tabular", data)
    cross_validate(counted, dict(model.defaults), data, spec, ("accuracy",), seed=0)
    assert len(built) == len(data.folds)
    assert len({id(e) for e in built}) == len(data.folds)


@pytest.mark.parametrize("name", ["linear", "knn", "lightgbm", "catboost", "xgboost"])
def test_predictions_of_a_fold_ignore_its_validation_labels(cheap, name):
    model = cheap(name)
    data = probe_data("binary")
    spec = spec_for("binary", "tabular", data)
    first, _, _ = cv.fit_fold(model, dict(model.defaults), data, spec, 0, 0)
    y = data.y.copy()
    valid = data.folds[0][1]
    y[valid] = 1 - y[valid]
    flipped = replace(data, y=y)
    second, _, _ = cv.fit_fold(model, dict(model.defaults), flipped, spec, 0, 0)
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", CLASSICAL)
def test_every_model_learns_from_text_high_cardinality_and_missing_values(name):
    import pandas as pd

    from harness.contracts.model import BuildSpec

    rng = np.random.default_rng(0)
    n = 240
    y = rng.integers(0, 2, n)
    words = np.where(y == 1, "refund late broken", "great fast fine")
    X = pd.DataFrame(
        {
            "amount": np.where(rng.random(n) < 0.1, np.nan, rng.normal(y, 1.0)),
            "shop": np.array([f"shop{i}" for i in rng.integers(0, 80, n)], dtype=object),
            "colour": rng.choice(["red", "blue", None], n).astype(object),
            "review": np.where(rng.random(n) < 0.1, None, words).astype(object),
        }
    )
    kinds = {"amount": "numeric", "shop": "categorical", "colour": "categorical", "review": "text"}
    spec = BuildSpec("binary", "tabular", kinds, n_classes=2, n_rows=160)
    model = registry.get_model(name)
    params = {**model.defaults, **({"max_rounds": 30} if name in BOOSTERS else {})}
    estimator = model.build(spec, params, seed=0).fit(X.iloc[:160], y[:160])
    proba = cv.predict(estimator, X.iloc[160:].reset_index(drop=True), 2)
    assert proba.shape == (80, 2) and np.isfinite(proba).all()
    if name != "dummy":  # the review text gives the label away
        assert (proba.argmax(axis=1) == y[160:]).mean() > 0.9, name
