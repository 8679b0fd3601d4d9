"""The zoo through `harness run`: bad requests refused, every model on each problem type (slow)."""

from __future__ import annotations

import json

import pytest
from mlflow.tracking import MlflowClient

from harness import registry

# The tabular zoo (image- and text-only baselines have their own tests).
CLASSICAL = sorted(
    name
    for name, m in registry.models().items()
    if m.family != "neural" and "tabular" in m.modalities
)


def test_asking_for_naive_bayes_on_a_regression_task_names_the_supported_problem_types(cli):
    result = cli("run", "ames", "--model", "naive_bayes")
    assert result.code == 1
    assert (
        "Error: Task 'ames' is tabular regression, and model 'naive_bayes' does not support "
        "regression tasks (supports binary, multiclass)." in result.err + result.out
    )
    assert "Traceback" not in result.err


def test_the_default_model_set_skips_naive_bayes_on_regression_with_the_reason():
    from harness.run import select_models

    chosen = dict((m.name, reason) for m, reason in select_models(registry.get_task("ames"), ()))
    assert "does not support regression" in chosen["naive_bayes"]
    assert all(chosen[name] is None for name in CLASSICAL if name != "naive_bayes")


@pytest.mark.slow
@pytest.mark.parametrize("task", ["breast_cancer", "penguins", "ames"])
def test_every_classical_model_runs_for_real_with_a_tiny_budget(cli, store, task):
    models = [arg for name in CLASSICAL for arg in ("--model", name)]
    if task == "ames":
        models = [arg for name in CLASSICAL if name != "naive_bayes" for arg in ("--model", name)]
    result = cli("run", task, *models, "--trials", "2", "--folds", "2", "--jobs", "1")
    assert result.code == 0, result.err[-3000:]
    rows = json.loads(cli("leaderboard", task, "--format", "json").out)
    by_model = {r["model"]: r for r in rows}
    assert all(r["status"] == "ok" for r in rows), [(r["model"], r.get("reason")) for r in rows]
    dummy = by_model["dummy"]["holdout"]
    higher = task == "breast_cancer"  # roc_auc; log loss and rmse are lower-is-better
    for name, row in by_model.items():
        if name != "dummy":
            assert (row["holdout"] > dummy) if higher else (row["holdout"] < dummy), (name, row)
    client = MlflowClient(tracking_uri=store.tracking_uri)
    experiment = client.get_experiment_by_name(task)
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string="tags.`harness.kind` != 'leaderboard'",
        max_results=1000,
    )
    for run in runs:
        model = run.data.tags["harness.model"]
        if model in ("xgboost", "lightgbm", "catboost", "hist_gradient_boosting"):
            assert run.data.metrics["rounds_used"] >= 1, (model, run.data.tags["harness.kind"])
            if run.data.tags["harness.kind"] == "study":
                assert run.data.metrics["refit_rounds_used"] >= 1
