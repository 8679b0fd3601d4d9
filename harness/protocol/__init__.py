"""The evaluation protocol, with no Optuna and no MLflow: splits, cross-validation, preprocessing,
ensemble selection.

Modules: `choices`, `cv`, `deadline`, `ensemble`, `preprocess`, `splits`. Import them by name (`from
harness.protocol import choices`); this package imports none of them itself.
"""

__all__ = ["choices", "cv", "deadline", "ensemble", "preprocess", "splits"]
