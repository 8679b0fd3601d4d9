"""Portfolios learned from the catalog: which configurations to try right after the defaults.

Three steps, each resumable, each reading what the one before wrote under
`benchmarks/portfolio/` (committed: a few hundred kilobytes, so a choice can be remade and
studied without refitting anything):

1. `evaluate`: for every tabular model family, `--candidates` configurations are drawn at random
   from its search space (seeded; candidate 0 is the model's defaults) into `candidates.json`,
   and each is cross-validated on every tabular task of the catalog: `--folds` folds of the
   task's training part (the holdout is never touched), row-sampled to `--max-rows` rows, one
   thread per fit, `--processes` fits at once, each fit stopped at `--fit-seconds` (boosters and
   networks keep their best round so far; `harness.protocol.deadline`). Every fold score goes
   to `scores.csv`.
2. `choose`: per family, greedy forward selection (TabRepo's zeroshot portfolios; Salinas and
   Erickson 2024): with the defaults already in the set (trial 0 of every study), add the
   candidate that most raises the mean over tasks of the best normalized score in the set
   (per task, a candidate's mean CV score scaled to 0 for the family's worst candidate and 1 for
   its best), until `--size` configurations or no gain. `--exclude TASK` leaves tasks out (the
   leave-one-task-out portfolios of `compare`). Writes `harness/tuning/portfolio.json` (or
   `--out`), the file `harness run` uses.
3. `compare`: leave one task out. For each task, a portfolio chosen without it is compared with
   what a study does without one (the defaults, then the sampler's random start-up trials,
   here drawn from the candidates that are not the defaults, averaged over `--orders` seeded
   orders) after 1, 3 and 8 trials (equal trials) and after the seconds the portfolio's first
   1, 3 and 8 trials took (equal seconds: each arm's trials run until their fit seconds pass
   that). Score: normalized as in `choose`, averaged over the families that can handle the task.
   Prints a table per task with win/tie/loss counts and the mean, and writes the JSON results.

    python benchmarks/portfolio.py evaluate                 # the full table (hours on 2 cores)
    python benchmarks/portfolio.py evaluate --tasks penguins wine --models xgboost --candidates 6
    python benchmarks/portfolio.py choose                   # harness/tuning/portfolio.json
    python benchmarks/portfolio.py compare                  # leave-one-task-out, 1/3/8 trials
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from benchlib import Results, fmt, markdown

HERE = Path(__file__).resolve().parent
FOLDER = HERE / "portfolio"
CANDIDATES = FOLDER / "candidates.json"
SCORES = FOLDER / "scores.csv"
SHIPPED = HERE.parent / "harness" / "tuning" / "portfolio.json"
# Tabular families with a search space worth a portfolio (baselines have none; the networks
# cost minutes a configuration on 2 CPU cores and wait for a GPU session).
MODELS = (
    "xgboost",
    "lightgbm",
    "catboost",
    "hist_gradient_boosting",
    "random_forest",
    "extra_trees",
    "linear",
    "elastic_net",
    "knn",
    "svm",
)
SCORE_FIELDS = ("model", "config", "task", "fold", "metric", "score", "fit_seconds", "cut_short")
TRIALS = (1, 3, 8)
SIZE = 7  # configurations after the defaults: trials 1..7, so 8 trials try the whole portfolio
TIE = 0.005  # normalized-score differences smaller than this are ties


# --- 1. evaluate ----------------------------------------------------------------------------


def draw_candidates(models: Sequence[str], count: int) -> dict[str, list[dict]]:
    """`count` configurations per model: its defaults, then seeded random draws of its search
    space (drawn for a skewed regression task, whose space is the widest: `adapt` drops what a
    task does not use)."""
    import optuna

    from harness import registry
    from harness.contracts.model import BuildSpec

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    spec = BuildSpec(
        problem_type="regression",
        modality="tabular",
        feature_kinds={"x": "numeric", "c": "categorical"},
        n_classes=0,
        n_rows=10_000,
        target_skewed=True,
    )
    drawn: dict[str, list[dict]] = {}
    for name in models:
        model = registry.get_model(name)
        configs = [dict(model.defaults)]
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        while len(configs) < count:
            trial = study.ask()
            params = model.sample(trial, spec)
            study.tell(trial, 0.0)
            if params not in configs:
                configs.append(params)
        drawn[name] = configs
    return drawn


def candidates(models: Sequence[str], count: int) -> dict[str, list[dict]]:
    """The candidates in `candidates.json`, drawn for models it lacks (or with fewer than
    `count`); those already there stay, so a resumed evaluation scores the same ones."""
    stored = json.loads(CANDIDATES.read_text()) if CANDIDATES.exists() else {}
    missing = [m for m in models if len(stored.get(m, [])) < count]
    if missing:
        stored.update(draw_candidates(missing, count))
        FOLDER.mkdir(parents=True, exist_ok=True)
        CANDIDATES.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    return {m: stored[m][:count] for m in models}


_DATA: dict[tuple, object] = {}


def sampled_training_part(task_name: str, folds: int, max_rows: int, seed: int = 0):
    """The task's training part (the holdout split off as `harness run` does, then dropped),
    at most `max_rows` rows of it (seeded; time-ordered rows keep their order), with `folds`
    new folds of the protocol's kind. Cached per process."""
    from harness import registry
    from harness.protocol.splits import forward_chaining, prepare

    key = (task_name, folds, max_rows, seed)
    if key in _DATA:
        return _DATA[key]
    task = registry.get_task(task_name)
    data = prepare(task, task.load(), folds=task.folds, seed=seed)
    keep = np.arange(len(data.y))
    if len(keep) > max_rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(keep), max_rows, replace=False))
    X, y = data.X.iloc[keep].reset_index(drop=True), data.y[keep]
    if data.ordered:
        pairs = forward_chaining(len(y), folds)
    elif data.n_classes:
        from sklearn.model_selection import StratifiedKFold

        pairs = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y))
    else:
        from sklearn.model_selection import KFold

        pairs = list(KFold(folds, shuffle=True, random_state=seed).split(X))
    sampled = replace(data, X=X, y=y, folds=tuple(pairs), repeats=1, folds_of=0)
    _DATA[key] = (task, sampled)
    return _DATA[key]


