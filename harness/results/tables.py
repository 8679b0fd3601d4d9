"""Leaderboards as text: cells for rich tables, Markdown, CSV, JSON and HTML.

One task's JSON is the list of its rows and its CSV one table, as before; several tasks give a JSON
object `{"tasks": {task: rows}, "summary": {...}}`, and a CSV of every task's rows (with a `task`
column) followed by a blank line and the summary table.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
from dataclasses import asdict

from harness.results.leaderboard import Board, Row
from harness.results.summary import Summary

__all__ = [
    "CSS",
    "LEGEND",
    "display_rows",
    "html_page",
    "html_table",
    "markdown_table",
    "members_text",
    "render",
    "summary_cells",
    "summary_notes",
    "versus_leader",
]

# The style of every harness HTML page (the report, explore, a board as HTML).
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1180px;padding:0 24px 48px;color:#1f2328;line-height:1.45}
h1{margin:24px 0 4px}h2{margin-top:36px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{margin-top:24px}.meta,.legend{color:#57606a;font-size:0.9em}
table{border-collapse:collapse;margin:12px 0;font-size:0.86em}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}tr.tie td{background:#eaf3fb}tr.notok td{color:#8c959f;font-style:italic}
.figs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
figure{margin:0;border:1px solid #eaeef2;padding:8px;border-radius:6px;background:#fff;
flex:0 1 540px}figure.wide{flex:1 1 100%}figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:0.82em;color:#57606a;max-width:760px}nav a{margin-right:12px}
"""

LEGEND = (
    "≈ = not significantly worse than the leader: Nadeau-Bengio corrected resampled t-test on the "
    "per-fold CV scores, two-sided, Holm-adjusted for the models compared (p is the adjusted "
    "p-value), alpha {alpha}. Gap = holdout - CV (raw metric units)."
)


def _fmt(value: float | None, digits: int = 4) -> str:
    return (
        ""
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (f"{value:.{digits}f}")
    )


def _p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def versus_leader(row: Row) -> str:
    """The significance mark: leader, ≈ (not significantly worse) or worse, with the p-value."""
    if row.rank == 1:
        return "leader"
    if row.not_worse is None or row.p_value is None:
        return ""
    return f"≈ {_p(row.p_value)}" if row.not_worse else f"worse {_p(row.p_value)}"


