"""Default versus tuned configuration of every model on the tabular catalog.

For each (task, model): the model's defaults (trial 0) and the best of `--trials` Optuna trials
(seeded TPE with median pruning, as `harness run` tunes), each scored by K-fold CV on the training
part, refitted on the whole training part and scored once on the task's holdout. Reported: CV and
holdout scores of the primary metric, refit seconds, and prediction seconds per 1,000 holdout rows.

It is a benchmark, not a test: it prints a Markdown table and writes JSON under
benchmarks/results/ (git-ignored). Nothing is logged to MLflow.

    python benchmarks/zoo.py                                   # full size: 30 trials, 5 folds
    python benchmarks/zoo.py --tasks penguins ames --trials 10 --folds 3 --timeout 30 --jobs 1
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from harness import devices, registry
from harness.contracts.metrics import get_metric
from harness.execution import jobs as execution_jobs
from harness.protocol import cv as protocol_cv
from harness.protocol.splits import prepare
from harness.tuning import attrs, studies
from harness.tuning import objective as tuning_objective
from harness.tuning import pruning as tuning_pruning

RESULTS = Path(__file__).resolve().parent / "results"


def _refit_and_score(model, params, spec, data, task, seed) -> dict[str, float]:
    info: dict[str, float] = {}
    prediction, fit_s, predict_s = protocol_cv.fit_and_predict(
        model, params, spec, seed, data.X, data.y, data.holdout_X, data.n_classes, info=info
    )
    rows = max(len(data.holdout_y), 1)
    return {
        "holdout": get_metric(task.metric).score(data.holdout_y, prediction),
        "fit_seconds": fit_s,
        "predict_seconds_per_1000_rows": predict_s / rows * 1000,
        **{f"refit_{k}": v for k, v in info.items()},
    }


def bench_one(task, model, data, *, trials: int, timeout: float | None, n_jobs: int, seed: int):
    """Default and tuned results of one model on one prepared task."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    metric = get_metric(task.metric)
    spec = protocol_cv.spec_for(
        task.problem_type, task.modality, data, n_jobs=n_jobs, device=devices.device()
    )
    objective = tuning_objective.make_objective(
        execution_jobs.StudyContext(model, data, spec, task.metrics, seed)
    )
    study = optuna.create_study(
        direction=metric.direction,
        sampler=studies.make_sampler(seed, 0),
        pruner=tuning_pruning.make_pruner(),
    )
    study.enqueue_trial(dict(model.defaults), user_attrs={attrs.DEFAULT_ATTR: True})
    start = time.perf_counter()
    study.optimize(objective, n_trials=1, catch=(Exception,))
    default = study.trials[0]
    if trials > 1:
        left = None if timeout is None else max(1.0, timeout - (time.perf_counter() - start))
        study.optimize(objective, n_trials=trials - 1, timeout=left, catch=(Exception,))
    tune_seconds = time.perf_counter() - start
    states = [t.state.name for t in study.trials]
    out: dict[str, Any] = {
        "task": task.name,
        "model": model.name,
        "metric": task.metric,
        "direction": metric.direction,
        "trials": len(study.trials),
        "trials_pruned": states.count("PRUNED"),
        "trials_failed": states.count("FAIL"),
        "tune_seconds": tune_seconds,
    }
    if default.state.name != "COMPLETE":
        out["default"] = {"error": default.user_attrs.get(attrs.ERROR_ATTR, default.state.name)}
    else:
        out["default"] = {
            "cv": default.value,
            **_refit_and_score(model, default.params, spec, data, task, seed),
        }
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    if complete:
        best = study.best_trial
        out["tuned"] = {
            "cv": best.value,
            "best_trial": best.number,
            "params": best.params,
            **_refit_and_score(model, best.params, spec, data, task, seed),
        }
    return out


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def table(results: list[dict]) -> str:
    """A Markdown table: one row per (task, model), best tuned holdout first within a task."""
    lines = [
        "| task | metric | model | default CV | default holdout | tuned CV | tuned holdout "
        "| trials | fit s | predict s / 1k rows | rounds (refit) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    by_task: dict[str, list[dict]] = {}
    for row in results:
        by_task.setdefault(row["task"], []).append(row)
    for task, rows in by_task.items():
        sign = -1 if rows[0]["direction"] == "maximize" else 1

        def key(r: dict, sign: int = sign) -> float:
            score = r.get("tuned", {}).get("holdout", r["default"].get("holdout"))
            return sign * score if score is not None else float("inf")

        for r in sorted(rows, key=key):
            d, t = r["default"], r.get("tuned", {})
            rounds = t.get("refit_rounds_used")
            lines.append(
                f"| {task} | {r['metric']} | {r['model']} | {_fmt(d.get('cv'))} "
                f"| {_fmt(d.get('holdout'))} | {_fmt(t.get('cv'))} | {_fmt(t.get('holdout'))} "
                f"| {r['trials']} | {_fmt(t.get('fit_seconds'), 2)} "
                f"| {_fmt(t.get('predict_seconds_per_1000_rows'), 3)} "
                f"| {'' if rounds is None else int(rounds)} |"
            )
    return "\n".join(lines)


def show(path: Path) -> None:
    """Print the table of a results file written earlier."""
    print(table(json.loads(path.read_text())["results"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    tabular = [n for n, t in registry.tasks().items() if t.modality == "tabular"]
    classical = [
        n
        for n, m in registry.models().items()
        if m.family != "neural" and "tabular" in m.modalities
    ]
    parser.add_argument("--tasks", nargs="+", default=tabular, help="default: every tabular task")
    parser.add_argument("--models", nargs="+", default=classical, help="default: classical")
    parser.add_argument("--trials", type=int, default=30, help="trials per study (with trial 0)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per study")
    parser.add_argument("--folds", type=int, default=None, help="CV folds (task default: 5)")
    parser.add_argument("--jobs", type=int, default=None, help="threads per model (all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=Path, help="only print the table of a results file")
    args = parser.parse_args(argv)
    if args.show:
        show(args.show)
        return 0

    n_jobs = args.jobs or devices.cpu_count()
    settings = {
        "trials": args.trials,
        "timeout": args.timeout,
        "folds": args.folds,
        "jobs": n_jobs,
        "seed": args.seed,
        "device": devices.device(),
        "machine": f"{platform.machine()}, {devices.cpu_count()} cores, {platform.platform()}",
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"zoo-{stamp}.json"
    results: list[dict] = []
    for task_name in args.tasks:
        task = registry.get_task(task_name)
        data = prepare(task, task.load(), folds=args.folds or task.folds, seed=args.seed)
        for model_name in args.models:
            model = registry.get_model(model_name)
            if model.unsupported_reason(task.modality, task.problem_type):
                continue
            row = bench_one(
                task,
                model,
                data,
                trials=args.trials,
                timeout=args.timeout,
                n_jobs=n_jobs,
                seed=args.seed,
            )
            results.append(row)
            # Written after every study, so an interrupted benchmark keeps what it measured.
            payload = {"settings": settings, "results": results}
            path.write_text(json.dumps(payload, indent=2, default=str))
            tuned = row.get("tuned", {}).get("holdout")
            print(
                f"{task_name:>14} {model_name:<24} default {_fmt(row['default'].get('holdout'))}"
                f"  tuned {_fmt(tuned)}  ({row['trials']} trials, {row['tune_seconds']:.0f} s)",
                flush=True,
            )
    print()
    print(table(results))
    print(f"\nWrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
