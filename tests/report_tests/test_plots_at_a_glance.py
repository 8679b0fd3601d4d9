"""The report's task plots read at a glance with many close models: the axes zoom to the models
that compete (a baseline is a reference line or a note), every model has its own look, labels do
not overlap and legends lie outside the data. Plain data in, figures inspected before `png`."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from matplotlib.colors import to_hex

from harness.results import plots, report
from harness.results.leaderboard import Board, Row

PNG = b"\x89PNG\r\n\x1a\n"
MODELS = [f"model_{i:02d}" for i in range(14)]
CV = list(np.linspace(0.997, 0.988, 14))
STD = [0.002 + 0.0002 * i for i in range(14)]
# close points, two of them identical, the rest within a hundredth: the pile-up of the issue
HOLDOUT = [
    0.995,
    0.996,
    0.994,
    0.994,
    0.994,
    0.993,
    0.995,
    0.99,
    0.991,
    0.992,
    0.99,
    0.989,
    0.99,
    0.988,
]


def _closed(fig):
    import matplotlib.pyplot as plt

    plt.close(fig)


def _laid_out(fig):
    plots._layout(fig)  # what png() does before saving
    return fig


def _with_dummy(value: float, holdout: float | None = None):
    return (
        [*MODELS, "dummy"],
        [*CV, value],
        [*STD, 0.0],
        [*HOLDOUT, value if holdout is None else holdout],
        [i < 5 for i in range(14)] + [False],
    )


def _dashed_x(ax) -> list[float]:
    """x of the dashed/dotted vertical lines (axvline: both x data equal, y in axes units)."""
    found = []
    for line in ax.get_lines():
        xs = np.asarray(line.get_xdata(), dtype=float)
        if line.get_linestyle() in ("--", ":") and len(xs) == 2 and xs[0] == xs[1]:
            found.append(float(xs[0]))
    return found


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _legends_outside(fig) -> int:
    """Assert that no legend overlaps any axes' data area; return how many legends there are."""
    renderer = fig.canvas.get_renderer()
    legends = [leg for ax in fig.axes if (leg := ax.get_legend()) is not None] + fig.legends
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not _overlap(box, ax.get_window_extent(renderer)), (box, ax)
    return len(legends)


def test_cv_bars_zoom_to_the_models_and_name_a_far_baseline_off_the_axis():
    fig = plots._bars_figure(*_with_dummy(0.5), "roc_auc", {"dummy"})
    ax = _laid_out(fig).axes[0]
    low, high = ax.get_xlim()
    assert 0.95 < low < min(m - s for m, s in zip(CV, STD, strict=True))
    assert max(m + s for m, s in zip(CV, STD, strict=True)) < high < 1.01
    assert [t.get_text() for t in ax.get_yticklabels()] == MODELS  # dummy is no row
    assert "dummy (baseline) 0.500: off the axis, left" in ax.get_title()
    assert _dashed_x(ax) == []
    assert ax.get_xlim()[0] > 0  # a dot plot: nothing starts at 0
    _closed(fig)


def test_cv_bars_draw_a_baseline_inside_the_range_as_a_labelled_dashed_line():
    fig = plots._bars_figure(*_with_dummy(0.991), "roc_auc", {"dummy"})
    ax = _laid_out(fig).axes[0]
    assert _dashed_x(ax) == [pytest.approx(0.991)]
    assert "dummy 0.991" in [t.get_text() for t in ax.texts]
    assert "off the axis" not in ax.get_title()
    assert "dummy" not in [t.get_text() for t in ax.get_yticklabels()]
    _closed(fig)


def test_without_baselines_named_dummy_is_an_ordinary_row_as_before():
    models, cv, std, holdout, tied = _with_dummy(0.5)
    fig = plots._bars_figure(models, cv, std, holdout, tied, "roc_auc")
    ax = fig.axes[0]
    assert "dummy" in [t.get_text() for t in ax.get_yticklabels()]
    assert ax.get_xlim()[0] < 0.5
    _closed(fig)
    # the old positional calls still work, and a task of baselines alone still has its rows
    assert plots.bars(models, cv, std, holdout, tied, "roc_auc")[:8] == PNG
    assert (
        plots.bars(["dummy"], [0.5], [0.0], [0.5], [True], "roc_auc", baselines={"dummy"})[:8]
        == PNG
    )


