"""Does the CV rank the models the way the holdout does? Per task, and per time-ordered scheme.

For each task, each model's defaults (trial 0) are scored by the task's CV on the training part
and refitted on the whole training part to score the holdout once, as `harness run` does. Over
the task's non-baseline models it reports the rank correlation of CV mean and holdout score
(Spearman's rho and Kendall's tau) and the **pick regret**: how much worse on the holdout the
model with the best CV is than the model with the best holdout (0 = the CV picked the best).

Time-ordered tasks (hotel_rates, flights) are scored under several forward-chaining schemes
(`--schemes`), the holdout staying the same; each scheme is a way to cut the training part:

- `sklearn`: scikit-learn's `TimeSeriesSplit(K)`: K + 1 equal blocks, fold i trains on blocks
  1..i and validates block i + 1 (the first fold trains on a sixth of the rows). The harness's
  scheme up to 0.2.
- `half`: the K validation blocks share the latest half of the training part; the first fold
  trains on the earliest half (`TimeSeriesSplit(K, test_size=n // (2K))`).
- `recent`: the same with the latest quarter: the first fold trains on 75% of the rows.
- `harness`: whatever `harness.protocol.splits.prepare` does now.

    python benchmarks/cv_holdout.py --tasks hotel_rates --schemes sklearn half harness
    python benchmarks/cv_holdout.py                      # every tabular task, the harness scheme
    python benchmarks/cv_holdout.py --show benchmarks/results/cv_holdout-<time>.json

It prints a Markdown table per task (models) and one summary row per (task, scheme), and writes
`benchmarks/results/cv_holdout-<UTC time>.json` after every model.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from typing import Any

import numpy as np
from benchlib import Results, fmt, markdown, parse_args

FAST = (
    "linear",
    "elastic_net",
    "knn",
    "naive_bayes",
    "svm",
    "random_forest",
    "extra_trees",
    "hist_gradient_boosting",
    "xgboost",
    "lightgbm",
    "catboost",
)
SHARES = {"half": 0.5, "recent": 0.75}
SCHEMES = ("sklearn", "half", "recent", "harness")


def time_folds(n: int, k: int, scheme: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """Forward-chaining (train, validation) pairs over n time-ordered rows."""
    from sklearn.model_selection import TimeSeriesSplit

    if scheme == "sklearn":
        splitter = TimeSeriesSplit(n_splits=k)
    elif scheme in SHARES:  # the first fold trains on this share of the rows
        splitter = TimeSeriesSplit(n_splits=k, test_size=int(n * (1 - SHARES[scheme])) // k)
    else:
        raise ValueError(scheme)
    return list(splitter.split(np.zeros(n)))


def correlations(cv: list[float], holdout: list[float], maximize: bool) -> dict[str, Any]:
    """Spearman, Kendall and the pick regret of CV means against holdout scores."""
    from scipy import stats

    if len(cv) < 3:
        return {"spearman": None, "kendall": None, "regret": None}
    sign = 1.0 if maximize else -1.0
    picked = int(np.argmax(sign * np.asarray(cv)))
    best = max(sign * h for h in holdout)
    return {
        "spearman": float(stats.spearmanr(cv, holdout).statistic),
        "kendall": float(stats.kendalltau(cv, holdout).statistic),
        "regret": float(best - sign * holdout[picked]),
    }


def measure(task_name: str, models: list[str], schemes: list[str], jobs: int, results: Results):
    from harness import registry
    from harness.contracts.metrics import get_metric
    from harness.protocol.cv import cross_validate, fit_and_predict, spec_for
    from harness.protocol.splits import prepare

    task = registry.get_task(task_name)
    data = prepare(task, task.load(), folds=task.folds, seed=0)
    metric = get_metric(task.metric)
    spec = spec_for(task.problem_type, task.modality, data, n_jobs=jobs)
    variants = {"harness": data}
    if data.ordered:
        for scheme in schemes:
            if scheme != "harness":
                folds = time_folds(len(data.y), len(data.folds), scheme)
                variants[scheme] = dataclasses.replace(data, folds=tuple(folds))
    else:
        schemes = ["harness"]
    variants = {s: variants[s] for s in schemes}
    rows = []
    for name in models:
        model = registry.get_model(name)
        if model.unsupported_reason(task.modality, task.problem_type):
            continue
        params = dict(model.defaults)
        started = time.perf_counter()
        prediction, _, _ = fit_and_predict(
            model, params, spec, 0, data.X, data.y, data.holdout_X, data.n_classes
        )
        row = {
            "task": task_name,
            "model": name,
            "metric": task.metric,
            "holdout": metric.score(data.holdout_y, prediction),
        }
        for scheme, variant in variants.items():
            scores = cross_validate(model, params, variant, spec, (task.metric,), seed=0)
            row[scheme] = float(np.mean(scores.scores[task.metric]))
            row[f"{scheme}_folds"] = scores.scores[task.metric]
        row["seconds"] = time.perf_counter() - started
        results.add(row)
        rows.append(row)
        print(f"{task_name} {name}: " + ", ".join(f"{k} {fmt(row[k], 4)}" for k in
              ("holdout", *variants)) + f" ({row['seconds']:.0f} s)", flush=True)  # fmt: skip
    return rows


def summary_rows(results: list[dict]) -> list[dict]:
    """One row per (task, scheme): the correlations over the task's models."""
    from harness.contracts.metrics import get_metric

    out = []
    for task in dict.fromkeys(r["task"] for r in results):
        rows = [r for r in results if r["task"] == task]
        maximize = get_metric(rows[0]["metric"]).direction == "maximize"
        for scheme in [s for s in SCHEMES if s in rows[0]]:
            stats = correlations([r[scheme] for r in rows], [r["holdout"] for r in rows], maximize)
            out.append({"task": task, "scheme": scheme, "models": len(rows), **stats})
    return out


