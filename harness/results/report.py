"""`harness report`: a self-contained HTML page (and a Markdown twin) of leaderboards and plots.

Per task: the leaderboard with significance marks, CV bars with error bars and holdout diamonds,
per-fold score strips, CV vs holdout, best-so-far curves against trials and seconds (anytime
performance), and for the two best models a confusion matrix and ROC curve (classification) or a
residual plot (regression) on the holdout. Across tasks: the summary table and a
critical-difference diagram. The HTML embeds every image as a base64 PNG data URI; the Markdown
twin references the same PNGs written beside it in `img/`. Plots are also logged to MLflow: model
plots as artifacts of their study run, task plots of the task's `leaderboard` run.
"""

from __future__ import annotations

import base64
import html
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.results.leaderboard import Board
from harness.results.summary import Summary
from harness.results.tables import CSS
from harness.store import schema
from harness.store.tracker import Tracker

__all__ = [
    "BEST_MODELS",
    "IMPORTANCE_SECONDS",
    "Figure",
    "Section",
    "build",
    "check_out_dir",
    "holdout_predictions",
    "model_figures",
    "summary_section",
    "task_section",
    "trial_curves",
    "write",
]

BEST_MODELS = 2
# The report computes the leader's permutation importance when it is not stored and is expected
# to take at most this long (`harness importance` computes any).
IMPORTANCE_SECONDS = 30.0
_BASELINE = "baseline"  # the family (harness.contracts.model.FAMILIES) drawn as reference lines


@dataclass(frozen=True)
class Figure:
    """One plot: a file stem, a caption, and the PNG."""

    name: str
    caption: str
    png: bytes


@dataclass
class Section:
    """One part of the report: a heading, tables (HTML and Markdown), notes and figures."""

    anchor: str
    title: str
    html_tables: list[str] = field(default_factory=list)
    md_tables: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def trial_curves(tracker: Tracker, board: Board) -> dict[str, tuple[list[float], list[float]]]:
    """Model -> (cumulative trial seconds, CV score) of every completed trial of its newest study.

    Trials are read from the trial runs (tag `harness.kind` = trial) that share the newest study
    run's `harness.study_uid`, in trial order. Seconds add up each trial's own duration, so the
    pauses between resumed invocations do not count.
    """
    uids = {}
    for row in board.ranked:
        tags = tracker.client.get_run(row.run_id).data.tags
        if schema.STUDY_UID in tags:
            uids[tags[schema.STUDY_UID]] = row.model
    if not uids:
        return {}
    trials: dict[str, list[tuple[int, float, float]]] = {m: [] for m in uids.values()}
    key = schema.cv_mean(board.metric)
    for run in tracker.search(board.task, schema.of_kind(schema.KIND_TRIAL)):
        model = uids.get(run.data.tags.get(schema.STUDY_UID, ""))
        if model is None:
            continue
        start, end = run.info.start_time or 0, run.info.end_time or run.info.start_time or 0
        number = int(run.data.tags.get(schema.TRIAL, "0"))
        score = run.data.metrics.get(key)
        status = run.data.tags.get(schema.STATUS, "")
        seconds = max(end - start, 0) / 1000
        trials[model].append((number, seconds, score if status == "ok" else None))
    curves = {}
    for model, items in trials.items():
        items.sort()
        elapsed, xs, ys = 0.0, [], []
        for _, seconds, score in items:
            elapsed += seconds
            if score is not None:
                xs.append(elapsed)
                ys.append(float(score))
        if ys:
            curves[model] = (xs, ys)
    return curves


def holdout_predictions(tracker: Tracker, run_id: str) -> Any:
    """The study run's holdout_predictions.csv as a DataFrame (None when it has none)."""
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = tracker.client.download_artifacts(run_id, schema.HOLDOUT_PREDICTIONS, tmp)
        except Exception:
            return None
        return pd.read_csv(path)


