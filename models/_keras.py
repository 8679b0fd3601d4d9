"""Shared Keras 3 machinery of the neural model plugins (not a plugin: its name starts with "_").

What every Keras learner of harness gets from here:

- `import_keras`: a lazy, quiet import with TensorFlow's thread pools sized to the study's `n_jobs`.
  The backend is the `KERAS_BACKEND` setting (TensorFlow unless the user sets another); nothing
  outside the Keras plugins imports Keras.
- `seed_everything`: `keras.utils.set_random_seed`, which makes CPU runs repeatable up to float
  rounding across thread schedules; `HARNESS_KERAS_DETERMINISTIC=1` asks for bitwise determinism
  (TensorFlow's op determinism; slower).
- `KerasEstimator`: a scikit-learn-style estimator whose `fit` carves an early-stopping validation
  split out of the rows it is given (the training fold, never the scored fold), finds a learning
  rate with fast.ai's range test ("valley") unless one is given, trains with AdamW under a
  one-cycle or cosine schedule, stops early on the validation loss with the best weights restored,
  reports each epoch's validation score to Optuna (per-epoch pruning, see
  `harness.tuning.epoch_reporter`), and records `fit_info_` (epochs used, the learning rate, the
  best validation loss, whether a GPU and mixed precision were used, whether it was cut short).
- A fit deadline (`harness.contracts.reporting.fit_deadline`): training stops after the batch
  during which it passes (one batch at least), the epoch's validation runs, and the best weights
  so far are restored (Keras's EarlyStopping restores them at the end of training whatever ended
  it); the range test uses at most half the time left and falls back on `FALLBACK_LR` when the
  deadline cut its sweep. `fit_info_["cut_short"]` is then 1.0.
- tf.data pipelines (shuffled every epoch for i.i.d. tasks, never for time-ordered ones) and the
  image augmentation layers a task allows (`BuildSpec.augmentation`), active only in training.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

import numpy as np

from harness.contracts import Augmentation, BuildSpec

VALIDATION_SHARE = 0.15
PREDICT_BATCH = 1024
DETERMINISTIC_ENV = "HARNESS_KERAS_DETERMINISTIC"
# fast.ai's lr_find: an exponential sweep from 1e-7 to 10 over 100 mini-batches, stopped when the
# smoothed loss passes 4x its minimum; the "valley" suggestion; clamped to a range AdamW tolerates.
# On small data the sweep is shortened to three epochs' worth of batches (at least 30).
LR_SWEEP = (1e-7, 10.0, 100)
LR_CLAMP = (1e-5, 3e-2)
# Under a fit deadline the range test may use this share of the time left; when the deadline cuts
# its sweep, training uses Adam's usual rate instead of a suggestion from a partial sweep. With
# less than LR_FIND_MIN_SECONDS left it is skipped: its first step alone traces a training
# function (about 2.5 s on 2 CPU cores), time the training itself needs.
LR_FIND_SHARE = 0.5
LR_FIND_MIN_SECONDS = 20.0
FALLBACK_LR = 1e-3
# PyTorch's (and fast.ai's) batch-norm momentum 0.1, i.e. Keras momentum 0.9: Keras's 0.99 leaves
# the moving statistics near their initial values after the few hundred steps of a small task.
BN_MOMENTUM = 0.9


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


def seed_everything(keras: Any, seed: int) -> None:
    """Seed Python, NumPy and the backend; op determinism when HARNESS_KERAS_DETERMINISTIC=1."""
    keras.utils.set_random_seed(seed)
    if os.environ.get(DETERMINISTIC_ENV, "").strip() in ("1", "true", "yes"):
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()


def gpu_available(keras: Any) -> bool:
    """Whether the backend sees a GPU (TensorFlow places work on it by itself)."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def use_mixed_precision(keras: Any, spec: BuildSpec) -> bool:
    """mixed_float16 on a GPU (outputs stay float32), float32 on the CPU; returns which."""
    mixed = spec.device == "cuda" and gpu_available(keras)
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed else "float32")
    return mixed


def valley(lrs: list[float], losses: list[float]) -> float:
    """fast.ai's "valley" suggestion: two thirds down the longest run of falling losses."""
    n = len(losses)
    if n < 2:
        return lrs[0] if lrs else 1e-3
    run = [1] * n
    start = end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and run[i] < run[j] + 1:
                run[i] = run[j] + 1
        if run[end] < run[i]:
            end = i
            start = end - run[end]  # as fast.ai writes it
    third = (end - start) / 3
    return float(lrs[start + int(third) + int(third / 2)])


