"""Keras 3 small Transformer encoder for text: token and position embeddings, self-attention."""

from __future__ import annotations

from typing import Any

import numpy as np
from harness.models._keras import training_space
from harness.models.keras_text import TextEstimator, text_space

from harness.contracts import BuildSpec, Model


class KerasTransformer(TextEstimator):
    """Pre-norm encoder blocks (multi-head self-attention and a ReLU feed-forward, each residual
    with dropout), padding masked out of attention and of the mean pooling."""

    def _body(self, keras: Any, ids: np.ndarray) -> tuple[Any, Any]:
        p = self.params
        length, dim = ids.shape[1], p["dim"]
        inputs = keras.Input(shape=(length,), dtype="int32", name="tokens")
        tokens = keras.layers.Embedding(len(self.vocabulary_), dim)(inputs)
        # Keras 3 ops on symbolic tensors become part of the functional graph.
        ops = keras.ops
        position_ids = ops.zeros_like(inputs) + ops.arange(length, dtype="int32")[None, :]
        positions = keras.layers.Embedding(length, dim)(position_ids)
        x = keras.layers.Add()([tokens, positions])
        mask = ops.not_equal(inputs, 0)
        attention_mask = ops.logical_and(mask[:, :, None], mask[:, None, :])
        for _ in range(p["blocks"]):
            z = keras.layers.LayerNormalization(epsilon=1e-6)(x)
            z = keras.layers.MultiHeadAttention(
                p["heads"], dim // p["heads"], dropout=p["dropout"]
            )(z, z, attention_mask=attention_mask)
            x = keras.layers.Add()([x, keras.layers.Dropout(p["dropout"])(z)])
            z = keras.layers.LayerNormalization(epsilon=1e-6)(x)
            z = keras.layers.Dense(dim * p["ff_factor"], activation="relu")(z)
            z = keras.layers.Dense(dim)(z)
            x = keras.layers.Add()([x, keras.layers.Dropout(p["dropout"])(z)])
        x = keras.layers.LayerNormalization(epsilon=1e-6)(x)
        weights = ops.cast(mask, x.dtype)[:, :, None]
        pooled = ops.sum(x * weights, axis=1) / ops.maximum(ops.sum(weights, axis=1), 1.0)
        return inputs, keras.layers.Dropout(p["dropout"])(pooled)


def build(spec: BuildSpec, params: dict, *, seed: int) -> KerasTransformer:
    return KerasTransformer(spec, params, seed)


def search_space(trial) -> dict:
    return {
        "blocks": trial.suggest_int("blocks", 1, 3),
        "dim": trial.suggest_categorical("dim", [32, 64, 128]),
        "heads": trial.suggest_categorical("heads", [2, 4]),
        "ff_factor": trial.suggest_categorical("ff_factor", [2, 4]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.3),
        **text_space(trial),
        **training_space(trial, max_epochs=20, patience=3, batch=[32, 64, 128]),
    }


MODEL = Model(
    name="keras_transformer",
    description=__doc__.strip().splitlines()[0],
    family="neural",
    build=build,
    search_space=search_space,
    defaults={
        "blocks": 2,
        "dim": 64,
        "heads": 4,
        "ff_factor": 2,
        "dropout": 0.1,
        "max_tokens": 20_000,
        "sequence_length": 128,
        "lr_find": True,
        "learning_rate": 0.0,
        "schedule": "one_cycle",
        "weight_decay": 1e-2,
        "batch_size": 64,
        "max_epochs": 20,
        "patience": 3,
    },
    modalities=("text",),
    problem_types=("binary", "multiclass"),
    hardware=("cpu", "gpu"),
)
