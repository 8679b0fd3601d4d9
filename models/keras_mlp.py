"""Keras 3 multilayer perceptron: batch norm, dropout, AdamW, cosine decay, early stopping."""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from harness.model import BuildSpec, Model
from harness.preprocess import make_preprocessor

VALIDATION_SHARE = 0.15
PREDICT_BATCH = 8192


def import_keras(n_jobs: int) -> Any:
    """Import Keras quietly with TensorFlow's thread pools sized to `n_jobs` (first import wins)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", str(n_jobs))
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    if "keras" in sys.modules:
        return sys.modules["keras"]
    # TensorFlow's C++ start-up notes (oneDNN, "no CUDA drivers") bypass TF_CPP_MIN_LOG_LEVEL:
    # hide standard error at the file-descriptor level for the import only.
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return keras


class KerasMLP:
    """A scikit-learn-style estimator wrapping a Keras MLP and its preprocessing.

    The network is built in `fit` (never cloned): input width comes from the fitted preprocessor.
    Early stopping watches a validation split carved from the rows given to `fit` (the training
    fold), never the rows that will be scored, and restores the best weights.
    """

    def __init__(self, spec: BuildSpec, params: dict, seed: int) -> None:
        self.spec, self.params, self.seed = spec, dict(params), seed
        self.preprocessor = make_preprocessor(
            spec.feature_kinds, "onehot", problem_type=spec.problem_type, random_state=seed
        )
        self.network = None
        self.epochs_used = 0

    def _network(self, keras: Any, width: int) -> Any:
        p = self.params
        inputs = keras.Input(shape=(width,))
        x = inputs
        for _ in range(p["layers"]):
            x = keras.layers.Dense(p["units"], use_bias=False)(x)
            x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Activation("relu")(x)
            if p["dropout"] > 0:
                x = keras.layers.Dropout(p["dropout"])(x)
        if self.spec.is_classification:
            outputs = keras.layers.Dense(self.spec.n_classes, activation="softmax")(x)
            loss = "sparse_categorical_crossentropy"
        else:
            outputs = keras.layers.Dense(1)(x)
            loss = "mse"
        return keras.Model(inputs, outputs), loss

    def fit(self, X: Any, y: np.ndarray) -> KerasMLP:
        from sklearn.model_selection import train_test_split

        keras = import_keras(self.spec.n_jobs)
        keras.utils.set_random_seed(self.seed)
        y = np.asarray(y)
        stratify = y if self.spec.is_classification and self._stratifiable(y) else None
        fit_idx, val_idx = train_test_split(
            np.arange(len(y)),
            test_size=VALIDATION_SHARE,
            random_state=self.seed,
            stratify=stratify,
            shuffle=self.spec.shuffle,
        )
        X_fit = self.preprocessor.fit_transform(X.iloc[fit_idx], y[fit_idx]).astype(np.float32)
        X_val = self.preprocessor.transform(X.iloc[val_idx]).astype(np.float32)
        y_fit, y_val = self._target(y[fit_idx], fit=True), self._target(y[val_idx])
        network, loss = self._network(keras, X_fit.shape[1])
        batch = int(min(self.params["batch_size"], max(16, len(y_fit) // 4)))
        steps = max(1, int(np.ceil(len(y_fit) / batch))) * self.params["max_epochs"]
        schedule = keras.optimizers.schedules.CosineDecay(
            self.params["learning_rate"], decay_steps=steps, alpha=0.01
        )
        network.compile(
            optimizer=keras.optimizers.AdamW(
                learning_rate=schedule, weight_decay=self.params["weight_decay"]
            ),
            loss=loss,
            jit_compile=False,  # XLA compile time dwarfs the training of small tabular nets
        )
        stop = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=self.params["patience"], restore_best_weights=True
        )
        history = network.fit(
            self._batches(X_fit, y_fit, batch, shuffle=self.spec.shuffle),
            validation_data=self._batches(X_val, y_val, PREDICT_BATCH, shuffle=False),
            epochs=self.params["max_epochs"],
            callbacks=[stop],
            verbose=0,
            shuffle=False,
        )
        self.epochs_used = len(history.history["loss"])
        self.network = network
        if self.spec.is_classification:
            self.classes_ = np.arange(self.spec.n_classes)
        return self

    def _batches(self, X: np.ndarray, y: np.ndarray, batch: int, *, shuffle: bool) -> Any:
        """A tf.data pipeline: about ten times less per-epoch overhead than NumPy arrays, and
        Keras accepts it on every backend."""
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices((X, y)).cache()
        if shuffle:
            data = data.shuffle(len(y), seed=self.seed, reshuffle_each_iteration=True)
        return data.batch(batch).prefetch(2)

    def _stratifiable(self, y: np.ndarray) -> bool:
        counts = np.bincount(y.astype(int))
        return counts[counts > 0].min() >= 2

    def _target(self, y: np.ndarray, fit: bool = False) -> np.ndarray:
        if self.spec.is_classification:
            return y.astype(np.int32)
        if fit:  # standardize the regression target so one learning rate fits all tasks
            self.y_mean_, self.y_scale_ = float(y.mean()), float(y.std() or 1.0)
        return ((y - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _raw(self, X: Any) -> np.ndarray:
        if self.network is None:
            raise RuntimeError("KerasMLP is not fitted; call fit first")
        features = self.preprocessor.transform(X).astype(np.float32)
        parts = [
            np.asarray(self.network(features[i : i + PREDICT_BATCH], training=False))
            for i in range(0, len(features), PREDICT_BATCH)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)

    def predict_proba(self, X: Any) -> np.ndarray:
        proba = self._raw(X).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        if self.spec.is_classification:
            return self.predict_proba(X).argmax(axis=1)
        return self._raw(X).ravel() * self.y_scale_ + self.y_mean_


def build(spec: BuildSpec, params: dict, *, seed: int) -> KerasMLP:
    return KerasMLP(spec, params, seed)


def search_space(trial) -> dict:
    # Ranges of the MLP space in Gorishniy et al. (2021), "Revisiting Deep Learning Models for
    # Tabular Data", Table 13 (layers 1..8, width 1..512, dropout 0..0.5, lr 1e-5..1e-2 log,
    # weight decay 1e-6..1e-3 log), narrowed to 1..4 layers to fit small budgets on 2 cores.
    return {
        "layers": trial.suggest_int("layers", 1, 4),
        "units": trial.suggest_int("units", 32, 512, log=True),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [64, 128, 256, 512]),
        "max_epochs": trial.suggest_categorical("max_epochs", [100]),
        "patience": trial.suggest_categorical("patience", [10]),
    }


MODEL = Model(
    name="keras_mlp",
    description=__doc__.strip().splitlines()[0],
    family="neural",
    build=build,
    search_space=search_space,
    # fast.ai's tabular_learner default of two hidden layers (200, 100), here of equal width, with
    # its batch norm and modest dropout; AdamW with a 1e-3 peak rate decayed by a cosine.
    defaults={
        "layers": 2,
        "units": 128,
        "dropout": 0.1,
        "learning_rate": 1e-3,
        "weight_decay": 1e-4,
        "batch_size": 128,
        "max_epochs": 100,
        "patience": 10,
    },
    hardware=("cpu", "gpu"),
)
