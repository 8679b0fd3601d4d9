"""Scale: wall time and peak memory per model as the `flights` training part grows.

For each size, a seeded sample of the task's training part (kept in time order; the holdout is
the task's own, the latest 20% of all flights, for every size) is split into forward-chaining
folds as `harness run flights` would. For each model, a fresh study worker (forked, as in a
run) cross-validates the model's defaults, then refits them on the sampled training part and
predicts the holdout. Reported: CV seconds (all folds), refit seconds, the worker's peak
resident memory (VmHWM from /proc) and how much it grew over the worker's resident memory after
the fork (which already holds the parent's data), the data's size in memory, the holdout ROC
AUC, and per model the exponent b of seconds ~ rows^b fitted over the sizes (1 = linear).

A model whose CV at one size takes longer than `--cap` seconds (or is killed there) is not run
at the larger sizes.

    python benchmarks/scale.py                                    # 10k, 30k, 100k, all rows
    python benchmarks/scale.py --sizes 10000 30000 --models linear lightgbm --folds 3
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from benchlib import Results, fmt, markdown, parse_args

DEFAULT_MODELS = ("linear", "lightgbm", "xgboost", "hist_gradient_boosting", "random_forest")


def _status_mb(field: str) -> float | None:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return None


def memory_job(context, send) -> dict:
    """Worker job: this worker's current and peak resident memory in MiB."""
    return {"rss_mb": _status_mb("VmRSS"), "peak_mb": _status_mb("VmHWM")}


def _subsample(dataset, holdout_positions: np.ndarray, rows: int | None, seed: int):
    """The dataset with a sample of `rows` training rows and the full task's holdout."""
    from harness.contracts.task import Dataset

    n = len(dataset.X)
    training = np.setdiff1d(np.arange(n), holdout_positions)
    if rows is not None and rows < len(training):
        rng = np.random.default_rng(seed)
        training = np.sort(rng.choice(training, size=rows, replace=False))
    return Dataset(
        X=dataset.X.iloc[training].reset_index(drop=True),
        y=dataset.y.iloc[training].reset_index(drop=True),
        feature_kinds=dataset.feature_kinds,
        holdout_X=dataset.X.iloc[holdout_positions].reset_index(drop=True),
        holdout_y=dataset.y.iloc[holdout_positions].reset_index(drop=True),
        times=dataset.times.iloc[training].reset_index(drop=True),
    )


def bench_model(task, model, data, *, n_jobs: int, cap: float, seed: int) -> dict:
    from harness.contracts.metrics import get_metric
    from harness.execution import jobs as execution_jobs
    from harness.execution.worker import JobFailed, Limits, Worker
    from harness.protocol import cv

    spec = cv.spec_for(task.problem_type, task.modality, data, n_jobs=n_jobs)
    context = execution_jobs.StudyContext(model, data, spec, task.metrics, seed)
    row: dict = {"model": model.name, "rows": len(data.y), "folds": len(data.folds)}
    row["data_mb"] = float(data.X.memory_usage(deep=True).sum() / 2**20)
    with Worker(context, Limits(seconds=cap * 3)) as worker:
        row["worker_start_rss_mb"] = worker.call(memory_job)["rss_mb"]
        try:
            start = time.perf_counter()
            scores = worker.call(execution_jobs.cv_job, dict(model.defaults))
            row["cv_seconds"] = time.perf_counter() - start
            row["cv_fit_seconds"] = float(np.sum(scores.fit_seconds))
            row["cv_score"] = float(np.mean(scores.scores[task.metric]))
            start = time.perf_counter()
            prediction, fit_s, predict_s, info = worker.call(
                execution_jobs.refit_job, dict(model.defaults), data.holdout_X
            )
            row["refit_wall_seconds"] = time.perf_counter() - start
            row["refit_seconds"] = fit_s
            row["refit_rounds_used"] = info.get("rounds_used")
            row["cv_rounds_used"] = scores.fit_info.get("rounds_used")
            row["holdout"] = get_metric(task.metric).score(data.holdout_y, prediction)
            memory = worker.call(memory_job)
            row["peak_mb"] = memory["peak_mb"]
            row["grew_mb"] = memory["peak_mb"] - row["worker_start_rss_mb"]
        except JobFailed as exc:
            row["error"] = f"{exc.status}: {exc}"
    return row


