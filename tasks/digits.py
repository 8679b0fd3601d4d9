"""Handwritten digits (8x8 pixel counts): which digit 0-9, from 64 pixel intensities."""

from __future__ import annotations

from harness.data.packages import sklearn_classes
from harness.task import Dataset, Reference, Task


def load() -> Dataset:
    return sklearn_classes("digits", "digit")


TASK = Task(
    name="digits",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="multiclass",
    metric="log_loss",
    extra_metrics=("accuracy", "balanced_accuracy", "f1_macro"),
    target="digit",
    load=load,
    rows=1797,
    features=64,
    source="scikit-learn sklearn.datasets.load_digits (1,797 rows, 64 pixel features, 10 classes)",
    citation=(
        "Alpaydin E., Kaynak C. (1998). Optical Recognition of Handwritten Digits. UCI Machine "
        "Learning Repository."
    ),
    licence="CC BY 4.0 (UCI Machine Learning Repository)",
    notes="Pixels as tabular features (each 0-16, the count of inked cells in a 4x4 block).",
    references=(
        Reference(
            metric="accuracy",
            value=0.97,
            model="SVM (RBF kernel, gamma 0.001)",
            protocol="first 50% of rows for training, the other 50% for testing, no shuffling",
            source="scikit-learn example 'Recognizing hand-written digits'",
        ),
    ),
)
