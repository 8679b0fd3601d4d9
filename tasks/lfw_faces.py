"""Faces or not: 25x25 grayscale crops from Labeled Faces in the Wild and non-face patches."""

from __future__ import annotations

from harness.contracts import Augmentation, Dataset, Task


def load() -> Dataset:
    import numpy as np
    import pandas as pd
    from skimage.data import lfw_subset

    from harness.contracts.datasets import image_frame

    images = lfw_subset()  # (200, 25, 25) floats in [0, 1]: 100 faces, then 100 non-faces
    pixels = np.rint(images * 255.0).astype(np.uint8)
    labels = pd.Series(["face"] * 100 + ["other"] * 100, name="face")
    return Dataset(X=image_frame(pixels), y=labels, feature_kinds={"image": "image"})


TASK = Task(
    name="lfw_faces",
    description=__doc__.strip().splitlines()[0],
    modality="image",
    problem_type="binary",
    metric="roc_auc",
    extra_metrics=("log_loss", "accuracy", "balanced_accuracy", "brier"),
    positive_class="face",
    target="face",
    load=load,
    rows=200,
    features=1,
    source="scikit-image skimage.data.lfw_subset (200 images of 25x25 pixels: 100 faces, "
    "100 non-faces)",
    citation=(
        "Huang G.B., Ramesh M., Berg T., Learned-Miller E. (2007). Labeled Faces in the Wild: A "
        "Database for Studying Face Recognition in Unconstrained Environments. UMass Amherst "
        "TR 07-49. Subset prepared for scikit-image's Haar-feature face classification example."
    ),
    licence="LFW: research use; the subset ships with scikit-image (BSD-3)",
    notes=(
        "One image column, 25x25x1 uint8 (scikit-image's floats in [0, 1] times 255). The first "
        "100 images are faces, the other 100 random non-face patches. Tiny: CV scores vary a "
        "lot between folds. Augmentation: left-right flips (faces are roughly symmetric), "
        "shifts up to 10%, rotations up to 10 degrees."
    ),
    augmentation=Augmentation(flip=True, shift=0.1, rotation=10.0, zoom=0.0),
)
