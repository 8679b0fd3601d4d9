"""A store left half-created by an older harness (MLflow's migrations killed halfway) is named
by read commands and rebuilt by `harness run`, the broken file kept beside it; a store that
holds runs is never set aside.

The half-created stores are genuine: MLflow builds a schema in place, as harness did before
`sqlite.create_atomically`, in a process that kills itself (SIGKILL) right after a given
operation of MLflow's migrations.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

RUN = ("run", "penguins", "-m", "dummy", "--trials", "1", "--folds", "3", "--no-ensemble")

# Counts the operations of MLflow's migrations (add a column, create a table, ...) and kills
# the process right after operation number argv[2] (0: never); prints how many ran.
HALF_CREATE = """
import os, signal, sys

from alembic.operations import Operations
from mlflow.tracking import MlflowClient

stop, done = int(sys.argv[2]), [0]
invoke = Operations.invoke


def counted(self, operation):
    result = invoke(self, operation)
    done[0] += 1
    if done[0] == stop:
        os.kill(os.getpid(), signal.SIGKILL)
    return result


Operations.invoke = counted
MlflowClient(tracking_uri=f"sqlite:///{sys.argv[1]}").search_experiments()
print(done[0])
"""


def _half_created(project: Path, after: int) -> Path:
    """`project/mlruns/mlflow.db`, its schema built in place by MLflow, killed after operation
    `after` of its migrations (0: not killed)."""
    db = project / "mlruns" / "mlflow.db"
    db.parent.mkdir(parents=True)
    proc = subprocess.run(
        [sys.executable, "-c", HALF_CREATE, str(db), str(after)], capture_output=True, text=True
    )
    assert proc.returncode == (-9 if after else 0), proc.stderr
    return db


def _said(result) -> str:
    return " ".join(result.err.split())  # undo the console's line wrapping


def _kept(db: Path) -> list[Path]:
    return [p for p in db.parent.iterdir() if re.fullmatch(r"mlflow\.db\.broken-[\d-]+", p.name)]


@pytest.mark.parametrize(
    ("after", "reason"),
    [
        (1, "duplicate column name: step"),  # the first migration, half applied
        (60, "table _alembic_tmp_experiments already exists"),  # a table being rebuilt
        pytest.param(  # every step but the revision's stamp: another full build to count
            -1, "Detected out-of-date database schema (found version", marks=pytest.mark.slow
        ),
    ],
)
def test_a_half_created_store_is_named_by_read_commands_and_rebuilt_by_run(tmp_path, after, reason):
    if after == -1:  # the last operation of this MLflow's migrations
        after = int(subprocess.check_output(
            [sys.executable, "-c", HALF_CREATE, str(tmp_path / "count.db"), "0"], text=True
        ))  # fmt: skip
    db = _half_created(tmp_path, after)
    url = f"sqlite:///{db}"

    board = run_cli("leaderboard", cwd=tmp_path)
    assert board.code == 1
    said = _said(board)
    assert said.startswith(
        f"Error: The MLflow store {url!r} was left half-created by an interrupted first run "
        f"(MLflow cannot open it: {reason}"
    ), said
    assert said.endswith(
        ") and holds no runs. 'harness run TASK' rebuilds it, keeping the broken file beside "
        "it; or move it aside."
    ), said
    assert _kept(db) == []  # a read command sets nothing aside

    run = run_cli(*RUN, cwd=tmp_path)
    assert run.code == 0, run.err
    (kept,) = _kept(db)
    said = _said(run)
    assert (
        f"The MLflow store {url!r} was left half-created by an interrupted first run (MLflow "
        f"could not open it: {reason}"
    ) in said, said
    assert f"It held no runs, so it was rebuilt; the broken file is kept as {kept.name}." in said
    board = run_cli("leaderboard", "penguins", "-f", "json", cwd=tmp_path)
    assert board.code == 0 and '"dummy"' in board.out, board.err
    for result in (board, run):
        assert "Traceback" not in result.err


def test_a_store_that_holds_runs_is_never_set_aside(tmp_path):
    made = run_cli(*RUN, cwd=tmp_path)
    assert made.code == 0, made.err
    db = tmp_path / "mlruns" / "mlflow.db"
    with sqlite3.connect(db) as connection:  # as if made by an MLflow of long ago
        connection.execute("UPDATE alembic_version SET version_num = '451aebb31d03'")
    connection.close()

    for args in (RUN, ("leaderboard", "penguins")):
        result = run_cli(*args, cwd=tmp_path)
        assert result.code == 1
        assert f"Error: Cannot open the MLflow store 'sqlite:///{db}': " in _said(result)
        assert "Detected out-of-date database schema (found version 451aebb31d03" in result.err
        assert "Traceback" not in result.err
    assert _kept(db) == []
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0] > 0
    connection.close()


def test_a_half_created_store_in_a_read_only_folder_is_named(tmp_path, read_only):
    db = _half_created(tmp_path, 1)
    read_only(tmp_path)
    board = run_cli("leaderboard", cwd=tmp_path)
    assert board.code == 1
    assert _said(board) == (
        f"Error: The MLflow store 'sqlite:///{db}' was left half-created by an interrupted "
        "first run (MLflow cannot open it: duplicate column name: step) and holds no runs. "
        "'harness run TASK' rebuilds it, keeping the broken file beside it; or move it aside."
    )
