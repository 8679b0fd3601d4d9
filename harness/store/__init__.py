"""Where results live: the MLflow store and the Optuna storage, the tracker, and the names runs
carry.

Modules: `current`, `datasets`, `journal`, `orphans`, `relocate`, `repair`, `rows`, `schema`,
`sqlite`, `tracker`, `urls`. Import them by name (`from harness.store import journal`); this
package imports none of them itself.
"""

__all__ = [
    "current",
    "datasets",
    "journal",
    "orphans",
    "relocate",
    "repair",
    "rows",
    "schema",
    "sqlite",
    "tracker",
    "urls",
]
