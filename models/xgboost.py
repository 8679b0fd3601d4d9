"""Gradient-boosted trees with XGBoost, early-stopped (histogram method; CUDA when present)."""

from __future__ import annotations

from harness.contracts import BuildSpec, Model

MAX_ROUNDS = 2000


def build(spec: BuildSpec, params: dict, *, seed: int):
    from harness.models._boosting import BoostedTrees

    # Ordinal-coded categoricals, NaN kept (XGBoost learns where missing values go).
    return BoostedTrees("xgboost", spec, params, seed)


def search_space(trial) -> dict:
    # After the XGBoost space of TabArena (Erickson et al. 2025, "TabArena: A Living Benchmark for
    # Machine Learning on Tabular Data", Appendix) and Grinsztajn, Oyallon & Varoquaux (2022),
    # Appendix A.2: log-uniform learning rate (TabArena's 5e-3..0.1 widened to 0.3), depth
    # 2..10, log-uniform min_child_weight 1e-3..5 (TabArena), row and column sampling 0.5..1
    # (Grinsztajn), log-uniform alpha 1e-8..1e2 and lambda 1e-8..1e2 (Grinsztajn), log-uniform
    # gamma 1e-8..7 (Grinsztajn). The number of trees is not tuned: early stopping (50 rounds of
    # patience on a 10% split of the training fold) picks it, up to MAX_ROUNDS.
    return {
        "learning_rate": trial.suggest_float("learning_rate", 5e-3, 0.3, log=True),
        "max_depth": trial.suggest_int("max_depth", 2, 10),
        "min_child_weight": trial.suggest_float("min_child_weight", 1e-3, 5.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.5, 1.0),
        "reg_alpha": trial.suggest_float("reg_alpha", 1e-8, 100.0, log=True),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-8, 100.0, log=True),
        "gamma": trial.suggest_float("gamma", 1e-8, 7.0, log=True),
        "max_rounds": trial.suggest_categorical("max_rounds", [MAX_ROUNDS]),
    }


MODEL = Model(
    name="xgboost",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    # A Kaggle-style first submission: learning rate 0.05, depth 6, 80% row and column sampling,
    # XGBoost's own regularization defaults, as many rounds as early stopping allows.
    defaults={
        "learning_rate": 0.05,
        "max_depth": 6,
        "min_child_weight": 1.0,
        "subsample": 0.8,
        "colsample_bytree": 0.8,
        "reg_alpha": 1e-8,
        "reg_lambda": 1.0,
        "gamma": 1e-8,
        "max_rounds": MAX_ROUNDS,
    },
    hardware=("cpu", "gpu"),
)
