"""The statistics behind leaderboards, checked against hand computations and scipy."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats as sps

from harness.errors import HarnessError
from harness.results import stats
from harness.results.leaderboard import Board, Row, build_board, fold_size_ratio
from harness.results.summary import summarize


def test_nadeau_bengio_matches_the_corrected_formula_by_hand():
    leader = [0.90, 0.92, 0.88, 0.91, 0.93]
    other = [0.88, 0.91, 0.87, 0.88, 0.90]
    d = np.subtract(leader, other)
    t = d.mean() / math.sqrt((1 / 5 + 1 / 4) * d.var(ddof=1))
    test = stats.nadeau_bengio(leader, other, test_train_ratio=1 / 4, maximize=True)
    assert test.t == pytest.approx(t) and test.dof == 4
    assert test.p_value == pytest.approx(sps.t.sf(t, 4))
    naive = sps.ttest_rel(leader, other, alternative="greater").pvalue
    assert test.p_value > naive, "the correction is more cautious than the plain paired test"


def test_nadeau_bengio_orients_losses_so_a_lower_leader_is_better():
    leader, other = [0.10, 0.12, 0.11, 0.09], [0.30, 0.33, 0.29, 0.31]
    loss = stats.nadeau_bengio(leader, other, test_train_ratio=1 / 3, maximize=False)
    assert loss.mean_diff > 0 and loss.significant
    flipped = stats.nadeau_bengio(leader, other, test_train_ratio=1 / 3, maximize=True)
    assert flipped.mean_diff < 0 and not flipped.significant


def test_identical_folds_are_not_worse_and_a_constant_gap_is():
    same = stats.nadeau_bengio([0.5] * 5, [0.5] * 5, test_train_ratio=0.25, maximize=True)
    assert same.p_value == 1.0 and not same.significant
    gap = stats.nadeau_bengio([0.9] * 5, [0.5] * 5, test_train_ratio=0.25, maximize=True)
    assert gap.p_value == 0.0 and gap.significant


def test_two_sided_identical_folds_are_the_same_model_not_a_difference():
    """A one-member ensemble has its member's fold scores: the two-sided p is 1, not 0."""
    same = stats.nadeau_bengio(
        [0.5, 0.6, 0.7], [0.5, 0.6, 0.7], test_train_ratio=0.5, maximize=True, two_sided=True
    )
    assert same.p_value == 1.0 and not same.significant
    gap = stats.nadeau_bengio(
        [0.9] * 3, [0.5] * 3, test_train_ratio=0.5, maximize=True, two_sided=True
    )
    assert gap.p_value < 1e-20 and gap.significant
    board = stats.versus_leader(
        [0.5, 0.6, 0.7], {"copy": [0.5, 0.6, 0.7]}, test_train_ratio=0.5, maximize=True
    )
    assert board["copy"].p_value == 1.0 and not board["copy"].significant


def test_mean_interval_is_scipys_t_interval_widened_by_the_fold_overlap():
    from scipy import stats as scipy_stats

    scores = [0.91, 0.93, 0.90, 0.94, 0.92]
    low, high = stats.mean_interval(scores, test_train_ratio=0.0)
    expected = scipy_stats.t.interval(
        0.95, len(scores) - 1, loc=np.mean(scores), scale=scipy_stats.sem(scores)
    )
    assert (low, high) == pytest.approx(expected)
    # corrected: the half-width grows by sqrt((1/k + ratio) / (1/k)) = sqrt(1 + k * ratio)
    wide_low, wide_high = stats.mean_interval(scores, test_train_ratio=0.25)
    assert (wide_high - wide_low) == pytest.approx((high - low) * np.sqrt(1 + 5 * 0.25))
    assert stats.mean_interval([0.9], test_train_ratio=0.25) is None
    assert stats.mean_interval([0.9, float("nan")], test_train_ratio=0.25) is None


def test_nadeau_bengio_refuses_different_fold_counts():
    with pytest.raises(ValueError, match="scored on 5 and 3 folds"):
        stats.nadeau_bengio([1] * 5, [1] * 3, test_train_ratio=0.25, maximize=True)


