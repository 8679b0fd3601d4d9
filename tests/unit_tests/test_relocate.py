"""Which artifact locations count as moved (`store.relocate.find_moves`), and the re-root of a
real moved store (`store.rows.reroot`): experiments, runs and logged models point into the
new folder, and MLflow's public calls read and write artifacts there."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.store import relocate
from harness.store.tracker import Tracker
from harness.store.urls import make_folders, resolve_stores


def _moves(tmp_path: Path, *locations: str) -> list[relocate.Move]:
    return relocate.find_moves(
        [(str(i), location) for i, location in enumerate(locations)], tmp_path / "new" / "artifacts"
    )


def test_a_location_in_another_stores_artifacts_folder_is_moved_when_its_artifacts_came(tmp_path):
    (tmp_path / "new" / "artifacts" / "ames").mkdir(parents=True)
    old = tmp_path / "old folder" / "artifacts" / "ames"  # a space: percent-encoded in the URI
    (move,) = _moves(tmp_path, old.as_uri())
    assert move.old == old.as_uri() and "%20" in move.old
    assert move.new == (tmp_path / "new" / "artifacts" / "ames").as_uri()
    assert move.old_store == tmp_path / "old folder"
    (plain,) = _moves(tmp_path, str(old))  # a plain path stays one
    assert plain.new == str(tmp_path / "new" / "artifacts" / "ames")

    old.mkdir(parents=True)  # copied: the old folder is still there, and so is the new one
    assert len(_moves(tmp_path, old.as_uri())) == 1
    shutil.rmtree(tmp_path / "new" / "artifacts" / "ames")  # the database came alone
    assert _moves(tmp_path, old.as_uri()) == []


def test_locations_that_are_not_a_moved_harness_store_are_left_alone(tmp_path):
    here = tmp_path / "new" / "artifacts" / "ames"
    here.mkdir(parents=True)
    (tmp_path / "link").symlink_to(tmp_path / "new")  # the same folder by another path
    assert (
        _moves(
            tmp_path,
            here.as_uri(),
            (tmp_path / "link" / "artifacts" / "ames").as_uri(),
            (tmp_path / "old" / "mlruns" / "0").as_uri(),  # MLflow's Default experiment
            "s3://bucket/artifacts/ames",
            "mlflow-artifacts:/artifacts/ames",
            "relative/artifacts/ames",
            "",
        )
        == []
    )


def test_a_moved_store_is_re_rooted_in_place_and_its_artifacts_read_and_written_there(tmp_path):
    old, new = tmp_path / "project", tmp_path / "moved" / "project"
    stores = resolve_stores(None, None, root=old)
    make_folders(stores)
    tracker = Tracker(stores)
    run_id = tracker.start_run("ames", "linear", {"k": "v"})
    (tmp_path / "fold_scores.csv").write_text("fold,score\n0,1.0\n")
    tracker.log_artifact(run_id, tmp_path / "fold_scores.csv")
    tracker.end_run(run_id)
    trial = tracker.record_run("ames", "linear-trial-0", {"k": "v"}, parent=run_id)
    model = tracker.client.create_logged_model(tracker.experiment_id("ames"))
    assert tracker.notices == []
    new.parent.mkdir()
    shutil.move(old, new)

    moved = Tracker(resolve_stores(None, None, root=new))
    assert moved.notices == [
        f"The MLflow store {new / 'mlruns'} was moved or copied from {old / 'mlruns'}: its "
        f"artifact paths were re-rooted to {new / 'mlruns' / 'artifacts'}."
    ]
    artifacts = (new / "mlruns" / "artifacts" / "ames").as_uri()
    client = moved.client
    assert client.get_experiment(moved.experiment_id("ames")).artifact_location == artifacts
    for run in (run_id, trial):
        assert client.get_run(run).info.artifact_uri == f"{artifacts}/{run}/artifacts"
    assert client.get_logged_model(model.model_id).artifact_location.startswith(artifacts + "/")
    assert [item.path for item in client.list_artifacts(run_id)] == ["fold_scores.csv"]
    moved.log_artifact(run_id, tmp_path / "fold_scores.csv", "again")
    assert (new / "mlruns" / "artifacts" / "ames" / run_id / "artifacts" / "again").is_dir()
    assert not old.exists()
    assert Tracker(resolve_stores(None, None, root=new)).notices == []  # once, for good
