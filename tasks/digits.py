"""Handwritten digits (8x8 grayscale images): which digit 0-9."""

from __future__ import annotations

from harness.contracts import Augmentation, Dataset, Reference, Task


def load() -> Dataset:
    import numpy as np
    import pandas as pd
    import sklearn.datasets

    from harness.contracts.datasets import image_frame

    bunch = sklearn.datasets.load_digits()
    # Each pixel counts the inked cells of a 4x4 block (0-16); scaled to 0-255 for the uint8
    # image contract (16 -> 255), a one-to-one map so no information is lost.
    pixels = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    labels = pd.Series(bunch.target.astype(str), name="digit")
    return Dataset(X=image_frame(pixels), y=labels, feature_kinds={"image": "image"})


TASK = Task(
    name="digits",
    description=__doc__.strip().splitlines()[0],
    modality="image",
    problem_type="multiclass",
    metric="log_loss",
    extra_metrics=("accuracy", "balanced_accuracy", "f1_macro"),
    target="digit",
    load=load,
    rows=1797,
    features=1,
    source="scikit-learn sklearn.datasets.load_digits (1,797 images of 8x8 pixels, 10 classes)",
    citation=(
        "Alpaydin E., Kaynak C. (1998). Optical Recognition of Handwritten Digits. UCI Machine "
        "Learning Repository."
    ),
    licence="CC BY 4.0 (UCI Machine Learning Repository)",
    notes=(
        "One image column, 8x8x1 uint8: each pixel (the count of inked cells in a 4x4 block, "
        "0-16) is scaled to 0-255. Augmentation: shifts of up to 1 pixel (12.5%) and rotations "
        "of up to 10 degrees; no flips (a mirrored 2 is not a 2)."
    ),
    augmentation=Augmentation(flip=False, shift=0.125, rotation=10.0, zoom=0.0),
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