def test_normalized_score_puts_the_baseline_at_zero_and_the_best_at_one_in_both_directions():
    assert stats.normalized_score(0.5, 0.5, 0.9) == 0.0
    assert stats.normalized_score(0.9, 0.5, 0.9) == 1.0
    assert stats.normalized_score(0.7, 0.5, 0.9) == pytest.approx(0.5)
    assert stats.normalized_score(0.3, 0.4, 0.1) == pytest.approx(1 / 3)  # rmse: lower is better
    assert stats.normalized_score(0.7, None, 0.9) is None


def test_ranks_average_ties_and_put_models_without_a_score_last():
    ranks = stats.ranks({"a": 0.9, "b": 0.9, "c": 0.5, "d": None}, maximize=True)
    assert ranks == {"a": 1.5, "b": 1.5, "c": 3.0, "d": 4.0}
    assert stats.ranks({"a": 0.1, "b": 0.3}, maximize=False) == {"a": 1.0, "b": 2.0}


def test_bradley_terry_orders_by_wins_centres_on_1000_and_is_seeded():
    tasks = [{"a": 3.0, "b": 2.0, "c": 1.0}] * 4 + [{"a": 1.0, "b": 2.0, "c": 3.0}]
    ratings = stats.bradley_terry(tasks, maximize=[True] * 5, bootstrap=100, seed=1)
    assert [r.model for r in ratings] == ["a", "b", "c"]
    assert np.mean([r.elo for r in ratings]) == pytest.approx(1000, abs=1e-6)
    assert all(r.low <= r.elo <= r.high for r in ratings)
    again = stats.bradley_terry(tasks, maximize=[True] * 5, bootstrap=100, seed=1)
    assert again == ratings


def test_a_failed_model_loses_to_every_model_with_a_score():
    wins = stats.pairwise_wins([{"a": 0.1, "b": None}], ["a", "b"], maximize=[True])
    assert wins.tolist() == [[0.0, 1.0], [0.0, 0.0]]


def test_friedman_matches_scipy_and_the_nemenyi_critical_difference():
    scores = {
        "t1": [0.9, 0.8, 0.7],
        "t2": [0.8, 0.9, 0.6],
        "t3": [0.95, 0.7, 0.8],
        "t4": [0.9, 0.85, 0.5],
    }
    table = {
        t: stats.ranks(dict(zip("abc", s, strict=True)), maximize=True) for t, s in scores.items()
    }
    test = stats.friedman(table)
    expected = sps.friedmanchisquare(*np.array(list(scores.values())).T)
    assert test.statistic == pytest.approx(expected.statistic)
    assert test.p_value == pytest.approx(expected.pvalue)
    assert test.critical_difference == pytest.approx(2.343 * math.sqrt(3 * 4 / (6 * 4)))
    assert stats.nemenyi_q(12) == pytest.approx(3.268, abs=0.01)  # beyond Demšar's table


def test_the_test_train_ratio_follows_the_cv_scheme():
    assert fold_size_ratio({"harness.folds": "5"}) == pytest.approx(1 / 4)
    assert fold_size_ratio({"harness.folds": "15", "harness.repeats": "3"}) == pytest.approx(1 / 4)
    time_folds = fold_size_ratio({"harness.folds": "3", "harness.cv": "time"})
    assert time_folds == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)  # a run made before 0.3
    measured = {"harness.folds": "3", "harness.cv": "time", "harness.test_train_ratio": "0.21"}
    assert fold_size_ratio(measured) == 0.21  # runs since 0.3 carry their folds' own ratio


def _run(model, cv, folds, fingerprint="fp"):
    tags = {
        "harness.model": model,
        "harness.family": "classical",
        "harness.status": "ok",
        "harness.metric": "roc_auc",
        "harness.folds": str(len(folds)),
        "harness.folds_fingerprint": fingerprint,
        "harness.task": "t",
    }
    metrics = {"cv_roc_auc_mean": cv, "cv_roc_auc_std": 0.01, "holdout_roc_auc": cv}
    return SimpleNamespace(
        info=SimpleNamespace(run_id=model, status="FINISHED"),
        data=SimpleNamespace(tags=tags, metrics=metrics),
        folds=folds,
    )


