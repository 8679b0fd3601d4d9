"""The summary across tasks: mean rank, normalized score, wins, Elo, Friedman-Nemenyi.

Like is compared with like: the models that ran on every task of the summary are ranked,
normalized and rated among themselves on all of them; a model with less coverage is listed
apart, after them, with its numbers taken among the models of its own tasks (a mean rank over
two easy tasks says nothing against one over ten). The Friedman test and the critical
difference are given with at least `FRIEDMAN_MIN_TASKS` tasks, else a note says why not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.results import stats
from harness.results.leaderboard import BASELINE_MODEL, BASES, Board, Row

__all__ = ["FRIEDMAN_MIN_TASKS", "Summary", "SummaryRow", "summarize"]

# Below this many tasks the Friedman statistic's chi-square approximation, and so the critical
# difference, is not worth showing (Demsar 2006 asks for more than 10 tasks and 5 models).
FRIEDMAN_MIN_TASKS = 5

# ----------------------------------------------------------------------------- across tasks


@dataclass(frozen=True)
class SummaryRow:
    """One model's line in the across-task summary.

    Attributes:
        model: Model name.
        family: Model family.
        tasks_ok: Tasks where it finished ok.
        tasks_failed: Tasks where it ran and did not finish ok (failed, timeout, ...).
        tasks_missing: Tasks of the summary where it has no run or was skipped (unsupported,
            or the budget ended first).
        mean_rank: Mean rank over the tasks where it ran (failed ones rank last on their task).
        normalized: Mean normalized score (dummy 0, best 1; a failure counts 0) over tasks with a
            dummy run; None when no task has one.
        wins: Tasks where it ranks first (ties count for each).
        elo: Bradley-Terry rating on the Elo scale (1000 = average model).
        elo_low: Lower end of the bootstrap interval.
        elo_high: Upper end of the bootstrap interval.
        complete: Whether it ran on every task of the summary (else its numbers come from its
            own tasks, among the models there, and it is listed apart).
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
    complete: bool = True


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
    ran = [[r for r in b.rows if r.status not in ("skipped", "unsupported")] for b in boards]
    families = {r.model: r.family for rows in ran for r in rows}
    present = {
        board.task: {r.model: _score(r, basis) for r in rows}
        for board, rows in zip(boards, ran, strict=True)
    }
    ok = {m: sum(p.get(m) is not None for p in present.values()) for m in families}
    failed = {m: sum(m in p and p[m] is None for p in present.values()) for m in families}
    everywhere = [m for m in sorted(families) if all(m in p for p in present.values())]
    partial = [m for m in sorted(families) if m not in everywhere]
    rows = []
    if len(everywhere) >= 2 or not partial:
        stats_of = _statistics(boards, present, everywhere, basis, bootstrap, seed, notes)
        rows += [_row(m, families, ok, failed, len(boards), stats_of, True) for m in everywhere]
    else:
        partial = sorted(families)
    if partial:
        notes.append(
            "† Not on every task, so listed apart and ranked among the models of their own tasks: "
            + ", ".join(partial)
            + "."
        )
        said = notes if not rows else []  # the first group's notes already name the tasks
        stats_of = _statistics(boards, present, sorted(families), basis, bootstrap, seed, said)
        rows += [_row(m, families, ok, failed, len(boards), stats_of, False) for m in partial]
    rows.sort(
        key=lambda r: (
            not r.complete,
            -(r.tasks_ok + r.tasks_failed),
            r.mean_rank is None,
            r.mean_rank or 0,
            -(r.elo or 0),
            r.model,
        )
    )
    complete = {
        task: stats.ranks(
            {m: s for m, s in scores.items() if m in everywhere},
            maximize=board.maximize,
        )
        for (task, scores), board in zip(present.items(), boards, strict=True)
    }
    test = None
    if len(everywhere) < 2:
        notes.append("Friedman test not shown: fewer than two models ran on every task.")
    elif len(boards) < FRIEDMAN_MIN_TASKS:
        notes.append(
            f"Friedman test and critical difference not shown: {len(boards)} "
            f"task{'s' if len(boards) != 1 else ''}, and they need at least "
            f"{FRIEDMAN_MIN_TASKS} to mean something."
        )
    else:
        test = stats.friedman(complete)
    return Summary(basis, rows, [b.task for b in boards], test, notes, complete)


@dataclass(frozen=True)
class _Statistics:
    ranks: dict[str, list[float]]
    normalized: dict[str, list[float]]
    wins: dict[str, int]
    ratings: dict[str, stats.Rating]


def _statistics(
    boards: list[Board],
    present: dict[str, dict[str, float | None]],
    models: list[str],
    basis: str,
    bootstrap: int,
    seed: int,
    notes: list[str],
) -> _Statistics:
    """Ranks, normalized scores, wins and ratings of `models`, each task among those of them
    that ran there (the dummy's score stays the normalized scale's zero wherever it ran)."""
    ranks: dict[str, list[float]] = {}
    normalized: dict[str, list[float]] = {}
    wins: dict[str, int] = {}
    per_task, ups = [], []
    for board in boards:
        everything = present[board.task]
        scores = {m: s for m, s in everything.items() if m in models}
        per_task.append(scores)
        ups.append(board.maximize)
        for model, rank in stats.ranks(scores, maximize=board.maximize).items():
            ranks.setdefault(model, []).append(rank)
        valid = [s for s in scores.values() if s is not None]
        if not valid:
            notes.append(f"{board.task}: no model finished ok.")
            continue
        best = max(valid) if board.maximize else min(valid)
        for model, score in scores.items():
            if score == best:
                wins[model] = wins.get(model, 0) + 1
        baseline = everything.get(BASELINE_MODEL)
        if baseline is None:
            notes.append(
                f"{board.task}: no ok '{BASELINE_MODEL}' run, so no normalized scores "
                "(run it with --model dummy)."
            )
            continue
        for model, score in scores.items():
            value = 0.0 if score is None else stats.normalized_score(score, baseline, best)
            normalized.setdefault(model, []).append(value)
    ratings = {
        r.model: r
        for r in stats.bradley_terry(per_task, maximize=ups, bootstrap=bootstrap, seed=seed)
    }
    return _Statistics(ranks, normalized, wins, ratings)


def _row(
    model: str,
    families: dict[str, str],
    ok: dict[str, int],
    failed: dict[str, int],
    tasks: int,
    numbers: _Statistics,
    complete: bool,
) -> SummaryRow:
    rating = numbers.ratings.get(model)
    ranks = numbers.ranks.get(model, [])
    return SummaryRow(
        model=model,
        family=families[model],
        tasks_ok=ok[model],
        tasks_failed=failed[model],
        tasks_missing=tasks - ok[model] - failed[model],
        mean_rank=sum(ranks) / len(ranks) if ranks else None,
        normalized=_mean(numbers.normalized.get(model, [])),
        wins=numbers.wins.get(model, 0),
        elo=rating.elo if rating else None,
        elo_low=rating.low if rating else None,
        elo_high=rating.high if rating else None,
        complete=complete,
    )