def model_figures(board: Board, row: Any, frame: Any) -> list[Figure]:
    """Confusion matrix and ROC curve (classification) or residual plot (regression)."""
    from harness.results import plots

    target, predicted = frame.columns[1], frame.columns[2]
    proba = {
        c[len("proba_") :]: frame[c].to_numpy() for c in frame.columns if c.startswith("proba_")
    }
    label = f"{row.model} on the {board.task} holdout"
    if proba:
        classes = list(proba)
        truth = frame[target].astype(str).tolist()
        guess = frame[predicted].astype(str).tolist()
        return [
            Figure(
                f"{row.model}_confusion",
                f"Confusion matrix: {label}.",
                plots.confusion(truth, guess, classes, f"{row.model}: confusion"),
            ),
            Figure(
                f"{row.model}_roc",
                f"ROC curves (one class against the rest): {label}.",
                plots.roc(truth, proba, f"{row.model}: ROC"),
            ),
        ]
    return [
        Figure(
            f"{row.model}_residuals",
            f"Residuals against predictions: {label}.",
            plots.residuals(frame[target], frame[predicted], f"{row.model}: residuals"),
        ),
    ]


def task_section(tracker: Tracker, board: Board, *, log: bool) -> Section:
    """The section of one task: its table, its plots; logs the plots to MLflow when asked."""
    from harness.results import plots
    from harness.results.leaderboard import log_board
    from harness.results.tables import (
        WRAPS,
        display_rows,
        html_table,
        markdown_table,
        render,
        unsupported_note,
    )

    header, cells = display_rows(board.rows)
    direction = "higher" if board.maximize else "lower"
    section = Section(_slug(board.task), f"Task: {board.task}")
    section.html_tables.append(html_table(header, cells, wraps=WRAPS))
    section.md_tables.append(markdown_table(header, cells))
    ranked = board.ranked
    folds = len(next(iter(board.fold_scores.values()), []))
    section.notes.append(
        f"Metric {board.metric} ({direction} is better); {folds} fold scores per model; "
        f"ranked by mean CV score; holdout scored once per model."
    )
    missing = [r for r in board.rows if r.rank is None]
    if missing:
        why = [f"{r.model} ({r.status}{': ' + r.reason if r.reason else ''})" for r in missing]
        section.notes.append("Not ranked: " + "; ".join(why) + ".")
    if note := unsupported_note(board):
        section.notes.append(note)
    task_figs: list[Figure] = []
    if ranked:
        # Baselines (dummy) are reference lines, so the axes zoom to the models that compete.
        baselines = {r.model for r in ranked if r.family == _BASELINE}
        order = [r.model for r in ranked]  # a model has one colour and marker in every plot
        task_figs.append(
            Figure(
                "cv_bars",
                "Mean CV score ± one standard deviation over folds (the error bars; blue: not "
                "significantly worse than the leader), holdout score as diamonds; baselines as "
                "dashed lines, or named above the plot when off its axis.",
                plots.bars(
                    [r.model for r in ranked],
                    [r.cv_mean for r in ranked],
                    [r.cv_std or 0.0 for r in ranked],
                    [r.holdout for r in ranked],
                    [bool(r.not_worse) for r in ranked],
                    board.metric,
                    baselines=baselines,
                ),
            )
        )
        task_figs.append(
            Figure(
                "fold_strips",
                "Score of each model on each fold; the same fold has the same color in every row, "
                "which is what the paired test compares. The grey line spans a model's lowest to "
                "highest fold score; a baseline's mean fold score is a dashed line, or named "
                "above the plot when off its axis.",
                plots.fold_strips(
                    {r.model: board.fold_scores[r.model] for r in ranked},
                    board.metric,
                    baselines=baselines,
                ),
            )
        )
        both = [r for r in ranked if r.holdout is not None]
        if both:
            task_figs.append(
                Figure(
                    "cv_vs_holdout",
                    "Mean CV score against holdout score, one numbered point per model (the key "
                    "beside the plot, in rank order); the dashed line is equality, the distance "
                    "from it is the shake-up.",
                    plots.cv_vs_holdout(
                        [r.model for r in both],
                        [r.cv_mean for r in both],
                        [r.holdout for r in both],
                        board.metric,
                        baselines=baselines,
                        order=order,
                    ),
                )
            )
        curves = trial_curves(tracker, board)
        if curves:
            task_figs.append(
                Figure(
                    "anytime",
                    "Best CV score so far against the number of trials and against the "
                    "seconds spent in trials (anytime performance), one colour and marker per "
                    "model as in CV vs holdout; a baseline is a dashed line, or named above the "
                    "plots when off their axis.",
                    plots.anytime(
                        curves, board.metric, board.maximize, baselines=baselines, order=order
                    ),
                )
            )
    model_figs: list[tuple[Any, list[Figure]]] = []
    for row in ranked[:BEST_MODELS]:
        frame = holdout_predictions(tracker, row.run_id)
        if frame is not None and len(frame.columns) >= 3:
            model_figs.append((row, model_figures(board, row, frame)))
    leader_figs = _importance_figures(tracker, board, section, log=log)
    if leader_figs:
        model_figs.append((ranked[0], leader_figs))
    section.figures = task_figs + [f for _, figs in model_figs for f in figs]
    if log:
        files: dict[str, str | bytes] = {
            f"leaderboard.{fmt}": render([board], None, fmt) for fmt in ("csv", "json", "md")
        }
        files["leaderboard.html"] = render([board], None, "html")
        files.update({f"plots/{f.name}.png": f.png for f in task_figs})
        log_board(tracker, board, files)
        for row, figs in model_figs:
            for fig in figs:
                _log_png(tracker, row.run_id, fig)
    return section


