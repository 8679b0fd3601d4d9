"""Same seed, same command, another store: the same leaderboard, number for number."""

from __future__ import annotations

import json

import pytest


# Two CLI runs (about 45 s on 2 cores). The default run checks the same numbers in process: one
# worker against two (test_budget_and_workers.py).
@pytest.mark.slow
def test_the_same_command_twice_gives_identical_classical_scores(run_in, tmp_path):
    args = ["run", "penguins", "-m", "linear", "-m", "xgboost", "--trials", "3", "--seed", "7"]
    boards = []
    for name in ("first", "second"):
        folder = tmp_path / name
        folder.mkdir()
        result = run_in(folder, *args)
        assert result.code == 0, result.err
        board = run_in(folder, "leaderboard", "penguins", "--format", "json")
        boards.append(
            [
                (r["model"], r["cv_mean"], r["cv_std"], r["holdout"], r["trials"])
                for r in json.loads(board.out)
            ]
        )
    assert boards[0] == boards[1]
    # linear, xgboost and their ensemble
    assert len(boards[0]) == 3 and all(row[1] is not None for row in boards[0])
