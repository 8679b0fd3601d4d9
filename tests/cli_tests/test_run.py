"""`harness run` end to end on real data, a real MLflow store and a real Optuna storage."""

from __future__ import annotations

import contextlib
import json
import sqlite3

import pytest
from mlflow.tracking import MlflowClient

from harness.tuning import studies as tuning_studies

# --no-ensemble: the resume test counts study runs and rows (tests/ensemble_tests: the ensemble)
MODELS = ("--model", "dummy", "--model", "linear", "--model", "xgboost", "--no-ensemble")


def _client(store):
    return MlflowClient(tracking_uri=store.tracking_uri)


def _study_runs(client, task):
    experiment = client.get_experiment_by_name(task)
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    studies = [r for r in runs if r.data.tags.get("harness.kind") == "study"]
    trials = [r for r in runs if r.data.tags.get("harness.kind") == "trial"]
    return studies, trials


def test_a_store_made_before_the_journal_keeps_resuming_its_sqlite_studies(cli, store):
    legacy = f"sqlite:///{store.root / 'mlruns' / 'optuna.db'}"
    args = ("run", "breast_cancer", "--model", "linear", "--no-ensemble", "--trials")
    first = cli(*args, "2", env={"HARNESS_STORAGE": legacy})  # how the default store was made
    assert first.code == 0, first.err
    second = cli(*args, "3")  # the default now: the store's optuna.db, not a journal
    assert second.code == 0, second.err
    study = tuning_studies.load_study(legacy, "breast_cancer.linear")
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 3
    with contextlib.closing(sqlite3.connect(store.root / "mlruns" / "optuna.db")) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert not (store.root / "mlruns" / "optuna").exists()


def test_a_rerun_resumes_the_studies_and_adds_only_the_missing_trials(cli, store):
    first = cli("run", "breast_cancer", *MODELS, "--trials", "3")
    assert first.code == 0, first.err
    # MLflow's database logs ahead (tracking.write_ahead_log); the studies are journal files
    with contextlib.closing(sqlite3.connect(store.root / "mlruns" / "mlflow.db")) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    journals = sorted(p.name for p in (store.root / "mlruns" / "optuna").glob("*.journal"))
    assert journals == [f"breast_cancer.{m}.journal" for m in ("dummy", "linear", "xgboost")]
    assert not (store.root / "mlruns" / "optuna.db").exists()
    second = cli("run", "breast_cancer", *MODELS, "--trials", "5")
    assert second.code == 0, second.err

    for model in ("dummy", "linear", "xgboost"):
        study = store.study(f"breast_cancer.{model}")
        states = [t.state.name for t in study.trials]
        assert states == ["COMPLETE"] * 5, (model, states)
        assert study.trials[0].user_attrs["harness.default"] is True
        assert study.trials[0].params == _defaults(model)

    client = _client(store)
    studies, trials = _study_runs(client, "breast_cancer")
    assert len(studies) == 6  # one parent run per model and invocation
    for model in ("dummy", "linear", "xgboost"):
        numbers = sorted(
            int(t.data.tags["harness.trial"])
            for t in trials
            if t.data.tags["harness.model"] == model
        )
        assert numbers == [0, 1, 2, 3, 4], (model, numbers)
    for run in trials:
        assert run.info.status == "FINISHED"
        assert run.data.tags["mlflow.parentRunId"] in {s.info.run_id for s in studies}
        history = client.get_metric_history(run.info.run_id, "fold_roc_auc")
        assert [m.step for m in history] == [0, 1, 2, 3, 4]

    newest = {s.data.tags["harness.model"]: s for s in reversed(studies)}
    for run in newest.values():
        tags, metrics = run.data.tags, run.data.metrics
        assert run.info.status == "FINISHED" and tags["harness.status"] == "ok"
        for key in (
            "harness.task",
            "harness.family",
            "harness.folds_fingerprint",
            "harness.data_fingerprint",
            "harness.device",
            "harness.seed",
            "harness.version",
        ):
            assert tags[key], key
        assert metrics["trials_done"] == 5 and metrics["trials_run"] == 2
        for key in (
            "cv_roc_auc_mean",
            "cv_roc_auc_std",
            "holdout_roc_auc",
            "holdout_accuracy",
            "holdout_log_loss",
            "fit_seconds",
            "predict_seconds",
        ):
            assert key in metrics, key
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"fold_scores.csv", "holdout_predictions.csv", "best_params.json"} <= artifacts
    assert len({s.data.tags["harness.folds_fingerprint"] for s in studies}) == 1
    assert (store.root / "mlruns" / "artifacts" / "breast_cancer").is_dir()

    board = cli("leaderboard", "breast_cancer", "--format", "json")
    assert board.code == 0, board.err
    rows = json.loads(board.out)
    assert [r["model"] for r in rows][-1] == "dummy"
    assert {r["model"] for r in rows} == {"dummy", "linear", "xgboost"}
    assert [r["rank"] for r in rows] == [1, 2, 3]
    dummy = rows[-1]
    assert dummy["cv_mean"] == pytest.approx(0.5) and dummy["holdout"] == pytest.approx(0.5)
    assert all(r["trials"] == 5 and r["status"] == "ok" for r in rows)
    assert rows[0]["cv_mean"] > 0.98 and rows[0]["holdout"] > 0.97

    table = cli("leaderboard", "breast_cancer")
    assert "Leaderboard: breast_cancer" in table.out and "xgboost" in table.out
    csv_out = cli("leaderboard", "breast_cancer", "--format", "csv").out.splitlines()
    assert csv_out[0].startswith("rank,model,family,status") and len(csv_out) == 4
    md = cli("leaderboard", "breast_cancer", "--format", "md").out
    assert md.startswith("| rank | model |")


def _defaults(model):
    from harness import registry

    return dict(registry.get_model(model).defaults)


def test_each_problem_type_runs_and_keras_goes_through_the_same_contract(cli, store):
    result = cli(
        "run",
        "penguins",
        "--model",
        "keras_mlp",
        "--model",
        "random_forest",
        "--trials",
        "1",
        "--folds",
        "3",
    )
    assert result.code == 0, result.err
    assert "keras_mlp" in result.out and "random_forest" in result.out
    regression = cli("run", "ames", "--model", "linear", "--trials", "2", "--folds", "3")
    assert regression.code == 0, regression.err
    rows = json.loads(cli("leaderboard", "ames", "--format", "json").out)
    assert rows[0]["metric"] == "rmse" and 0.08 < rows[0]["holdout"] < 0.3
    penguins = json.loads(cli("leaderboard", "penguins", "--format", "json").out)
    assert {r["model"] for r in penguins} == {"keras_mlp", "random_forest", "ensemble"}
    assert all(r["metric"] == "log_loss" and r["holdout"] < 0.5 for r in penguins)


def test_different_folds_are_refused_unless_the_study_starts_fresh(cli, store):
    assert cli("run", "breast_cancer", "-m", "dummy", "--trials", "1").code == 0
    clash = cli("run", "breast_cancer", "-m", "dummy", "--trials", "1", "--seed", "7")
    assert clash.code == 1
    assert "Study 'breast_cancer.dummy'" in clash.err and "was tuned on other folds" in clash.err
    assert "add --fresh to start the study over" in clash.err
    fresh = cli("run", "breast_cancer", "-m", "dummy", "--trials", "1", "--seed", "7", "--fresh")
    assert fresh.code == 0, fresh.err
