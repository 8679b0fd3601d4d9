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
from collections.abc import Collection
from dataclasses import asdict

from harness.results.leaderboard import Board, Row
from harness.results.summary import Summary

__all__ = [
    "CSS",
    "DROP_ORDER",
    "LEGEND",
    "SUMMARY_DROP_ORDER",
    "SUMMARY_KEYS",
    "WRAPS",
    "board_columns",
    "display_rows",
    "fit_columns",
    "folds_note",
    "html_board",
    "html_page",
    "html_table",
    "markdown_table",
    "members_text",
    "min_widths",
    "render",
    "status_footnotes",
    "status_text",
    "summary_cells",
    "summary_notes",
    "unsupported_note",
    "versus_leader",
]

# The style of every harness HTML page (the report, explore, a board as HTML).
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1320px;padding:0 24px 48px;color:#1f2328;line-height:1.45}
h1{margin:24px 0 4px}h2{margin-top:36px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{margin-top:24px}.meta,.legend{color:#57606a;font-size:0.9em}
table{border-collapse:collapse;margin:12px 0;font-size:0.86em}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.nw{white-space:nowrap}.scroll{overflow-x:auto}
.scroll table{font-size:0.8em}
tr.tie td{background:#eaf3fb}tr.notok td{color:#8c959f;font-style:italic}
.figs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
figure{margin:0;border:1px solid #eaeef2;padding:8px;border-radius:6px;background:#fff;
flex:0 1 540px}figure.wide{flex:1 1 100%}figure img{max-width:100%;height:auto;display:block}
figcaption{font-size:0.82em;color:#57606a;max-width:760px}nav a{margin-right:12px}
"""

LEGEND = (
    "± = standard deviation of the fold scores; 95% CI = confidence interval of the mean CV "
    "score (t-interval with the Nadeau-Bengio correction for overlapping training folds). "
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


def status_text(row: Row) -> str:
    """The status cell: the status and why it failed or was skipped, or, for a model whose fits
    stopped at their deadline (a budget's share), which: `ok: cut short (3/5 folds, refit)`."""
    if row.reason:
        return f"{row.status}: {row.reason}"
    cut = []
    if row.cut_short:
        folds = row.folds
        cut.append(f"{round(row.cut_short * folds)}/{folds} folds" if folds else "folds")
    if row.refit_cut_short:
        cut.append("refit")
    return f"{row.status}: cut short ({', '.join(cut)})" if cut else row.status


# A status cell longer than this is a footnote in the terminal table (`status_footnotes`).
STATUS_CELL = 16


def status_footnotes(
    keys: list[str], cells: list[list[str]], limit: int = STATUS_CELL
) -> tuple[list[list[str]], list[str]]:
    """The terminal table's cells with each long status (`skipped: the run's budget ended
    before its first trial`) cut to its first word and a footnote mark (`skipped [1]`), and the
    footnotes (`[1] svm: the run's budget ended before its first trial`). A reason wrapped into
    a narrow column would take a line per word; below the table it reads as a sentence."""
    if "status" not in keys:
        return cells, []
    at, name = keys.index("status"), keys.index("model")
    notes: list[str] = []
    shown = []
    for row in cells:
        status = row[at]
        if len(status) > limit and ": " in status:
            head, why = status.split(": ", 1)
            notes.append(f"[{len(notes) + 1}] {row[name]}: {why}")
            row = [*row[:at], f"{head} [{len(notes)}]", *row[at + 1 :]]
        shown.append(row)
    return shown, notes


def members_text(row: Row) -> str:
    """An ensemble's members and weights, compactly: `lightgbm 0.60, linear 0.40`."""
    ordered = sorted(row.members.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{name} {weight:.2f}" for name, weight in ordered)


# The board's columns, by key, in the order the terminal drops them when it is too narrow
# (the first goes first); the others always stay.
DROP_ORDER = (
    "device",
    "predict",
    "fit",
    "final",
    "family",
    "tune",
    "interval",
    "trials",
    "secondary",
    "gap",
)
# The summary's columns, in the same sense.
SUMMARY_DROP_ORDER = ("family", "wins", "normalized", "elo")


def _interval(r: Row) -> str:
    return "" if r.cv_low is None or r.cv_high is None else f"[{r.cv_low:.4f}, {r.cv_high:.4f}]"


def _secondary(r: Row) -> str:
    if r.secondary_cv is None and r.secondary_holdout is None:
        return ""
    return f"{_fmt(r.secondary_cv) or '-'} / {_fmt(r.secondary_holdout) or '-'}"


def board_columns(rows: list[Row]) -> tuple[list[str], list[str], list[list[str]]]:
    """Keys, header and text cells of a task's leaderboard for tables, Markdown and HTML.

    "±" is the standard deviation of the fold scores (how much one fold varies); the 95% CI is
    the confidence interval of the mean CV score (where the model's expected score lies).
    """
    metric = next((r.metric for r in rows if r.metric), "score")
    secondary = next((r.secondary for r in rows if r.secondary), "")
    columns = [
        ("rank", "rank"),
        ("model", "model"),
        ("family", "family"),
        ("cv", f"CV {metric} ± fold sd"),
        ("interval", "95% CI of CV mean"),
        ("versus", "vs leader"),
        ("holdout", f"holdout {metric}"),
        ("gap", "gap"),
        *([("secondary", f"{secondary} CV / holdout")] if secondary else []),
        ("final", "final model"),
        ("fit", "fit s"),
        ("predict", "predict s/1k"),
        ("trials", "trials"),
        ("tune", "tune s"),
        ("device", "device"),
        ("status", "status"),
    ]
    cells = []
    for r in rows:
        text = {
            "rank": "" if r.rank is None else str(r.rank),
            "model": f"{r.model} ({members_text(r)})" if r.members else r.model,
            "family": r.family,
            "cv": "" if r.cv_mean is None else f"{r.cv_mean:.4f} ± {r.cv_std or 0:.4f}",
            "interval": _interval(r),
            "versus": versus_leader(r),
            "holdout": _fmt(r.holdout),
            "gap": "" if r.gap is None else f"{r.gap:+.4f}",
            "secondary": _secondary(r),
            "final": r.final,
            "fit": _fmt(r.fit_seconds, 2),
            "predict": _fmt(r.predict_seconds_per_1000, 4),
            "trials": "" if r.trials is None else str(r.trials),
            "tune": _fmt(r.tuning_seconds, 0),
            "device": r.device,
            "status": status_text(r),
        }
        cells.append([text[key] for key, _ in columns])
    return [k for k, _ in columns], [h for _, h in columns], cells


def display_rows(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    """Header and text cells of a task's leaderboard for tables, Markdown and HTML."""
    _, header, cells = board_columns(rows)
    return header, cells


def folds_note(board: Board) -> str:
    """The note under a board whose models scored fewer folds than their split has ("" when
    every ranked model scored all of them)."""
    partial = sorted({(r.folds, r.folds_of) for r in board.ranked if r.folds_of and r.folds})
    if not partial:
        return ""
    folds, total = partial[0]
    return (
        f"CV on {folds} of {total} folds: the run's budget could not fit all {total} for each "
        "model (docs/PRESETS.md)."
    )


def unsupported_note(board: Board) -> str:
    """The footnote naming the models that cannot handle the task ("" when there are none, or
    when they are rows because the board was built with `--all`)."""
    names = sorted(board.unsupported)
    if not names or any(r.status == "unsupported" for r in board.rows):
        return ""
    return (
        f"Not run: {len(names)} model{'s' if len(names) > 1 else ''} that cannot handle this "
        f"task ({', '.join(names)}); --all lists them with the reason."
    )


# The columns whose cells may wrap between words (names, members, reasons); numbers, intervals
# and marks stay whole. Their keys are also their headers, so HTML tables take the same set.
WRAPS = frozenset({"model", "status", "family"})


def min_widths(
    keys: list[str], header: list[str], cells: list[list[str]], wraps: frozenset = WRAPS
) -> list[int]:
    """Each column's narrowest width that splits no value: the widest cell of a column that
    must not wrap (not in `wraps`), else its longest word; a header may wrap between words."""
    widths = []
    for i, key in enumerate(keys):
        column = [row[i] for row in cells]
        words = [w for text in (header[i], *column) for w in text.split()]
        whole = column if key not in wraps else []
        widths.append(max([len(w) for w in words] + [len(c) for c in whole] + [1]))
    return widths


def fit_columns(
    keys: list[str],
    header: list[str],
    cells: list[list[str]],
    width: int,
    drop_order: tuple[str, ...] = DROP_ORDER,
    wraps: frozenset = WRAPS,
) -> tuple[list[int], list[int], list[str], int]:
    """The columns, and their widths, of a `width`-character table that splits no value.

    Columns are dropped in `drop_order` until the narrowest layout fits (a column takes 3
    characters of border and padding, plus 1 for the table's edge); the room left goes first to
    whole cells (a reason, an ensemble's members on one line), then to whole headers.

    Returns:
        The kept column indexes, their widths, the dropped headers, and the width the table
        needs to show every column.
    """
    narrow = min_widths(keys, header, cells, wraps)

    def total(indexes: list[int]) -> int:
        return sum(narrow[i] for i in indexes) + 3 * len(indexes) + 1

    kept = list(range(len(keys)))
    for key in drop_order:
        if total(kept) <= width:
            break
        kept = [i for i in kept if keys[i] != key]
    widths = {i: narrow[i] for i in kept}
    spare = width - total(kept)
    longest_cell = {i: max([len(row[i]) for row in cells] + [1]) for i in kept}
    for target in (longest_cell, {i: max(longest_cell[i], len(header[i])) for i in kept}):
        for i in kept:
            grow = max(0, min(spare, target[i] - widths[i]))
            widths[i] += grow
            spare -= grow
    dropped = [header[i] for i in range(len(keys)) if i not in kept]
    return kept, [widths[i] for i in kept], dropped, total(list(range(len(keys))))


SUMMARY_KEYS = ["model", "family", "tasks", "rank", "normalized", "wins", "elo"]


def summary_cells(summary: Summary) -> tuple[list[str], list[list[str]]]:
    """Header and text cells of the across-task summary (columns `SUMMARY_KEYS`)."""
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
        "that did not run on a task (unsupported or skipped) are missing there. Elo: "
        "Bradley-Terry on pairwise per-task wins, 1000 = average model, 95% percentile "
        "bootstrap over tasks (200 draws, seed 0)."
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


def html_table(
    header: list[str],
    cells: list[list[str]],
    css: str = "board",
    wraps: Collection[str] | None = None,
) -> str:
    """An HTML table (cells escaped); ranked rows that tie with the leader are highlighted.

    With `wraps` (the headers whose cells may wrap), every other cell keeps its value on one
    line and the table scrolls sideways in its box when the page is too narrow.
    """
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    whole = [wraps is not None and h not in wraps for h in header]
    body = []
    for row in cells:
        mark = ' class="tie"' if any(c == "leader" or c.startswith("≈") for c in row) else ""
        notok = ("failed", "timeout", "oom", "pruned", "skipped", "stale", "unsupported")
        if any(c.startswith(notok) for c in row[-1:]):
            mark = ' class="notok"'
        tds = "".join(
            (f'<td class="nw">{html.escape(c)}</td>' if nowrap else f"<td>{html.escape(c)}</td>")
            for c, nowrap in zip(row, whole, strict=True)
        )
        body.append(f"<tr{mark}>{tds}</tr>")
    rows = "".join(body)
    if wraps is not None:
        return (
            f'<div class="scroll"><table class="{css}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>"
        )
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
            return _markdown_board(boards[0])
        parts = []
        for b in boards:
            parts.append(f"### Leaderboard: {b.task}\n\n" + _markdown_board(b))
        if summary is not None:
            notes = "\n".join(f"- {n}" for n in summary_notes(summary))
            parts.append("### Across tasks\n\n" + markdown_table(*summary_cells(summary)))
            parts.append(notes + "\n")
        parts.append(LEGEND.format(alpha=boards[0].alpha if boards else 0.05) + "\n")
        return "\n".join(parts)
    if fmt == "html":
        return html_page(boards, summary)
    raise ValueError(f"unknown format {fmt!r}")


def _markdown_board(board: Board) -> str:
    """A task's table in Markdown, with the footnote of the models that were not run."""
    note = unsupported_note(board)
    return markdown_table(*display_rows(board.rows)) + (f"\n{note}\n" if note else "")


def html_board(board: Board) -> str:
    """A task's table in HTML, with the footnote of the models that were not run."""
    note = unsupported_note(board)
    table = html_table(*display_rows(board.rows), wraps=WRAPS)
    return table + (f'<p class="legend">{html.escape(note)}</p>' if note else "")


def html_page(boards: list[Board], summary: Summary | None) -> str:
    """A self-contained HTML page of the leaderboards (no images: see `harness report`)."""

    parts = [f"<h2>Leaderboard: {html.escape(b.task)}</h2>" + html_board(b) for b in boards]
    if summary is not None:
        summary_table = html_table(*summary_cells(summary), css="summary", wraps=WRAPS)
        parts.append("<h2>Across tasks</h2>" + summary_table)
        parts.append(
            "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in summary_notes(summary)) + "</ul>"
        )
    alpha = boards[0].alpha if boards else 0.05
    parts.append(f'<p class="legend">{html.escape(LEGEND.format(alpha=alpha))}</p>')
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Leaderboards</title>'
        f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>\n"
    )