def lr_find(
    keras: Any,
    network: Any,
    loss: str,
    data: Any,
    weight_decay: float,
    *,
    steps: int = 100,
    until: float | None = None,
) -> float | None:
    """Range test: train on an exponential sweep of learning rates, suggest the valley.

    The network's weights (batch-norm statistics included) are restored afterwards, and the
    caller compiles a fresh optimizer, so the sweep leaves no trace but the suggestion. A sweep
    still running at `until` (a `time.monotonic()` instant) stops there and suggests nothing
    (None): its first, smallest rates alone would suggest too small a rate.
    """
    start, end, _ = LR_SWEEP
    weights = network.get_weights()
    network.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=start, weight_decay=weight_decay),
        loss=loss,
        jit_compile=False,
    )
    factor = (end / start) ** (1 / (steps - 1))
    lrs, losses, smooth, best = [], [], 0.0, math.inf
    batches = iter(data.repeat())
    cut = False
    for i in range(steps):
        if until is not None and i > 0 and time.monotonic() >= until:
            cut = True
            break
        lr = start * factor**i
        network.optimizer.learning_rate.assign(lr)
        x, y = next(batches)
        value = float(np.asarray(network.train_on_batch(x, y)).ravel()[0])
        smooth = 0.98 * smooth + 0.02 * value
        smoothed = smooth / (1 - 0.98 ** (i + 1))
        lrs.append(lr)
        losses.append(smoothed)
        if not math.isfinite(smoothed) or smoothed > 4 * best:
            break
        best = min(best, smoothed)
    network.set_weights(weights)
    if cut:
        return None
    skip = max(1, len(lrs) // 10)  # fast.ai drops the first tenth and the last five points
    trimmed = (lrs[skip:-5], losses[skip:-5]) if len(lrs) > skip + 10 else (lrs, losses)
    suggestion = valley(*trimmed)
    return float(min(max(suggestion, LR_CLAMP[0]), LR_CLAMP[1]))


def schedule(keras: Any, name: str, peak: float, total_steps: int) -> Any:
    """A one-cycle (linear warm-up over 25% of steps from peak/25, cosine down) or cosine decay."""
    total_steps = max(2, total_steps)
    if name == "one_cycle":
        warm = max(1, total_steps // 4)
        return keras.optimizers.schedules.CosineDecay(
            peak / 25,
            decay_steps=total_steps - warm,
            alpha=1e-4,
            warmup_target=peak,
            warmup_steps=warm,
        )
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(peak, decay_steps=total_steps, alpha=0.01)
    raise ValueError(f"unknown learning-rate schedule {name!r}; use 'one_cycle' or 'cosine'")


def batches(inputs: Any, y: Any, batch: int, *, shuffle: bool, seed: int) -> Any:
    """A tf.data pipeline; reshuffled every epoch when `shuffle`, in row order otherwise."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((inputs, y) if y is not None else inputs).cache()
    if shuffle:
        n = len(y) if y is not None else len(inputs)
        data = data.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch).prefetch(2)


def augmentation_layers(keras: Any, augmentation: Augmentation, seed: int) -> list[Any]:
    """Keras preprocessing layers for the transforms a task allows (identity at inference)."""
    layers = []
    if augmentation.flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed))
    if augmentation.shift:
        s = augmentation.shift
        layers.append(keras.layers.RandomTranslation(s, s, fill_mode="constant", seed=seed + 1))
    if augmentation.rotation:
        layers.append(
            keras.layers.RandomRotation(
                augmentation.rotation / 360.0, fill_mode="constant", seed=seed + 2
            )
        )
    if augmentation.zoom:
        z = augmentation.zoom
        layers.append(keras.layers.RandomZoom(z, z, fill_mode="constant", seed=seed + 3))
    return layers


def _deadline_callback(keras: Any, estimator: KerasEstimator) -> Any:
    """A callback that stops training after the batch (or epoch) during which the fit's deadline
    passes, and marks the fit cut short; EarlyStopping then restores the best weights."""

    class StopAtDeadline(keras.callbacks.Callback):
        def _check(self) -> None:
            if estimator.past_deadline():
                self.model.stop_training = True

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self._check()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self._check()

    return StopAtDeadline()


def _pruning_callback(keras: Any, report: Any, offset: int) -> Any:
    """A callback that sends each epoch's validation score to the study (it may stop the fit)."""

    def on_epoch_end(epoch: int, logs: Any = None) -> None:
        report(offset + epoch)

    return keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)


class KerasEstimator:
    """The scikit-learn-style estimator every Keras plugin builds on.

    Subclasses turn rows into network inputs (`_fit_inputs` on the training rows, `_inputs` on
    any rows) and build the body (`_body`); this class adds the head, the validation split, the
    training loop and prediction. The network is built in `fit` (never cloned), so input sizes
    come from the fitted preprocessing.

    Params read here: lr_find, learning_rate (absent or 0 = range test), schedule, weight_decay,
    batch_size, max_epochs, patience.
    """

    def __init__(self, spec: BuildSpec, params: dict, seed: int) -> None:
        self.spec, self.params, self.seed = spec, dict(params), seed
        self.network = None
        self.epochs_used = 0
        self.fit_info_: dict[str, float] = {}
        self.deadline_: float | None = None  # the fit's deadline (`fit_deadline()` in `fit`)
        self.cut_short_ = False

    def past_deadline(self) -> bool:
        """Whether the fit's deadline has passed; if so, the fit is cut short from here on."""
        if self.deadline_ is not None and time.monotonic() >= self.deadline_:
            self.cut_short_ = True
        return self.cut_short_

    # --- what subclasses provide -------------------------------------------------------------
    def _fit_inputs(self, X: Any, y: np.ndarray) -> Any:
        """Fit the preprocessing on the training rows and return their network inputs."""
        raise NotImplementedError

    def _inputs(self, X: Any) -> Any:
        """Network inputs of any rows, with the fitted preprocessing."""
        raise NotImplementedError

    def _body(self, keras: Any, inputs: Any) -> tuple[Any, Any]:
        """(keras.Input tensors, feature tensor) of the network without its head."""
        raise NotImplementedError

    # --- training ----------------------------------------------------------------------------
    def _head(self, keras: Any, features: Any) -> tuple[Any, str]:
        if self.spec.is_classification:
            out = keras.layers.Dense(self.spec.n_classes, activation="softmax", dtype="float32")
            return out(features), "sparse_categorical_crossentropy"
        return keras.layers.Dense(1, dtype="float32")(features), "mse"

    def _split(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows for fitting and for early stopping, both from the rows given to `fit`."""
        from sklearn.model_selection import train_test_split

        index = np.arange(len(y))
        if not self.spec.shuffle:  # time-ordered: the latest rows validate, as in the protocol
            cut = len(y) - max(1, int(round(VALIDATION_SHARE * len(y))))
            return index[:cut], index[cut:]
        stratify = None
        if self.spec.is_classification:
            counts = np.bincount(y.astype(int))
            if counts[counts > 0].min() >= 2:
                stratify = y
        return train_test_split(
            index, test_size=VALIDATION_SHARE, random_state=self.seed, stratify=stratify
        )

    def _target(self, y: np.ndarray, fit: bool = False) -> np.ndarray:
        if self.spec.is_classification:
            return y.astype(np.int32)
        if fit:  # standardize the regression target so one learning rate fits all tasks
            self.y_mean_, self.y_scale_ = float(y.mean()), float(y.std() or 1.0)
        return ((y - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _batch_size(self, n: int) -> int:
        return int(min(self.params["batch_size"], max(16, n // 4)))

    def fit(self, X: Any, y: np.ndarray) -> KerasEstimator:
        """Fit on the rows given (a training fold): validation split, range test, training."""
        keras = import_keras(self.spec.n_jobs)
        seed_everything(keras, self.seed)
        mixed = use_mixed_precision(keras, self.spec)
        y = np.asarray(y)
        fit_rows, val_rows = self._split(y)
        self.validation_rows_ = val_rows
        fit_inputs = self._fit_inputs(X.iloc[fit_rows], y[fit_rows])
        val_inputs = self._inputs(X.iloc[val_rows])
        y_fit, y_val = self._target(y[fit_rows], fit=True), self._target(y[val_rows])
        inputs, features = self._body(keras, fit_inputs)
        outputs, loss = self._head(keras, features)
        self.network = keras.Model(inputs, outputs)
        self.loss_ = loss
        if self.spec.is_classification:
            self.classes_ = np.arange(self.spec.n_classes)
        batch = self._batch_size(len(y_fit))
        train = batches(fit_inputs, y_fit, batch, shuffle=self.spec.shuffle, seed=self.seed)
        valid = batches(val_inputs, y_val, PREDICT_BATCH, shuffle=False, seed=self.seed)
        steps_per_epoch = max(1, math.ceil(len(y_fit) / batch))

        from harness.contracts.reporting import CUT_SHORT, epoch_reporter, fit_deadline

        self.deadline_, self.cut_short_ = fit_deadline(), False
        reporter = epoch_reporter()
        y_val_raw = y[val_rows]

        def report(epoch: int) -> None:
            if reporter is not None:
                reporter.epoch(epoch, y_val_raw, self._decode(self._raw_inputs(val_inputs)))

        info = self._train(keras, train, valid, steps_per_epoch, report)
        self.fit_info_ = {
            **info,
            "gpu": float(gpu_available(keras)),
            "mixed_precision": float(mixed),
            CUT_SHORT: float(self.cut_short_),
        }
        self.epochs_used = int(info["epochs_used"])
        return self

    def _train(self, keras: Any, train: Any, valid: Any, steps: int, report: Any) -> dict:
        """One training phase over the whole network (transfer learning overrides this)."""
        lr = self._learning_rate(keras, train, steps)
        epochs, best = self._phase(
            keras, train, valid, steps, lr, self.params["max_epochs"], report, offset=0
        )
        return {"epochs_used": epochs, "learning_rate": lr, "val_loss": best}

    def _learning_rate(self, keras: Any, train: Any, steps_per_epoch: int) -> float:
        # Optuna's trial.params (what a refit gets) hold only the suggested values: with
        # lr_find there is no learning_rate, so a missing rate means "find it" too.
        lr = float(self.params.get("learning_rate") or 0.0)
        if not self.params.get("lr_find", lr <= 0) and lr > 0:
            return lr
        steps = min(LR_SWEEP[2], max(30, 3 * steps_per_epoch))
        until = None
        if self.deadline_ is not None:
            now = time.monotonic()
            if self.deadline_ - now < LR_FIND_MIN_SECONDS:
                self.cut_short_ = True
                return FALLBACK_LR
            until = now + LR_FIND_SHARE * (self.deadline_ - now)
        found = lr_find(
            keras,
            self.network,
            self.loss_,
            train,
            self.params["weight_decay"],
            steps=steps,
            until=until,
        )
        if found is None:  # the deadline cut the sweep
            self.cut_short_ = True
            return FALLBACK_LR
        return found

    def _phase(
        self,
        keras: Any,
        train: Any,
        valid: Any,
        steps: int,
        lr: float,
        epochs: int,
        report: Any,
        *,
        offset: int,
    ) -> tuple[int, float]:
        """Compile a fresh AdamW, train with early stopping (and the fit's deadline); return
        (epochs run, best val loss)."""
        rate = schedule(keras, self.params["schedule"], lr, steps * epochs)
        self.network.compile(
            optimizer=keras.optimizers.AdamW(
                learning_rate=rate, weight_decay=self.params["weight_decay"]
            ),
            loss=self.loss_,
            jit_compile=False,  # XLA compile time dwarfs the training of small nets on CPU
        )
        stop = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=self.params["patience"], restore_best_weights=True
        )
        history = self.network.fit(
            train,
            validation_data=valid,
            epochs=epochs,
            callbacks=[
                stop,
                _pruning_callback(keras, report, offset),
                *([_deadline_callback(keras, self)] if self.deadline_ is not None else []),
            ],
            verbose=0,
            shuffle=False,  # the tf.data pipeline already reshuffles each epoch when allowed
        )
        losses = history.history["val_loss"]
        finite = [v for v in losses if math.isfinite(v)]
        return len(losses), float(min(finite)) if finite else math.inf

    # --- prediction --------------------------------------------------------------------------
    def _raw_inputs(self, inputs: Any) -> np.ndarray:
        n = len(inputs[0]) if isinstance(inputs, (tuple, list)) else len(inputs)
        parts = []
        for i in range(0, n, PREDICT_BATCH):
            if isinstance(inputs, (tuple, list)):
                chunk = tuple(part[i : i + PREDICT_BATCH] for part in inputs)
            else:
                chunk = inputs[i : i + PREDICT_BATCH]
            parts.append(np.asarray(self.network(chunk, training=False), dtype=np.float64))
        width = self.spec.n_classes if self.spec.is_classification else 1
        return np.concatenate(parts) if parts else np.zeros((0, width))

    def _decode(self, raw: np.ndarray) -> np.ndarray:
        """Probabilities (rows sum to 1) or values on the target's scale."""
        if self.spec.is_classification:
            return raw / raw.sum(axis=1, keepdims=True)
        return raw.ravel() * self.y_scale_ + self.y_mean_

    def _predicted(self, X: Any) -> np.ndarray:
        if self.network is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit first")
        return self._decode(self._raw_inputs(self._inputs(X)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per class code."""
        if not self.spec.is_classification:
            raise AttributeError("predict_proba is for classification tasks")
        return self._predicted(X)

    def predict(self, X: Any) -> np.ndarray:
        """Class codes (classification) or values (regression)."""
        predicted = self._predicted(X)
        return predicted.argmax(axis=1) if self.spec.is_classification else predicted


def training_space(trial: Any, *, max_epochs: int, patience: int, batch: list[int]) -> dict:
    """The training hyperparameters every Keras plugin shares.

    learning_rate 0 means "from the range test"; otherwise a tuned rate (1e-4..1e-2, log).
    """
    find = trial.suggest_categorical("lr_find", [True, False])
    lr = 0.0 if find else trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
    return {
        "lr_find": find,
        "learning_rate": lr,
        "schedule": trial.suggest_categorical("schedule", ["one_cycle", "cosine"]),
        "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
        "batch_size": trial.suggest_categorical("batch_size", batch),
        "max_epochs": trial.suggest_categorical("max_epochs", [max_epochs]),
        "patience": trial.suggest_categorical("patience", [patience]),
    }
