"""Shared machinery of the gradient-boosting plugins: early stopping on a split of the fit rows.

Not a plugin (the registry skips modules whose name starts with "_"); the booster plugins import it
inside their `build`, so `harness list` never imports scikit-learn or a boosting library.

`BoostedTrees.fit(X, y)` carves a validation split from the rows it is given (the training fold;
stratified for classification, the last rows for time-ordered tasks), fits the preprocessing on
the rest, and grows trees until the validation loss has not improved for `PATIENCE` rounds. The
fitted model predicts with the best round. `fit_info_` reports `rounds_used` (best round) and
`rounds_max`; tuning records it per fold and the runner logs it to MLflow.

Under a fit deadline (`harness.contracts.reporting.fit_deadline`: a budget's share, or a margin
before `--trial-timeout`) every library stops adding trees once it passes, after one round at
least, and keeps the best round so far on the early-stopping split: XGBoost and CatBoost through a
callback, LightGBM through a callback raising its early-stopping exception with the best round it
tracked, scikit-learn's histogram boosting by growing `max_iter` in chunks with warm starts (the
same trees as one fit; it keeps every round it grew, as its own early stopping does). `fit_info_`
then says `cut_short` 1.0. CatBoost's GPU mode takes no callbacks: it ignores the deadline.
"""

from __future__ import annotations

import inspect
import math
import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split

from harness.contracts import BuildSpec, thread_limits
from harness.contracts.preprocessing import make_preprocessor
from harness.contracts.reporting import CUT_SHORT, fit_deadline

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
# Histogram boosting under a deadline: warm-started chunks of rounds, the first this long, then
# as many as half the time left allows at the last chunk's pace (which counts each call's binning
# of the data, about 0.4 s on flights; later rounds are slower), at most CHUNK_GROWTH times the
# last, so the chunks shrink as the deadline nears.
FIRST_CHUNK = 10
CHUNK_GROWTH = 4
CHUNK_TIME_SHARE = 0.5


class Deadline:
    """A fit's deadline (a `time.monotonic()` instant, or None) and whether it cut the fit."""

    def __init__(self, at: float | None) -> None:
        self.at = at
        self.cut = False

    def reached(self) -> bool:
        """Whether the deadline has passed (and so the fit is cut short from here on)."""
        if self.at is not None and time.monotonic() >= self.at:
            self.cut = True
        return self.cut

    def xgboost(self) -> Any:
        """An XGBoost callback stopping before a round that would begin past the deadline."""
        from xgboost.callback import TrainingCallback

        deadline = self

        class StopAtDeadline(TrainingCallback):
            def before_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
                # XGBoost's early stopping has already recorded the best of the rounds grown.
                return epoch > 0 and deadline.reached()

        return StopAtDeadline()

    def lightgbm(self) -> Any:
        """A LightGBM callback that ends training past the deadline with the best round so far
        (by the first metric on the validation set, as `lightgbm.early_stopping` ranks them)."""
        import lightgbm

        deadline = self
        best: dict[str, Any] = {}

        def stop_at_deadline(env: Any) -> None:
            results = env.evaluation_result_list or []
            if results:
                value, higher = results[0][2], results[0][3]
                if not best or (value > best["value"] if higher else value < best["value"]):
                    best.update(value=value, iteration=env.iteration, scores=list(results))
            if deadline.reached():
                if not best:  # no validation scores: keep every round grown
                    best.update(iteration=env.iteration, scores=list(results))
                raise lightgbm.callback.EarlyStopException(best["iteration"], best["scores"])

        stop_at_deadline.order = 40  # after lightgbm.early_stopping (30), which may stop first
        return stop_at_deadline

    def catboost(self) -> Any:
        """A CatBoost callback (CPU only) that ends training past the deadline; its
        `use_best_model` then shrinks the model to the best round so far."""
        deadline = self

        class StopAtDeadline:
            def after_iteration(self, info: Any) -> bool:
                return not deadline.reached()  # False stops training

        return StopAtDeadline()


