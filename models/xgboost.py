"""Gradient-boosted trees with XGBoost (histogram method; CUDA when a GPU is present)."""

from __future__ import annotations

from harness.model import BuildSpec, Model
from harness.preprocess import make_preprocessor


def build(spec: BuildSpec, params: dict, *, seed: int):
    from sklearn.pipeline import make_pipeline
    from xgboost import XGBClassifier, XGBRegressor

    common = dict(
        n_estimators=params["n_estimators"],
        learning_rate=params["learning_rate"],
        max_depth=params["max_depth"],
        min_child_weight=params["min_child_weight"],
        subsample=params["subsample"],
        colsample_bytree=params["colsample_bytree"],
        reg_alpha=params["reg_alpha"],
        reg_lambda=params["reg_lambda"],
        gamma=params["gamma"],
        tree_method="hist",
        device=spec.device,
        n_jobs=spec.n_jobs,
        random_state=seed,
        verbosity=0,
    )
    if spec.is_classification:
        learner = XGBClassifier(**common)
    else:
        learner = XGBRegressor(**common)
    # XGBoost handles missing numerics natively: no imputation.
    pre = make_preprocessor(spec.feature_kinds, "ordinal", impute_numeric=False)
    return make_pipeline(pre, learner)


def search_space(trial) -> dict:
    # The XGBoost space of Grinsztajn, Oyallon & Varoquaux (2022), Appendix A.2 (after Gorishniy
    # et al. 2021): log-uniform learning rate 1e-5..0.7, depth 1..11, min_child_weight 1..1e2,
    # subsample and colsample 0.5..1, alpha and lambda 1e-8..1e2 (log), gamma 1e-8..7 (log).
    # The number of trees is capped at 1000 (their space) and starts lower to keep trials cheap.
    return {
        "n_estimators": trial.suggest_int("n_estimators", 100, 1000, step=100),
        "learning_rate": trial.suggest_float("learning_rate", 1e-3, 0.7, log=True),
        "max_depth": trial.suggest_int("max_depth", 1, 11),
        "min_child_weight": trial.suggest_float("min_child_weight", 1.0, 100.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
        "reg_alpha": trial.suggest_float("reg_alpha", 1e-8, 100.0, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-8, 100.0, log=True),
        "gamma": trial.suggest_float("gamma", 1e-8, 7.0, log=True),
    }


MODEL = Model(
    name="xgboost",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    # A Kaggle-style first submission: moderate learning rate, depth 6, row and column sampling.
    defaults={
        "n_estimators": 300,
        "learning_rate": 0.05,
        "max_depth": 6,
        "min_child_weight": 1.0,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "reg_alpha": 1e-8,
        "reg_lambda": 1.0,
        "gamma": 1e-8,
    },
    hardware=("cpu", "gpu"),
)
