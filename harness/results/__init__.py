"""What a user reads: leaderboards and their statistics, tables, reports, plots, cards,
submissions.

Modules: `cards`, `explore`, `leaderboard`, `models` (logged models and their loader), `notes`,
`plots`, `report`, `stats`, `submit`, `summary`, `tables`. Import them by name (`from
harness.results import cards`); this package imports none of them itself.
"""

__all__ = [
    "cards",
    "explore",
    "leaderboard",
    "models",
    "notes",
    "plots",
    "report",
    "stats",
    "submit",
    "summary",
    "tables",
]
