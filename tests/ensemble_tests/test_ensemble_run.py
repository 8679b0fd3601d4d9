"""The ensemble end to end: real studies on real data, a real MLflow store, the CLI reading it."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from harness import registry
from harness import run as harness_run
from harness.contracts.metrics import get_metric
from harness.run import config as run_config
from harness.run import ensemble as run_ensemble
from harness.run import refit
from harness.run import study as run_study
from harness.store.tracker import Tracker
from harness.store.urls import resolve_stores
from harness.tuning import studies as tuning_studies
from tests.conftest import Store, run_cli

MODELS = ("linear", "knn", "naive_bayes")


def _stores(root):
    return resolve_stores(f"sqlite:///{root / 'mlruns' / 'mlflow.db'}", root=root)


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    """Three fast models tuned on penguins (3 folds, 2 trials each), then their ensemble."""
    root = tmp_path_factory.mktemp("ensemble")
    stores = _stores(root)
    config = run_config.RunConfig(task="penguins", models=MODELS, trials=2, folds=3, n_jobs=1)
    task, data, results = harness_run.run(config, stores)
    return Store(root), stores, config, task, data, results


def _ensemble_run(stores, results):
    run_id = results[-1].run_id
    return MlflowClient(tracking_uri=stores.tracking_uri).get_run(run_id)


def test_the_ensemble_is_recorded_with_members_weights_and_holdout_predictions(penguins):
    store, stores, _, task, data, results = penguins
    assert [r.model for r in results] == [*MODELS, "ensemble"]
    assert all(r.status == "ok" for r in results), [(r.model, r.reason) for r in results]
    run = _ensemble_run(stores, results)
    tags = run.data.tags
    assert tags["harness.kind"] == "ensemble" and tags["harness.family"] == "ensemble"
    assert tags["harness.folds_fingerprint"] == data.folds_fingerprint
    weights = json.loads(tags["harness.ensemble_members"])
    assert set(weights) <= set(MODELS) and sum(weights.values()) == pytest.approx(1.0)
    assert {k: float(v) for k, v in run.data.params.items()} == pytest.approx(
        {f"weight.{m}": w for m, w in weights.items()}, abs=1e-6
    )
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"holdout_predictions.csv", "ensemble.json", "fold_scores.csv"} <= names
    # the holdout score is the metric of the weighted blend of the members' holdout predictions
    tracker = Tracker(stores)
    blend = sum(
        w * refit.load_array(tracker, r.run_id, "holdout_predictions.npy")
        for r in results[:-1]
        for m, w in weights.items()
        if r.model == m
    )
    score = get_metric(task.metric).score(data.holdout_y, blend)
    assert run.data.metrics[f"holdout_{task.metric}"] == pytest.approx(score)
    assert results[-1].holdout == pytest.approx(score)
    # never worse on the OOF rows than its best member: the best prefix of the rounds is kept
    single = [r.cv_mean for r in results[:-1]]
    assert run.data.metrics[f"oof_{task.metric}"] <= min(single) + 1e-9
    # for the MLflow UI: the data as dataset inputs, its row in words, the current marker
    inputs = {i.dataset.name: i.dataset.digest for i in run.inputs.dataset_inputs}
    assert set(inputs) == {"penguins", "penguins-holdout"}
    assert inputs["penguins"] == data.data_fingerprint[:8]
    note = tags["mlflow.note.content"]
    assert note.startswith("ensemble (") and f"log_loss {results[-1].cv_mean:.4f} ± " in note
    assert ", blend\n\nData: penguins, 275 training rows and 69 holdout rows, 6 features" in note
    assert tags["harness.current"] == "true"


def test_the_leaderboard_shows_the_ensemble_with_its_weights_and_submit_can_pick_it(penguins):
    store, stores, _, task, data, results = penguins
    board = run_cli("leaderboard", "penguins", "-f", "json", "--no-log", cwd=store.root)
    assert board.code == 0, board.err
    rows = {r["model"]: r for r in json.loads(board.out)}
    assert set(rows) == {*MODELS, "ensemble"}
    ensemble = rows["ensemble"]
    assert ensemble["family"] == "ensemble" and ensemble["rank"] is not None
    assert sum(ensemble["members"].values()) == pytest.approx(1.0)
    assert all(rows[m]["members"] == {} for m in MODELS)
    from harness.results.leaderboard import task_board
    from harness.results.submit import make_submission
    from harness.results.tables import render

    tracker = Tracker(stores)
    board = task_board(tracker, "penguins")
    table = render([board], None, "md")
    first = max(ensemble["members"], key=ensemble["members"].get)
    assert f"| ensemble ({first} " in table
    as_csv = {r["model"]: r for r in csv.DictReader(io.StringIO(render([board], None, "csv")))}
    assert json.loads(as_csv["ensemble"]["members"]) == pytest.approx(ensemble["members"])
    assert as_csv["linear"]["members"] == ""
    submission = make_submission(tracker, "penguins", "ensemble")
    assert submission.model == "ensemble" and submission.part == "holdout"
    assert len(submission.frame) == len(data.holdout_y)
    assert list(submission.frame.columns) == ["id", *(str(c) for c in data.classes)]


def test_shuffled_holdout_labels_leave_the_ensemble_weights_unchanged(penguins):
    _, stores, config, task, data, results = penguins
    tracker = Tracker(stores)
    members = results[:-1]
    real = run_ensemble.run_ensemble(task, data, config, tracker, run_study.Extras(), members)
    permuted = np.random.default_rng(0).permutation(data.holdout_y)
    assert (permuted != data.holdout_y).any()
    shuffled_data = replace(data, holdout_y=permuted)
    shuffled = run_ensemble.run_ensemble(
        task, shuffled_data, config, tracker, run_study.Extras(), members
    )
    assert real.status == shuffled.status == "ok"
    assert real.best_params == shuffled.best_params  # the weights never saw the holdout labels
    assert real.cv_mean == shuffled.cv_mean
    assert real.holdout != shuffled.holdout  # while the holdout score did


def test_a_rerun_takes_the_best_trials_predictions_from_the_earlier_run(penguins):
    _, stores, config, _, _, results = penguins
    _, _, again = harness_run.run(config, stores)  # every study already has its trials: none runs
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    for result in again[:-1]:
        assert result.trials_run == 0
        note = client.get_run(result.run_id).data.tags["harness.oof"]
        assert note.startswith("stored in run "), note
    assert again[-1].best_params == results[-1].best_params


def test_a_best_trial_with_no_stored_predictions_is_cross_validated_again_identically(penguins):
    _, stores, config, task, data, results = penguins
    tracker = Tracker(stores)
    model = registry.get_model("naive_bayes")
    best = tuning_studies.load_study(stores.storage_url, "penguins.naive_bayes")
    study = run_study.StudyRun(task, model, data, config, tracker, run_config.Reporter(), "cpu", 1)
    study.tags["harness.study_uid"] = "no-such-study"  # nothing stored under it
    try:
        oof, note = refit.best_oof(study, best.best_trial)
    finally:
        study.worker.close()
    assert note == "recomputed"
    stored = refit.load_array(tracker, results[2].run_id, "oof_predictions.npy")
    assert results[2].model == "naive_bayes" and np.array_equal(oof, stored)


def test_one_ok_study_skips_the_ensemble_with_a_reason_and_no_ensemble_runs_none(penguins):
    _, stores, config, *_ = penguins
    config = replace(config, models=("naive_bayes",))  # its trials are done: it only refits

    class Heard(run_config.Reporter):
        def __init__(self) -> None:
            self.finished: list[run_config.StudyResult] = []

        def study_finished(self, result: run_config.StudyResult) -> None:
            self.finished.append(result)

    heard = Heard()
    _, _, results = harness_run.run(config, stores, heard)
    assert [r.model for r in results] == ["naive_bayes"]  # a skipped ensemble is no result
    skipped = heard.finished[-1]
    assert skipped.model == "ensemble" and skipped.status == "skipped"
    assert "fewer than 2 studies ended ok with out-of-fold predictions (1)" in skipped.reason
    assert skipped.run_id is None  # nothing recorded
    heard = Heard()
    _, _, results = harness_run.run(replace(config, ensemble=False), stores, heard)
    assert [r.model for r in results] == [r.model for r in heard.finished] == ["naive_bayes"]


def test_time_ordered_folds_fit_the_weights_on_the_rows_that_have_out_of_fold_predictions(
    penguins, tmp_path
):
    from harness import run as harness_run
    from harness.contracts.task import Dataset, Task
    from harness.data.local import LocalTask
    from harness.run import config as run_config
    from harness.run import refit

    bunch = registry.get_task("diabetes").load()
    dataset = Dataset(
        X=bunch.X,
        y=bunch.y,
        feature_kinds=bunch.feature_kinds,
        times=pd.Series(np.arange(len(bunch.y))),
    )
    task = Task(
        name="diabetes_in_time",
        description="diabetes in row order as time",
        modality="tabular",
        problem_type="regression",
        metric="rmse",
        load=lambda: dataset,
        folds=4,
    )
    stores = penguins[1]  # the same store, another experiment
    config = run_config.RunConfig(task=task.name, models=("linear", "knn"), trials=1, n_jobs=1)
    _, data, results = harness_run.run(
        config, stores, local=LocalTask(task, dataset, source="test")
    )
    assert data.scheme == "time"
    assert results[-1].status == "ok", results[-1].reason
    (oof,) = refit.load_array(Tracker(stores), results[0].run_id, "oof_predictions.npy")  # 1 repeat
    first_block = len(data.y) - sum(len(valid) for _, valid in data.folds)
    assert first_block > 0 and np.isnan(oof[:first_block]).all()
    assert np.isfinite(oof[first_block:]).all()
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    with_rows = client.download_artifacts(results[-1].run_id, "ensemble.json", str(tmp_path))
    assert json.loads(open(with_rows).read())["rows_used"] == len(data.y) - first_block


def test_the_report_and_the_across_task_summary_take_the_ensemble_row(penguins, tmp_path):
    from harness.results import report
    from harness.results.leaderboard import task_board
    from harness.results.summary import summarize

    _, stores, *_ = penguins
    tracker = Tracker(stores)
    boards = [task_board(tracker, "penguins"), task_board(tracker, "diabetes_in_time")]
    summary = summarize(boards, bootstrap=20)
    assert "ensemble" in {r.model for r in summary.rows}
    page, twin = report.build(tracker, boards, summary, tmp_path / "report", log=False)
    text = twin.read_text()
    assert "| ensemble (" in text and "## Across tasks" in text


@pytest.mark.slow  # two CLI runs; in-process tests above cover ensemble=False and the skip
def test_run_no_ensemble_flag_leaves_the_ensemble_out(penguins):
    store, stores, *_ = penguins
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    experiment = client.get_experiment_by_name("penguins").experiment_id
    before = client.search_runs([experiment], "tags.`harness.kind` = 'ensemble'")
    models = [arg for m in MODELS for arg in ("--model", m)]
    result = run_cli(
        "run", "penguins", *models, "--trials", "2", "--folds", "3", "--no-ensemble",
        cwd=store.root,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "ensemble" not in result.out
    after = client.search_runs([experiment], "tags.`harness.kind` = 'ensemble'")
    assert len(after) == len(before)
    alone = run_cli("run", "penguins", "--model", "knn", "--trials", "2", "--folds", "3",
                    cwd=store.root)  # fmt: skip
    assert alone.code == 0, alone.err
    assert "Ensemble skipped: fewer than 2 studies ended ok" in " ".join(alone.err.split())


def test_a_kaggle_folder_gets_the_ensembles_test_predictions_in_the_samples_format(
    penguins, tmp_path
):
    import pandas as pd

    from harness import run as harness_run
    from harness.data.local import Options, load_path
    from harness.run import config as run_config
    from harness.run import refit
    from tests.userdata_tests.conftest import diabetes_frame, write_kaggle

    folder = write_kaggle(tmp_path / "sugar", diabetes_frame(), "target", "id", 0.0)
    local = load_path(str(folder), Options())
    stores = penguins[1]  # the same store, another experiment
    config = run_config.RunConfig(
        task=local.task.name, models=("linear", "knn"), trials=1, folds=3, n_jobs=1
    )
    _, _, results = harness_run.run(config, stores, local=local)
    ensemble = results[-1]
    assert ensemble.model == "ensemble" and ensemble.status == "ok", ensemble.reason
    sample = pd.read_csv(folder / "sample_submission.csv")
    assert list(ensemble.submission.columns) == list(sample.columns)
    assert ensemble.submission["id"].tolist() == sample["id"].tolist()
    tracker = Tracker(stores)
    members = {r.model: r for r in results[:-1]}
    blend = sum(
        w * refit.load_array(tracker, members[m].run_id, "test_predictions.npy")
        for m, w in ensemble.best_params.items()
    )
    own = refit.load_array(tracker, ensemble.run_id, "test_predictions.npy")
    assert np.allclose(own, blend)
    names = {a.path for a in tracker.client.list_artifacts(ensemble.run_id)}
    assert "submission.csv" in names


def test_on_breast_cancer_the_ensemble_has_no_baseline_and_probabilities_as_good_as_its_members(
    tmp_path,
):
    """Every tabular model: under ROC AUC the constant `dummy` used to take most of the weight
    (it changes no ranking) and ruin the blend's log loss; now it is never a member, and ties on
    ROC AUC are broken by log loss. The ensemble's CV is cross-fitted."""
    stores = _stores(tmp_path)
    config = run_config.RunConfig(task="breast_cancer", trials=1, folds=3, n_jobs=1)
    _, data, results = harness_run.run(config, stores)
    ensemble_result = results[-1]
    assert ensemble_result.model == "ensemble" and ensemble_result.status == "ok"
    run = _ensemble_run(stores, results)
    members = json.loads(run.data.tags["harness.ensemble_members"])
    assert "dummy" not in members and members
    assert "dummy left out: a baseline" in run.data.tags["harness.ensemble_notes"]
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    losses = {
        r.model: client.get_run(r.run_id).data.metrics["cv_log_loss_mean"]
        for r in results[:-1]
        if r.status == "ok" and r.model in members
    }
    assert run.data.metrics["cv_log_loss_mean"] <= 1.10 * min(losses.values()), (members, losses)


