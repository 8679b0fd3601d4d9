"""The bad-input matrix: every refused command says what was wrong and what to do, exits 1 (an
error) or 2 (bad usage), prints no traceback, and leaves no store behind.

The commands run in this process through the CLI's entry point, in an empty project folder.
"""

from __future__ import annotations

import pytest

CASES = [
    # (arguments, exit code, part of the message)
    ("run ams", 1, "Unknown task 'ams'. Did you mean 'ames'? See 'harness list tasks'."),
    ("run breast_cancer --model xgbost", 1, "Unknown model 'xgbost'. Did you mean 'xgboost'?"),
    ("run ames --model naive_bayes", 1, "model 'naive_bayes' does not support regression tasks"),
    ("run breast_cancer --trials 0", 2, "--trials must be at least 1, got 0."),
    ("run breast_cancer --folds 1", 2, "--folds must be at least 2, got 1."),
    ("run breast_cancer --timeout -5", 2, "--timeout must be a positive number of seconds"),
    ("run breast_cancer --jobs 0", 2, "--jobs must be at least 1, got 0."),
    ("run breast_cancer --repeats 0", 2, "--repeats must be at least 1, got 0."),
    ("run breast_cancer --trial-timeout 0", 2, "--trial-timeout must be a positive number"),
    ("run breast_cancer --memory-limit lots", 2, "--memory-limit must be a size such as 4G"),
    ("run breast_cancer --memory-limit 10M", 2, "--memory-limit must be at least 64 MiB"),
    ("run breast_cancer --trials many", 2, "Invalid value for '--trials'"),
    ("run breast_cancer --bogus-flag", 2, "No such option: --bogus-flag"),
    ("run breast_cancer --tracking-uri ./folder", 2, "is a plain folder; MLflow 3 needs a"),
    ("run breast_cancer --tracking-uri sqlite:///", 2, "it must name a database file"),
    ("run breast_cancer --storage ftp://host/db", 2, "scheme 'ftp' is not one of sqlite"),
    ("run breast_cancer --storage journal:///", 2, "a journal storage is a folder"),
    ("run breast_cancer --storage journal://host/x", 2, "a journal storage is a folder"),
    ("run breast_cancer --storage journal:///x/a.journal", 2, "a journal storage is a folder"),
    (
        "run breast_cancer --model dummy --storage journal:////proc/harness",
        1,
        "Cannot create the folder '/proc/harness' for the Optuna storage",
    ),
    (
        "run breast_cancer --model dummy --tracking-uri sqlite:////proc/harness/mlflow.db",
        1,
        "Cannot create the folder '/proc/harness' for the MLflow store",
    ),
    ("run breast_cancer --target y", 2, "--target applies only to your own data"),
    ("run penguins --folds 400", 1, "the rarest class has 54 training rows, fewer than --folds"),
    ("run titanic --time nosuch", 2, "--time applies only to your own data"),
    ("run ./no_such_folder", 1, "No such file or folder: './no_such_folder'"),
    ("leaderboard nosuch", 1, "Unknown task 'nosuch'."),
    ("leaderboard breast_cancer", 1, "No runs of task 'breast_cancer'"),
    ("leaderboard breast_cancer --format xml", 2, "--format must be one of table, md, csv"),
    ("leaderboard breast_cancer --by test", 2, "--by must be one of cv, holdout; got 'test'."),
    ("report breast_cancer --out /proc/nope", 1, "Cannot write the report to '/proc/nope'"),
    ("show nosuch", 1, "Unknown task 'nosuch'."),
    ("explore nosuch", 1, "Unknown task 'nosuch'."),
    ("submit breast_cancer", 1, "No runs of task 'breast_cancer'"),
    ("list widgets", 2, "No such command 'widgets'."),
    (
        "run breast_cancer --model dummy --storage postgresql://harness:secret@127.0.0.1:1/optuna",
        1,
        "The server of the Optuna storage 'postgresql://harness:***@127.0.0.1:1/optuna' is not "
        "reachable at 127.0.0.1:1",
    ),
    (
        "run breast_cancer --model dummy --tracking-uri http://127.0.0.1:1",
        1,
        "The server of the tracking URI 'http://127.0.0.1:1' is not reachable at 127.0.0.1:1",
    ),
    (
        "run breast_cancer --model dummy --storage postgresql://u:secret@db.example:port/x",
        2,
        "Malformed Optuna storage 'postgresql://u:***@db.example:port/x': the port is not a number",
    ),
    ("worker nosuch", 1, "Unknown task 'nosuch'."),
    ("worker breast_cancer --model xgbost", 1, "Unknown model 'xgbost'. Did you mean 'xgboost'?"),
    ("worker breast_cancer --trials 0", 2, "--trials must be at least 1, got 0."),
    ("worker breast_cancer --storage ftp://host/db", 2, "scheme 'ftp' is not one of sqlite"),
    (
        "worker breast_cancer --model dummy --storage postgresql://harness:secret@127.0.0.1:1/optuna",
        1,
        "The server of the Optuna storage 'postgresql://harness:***@127.0.0.1:1/optuna' is not "
        "reachable",
    ),
    (
        "worker breast_cancer --model dummy --tracking-uri http://u:secret@127.0.0.1:1",
        1,
        "The server of the tracking URI 'http://u:***@127.0.0.1:1' is not reachable",
    ),
    ("ui --port 0", 2, "--port must be between 1 and 65535; got 0."),
    # seeds: NumPy and scikit-learn take 0 to 2**32 - 1
    (
        "run breast_cancer --seed -1",
        2,
        "--seed must be between 0 and 2**32 - 1 (4294967295), got -1.",
    ),
    ("run breast_cancer --seed 4294967296", 2, "--seed must be between 0 and 2**32 - 1"),
    ("worker breast_cancer --seed -1", 2, "--seed must be between 0 and 2**32 - 1"),
    ("explore breast_cancer --seed 4294967296", 2, "--seed must be between 0 and 2**32 - 1"),
    # integer flags: negative, zero and huge
    ("run breast_cancer --folds -3", 2, "--folds must be at least 2, got -3."),
    ("run breast_cancer --repeats -1", 2, "--repeats must be at least 1, got -1."),
    ("run breast_cancer --repeats 101", 2, "--repeats must be at most 100, got 101."),
    ("run breast_cancer --trials 100001", 2, "--trials must be at most 100,000, got 100001"),
    ("run breast_cancer --trials 99999999999999999999", 2, "--trials must be at most 100,000"),
    ("worker breast_cancer --trials 100001", 2, "--trials must be at most 100,000"),
    ("run breast_cancer --workers 0", 2, "--workers must be at least 1, got 0."),
    ("run breast_cancer --workers -2", 2, "--workers must be at least 1, got -2."),
    ("run breast_cancer --workers 99999", 2, "--workers 99999 is more than the"),
    ("run breast_cancer --jobs -1", 2, "--jobs must be at least 1, got -1."),
    ("run breast_cancer --jobs 99999999999999999999", 2, "--jobs 99999999999999999999 is more"),
    ("worker breast_cancer --jobs 99999", 2, "--jobs 99999 is more than the"),
    # durations and sizes: NaN, inf, zero and negative
    ("run breast_cancer --trial-timeout nan", 2, "--trial-timeout must be a positive number"),
    ("run breast_cancer --trial-timeout inf", 2, "got inf; to have no limit, leave it out."),
    ("run breast_cancer --trial-timeout -1", 2, "--trial-timeout must be a positive number"),
    ("run breast_cancer --timeout nan", 2, "--timeout must be a positive number of seconds"),
    ("run breast_cancer --timeout inf", 2, "--timeout must be a positive number of seconds"),
    ("run breast_cancer --timeout 0", 2, "--timeout must be a positive number of seconds"),
    ("worker breast_cancer --trial-timeout nan", 2, "--trial-timeout must be a positive number"),
    ("worker breast_cancer --timeout inf", 2, "--timeout must be a positive number of seconds"),
    ("run breast_cancer --budget nan", 2, "--budget must be a duration such as 90, 90s"),
    ("run breast_cancer --budget inf", 2, "--budget must be a duration such as 90, 90s"),
    ("run breast_cancer --budget -5m", 2, "--budget must be a duration such as 90, 90s"),
    ("run breast_cancer --budget 0s", 2, "--budget must be more than 0 seconds; got '0s'."),
    ("run breast_cancer --budget " + "9" * 400, 2, "--budget must be a finite number of seconds"),
    ("run breast_cancer --memory-limit nan", 2, "--memory-limit must be a finite size such as"),
    ("run breast_cancer --memory-limit nanG", 2, "--memory-limit must be a finite size such as"),
    ("run breast_cancer --memory-limit infG", 2, "--memory-limit must be a finite size such as"),
    ("run breast_cancer --memory-limit 1e400", 2, "--memory-limit must be a finite size such as"),
    ("run breast_cancer --memory-limit 0G", 2, "--memory-limit must be positive; got '0G'."),
    ("run breast_cancer --memory-limit -2G", 2, "--memory-limit must be positive; got '-2G'."),
    ("worker breast_cancer --memory-limit nanG", 2, "--memory-limit must be a finite size"),
]


@pytest.mark.parametrize(("args", "code", "message"), CASES, ids=[c[0][:80] for c in CASES])
def test_a_bad_input_is_refused_with_its_reason_and_leaves_no_store(
    harness_main, store, args, code, message
):
    got, err = harness_main(*args.split())
    assert got == code, err
    assert message in err, err
    assert "Traceback" not in err
    assert "secret" not in err  # passwords in store URLs are masked
    assert not (store.root / "mlruns").exists()
    assert not (store.root / "submissions").exists()
    assert not (store.root / "harness-report").exists()