class _Tracker:
    def __init__(self, runs):
        history = {r.info.run_id: r.folds for r in runs}
        point = lambda step, value: SimpleNamespace(step=step, value=value, timestamp=step)  # noqa: E731
        self.client = SimpleNamespace(
            get_metric_history=lambda run_id, key: [
                point(i, v) for i, v in enumerate(history[run_id])
            ]
        )


def test_runs_on_different_folds_or_fold_counts_are_refused():
    a, b = _run("a", 0.9, [0.9] * 5), _run("b", 0.8, [0.8] * 5, fingerprint="other")
    with pytest.raises(HarnessError, match="scored on different folds"):
        build_board(_Tracker([a, b]), "t", [a, b])
    c = _run("c", 0.8, [0.8] * 3)
    with pytest.raises(HarnessError, match=r"different numbers of fold scores \(a: 5, c: 3\)"):
        build_board(_Tracker([a, c]), "t", [a, c])


def test_a_board_marks_a_close_second_as_not_worse_and_a_distant_one_as_worse():
    runs = [
        _run("leader", 0.91, [0.90, 0.93, 0.89, 0.92, 0.91]),
        _run("close", 0.905, [0.91, 0.90, 0.90, 0.91, 0.905]),
        _run("far", 0.6, [0.61, 0.59, 0.60, 0.62, 0.58]),
    ]
    board = build_board(_Tracker(runs), "t", runs)
    marks = {r.model: (r.rank, r.not_worse) for r in board.rows}
    assert marks == {"leader": (1, True), "close": (2, True), "far": (3, False)}


def _board(task, scores, maximize=True, failed=()):
    rows = []
    for model, score in scores.items():
        ok = model not in failed
        rows.append(
            Row(
                rank=1 if ok else None,
                model=model,
                family="f",
                status="ok" if ok else "failed",
                metric="m",
                cv_mean=score if ok else None,
                cv_std=0.0,
                holdout=score if ok else None,
                gap=0.0,
                fit_seconds=None,
                predict_seconds_per_1000=None,
                trials=1,
                device="cpu",
                reason="" if ok else "boom",
                folds=5,
                p_value=None,
                not_worse=None,
                folds_fingerprint="fp",
                run_id=model,
                task=task,
            )
        )
    return Board(task, "m", maximize, rows)


def test_the_summary_counts_failures_and_says_when_a_task_has_no_dummy():
    boards = [
        _board("t1", {"dummy": 0.5, "x": 0.9, "y": 0.7}),
        _board("t2", {"dummy": 1.0, "x": 0.2, "y": 0.4}, maximize=False, failed=("y",)),
        _board("t3", {"x": 0.8, "y": 0.85}),
    ]
    summary = summarize(boards, bootstrap=20)
    rows = {r.model: r for r in summary.rows}
    assert rows["y"].tasks_failed == 1 and rows["y"].tasks_ok == 2
    assert rows["dummy"].tasks_missing == 1
    assert rows["x"].normalized == pytest.approx(1.0)
    assert rows["y"].normalized == pytest.approx((0.5 + 0.0) / 2)  # the failure counts 0
    assert rows["x"].wins == 2 and rows["y"].wins == 1
    # like with like: x and y ran on every task and are ranked between themselves (y failed on
    # t2: last of two); dummy ran on two tasks, so it is listed apart, after them
    assert rows["y"].mean_rank == pytest.approx((2 + 2 + 1) / 3)
    assert rows["x"].complete and rows["y"].complete and not rows["dummy"].complete
    assert [r.model for r in summary.rows][-1] == "dummy"
    assert rows["dummy"].mean_rank == pytest.approx((3 + 2) / 2)  # among all models of t1, t2
    assert any("t3: no ok 'dummy' run" in n for n in summary.notes)
    assert any(
        "listed apart and ranked among the models of their own tasks: dummy" in n
        for n in summary.notes
    )
    assert any(
        "Friedman test and critical difference not shown: 3 tasks" in n for n in summary.notes
    )
    assert summary.friedman is None


