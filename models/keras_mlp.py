"""Keras 3 MLP: categorical embeddings, batch norm, dropout, AdamW, lr range test, one-cycle."""

from __future__ import annotations

from typing import Any

import numpy as np
from harness.models._keras import BN_MOMENTUM, KerasEstimator, training_space

from harness.contracts import BuildSpec, Model
from harness.contracts.preprocessing import columns_of, make_preprocessor

MAX_LEVELS = 10_000  # most frequent levels of a categorical kept per column; rarer ones share 1


def embedding_size(levels: int) -> int:
    """fast.ai's rule of thumb for an embedding's width: min(600, round(1.6 * levels ** 0.56))."""
    return int(min(600, round(1.6 * levels**0.56)))


class TabularInputs:
    """Tabular rows -> (dense features, categorical codes), fitted on the training rows.

    Numerics (and any text) go through the shared "onehot" preprocessing (imputed, standardized,
    TF-IDF); each categorical becomes integer codes for an embedding: 0 for missing, unseen or
    rare levels, 1.. for the levels of the training rows, offset by the codes of the columns
    before it (`offsets_`), so all columns index one shared table.
    """

    def __init__(self, spec: BuildSpec, seed: int) -> None:
        self.categorical = columns_of(spec.feature_kinds, "categorical")
        rest = {c: k for c, k in spec.feature_kinds.items() if c not in self.categorical}
        self.dense = (
            make_preprocessor(rest, "onehot", problem_type=spec.problem_type, random_state=seed)
            if rest
            else None
        )

    def fit_transform(self, X: Any, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.levels_ = {}
        for column in self.categorical:
            counts = X[column].dropna().astype(str).value_counts()
            kept = counts.index[:MAX_LEVELS].tolist()
            self.levels_[column] = {level: i + 1 for i, level in enumerate(sorted(kept))}
        self.offsets_ = np.cumsum([0, *self.cardinalities()[:-1]]).astype(np.int32)
        if self.dense is not None:
            self.dense.fit(X, y)
        return self.transform(X)

    def transform(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        n = len(X)
        dense = (
            np.asarray(self.dense.transform(X), dtype=np.float32)
            if self.dense is not None
            else np.zeros((n, 0), dtype=np.float32)
        )
        codes = np.zeros((n, len(self.categorical)), dtype=np.int32)
        for i, column in enumerate(self.categorical):
            mapping = self.levels_[column]
            values = X[column].astype(object).where(X[column].notna(), None)
            codes[:, i] = [mapping.get(str(v), 0) if v is not None else 0 for v in values]
        return dense, codes + self.offsets_[None, :] if len(self.categorical) else codes

    def cardinalities(self) -> list[int]:
        """Embedding rows per categorical column (levels + the shared 0 code)."""
        return [len(self.levels_[c]) + 1 for c in self.categorical]


class KerasMLP(KerasEstimator):
    """fast.ai's tabular learner in Keras: embeddings + [Dense, BatchNorm, ReLU, Dropout] x n."""

    def __init__(self, spec: BuildSpec, params: dict, seed: int) -> None:
        super().__init__(spec, params, seed)
        self.preprocessor = TabularInputs(spec, seed)

    def _fit_inputs(self, X: Any, y: np.ndarray) -> Any:
        dense, codes = self.preprocessor.fit_transform(X, y)
        # The network takes the dense block when there is one (or nothing else), the codes when
        # there are categoricals.
        self.uses_ = (dense.shape[1] > 0 or codes.shape[1] == 0, codes.shape[1] > 0)
        return self._select(dense, codes)

    def _inputs(self, X: Any) -> Any:
        return self._select(*self.preprocessor.transform(X))

    def _select(self, dense: np.ndarray, codes: np.ndarray) -> Any:
        used = tuple(part for part, use in zip((dense, codes), self.uses_, strict=True) if use)
        return used[0] if len(used) == 1 else used

    def _embedded(self, keras: Any, inputs: Any) -> tuple[Any, Any]:
        """Inputs and the concatenation of dense features and categorical embeddings."""
        arrays = inputs if isinstance(inputs, tuple) else (inputs,)
        ins, parts = [], []
        if self.uses_[0]:
            ins.append(keras.Input(shape=(arrays[0].shape[1],), name="numeric_features"))
            parts.append(ins[0])
        if self.uses_[1]:
            codes_in = keras.Input(shape=(arrays[-1].shape[1],), dtype="int32", name="codes")
            ins.append(codes_in)
            parts.append(self._embeddings(keras, codes_in))
        x = parts[0] if len(parts) == 1 else keras.layers.Concatenate()(parts)
        return (ins[0] if len(ins) == 1 else ins), x

    def _embeddings(self, keras: Any, codes: Any) -> Any:
        """One embedding per categorical, `embedding_size(levels)` wide, flattened side by side.

        All columns share one table (the codes come offset per column) whose width is the
        widest column's; each column's vector is masked to its own width by a frozen table of
        0/1 rows looked up with the same codes. The network is the same as with separate
        tables, but it is a few layers instead of several per column, which keeps TensorFlow's
        graph tracing fast on tables with dozens of categoricals. Every layer is a built-in
        one (no `Lambda` over a closure), so a fitted network pickles and loads back.
        """
        levels = self.preprocessor.cardinalities()
        widths = [embedding_size(n) for n in levels]
        mask = (np.arange(max(widths))[None, :] < np.array(widths)[:, None]).astype(np.float32)
        rows = int(sum(levels))
        vectors = keras.layers.Embedding(rows, max(widths))(codes)
        masking = keras.layers.Embedding(rows, max(widths), trainable=False, name="width_mask")
        masks = masking(codes)
        masking.set_weights([np.repeat(mask, levels, axis=0)])  # each code's column's widths
        flat = keras.layers.Flatten()(keras.layers.Multiply()([vectors, masks]))
        return keras.layers.Dropout(self.params["embedding_dropout"])(flat)

    def _body(self, keras: Any, inputs: Any) -> tuple[list, Any]:
        ins, x = self._embedded(keras, inputs)
        p = self.params
        for _ in range(p["layers"]):
            x = keras.layers.Dense(p["units"], use_bias=False)(x)
            x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
            x = keras.layers.Activation("relu")(x)
            if p["dropout"] > 0:
                x = keras.layers.Dropout(p["dropout"])(x)
        return ins, x


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
        "embedding_dropout": trial.suggest_float("embedding_dropout", 0.0, 0.3),
        **training_space(trial, max_epochs=100, patience=10, batch=[64, 128, 256, 512]),
    }


MODEL = Model(
    name="keras_mlp",
    description=__doc__.strip().splitlines()[0],
    family="neural",
    build=build,
    search_space=search_space,
    # fast.ai's tabular_learner: two hidden layers (200, 100; here of equal width) with batch norm
    # and modest dropout, embeddings sized by its rule, AdamW, fit_one_cycle at the lr_find rate.
    defaults={
        "layers": 2,
        "units": 128,
        "dropout": 0.1,
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
