"""HOG features (scikit-image) + an RBF SVM, the classical image baseline of Dalal & Triggs."""

from __future__ import annotations

from typing import Any

from harness.contracts import BuildSpec, Model


def hog_features(images: Any, orientations: int, cells: int) -> Any:
    """Histogram-of-oriented-gradients features of each image (rows, H, W, C floats in [0, 1]).

    The image is cut into `cells` x `cells` cells (at least 2 pixels each), 2x2-cell blocks are
    L2-Hys normalized (Dalal & Triggs 2005). Colour images use the strongest channel's gradient.
    """
    import numpy as np
    from skimage.feature import hog

    _, height, width, channels = images.shape
    cell = (max(2, height // cells), max(2, width // cells))
    blocks = (min(2, height // cell[0]), min(2, width // cell[1]))
    rows = [
        hog(
            image if channels > 1 else image[:, :, 0],
            orientations=orientations,
            pixels_per_cell=cell,
            cells_per_block=blocks,
            block_norm="L2-Hys",
            channel_axis=-1 if channels > 1 else None,
            feature_vector=True,
        )
        for image in images
    ]
    return np.asarray(rows, dtype=np.float64)


class HOGSVM:
    """HOG features of the one image column, then the zoo's RBF SVM (`models/_kernel.py`).

    Args:
        spec: The task and machine description given to `build`.
        params: orientations, cells (per side), C and gamma_scale.
        seed: Seed of the SVM's Platt scaling.
    """

    def __init__(self, spec: BuildSpec, params: dict, seed: int = 0) -> None:
        self.spec = spec
        self.params = params
        self.seed = seed

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments (scikit-learn's estimator protocol)."""
        return {"spec": self.spec, "params": self.params, "seed": self.seed}

    def set_params(self, **params: Any) -> HOGSVM:
        """Set constructor arguments (scikit-learn's estimator protocol)."""
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def _features(self, X: Any) -> Any:
        import pandas as pd

        from harness.contracts.datasets import image_column, stack

        column = image_column(X, self.spec.feature_kinds)
        values = hog_features(stack(X, column), self.params["orientations"], self.params["cells"])
        return pd.DataFrame(values, columns=[f"hog_{i}" for i in range(values.shape[1])])

    def fit(self, X: Any, y: Any) -> HOGSVM:
        """Compute HOG features of the training fold and fit the SVM on them."""
        from dataclasses import replace

        from harness.models._kernel import RBFSVM

        features = self._features(X)
        spec = replace(
            self.spec,
            modality="tabular",
            feature_kinds={column: "numeric" for column in features.columns},
        )
        svm_params = {"C": self.params["C"], "gamma_scale": self.params["gamma_scale"]}
        self.svm_ = RBFSVM(spec, {**svm_params, "epsilon": 0.1}, self.seed).fit(features, y)
        self.classes_ = self.svm_.classes_
        self.fit_info_ = {"hog_features": float(features.shape[1])}
        return self

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities (Platt scaling of the SVM)."""
        if not hasattr(self, "svm_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("HOGSVM is not fitted; call fit first")
        return self.svm_.predict_proba(self._features(X))

    def predict(self, X: Any) -> Any:
        """Class codes."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(
            estimator_type="classifier",
            target_tags=TargetTags(required=True),
            classifier_tags=ClassifierTags(),
        )


def build(spec: BuildSpec, params: dict, *, seed: int) -> HOGSVM:
    return HOGSVM(spec, dict(params), seed)


def search_space(trial) -> dict:
    # HOG: Dalal & Triggs (2005) found 9 orientation bins best and finer cells better up to a
    # point; orientations 6-12 and 2-8 cells per side around that. SVM: C and the kernel width
    # (a multiple of scikit-learn's "scale" heuristic) over the svm model's ranges, Probst,
    # Boulesteix & Bischl (2019) Table 1 (2^-10..2^10).
    return {
        "orientations": trial.suggest_int("orientations", 6, 12),
        "cells": trial.suggest_int("cells", 2, 8),
        "C": trial.suggest_float("C", 2**-10, 2**10, log=True),
        "gamma_scale": trial.suggest_float("gamma_scale", 2**-10, 2**10, log=True),
    }


MODEL = Model(
    name="hog_svm",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    # 9 bins (Dalal & Triggs), 4 cells per side (8x8 -> 2-pixel cells, 28x28 -> 7-pixel cells),
    # and the SVM's scikit-learn defaults (C = 1, gamma "scale").
    defaults={"orientations": 9, "cells": 4, "C": 1.0, "gamma_scale": 1.0},
    modalities=("image",),
    problem_types=("binary", "multiclass"),
)