def _importance_figures(tracker: Tracker, board: Board, section: Section, *, log: bool) -> list:
    """The leader's permutation importance on the holdout as a figure (stored on its run only
    with `log`); a leader whose importance cannot be had gets a note saying why."""
    from harness.results import plots
    from harness.results.importance import TooCostly, importance_of

    if not board.ranked:
        return []
    leader = board.ranked[0]
    try:
        result = importance_of(
            tracker, board.task, leader.model, keep=log, max_seconds=IMPORTANCE_SECONDS
        )
    except TooCostly as exc:
        section.notes.append(
            f"Feature importance of {leader.model}: not drawn, {exc}; 'harness importance "
            f"{board.task}' computes it once, and the report shows it from then on."
        )
        return []
    except HarnessError as exc:
        section.notes.append(f"Feature importance of {leader.model}: not available ({exc})")
        return []
    caption = (
        f"Permutation importance of the leader, {leader.model}, on {result.rows:,} holdout rows: "
        f"how much {result.metric} gets worse when a feature's values are shuffled (mean ± 1 std "
        f"over {result.repeats} shuffles; grey: no worse). 'harness importance {board.task}' "
        "lists every feature."
    )
    title = f"{leader.model}: permutation importance"
    frame = result.frame
    png = plots.importance(
        list(frame["feature"]), list(frame["importance"]), list(frame["std"]), result.metric, title
    )
    return [Figure(f"{leader.model}_importance", caption, png)]


def _log_png(tracker: Tracker, run_id: str, fig: Figure) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, f"{fig.name}.png")
        path.write_bytes(fig.png)
        tracker.log_artifact(run_id, path, "plots")


def summary_section(
    tracker: Tracker, boards: list[Board], summary: Summary, *, log: bool
) -> Section:
    """The across-task section: summary table, notes and the critical-difference diagram."""
    from harness.results import plots
    from harness.results.tables import (
        WRAPS,
        html_table,
        markdown_table,
        summary_cells,
        summary_notes,
    )

    header, cells = summary_cells(summary)
    section = Section("across-tasks", "Across tasks")
    section.html_tables.append(html_table(header, cells, css="summary", wraps=WRAPS))
    section.md_tables.append(markdown_table(header, cells))
    section.notes.extend(summary_notes(summary))
    test = summary.friedman
    if test is not None and test.critical_difference is not None:
        fig = Figure(
            "critical_difference",
            "Mean rank of each model over the tasks (1 = best). Models joined by a thick line "
            "are not significantly different (Nemenyi test after Friedman, alpha 0.05).",
            plots.critical_difference(test.mean_ranks, test.critical_difference, test.n_tasks),
        )
        section.figures.append(fig)
        if log:
            from harness.results.leaderboard import log_board

            for board in boards:
                log_board(tracker, board, {f"plots/{fig.name}.png": fig.png})
    return section


