"""Keras 3 tabular ResNet (Gorishniy et al. 2021): residual BN-Linear-ReLU-Dropout-Linear blocks."""

from __future__ import annotations

from typing import Any

from harness.models._keras import BN_MOMENTUM, training_space
from harness.models.keras_mlp import KerasMLP

from harness.contracts import BuildSpec, Model


class KerasResNet(KerasMLP):
    """ResNet(x) = Prediction(ReLU(BN(Block(...Block(Linear(x)))))), where
    Block(x) = x + Dropout(Linear(Dropout(ReLU(Linear(BN(x)))))) (Gorishniy et al. 2021, sec. 3.2).

    Inputs as in keras_mlp: standardized numerics, TF-IDF text, categorical embeddings.
    """

    def _body(self, keras: Any, inputs: Any) -> tuple[list, Any]:
        ins, x = self._embedded(keras, inputs)
        p = self.params
        width, hidden = p["width"], int(p["width"] * p["hidden_factor"])
        x = keras.layers.Dense(width)(x)
        for _ in range(p["blocks"]):
            z = keras.layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
            z = keras.layers.Dense(hidden, activation="relu")(z)
            if p["hidden_dropout"] > 0:
                z = keras.layers.Dropout(p["hidden_dropout"])(z)
            z = keras.layers.Dense(width)(z)
            if p["residual_dropout"] > 0:
                z = keras.layers.Dropout(p["residual_dropout"])(z)
            x = keras.layers.Add()([x, z])
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
        return ins, keras.layers.Activation("relu")(x)


def build(spec: BuildSpec, params: dict, *, seed: int) -> KerasResNet:
    return KerasResNet(spec, params, seed)


def search_space(trial) -> dict:
    # Gorishniy et al. (2021), Table 14: blocks 1..8, width 64..512, hidden factor 1..4, hidden
    # dropout 0..0.5, residual dropout 0..0.5; blocks narrowed to 1..4 for small budgets.
    return {
        "blocks": trial.suggest_int("blocks", 1, 4),
        "width": trial.suggest_int("width", 64, 512, log=True),
        "hidden_factor": trial.suggest_float("hidden_factor", 1.0, 4.0),
        "hidden_dropout": trial.suggest_float("hidden_dropout", 0.0, 0.5),
        "residual_dropout": trial.suggest_float("residual_dropout", 0.0, 0.5),
        "embedding_dropout": trial.suggest_float("embedding_dropout", 0.0, 0.3),
        **training_space(trial, max_epochs=100, patience=10, batch=[64, 128, 256, 512]),
    }


MODEL = Model(
    name="keras_resnet",
    description=__doc__.strip().splitlines()[0],
    family="neural",
    build=build,
    search_space=search_space,
    defaults={
        "blocks": 2,
        "width": 128,
        "hidden_factor": 2.0,
        "hidden_dropout": 0.2,
        "residual_dropout": 0.0,
        "embedding_dropout": 0.0,
        "lr_find": True,
        "learning_rate": 0.0,
        "schedule": "one_cycle",
        "weight_decay": 1e-2,
        "batch_size": 128,
        "max_epochs": 100,
        "patience": 10,
    },
    hardware=("cpu", "gpu"),
)
