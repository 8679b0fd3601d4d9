"""Keras 3 small residual CNN sized to the image, with the augmentation the task allows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from harness.models._keras import BN_MOMENTUM, KerasEstimator, augmentation_layers, training_space

from harness.contracts import BuildSpec, Model


class ImageEstimator(KerasEstimator):
    """Images (one column of uint8 arrays, see harness.data.images) -> float32 in [0, 1]."""

    def _fit_inputs(self, X: Any, y: np.ndarray) -> np.ndarray:
        return self._inputs(X)

    def _inputs(self, X: Any) -> np.ndarray:
        from harness.contracts.datasets import image_column, stack

        return stack(X, image_column(X, self.spec.feature_kinds))

    def _augmented(self, keras: Any, images: np.ndarray) -> tuple[Any, Any]:
        """The image input and, when the task allows, its random transforms (training only)."""
        inputs = keras.Input(shape=images.shape[1:], name="image")
        x = inputs
        for layer in augmentation_layers(keras, self.spec.augmentation, self.seed):
            x = layer(x)
        return inputs, x


def stages_for(height: int, width: int, limit: int) -> int:
    """Down-sampling stages that keep the feature map at least 4 pixels wide (at least 1)."""
    return max(1, min(limit, int(math.log2(max(1, min(height, width) // 4)) + 1)))


class KerasCNN(ImageEstimator):
    """Stem conv, then per stage a residual block (two 3x3 convs with batch norm) and a 2x2
    down-sampling with doubled filters, global average pooling, dropout."""

    def _body(self, keras: Any, images: np.ndarray) -> tuple[Any, Any]:
        p = self.params
        inputs, x = self._augmented(keras, images)
        filters = p["filters"]
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        x = keras.layers.Activation("relu")(x)
        for stage in range(stages_for(images.shape[1], images.shape[2], p["max_stages"])):
            if stage:
                filters *= 2
                x = keras.layers.Conv2D(filters, 1, use_bias=False)(x)
            z = x
            for second in (False, True):
                z = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(z)
                z = keras.layers.BatchNormalization(momentum=BN_MOMENTUM)(z)
                if not second:
                    z = keras.layers.Activation("relu")(z)
            x = keras.layers.Activation("relu")(keras.layers.Add()([x, z]))
            if min(x.shape[1], x.shape[2]) >= 4:
                x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.GlobalAveragePooling2D()(x)
        if p["dropout"] > 0:
            x = keras.layers.Dropout(p["dropout"])(x)
        return inputs, x


def build(spec: BuildSpec, params: dict, *, seed: int) -> KerasCNN:
    return KerasCNN(spec, params, seed)


def search_space(trial) -> dict:
    return {
        "filters": trial.suggest_categorical("filters", [16, 32, 64]),
        "max_stages": trial.suggest_int("max_stages", 1, 4),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        **training_space(trial, max_epochs=30, patience=5, batch=[32, 64, 128]),
    }


MODEL = Model(
    name="keras_cnn",
    description=__doc__.strip().splitlines()[0],
    family="neural",
    build=build,
    search_space=search_space,
    defaults={
        "filters": 32,
        "max_stages": 3,
        "dropout": 0.2,
        "lr_find": True,
        "learning_rate": 0.0,
        "schedule": "one_cycle",
        "weight_decay": 1e-2,
        "batch_size": 64,
        "max_epochs": 30,
        "patience": 5,
    },
    modalities=("image",),
    problem_types=("binary", "multiclass"),
    hardware=("cpu", "gpu"),
)