def test_fold_strips_zoom_to_the_models_and_draw_the_baselines_mean():
    folds = {m: [c - 0.002, c, c + 0.002] for m, c in zip(MODELS, CV, strict=True)}
    far = plots._fold_strips_figure({**folds, "dummy": [0.5, 0.5, 0.5]}, "roc_auc", {"dummy"})
    ax = _laid_out(far).axes[0]
    assert ax.get_xlim()[0] > 0.95
    assert "dummy (baseline, mean) 0.500: off the axis, left" in ax.get_title()
    assert [t.get_text() for t in ax.get_yticklabels()] == MODELS
    assert _legends_outside(far) == 1  # the fold colours, below the axes
    _closed(far)
    near = plots._fold_strips_figure({**folds, "dummy": [0.99, 0.991, 0.992]}, "roc_auc", {"dummy"})
    ax = _laid_out(near).axes[0]
    assert _dashed_x(ax) == [pytest.approx(0.991)] and "dummy 0.991" in [
        t.get_text() for t in ax.texts
    ]
    _closed(near)


def test_cv_vs_holdout_labels_of_14_close_points_never_overlap_each_other_or_a_point():
    models, cv, _, holdout, _ = _with_dummy(0.5)
    fig = _laid_out(plots._cv_vs_holdout_figure(models, cv, holdout, "roc_auc", {"dummy"}))
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_gid() == plots.LABEL_GID]
    assert [t.get_text() for t in labels] == [str(i) for i in range(1, 15)]
    boxes = [t.get_window_extent(renderer) for t in labels]
    for (i, a), (j, b) in itertools.combinations(enumerate(boxes), 2):
        assert not _overlap(a, b), (i + 1, j + 1)
    frame = ax.get_window_extent(renderer)
    points = ax.transData.transform(np.column_stack([cv[:14], holdout[:14]]))
    for box in boxes:
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0
        assert box.y1 <= frame.y1
        for x, y in points:  # a label covers no point (markers are about 6 px across)
            assert not (box.x0 - 2 < x < box.x1 + 2 and box.y0 - 2 < y < box.y1 + 2)
    # zoomed to the models; the baseline is named, not plotted
    assert ax.get_xlim()[0] > 0.95 and ax.get_ylim()[0] > 0.95
    assert "dummy (baseline) CV 0.500, holdout 0.500: off the axes" in ax.get_title()
    # the key: one numbered entry per model, outside the axes
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == [
        f"{i + 1}  {m}" for i, m in enumerate(MODELS)
    ]
    assert _legends_outside(fig) == 1
    _closed(fig)


def test_labels_are_placed_the_same_way_every_time():
    def positions():
        fig = plots._cv_vs_holdout_figure(MODELS, CV, HOLDOUT, "roc_auc")
        found = [t.get_position() for t in fig.axes[0].texts if t.get_gid() == plots.LABEL_GID]
        _closed(fig)
        return found

    assert positions() == positions()


def test_cv_vs_holdout_draws_a_baseline_inside_the_axes_as_dotted_lines_in_the_key():
    models, cv, _, holdout, _ = _with_dummy(0.991, 0.992)
    fig = _laid_out(plots._cv_vs_holdout_figure(models, cv, holdout, "roc_auc", {"dummy"}))
    ax = fig.axes[0]
    assert _dashed_x(ax) == [pytest.approx(0.991)]
    assert any(list(line.get_ydata()) == [0.992, 0.992] for line in ax.get_lines())
    assert "dummy (baseline)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert "off the axes" not in ax.get_title()
    _closed(fig)


def _curves(names, top=0.99):
    rng = np.random.default_rng(0)
    return {
        m: (list(np.cumsum(rng.uniform(0.1, 3, 4))), list(top - rng.uniform(0, 0.01, 4)))
        for m in names
    }


def test_anytime_gives_14_lines_14_distinct_colour_and_marker_pairs_and_a_legend_outside():
    curves = {**_curves(MODELS), "dummy": ([0.1, 0.2], [0.5, 0.5])}
    fig = _laid_out(plots._anytime_figure(curves, "roc_auc", True, {"dummy"}))
    left, right = fig.axes
    for ax in (left, right):
        looks = [(to_hex(line.get_color()), line.get_marker()) for line in ax.get_lines()]
        assert len(looks) == 14 and len(set(looks)) == 14
    assert [t.get_text() for t in right.get_legend().get_texts()] == MODELS
    assert left.get_legend() is None and _legends_outside(fig) == 1
    assert left.get_ylim()[0] > 0.9  # dummy does not stretch the axis
    assert "dummy (baseline) 0.500: off the axis, below" in fig.get_suptitle()
    _closed(fig)


