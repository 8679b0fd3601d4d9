"""The summary across tasks: mean rank, normalized score, wins, Elo, Friedman-Nemenyi."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.results import stats
from harness.results.leaderboard import BASELINE_MODEL, BASES, Board, Row

__all__ = ["Summary", "SummaryRow", "summarize"]

# ----------------------------------------------------------------------------- across tasks


@dataclass(frozen=True)
class SummaryRow:
    """One model's line in the across-task summary.

    Attributes:
        model: Model name.
        family: Model family.
        tasks_ok: Tasks where it finished ok.
        tasks_failed: Tasks where it ran and did not finish ok (failed, timeout, ...).
        tasks_missing: Tasks of the summary where it has no run or was skipped as unsupported.
        mean_rank: Mean rank over the tasks where it ran (failed ones rank last on their task).
        normalized: Mean normalized score (dummy 0, best 1; a failure counts 0) over tasks with a
            dummy run; None when no task has one.
        wins: Tasks where it ranks first (ties count for each).
        elo: Bradley-Terry rating on the Elo scale (1000 = average model).
        elo_low: Lower end of the bootstrap interval.
        elo_high: Upper end of the bootstrap interval.
    """

    model: str
    family: str
    tasks_ok: int
    tasks_failed: int
    tasks_missing: int
    mean_rank: float | None
    normalized: float | None
    wins: int
    elo: float | None
    elo_low: float | None
    elo_high: float | None


@dataclass(frozen=True)
class Summary:
    """The across-task summary with its notes (what was left out and why)."""

    basis: str
    rows: list[SummaryRow]
    tasks: list[str]
    friedman: stats.Friedman | None
    notes: list[str]
    rank_table: dict[str, dict[str, float]] = field(default_factory=dict)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _score(row: Row, basis: str) -> float | None:
    if row.status != "ok":
        return None
    return row.cv_mean if basis == "cv" else row.holdout


def summarize(
    boards: list[Board], *, basis: str = "cv", bootstrap: int = 200, seed: int = 0
) -> Summary:
    """The across-task table: mean rank, normalized score, wins and Bradley-Terry ratings.

    Args:
        boards: One leaderboard per task.
        basis: Score every cross-task statistic on the mean CV score ("cv", the default, as
            the per-task ranks) or on the holdout score ("holdout").
        bootstrap: Bootstrap replicates (over tasks) of the rating intervals.
        seed: Seed of the bootstrap.
    """
    if basis not in BASES:
        raise ValueError(f"basis must be one of {BASES}, got {basis!r}")
    notes: list[str] = []
    per_task: list[dict[str, float | None]] = []
    ups: list[bool] = []
    families: dict[str, str] = {}
    rank_table: dict[str, dict[str, float]] = {}
    normalized: dict[str, list[float]] = {}
    wins: dict[str, int] = {}
    ok: dict[str, int] = {}
    failed: dict[str, int] = {}
    for board in boards:
        present = [r for r in board.rows if r.status != "skipped"]
        scores = {r.model: _score(r, basis) for r in present}
        for r in board.rows:
            families.setdefault(r.model, r.family)
        per_task.append(scores)
        ups.append(board.maximize)
        rank_table[board.task] = stats.ranks(scores, maximize=board.maximize)
        for r in present:
            counter = ok if scores[r.model] is not None else failed
            counter[r.model] = counter.get(r.model, 0) + 1
        valid = [s for s in scores.values() if s is not None]
        if not valid:
            notes.append(f"{board.task}: no model finished ok.")
            continue
        best = max(valid) if board.maximize else min(valid)
        for model, score in scores.items():
            if score == best:
                wins[model] = wins.get(model, 0) + 1
        baseline = scores.get(BASELINE_MODEL)
        if baseline is None:
            notes.append(
                f"{board.task}: no ok '{BASELINE_MODEL}' run, so no normalized scores "
                "(run it with --model dummy)."
            )
            continue
        for model, score in scores.items():
            value = 0.0 if score is None else stats.normalized_score(score, baseline, best)
            normalized.setdefault(model, []).append(value)
    models = sorted(families)
    ratings = {
        r.model: r
        for r in stats.bradley_terry(per_task, maximize=ups, bootstrap=bootstrap, seed=seed)
    }
    rows = []
    for model in models:
        ranks = [table[model] for table in rank_table.values() if model in table]
        rating = ratings.get(model)
        rows.append(
            SummaryRow(
                model=model,
                family=families[model],
                tasks_ok=ok.get(model, 0),
                tasks_failed=failed.get(model, 0),
                tasks_missing=len(boards) - ok.get(model, 0) - failed.get(model, 0),
                mean_rank=sum(ranks) / len(ranks) if ranks else None,
                normalized=_mean(normalized.get(model, [])),
                wins=wins.get(model, 0),
                elo=rating.elo if rating else None,
                elo_low=rating.low if rating else None,
                elo_high=rating.high if rating else None,
            )
        )
    rows.sort(key=lambda r: (r.mean_rank is None, r.mean_rank or 0, -(r.elo or 0), r.model))
    everywhere = [m for m in models if all(m in t for t in rank_table.values())]
    missing = [m for m in models if m not in everywhere]
    if missing:
        notes.append(
            "Not on every task, so left out of the critical-difference test: "
            + ", ".join(missing)
            + "."
        )
    complete = {
        task: stats.ranks({m: s for m, s in scores.items() if m in everywhere}, maximize=up)
        for task, scores, up in zip(rank_table, per_task, ups, strict=True)
    }
    test = stats.friedman(complete) if len(everywhere) >= 2 else None
    return Summary(basis, rows, [b.task for b in boards], test, notes, complete)
