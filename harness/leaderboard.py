"""Leaderboards read back from MLflow: the newest study run of each model of a task, ranked.

Models are ranked by their mean CV score (the "public leaderboard": K folds, identical for every
model) in the metric's direction; the holdout score (the "private leaderboard", one split scored
once) is shown beside it as the honest estimate. Ranking by CV, not holdout, keeps the holdout
out of every choice. Runs that did not finish ok are listed after the ranked ones with their
status and reason, never dropped. Runs made on different folds are refused: their scores are not
comparable.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import asdict, dataclass

from harness.errors import HarnessError
from harness.metrics import get_metric
from harness.tracking import TAG, Stores, Tracker, mask

FORMATS = ("table", "md", "csv", "json")


@dataclass(frozen=True)
class Row:
    """One model's line on a task's leaderboard."""

    rank: int | None
    model: str
    family: str
    status: str
    metric: str
    cv_mean: float | None
    cv_std: float | None
    holdout: float | None
    fit_seconds: float | None
    trials: int | None
    device: str
    reason: str
    folds_fingerprint: str
    run_id: str


def _number(metrics: dict, key: str) -> float | None:
    value = metrics.get(key)
    return None if value is None or math.isnan(value) else float(value)


def row_of(run: object) -> Row:
    """The (unranked) leaderboard row of one MLflow study run."""
    tags, metrics = run.data.tags, run.data.metrics
    metric = tags.get(f"{TAG}metric", "")
    status = tags.get(f"{TAG}status", "unknown")
    if status == "running" and run.info.status != "RUNNING":
        status = "failed"  # the process died before it could record an outcome
    trials = metrics.get("trials_done")
    return Row(
        rank=None,
        model=tags.get(f"{TAG}model", "?"),
        family=tags.get(f"{TAG}family", ""),
        status=status,
        metric=metric,
        cv_mean=_number(metrics, f"cv_{metric}_mean"),
        cv_std=_number(metrics, f"cv_{metric}_std"),
        holdout=_number(metrics, f"holdout_{metric}"),
        fit_seconds=_number(metrics, "fit_seconds"),
        trials=None if trials is None else int(trials),
        device=tags.get(f"{TAG}device", ""),
        reason=tags.get(f"{TAG}error") or tags.get(f"{TAG}reason") or "",
        folds_fingerprint=tags.get(f"{TAG}folds_fingerprint", ""),
        run_id=run.info.run_id,
    )


def no_runs(task: str, stores: Stores) -> HarnessError:
    """The error for a task without runs in the store."""
    return HarnessError(
        f"No runs of task {task!r} in the MLflow store {mask(stores.tracking_uri)!r}. "
        f"Run 'harness run {task}' first."
    )


def run_rows(tracker: Tracker, task: str, run_ids: list[str]) -> list[Row]:
    """Ranked rows of the given study runs (the ones a `harness run` just made)."""
    return rank(task, [row_of(tracker.client.get_run(run_id)) for run_id in run_ids])


def task_rows(tracker: Tracker, task: str) -> list[Row]:
    """The task's leaderboard rows, ranked; raises if there are no runs or the folds differ."""
    runs = tracker.search(task, f"tags.`{TAG}kind` = 'study'")
    if not runs:
        raise no_runs(task, tracker.stores)
    newest: dict[str, object] = {}
    for run in runs:  # newest first
        newest.setdefault(run.data.tags.get(f"{TAG}model", "?"), run)
    rows = [row_of(run) for run in newest.values()]
    return rank(task, rows)


def rank(task: str, rows: list[Row]) -> list[Row]:
    """Rank ok rows by CV score in the metric's direction; others follow, unranked."""
    scored = [r for r in rows if r.status == "ok" and r.cv_mean is not None]
    prints = {r.folds_fingerprint for r in scored}
    if len(prints) > 1:
        groups = {
            fp: ", ".join(r.model for r in scored if r.folds_fingerprint == fp) for fp in prints
        }
        detail = "; ".join(f"{fp}: {models}" for fp, models in sorted(groups.items()))
        raise HarnessError(
            f"Task {task!r}: the newest runs were scored on different folds ({detail}), so their "
            "scores cannot be ranked together. Rerun the older models with the same --seed and "
            "--folds as the newer ones."
        )
    if scored:
        sign = -1.0 if get_metric(scored[0].metric).direction == "maximize" else 1.0
        scored.sort(key=lambda r: (sign * r.cv_mean, r.model))
    ranked = [Row(**{**asdict(r), "rank": i + 1}) for i, r in enumerate(scored)]
    rest = sorted((r for r in rows if r not in scored), key=lambda r: (r.status, r.model))
    return ranked + rest


def _fmt(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def display_rows(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    """Header and text cells of a leaderboard for tables and Markdown."""
    metric = next((r.metric for r in rows if r.metric), "score")
    header = [
        "rank",
        "model",
        "family",
        f"CV {metric}",
        f"holdout {metric}",
        "fit s",
        "trials",
        "status",
    ]
    cells = []
    for r in rows:
        cv = "" if r.cv_mean is None else f"{r.cv_mean:.4f} ± {r.cv_std or 0:.4f}"
        status = r.status if not r.reason else f"{r.status}: {r.reason}"
        cells.append(
            [
                "" if r.rank is None else str(r.rank),
                r.model,
                r.family,
                cv,
                _fmt(r.holdout),
                _fmt(r.fit_seconds, 2),
                "" if r.trials is None else str(r.trials),
                status,
            ]
        )
    return header, cells


def render(rows: list[Row], fmt: str) -> str:
    """The leaderboard as Markdown, CSV or JSON text (the rich table is drawn by the CLI)."""
    if fmt == "json":
        return json.dumps([asdict(r) for r in rows], indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(Row.__dataclass_fields__), lineterminator="\n")
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)
        return out.getvalue()
    if fmt == "md":
        header, cells = display_rows(rows)
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown format {fmt!r}")