def _hgb_should_stop(scores: Any, patience: int, tol: float) -> bool:
    """scikit-learn's early-stopping rule for histogram boosting, on its `validation_score_`."""
    if len(scores) < patience + 1:
        return False
    reference = scores[-(patience + 1)] + tol
    return not any(score > reference for score in scores[-patience:])


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
        deadline = fit_deadline()
        try:
            self.learner_ = self._learner(gpu=gpu)
            self._fit_learner(X_fit, y_fit, X_val, y_val, Deadline(deadline), gpu=gpu)
        except Exception:
            if not gpu:
                raise
            # No usable GPU mode (no OpenCL runtime for LightGBM, a CatBoost option the GPU
            # lacks): fall back to the CPU silently; fit_info_["gpu"] says which ran.
            gpu = False
            self.learner_ = self._learner(gpu=False)
            self._fit_learner(X_fit, y_fit, X_val, y_val, Deadline(deadline))
        self.fit_info_["gpu"] = float(gpu)
        return self

    def _recode(self, y_fit: np.ndarray, y_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        present = np.unique(y_fit)
        self.classes_ = self.classes_[present]
        lookup = {old: new for new, old in enumerate(present)}
        return np.vectorize(lookup.get)(y_fit), np.vectorize(lookup.get)(y_val)

    def _fit_learner(
        self,
        X_fit: Any,
        y_fit: Any,
        X_val: Any,
        y_val: Any,
        deadline: Deadline,
        *,
        gpu: bool = False,
    ) -> None:
        learner, rounds = self.learner_, int(self.params["max_rounds"])
        timed = deadline.at is not None  # without a deadline, the fit is exactly as before
        if self.library == "xgboost":
            if timed:
                learner.set_params(callbacks=[deadline.xgboost()])
            learner.fit(X_fit, y_fit, eval_set=[(X_val, y_val)], verbose=False)
            used = learner.best_iteration + 1
        elif self.library == "lightgbm":
            import lightgbm

            stop = lightgbm.early_stopping(PATIENCE, first_metric_only=True, verbose=False)
            if "eval_X" in inspect.signature(learner.fit).parameters:  # LightGBM >= 4.7
                evaluation = {"eval_X": (X_val,), "eval_y": (y_val,)}
            else:
                evaluation = {"eval_set": [(X_val, y_val)]}
            callbacks = [stop, deadline.lightgbm()] if timed else [stop]
            learner.fit(X_fit, y_fit, callbacks=callbacks, **evaluation)
            used = learner.best_iteration_ or rounds
        elif self.library == "catboost":
            categorical = list(self.preprocessor_.native_.categorical_columns)
            # CatBoost's GPU mode refuses user callbacks: there the hard limit stays the only one.
            timing = {"callbacks": [deadline.catboost()]} if timed and not gpu else {}
            learner.fit(X_fit, y_fit, cat_features=categorical, eval_set=(X_val, y_val), **timing)
            used = learner.get_best_iteration() + 1
        else:
            with thread_limits(self.threads(), user_api="openmp"):
                if timed:
                    self._grow_until(learner, X_fit, y_fit, X_val, y_val, deadline)
                else:
                    learner.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
            used = learner.n_iter_
        self.fit_info_ = {
            "rounds_used": float(used),
            "rounds_max": float(rounds),
            CUT_SHORT: float(deadline.cut),
        }

    @staticmethod
    def _grow_until(
        learner: Any, X_fit: Any, y_fit: Any, X_val: Any, y_val: Any, deadline: Deadline
    ) -> None:
        """Histogram boosting up to its `max_iter` in warm-started chunks, stopping between
        chunks at the deadline; the trees are those of one fit (the same seeds, the same
        early-stopping rule, checked across chunks here)."""
        rounds = learner.max_iter
        chunk, grown = min(1 if deadline.reached() else FIRST_CHUNK, rounds), 0
        learner.set_params(warm_start=True)
        while True:
            began = time.monotonic()
            learner.set_params(max_iter=grown + chunk)
            learner.fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
            pace = (time.monotonic() - began) / max(learner.n_iter_ - grown, 1)
            grown = learner.n_iter_
            stopped = grown < learner.max_iter or _hgb_should_stop(
                learner.validation_score_, learner.n_iter_no_change, learner.tol
            )
            if stopped or grown >= rounds or deadline.reached():
                break
            left = CHUNK_TIME_SHARE * (deadline.at - time.monotonic())
            fits = math.floor(left / pace) if pace > 0 else rounds
            chunk = max(1, min(CHUNK_GROWTH * chunk, fits, rounds - grown))
        learner.set_params(max_iter=rounds, warm_start=False)

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
