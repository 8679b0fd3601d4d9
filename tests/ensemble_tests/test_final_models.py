"""The study's final model: the bag of the best trial's fold models (default) or a refit.

Real studies on real data (penguins, diabetes) in a real MLflow store; the bag's holdout
predictions are checked against fold models fitted here from the best configuration.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from harness import registry
from harness import run as harness_run
from harness.contracts.metrics import get_metric
from harness.execution import jobs
from harness.protocol import cv as protocol_cv
from harness.protocol.splits import prepare
from harness.run import config as run_config
from harness.run import refit
from harness.store import schema
from harness.store.tracker import Tracker
from harness.store.urls import resolve_stores
from tests.conftest import run_cli


def _stores(root):
    return resolve_stores(f"sqlite:///{root / 'mlruns' / 'mlflow.db'}", root=root)


def _run(root, **fields):
    stores = _stores(root)
    config = run_config.RunConfig(trials=2, folds=3, n_jobs=1, ensemble=False, **fields)
    task, data, results = harness_run.run(config, stores)
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    return stores, task, data, results, client


def _holdout(stores, run_id):
    return refit.load_array(Tracker(stores), run_id, schema.HOLDOUT_ARRAY)


def _context(task, data, model):
    spec = protocol_cv.spec_for(task.problem_type, task.modality, data, n_jobs=1)
    return jobs.StudyContext(model, data, spec, task.metrics, 0)


@pytest.fixture(scope="module")
def bagged(tmp_path_factory):
    """linear and knn on penguins with the default final model (a bag of 3 fold models)."""
    root = tmp_path_factory.mktemp("bag")
    return root, *_run(root, task="penguins", models=("linear", "knn"))


def test_the_default_final_model_is_the_bag_of_the_best_trials_fold_models(bagged):
    _, stores, task, data, results, client = bagged
    assert [r.status for r in results] == ["ok", "ok"], [r.reason for r in results]
    for result in results:
        run = client.get_run(result.run_id)
        assert run.data.tags[schema.FINAL] == "bag"
        assert run.data.metrics[schema.FINAL_MODELS] == 3
        # the same fold models, fitted here from the best configuration, average to the
        # predictions the run stored and scored
        model = registry.get_model(result.model)
        context = _context(task, data, model)
        models: list = []
        protocol_cv.cross_validate(
            model, result.best_params, data, context.spec, task.metrics, seed=0, models=models
        )
        expected, _ = protocol_cv.bag_predict(models, data.holdout_X, data.n_classes, 1)
        np.testing.assert_allclose(_holdout(stores, result.run_id), expected, atol=1e-9)
        fits = [m for m in client.get_metric_history(result.run_id, "fit_seconds")]
        assert fits and fits[-1].value > 0  # the fold models' fits, made while tuning


def test_the_board_says_which_final_model_scored_the_holdout(bagged):
    root = bagged[0]
    result = run_cli("leaderboard", "penguins", "-f", "json", "--no-log", cwd=root)
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert {row["final"] for row in rows} == {"bag of 3"}
    table = run_cli("leaderboard", "penguins", "--no-log", "--width", "220", cwd=root)
    assert "final model" in table.out and "bag of 3" in table.out


def test_a_rerun_with_no_new_trial_reuses_the_stored_bag(bagged):
    root, stores, _, _, results, client = bagged
    again = _run(root, task="penguins", models=("linear",))[3]
    first, second = client.get_run(results[0].run_id), client.get_run(again[0].run_id)
    assert second.data.tags[schema.FINAL] == "bag"
    assert second.data.metrics["predict_seconds"] == first.data.metrics["predict_seconds"]
    np.testing.assert_array_equal(
        _holdout(stores, again[0].run_id), _holdout(stores, results[0].run_id)
    )


def test_refit_is_one_fit_of_the_best_configuration_on_the_training_part(tmp_path):
    stores, task, data, results, client = _run(
        tmp_path, task="diabetes", models=("linear",), final="refit"
    )
    (result,) = results
    run = client.get_run(result.run_id)
    assert run.data.tags[schema.FINAL] == "refit" and run.data.metrics[schema.FINAL_MODELS] == 1
    model = registry.get_model("linear")
    spec = _context(task, data, model).spec
    expected, _, _ = protocol_cv.fit_and_predict(
        model, result.best_params, spec, 0, data.X, data.y, data.holdout_X, data.n_classes
    )
    np.testing.assert_allclose(_holdout(stores, result.run_id), expected, atol=1e-9)
    rows = run_cli("leaderboard", "diabetes", "-f", "csv", "--no-log", cwd=tmp_path)
    assert rows.code == 0, rows.err
    assert [row["final"] for row in csv.DictReader(io.StringIO(rows.out))] == ["refit"]


def test_time_ordered_tasks_refit_by_default_and_the_flag_wins():
    config = run_config.RunConfig(task="penguins")
    assert config.final_for(ordered=False) == "bag"
    assert config.final_for(ordered=True) == "refit"
    bag = run_config.RunConfig(task="penguins", final="bag")
    assert bag.final_for(ordered=True) == "bag"


def test_the_worker_keeps_only_the_best_trials_bag_and_rebuilds_a_missing_one():
    task = registry.get_task("penguins")
    data = prepare(task, task.load(), folds=3, seed=0)
    model = registry.get_model("knn")
    context = _context(task, data, model)
    send = lambda message: None  # noqa: E731
    good = jobs.cv_job(context, send, {**model.defaults, "n_neighbors": 15}, 1)
    kept = jobs.kept_bag(context)
    assert kept is not None and kept.trial == 1 and len(kept.models) == 3
    worse_params = {**model.defaults, "n_neighbors": 1}
    worse = jobs.cv_job(context, send, worse_params, 2)
    metric = get_metric(task.metric)
    better = metric.better(np.mean(worse.scores[metric.name]), np.mean(good.scores[metric.name]))
    assert jobs.kept_bag(context).trial == (2 if better else 1)
    kept_trial = jobs.kept_bag(context).trial
    answer = jobs.bag_job(context, send, kept_trial, {}, data.holdout_X)
    assert answer.recomputed is None and answer.models == 3
    assert answer.prediction.shape == (len(data.holdout_y), data.n_classes)
    # a trial this worker did not keep: rebuilt by cross-validation (its OOF comes back), or
    # with rebuild=False (under a budget) left to a refit
    assert jobs.bag_job(context, send, 99, worse_params, data.holdout_X, False) is None
    rebuilt = jobs.bag_job(context, send, 99, worse_params, data.holdout_X)
    assert rebuilt.recomputed is not None and rebuilt.recomputed.oof is not None
    assert rebuilt.models == 3
    assert jobs.kept_bag(context).trial == kept_trial  # the kept bag is not replaced


def test_a_bag_over_its_memory_share_is_not_kept():
    task = registry.get_task("penguins")
    data = prepare(task, task.load(), folds=3, seed=0)
    model = registry.get_model("linear")
    spec = protocol_cv.spec_for(task.problem_type, task.modality, data, n_jobs=1)
    context = jobs.StudyContext(model, data, spec, task.metrics, 0, bag_memory_mb=1.0)
    jobs.cv_job(context, lambda message: None, dict(model.defaults), 0)
    assert jobs.kept_bag(context) is None


def test_an_unknown_final_model_is_refused(store, cli):
    result = cli("run", "penguins", "-m", "linear", "--final", "average")
    assert result.code == 2
    assert "--final must be bag or refit, got 'average'." in result.err
    assert not (store.root / "mlruns").exists()
