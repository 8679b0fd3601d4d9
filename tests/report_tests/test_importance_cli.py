"""`harness importance` and the report's importance figure, end to end: a real run logs its
models, the command reloads the leader's and permutes the holdout rebuilt from the task's data."""

from __future__ import annotations

import json

import pytest
from mlflow import MlflowClient

from tests.conftest import Store, run_cli


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Store:
    """breast_cancer with linear and xgboost (1 trial each) and their ensemble."""
    store = Store(tmp_path_factory.mktemp("importance"))
    result = run_cli("run", "breast_cancer", "-m", "linear", "-m", "xgboost", "--trials", "1",
                     cwd=store.root)  # fmt: skip
    assert result.code == 0, result.err
    return store


def _runs(store: Store) -> dict:
    client = MlflowClient(store.tracking_uri)
    experiment = client.get_experiment_by_name("breast_cancer").experiment_id
    runs = client.search_runs([experiment])
    kinds = ("study", "ensemble")
    return {
        r.data.tags["harness.model"]: r for r in runs if r.data.tags.get("harness.kind") in kinds
    }, client


def test_the_leaders_importance_is_computed_on_the_holdout_and_stored(trained):
    result = run_cli("importance", "breast_cancer", "--top", "5", cwd=trained.root)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["#", "feature", "importance", "±", "std"]
    assert [line.split()[0] for line in lines[1:6]] == ["1", "2", "3", "4", "5"]
    assert "... 25 more features (--top 30 lists all)" in result.out
    assert "holdout rows, 5 shuffles per feature" in " ".join(result.out.split())

    runs, client = _runs(trained)
    leader = json.loads(run_cli("leaderboard", "breast_cancer", "-f", "json", "--no-log",
                                cwd=trained.root).out)[0]  # fmt: skip
    stored_in = runs[leader["model"]]
    path = client.download_artifacts(stored_in.info.run_id, "importance.json", str(trained.root))
    stored = json.loads(open(path).read())
    # the unshuffled score of the reloaded model is the holdout score the board shows
    assert stored["baseline"] == pytest.approx(leader["holdout"], rel=1e-9)
    assert stored["rows"] == 114 and stored["repeats"] == 5 and len(stored["features"]) == 30
    values = [f["importance"] for f in stored["features"]]
    assert values == sorted(values, reverse=True) and values[0] > 0

    # the stored result is read back, not recomputed (same numbers, no new artifact needed)
    again = run_cli("importance", "breast_cancer", "--top", "5", cwd=trained.root)
    assert again.out == result.out


def test_a_named_model_and_a_csv_file(trained, tmp_path):
    out = tmp_path / "xgb.csv"
    result = run_cli("importance", "breast_cancer", "--model", "xgboost", "--repeats", "2",
                     "--out", str(out), cwd=trained.root)  # fmt: skip
    assert result.code == 0, result.err
    assert "Permutation importance of xgboost" in " ".join(result.out.split())
    assert "2 shuffles per feature" in " ".join(result.out.split())
    header = out.read_text().splitlines()[0]
    assert header == "feature,importance,std" and len(out.read_text().splitlines()) == 31


def test_the_report_shows_the_leaders_importance(trained, tmp_path):
    result = run_cli("report", "breast_cancer", "--out", str(tmp_path / "r"), cwd=trained.root)
    assert result.code == 0, result.err
    markdown = (tmp_path / "r" / "report.md").read_text()
    assert "Permutation importance of the leader" in markdown
    assert any(p.name.endswith("_importance.png") for p in (tmp_path / "r" / "img").iterdir())


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--model", "xgbost"], 1, "Model 'xgbost' has no study on task 'breast_cancer'. Did "
                                   "you mean 'xgboost'?"),
        (["--repeats", "0"], 2, "--repeats must be at least 1; got 0."),
        (["--top", "0"], 2, "--top must be at least 1; got 0."),
        (["--out", "."], 2, "--out '.' is a folder; give a file name such as importance.csv."),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_its_message(trained, args, code, message):
    result = run_cli("importance", "breast_cancer", *args, cwd=trained.root)
    assert result.code == code, result.err
    assert message in " ".join(result.err.split())


def test_a_run_without_logged_models_is_refused(cli, store):
    plain = cli("run", "penguins", "-m", "linear", "--trials", "1", "--no-log-models")
    assert plain.code == 0, plain.err
    result = cli("importance", "penguins")
    assert result.code == 1
    assert "has no logged model" in result.err and "without --no-log-models" in result.err
    assert not cli("importance", "nosuchtask").code == 0


@pytest.mark.slow  # a digits run for one message
def test_an_image_task_is_refused(cli, store):
    images = cli("run", "digits", "-m", "dummy", "--trials", "1", "--no-ensemble")
    assert images.code == 0, images.err
    result = cli("importance", "digits")
    assert result.code == 1
    assert "Task 'digits' is an image task: permutation importance shuffles feature " in (
        " ".join(result.err.split())
    )