def _score_one(job: tuple) -> list[dict]:
    """Cross-validate one candidate on one task; its fold rows for `scores.csv`."""
    from harness import registry
    from harness.protocol import deadline as deadlines
    from harness.protocol.cv import cross_validate, spec_for
    from harness.tuning.portfolio import adapt

    task_name, model_name, number, params, folds, max_rows, fit_seconds = job
    task, data = sampled_training_part(task_name, folds, max_rows)
    model = registry.get_model(model_name)
    spec = spec_for(task.problem_type, task.modality, data, n_jobs=1)
    base = {"model": model_name, "config": number, "task": task_name, "metric": task.metric}
    adapted, _ = adapt(model, spec, params)
    if adapted is None:  # a choice the task's space lacks: no score, the selection skips it
        return [{**base, "fold": f, "score": "", "fit_seconds": "", "cut_short": ""}
                for f in range(folds)]  # fmt: skip
    start = time.monotonic()
    try:
        with deadlines.fitting_until(start + fit_seconds * folds):
            scores = cross_validate(model, adapted, data, spec, (task.metric,), seed=0)
    except Exception as exc:  # a configuration that fails on a task scores nothing there
        print(f"  {task_name} {model_name} #{number} failed: {exc}", file=sys.stderr)
        return [{**base, "fold": f, "score": "", "fit_seconds": "", "cut_short": ""}
                for f in range(folds)]  # fmt: skip
    cut = scores.fit_info.get("cut_short", [0.0] * folds)
    return [
        {
            **base,
            "fold": f,
            "score": repr(float(scores.scores[task.metric][f])),
            "fit_seconds": f"{scores.fit_seconds[f]:.3f}",
            "cut_short": int(cut[f]),
        }
        for f in range(folds)
    ]


def _worker_start() -> None:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        os.nice(10)  # the build yields to interactive work on the same machine
    except OSError:
        pass


