"""Leaderboards read back from MLflow: per task, with significance marks, and across tasks.

Per task: the newest study run of each model, ranked by mean CV score (the "public leaderboard":
K folds, identical for every model) in the metric's direction. The holdout score (the "private
leaderboard", one split scored once) is shown beside it with the gap holdout - CV (Kaggle's
"shake-up"). Ranking by CV, not holdout, keeps the holdout out of every choice. Each ranked model
is compared with the leader by the Nadeau-Bengio corrected resampled t-test on the per-fold scores
(two-sided, Holm-adjusted for the models compared, alpha 0.05): models not significantly worse
are marked. Runs that did not finish ok are
listed after the ranked ones with their status and reason, never dropped. Runs made on different
folds (fingerprint or fold count) are refused: their scores are not comparable.

Across tasks (`summarize`): mean rank, normalized score (dummy = 0, best = 1), wins, and a
Bradley-Terry rating on the Elo scale with bootstrap intervals over tasks; see `harness.stats`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from harness.contracts.metrics import get_metric
from harness.errors import HarnessError
from harness.results import stats
from harness.store import current, schema
from harness.store.tracker import Tracker
from harness.store.urls import Stores, mask

__all__ = [
    "BASELINE_MODEL",
    "BASES",
    "SECONDARY",
    "FORMATS",
    "Board",
    "Row",
    "build_board",
    "chosen_row",
    "fold_series",
    "fold_size_ratio",
    "log_board",
    "newest_study_runs",
    "no_runs",
    "row_of",
    "run_board",
    "task_board",
    "task_rows",
    "tasks_with_runs",
    "unsupported_models",
]

FORMATS = ("table", "md", "csv", "json", "html")
BASES = ("cv", "holdout")
BASELINE_MODEL = "dummy"
# The metric shown beside the primary one: the first of these the runs logged that is not the
# primary (log loss next to ROC AUC or accuracy, accuracy next to log loss, MAE next to RMSE).
SECONDARY = ("log_loss", "accuracy", "mae", "rmse", "roc_auc", "r2")


@dataclass(frozen=True)
class Row:
    """One model's line on a task's leaderboard.

    Attributes:
        rank: 1 = best CV score; None for models that did not finish ok.
        model: Model name.
        family: Model family (classical, neural, baseline).
        status: ok, failed, timeout, oom, pruned, skipped, stale, or unsupported (a model
            that cannot handle the task: a row only with `--all`).
        metric: The task's primary metric.
        cv_mean: Mean CV score of the best configuration.
        cv_std: Its standard deviation over folds.
        holdout: Holdout score of the final model (the bag of the best trial's fold models,
            its refit, or an ensemble's blend: `final`).
        gap: holdout - cv_mean, raw (for a loss a positive gap means the holdout was worse).
        fit_seconds: Seconds the final model took to fit: its refit on the whole training
            part, or its bag's fold models (fitted while tuning).
        predict_ms_per_1000: Seconds to predict 1,000 holdout rows.
        trials: Trials the study finished.
        device: cpu or cuda.
        reason: Why it failed or was skipped.
        folds: Number of per-fold scores (K, or K * R with repeated CV).
        p_value: Holm-adjusted two-sided Nadeau-Bengio p-value against the leader (None: not
            tested; see `stats.versus_leader`).
        not_worse: Whether the model is not significantly worse than the leader (the leader: True).
        folds_fingerprint: Digest of the holdout and folds the model was scored on.
        run_id: The MLflow study run.
        task: The task.
        members: For an ensemble: member model -> weight (empty for a single model).
        tuning_seconds: Wall-clock seconds the study was tuned in its run (with `--budget`: its
            share of the budget).
        cv_low: Lower end of the 95% confidence interval of the mean CV score (Nadeau-Bengio
            corrected, `stats.mean_interval`); None when not ranked.
        cv_high: Its upper end.
        secondary: The secondary metric shown beside the primary one (`SECONDARY`), "" if none.
        secondary_cv: Its mean CV score.
        secondary_holdout: Its holdout score.
        final: What scored the holdout: "bag of K" (the best trial's K fold models averaged),
            "refit" (runs older than bags are refits), or "blend" (an ensemble); "" if none.
        folds_of: The K of the split when a budget scored only `folds` of its folds, else 0.
        cut_short: The share of the best trial's folds whose fit stopped at its deadline (a
            budget's share, or a margin before --trial-timeout); None when the model reports
            none (it cannot stop at a deadline).
        refit_cut_short: Whether the refit stopped at its deadline (1.0), or None.
    """

    rank: int | None
    model: str
    family: str
    status: str
    metric: str
    cv_mean: float | None
    cv_std: float | None
    holdout: float | None
    gap: float | None
    fit_seconds: float | None
    predict_seconds_per_1000: float | None
    trials: int | None
    device: str
    reason: str
    folds: int | None
    p_value: float | None
    not_worse: bool | None
    folds_fingerprint: str
    run_id: str
    task: str = ""
    members: dict[str, float] = field(default_factory=dict)
    tuning_seconds: float | None = None
    cv_low: float | None = None
    cv_high: float | None = None
    secondary: str = ""
    secondary_cv: float | None = None
    secondary_holdout: float | None = None
    final: str = ""
    folds_of: int = 0
    cut_short: float | None = None
    refit_cut_short: float | None = None


@dataclass(frozen=True)
class Board:
    """One task's leaderboard with what its statistics were computed from.

    Attributes:
        task: Task name.
        metric: Primary metric.
        maximize: Whether higher is better.
        rows: Ranked rows, then the others.
        fold_scores: Model -> per-fold CV scores of its best configuration (ok models).
        test_train_ratio: n_test / n_train of a fold, used by the corrected t-test.
        alpha: Significance level.
        unsupported: Registered models that cannot handle the task's modality or problem type
            (name -> reason): no study runs, one footnote under the table (`--all` lists them
            as rows with status "unsupported").
    """

    task: str
    metric: str
    maximize: bool
    rows: list[Row]
    fold_scores: dict[str, list[float]] = field(default_factory=dict)
    test_train_ratio: float | None = None
    alpha: float = stats.ALPHA
    unsupported: dict[str, str] = field(default_factory=dict)

    @property
    def ranked(self) -> list[Row]:
        """The rows with a rank (status ok), best first."""
        return [r for r in self.rows if r.rank is not None]


def _number(metrics: dict, key: str) -> float | None:
    value = metrics.get(key)
    return None if value is None or math.isnan(value) else float(value)


def row_of(run: Any) -> Row:
    """The (unranked, untested) leaderboard row of one MLflow study run."""
    tags, metrics = run.data.tags, run.data.metrics
    metric = tags.get(schema.METRIC, "")
    status = tags.get(schema.STATUS, "unknown")
    if status == "running" and run.info.status != "RUNNING":
        status = "failed"  # the process died before it could record an outcome
    trials = metrics.get("trials_done")
    cv_mean = _number(metrics, schema.cv_mean(metric))
    holdout = _number(metrics, schema.holdout(metric))
    folds = tags.get(schema.FOLDS)
    secondary = next((m for m in SECONDARY if m != metric and schema.cv_mean(m) in metrics), "")
    return Row(
        rank=None,
        model=tags.get(schema.MODEL, "?"),
        family=tags.get(schema.FAMILY, ""),
        status=status,
        metric=metric,
        cv_mean=cv_mean,
        cv_std=_number(metrics, schema.cv_std(metric)),
        holdout=holdout,
        gap=None if cv_mean is None or holdout is None else holdout - cv_mean,
        fit_seconds=_number(metrics, "fit_seconds"),
        predict_seconds_per_1000=_number(metrics, "predict_seconds_per_1000_rows"),
        trials=None if trials is None else int(trials),
        device=tags.get(schema.DEVICE, ""),
        reason=tags.get(schema.ERROR) or tags.get(schema.REASON) or "",
        folds=int(folds) if folds and folds.isdigit() else None,
        p_value=None,
        not_worse=None,
        folds_fingerprint=tags.get(schema.FOLDS_FINGERPRINT, ""),
        run_id=run.info.run_id,
        task=tags.get(schema.TASK, ""),
        members=_members(tags),
        tuning_seconds=_number(metrics, "tuning_seconds"),
        secondary=secondary,
        secondary_cv=_number(metrics, schema.cv_mean(secondary)) if secondary else None,
        secondary_holdout=_number(metrics, schema.holdout(secondary)) if secondary else None,
        final=_final(tags, metrics, holdout),
        folds_of=int(tags.get(schema.FOLDS_OF) or 0),
        cut_short=_number(metrics, schema.CUT_SHORT),
        refit_cut_short=_number(metrics, schema.refit(schema.CUT_SHORT)),
    )


def _final(tags: dict, metrics: dict, holdout: float | None) -> str:
    """What scored a run's holdout: "bag of K", "refit" or "blend" ("" without a holdout)."""
    if holdout is None:
        return ""
    if tags.get(schema.KIND) == schema.KIND_ENSEMBLE:
        return "blend"
    if tags.get(schema.FINAL) == "bag":
        return f"bag of {int(metrics.get(schema.FINAL_MODELS, 0))}"
    return "refit"


def _members(tags: dict) -> dict[str, float]:
    """An ensemble run's members and weights (tag `harness.ensemble_members`, JSON)."""
    import json

    try:
        members = json.loads(tags.get(schema.ENSEMBLE_MEMBERS, "{}"))
    except ValueError:
        return {}
    return {str(k): float(v) for k, v in members.items()} if isinstance(members, dict) else {}


def fold_size_ratio(tags: dict) -> float:
    """n_test / n_train of one fold, from the study run's tags.

    Runs made since December 2026 carry it (`harness.test_train_ratio`, measured on their
    folds). For older ones it follows from `harness.folds`, `.repeats` and `.cv`: K-fold (any
    flavour, repeated or not) 1 / (K - 1); their forward-chaining time folds trained on 1..K
    blocks and scored the next one, so the mean of 1/i over the folds.
    """
    stored = tags.get(schema.TEST_TRAIN_RATIO)
    try:
        if stored is not None and float(stored) > 0:
            return float(stored)
    except ValueError:
        pass
    total = int(tags.get(schema.FOLDS, "5") or 5)
    repeats = max(int(tags.get(schema.REPEATS, "1") or 1), 1)
    k = max(total // repeats, 2)
    if tags.get(schema.CV) == "time":
        return sum(1 / i for i in range(1, k + 1)) / k
    return 1 / (k - 1)


def no_runs(task: str, stores: Stores) -> HarnessError:
    """The error for a task without runs in the store."""
    return HarnessError(
        f"No runs of task {task!r} in the MLflow store {mask(stores.tracking_uri)!r}. "
        f"Run 'harness run {task}' first."
    )


def fold_series(tracker: Tracker, run_id: str, metric: str) -> list[float]:
    """Per-fold scores of a study run's best configuration (`fold_<metric>`, step = fold)."""
    history = tracker.client.get_metric_history(run_id, schema.fold(metric))
    by_step = {m.step: m.value for m in sorted(history, key=lambda m: m.timestamp)}
    return [by_step[s] for s in sorted(by_step)]


def build_board(
    tracker: Tracker,
    task: str,
    runs: list[Any],
    alpha: float = stats.ALPHA,
    *,
    show_all: bool = False,
) -> Board:
    """Rank study runs of one task and test each ranked model against the leader.

    Models that cannot handle the task are the board's `unsupported` footnote, not rows (rows
    with status "unsupported" with `show_all`); older stores recorded them as
    skipped runs, which are folded into the footnote too.

    Raises:
        HarnessError: Ranked runs made on different folds (fingerprints or fold counts).
    """
    unsupported = unsupported_models(task, runs)
    rows = [replace(row_of(run), task=task) for run in runs]
    rows = [r for r in rows if not (r.status == "skipped" and r.model in unsupported)]
    tags_of = {run.info.run_id: run.data.tags for run in runs}
    newest = {  # model -> the study run the board shows
        run.data.tags.get(schema.MODEL): run.info.run_id
        for run in runs
        if run.data.tags.get(schema.KIND) == schema.KIND_STUDY
    }
    rows = [_unless_stale(row, tags_of[row.run_id], newest) for row in rows]
    scored = [r for r in rows if r.status == "ok" and r.cv_mean is not None]
    _refuse_mixed_folds(task, scored)
    metric = next((r.metric for r in rows if r.metric), "")
    maximize = bool(metric) and get_metric(metric).direction == "maximize"
    sign = -1.0 if maximize else 1.0
    # an ensemble that only ties a single model (e.g. all its weight on it) ranks after it
    scored.sort(key=lambda r: (sign * r.cv_mean, r.family == schema.KIND_ENSEMBLE, r.model))
    series = {r.model: fold_series(tracker, r.run_id, metric) for r in scored}
    counts = {m: len(s) for m, s in series.items()}
    if len(set(counts.values())) > 1:
        detail = ", ".join(f"{m}: {n}" for m, n in sorted(counts.items()))
        raise HarnessError(
            f"Task {task!r}: the newest runs have different numbers of fold scores ({detail}), "
            "so they cannot be compared fold by fold. Rerun them with the same --folds, "
            "--repeats and --seed."
        )
    ratio = fold_size_ratio(tags_of[scored[0].run_id]) if scored else None
    leader = series[scored[0].model] if scored else []
    comparable = {
        r.model: series[r.model]
        for r in scored[1:]
        if len(series[r.model]) >= 2 and len(series[r.model]) == len(leader)
    }
    tests = stats.versus_leader(
        leader, comparable, test_train_ratio=ratio, maximize=maximize, alpha=alpha
    )
    ranked = []
    for i, r in enumerate(scored):
        p_value, not_worse = (1.0, True) if i == 0 else (None, None)
        if r.model in tests:
            p_value, not_worse = tests[r.model].p_value, not tests[r.model].significant
        interval = stats.mean_interval(series[r.model], test_train_ratio=ratio or 0.0)
        low, high = interval or (None, None)
        if interval:  # an interval of ROC AUC ends at 1, one of an error at 0
            floor, ceiling = get_metric(metric).bounds
            low, high = max(low, floor), min(high, ceiling)
        ranked.append(
            replace(r, rank=i + 1, p_value=p_value, not_worse=not_worse, cv_low=low, cv_high=high)
        )
    rest = sorted((r for r in rows if r not in scored), key=lambda r: (r.status, r.model))
    if show_all:
        rest += [_unsupported_row(task, metric, name, why) for name, why in unsupported.items()]
    return Board(task, metric, maximize, ranked + rest, series, ratio, alpha, unsupported)


def unsupported_models(task: str, runs: list[Any]) -> dict[str, str]:
    """The registered models that cannot handle the task of these study runs, with the reason.

    The modality and problem type come from the runs' tags (`harness.modality` is written since
    December 2026; an older store's runs fall back on the registered task of that name, else
    tabular).
    """
    from harness import registry
    from harness.errors import UnknownNameError

    tags = [run.data.tags for run in runs if run.data.tags.get(schema.KIND) == schema.KIND_STUDY]
    modality = next((t[schema.MODALITY] for t in tags if t.get(schema.MODALITY)), None)
    problem = next((t[schema.PROBLEM_TYPE] for t in tags if t.get(schema.PROBLEM_TYPE)), None)
    if modality is None or problem is None:
        try:
            known = registry.get_task(task)
        except UnknownNameError:
            known = None
        modality = modality or (known.modality if known else "tabular")
        problem = problem or (known.problem_type if known else None)
    if problem is None:
        return {}
    return registry.unsupported(modality, problem)


def _unsupported_row(task: str, metric: str, model: str, reason: str) -> Row:
    """A row for a model that cannot handle the task (shown with `--all`); it has no run."""
    from harness import registry

    return Row(
        rank=None,
        model=model,
        family=registry.get_model(model).family,
        status="unsupported",
        metric=metric,
        cv_mean=None,
        cv_std=None,
        holdout=None,
        gap=None,
        fit_seconds=None,
        predict_seconds_per_1000=None,
        trials=None,
        device="",
        reason=reason,
        folds=None,
        p_value=None,
        not_worse=None,
        folds_fingerprint="",
        run_id="",
        task=task,
    )


def _unless_stale(row: Row, tags: dict, newest: dict[str, str]) -> Row:
    """An ensemble row whose members have newer study runs on the board is stale: it blends
    studies the board no longer shows, so it is listed with the reason instead of ranked."""
    import json

    if row.family != schema.KIND_ENSEMBLE or row.status != "ok":
        return row
    try:
        members = json.loads(tags.get(schema.ENSEMBLE_RUNS, "{}"))
    except ValueError:
        return row
    rerun = sorted(m for m, run_id in members.items() if newest.get(m, run_id) != run_id)
    if not rerun:
        return row
    return replace(
        row,
        status="stale",
        reason=f"{', '.join(rerun)} {'was' if len(rerun) == 1 else 'were'} tuned again since; "
        "a run of two or more models builds a new ensemble",
    )


def _refuse_mixed_folds(task: str, scored: list[Row]) -> None:
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


def run_board(tracker: Tracker, task: str, run_ids: list[str]) -> Board:
    """The board of the given study runs (the ones a `harness run` just made)."""
    runs = [tracker.client.get_run(run_id) for run_id in run_ids]
    return build_board(tracker, task, runs)


def newest_study_runs(tracker: Tracker, task: str) -> list[Any]:
    """The newest study run of each model of the task, and the newest ensemble run (tag
    `harness.kind` = ensemble) when there is one; empty when the task has no study run."""
    newest: dict[str, Any] = {}
    for run in tracker.search(task, schema.of_kind(schema.KIND_STUDY)):  # newest first
        newest.setdefault(run.data.tags.get(schema.MODEL, "?"), run)
    if newest:
        for run in tracker.search(task, schema.of_kind(schema.KIND_ENSEMBLE))[:1]:
            newest.setdefault(run.data.tags.get(schema.MODEL, "?"), run)
    return list(newest.values())


def task_board(
    tracker: Tracker, task: str, alpha: float = stats.ALPHA, *, show_all: bool = False
) -> Board:
    """The task's leaderboard; raises if there are no runs or the folds differ (`show_all`:
    models that cannot handle the task are rows too)."""
    runs = newest_study_runs(tracker, task)
    if not runs:
        raise no_runs(task, tracker.stores)
    return build_board(tracker, task, runs, alpha, show_all=show_all)


def task_rows(tracker: Tracker, task: str) -> list[Row]:
    """The task's leaderboard rows, ranked; raises if there are no runs or the folds differ."""
    return task_board(tracker, task).rows


def chosen_row(tracker: Tracker, task: str, model: str | None, what: str) -> Row:
    """The board row of `model` on `task` (default: the leader, the first ranked row), for a
    command that uses its study run (`what`: "submit", "explain").

    Raises:
        HarnessError: The task has no study that ended ok, the model has no study on the task
            (with the closest name), or its newest study did not end ok.
    """
    rows = task_rows(tracker, task)
    if model is None:
        ranked = [r for r in rows if r.rank is not None]
        if not ranked:
            raise HarnessError(
                f"Task {task!r} has no study that ended ok, so there is nothing to {what}; see "
                f"'harness leaderboard {task}'."
            )
        return ranked[0]
    by_model = {r.model: r for r in rows}
    if model not in by_model:
        import difflib

        close = difflib.get_close_matches(model, list(by_model), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise HarnessError(
            f"Model {model!r} has no study on task {task!r}.{hint} Models with studies: "
            f"{', '.join(sorted(by_model))}."
        )
    row = by_model[model]
    if row.status != "ok":
        raise HarnessError(
            f"The newest study of {model!r} on task {task!r} ended {row.status!r}"
            + (f" ({row.reason})" if row.reason else "")
            + f"; rerun 'harness run {task} --model {model}' first."
        )
    return row


def tasks_with_runs(tracker: Tracker) -> list[str]:
    """Names of the experiments in the store that hold at least one study run, sorted."""
    names = []
    for experiment in tracker.client.search_experiments():
        runs = tracker.client.search_runs(
            [experiment.experiment_id],
            schema.of_kind(schema.KIND_STUDY),
            max_results=1,
        )
        if runs:
            names.append(experiment.name)
    return sorted(names)


# ----------------------------------------------------------------------------- MLflow


def log_board(tracker: Tracker, board: Board, files: dict[str, str | bytes]) -> str:
    """Log a task's leaderboard to MLflow as artifacts of its `leaderboard` run.

    Each task has one run with tag `harness.kind` = `leaderboard` (named "leaderboard"), made on
    first use and updated afterwards, so the MLflow UI shows the current table beside the study
    runs. Study readers filter on `harness.kind` = study and never see it.

    Args:
        tracker: The store.
        board: The leaderboard.
        files: Artifact name -> content (text or bytes), e.g. leaderboard.csv, plots/bars.png.

    Returns:
        The run id.
    """
    import tempfile
    from pathlib import Path

    runs = tracker.search(board.task, schema.of_kind(schema.KIND_LEADERBOARD))
    tags = {
        schema.KIND: schema.KIND_LEADERBOARD,
        schema.TASK: board.task,
        schema.METRIC: board.metric,
        schema.MODELS: len(board.rows),
        schema.CURRENT: "true",  # the UI's filter of the board's runs shows it too
    }
    if runs:
        run_id = runs[0].info.run_id
    else:
        run_id = tracker.start_run(board.task, schema.KIND_LEADERBOARD, tags)
        tracker.end_run(run_id)
    leader = board.ranked[0] if board.ranked else None
    tracker.log(
        run_id,
        tags={**tags, schema.LEADER: leader.model if leader else ""},
        metrics={"models_ranked": len(board.ranked)},
    )
    current.settle(tracker, board.task, schema.KIND_LEADERBOARD, None)  # two made at once
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in files.items():
            path = Path(tmp, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
            folder = str(Path(name).parent) if "/" in name else None
            tracker.log_artifact(run_id, path, folder)
    return run_id
