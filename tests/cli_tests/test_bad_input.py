"""Every bad input is refused with a message that says what to do, the right exit code, and no
traceback; a model that fails inside fit is recorded as a failed study while the run goes on."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("run", "breast_cancr"),
            1,
            "Error: Unknown task 'breast_cancr'. Did you mean 'breast_cancer'? "
            "See 'harness list tasks'.",
        ),
        (
            ("run", "ames", "--model", "xgbost"),
            1,
            "Error: Unknown model 'xgbost'. Did you mean 'xgboost'? See 'harness list models'.",
        ),
        (("leaderboard", "pengiuns"), 1, "Did you mean 'penguins'?"),
        (("run", "ames", "--trials", "0"), 2, "Error: --trials must be at least 1, got 0."),
        (("run", "ames", "--trials", "-3"), 2, "Error: --trials must be at least 1, got -3."),
        (("run", "ames", "--folds", "1"), 2, "Error: --folds must be at least 2, got 1."),
        (("run", "ames", "--timeout", "0"), 2, "--timeout must be a positive number of seconds"),
        (
            ("run", "ames", "--tracking-uri", "ftp://host/x"),
            2,
            "Malformed tracking URI 'ftp://host/x': scheme 'ftp' is not one of",
        ),
        (("run", "ames", "--tracking-uri", "sqlite:/x.db"), 2, "Malformed tracking URI"),
        (
            ("run", "ames", "--tracking-uri", "./mlruns"),
            2,
            "is a plain folder; MLflow 3 needs a database store",
        ),
        (
            ("run", "ames", "--storage", "redis://localhost"),
            2,
            "Malformed Optuna storage 'redis://localhost'",
        ),
        (
            ("run", "ames", "--tracking-uri", "postgresql://bob:hunter2@/db"),
            2,
            "'postgresql://bob:***@/db': it names no host",
        ),
        (("leaderboard", "ames", "--format", "xml"), 2, "--format must be one of table, md"),
        (
            ("leaderboard", "ames", "--tracking-uri", "databricks"),
            1,
            "Error: Cannot use the MLflow store 'databricks'",
        ),
        (("leaderboard", "wa_churn"), 1, "No runs of task 'wa_churn'"),
    ],
)
def test_bad_input_is_refused_with_message_and_exit_code(cli, store, args, code, message):
    result = cli(*args)
    assert result.code == code, (result.out, result.err)
    assert message in result.err
    assert "Traceback" not in result.err
    assert "hunter2" not in result.err + result.out
    assert not (store.root / "mlruns").exists()  # nothing written for a refused command


def test_an_unwritable_store_path_is_refused_before_any_work(cli, store):
    blocker = store.root / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    result = cli("run", "ames", "--tracking-uri", f"sqlite:///{blocker}/mlflow.db")
    assert result.code == 1
    assert f"Cannot create the folder '{blocker}' for the MLflow store" in result.err
    assert "Pass a writable location with --tracking-uri." in result.err
    assert not (store.root / "mlruns").exists()


def test_a_model_asked_for_by_name_that_cannot_handle_the_task_is_an_error(cli, plugin_site):
    result = cli(
        "run",
        "breast_cancer",
        "--model",
        "ridge_only",
        env=plugin_site({"ridge_only": "extra_plugins:REGRESSION_ONLY"}),
    )
    assert result.code == 1
    assert (
        "Error: Task 'breast_cancer' is tabular binary, and model 'ridge_only' does not "
        "support binary tasks (supports regression)."
    ) in result.err


def test_the_default_model_set_skips_unfit_models_and_survives_a_failing_one(cli, plugin_site):
    env = plugin_site(
        {
            "ridge_only": "extra_plugins:REGRESSION_ONLY",
            "exploding": "extra_plugins:EXPLODING",
        }
    )
    result = cli(
        "run", "breast_cancer", "--trials", "1", "--model", "exploding", "--model", "dummy", env=env
    )
    assert result.code == 3, result.err
    err = " ".join(result.err.split())
    assert "1 of 2 studies failed: exploding (failed): RuntimeError: boom: the solver" in err
    assert "Traceback" not in result.err

    board = json.loads(cli("leaderboard", "breast_cancer", "--format", "json", env=env).out)
    by_model = {r["model"]: r for r in board}
    assert by_model["dummy"]["status"] == "ok" and by_model["dummy"]["rank"] == 1
    assert by_model["exploding"]["status"] == "failed" and by_model["exploding"]["rank"] is None
    assert "boom: the solver diverged" in by_model["exploding"]["reason"]


def test_models_that_do_not_fit_are_skipped_with_their_reason(installed_plugins):
    from harness import run as harness_run
    from harness.registry import get_task

    installed_plugins({"ridge_only": "extra_plugins:REGRESSION_ONLY"})
    chosen = {
        m.name: reason for m, reason in harness_run.select_models(get_task("breast_cancer"), ())
    }
    assert chosen["ridge_only"] == (
        "model 'ridge_only' does not support binary tasks (supports regression)"
    )
    assert chosen["xgboost"] is None


def test_a_budget_that_ends_before_any_trial_is_a_failed_run(cli, store):
    result = cli("run", "penguins", "--budget", "0.1s", "-m", "dummy", "--folds", "3")
    assert result.code == 3, (result.out, result.err)
    err = " ".join(result.err.split())
    assert (
        "The budget of 0.1 s ended before any model finished a trial (loading the data and "
        "opening the stores count); give a larger --budget."
    ) in err
    assert "Traceback" not in result.err


def _sqlite_file(path, *, damage: str) -> None:
    """A SQLite file of a few pages, then truncated to half or with garbage inside."""
    import sqlite3

    connection = sqlite3.connect(path)
    connection.execute("create table t (x)")
    connection.executemany("insert into t values (?)", [("x" * 500,)] * 100)
    connection.commit()
    connection.close()
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:  # a sound header, the schema page scribbled over
        data[100:400] = b"\xfe" * 300
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("garbage", "file is not a database (it does not start with SQLite's header)"),
        ("truncated", "the database file is truncated (30,720 bytes of the 61,440 its header"),
        ("scribbled", "(sqlite3.DatabaseError) database disk image is malformed"),
    ],
)
def test_a_corrupt_mlflow_db_is_refused_and_leaves_nothing_behind(
    harness_main, store, damage, message
):
    folder = store.root / "mlruns"
    folder.mkdir()
    db = folder / "mlflow.db"
    if damage == "garbage":
        db.write_text("this is not a database\n" * 10)
    else:
        _sqlite_file(db, damage=damage)
    before = sorted(p.relative_to(store.root) for p in store.root.rglob("*"))
    code, err = harness_main("run", "penguins", "-m", "dummy", "--trials", "1", "--folds", "3")
    assert code == 1, err
    assert f"Error: Cannot open the MLflow store 'sqlite:///{db}': {message}" in err
    assert "Traceback" not in err
    assert sorted(p.relative_to(store.root) for p in store.root.rglob("*")) == before


def test_a_corrupt_optuna_db_is_refused_before_anything_is_written(harness_main, store):
    (store.root / "mlruns").mkdir()
    (store.root / "mlruns" / "optuna.db").write_bytes(b"\x00garbage" * 20)
    code, err = harness_main("run", "penguins", "-m", "dummy", "--trials", "1", "--folds", "3")
    assert code == 1, err
    assert "Cannot open the Optuna storage" in err and "file is not a database" in err
    assert sorted(p.name for p in (store.root / "mlruns").iterdir()) == ["optuna.db"]


@pytest.mark.parametrize("command", ["leaderboard", "submit", "worker"])
def test_every_command_refuses_a_corrupt_mlflow_db_without_a_lock_file(
    harness_main, store, command
):
    (store.root / "mlruns").mkdir()
    (store.root / "mlruns" / "mlflow.db").write_text("not a database")
    args = ("--model", "dummy", "--trials", "1") if command == "worker" else ()
    code, err = harness_main(command, "penguins", *args)
    assert code == 1, err
    assert "Cannot open the MLflow store" in err and "file is not a database" in err
    assert sorted(p.name for p in store.root.rglob("*")) == ["mlflow.db", "mlruns"]