def table(results: list[dict]) -> str:
    parts = []
    for task in dict.fromkeys(r["task"] for r in results):
        rows = [r for r in results if r["task"] == task]
        schemes = [s for s in SCHEMES if s in rows[0]]
        header = ["model", "holdout", *(f"CV {s}" for s in schemes), "s"]
        body = [
            [
                r["model"],
                fmt(r["holdout"], 4),
                *(fmt(r[s], 4) for s in schemes),
                fmt(r["seconds"], 0),
            ]
            for r in rows
        ]
        parts.append(f"### {task} ({rows[0]['metric']})\n\n" + markdown(header, body))
    summary = summary_rows(results)
    header = ["task", "scheme", "models", "Spearman", "Kendall", "pick regret"]
    body = [
        [s["task"], s["scheme"], s["models"], fmt(s["spearman"]), fmt(s["kendall"]),
         fmt(s["regret"], 4)]
        for s in summary
    ]  # fmt: skip
    spearman = [
        s["spearman"]
        for s in summary
        if s["spearman"] is not None and not math.isnan(s["spearman"])
    ]
    mean = (
        f"\n\nMean Spearman over {len(spearman)} rows: {np.mean(spearman):.3f}" if spearman else ""
    )
    return "\n\n".join(parts) + "\n\n### Summary\n\n" + markdown(header, body) + mean


def main(argv: list[str] | None = None) -> None:
    from harness import registry

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", help="default: every tabular task")
    parser.add_argument("--models", nargs="+", default=list(FAST))
    parser.add_argument("--schemes", nargs="+", default=["harness"], choices=SCHEMES)
    parser.add_argument("--jobs", type=int, default=2, help="threads per model")
    args = parse_args(parser, argv, table)
    if args is None:
        return
    tasks = args.tasks or [n for n, t in registry.tasks().items() if t.modality == "tabular"]
    results = Results("cv_holdout", vars(args))
    for task in tasks:
        measure(task, args.models, args.schemes, args.jobs, results)
    print(table(results.payload["results"]))


if __name__ == "__main__":
    main()