def exponents(results: list[dict]) -> dict[str, float]:
    """Per model, b in seconds ~ rows^b (least squares on logs) over the sizes it ran."""
    out = {}
    for name in dict.fromkeys(r["model"] for r in results):
        points = [
            (r["rows"], r["cv_seconds"])
            for r in results
            if r["model"] == name and r.get("cv_seconds")
        ]
        if len(points) >= 2:
            x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
            out[name] = float(np.polyfit(x, y, 1)[0])
    return out


def table(results: list[dict]) -> str:
    slopes = exponents(results)
    rows = []
    for r in sorted(results, key=lambda r: (r["model"], r["rows"])):
        rows.append(
            [
                r["model"],
                r["rows"],
                r["folds"],
                fmt(r.get("cv_seconds"), 1),
                fmt(r.get("refit_seconds"), 2),
                fmt(r["refit_seconds"] / r["rows"] * 1e4 if r.get("refit_seconds") else None, 3),
                fmt(r.get("peak_mb"), 0),
                fmt(r.get("grew_mb"), 0),
                fmt(r["data_mb"], 1),
                fmt(r.get("holdout"), 4),
                fmt(r.get("refit_rounds_used"), 0),
                fmt(slopes.get(r["model"]), 2),
                r.get("error", ""),
            ]
        )
    return markdown(
        [
            "model",
            "training rows",
            "folds",
            "CV s",
            "refit s",
            "refit s / 10k rows",
            "worker peak MiB",
            "grew MiB",
            "data MiB",
            "holdout ROC AUC",
            "rounds (refit)",
            "b (s ~ rows^b)",
            "error",
        ],
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="flights")
    parser.add_argument(
        "--sizes",
        nargs="+",
        default=["10000", "30000", "100000", "all"],
        help="training rows ('all': the whole training part)",
    )
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    parser.add_argument("--folds", type=int, default=None, help="CV folds (task default: 5)")
    parser.add_argument("--jobs", type=int, default=None, help="threads per model (all cores)")
    parser.add_argument(
        "--cap",
        type=float,
        default=600.0,
        help="seconds of CV after which a model skips the larger sizes",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parse_args(parser, argv, table)
    if args is None:
        return 0
    from harness import devices, registry
    from harness.protocol.splits import prepare

    n_jobs = args.jobs or devices.cpu_count()
    task = registry.get_task(args.task)
    folds = args.folds or task.folds
    results = Results(
        "scale",
        {
            "task": task.name,
            "sizes": args.sizes,
            "models": args.models,
            "folds": folds,
            "jobs": n_jobs,
            "cap": args.cap,
            "seed": args.seed,
        },
    )
    dataset = task.load()
    full = prepare(task, dataset, folds=folds, seed=args.seed)
    holdout_positions = np.asarray(full.holdout_ids)
    del full
    capped: set[str] = set()
    for size in args.sizes:
        rows = None if size == "all" else int(size)
        data = prepare(
            task,
            _subsample(dataset, holdout_positions, rows, args.seed),
            folds=folds,
            seed=args.seed,
        )
        for name in args.models:
            if name in capped:
                continue
            row = bench_model(
                task, registry.get_model(name), data, n_jobs=n_jobs, cap=args.cap, seed=args.seed
            )
            results.add(row)
            print(
                f"  {name:<24} {len(data.y):>7} rows: CV {fmt(row.get('cv_seconds'), 1)} s, "
                f"peak {fmt(row.get('peak_mb'), 0)} MiB {row.get('error', '')}",
                flush=True,
            )
            if "error" in row or row["cv_seconds"] > args.cap:
                capped.add(name)
    print()
    print(table(results.payload["results"]))
    print(f"\nWrote {results.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