def evaluate(args: argparse.Namespace) -> None:
    import multiprocessing

    from harness import registry

    tasks = args.tasks or tabular_tasks()
    drawn = candidates(args.models, args.candidates)
    done = {(r["task"], r["model"], int(r["config"])) for r in read_scores()}
    # Candidate by candidate over every task: a build stopped early still has whole columns
    # (every task) of its first candidates, which `choose` and `compare` can use.
    jobs = [
        (task, model, number, params, args.folds, args.max_rows, args.fit_seconds)
        for number in range(args.candidates)
        for task in tasks
        for model in args.models
        if not registry.get_model(model).unsupported_reason("tabular", registry.get_task(task).problem_type)
        for params in [drawn[model][number]]
        if (task, model, number) not in done
    ]  # fmt: skip
    print(f"{len(jobs)} configurations x tasks to score ({len(done)} done before)", flush=True)
    new = not SCORES.exists()
    FOLDER.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(SCORES, "a", newline="") as out:
        writer = csv.DictWriter(out, SCORE_FIELDS)
        if new:
            writer.writeheader()
        context = multiprocessing.get_context("fork")
        with context.Pool(args.processes, initializer=_worker_start, maxtasksperchild=500) as pool:
            for count, rows in enumerate(pool.imap_unordered(_score_one, jobs), start=1):
                writer.writerows(rows)
                out.flush()
                if count % 25 == 0 or count == len(jobs):
                    spent = time.monotonic() - started
                    print(f"  {count}/{len(jobs)} in {spent / 60:.1f} min", flush=True)


def tabular_tasks() -> list[str]:
    from harness import registry

    return sorted(n for n, t in registry.tasks().items() if t.modality == "tabular")


def read_scores(path: Path | None = None, candidates: int | None = None) -> list[dict]:
    """The rows of `scores.csv`, of the first `candidates` candidates only when given (those
    an unfinished build scored on every task)."""
    path = path or SCORES
    if not path.exists():
        return []
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    return [r for r in rows if candidates is None or int(r["config"]) < candidates]


# --- 2. choose ------------------------------------------------------------------------------


def mean_scores(rows: Iterable[dict]) -> dict[str, dict[str, dict[int, tuple[float, float]]]]:
    """model -> task -> config -> (mean CV score, fit seconds of its folds); configurations
    without a score on every fold are left out."""
    folds: dict[tuple, list] = defaultdict(list)
    for row in rows:
        folds[(row["model"], row["task"], int(row["config"]))].append(row)
    table: dict = defaultdict(lambda: defaultdict(dict))
    for (model, task, config), found in folds.items():
        if any(r["score"] in ("", "nan") for r in found):
            continue
        score = float(np.mean([float(r["score"]) for r in found]))
        seconds = float(np.sum([float(r["fit_seconds"]) for r in found]))
        if np.isfinite(score):
            table[model][task][config] = (score, seconds)
    return table


def normalized(
    table: dict[str, dict[int, tuple[float, float]]], maximize: dict[str, bool]
) -> dict[str, dict[int, float]]:
    """task -> config -> score scaled to 0 (the worst candidate) .. 1 (the best) on the task."""
    scaled: dict[str, dict[int, float]] = {}
    for task, configs in table.items():
        values = {c: (s if maximize[task] else -s) for c, (s, _) in configs.items()}
        low, high = min(values.values()), max(values.values())
        span = high - low
        scaled[task] = {c: (v - low) / span if span > 0 else 1.0 for c, v in values.items()}
    return scaled


def greedy(scaled: dict[str, dict[int, float]], size: int, start: Sequence[int] = (0,)) -> list[int]:
    """Candidates added to `start` one at a time, each the one that most raises the mean over
    tasks of the best normalized score in the set; stops at `size` added or when none helps."""
    chosen = list(start)
    tasks = [t for t, configs in scaled.items() if configs]
    pool = sorted({c for configs in scaled.values() for c in configs} - set(chosen))

    def value(members: Sequence[int]) -> float:
        return float(np.mean([max((scaled[t].get(c, 0.0) for c in members), default=0.0)
                              for t in tasks]))  # fmt: skip

    current = value(chosen)
    while len(chosen) - len(start) < size and pool:
        best = max(pool, key=lambda c: (value([*chosen, c]), -c))
        gain = value([*chosen, best]) - current
        if gain <= 1e-9:
            break
        chosen.append(best)
        pool.remove(best)
        current += gain
    return chosen[len(start):]


def task_directions(rows: Iterable[dict]) -> dict[str, bool]:
    from harness.contracts.metrics import get_metric

    return {r["task"]: get_metric(r["metric"]).direction == "maximize" for r in rows}


