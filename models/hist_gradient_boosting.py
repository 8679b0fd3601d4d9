"""Histogram gradient boosting from scikit-learn (LightGBM-style), early-stopped."""

from __future__ import annotations

from harness.contracts import BuildSpec, Model

MAX_ROUNDS = 1000


def build(spec: BuildSpec, params: dict, *, seed: int):
    from harness.models._boosting import BoostedTrees

    # Ordinal-coded categoricals and NaN kept; early stopping on the same carved split as the
    # other boosters (scikit-learn's X_val/y_val), never the scored fold.
    # max_depth 0 in the space means unlimited (None for scikit-learn).
    learner_params = {**params, "max_depth": params["max_depth"] or None}
    return BoostedTrees("hist_gradient_boosting", spec, learner_params, seed)


def search_space(trial) -> dict:
    # The HistGradientBoosting space of Grinsztajn, Oyallon & Varoquaux (2022), Appendix A.2:
    # learning rate log-normal around 0.01 (here log-uniform 1e-2..0.3 so early stopping can
    # converge within MAX_ROUNDS), max_leaf_nodes around 31, max_depth in {none, 2, 3, 4},
    # min_samples_leaf around 20; plus L2 regularization (TabArena's space), log-uniform.
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-2, 0.3, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 8, 128, log=True),
        "max_depth": trial.suggest_categorical("max_depth", [0, 2, 3, 4, 8]),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 2, 60, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 1e-8, 10.0, log=True),
        "max_rounds": trial.suggest_categorical("max_rounds", [MAX_ROUNDS]),
    }


MODEL = Model(
    name="hist_gradient_boosting",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    # scikit-learn's defaults (31 leaves, 20 rows per leaf, no depth limit) with learning rate
    # 0.05 rather than 0.1, since early stopping decides the rounds.
    defaults={
        "learning_rate": 0.05,
        "max_leaf_nodes": 31,
        "max_depth": 0,
        "min_samples_leaf": 20,
        "l2_regularization": 1e-8,
        "max_rounds": MAX_ROUNDS,
    },
)