def check_out_dir(out: Path) -> Path:
    """Create the output folder, or raise a clear error when it cannot be written."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "img").mkdir(exist_ok=True)
        probe = out / ".harness-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise HarnessError(
            f"Cannot write the report to {str(out)!r}: {exc.strerror or exc}. "
            "Pass a writable folder with --out."
        ) from None
    return out


def _png_width(png: bytes) -> int:
    """The pixel width from a PNG's IHDR chunk."""
    return int.from_bytes(png[16:20], "big") if png[:8] == b"\x89PNG\r\n\x1a\n" else 0


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def write(
    out: Path,
    sections: list[Section],
    meta: dict[str, str],
    legend: str,
    *,
    name: str = "report",
    title: str = "harness report",
) -> tuple[Path, Path]:
    """Write NAME.html (images embedded) and NAME.md (images in img/) into `out`."""
    out = check_out_dir(out)
    stamp = meta.get("generated", "")
    nav = " ".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in sections)
    body = [
        f"<h1>{html.escape(title)}</h1>",
        '<p class="meta">' + html.escape(" · ".join(f"{k}: {v}" for k, v in meta.items())) + "</p>",
        f"<nav>{nav}</nav>",
    ]
    md = [f"# {title}", "", " · ".join(f"{k}: {v}" for k, v in meta.items()), ""]
    for section in sections:
        body.append(f'<section id="{section.anchor}"><h2>{html.escape(section.title)}</h2>')
        md += [f"## {section.title}", ""]
        body += section.html_tables
        for table in section.md_tables:
            md += [table, ""]
        if section.notes:
            body.append(
                "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in section.notes) + "</ul>"
            )
            md += [f"- {n}" for n in section.notes] + [""]
        figs = []
        for fig in section.figures:
            file = f"img/{name}_{section.anchor}_{_slug(fig.name)}.png"
            (out / file).write_bytes(fig.png)
            alt = html.escape(f"{section.title}: {fig.caption}")
            wide = ' class="wide"' if _png_width(fig.png) > 700 else ""
            figs.append(
                f'<figure{wide}><img src="{_data_uri(fig.png)}" alt="{alt}">'
                f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>"
            )
            md += [f"![{fig.caption}]({file})", "", f"*{fig.caption}*", ""]
        if figs:
            body.append('<div class="figs">' + "".join(figs) + "</div>")
        body.append("</section>")
    if legend:
        body.append(f'<p class="legend">{html.escape(legend)}</p>')
        md += [legend, ""]
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} {html.escape(stamp)}</title><style>{CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
    html_path, md_path = out / f"{name}.html", out / f"{name}.md"
    try:
        html_path.write_text(page, encoding="utf-8")
        md_path.write_text("\n".join(md), encoding="utf-8")
    except OSError as exc:
        raise HarnessError(f"Cannot write the report to {str(out)!r}: {exc}") from None
    return html_path, md_path


def build(
    tracker: Tracker, boards: list[Board], summary: Summary | None, out: Path, *, log: bool = True
) -> tuple[Path, Path]:
    """Make every section, write the page and its twin, and return their paths."""
    import harness
    from harness.results.tables import LEGEND
    from harness.store.urls import mask

    check_out_dir(out)  # fail before the work
    sections = [task_section(tracker, board, log=log) for board in boards]
    if summary is not None:
        sections.append(summary_section(tracker, boards, summary, log=log))
    meta = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "store": mask(tracker.stores.tracking_uri),
        "harness": harness.__version__,
        "tasks": ", ".join(b.task for b in boards),
    }
    return write(out, sections, meta, LEGEND.format(alpha=boards[0].alpha if boards else 0.05))
