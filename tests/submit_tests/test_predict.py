"""Logged models and `harness predict`: a real run logs each study's final model and the
ensemble's blend; predicting the task's holdout rows from a CSV gives back exactly the holdout
score MLflow recorded, through `harness predict`, `mlflow.pyfunc.load_model` and `mlflow models
predict`; every bad input is refused with its message and exit code, and nothing is written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness import registry
from harness.contracts.metrics import get_metric
from harness.protocol.splits import Prepared, prepare
from harness.store import schema
from tests.conftest import Store, run_cli


def _holdout_csv(task_name: str, path: Path, *, with_extras: bool = True) -> Prepared:
    """The task's holdout rows as `harness run` split them (default folds, seed 0), written to
    `path` with the id and target columns."""
    task = registry.get_task(task_name)
    data = prepare(task, task.load(), folds=task.folds, seed=0)
    frame = data.holdout_X.copy()
    if with_extras:
        frame.insert(0, "id", data.holdout_ids)
        truth = data.holdout_y
        frame[task.target] = [data.classes[c] for c in truth] if data.n_classes else truth
    frame.to_csv(path, index=False)
    return data


def _tracker(store: Store):
    from harness.store.tracker import Tracker
    from harness.store.urls import resolve_stores

    return Tracker(resolve_stores(store.tracking_uri, store.storage, create=False), repair=False)


def _run_of(tracker, task: str, model: str):
    kind = schema.KIND_ENSEMBLE if model == "ensemble" else schema.KIND_STUDY
    runs = tracker.search(task, f"{schema.of_kind(kind)} and tags.`{schema.MODEL}` = '{model}'")
    return runs[0]


def _probabilities(frame: pd.DataFrame, classes: tuple) -> np.ndarray:
    return frame[[f"proba_{label}" for label in classes]].to_numpy()


@pytest.fixture(scope="module")
def penguins(tmp_path_factory) -> Store:
    """penguins (multiclass, two categoricals): bags of linear and knn, their ensemble, and a
    dummy run without a logged model."""
    store = Store(tmp_path_factory.mktemp("penguins"))
    ran = run_cli("run", "penguins", "-m", "linear", "-m", "knn", "--trials", "1", cwd=store.root)
    assert ran.code == 0, ran.err
    ran = run_cli(
        "run", "penguins", "-m", "dummy", "--trials", "1", "--no-log-models", cwd=store.root
    )
    assert ran.code == 0, ran.err
    return store


def test_predict_gives_the_holdout_score_of_each_bag_and_of_the_ensemble(penguins):
    store = penguins
    data = _holdout_csv("penguins", store.root / "held.csv")
    tracker = _tracker(store)
    log_loss = get_metric("log_loss")
    outputs = {}
    for model in ("linear", "knn", "ensemble", None):
        out = store.root / f"predicted-{model}.csv"
        args = ["predict", "penguins", "--input", "held.csv", "--out", out.name]
        result = run_cli(*args, *(["--model", model] if model else []), cwd=store.root)
        assert result.code == 0, result.err
        assert "ignored the columns id, species (not features)" in result.err
        frame = pd.read_csv(out)
        assert list(frame.columns) == [
            "id",
            "predicted_species",
            *(f"proba_{c}" for c in data.classes),
        ]
        assert frame["id"].tolist() == list(data.holdout_ids)
        proba = _probabilities(frame, data.classes)
        assert frame["predicted_species"].tolist() == [data.classes[i] for i in proba.argmax(1)]
        name = model or "knn"  # the leader by CV (the ensemble ties it and ranks below)
        run = _run_of(tracker, "penguins", name)
        recorded = run.data.metrics[schema.holdout("log_loss")]
        assert log_loss.score(data.holdout_y, proba) == pytest.approx(recorded, rel=1e-12)
        outputs[name] = proba
    ensemble = _run_of(tracker, "penguins", "ensemble")
    assert ensemble.data.metrics[schema.MODEL_MB] > 0
    assert set(json.loads(ensemble.data.tags[schema.ENSEMBLE_MEMBERS])) <= {"linear", "knn"}

    # The loader others build on: what the study scored, and the task's format.
    from harness.results.models import load_model

    loaded = load_model(tracker, _run_of(tracker, "penguins", "linear"))
    assert loaded.kind == "bag" and loaded.model == "linear"
    assert loaded.features == tuple(data.X.columns)
    assert loaded.classes == data.classes
    raw = loaded.predict_raw(pd.read_csv(store.root / "held.csv"))
    assert np.array_equal(raw, outputs["linear"])

    # MLflow's own loader, by the logged model's URI, gives the same numbers.
    import mlflow

    mlflow.set_tracking_uri(store.tracking_uri)
    try:
        model_id = ensemble.data.tags[schema.LOGGED_MODEL]
        pyfunc = mlflow.pyfunc.load_model(f"models:/{model_id}")
        held = pd.read_csv(store.root / "held.csv")
        by_mlflow = pyfunc.predict(held[list(data.X.columns)])
    finally:
        mlflow.set_tracking_uri(None)
    assert np.array_equal(_probabilities(by_mlflow, data.classes), outputs["ensemble"])

    # ... and so does `mlflow models predict` on the CSV (its extra columns ignored).
    env = {**os.environ, "MLFLOW_TRACKING_URI": store.tracking_uri}
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    served = subprocess.run(
        [
            str(mlflow_cli),
            "models",
            "predict",
            "-m",
            f"models:/{model_id}",
            "-i",
            "held.csv",
            "-t",
            "csv",
            "--env-manager",
            "local",
            "-o",
            "served.json",
        ],
        cwd=store.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert served.returncode == 0, served.stderr
    rows = pd.DataFrame(json.loads((store.root / "served.json").read_text())["predictions"])
    assert np.array_equal(_probabilities(rows, data.classes), outputs["ensemble"])


def test_a_refit_predicts_its_holdout_score_and_a_moved_store_still_loads(tmp_path):
    # diabetes (regression): the refit of linear, predicted from a copy of the store in
    # another folder (its artifact paths re-rooted), with no id or target column in the input.
    import shutil

    first = Store(tmp_path / "first")
    first.root.mkdir()
    ran = run_cli(
        "run", "diabetes", "-m", "linear", "--trials", "1", "--final", "refit", cwd=first.root
    )
    assert ran.code == 0, ran.err
    store = Store(tmp_path / "moved")
    shutil.copytree(first.root, store.root)
    shutil.rmtree(first.root)
    data = _holdout_csv("diabetes", store.root / "held.csv", with_extras=False)
    result = run_cli(
        "predict", "diabetes", "--input", "held.csv", "--out", "out/predicted.csv", cwd=store.root
    )
    assert result.code == 0, result.err
    assert "linear (refit;" in result.err
    frame = pd.read_csv(store.root / "out" / "predicted.csv")
    assert list(frame.columns) == ["predicted_progression"]
    tracker = _tracker(store)
    run = _run_of(tracker, "diabetes", "linear")
    assert run.data.tags[schema.FINAL] == "refit"
    rmse = get_metric("rmse").score(data.holdout_y, frame.iloc[:, 0].to_numpy())
    assert rmse == pytest.approx(run.data.metrics[schema.holdout("rmse")], rel=1e-12)

    # A final model past the size limit is not logged; the study stays ok and says why.
    ran = run_cli(
        "run",
        "diabetes",
        "-m",
        "dummy",
        "--trials",
        "1",
        "--no-ensemble",
        cwd=store.root,
        env={"HARNESS_MODEL_MB_LIMIT": "0.000001"},
    )
    assert ran.code == 0, ran.err
    assert "dummy: its final model was not logged" in ran.err
    result = run_cli(
        "predict",
        "diabetes",
        "-m",
        "dummy",
        "--input",
        "held.csv",
        "--out",
        "no.csv",
        cwd=store.root,
    )
    assert result.code == 1 and not (store.root / "no.csv").exists()
    assert "has no logged model: logging it failed" in result.err
    assert "the model passed 1e-06 MB" in result.err and "HARNESS_MODEL_MB_LIMIT" in result.err


def _refused(store: Store, *args: str) -> tuple[int, str]:
    out = store.root / "refused.csv"
    result = run_cli("predict", "penguins", *args, "--out", out.name, cwd=store.root)
    assert not out.exists(), "a refused input must write nothing"
    return result.code, result.err


def test_every_bad_input_is_refused_with_its_reason_and_writes_nothing(penguins):
    store = penguins
    _holdout_csv("penguins", store.root / "good.csv")
    good = pd.read_csv(store.root / "good.csv")

    def write(name: str, frame: pd.DataFrame) -> str:
        frame.to_csv(store.root / name, index=False)
        return name

    code, err = _refused(store, "--input", write("lacking.csv", good.drop(columns=["sex"])))
    assert code == 1 and "lacks 1 feature column(s)" in err and "'sex'" in err
    code, err = _refused(store, "--input", write("extra.csv", good.assign(colour="red")))
    assert code == 1 and "1 column(s) the model was not trained on: 'colour'" in err
    wrong = good.astype({"body_mass_g": object})
    wrong.loc[3, "body_mass_g"] = "heavy"
    code, err = _refused(store, "--input", write("wrong.csv", wrong))
    assert code == 1 and "Column 'body_mass_g' must hold numbers; row 4 has 'heavy'" in err
    (store.root / "empty.csv").write_text("")
    code, err = _refused(store, "--input", "empty.csv")
    assert code == 1 and "is empty (0 bytes)" in err
    write("header.csv", good.iloc[:0])
    code, err = _refused(store, "--input", "header.csv")
    assert code == 1 and "has a header but no rows" in err
    code, err = _refused(store, "--input", "missing.csv")
    assert code == 1 and "No such file" in err
    code, err = _refused(store, "--input", "good.csv", "--model", "linearr")
    assert code == 1 and "Model 'linearr' has no study" in err and "Did you mean 'linear'" in err
    code, err = _refused(store, "--input", "good.csv", "--model", "dummy")
    assert code == 1 and "has no logged model: none was logged" in err
    assert "harness run penguins --model dummy" in err and "--no-log-models" in err
    (store.root / "folder").mkdir()
    result = run_cli(
        "predict", "penguins", "--input", "good.csv", "--out", "folder", cwd=store.root
    )
    assert result.code == 2 and "is a folder" in result.err

    # An unseen category is predicted (as the model treats an unknown level) and counted.
    unseen = good.astype({"island": object})
    unseen.loc[:4, "island"] = "Atlantis"
    out = store.root / "unseen-out.csv"
    result = run_cli(
        "predict",
        "penguins",
        "--input",
        write("unseen.csv", unseen),
        "--out",
        out.name,
        cwd=store.root,
    )
    assert result.code == 0, result.err
    assert "5 value(s) of 'island' are categories no training row had" in result.err
    assert len(pd.read_csv(out)) == len(good)


@pytest.mark.slow  # a digits run for one message (tests/report_tests covers image refusals)
def test_an_image_task_is_refused_with_what_to_do_instead(tmp_path):
    store = Store(tmp_path)
    ran = run_cli("run", "digits", "-m", "dummy", "--trials", "1", cwd=store.root)
    assert ran.code == 0, ran.err
    (store.root / "rows.csv").write_text("a\n1\n")
    result = run_cli("predict", "digits", "--input", "rows.csv", "--out", "p.csv", cwd=store.root)
    assert result.code == 1
    assert "'digits' is an image task" in result.err and "mlflow.pyfunc.load_model" in result.err
    assert not (store.root / "p.csv").exists()
