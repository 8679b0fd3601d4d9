"""Elastic-net regularized logistic or linear regression (L1 + L2, as glmnet)."""

from __future__ import annotations

from harness.contracts import BuildSpec, Model
from harness.contracts.preprocessing import make_preprocessor


def build(spec: BuildSpec, params: dict, *, seed: int):
    from sklearn.linear_model import ElasticNet, LogisticRegression
    from sklearn.pipeline import make_pipeline

    # glmnet's lambda (penalty per row) and mixing alpha; scikit-learn's logistic regression
    # takes C = 1 / (n * lambda) for the same objective, ElasticNet takes lambda as `alpha`.
    strength, mix = params["lambda"], params["l1_ratio"]
    if spec.is_classification:
        import sklearn

        # scikit-learn 1.8 made l1_ratio alone select the elastic net (and deprecated
        # `penalty`); before it, l1_ratio is ignored unless penalty="elasticnet".
        major, minor = (int(part) for part in sklearn.__version__.split(".")[:2])
        penalty = {} if (major, minor) >= (1, 8) else {"penalty": "elasticnet"}
        learner = LogisticRegression(
            C=1.0 / (max(spec.n_rows, 1) * strength),
            l1_ratio=mix,
            solver="saga",
            max_iter=2000,
            tol=1e-3,
            random_state=seed,
            **penalty,
        )
    else:
        learner = ElasticNet(
            alpha=strength, l1_ratio=mix, max_iter=5000, tol=1e-4, random_state=seed
        )
    pre = make_preprocessor(
        spec.feature_kinds,
        "onehot",
        problem_type=spec.problem_type,
        sparse=True,
        random_state=seed,
    )
    return make_pipeline(pre, learner)


def search_space(trial) -> dict:
    # Probst, Boulesteix & Bischl (2019), "Tunability", JMLR 20(53), Table 1 (glmnet): the
    # mixing alpha uniform in [0, 1] and lambda log-uniform in 2^-10..2^3.
    return {
        "lambda": trial.suggest_float("lambda", 2**-10, 2**3, log=True),
        "l1_ratio": trial.suggest_float("l1_ratio", 0.0, 1.0),
    }


MODEL = Model(
    name="elastic_net",
    description=__doc__.strip().splitlines()[0],
    family="classical",
    build=build,
    search_space=search_space,
    # An even L1/L2 mix with a light penalty (glmnet users' usual starting point).
    defaults={"lambda": 2**-7, "l1_ratio": 0.5},
)
