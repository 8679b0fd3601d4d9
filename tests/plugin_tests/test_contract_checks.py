"""The contract checks themselves: one test per check with `parametrize_with_checks`, groups that
report every failed check at once, and the estimator protocol on the model's own problem types."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from harness import registry
from harness.contracts import Dataset, Model, Task
from harness.contracts.testing import (
    MODEL_CHECKS,
    PROTOCOL_CHECKS,
    TASK_CHECKS,
    check_estimator_protocol,
    check_model,
    check_search_space,
    check_task,
    parametrize_with_checks,
)


def _ridge(spec, params, *, seed):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    from harness.contracts.preprocessing import make_preprocessor

    return make_pipeline(
        make_preprocessor(spec.feature_kinds, "onehot"), Ridge(alpha=params["alpha"])
    )


def _space(trial):
    return {"alpha": trial.suggest_float("alpha", 0.1, 10.0, log=True)}


RIDGE = Model(
    name="my_ridge",
    description="Ridge regression.",
    family="classical",
    build=_ridge,
    search_space=_space,
    defaults={"alpha": 1.0},
    problem_types=("regression",),
)
DIABETES = registry.get_task("diabetes")


# What docs/PLUGINS.md shows a plugin author: each check of each plugin is a test of its own.
@parametrize_with_checks([RIDGE, DIABETES])
def test_a_plugin_authors_test_module(plugin, check):
    check(plugin)


def test_each_check_is_a_test_with_a_readable_id():
    mark = parametrize_with_checks([RIDGE, DIABETES])
    names, params = mark.args
    assert names == ("plugin", "check")
    assert [p.id for p in params] == [
        "my_ridge-check_search_space",
        "my_ridge-check_build_returns_fresh_estimators",
        "my_ridge-check_fit_predict_shapes",
        "my_ridge-check_same_seed_same_predictions",
        "my_ridge-check_clone",
        "my_ridge-check_no_predict_before_fit",
        "my_ridge-check_pickle_round_trip",
        "diabetes-check_load_returns_a_dataset",
        "diabetes-check_declared_size",
        "diabetes-check_time_ordered_holdout",
        "diabetes-check_deterministic_folds",
        "diabetes-check_holdout_and_folds",
    ]
    assert [p.values[1] for p in params] == [*MODEL_CHECKS, *PROTOCOL_CHECKS, *TASK_CHECKS]
    assert all(p.values[0] is (RIDGE if i < 7 else DIABETES) for i, p in enumerate(params))


def test_options_marks_and_expected_failures_reach_each_check():
    mark = parametrize_with_checks(
        [pytest.param(RIDGE, marks=pytest.mark.slow)],
        options={"my_ridge": {"overrides": {"alpha": 2.0}, "atol": 1e-9}},
        expected_failed_checks={"my_ridge": {"check_clone": "a known bug"}},
    )
    params = {p.id: p for p in mark.args[1]}
    same_seed = params["my_ridge-check_same_seed_same_predictions"].values[1]
    assert same_seed.keywords == {"overrides": {"alpha": 2.0}, "atol": 1e-9}
    assert params["my_ridge-check_clone"].values[1].keywords == {"overrides": {"alpha": 2.0}}
    assert params["my_ridge-check_search_space"].values[1] is check_search_space
    clone_marks = params["my_ridge-check_clone"].marks
    assert [m.name for m in clone_marks] == ["slow", "xfail"]
    assert clone_marks[1].kwargs == {"reason": "a known bug", "strict": True}
    assert [m.name for m in params["my_ridge-check_search_space"].marks] == ["slow"]


@pytest.mark.parametrize(
    ("plugins", "more", "message"),
    [
        (
            [RIDGE],
            {"options": {"my_ridge": {"seed": 1}}},
            "my_ridge: unknown check options ['seed']; a Model takes "
            "['problem_types', 'modalities', 'overrides', 'atol']",
        ),
        (
            [DIABETES],
            {"options": {"diabetes": {"atol": 1.0}}},
            "diabetes: unknown check options ['atol']; a Task takes ['seed']",
        ),
        (
            [RIDGE],
            {"expected_failed_checks": {"my_ridge": {"check_nothing": "why"}}},
            "my_ridge: expected_failed_checks names no check: ['check_nothing']",
        ),
        ([3], {}, "not a Model or Task plugin: 3"),
    ],
)
def test_the_helper_refuses_what_no_check_takes(plugins, more, message):
    with pytest.raises(TypeError) as info:
        parametrize_with_checks(plugins, **more)
    assert str(info.value) == message


class _Wrong:
    """Refuses to predict unfitted, then predicts one value too many."""

    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X) + 1, self.mean_)


BROKEN = Model(
    name="broken_ridge",
    description="Its defaults are not in its space and it predicts one row too many.",
    family="classical",
    build=lambda spec, params, *, seed: _Wrong(),
    search_space=lambda trial: {},
    defaults={"alpha": 1.0},
    problem_types=("regression",),
)


def test_check_model_reports_every_failed_check_in_one_error():
    with pytest.raises(AssertionError) as info:
        check_model(BROKEN)
    assert str(info.value) == (
        "broken_ridge: 2 of 4 contract checks failed:\n"
        "  check_search_space: broken_ridge: search_space(FixedTrial(defaults)) gave {}, not the "
        "defaults {'alpha': 1.0}; every default must be a parameter of the space\n"
        "  check_fit_predict_shapes: broken_ridge breaks 'predictions of the right shape':\n"
        "      on tabular regression: predictions of shape (121,), expected (120,)"
    )


def test_a_case_the_model_does_not_support_is_a_usage_error():
    with pytest.raises(ValueError) as info:
        check_model(RIDGE, problem_types=("binary",))
    assert str(info.value) == (
        "cannot check tabular binary: model 'my_ridge' does not support binary tasks "
        "(supports regression)"
    )


def test_the_estimator_protocol_follows_the_models_own_problem_types(installed_plugins):
    installed_plugins({"ridge_only": "extra_plugins:REGRESSION_ONLY"})
    model = registry.get_model("ridge_only")
    check_estimator_protocol(model)  # regression only: once failed with an AttributeError
    with pytest.raises(ValueError, match="model 'ridge_only' does not support binary tasks"):
        check_estimator_protocol(model, problem_type="binary")


def _drifting() -> Dataset:
    rng = np.random.default_rng()  # unseeded: every load differs
    X = pd.DataFrame({"a": rng.normal(size=100), "b": rng.normal(size=100)})
    return Dataset(X=X, y=X["a"] + rng.normal(size=100), feature_kinds=dict.fromkeys(X, "numeric"))


DRIFTING = Task(
    name="drifting",
    description="Random data at every load, and wrong declared sizes.",
    modality="tabular",
    problem_type="regression",
    metric="rmse",
    load=_drifting,
    rows=99,
)


def test_check_task_reports_every_failed_check_in_one_error():
    with pytest.raises(AssertionError) as info:
        check_task(DRIFTING)
    assert str(info.value) == (
        "drifting: 2 of 5 contract checks failed:\n"
        "  check_declared_size: drifting: declares rows=99 but load() returned 100 labeled rows; "
        "update the declaration (harness list tasks shows it)\n"
        "  check_deterministic_folds: drifting: loading twice gave different folds; load() must "
        "be deterministic"
    )


BROKEN_MODULE = """
import numpy as np
from harness.contracts import Model
from harness.contracts.testing import parametrize_with_checks


class Wrong:
    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        return np.full(len(X) + 1, self.mean_)


MODEL = Model(
    name="broken_ridge", description="Broken twice.", family="classical",
    build=lambda spec, params, *, seed: Wrong(), search_space=lambda trial: {},
    defaults={"alpha": 1.0}, problem_types=("regression",),
)


@parametrize_with_checks([MODEL])
def test_my_model(plugin, check):
    check(plugin)
"""


def test_one_failing_check_hides_no_other(tmp_path):
    (tmp_path / "test_broken.py").write_text(textwrap.dedent(BROKEN_MODULE))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_broken.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 failed, 5 passed" in result.stdout
    failed = sorted(
        line.split("::")[1].split(" ")[0]
        for line in result.stdout.splitlines()
        if line.startswith("FAILED")
    )
    assert failed == [
        "test_my_model[broken_ridge-check_fit_predict_shapes]",
        "test_my_model[broken_ridge-check_search_space]",
    ]
