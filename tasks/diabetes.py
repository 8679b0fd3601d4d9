"""Diabetes progression: a disease progression score one year after baseline, from 10 measures."""

from __future__ import annotations

from harness.contracts import Dataset, Task


def load() -> Dataset:
    from sklearn.datasets import load_diabetes

    # scaled=False gives the original units (age in years, sex as 1/2); sex is a category.
    bunch = load_diabetes(as_frame=True, scaled=False)
    X = bunch.data.copy()
    X["sex"] = X["sex"].map({1.0: "1", 2.0: "2"}).astype(object)
    kinds = {c: "numeric" for c in X.columns}
    kinds["sex"] = "categorical"
    return Dataset(X=X, y=bunch.target.rename("progression"), feature_kinds=kinds)


TASK = Task(
    name="diabetes",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="regression",
    metric="rmse",
    extra_metrics=("mae", "r2"),
    target="progression",
    load=load,
    rows=442,
    features=10,
    source="scikit-learn sklearn.datasets.load_diabetes (442 rows, 10 features)",
    citation=(
        "Efron B., Hastie T., Johnstone I., Tibshirani R. (2004). Least Angle Regression. "
        "Annals of Statistics 32(2):407-499."
    ),
    licence="redistributed in scikit-learn (BSD-3-Clause)",
    notes="Small and noisy: linear models are hard to beat (R2 about 0.5).",
)
