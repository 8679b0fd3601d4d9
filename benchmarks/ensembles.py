"""Ensemble versus the best single model, per task, on the holdout.

For each task: run the studies of a few models (`harness run` with the same budget for each),
then the ensemble (greedy selection with replacement on the studies' out-of-fold predictions).
The table compares the ensemble's holdout score with the single model that CV would pick (the
leader among single models) and with the best single model on the holdout (an oracle no protocol
can pick). Writes Markdown to stdout; the store is a temporary folder.

    python benchmarks/ensembles.py --tasks breast_cancer penguins wine ames diabetes \
        --models linear knn svm random_forest --trials 10 --folds 5 --jobs 1
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from harness import run as harness_run
from harness.contracts.metrics import get_metric
from harness.run import config as run_config
from harness.store.urls import resolve_stores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["breast_cancer", "penguins", "wine", "ames"])
    parser.add_argument("--models", nargs="+", default=["linear", "knn", "svm", "random_forest"])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(
        "| task | metric | CV pick (single) | its CV | its holdout | best single holdout | "
        "ensemble CV | ensemble holdout | ensemble ≥ CV pick | members | seconds |"
    )
    print("|" + "---|" * 11)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        stores = resolve_stores(f"sqlite:///{root / 'mlflow.db'}", root=root)
        for task in args.tasks:
            start = time.perf_counter()
            config = run_config.RunConfig(
                task=task,
                models=tuple(args.models),
                trials=args.trials,
                timeout=args.timeout,
                folds=args.folds,
                seed=args.seed,
                n_jobs=args.jobs,
            )
            spec, _, results = harness_run.run(config, stores)
            seconds = time.perf_counter() - start
            metric = get_metric(spec.metric)
            up = 1.0 if metric.direction == "maximize" else -1.0
            singles = [r for r in results if r.status == "ok" and r.model != "ensemble"]
            ensemble = results[-1]
            pick = max(singles, key=lambda r: up * r.cv_mean)
            oracle = max(singles, key=lambda r: up * r.holdout)
            if ensemble.status != "ok":
                print(f"| {task} | {spec.metric} | {pick.model} | | | | | | | "
                      f"{ensemble.status}: {ensemble.reason} | {seconds:.0f} |")  # fmt: skip
                continue
            members = ", ".join(
                f"{m} {w:.2f}"
                for m, w in sorted(ensemble.best_params.items(), key=lambda kv: -kv[1])
            )
            at_least = up * (ensemble.holdout - pick.holdout) >= -1e-12
            print(
                f"| {task} | {spec.metric} | {pick.model} | {pick.cv_mean:.4f} | "
                f"{pick.holdout:.4f} | {oracle.holdout:.4f} ({oracle.model}) | "
                f"{ensemble.cv_mean:.4f} | {ensemble.holdout:.4f} | "
                f"{'yes' if at_least else 'no'} | {members} | {seconds:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
