"""What a user reads: leaderboards and their statistics, tables, reports, plots, cards,
submissions.

Modules: `cards`, `explore`, `leaderboard`, `notes`, `plots`, `report`, `stats`, `submit`,
`summary`, `tables`. Import them by name (`from harness.results import cards`); this package
imports none of them itself.
"""

__all__ = [
    "cards",
    "explore",
    "leaderboard",
    "notes",
    "plots",
    "report",
    "stats",
    "submit",
    "summary",
    "tables",
]
