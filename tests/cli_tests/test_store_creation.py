"""An interrupt at any instant of a new store's creation leaves no store or a whole one: the
same command then succeeds. MLflow builds a new SQLite store's schema in a temporary file beside
it (`sqlite.create_atomically`), renamed into place only when complete."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli

ARGS = ("run", "penguins", "-m", "dummy", "--trials", "1", "--folds", "3", "--no-ensemble")


def _kill_while_creating(folder: Path, sig: int, offset: float) -> str:
    """Start the command, wait until the store's schema is being built, then send `sig` to its
    process group `offset` seconds later; return what it was doing when killed."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "HARNESS_STORAGE")
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", *ARGS],
        cwd=folder,
        env={**env, "HARNESS_DEVICE": "cpu"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    store = folder / "mlruns"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if store.exists() and (
            any(store.glob(".mlflow.db.creating-*")) or (store / "mlflow.db").exists()
        ):
            break
        time.sleep(0.001)
    time.sleep(offset)
    building = any(store.glob(".mlflow.db.creating-*"))
    with_db = (store / "mlflow.db").exists()
    os.killpg(proc.pid, sig)
    proc.wait(timeout=120)
    return "building" if building else ("created" if with_db else "before")


def _interrupt_then_rerun(tmp_path: Path, sig: int, offsets: list[float]) -> list[str]:
    moments = []
    for offset in offsets:
        folder = tmp_path / f"{sig}-{offset}"
        folder.mkdir()
        moments.append(_kill_while_creating(folder, sig, offset))
        rerun = run_cli(*ARGS, cwd=folder)
        assert rerun.code == 0, (sig, offset, rerun.err)
        assert not list((folder / "mlruns").glob(".mlflow.db.creating-*"))  # taken away
        board = run_cli("leaderboard", "penguins", "-f", "json", cwd=folder)
        assert board.code == 0 and '"dummy"' in board.out, board.err
    return moments


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_an_interrupt_while_the_schema_is_built_leaves_a_store_the_same_command_completes(
    tmp_path, sig
):
    moments = _interrupt_then_rerun(tmp_path, sig, [0.05, 0.3])
    assert "building" in moments, moments  # the instant the old code broke the store


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_interrupts_across_store_creation_never_break_the_store(tmp_path, sig):
    offsets = [0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 2.0]
    moments = _interrupt_then_rerun(tmp_path, sig, offsets)
    assert moments.count("building") >= 3, moments
