"""Gradient-boosted oblivious trees with CatBoost, early-stopped, with native categoricals."""

from __future__ import annotations

from harness.contracts import BuildSpec, Model

MAX_ROUNDS = 2000


def build(spec: BuildSpec, params: dict, *, seed: int):
    from harness.models._boosting import BoostedTrees

    # "native" preprocessing: categoricals go to CatBoost's ordered target statistics as is.
    return BoostedTrees("catboost", spec, params, seed)


def search_space(trial) -> dict:
    # The CatBoost space of TabArena (Erickson et al. 2025): log-uniform learning rate
    # 5e-3..0.1, Bernoulli bootstrap with subsample 0.7..1, grow policy symmetric or depthwise,
    # depth 4..8, colsample_bylevel (rsm) 0.85..1, log-uniform l2_leaf_reg 1e-4..5, one-hot up to
    # 8 levels, max_ctr_complexity 1..5. Trees come from early stopping, up to MAX_ROUNDS.
    return {
        "learning_rate": trial.suggest_float("learning_rate", 5e-3, 0.1, log=True),
        "bootstrap_type": trial.suggest_categorical("bootstrap_type", ["Bernoulli"]),
        "subsample": trial.suggest_float("subsample", 0.7, 1.0),
        "grow_policy": trial.suggest_categorical("grow_policy", ["SymmetricTree", "Depthwise"]),
        "depth": trial.suggest_int("depth", 4, 8),
        "colsample_bylevel": trial.suggest_float("colsample_bylevel", 0.85, 1.0),
        "l2_leaf_reg": trial.suggest_float("l2_leaf_reg", 1e-4, 5.0, log=True),
        "one_hot_max_size": trial.suggest_categorical("one_hot_max_size", [2, 8]),
        "max_ctr_complexity": trial.suggest_int("max_ctr_complexity", 1, 5),
        "max_rounds": trial.suggest_categorical("max_rounds", [MAX_ROUNDS]),
    }


MODEL = Model(
    name="catboost",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    # CatBoost's own defaults (depth 6, l2 3, symmetric trees), TabArena's default learning rate
    # 0.05 and Bernoulli row sampling at 0.8.
    defaults={
        "learning_rate": 0.05,
        "bootstrap_type": "Bernoulli",
        "subsample": 0.8,
        "grow_policy": "SymmetricTree",
        "depth": 6,
        "colsample_bylevel": 1.0,
        "l2_leaf_reg": 3.0,
        "one_hot_max_size": 2,
        "max_ctr_complexity": 4,
        "max_rounds": MAX_ROUNDS,
    },
    hardware=("cpu", "gpu"),
)
