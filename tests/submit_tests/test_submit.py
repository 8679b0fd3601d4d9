"""`harness submit` writes the stored predictions of the leader (or a named model) as a file."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def penguins_store(tmp_path_factory):
    """One `harness run` of two models on penguins, shared by the tests of this module."""
    from tests.conftest import run_cli

    root = tmp_path_factory.mktemp("submit")
    result = run_cli(
        "run", "penguins", "-m", "dummy", "-m", "linear", "--trials", "1", "--no-ensemble", cwd=root
    )
    assert result.code == 0, result.err
    return root


def test_the_leaders_holdout_predictions_become_one_probability_column_per_class(penguins_store):
    from tests.conftest import run_cli

    result = run_cli("submit", "penguins", "--out", "out/sub.csv", cwd=penguins_store)
    assert result.code == 0, result.err
    assert "rows of the holdout (no test part) from linear" in " ".join(result.err.split())
    submission = pd.read_csv(penguins_store / "out" / "sub.csv")
    assert list(submission.columns) == ["id", "Adelie", "Chinstrap", "Gentoo"]
    assert len(submission) == 69  # the 20% holdout of 344 rows
    rows = submission[["Adelie", "Chinstrap", "Gentoo"]].sum(axis=1)
    assert rows.sub(1).abs().max() < 1e-6


def test_a_named_model_is_submitted_and_misspelt_or_missing_ones_are_refused(penguins_store):
    from tests.conftest import run_cli

    named = run_cli("submit", "penguins", "-m", "dummy", "-o", "dummy.csv", cwd=penguins_store)
    assert named.code == 0, named.err
    dummy = pd.read_csv(penguins_store / "dummy.csv")
    assert dummy["Adelie"].nunique() == 1  # the prior, the same for every row

    typo = run_cli("submit", "penguins", "-m", "linaer", cwd=penguins_store)
    assert typo.code == 1
    assert "Model 'linaer' has no study on task 'penguins'. Did you mean 'linear'?" in typo.err
    folder = run_cli("submit", "penguins", "--out", str(penguins_store), cwd=penguins_store)
    assert folder.code == 2
    assert "is a folder; give a file name such as submission.csv" in folder.err
    for result in (typo, folder):
        assert "Traceback" not in result.err


def test_submitting_without_runs_says_to_run_first(cli):
    result = cli("submit", "penguins")
    assert result.code == 1
    assert "No runs of task 'penguins'" in result.err and "Run 'harness run penguins'" in result.err


def test_harness_run_logs_the_tasks_leaderboard_run_with_its_table(penguins_store):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{penguins_store / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("penguins")
    (board,) = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`harness.kind` = 'leaderboard'"
    )
    assert board.data.tags["harness.leader"] == "linear"
    assert board.info.status == "FINISHED"
    names = {a.path for a in client.list_artifacts(board.info.run_id)}
    assert {"leaderboard.csv", "leaderboard.json", "leaderboard.md", "leaderboard.html"} <= names
