"""Optuna: studies and their storage, the shared queue of trial slots, the objective, pruning.

Modules: `attrs`, `objective`, `optuna_internals`, `pruning`, `slots`, `studies`. Import them by
name (`from harness.tuning import attrs`); this package imports none of them itself.
"""

__all__ = ["attrs", "objective", "optuna_internals", "pruning", "slots", "studies"]
