"""A board that reads at a glance: models that cannot handle the task are one footnote (no rows,
no MLflow runs; `--all` lists them), the terminal table fits its width without splitting a value,
and "±" and the confidence interval are named for what they are."""

from __future__ import annotations

import json
import re

import pytest
from mlflow.tracking import MlflowClient

from harness import registry
from harness import run as harness_run
from harness.results.leaderboard import task_board
from harness.results.tables import DROP_ORDER, fit_columns, min_widths, unsupported_note
from harness.run import config as run_config
from harness.store import schema
from harness.store.tracker import Tracker
from harness.store.urls import resolve_stores

TEXT_AND_IMAGE = ["hog_svm", "keras_cnn", "keras_text", "keras_transfer", "keras_transformer"]


def test_fit_columns_drops_low_priority_columns_first_and_never_splits_a_value():
    keys = ["rank", "model", "cv", "interval", "device", "status"]
    header = ["rank", "model", "CV roc_auc ± fold sd", "95% CI of CV mean", "device", "status"]
    cells = [
        ["1", "ensemble (lightgbm 0.60, linear 0.40)", "0.9949 ± 0.0040", "[0.98, 1.00]", "cpu",
         "ok"],
        ["", "catboost", "", "", "cpu", "failed: MemoryError: out of memory in fold 3"],
    ]  # fmt: skip
    narrow = min_widths(keys, header, cells)
    # numbers and intervals stay whole; names, members and reasons may wrap between words
    assert narrow[2] == len("0.9949 ± 0.0040") and narrow[3] == len("[0.98, 1.00]")
    assert narrow[1] == len("(lightgbm") and narrow[5] == len("MemoryError:")
    kept, widths, dropped, needed = fit_columns(keys, header, cells, 200)
    assert kept == list(range(6)) and dropped == [] and sum(widths) + 3 * 6 + 1 <= 200
    assert widths[1] == len(cells[0][1])  # room left goes to whole cells first
    assert DROP_ORDER.index("device") < DROP_ORDER.index("interval")
    assert fit_columns(keys, header, cells, 70)[2] == ["device"]  # DROP_ORDER, not position
    kept, widths, dropped, _ = fit_columns(keys, header, cells, 60)
    assert dropped == ["95% CI of CV mean", "device"]
    assert sum(widths) + 3 * len(kept) + 1 <= 60
    assert all(w >= narrow[i] for i, w in zip(kept, widths, strict=True))
    assert needed == sum(narrow) + 3 * 6 + 1


def test_the_terminal_table_fits_120_columns_and_names_what_it_left_out(board_cli):
    result = board_cli("leaderboard", "breast_cancer", "--no-log", env={"COLUMNS": "120"})
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert max(len(line) for line in lines) <= 120
    rows = json.loads(board_cli("leaderboard", "breast_cancer", "-f", "json", "--no-log").out)
    text = "\n".join(lines)
    for row in rows:  # every value shown whole, on one line
        assert f"{row['cv_mean']:.4f} ± {row['cv_std']:.4f}" in text
        assert f"{row['holdout']:.4f}" in text
        assert f"{row['secondary_cv']:.4f} / {row['secondary_holdout']:.4f}" in text
    assert rows[0]["secondary"] == "log_loss"
    # the note may wrap at 120 columns itself: read it as one line
    words = " ".join(result.out.split())
    assert re.search(r"Left out to fit 120 columns: [^;]*device; --width \d+ shows them", words)
    assert "± = standard deviation of the fold scores" in " ".join(result.out.split())

    wide = board_cli("leaderboard", "breast_cancer", "--no-log", "--width", "220")
    assert wide.code == 0 and "Left out to fit" not in wide.out
    assert max(len(line) for line in wide.out.splitlines()) <= 220
    for row in rows:  # the confidence interval of the mean is shown when there is room
        assert f"[{row['cv_low']:.4f}, {row['cv_high']:.4f}]" in wide.out
        assert row["cv_low"] <= row["cv_mean"] <= row["cv_high"] <= 1.0  # ROC AUC ends at 1
    narrow = board_cli("leaderboard", "breast_cancer", "--no-log", "--width", "80")
    assert max(len(line) for line in narrow.out.splitlines()) <= 80
    refused = board_cli("leaderboard", "breast_cancer", "--width", "10")
    assert refused.code == 2
    assert "Invalid value for '--width': Input should be greater than or equal to 40" in refused.err


def test_models_that_cannot_handle_the_task_are_a_footnote_and_all_lists_them(board_cli):
    table = " ".join(board_cli("leaderboard", "ames", "--no-log").out.split())
    assert "Not run: 7 models that cannot handle this task (" in table
    assert "; --all lists them with the reason." in table
    rows = json.loads(board_cli("leaderboard", "ames", "-f", "json", "--no-log").out)
    assert {r["status"] for r in rows} == {"ok"}
    every = json.loads(board_cli("leaderboard", "ames", "-f", "json", "--no-log", "--all").out)
    extra = {r["model"]: r for r in every if r["status"] == "unsupported"}
    assert set(TEXT_AND_IMAGE) <= set(extra) and "naive_bayes" in extra  # a classifier
    assert "does not support regression tasks" in extra["naive_bayes"]["reason"]
    assert all(r["rank"] is None and r["run_id"] == "" for r in extra.values())
    md = board_cli("leaderboard", "ames", "-f", "md", "--no-log").out
    assert "Not run: 7 models" in md and "keras_cnn |" not in md
    page = board_cli("leaderboard", "ames", "-f", "html", "--no-log").out
    assert "Not run: 7 models" in page


