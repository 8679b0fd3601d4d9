"""Keras 3 text classifier: TextVectorization + embeddings + a pooled 1D CNN or a BiGRU."""

from __future__ import annotations

from typing import Any

import numpy as np
from harness.models._keras import KerasEstimator, training_space

from harness.contracts import BuildSpec, Model
from harness.contracts.preprocessing import columns_of


class TextEstimator(KerasEstimator):
    """Raw strings -> token ids by a TextVectorization adapted on the training rows only.

    A task's text columns are joined with spaces into one document per row; other columns are
    ignored (use a tabular model for mixed data). Id 0 pads, id 1 is out of vocabulary.
    """

    def _texts(self, X: Any) -> np.ndarray:
        columns = columns_of(self.spec.feature_kinds, "text")
        if not columns:
            raise ValueError(
                f"{type(self).__name__} needs a text column; kinds: {dict(self.spec.feature_kinds)}"
            )
        joined = X[columns[0]].fillna("").astype(str)
        for column in columns[1:]:
            joined = joined + " " + X[column].fillna("").astype(str)
        return joined.to_numpy(dtype=object).astype(str)

    def _vectorizer(self, keras: Any, vocabulary: list[str] | None = None) -> Any:
        return keras.layers.TextVectorization(
            max_tokens=self.params["max_tokens"],
            output_sequence_length=self.params["sequence_length"],
            vocabulary=vocabulary,
        )

    def _fit_inputs(self, X: Any, y: np.ndarray) -> np.ndarray:
        from harness.models._keras import import_keras

        keras = import_keras(self.spec.n_jobs)
        vectorizer = self._vectorizer(keras)
        vectorizer.adapt(self._texts(X))
        self.vocabulary_ = vectorizer.get_vocabulary()
        self._vectorize = vectorizer
        return self._inputs(X)

    def _inputs(self, X: Any) -> np.ndarray:
        from harness.models._keras import import_keras

        if getattr(self, "_vectorize", None) is None:  # e.g. after unpickling
            vectorizer = self._vectorizer(import_keras(self.spec.n_jobs), self.vocabulary_)
            self._vectorize = vectorizer
        texts = self._texts(X)
        if len(texts) == 0:
            return np.zeros((0, self.params["sequence_length"]), dtype=np.int32)
        return np.asarray(self._vectorize(texts), dtype=np.int32)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_vectorize"] = None
        return state


class KerasText(TextEstimator):
    """Embedding -> dropout -> (Conv1D + global max pooling | bidirectional GRU) -> dropout."""

    def _body(self, keras: Any, ids: np.ndarray) -> tuple[Any, Any]:
        p = self.params
        inputs = keras.Input(shape=(ids.shape[1],), dtype="int32", name="tokens")
        x = keras.layers.Embedding(len(self.vocabulary_), p["embedding_dim"])(inputs)
        x = keras.layers.SpatialDropout1D(p["dropout"])(x)
        if p["encoder"] == "cnn":
            x = keras.layers.Conv1D(p["units"], p["kernel_size"], activation="relu")(x)
            x = keras.layers.GlobalMaxPooling1D()(x)
        else:
            x = keras.layers.Bidirectional(keras.layers.GRU(p["units"]))(x)
        return inputs, keras.layers.Dropout(p["dropout"])(x)


def build(spec: BuildSpec, params: dict, *, seed: int) -> KerasText:
    return KerasText(spec, params, seed)


def text_space(trial) -> dict:
    """Vocabulary and sequence length, shared by the text networks."""
    return {
        "max_tokens": trial.suggest_categorical("max_tokens", [5_000, 20_000]),
        "sequence_length": trial.suggest_categorical("sequence_length", [64, 128, 256]),
    }


def search_space(trial) -> dict:
    encoder = trial.suggest_categorical("encoder", ["cnn", "bigru"])
    return {
        "encoder": encoder,
        "kernel_size": trial.suggest_int("kernel_size", 3, 7, step=2) if encoder == "cnn" else 5,
        "embedding_dim": trial.suggest_categorical("embedding_dim", [32, 64, 128]),
        "units": trial.suggest_categorical("units", [32, 64, 128]),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        **text_space(trial),
        **training_space(trial, max_epochs=20, patience=3, batch=[32, 64, 128]),
    }


MODEL = Model(
    name="keras_text",
    description=__doc__.strip().splitlines()[0],
    family="neural",
    build=build,
    search_space=search_space,
    defaults={
        "encoder": "cnn",
        "kernel_size": 5,
        "embedding_dim": 64,
        "units": 64,
        "dropout": 0.3,
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
