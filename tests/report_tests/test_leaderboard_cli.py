"""`harness leaderboard` on a real three-task store: per-task tables with significance marks, the
across-task summary, every format, and the leaderboard runs it logs to MLflow."""

from __future__ import annotations

import csv
import io
import json

import pytest
from mlflow.tracking import MlflowClient

from tests.report_tests.conftest import TASKS


def test_without_task_names_every_task_is_shown_then_the_summary(board_cli):
    result = board_cli("leaderboard")
    assert result.code == 0, result.err
    for task in TASKS:
        assert f"Leaderboard: {task}" in result.out
    assert "Across tasks (cv scores)" in result.out
    assert "leader" in result.out and "worse p" in result.out
    # three tasks are too few for the Friedman test: a one-line note says so
    assert "Friedman test and critical difference not shown: 3 tasks" in result.out
    assert "Nadeau-Bengio corrected resampled t-test" in result.out


def test_json_has_each_task_ranked_with_p_values_and_the_summary(board_cli):
    result = board_cli("leaderboard", *TASKS, "--format", "json", "--no-log")
    assert result.code == 0, result.err
    payload = json.loads(result.out)
    assert set(payload["tasks"]) == set(TASKS)
    for task, rows in payload["tasks"].items():
        assert [r["rank"] for r in rows] == [1, 2, 3], task
        leader = rows[0]
        assert leader["p_value"] == 1.0 and leader["not_worse"] is True
        assert all(r["folds"] == 5 for r in rows)
        assert all(r["gap"] == pytest.approx(r["holdout"] - r["cv_mean"]) for r in rows)
        assert all(r["predict_seconds_per_1000"] is not None for r in rows)
        dummy = next(r for r in rows if r["model"] == "dummy")
        assert dummy["rank"] == 3 and dummy["not_worse"] is False and dummy["p_value"] < 0.05
    summary = payload["summary"]
    assert summary["basis"] == "cv" and summary["tasks"] == list(TASKS)
    by_model = {r["model"]: r for r in summary["rows"]}
    assert set(by_model) == {"dummy", "linear", "random_forest"}
    dummy = by_model["dummy"]
    assert dummy["mean_rank"] == 3.0 and dummy["normalized"] == 0.0 and dummy["wins"] == 0
    assert sum(r["wins"] for r in by_model.values()) >= 3
    for row in by_model.values():
        assert row["tasks_ok"] == 3 and row["tasks_failed"] == 0 and row["tasks_missing"] == 0
        assert row["elo_low"] <= row["elo"] <= row["elo_high"]
    assert by_model["dummy"]["elo"] < min(
        by_model["linear"]["elo"], by_model["random_forest"]["elo"]
    )
    best = max(by_model.values(), key=lambda r: r["normalized"])
    assert best["normalized"] <= 1.0 and best["mean_rank"] == min(
        r["mean_rank"] for r in by_model.values()
    )
    assert summary["friedman"] is None  # fewer than 5 tasks
    assert any("need at least 5" in note for note in summary["notes"])


def test_one_task_keeps_its_plain_list_and_holdout_basis_is_accepted(board_cli):
    rows = json.loads(board_cli("leaderboard", "penguins", "-f", "json", "--no-log").out)
    assert isinstance(rows, list) and rows[0]["metric"] == "log_loss"
    holdout = board_cli(
        "leaderboard", "penguins", "ames", "--by", "holdout", "-f", "md", "--no-log"
    )
    assert holdout.code == 0, holdout.err
    assert "every statistic uses holdout scores" in holdout.out


def test_csv_md_and_html_formats_carry_every_column(board_cli):
    text = board_cli("leaderboard", "breast_cancer", "ames", "-f", "csv", "--no-log").out
    tasks_part, summary_part = text.split("\n\n")
    rows = list(csv.DictReader(io.StringIO(tasks_part)))
    assert len(rows) == 6 and {r["task"] for r in rows} == {"breast_cancer", "ames"}
    assert list(rows[0])[:4] == ["rank", "model", "family", "status"]
    for key in ("gap", "p_value", "not_worse", "predict_seconds_per_1000", "device", "trials"):
        assert key in rows[0]
    summary = list(csv.DictReader(io.StringIO(summary_part)))
    assert {r["model"] for r in summary} == {"dummy", "linear", "random_forest"}
    assert "elo_low" in summary[0]

    md = board_cli("leaderboard", "breast_cancer", "-f", "md", "--no-log").out
    assert md.startswith(
        "| rank | model | family | CV roc_auc ± fold sd | 95% CI of CV mean | vs leader | "
        "holdout roc_auc | gap | log_loss CV / holdout |"
    )
    page = board_cli("leaderboard", "breast_cancer", "penguins", "-f", "html", "--no-log").out
    assert page.startswith("<!DOCTYPE html>") and "<h2>Across tasks</h2>" in page
    assert '<td class="nw">leader</td>' in page  # a value on one line