def test_anytime_draws_a_close_baseline_as_a_dashed_line_named_in_the_legend():
    curves = {**_curves(MODELS[:3]), "dummy": ([0.1], [0.985])}
    fig = _laid_out(plots._anytime_figure(curves, "roc_auc", True, {"dummy"}))
    right = fig.axes[1]
    assert "dummy (baseline) 0.985" in [t.get_text() for t in right.get_legend().get_texts()]
    assert fig.get_suptitle() == ""
    _closed(fig)


def test_one_order_gives_a_model_the_same_look_in_cv_vs_holdout_and_anytime():
    order = ["a", "b", "c", "d"]
    scatter = plots._cv_vs_holdout_figure(
        ["a", "c", "d"], [0.9, 0.8, 0.7], [0.9, 0.8, 0.7], "acc", order=order
    )
    lines = plots._anytime_figure(_curves(["b", "c"]), "acc", True, order=order)
    keyed = {
        t.get_text().split()[-1]: h
        for t, h in zip(
            scatter.axes[0].get_legend().get_texts(),
            scatter.axes[0].get_legend().legend_handles,
            strict=True,
        )
    }
    drawn = {line.get_label(): line for line in lines.axes[0].get_lines()}
    assert keyed["c"].get_marker() == drawn["c"].get_marker() == plots.styles(3)[2][1]
    assert to_hex(keyed["c"].get_color()) == to_hex(drawn["c"].get_color())
    _closed(scatter)
    _closed(lines)


def test_styles_hand_out_distinct_pairs_for_70_models():
    pairs = [(c, m) for c, m, _ in plots.styles(70)]
    assert len(set(pairs)) == 70
    assert len(set(plots.styles(200))) == 200


def test_every_legend_lies_outside_the_axes():
    models, cv, std, holdout, tied = _with_dummy(0.991)
    figures = [
        plots._bars_figure(models, cv, std, holdout, tied, "roc_auc", {"dummy"}),
        plots._cv_vs_holdout_figure(models, cv, holdout, "roc_auc", {"dummy"}),
        plots._anytime_figure(_curves(MODELS), "roc_auc", True),
        plots._roc_figure(
            ["a", "b", "c"] * 10,
            {k: list(np.linspace(0, 1, 30)[::s]) for k, s in (("a", 1), ("b", -1), ("c", 1))},
            "ROC",
        ),
    ]
    for fig in figures:
        assert _legends_outside(_laid_out(fig)) == 1
        _closed(fig)


def _row(model: str, family: str, rank: int, cv: float, holdout: float) -> Row:
    required = {
        f.name: None
        for f in dataclasses.fields(Row)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    values = {
        **required,
        "rank": rank,
        "model": model,
        "family": family,
        "status": "ok",
        "metric": "roc_auc",
        "cv_mean": cv,
        "cv_std": 0.001,
        "holdout": holdout,
        "not_worse": rank == 1,
        "run_id": f"run-{model}",
        "reason": "",
        "device": "cpu",
        "folds_fingerprint": "",
    }
    return Row(**values)


def test_the_task_section_hands_the_baselines_and_one_order_to_every_task_plot(monkeypatch):
    rows = [
        _row("linear", "classical", 1, 0.99, 0.98),
        _row("knn", "classical", 2, 0.98, 0.97),
        _row("dummy", "baseline", 3, 0.5, 0.5),
    ]
    board = Board("t", "roc_auc", True, rows, {r.model: [r.cv_mean] * 3 for r in rows})
    calls = {}

    def spy(name):
        def record(*args, **kwargs):
            calls[name] = kwargs
            return PNG

        return record

    for name in ("bars", "fold_strips", "cv_vs_holdout", "anytime"):
        monkeypatch.setattr(plots, name, spy(name))
    monkeypatch.setattr(report, "trial_curves", lambda tracker, board: _curves(["linear", "dummy"]))
    monkeypatch.setattr(report, "holdout_predictions", lambda tracker, run_id: None)
    monkeypatch.setattr(report, "_importance_figures", lambda *args, **kwargs: [])
    section = report.task_section(None, board, log=False)
    assert [f.name for f in section.figures] == [
        "cv_bars",
        "fold_strips",
        "cv_vs_holdout",
        "anytime",
    ]
    for name in calls:
        assert calls[name]["baselines"] == {"dummy"}, name
    assert (
        calls["cv_vs_holdout"]["order"] == calls["anytime"]["order"] == ["linear", "knn", "dummy"]
    )
    bars = next(f for f in section.figures if f.name == "cv_bars")
    assert "± one standard deviation over folds" in bars.caption
