"""Keras 3 transfer learning: a keras.applications backbone, frozen then fine-tuned (BN frozen)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from harness.models._keras import training_space
from harness.models.keras_cnn import ImageEstimator

from harness.contracts import BuildSpec, Model, UsageError

WEIGHTS_ENV = "HARNESS_TRANSFER_WEIGHTS"


def _application(constructor: str, **extra: Any) -> Any:
    def make(keras: Any, size: int, weights: str | None) -> Any:
        return getattr(keras.applications, constructor)(
            input_shape=(size, size, 3), include_top=False, weights=weights, **extra
        )

    return make


# name -> (factory(keras, image size, weights file or None) -> body, input scaling of [0, 1] images
# as (scale, offset), what the backbone was trained on)
BACKBONES: dict[str, tuple[Any, tuple[float, float]]] = {
    "mobilenet_v2": (_application("MobileNetV2", alpha=0.35), (2.0, -1.0)),
    "efficientnet_b0": (_application("EfficientNetB0"), (255.0, 0.0)),
    "resnet50": (_application("ResNet50"), (255.0, 0.0)),
}


def weights_file() -> str | None:
    """The pretrained weights file the user gave in HARNESS_TRANSFER_WEIGHTS (None: random)."""
    path = os.environ.get(WEIGHTS_ENV, "").strip()
    if not path:
        return None
    if not os.path.isfile(path):
        raise UsageError(
            f"{WEIGHTS_ENV}={path!r} is not a file. Point it at a keras.applications weights "
            "file without the top (e.g. mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_"
            "224_no_top.h5), or unset it to start from random weights; nothing is downloaded."
        )
    return path


class KerasTransfer(ImageEstimator):
    """Backbone whose batch-norm layers stay in inference mode (moving statistics used and never
    updated) while frozen and after unfreezing; a new head (pooling, dropout, dense) on top.

    Keras 3's functional models pass the outer `training=True` down to every layer, overriding
    the `training=False` of the fine-tuning guides' `backbone(x, training=False)`; what holds is
    that a non-trainable BatchNormalization always runs in inference mode, so after unfreezing
    the body its batch-norm layers are set back to non-trainable (their scale and shift stay as
    loaded). Phase 1 trains the head with the body frozen for
    `frozen_epochs`; phase 2 unfreezes the body and trains everything at the phase-1 rate divided
    by `unfreeze_divisor`, with early stopping and the best weights restored in each phase."""

    def _body(self, keras: Any, images: np.ndarray) -> tuple[Any, Any]:
        p = self.params
        inputs, x = self._augmented(keras, images)
        size = p["image_size"]
        if images.shape[-1] == 1:
            x = keras.layers.Concatenate()([x, x, x])
        x = keras.layers.Resizing(size, size)(x)
        factory, (scale, offset) = BACKBONES[p["backbone"]]
        x = keras.layers.Rescaling(scale, offset=offset)(x)
        self.backbone = factory(keras, size, weights_file())
        x = self.backbone(x, training=False)
        x = keras.layers.GlobalAveragePooling2D()(x)
        if p["dropout"] > 0:
            x = keras.layers.Dropout(p["dropout"])(x)
        return inputs, x

    def _train(self, keras: Any, train: Any, valid: Any, steps: int, report: Any) -> dict:
        self.backbone.trainable = False
        lr = self._learning_rate(keras, train, steps)
        frozen, frozen_best = self._phase(
            keras, train, valid, steps, lr, self.params["frozen_epochs"], report, offset=0
        )
        if self.past_deadline():  # no time left to fine-tune: keep the trained head
            return {
                "epochs_used": frozen,
                "frozen_epochs_used": frozen,
                "learning_rate": lr,
                "val_loss": frozen_best,
                "pretrained": float(weights_file() is not None),
            }
        self.backbone.trainable = True
        for layer in self.backbone._flatten_layers(include_self=False):
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False  # Keras 3: a non-trainable BN runs in inference mode
        tuned, best = self._phase(
            keras,
            train,
            valid,
            steps,
            lr / self.params["unfreeze_divisor"],
            self.params["max_epochs"],
            report,
            offset=frozen,
        )
        return {
            "epochs_used": frozen + tuned,
            "frozen_epochs_used": frozen,
            "learning_rate": lr,
            "val_loss": best,
            "pretrained": float(weights_file() is not None),
        }


def build(spec: BuildSpec, params: dict, *, seed: int) -> KerasTransfer:
    return KerasTransfer(spec, params, seed)


def search_space(trial) -> dict:
    return {
        "backbone": trial.suggest_categorical("backbone", list(BACKBONES)),
        "image_size": trial.suggest_categorical("image_size", [32, 64, 96, 128]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "frozen_epochs": trial.suggest_int("frozen_epochs", 1, 5),
        "unfreeze_divisor": trial.suggest_categorical("unfreeze_divisor", [3.0, 10.0, 30.0]),
        **training_space(trial, max_epochs=20, patience=4, batch=[32, 64]),
    }


MODEL = Model(
    name="keras_transfer",
    description=__doc__.strip().splitlines()[0],
    family="neural",
    build=build,
    search_space=search_space,
    # fast.ai's fine_tune: one epoch with the body frozen, then all layers at a lower rate.
    defaults={
        "backbone": "mobilenet_v2",
        "image_size": 96,
        "dropout": 0.2,
        "frozen_epochs": 1,
        "unfreeze_divisor": 10.0,
        "lr_find": True,
        "learning_rate": 0.0,
        "schedule": "one_cycle",
        "weight_decay": 1e-2,
        "batch_size": 32,
        "max_epochs": 20,
        "patience": 4,
    },
    modalities=("image",),
    problem_types=("binary", "multiclass"),
    hardware=("cpu", "gpu"),
)
