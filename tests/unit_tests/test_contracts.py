"""Task, Model and Dataset validate themselves on construction, with messages saying what to do."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.contracts.model import Model
from harness.contracts.task import Dataset, Task
from harness.errors import DataError, PluginError


def _task(**changes):
    fields = dict(
        name="demo",
        description="A demo.",
        modality="tabular",
        problem_type="binary",
        metric="roc_auc",
        positive_class=1,
        load=lambda: None,
    )
    return Task(**{**fields, **changes})


def _model(**changes):
    fields = dict(
        name="demo",
        description="A demo.",
        family="classical",
        build=lambda *a, **k: None,
        search_space=lambda trial: {},
    )
    return Model(**{**fields, **changes})


def test_a_valid_task_and_model_build():
    assert _task().metrics == ("roc_auc",)
    assert _model().unsupported_reason("tabular", "binary") is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "Bad-Name"}, "lower-case identifier"),
        ({"modality": "audio"}, "modality 'audio' is not one of"),
        ({"problem_type": "ranking"}, "problem_type 'ranking' is not one of"),
        ({"metric": "rmse"}, "metric 'rmse' does not fit a binary task"),
        ({"metric": "roc_acu"}, "Did you mean 'roc_auc'?"),
        ({"holdout": 1.5}, "holdout share must be in (0, 1)"),
        ({"folds": 1}, "folds must be at least 2"),
        ({"positive_class": None}, "must name its positive_class"),
        ({"extra_metrics": ("roc_auc",)}, "also an extra"),
    ],
)
def test_task_rejects_bad_fields_with_a_clear_message(changes, message):
    with pytest.raises(PluginError, match=None) as info:
        _task(**changes)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"family": "quantum"}, "family 'quantum' is not one of"),
        ({"problem_types": ("binary", "ranking")}, "problem_types must be a non-empty tuple"),
        ({"hardware": ()}, "hardware must be a non-empty tuple"),
        ({"description": "  "}, "description must not be empty"),
    ],
)
def test_model_rejects_bad_fields_with_a_clear_message(changes, message):
    with pytest.raises(PluginError) as info:
        _model(**changes)
    assert message in str(info.value)


def test_model_says_why_it_cannot_handle_a_task():
    model = _model(problem_types=("regression",))
    reason = model.unsupported_reason("tabular", "binary")
    assert reason == "model 'demo' does not support binary tasks (supports regression)"


def test_dataset_requires_a_kind_for_every_column_and_a_complete_target():
    X = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    with pytest.raises(DataError, match=r"without a kind: \['b'\]"):
        Dataset(X=X, y=pd.Series([0, 1]), feature_kinds={"a": "numeric"})
    with pytest.raises(DataError, match="the target has 1 missing values"):
        Dataset(X=X, y=pd.Series([0, None]), feature_kinds={"a": "numeric", "b": "categorical"})
    with pytest.raises(DataError, match="unknown feature kinds"):
        Dataset(X=X, y=pd.Series([0, 1]), feature_kinds={"a": "numeric", "b": "colour"})


def test_an_official_holdout_must_be_complete_and_aligned():
    X = pd.DataFrame({"a": [1.0, 2.0]})
    kinds = {"a": "numeric"}
    with pytest.raises(DataError, match="the holdout target has 1 missing values"):
        Dataset(
            X=X,
            y=pd.Series([0, 1]),
            feature_kinds=kinds,
            holdout_X=X,
            holdout_y=pd.Series([1, None]),
        )
    with pytest.raises(DataError, match="holdout_X has 2 rows but holdout_y has 1"):
        Dataset(
            X=X, y=pd.Series([0, 1]), feature_kinds=kinds, holdout_X=X, holdout_y=pd.Series([1])
        )
    with pytest.raises(DataError, match="ids has 3 rows but X has 2"):
        Dataset(X=X, y=pd.Series([0, 1]), feature_kinds=kinds, ids=pd.Series([1, 2, 3]))


@pytest.mark.parametrize(("given", "seen"), [(None, "true"), ("false", "false")])
def test_mlflow_telemetry_is_off_unless_the_user_turns_it_on(given, seen):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_DISABLE_TELEMETRY"}
    if given is not None:
        env["MLFLOW_DISABLE_TELEMETRY"] = given
    code = "import os, harness; print(os.environ['MLFLOW_DISABLE_TELEMETRY'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == seen, out.stderr
