"""A disk that fills up mid-run: the run stops with a clear message, and the store survives.

The project folder is a small tmpfs of its own (mounting one needs root; elsewhere the test is
skipped with the reason). Once the first trials are stored, a filler file takes every free byte,
as another program filling the disk would. The run must stop with exit code 1, an `Error:` that
says the disk is full and what to do, and no traceback; after the filler is removed, the same
command must finish the study with exactly the asked trials, each in MLflow once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

TRIALS = 10
STUDY = "breast_cancer.naive_bayes"


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 64 MiB tmpfs mounted on a fresh folder (root only)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs to fill needs root")
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def _study(folder: Path):
    from harness.tuning import studies

    return studies.load_study(f"journal:///{folder / 'mlruns' / 'optuna'}", STUDY)


def _complete_trials(folder: Path) -> int:
    if not (folder / "mlruns" / "optuna" / f"{STUDY}.journal").exists():
        return 0
    try:
        return sum(t.state.name == "COMPLETE" for t in _study(folder).get_trials(deepcopy=False))
    except KeyError:  # the study is being created
        return 0


def _fill(folder: Path) -> Path:
    """Write a file until the disk is full; return it."""
    filler = folder / "filler.bin"
    block = b"\0" * (1 << 16)
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(block)
        except OSError:
            pass
    return filler


def _command() -> list[str]:
    return [sys.executable, "-m", "harness", "run", "breast_cancer", "--model", "naive_bayes"] + [
        "--trials",
        str(TRIALS),
        "--folds",
        "3",
    ]


def _env() -> dict:
    environ = {
        k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "HARNESS_STORAGE")
    }
    return {**environ, "HARNESS_DEVICE": "cpu", "COLUMNS": "200"}


@pytest.mark.slow  # two runs (about 40 s on an idle 2-core machine): `pytest -m slow`
def test_a_full_disk_stops_the_run_with_its_reason_and_a_rerun_completes(small_disk):
    proc = subprocess.Popen(
        _command(),
        cwd=small_disk,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    end = time.monotonic() + 120
    while _complete_trials(small_disk) < 2 and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before the disk could be filled"
    filler = _fill(small_disk)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "The disk holding it is full" in err, err
    assert "rerun the same command" in err
    assert "Traceback" not in err

    filler.unlink()
    again = subprocess.run(_command(), cwd=small_disk, env=_env(), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr

    from mlflow.tracking import MlflowClient

    from harness.tuning import studies

    counted = studies.done_trials(_study(small_disk))
    assert len(counted) == TRIALS
    client = MlflowClient(f"sqlite:///{small_disk / 'mlruns' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("breast_cancer")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    logged = Counter(
        int(r.data.tags["harness.trial"])
        for r in runs
        if r.data.tags.get("harness.kind") == "trial"
    )
    assert logged == Counter(t.number for t in counted)
    assert all(r.info.status != "RUNNING" for r in runs)