def test_the_friedman_test_needs_enough_tasks():
    boards = [
        _board(f"t{i}", {"dummy": 0.5, "x": 0.9 - i / 100, "y": 0.7 + i / 50}) for i in range(5)
    ]
    summary = summarize(boards, bootstrap=20)
    assert summary.friedman is not None and summary.friedman.n_tasks == 5
    assert all(r.complete for r in summary.rows)
    assert summarize(boards[:4], bootstrap=20).friedman is None


def test_holm_steps_down_and_keeps_the_input_order():
    # m = 4: sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.06, 0.06 (monotone), 0.5
    assert stats.holm([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    assert stats.holm([0.9, 0.8]) == [1.0, 1.0]  # 2 x 0.8 caps at 1, and stays monotone
    assert stats.holm([0.01, 0.2]) == pytest.approx([0.02, 0.2])
    assert stats.holm([]) == []


def test_versus_leader_is_two_sided_and_holm_adjusted():
    leader = [0.90, 0.91, 0.92, 0.90, 0.91]
    others = {"close": [0.899, 0.905, 0.921, 0.899, 0.90], "far": [0.80, 0.81, 0.79, 0.80, 0.82]}
    tests = stats.versus_leader(leader, others, test_train_ratio=0.25, maximize=True)
    for name, scores in others.items():
        raw = stats.nadeau_bengio(leader, scores, test_train_ratio=0.25, maximize=True)
        assert tests[name].p_value >= min(1.0, 2 * raw.p_value) - 1e-12
    assert not tests["close"].significant and tests["far"].significant


def test_boards_of_equally_good_models_rarely_get_a_false_worse_mark():
    """Family-wise error of the marks: 12 and 20 equally good models on 5 folds (fold effects
    shared by the models, as identical folds make them), the leader picked after the fact."""
    rng = np.random.default_rng(7)
    for models, boards in ((12, 600), (20, 400)):
        false_marks = 0
        for _ in range(boards):
            fold = rng.normal(size=5)
            scores = 0.9 + 0.01 * (0.7 * fold + 0.7 * rng.normal(size=(models, 5)))
            order = np.argsort(-scores.mean(axis=1))
            others = {str(i): scores[i] for i in order[1:]}
            tests = stats.versus_leader(
                scores[order[0]], others, test_train_ratio=0.25, maximize=True
            )
            false_marks += any(t.significant for t in tests.values())
        assert false_marks / boards <= 0.05, (models, false_marks / boards)


def test_friedman_corrects_for_tied_ranks_as_scipy_does():
    scores = {  # failed models share the last ranks: ties in every task
        "t1": [0.9, 0.8, None, None],
        "t2": [0.8, 0.9, 0.7, None],
        "t3": [0.95, 0.95, None, None],
        "t4": [0.9, 0.85, 0.5, 0.5],
    }
    table = {
        t: stats.ranks(dict(zip("abcd", s, strict=True)), maximize=True) for t, s in scores.items()
    }
    test = stats.friedman(table)
    matrix = np.array([[table[t][m] for m in "abcd"] for t in scores])
    expected = sps.friedmanchisquare(*matrix.T)  # ranks in, ranks out: scipy re-ranks them
    assert test.statistic == pytest.approx(expected.statistic)
    assert test.p_value == pytest.approx(expected.pvalue)


def test_five_tasks_get_the_critical_difference_diagram_in_the_report():
    from harness.results import report

    boards = [
        _board(f"t{i}", {"dummy": 0.5, "x": 0.9 - i / 100, "y": 0.7 + i / 50}) for i in range(5)
    ]
    summary = summarize(boards, bootstrap=20)
    section = report.summary_section(None, boards, summary, log=False)
    assert [figure.name for figure in section.figures] == ["critical_difference"]
    assert section.figures[0].png.startswith(b"\x89PNG")
    few = report.summary_section(None, boards[:3], summarize(boards[:3], bootstrap=20), log=False)
    assert few.figures == [] and any("not shown: 3 tasks" in note for note in few.notes)
