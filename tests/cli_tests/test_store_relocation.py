"""A store moved or copied to another folder works there: its artifact paths are re-rooted when
it is first opened, and nothing is read from or written to the old folder again.

MLflow records absolute artifact locations (`<store>/artifacts/<task>/<run>/artifacts`). Before
the re-root, a rerun in a moved store wrote its artifacts into the old folder (recreating it),
and once that was gone `harness submit` said the run "stored no predictions".
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest

from harness.store import schema
from tests.conftest import run_cli

RUN = ("run", "penguins", "-m", "linear", "-m", "dummy", "--trials", "2", "--folds", "3")


def _said(result) -> str:
    return " ".join(result.err.split())  # undo the console's line wrapping


def _made(folder: Path) -> Path:
    """A project folder with a real store of two penguins studies."""
    folder.mkdir(parents=True)
    made = run_cli(*RUN, cwd=folder)
    assert made.code == 0, made.err
    return folder


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, Path]:
    """(where a store was made, the store): made in `project/`, then moved to `pristine/`;
    each test copies it to a place of its own, so that its old folder is gone for all."""
    base = tmp_path_factory.mktemp("moved")
    old = _made(base / "project")
    shutil.move(old, base / "pristine")
    return old, base / "pristine"


def _moved(pristine: tuple[Path, Path], to: Path) -> tuple[Path, Path]:
    """The store moved from its old folder to `to`: (old folder, new folder)."""
    old, store = pristine
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(store, to)
    return old, to


def _untouched(old: Path) -> bool:
    """Nothing was written under the old folder (gone, or recreated empty by a test)."""
    return not old.exists() or not any(old.iterdir())


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def _artifact_uris(project: Path) -> list[str]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("penguins")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    return [experiment.artifact_location] + [run.info.artifact_uri for run in runs]


def _tags(project: Path, model: str) -> dict[str, str]:
    """The tags of the newest study (or ensemble) run of `model`."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("penguins")
    runs = client.search_runs(
        [experiment.experiment_id],
        f"tags.`{schema.MODEL}` = '{model}'",
        order_by=["attributes.start_time DESC"],
    )
    kinds = (schema.KIND_STUDY, schema.KIND_ENSEMBLE)
    return next(run.data.tags for run in runs if run.data.tags.get(schema.KIND) in kinds)


def _artifacts(project: Path) -> str:
    return (project / "mlruns" / "artifacts").as_uri() + "/"


def _moved_note(old: Path, new: Path) -> str:
    return (
        f"The MLflow store {new / 'mlruns'} was moved or copied from {old / 'mlruns'}: its "
        f"artifact paths were re-rooted to {new / 'mlruns' / 'artifacts'}."
    )


def test_read_commands_re_root_a_moved_store_once_and_read_it_in_its_new_place(tmp_path, pristine):
    old, new = _moved(pristine, tmp_path / "elsewhere" / "project2")
    old.mkdir(exist_ok=True)  # the old place is back, empty and read-only: writes there fail
    os.chmod(old, 0o555)  # (for users but root, who is checked to have written nothing)

    board = run_cli("leaderboard", "penguins", "-f", "json", cwd=new)
    assert board.code == 0, board.err
    assert _said(board) == _moved_note(old, new)
    assert {row["model"] for row in json.loads(board.out)} == {"linear", "dummy"}
    assert all(uri.startswith(_artifacts(new)) for uri in _artifact_uris(new))

    submit = run_cli("submit", "penguins", "-o", "sub.csv", cwd=new)
    assert submit.code == 0, submit.err
    assert _said(submit).startswith(
        "Wrote sub.csv: 69 rows of the holdout (no test part) from linear"
    )  # before: "The study run ... stored no predictions"
    report = run_cli("report", "penguins", "--out", "rep", cwd=new)
    assert report.code == 0, report.err
    assert "Confusion matrix: linear on the penguins holdout." in (
        (new / "rep" / "report.md").read_text()
    )  # before: left out, as the holdout predictions were not found
    assert run_cli("show", "penguins", cwd=new).code == 0
    for result in (submit, report):
        assert "was moved" not in result.err  # re-rooted once, for good
    assert _untouched(old)


def test_ui_re_roots_a_moved_store_before_mlflow_serves_it(tmp_path, pristine):
    old, new = _moved(pristine, tmp_path / "project2")
    with socket.socket() as busy:  # the server is not started: the port is taken
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        ui = run_cli("ui", "--port", str(port), cwd=new)
    assert ui.code == 1
    assert _said(ui) == (
        f"{_moved_note(old, new)} Error: Port {port} on 127.0.0.1 is in use; pass another with "
        "--port."
    )
    assert all(uri.startswith(_artifacts(new)) for uri in _artifact_uris(new))


def test_run_resumes_and_adds_models_in_a_moved_store(tmp_path, pristine):
    old, new = _moved(pristine, tmp_path / "project2")

    rerun = run_cli(*RUN, "-m", "knn", "--trials", "3", cwd=new)
    assert rerun.code == 0, rerun.err
    assert _moved_note(old, new) in _said(rerun)
    assert all(uri.startswith(_artifacts(new)) for uri in _artifact_uris(new))
    for model in ("linear", "dummy", "knn", "ensemble"):
        assert _tags(new, model)[schema.STATUS] == "ok", model
    oof = _tags(new, "dummy")[schema.OOF]  # the resumed study's, read from the moved artifacts
    assert oof.startswith("stored in run"), oof  # before: "recomputed"
    submit = run_cli("submit", "penguins", "-m", "knn", "-o", "knn.csv", cwd=new)
    assert submit.code == 0, submit.err
    assert _untouched(old)


def test_a_copied_store_writes_into_the_copy_and_leaves_the_original_as_it_was(tmp_path):
    original = _made(tmp_path / "project")
    before = _files(original / "mlruns" / "artifacts")
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)

    rerun = run_cli(*RUN, "-m", "knn", cwd=copy)
    assert rerun.code == 0, rerun.err
    assert _moved_note(original, copy) in _said(rerun)
    assert _tags(copy, "knn")[schema.STATUS] == "ok"
    assert all(uri.startswith(_artifacts(copy)) for uri in _artifact_uris(copy))
    assert _files(original / "mlruns" / "artifacts") == before
    assert all(uri.startswith(_artifacts(original)) for uri in _artifact_uris(original))


def test_a_moved_store_in_a_read_only_folder_is_read_where_it_is(tmp_path, pristine, read_only):
    old, new = _moved(pristine, tmp_path / "backup" / "project2")
    read_only(new)
    note = (
        f"The MLflow store {new / 'mlruns'} was moved or copied from {old / 'mlruns'}; its "
        "folder is read-only, so its artifact paths were re-rooted for this command only."
    )

    board = run_cli("leaderboard", "penguins", "-f", "json", cwd=new)
    assert board.code == 0, board.err
    assert _said(board) == note
    assert {row["model"] for row in json.loads(board.out)} == {"linear", "dummy"}
    out = tmp_path / "out"
    submit = run_cli("submit", "penguins", "-o", str(out / "sub.csv"), cwd=new)
    assert submit.code == 0, submit.err
    assert note in _said(submit) and "69 rows of the holdout" in _said(submit)

    logged = run_cli("leaderboard", "penguins", "--log", cwd=new)
    assert logged.code == 1
    assert _said(logged).endswith(
        f"Error: The MLflow store 'sqlite:///{new / 'mlruns' / 'mlflow.db'}' is in a read-only "
        "folder: it can be read, not written. Copy it to a writable folder to write to it."
    )
    for result in (board, submit, logged):
        assert "Traceback" not in result.err
    assert _untouched(old)
