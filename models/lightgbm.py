"""Gradient-boosted trees with LightGBM, early-stopped, with native categorical splits."""

from __future__ import annotations

from harness.contracts import BuildSpec, Model

MAX_ROUNDS = 2000


def build(spec: BuildSpec, params: dict, *, seed: int):
    from harness.models._boosting import BoostedTrees

    # "native" preprocessing: categoricals reach LightGBM as pandas categories, NaN kept.
    return BoostedTrees("lightgbm", spec, params, seed)


def search_space(trial) -> dict:
    # The LightGBM space of TabRepo / TabArena (Salinas & Erickson 2024; Erickson et al. 2025):
    # log-uniform learning rate 5e-3..0.1, feature_fraction (colsample_bytree) 0.4..1,
    # min_data_in_leaf (min_child_samples) 2..60, num_leaves 16..255, extra_trees on/off; plus
    # bagging (subsample 0.5..1) and log-uniform L2 1e-8..10 as in Grinsztajn et al. (2022)'s
    # XGBoost space. The number of trees comes from early stopping, up to MAX_ROUNDS.
    return {
        "learning_rate": trial.suggest_float("learning_rate", 5e-3, 0.1, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 16, 255, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 2, 60, log=True),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.4, 1.0),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-8, 10.0, log=True),
        "extra_trees": trial.suggest_categorical("extra_trees", [False, True]),
        "max_rounds": trial.suggest_categorical("max_rounds", [MAX_ROUNDS]),
    }


MODEL = Model(
    name="lightgbm",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    # LightGBM's defaults (31 leaves, 20 rows per leaf) with TabArena's default learning rate 0.05
    # and 80% column sampling, a common first Kaggle submission.
    defaults={
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_child_samples": 20,
        "colsample_bytree": 0.8,
        "subsample": 1.0,
        "reg_lambda": 1e-8,
        "extra_trees": False,
        "max_rounds": MAX_ROUNDS,
    },
    hardware=("cpu", "gpu"),
)