def members_text(row: Row) -> str:
    """An ensemble's members and weights, compactly: `lightgbm 0.60, linear 0.40`."""
    ordered = sorted(row.members.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{name} {weight:.2f}" for name, weight in ordered)


def display_rows(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    """Header and text cells of a task's leaderboard for tables, Markdown and HTML."""
    metric = next((r.metric for r in rows if r.metric), "score")
    header = [
        "rank",
        "model",
        "family",
        f"CV {metric}",
        "vs leader",
        f"holdout {metric}",
        "gap",
        "fit s",
        "predict s/1k",
        "trials",
        "tune s",
        "device",
        "status",
    ]
    cells = []
    for r in rows:
        cv = "" if r.cv_mean is None else f"{r.cv_mean:.4f} ± {r.cv_std or 0:.4f}"
        status = r.status if not r.reason else f"{r.status}: {r.reason}"
        gap = "" if r.gap is None else f"{r.gap:+.4f}"
        cells.append(
            [
                "" if r.rank is None else str(r.rank),
                f"{r.model} ({members_text(r)})" if r.members else r.model,
                r.family,
                cv,
                versus_leader(r),
                _fmt(r.holdout),
                gap,
                _fmt(r.fit_seconds, 2),
                _fmt(r.predict_seconds_per_1000, 4),
                "" if r.trials is None else str(r.trials),
                _fmt(r.tuning_seconds, 0),
                r.device,
                status,
            ]
        )
    return header, cells


def summary_cells(summary: Summary) -> tuple[list[str], list[list[str]]]:
    """Header and text cells of the across-task summary."""
    header = [
        "model",
        "family",
        "tasks ok / failed / missing",
        "mean rank",
        "normalized",
        "wins",
        "Elo [95% CI]",
    ]
    cells = []
    for r in summary.rows:
        elo = "" if r.elo is None else f"{r.elo:.0f} [{r.elo_low:.0f}, {r.elo_high:.0f}]"
        cells.append(
            [
                r.model if r.complete else f"{r.model} †",
                r.family,
                f"{r.tasks_ok} / {r.tasks_failed} / {r.tasks_missing}",
                _fmt(r.mean_rank, 2),
                _fmt(r.normalized, 3),
                str(r.wins),
                elo,
            ]
        )
    return header, cells


def summary_notes(summary: Summary) -> list[str]:
    """What the summary's numbers are based on, the Friedman test, and what was left out."""
    basis = "mean CV scores" if summary.basis == "cv" else "holdout scores"
    lines = [
        f"{len(summary.tasks)} tasks ({', '.join(summary.tasks)}); every statistic uses {basis}. "
        "Failed runs rank last on their task and count 0 in the normalized score; models "
        "skipped as unsupported are missing there. Elo: Bradley-Terry on pairwise per-task "
        "wins, 1000 = average model, 95% percentile bootstrap over tasks (200 draws, seed 0)."
    ]
    test = summary.friedman
    if test is not None and test.statistic is not None:
        lines.append(
            f"Friedman test over {test.n_tasks} tasks: chi2 = {test.statistic:.2f}, "
            f"{_p(test.p_value)}; Nemenyi critical difference of mean ranks (alpha 0.05) = "
            f"{test.critical_difference:.2f}."
        )
    return lines + summary.notes


def markdown_table(header: list[str], cells: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    return "\n".join(lines) + "\n"


def html_table(header: list[str], cells: list[list[str]], css: str = "board") -> str:
    """An HTML table (cells escaped); ranked rows that tie with the leader are highlighted."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in cells:
        mark = ' class="tie"' if any(c == "leader" or c.startswith("≈") for c in row) else ""
        if any(c.startswith(("failed", "timeout", "oom", "pruned", "skipped")) for c in row[-1:]):
            mark = ' class="notok"'
        body.append(f"<tr{mark}>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    rows = "".join(body)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    # an ensemble's members (a dict) as JSON in one cell; empty for single models
    writer.writerows(
        {k: (json.dumps(v) if v else "") if isinstance(v, dict) else v for k, v in row.items()}
        for row in rows
    )
    return out.getvalue()


def _summary_json(summary: Summary) -> dict:
    test = summary.friedman
    return {
        "basis": summary.basis,
        "tasks": summary.tasks,
        "rows": [asdict(r) for r in summary.rows],
        "friedman": None if test is None else asdict(test),
        "notes": summary.notes,
    }


def render(boards: list[Board], summary: Summary | None, fmt: str) -> str:
    """Leaderboards (and the summary when there are several tasks) as md, csv, json or html."""
    if fmt == "json":
        if summary is None and len(boards) == 1:
            return json.dumps([asdict(r) for r in boards[0].rows], indent=2)
        payload = {
            "tasks": {b.task: [asdict(r) for r in b.rows] for b in boards},
            "summary": None if summary is None else _summary_json(summary),
        }
        return json.dumps(payload, indent=2)
    if fmt == "csv":
        text = _csv([asdict(r) for b in boards for r in b.rows])
        if summary is not None:
            text += "\n" + _csv([asdict(r) for r in summary.rows])
        return text
    if fmt == "md":
        if summary is None and len(boards) == 1:
            return markdown_table(*display_rows(boards[0].rows))
        parts = []
        for b in boards:
            parts.append(f"### Leaderboard: {b.task}\n\n" + markdown_table(*display_rows(b.rows)))
        if summary is not None:
            notes = "\n".join(f"- {n}" for n in summary_notes(summary))
            parts.append("### Across tasks\n\n" + markdown_table(*summary_cells(summary)))
            parts.append(notes + "\n")
        parts.append(LEGEND.format(alpha=boards[0].alpha if boards else 0.05) + "\n")
        return "\n".join(parts)
    if fmt == "html":
        return html_page(boards, summary)
    raise ValueError(f"unknown format {fmt!r}")


def html_page(boards: list[Board], summary: Summary | None) -> str:
    """A self-contained HTML page of the leaderboards (no images: see `harness report`)."""

    parts = [
        f"<h2>Leaderboard: {html.escape(b.task)}</h2>" + html_table(*display_rows(b.rows))
        for b in boards
    ]
    if summary is not None:
        parts.append("<h2>Across tasks</h2>" + html_table(*summary_cells(summary), css="summary"))
        parts.append(
            "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in summary_notes(summary)) + "</ul>"
        )
    alpha = boards[0].alpha if boards else 0.05
    parts.append(f'<p class="legend">{html.escape(LEGEND.format(alpha=alpha))}</p>')
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Leaderboards</title>'
        f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n"
    )