def choose_portfolio(
    rows: list[dict], drawn: dict[str, list[dict]], size: int, exclude: Sequence[str] = ()
) -> dict[str, list[int]]:
    """model -> the chosen candidates' numbers, best first, without the `exclude` tasks."""
    maximize = task_directions(rows)
    table = mean_scores(rows)
    chosen = {}
    for model in sorted(table):
        if model not in drawn:
            continue
        kept = {t: c for t, c in table[model].items() if t not in exclude}
        chosen[model] = greedy(normalized(kept, maximize), size)
    return chosen


def portfolio_file(
    chosen: dict[str, list[int]], drawn: dict[str, list[dict]], about: dict
) -> dict:
    from harness.tuning.portfolio import FORMAT

    return {
        "format": FORMAT,
        **about,
        "models": {m: [drawn[m][c] for c in numbers] for m, numbers in chosen.items()},
        "candidates_chosen": chosen,
    }


def choose(args: argparse.Namespace) -> None:
    rows = read_scores(candidates=args.candidates)
    if not rows:
        sys.exit(f"No scores in {SCORES}: run 'python benchmarks/portfolio.py evaluate' first.")
    drawn = json.loads(CANDIDATES.read_text())
    chosen = choose_portfolio(rows, drawn, args.size, args.exclude)
    tasks = sorted({r["task"] for r in rows} - set(args.exclude))
    about = {
        "built_with": "python benchmarks/portfolio.py choose"
        + (f" --candidates {args.candidates}" if args.candidates else "")
        + (f" --exclude {' '.join(args.exclude)}" if args.exclude else ""),
        "scores": str(SCORES.relative_to(HERE.parent)) if SCORES.is_relative_to(HERE.parent)
        else str(SCORES),
        "tasks": tasks,
        "candidates": {m: min(len(c), args.candidates or len(c)) for m, c in drawn.items()},
        "settings": _settings(rows),
    }
    out = Path(args.out) if args.out else SHIPPED
    out.write_text(json.dumps(portfolio_file(chosen, drawn, about), indent=1) + "\n")
    for model, numbers in chosen.items():
        print(f"{model:24} candidates {numbers}")
    print(f"Wrote {out}")


def _settings(rows: list[dict]) -> dict:
    folds = {int(r["fold"]) for r in rows}
    return {"folds": len(folds)}


# --- 3. compare -----------------------------------------------------------------------------


def _best_after(order: Sequence[int], scaled: dict[int, float], k: int) -> float:
    return max((scaled.get(c, 0.0) for c in order[:k]), default=0.0)


def _best_within(order: Sequence[int], scaled: dict[int, float], secs: dict[int, float],
                 budget: float) -> float:  # fmt: skip
    """The best normalized score among the trials of `order` that ran within `budget` seconds
    (the defaults always run: every study starts with them)."""
    spent, best = 0.0, scaled.get(order[0], 0.0)
    for c in order:
        spent += secs.get(c, 0.0)
        if spent > budget and c != order[0]:
            break
        best = max(best, scaled.get(c, 0.0))
    return best