def test_a_run_records_no_runs_for_models_that_cannot_handle_the_task(tmp_path, monkeypatch):
    every = registry.models()
    chosen = {name: every[name] for name in ("dummy", "keras_cnn", "nbsvm")}
    monkeypatch.setattr(registry, "models", lambda: chosen)
    stores = resolve_stores(f"sqlite:///{tmp_path / 'mlflow.db'}", root=tmp_path)
    config = run_config.RunConfig(task="breast_cancer", trials=1, folds=3, n_jobs=1)
    _, _, results = harness_run.run(config, stores)
    assert [r.model for r in results] == ["dummy"]  # one study, no ensemble of one
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    experiment = client.get_experiment_by_name("breast_cancer")
    runs = client.search_runs([experiment.experiment_id], schema.of_kind(schema.KIND_STUDY))
    assert {r.data.tags[schema.MODEL] for r in runs} == {"dummy"}
    assert runs[0].data.tags[schema.MODALITY] == "tabular"

    # An older store recorded them as skipped runs: they join the footnote.
    tracker = Tracker(stores)
    old = {
        schema.KIND: schema.KIND_STUDY,
        schema.MODEL: "keras_cnn",
        schema.STATUS: "skipped",
        schema.REASON: "model 'keras_cnn' does not support tabular data (supports image)",
    }
    tracker.end_run(tracker.start_run("breast_cancer", "keras_cnn", old))
    board = task_board(tracker, "breast_cancer")
    assert [r.model for r in board.rows] == ["dummy"]
    assert set(board.unsupported) == {"keras_cnn", "nbsvm"}
    assert unsupported_note(board) == (
        "Not run: 2 models that cannot handle this task (keras_cnn, nbsvm); --all lists them "
        "with the reason."
    )
    listed = task_board(tracker, "breast_cancer", show_all=True)
    assert [(r.model, r.status) for r in listed.rows] == [
        ("dummy", "ok"),
        ("keras_cnn", "unsupported"),
        ("nbsvm", "unsupported"),
    ]
    assert unsupported_note(listed) == ""  # they are rows now


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_the_legend_names_the_spread_and_the_interval(board_cli, fmt):
    out = board_cli("leaderboard", "breast_cancer", "penguins", "-f", fmt, "--no-log").out
    assert "± = standard deviation of the fold scores" in out
    assert "95% CI = confidence interval of the mean CV score" in out
    assert "CV roc_auc ± fold sd" in out and "95% CI of CV mean" in out


def test_the_status_says_which_fits_were_cut_short_at_their_deadline():
    import dataclasses

    from harness.results.leaderboard import Row
    from harness.results.tables import status_text

    fields = {f.name: None for f in dataclasses.fields(Row) if f.default is dataclasses.MISSING}
    ok = Row(**{**fields, "model": "xgboost", "status": "ok", "reason": "", "folds": 5})
    assert status_text(ok) == "ok"
    assert status_text(dataclasses.replace(ok, cut_short=0.0, refit_cut_short=0.0)) == "ok"
    cut = dataclasses.replace(ok, cut_short=0.6, refit_cut_short=1.0)
    assert status_text(cut) == "ok: cut short (3/5 folds, refit)"
    assert status_text(dataclasses.replace(cut, cut_short=0.0)) == "ok: cut short (refit)"
    skipped = dataclasses.replace(ok, status="skipped", reason="its defaults did not finish")
    assert status_text(skipped) == "skipped: its defaults did not finish"


def test_long_statuses_become_footnotes_below_the_terminal_table():
    from harness.results.tables import WRAPS, fit_columns, status_footnotes

    keys = ["rank", "model", "status"]
    header = ["rank", "model", "status"]
    cells = [
        ["1", "xgboost", "ok: cut short (1/5 folds, refit)"],
        ["2", "linear", "ok"],
        ["", "random_forest", "skipped: its defaults did not finish within its share of the run's "
                              "budget"],
        ["", "catboost", "failed: boom"],  # short enough to stay in its cell
    ]  # fmt: skip
    shown, notes = status_footnotes(keys, cells)
    assert [row[2] for row in shown] == ["ok [1]", "ok", "skipped [2]", "failed: boom"]
    assert notes == [
        "[1] xgboost: cut short (1/5 folds, refit)",
        "[2] random_forest: its defaults did not finish within its share of the run's budget",
    ]
    assert cells[0][2].startswith("ok: cut short")  # the board's own cells are left alone
    # a footnoted status is one line: the column is as wide as its longest cell
    kept, widths, _, _ = fit_columns(keys, header, shown, 40, wraps=WRAPS - {"status"})
    assert widths[2] >= len("skipped [2]")
    assert status_footnotes(["rank", "model"], cells) == (cells, [])
