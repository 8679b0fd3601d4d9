"""Shared machinery of the gradient-boosting plugins: early stopping on a split of the fit rows.

Not a plugin (the registry skips modules whose name starts with "_"); the booster plugins import it
inside their `build`, so `harness list` never imports scikit-learn or a boosting library.

`BoostedTrees.fit(X, y)` carves a validation split from the rows it is given (the training fold;
stratified for classification, the last rows for time-ordered tasks), fits the preprocessing on
the rest, and grows trees until the validation loss has not improved for `PATIENCE` rounds. The
fitted model predicts with the best round. `fit_info_` reports `rounds_used` (best round) and
`rounds_max`; tuning records it per fold and the runner logs it to MLflow.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split

from harness.contracts import BuildSpec, thread_limits
from harness.contracts.preprocessing import make_preprocessor

# Below this many rows a booster uses one thread: the work per round is too small to share,
# and OpenMP threads that spin-wait collapse when the cores are shared (measured on 2 busy
# cores: LightGBM on 450 rows took 0.3 s with one thread, 20 s with two).
SMALL_DATA_ROWS = 10_000
VALIDATION_SHARE = 0.1
MIN_VALIDATION_ROWS = 20
PATIENCE = 50
LIBRARIES = ("xgboost", "lightgbm", "catboost", "hist_gradient_boosting")
# Libraries with a GPU mode. XGBoost falls back to the CPU by itself when CUDA is unusable.
GPU_LIBRARIES = ("xgboost", "lightgbm", "catboost")


def validation_split(
    y: np.ndarray, *, classification: bool, shuffle: bool, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (fit, validation) of the rows given to `fit`; never the scored fold.

    Stratified when every class has two rows or more; without shuffling (the last rows validate)
    for time-ordered tasks.
    """
    n = len(y)
    size = max(MIN_VALIDATION_ROWS, int(round(VALIDATION_SHARE * n)))
    size = min(size, max(1, n // 4))
    stratify = None
    if classification and shuffle:
        counts = np.unique(y, return_counts=True)[1]
        if counts.min() >= 2 and size >= len(counts):
            stratify = y
    return train_test_split(
        np.arange(n), test_size=size, random_state=seed, stratify=stratify, shuffle=shuffle
    )


class BoostedTrees(BaseEstimator):
    """Preprocessing + one boosting library, early-stopped on a split of the training rows.

    Args:
        library: xgboost, lightgbm, catboost or hist_gradient_boosting.
        spec: The task and machine description given to `build`.
        params: The trial's hyperparameters (`max_rounds` is the most trees grown).
        seed: Seed of the validation split and the learner.
    """

    def __init__(self, library: str, spec: BuildSpec, params: dict, seed: int = 0) -> None:
        self.library = library
        self.spec = spec
        self.params = params
        self.seed = seed

    # -- the learner of each library ----------------------------------------------------------

    def threads(self) -> int:
        """Threads for the learner: the run's budget, or one on small data."""
        return 1 if self.spec.n_rows < SMALL_DATA_ROWS else self.spec.n_jobs

    def _style(self) -> dict:
        if self.library in ("lightgbm", "catboost"):
            return {"style": "native"}
        return {"style": "ordinal", "impute_numeric": False}  # both take NaN natively

    def learner_options(self, *, gpu: bool | None = None) -> dict:
        """Constructor arguments of the library's estimator (device and threads included).

        Args:
            gpu: Use the library's GPU mode (default: when the spec's device is "cuda").
        """
        spec, seed = self.spec, self.seed
        gpu = spec.device == "cuda" if gpu is None else gpu
        params = {k: v for k, v in self.params.items() if k != "max_rounds"}
        rounds = int(self.params["max_rounds"])
        if self.library == "xgboost":
            return dict(
                n_estimators=rounds,
                early_stopping_rounds=PATIENCE,
                tree_method="hist",
                device="cuda" if gpu else "cpu",
                n_jobs=self.threads(),
                random_state=seed,
                verbosity=0,
                **params,
            )
        if self.library == "lightgbm":
            # The PyPI wheel's GPU mode is OpenCL ("gpu"); it needs an OpenCL runtime.
            device = {"device_type": "gpu"} if gpu else {}
            return dict(
                n_estimators=rounds,
                n_jobs=self.threads(),
                random_state=seed,
                deterministic=True,
                force_col_wise=True,
                verbose=-1,
                subsample_freq=1 if params.get("subsample", 1.0) < 1.0 else 0,
                **device,
                **params,
            )
        if self.library == "catboost":
            if gpu:
                device = {"task_type": "GPU", "devices": "0"}
                params.pop("colsample_bylevel", None)  # rsm: CPU only for these losses
            else:
                device = {"thread_count": self.threads()}
            return dict(
                iterations=rounds,
                od_type="Iter",
                od_wait=PATIENCE,
                use_best_model=True,
                random_seed=seed,
                verbose=False,
                allow_writing_files=False,
                **device,
                **params,
            )
        if self.library == "hist_gradient_boosting":
            return dict(
                max_iter=rounds,
                early_stopping=True,
                n_iter_no_change=PATIENCE,
                scoring="loss",
                random_state=seed,
                **params,
            )
        raise ValueError(f"unknown boosting library {self.library!r}; use one of {LIBRARIES}")

    def _learner(self, *, gpu: bool) -> Any:
        classify = self.spec.is_classification
        options = self.learner_options(gpu=gpu)
        if self.library == "xgboost":
            from xgboost import XGBClassifier, XGBRegressor

            return (XGBClassifier if classify else XGBRegressor)(**options)
        if self.library == "lightgbm":
            from lightgbm import LGBMClassifier, LGBMRegressor

            return (LGBMClassifier if classify else LGBMRegressor)(**options)
        if self.library == "catboost":
            from catboost import CatBoostClassifier, CatBoostRegressor

            return (CatBoostClassifier if classify else CatBoostRegressor)(**options)
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        return (HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor)(
            **options
        )

    # -- the estimator protocol ---------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> BoostedTrees:
        """Fit on the training fold, early-stopping on a validation split carved from it."""
        spec = self.spec
        y = np.asarray(y)
        if spec.is_classification:
            # Fit only on the classes present; the runner pads the others with zero columns.
            self.classes_, y = np.unique(y.astype(int), return_inverse=True)
        fit_idx, val_idx = validation_split(
            y, classification=spec.is_classification, shuffle=spec.shuffle, seed=self.seed
        )
        if spec.is_classification:  # validation rows of a class the fit rows lack cannot score
            val_idx = val_idx[np.isin(y[val_idx], y[fit_idx])]
        self.preprocessor_ = make_preprocessor(
            spec.feature_kinds,
            problem_type=spec.problem_type,
            random_state=self.seed,
            **self._style(),
        )
        X_fit = self.preprocessor_.fit_transform(X.iloc[fit_idx], y[fit_idx])
        X_val = self.preprocessor_.transform(X.iloc[val_idx])
        y_fit, y_val = y[fit_idx], y[val_idx]
        if spec.is_classification and len(np.unique(y_fit)) < len(self.classes_):
            y_fit, y_val = self._recode(y_fit, y_val)
        gpu = spec.device == "cuda" and self.library in GPU_LIBRARIES
        try:
            self.learner_ = self._learner(gpu=gpu)
            self._fit_learner(X_fit, y_fit, X_val, y_val)
        except Exception:
            if not gpu:
                raise
            # No usable GPU mode (no OpenCL runtime for LightGBM, a CatBoost option the GPU
            # lacks): fall back to the CPU silently; fit_info_["gpu"] says which ran.
            gpu = False
            self.learner_ = self._learner(gpu=False)
            self._fit_learner(X_fit, y_fit, X_val, y_val)
        self.fit_info_["gpu"] = float(gpu)
        return self

    def _recode(self, y_fit: np.ndarray, y_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        present = np.unique(y_fit)
        self.classes_ = self.classes_[present]
        lookup = {old: new for new, old in enumerate(present)}
        return np.vectorize(lookup.get)(y_fit), np.vectorize(lookup.get)(y_val)

    def _fit_learner(self, X_fit: Any, y_fit: Any, X_val: Any, y_val: Any) -> None:
        learner, rounds = self.learner_, int(self.params["max_rounds"])
        if self.library == "xgboost":
            learner.fit(X_fit, y_fit, eval_set=[(X_val, y_val)], verbose=False)
            used = learner.best_iteration + 1
        elif self.library == "lightgbm":
            import lightgbm

            stop = lightgbm.early_stopping(PATIENCE, first_metric_only=True, verbose=False)
            if "eval_X" in inspect.signature(learner.fit).parameters:  # LightGBM >= 4.7
                evaluation = {"eval_X": (X_val,), "eval_y": (y_val,)}
            else:
                evaluation = {"eval_set": [(X_val, y_val)]}
            learner.fit(X_fit, y_fit, callbacks=[stop], **evaluation)
            used = learner.best_iteration_ or rounds
        elif self.library == "catboost":
            categorical = list(self.preprocessor_.native_.categorical_columns)
            learner.fit(X_fit, y_fit, cat_features=categorical, eval_set=(X_val, y_val))
            used = learner.get_best_iteration() + 1
        else:
            with thread_limits(self.threads(), user_api="openmp"):
                learner.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
            used = learner.n_iter_
        self.fit_info_ = {"rounds_used": float(used), "rounds_max": float(rounds)}

    def _features(self, X: Any) -> Any:
        if not hasattr(self, "learner_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit first")
        return self.preprocessor_.transform(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities over `classes_` (with the best round)."""
        return np.asarray(self.learner_.predict_proba(self._features(X)), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """Class codes (classification) or values (regression), with the best round."""
        if self.spec.is_classification:
            return self.classes_[self.predict_proba(X).argmax(axis=1)]
        return np.asarray(self.learner_.predict(self._features(X)), dtype=np.float64).ravel()

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier" if self.spec.is_classification else "regressor"
        tags.input_tags.allow_nan = True
        return tags