def compare(args: argparse.Namespace) -> None:
    rows = read_scores(candidates=args.candidates)
    if not rows:
        sys.exit(f"No scores in {SCORES}: run 'python benchmarks/portfolio.py evaluate' first.")
    drawn = json.loads(CANDIDATES.read_text())
    maximize = task_directions(rows)
    table = mean_scores(rows)
    tasks = sorted({r["task"] for r in rows})
    results = Results("portfolio", {"size": args.size, "orders": args.orders, "tasks": tasks})
    rng = np.random.default_rng(0)
    lines = []
    for task in tasks:
        chosen = choose_portfolio(rows, drawn, args.size, exclude=[task])
        row = {"task": task}
        arms: dict[str, list[float]] = defaultdict(list)
        for model, per_task in table.items():
            if task not in per_task or model not in chosen:
                continue
            scaled = normalized({task: per_task[task]}, maximize)[task]
            secs = {c: s for c, (_, s) in per_task[task].items()}
            # After its n configurations a study samples: here, the other candidates at random.
            first = [0, *chosen[model]]
            rest = [c for c in per_task[task] if c not in first]
            others = [c for c in per_task[task] if c != 0]
            ours = [[*first, *rng.permutation(rest).tolist()] for _ in range(args.orders)]
            orders = [[0, *rng.permutation(others).tolist()] for _ in range(args.orders)]
            for k in TRIALS:
                arms[f"portfolio@{k}"].append(
                    float(np.mean([_best_after(o, scaled, k) for o in ours]))
                )
                arms[f"random@{k}"].append(
                    float(np.mean([_best_after(o, scaled, k) for o in orders]))
                )
                # equal seconds: the random arm gets what the portfolio's first k trials took
                budgets = [sum(secs.get(c, 0.0) for c in o[:k]) for o in ours]
                arms[f"random@{k}s"].append(
                    float(np.mean([_best_within(o, scaled, secs, b)
                                   for o, b in zip(orders, budgets, strict=True)]))
                )  # fmt: skip
        row.update({arm: float(np.mean(values)) for arm, values in arms.items()})
        row["families"] = len(arms.get("portfolio@1", []))
        results.add(row)
        lines.append(row)
    header = ["task", "families"]
    for k in TRIALS:
        header += [f"portfolio {k}", f"random {k}", f"random {k} (equal s)"]
    table_rows = [
        [r["task"], r["families"]]
        + [fmt(r.get(f"{arm}@{k}{s}")) for k in TRIALS
           for arm, s in (("portfolio", ""), ("random", ""), ("random", "s"))]
        for r in lines
    ]  # fmt: skip
    print(markdown(header, table_rows))
    summary = []
    for k in TRIALS:
        for suffix, what in (("", "equal trials"), ("s", "equal seconds")):
            diffs = [r[f"portfolio@{k}"] - r[f"random@{k}{suffix}"] for r in lines]
            wins = sum(d > TIE for d in diffs)
            losses = sum(d < -TIE for d in diffs)
            summary.append(
                [f"{k} trials, {what}", f"{np.mean([r[f'portfolio@{k}'] for r in lines]):.3f}",
                 f"{np.mean([r[f'random@{k}{suffix}'] for r in lines]):.3f}",
                 f"{wins}/{len(diffs) - wins - losses}/{losses}"]
            )  # fmt: skip
    print()
    print(markdown(["after", "portfolio (mean)", "no portfolio (mean)", "win/tie/loss"], summary))
    results.save(summary=summary)
    print(f"\nResults: {results.path}")


def main(argv: Sequence[str] | None = None) -> None:
    global FOLDER, CANDIDATES, SCORES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=None, help=f"default: {FOLDER}")
    steps = parser.add_subparsers(dest="step", required=True)
    ev = steps.add_parser("evaluate", help="score every candidate on every task (scores.csv)")
    ev.add_argument("--tasks", nargs="*", default=None, help="default: every tabular task")
    ev.add_argument("--models", nargs="*", default=list(MODELS))
    ev.add_argument("--candidates", type=int, default=16, help="per model, the defaults included")
    ev.add_argument("--folds", type=int, default=3)
    ev.add_argument("--max-rows", type=int, default=4000, help="training rows per task at most")
    ev.add_argument("--fit-seconds", type=float, default=20.0, help="per fold, then cut short")
    ev.add_argument("--processes", type=int, default=2)
    ch = steps.add_parser("choose", help="greedy portfolio per model (portfolio.json)")
    ch.add_argument("--size", type=int, default=SIZE)
    ch.add_argument("--exclude", nargs="*", default=[], help="tasks to leave out")
    ch.add_argument("--out", default=None, help=f"default: {SHIPPED}")
    ch.add_argument("--candidates", type=int, default=None, help="use the first N only")
    co = steps.add_parser("compare", help="leave one task out: portfolio vs random start")
    co.add_argument("--size", type=int, default=SIZE)
    co.add_argument("--orders", type=int, default=50, help="random orders averaged")
    co.add_argument("--candidates", type=int, default=None, help="use the first N only")
    args = parser.parse_args(argv)
    if args.folder:
        FOLDER = Path(args.folder).resolve()
        CANDIDATES, SCORES = FOLDER / "candidates.json", FOLDER / "scores.csv"
    {"evaluate": evaluate, "choose": choose, "compare": compare}[args.step](args)


if __name__ == "__main__":
    main()