def test_the_leaderboard_is_logged_as_one_leaderboard_run_per_task_that_study_readers_ignore(
    board_cli, board_store
):
    for _ in range(2):
        assert board_cli("leaderboard", "penguins", "-f", "json", "--log").code == 0
    client = MlflowClient(tracking_uri=board_store.tracking_uri)
    experiment = client.get_experiment_by_name("penguins")
    runs = client.search_runs(
        [experiment.experiment_id], "tags.`harness.kind` = 'leaderboard'", max_results=10
    )
    assert len(runs) == 1, "a second call updates the task's leaderboard run"
    run = runs[0]
    assert run.info.run_name == "leaderboard" and run.data.tags["harness.leader"]
    names = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"leaderboard.csv", "leaderboard.json", "leaderboard.md", "leaderboard.html"} <= names
    rows = json.loads(board_cli("leaderboard", "penguins", "-f", "json", "--no-log").out)
    assert len(rows) == 3 and all(r["status"] == "ok" for r in rows)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("leaderboard", "amse"), 1, "Error: Unknown task 'amse'. Did you mean 'ames'?"),
        (("leaderboard", "wa_churn"), 1, "No runs of task 'wa_churn'"),
        (
            ("leaderboard", "ames", "--format", "pdf"),
            2,
            "--format must be one of table, md, csv, json, html; got 'pdf'",
        ),
        (("leaderboard", "--by", "test"), 2, "--by must be one of cv, holdout; got 'test'"),
        (("report", "pengiuns"), 1, "Did you mean 'penguins'?"),
        (("report", "wa_churn", "--out", "rep"), 1, "No runs of task 'wa_churn'"),
        (("report", "--by", "x"), 2, "--by must be one of cv, holdout"),
        (("explore", "amse"), 1, "Did you mean 'ames'?"),
        (("ui", "--port", "0"), 2, "--port must be between 1 and 65535; got 0."),
        (("ui", "ames", "--port", "65536"), 2, "--port must be between 1 and 65535; got 65536."),
        (
            ("ui", "brest_cancer"),
            1,
            "Error: Unknown task 'brest_cancer'. Did you mean 'breast_cancer'? 'harness ui' "
            "without a task lists every experiment",
        ),
        (
            ("ui", "wa_churn"),
            1,
            "Error: No runs of task 'wa_churn' in the MLflow store 'sqlite:///",
        ),
    ],
)
def test_bad_input_to_the_reporting_commands_is_refused(board_cli, args, code, message):
    result = board_cli(*args)
    assert result.code == code, (result.out, result.err)
    assert message in result.err and "Traceback" not in result.err


def test_commands_on_an_empty_folder_say_there_is_no_store(cli):
    for args in (("leaderboard",), ("report",), ("ui",)):
        result = cli(*args)
        assert result.code == 1, args
        assert "No MLflow store at" in result.err and "harness run TASK" in result.err


def test_a_report_into_an_unwritable_folder_is_refused_before_any_work(board_cli, board_store):
    blocker = board_store.root / "a-file"
    blocker.write_text("not a folder")
    result = board_cli("report", "--out", str(blocker / "report"))
    assert result.code == 1
    assert f"Cannot write the report to '{blocker / 'report'}'" in result.err
    assert "Pass a writable folder with --out." in result.err


def test_a_task_made_from_the_users_own_csv_has_a_leaderboard_and_a_report(cli, store):
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame.to_csv(store.root / "flowers.csv", index=False)
    run = cli("run", "flowers.csv", "--target", "target", "-m", "dummy", "-m", "linear",
              "--trials", "1", "--no-ensemble")  # fmt: skip
    assert run.code == 0, run.err
    rows = json.loads(cli("leaderboard", "flowers", "-f", "json").out)
    assert [r["model"] for r in rows] == ["linear", "dummy"] and rows[1]["not_worse"] is False
    assert "Unknown task 'flowrs'" in cli("leaderboard", "flowrs").err
    ui = cli("ui", "flowrs")  # the closest task of the store, not only of the registry
    assert ui.code == 1 and "Unknown task 'flowrs'. Did you mean 'flowers'?" in ui.err
    # its runs name the user's file as their data's source (MLflow's local dataset source)
    client = MlflowClient(tracking_uri=store.tracking_uri)
    experiment_id = client.get_experiment_by_name("flowers").experiment_id
    (linear,) = client.search_runs(
        [experiment_id], "tags.`harness.model` = 'linear' and tags.`harness.kind` = 'study'"
    )
    path = str((store.root / "flowers.csv").resolve())
    sources = {(i.dataset.source_type, i.dataset.source) for i in linear.inputs.dataset_inputs}
    assert sources == {("local", json.dumps({"uri": path}))}
    assert linear.data.tags["mlflow.note.content"].endswith(
        f"Data: flowers, 120 training rows and 30 holdout rows, 4 features; source: {path}."
    )
    report = cli("report", "flowers", "--out", "rep", "--no-log")
    assert report.code == 0, report.err
    assert "Task: flowers" in (store.root / "rep" / "report.html").read_text()


def test_read_commands_write_nothing_to_the_store_unless_asked(board_cli, board_store):
    """`leaderboard`, `report`, `submit` and `show` read a shared or read-only store without
    touching it; `--log` is how a user asks for the leaderboard run and the plots in MLflow."""
    import hashlib
    import sqlite3

    def content(path) -> bytes:
        if path.suffix != ".db":
            return path.read_bytes()
        # a database's rows, not its pages: reading may checkpoint an earlier writer's WAL
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return "\n".join(db.iterdump()).encode()

    def snapshot() -> dict[str, str]:
        root = board_store.root / "mlruns"
        return {
            str(path.relative_to(root)): hashlib.sha256(content(path)).hexdigest()
            for path in sorted(root.rglob("*"))
            if path.is_file() and not path.name.endswith(("-wal", "-shm"))
        }

    before = snapshot()
    for args in (
        ("leaderboard",),
        ("leaderboard", "penguins", "-f", "md"),
        ("report", "breast_cancer", "--out", "read-only-report"),
        ("submit", "penguins", "--out", "penguins.csv"),
        ("show", "penguins"),
    ):
        result = board_cli(*args)
        assert result.code == 0, (args, result.err)
    assert snapshot() == before
    assert board_cli("leaderboard", "ames", "--log", "-f", "json").code == 0
    assert snapshot() != before  # asked: the leaderboard run is written