def test_an_ensemble_whose_member_was_tuned_again_is_stale_and_the_run_says_so(cli, store):
    common = ("--trials", "1", "--folds", "3", "--jobs", "1")
    first = cli("run", "penguins", "-m", "linear", "-m", "naive_bayes", *common)
    assert first.code == 0, first.err
    before = cli("leaderboard", "penguins", "--format", "json", "--no-log")
    rows = {row["model"]: row for row in json.loads(before.out)}  # one task: its rows
    member = max(rows["ensemble"]["members"], key=rows["ensemble"]["members"].get)
    again = cli("run", "penguins", "-m", member, "--trials", "2", "--folds", "3")
    assert again.code == 0, again.err
    assert "The task's ensemble (" in again.err
    assert f"is stale: {member} was tuned again since" in again.err
    board = cli("leaderboard", "penguins", "--format", "json")
    assert board.code == 0, board.err
    rows = {row["model"]: row for row in json.loads(board.out)}
    assert rows["ensemble"]["status"] == "stale" and rows["ensemble"]["rank"] is None
    assert rows["naive_bayes"]["rank"] is not None and rows["linear"]["rank"] is not None
    # the MLflow UI's filter of current runs shows the same rows: the member's new study run
    # supersedes its first one, and the (stale) ensemble stays the board's
    client = MlflowClient(tracking_uri=store.tracking_uri)
    experiment_id = client.get_experiment_by_name("penguins").experiment_id
    studies = client.search_runs(
        [experiment_id],
        f"tags.`harness.kind` = 'study' and tags.`harness.model` = '{member}'",
        order_by=["attributes.start_time DESC"],
    )
    assert [r.data.tags["harness.current"] for r in studies] == ["true", "false"]
    current = client.search_runs([experiment_id], "tags.`harness.current` = 'true'")
    assert {r.info.run_id for r in current} == {row["run_id"] for row in rows.values()} | {
        r.info.run_id for r in current if r.data.tags["harness.kind"] == "leaderboard"
    }
    assert sorted(r.data.tags["harness.kind"] for r in current) == [
        "ensemble", "leaderboard", "study", "study",
    ]  # fmt: skip
