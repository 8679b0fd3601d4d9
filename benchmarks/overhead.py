"""Overhead of a harness trial over the same cross-validation written with plain scikit-learn.

For each TASK:MODEL case, alternating in one process, `--rounds` times:

- **harness**: `--trials-per-round` trials (one `tune` call, as `harness run` makes one per study
  or per rung of a budget) through the real per-trial path of `harness run -m MODEL`: an Optuna
  study in the `--storages` given (`journal`, the default store's; `sqlite`, the RDB storage of
  `--storage sqlite:///...` and of stores made before the journal) asks for the configuration,
  the study's forked worker fits and scores every fold (pipes, per-fold pruning reports, limits
  watched), the trial is told back to the storage, and the MLflow child run is logged (params,
  metrics, per-fold series, tags);
- **scikit-learn**: as many `sklearn.model_selection.cross_validate` calls in this process with
  the identical estimator (`model.build(spec, defaults, seed=)`: the same preprocessing pipeline
  and learner), the identical folds (`Prepared.folds`) and the same scoring (harness's
  predictions and metric).

Every trial runs the model's defaults (enqueued), so both sides do the same work and get the same
score (checked). The first round of each side is a warm-up (the worker's fork and its first import
of the learner's library) and is left out. Reported: median wall seconds per trial of each side,
their ratio, the median paired difference (harness minus scikit-learn, the absolute per-trial
overhead), and each side's time outside fit+predict (orchestration, storage and tracking), all
per trial (a round's seconds divided by its trials).

    python benchmarks/overhead.py                                  # the default cases
    python benchmarks/overhead.py --cases wa_churn:linear ames:lightgbm --rounds 15
    python benchmarks/overhead.py --cases ames:random_forest --trials-per-round 1
    python benchmarks/overhead.py --cases breast_cancer:linear --storages journal sqlite
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace

import numpy as np
from benchlib import Results, fmt, markdown, median, parse_args

DEFAULT_CASES = ("wa_churn:linear", "wa_churn:random_forest")


def _sklearn_cv(model, spec, data, metric, seed):
    """Plain scikit-learn: cross_validate on the same folds, same estimator, same scoring."""
    from sklearn.model_selection import cross_validate
    from threadpoolctl import threadpool_limits

    from harness.protocol.cv import predict

    n_train = len(data.folds[0][0])
    estimator = model.build(replace(spec, n_rows=n_train), dict(model.defaults), seed=seed)

    def scorer(est, X, y):
        return metric.score(y, predict(est, X, data.n_classes))

    with threadpool_limits(limits=spec.n_jobs):
        start = time.perf_counter()
        out = cross_validate(estimator, data.X, data.y, cv=list(data.folds), scoring=scorer)
        wall = time.perf_counter() - start
    return {
        "wall": wall,
        "inner": float(np.sum(out["fit_time"]) + np.sum(out["score_time"])),
        "score": float(np.mean(out["test_score"])),
    }


def _instrument(study) -> dict[str, float]:
    """Time the trial's MLflow logging and its worker round trip (the rest is Optuna's)."""
    spent = {"mlflow": 0.0, "worker": 0.0}

    def timed(function, key):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - start

        return wrapper

    study._log_trial = timed(study._log_trial, "mlflow")
    study.worker.call = timed(study.worker.call, "worker")
    return spent


STORAGES = {"journal": "journal:///{tmp}/optuna", "sqlite": "sqlite:///{tmp}/optuna.db"}


def bench_case(
    case: str,
    *,
    storage: str,
    rounds: int,
    per_round: int,
    folds: int | None,
    n_jobs: int,
    seed: int,
) -> dict:
    """Alternate harness trials and scikit-learn CVs of one task:model, `per_round` of each per
    round; medians over the rounds of the seconds per trial."""
    from harness import registry
    from harness.contracts.metrics import get_metric
    from harness.protocol.splits import prepare
    from harness.run import config as run_config
    from harness.run import study as run_study
    from harness.store.tracker import Tracker
    from harness.store.urls import make_folders, resolve_stores
    from harness.tuning import attrs, studies

    task_name, model_name = case.split(":")
    task, model = registry.get_task(task_name), registry.get_model(model_name)
    data = prepare(task, task.load(), folds=folds or task.folds, seed=seed)
    metric = get_metric(task.metric)
    with tempfile.TemporaryDirectory(prefix="harness-overhead-") as tmp:
        stores = resolve_stores(
            f"sqlite:///{tmp}/mlflow.db", STORAGES[storage].format(tmp=tmp), create=False
        )
        make_folders(stores)
        tracker = Tracker(stores)
        tracker.experiment_id(task.name)
        config = run_config.RunConfig(task=task.name, models=(model.name,), trials=10**6, seed=seed)
        study = run_study.StudyRun(  # the per-study object `harness run` drives
            task, model, data, config, tracker, run_config.Reporter(), "cpu", n_jobs
        )
        study.start(None)
        spent = _instrument(study)
        rows = []
        try:
            for number in range(rounds + 1):
                sides = ["harness", "sklearn"] if number % 2 == 0 else ["sklearn", "harness"]
                row: dict = {"round": number}
                for side in sides:
                    if side == "harness":
                        done = len(studies.done_trials(study.study))
                        # the defaults in the next numbered slots, as `harness run` queues
                        # them: a trial without a slot would run as a surplus trial first
                        for slot in range(done, done + per_round):
                            study.study.enqueue_trial(
                                dict(model.defaults),
                                user_attrs={attrs.SLOT_ATTR: slot, attrs.DEFAULT_ATTR: True},
                            )
                        spent.update(mlflow=0.0, worker=0.0)
                        start = time.perf_counter()
                        study.tune(done + per_round)
                        wall = time.perf_counter() - start
                        trials = study.study.get_trials(deepcopy=False)[-per_round:]
                        timings = [attrs.results_of(t) for t in trials]
                        inner = [
                            np.sum(r.get("fit_seconds", [np.nan]))
                            + np.sum(r.get("predict_seconds", [np.nan]))
                            for r in timings
                        ]
                        values = {t.value for t in trials}
                        row["harness"] = {
                            "wall": wall / per_round,
                            "inner": float(np.mean(inner)),
                            "score": values.pop() if len(values) == 1 else None,
                            "state": ",".join(sorted({t.state.name for t in trials})),
                            "mlflow_logging": spent["mlflow"] / per_round,
                            "worker_call": spent["worker"] / per_round,
                        }
                    else:
                        runs = [
                            _sklearn_cv(model, study.worker.context.spec, data, metric, seed)
                            for _ in range(per_round)
                        ]
                        row["sklearn"] = {
                            key: float(np.mean([r[key] for r in runs])) for key in runs[0]
                        }
                rows.append(row)
                print(
                    f"  {case} round {number}: harness {row['harness']['wall']:.3f} s "
                    f"({row['harness']['state']}), sklearn {row['sklearn']['wall']:.3f} s",
                    flush=True,
                )
        finally:
            study.abort()
    measured = rows[1:]  # round 0 is the warm-up
    h = [r["harness"]["wall"] for r in measured]
    s = [r["sklearn"]["wall"] for r in measured]
    return {
        "case": case,
        "storage": storage,
        "task": task.name,
        "model": model.name,
        "folds": len(data.folds),
        "training_rows": len(data.y),
        "jobs": n_jobs,
        "rounds": len(measured),
        "trials_per_round": per_round,
        "harness_seconds": median(h),
        "sklearn_seconds": median(s),
        "ratio": median(h) / median(s),
        "paired_ratio": median([a / b for a, b in zip(h, s, strict=True)]),
        "overhead_seconds": median([a - b for a, b in zip(h, s, strict=True)]),
        "harness_outside_fit_seconds": median(
            [r["harness"]["wall"] - r["harness"]["inner"] for r in measured]
        ),
        "harness_mlflow_logging_seconds": median(
            [r["harness"]["mlflow_logging"] for r in measured]
        ),
        "harness_worker_call_seconds": median([r["harness"]["worker_call"] for r in measured]),
        "sklearn_outside_fit_seconds": median(
            [r["sklearn"]["wall"] - r["sklearn"]["inner"] for r in measured]
        ),
        "seconds_per_fold": median(s) / len(data.folds),
        "same_score": all(
            r["harness"]["score"] is not None
            and abs(r["harness"]["score"] - r["sklearn"]["score"]) < 1e-9
            for r in measured
        ),
        "pruned_or_failed": sum(r["harness"]["state"] != "COMPLETE" for r in measured),
        "rounds_raw": rows,
    }


def table(results: list[dict]) -> str:
    return markdown(
        [
            "task:model",
            "storage",
            "s / fold",
            "harness s / trial",
            "sklearn s / trial",
            "ratio (medians)",
            "ratio (paired median)",
            "overhead s / trial",
            "harness s outside fit+predict",
            "of which MLflow logging s",
            "worker call s (fits included)",
            "sklearn s outside fit+score",
            "same score",
        ],
        [
            [
                r["case"],
                r.get("storage", "sqlite"),  # results written before the journal: sqlite
                fmt(r["seconds_per_fold"]),
                fmt(r["harness_seconds"]),
                fmt(r["sklearn_seconds"]),
                fmt(r["ratio"]),
                fmt(r["paired_ratio"]),
                fmt(r["overhead_seconds"]),
                fmt(r["harness_outside_fit_seconds"]),
                fmt(r["harness_mlflow_logging_seconds"]),
                fmt(r["harness_worker_call_seconds"]),
                fmt(r["sklearn_outside_fit_seconds"]),
                "yes" if r["same_score"] else "NO",
            ]
            for r in results
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(DEFAULT_CASES), help="TASK:MODEL")
    parser.add_argument("--rounds", type=int, default=9, help="measured rounds per side")
    parser.add_argument(
        "--trials-per-round", type=int, default=5, help="trials (and CVs) per round, one tune call"
    )
    parser.add_argument("--folds", type=int, default=None, help="CV folds (task default: 5)")
    parser.add_argument("--jobs", type=int, default=1, help="threads per model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--storages",
        nargs="+",
        choices=sorted(STORAGES),
        default=["journal"],
        help="Optuna storages to run each case on (default: journal, the default store's)",
    )
    args = parse_args(parser, argv, table)
    if args is None:
        return 0
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    results = Results(
        "overhead",
        {
            "cases": args.cases,
            "rounds": args.rounds,
            "trials_per_round": args.trials_per_round,
            "folds": args.folds,
            "jobs": args.jobs,
            "seed": args.seed,
            "storages": args.storages,
        },
    )
    for case, storage in ((c, s) for c in args.cases for s in args.storages):
        results.add(
            bench_case(
                case,
                storage=storage,
                rounds=args.rounds,
                per_round=args.trials_per_round,
                folds=args.folds,
                n_jobs=args.jobs,
                seed=args.seed,
            )
        )
    print()
    print(table(results.payload["results"]))
    print(f"\nWrote {results.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
