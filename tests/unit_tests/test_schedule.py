"""The whole-run budget's policy: durations, the reserve for refits, and successive halving."""

from __future__ import annotations

import numpy as np
import pytest

from harness.errors import UsageError
from harness.run import presets, schedule
from harness.run.schedule import Standing


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90.0), ("90s", 90.0), ("10m", 600.0), ("1.5h", 5400.0)]
)
def test_a_budget_is_read_in_seconds_minutes_or_hours(text, seconds):
    assert schedule.parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ten minutes", "--budget must be a duration such as 90, 90s, 10m or 1.5h; got"),
        ("5d", "--budget must be a duration such as"),
        ("0m", "--budget must be more than 0 seconds; got '0m'."),
    ],
)
def test_a_budget_that_is_not_a_duration_is_refused(text, message):
    with pytest.raises(UsageError, match=message.replace(".", r"\.").replace("(", r"\(")):
        schedule.parse_duration(text)


def _standings() -> list[Standing]:
    return [
        Standing("a", best=0.90, done=1, trial_seconds=1.0),
        Standing("b", best=0.95, done=1, trial_seconds=2.0),
        Standing("c", best=0.80, done=1, trial_seconds=1.0),
        Standing("d", best=0.85, done=1, trial_seconds=1.0),
        Standing("e", best=None, done=1, trial_seconds=1.0),  # its trial failed
        Standing("f", best=0.99, done=1, trial_seconds=1.0, failed=True),
    ]


def test_each_rung_keeps_the_best_half_and_doubles_their_trials():
    plan = dict(max_trials=100, seconds_left=60.0, workers=1)
    rung1 = schedule.next_rung(_standings(), 1, direction="maximize", **plan)
    assert rung1 == {"b": 2, "a": 2, "d": 2}  # best first; failed and trial-less studies out
    rung2 = schedule.next_rung(_standings(), 2, direction="maximize", **plan)
    assert rung2 == {"b": 4, "a": 4}
    rung3 = schedule.next_rung(_standings(), 3, direction="maximize", **plan)
    assert rung3 == {"b": 8}


def test_a_lower_is_better_metric_ranks_the_other_way():
    plan = dict(max_trials=100, seconds_left=60.0, workers=1)
    assert schedule.next_rung(_standings(), 3, direction="minimize", **plan) == {"c": 8}


def test_every_worker_keeps_a_study_and_caps_and_costs_are_respected():
    standings = _standings()
    assert list(
        schedule.next_rung(
            standings, 5, direction="maximize", max_trials=100, seconds_left=60, workers=2
        )
    ) == ["b", "a"]
    capped = schedule.next_rung(
        standings, 2, direction="maximize", max_trials=3, seconds_left=60, workers=1
    )
    assert capped == {"b": 2, "a": 2}  # 1 done + 2 more reaches --trials 3
    slow_out = schedule.next_rung(
        standings, 1, direction="maximize", max_trials=100, seconds_left=1.5, workers=1
    )
    assert "b" not in slow_out  # its 2 s trial cannot end before the deadline


def test_defaults_run_baselines_first_then_classical_then_neural_models_boosters_first():
    from types import SimpleNamespace

    def study(name, family):
        return SimpleNamespace(model=SimpleNamespace(name=name, family=family))

    studies = [
        study("svm", "classical"),
        study("my_plugin", "classical"),
        study("catboost", "classical"),
        study("keras_mlp", "neural"),
        study("dummy", "baseline"),
        study("linear", "classical"),
        study("lightgbm", "classical"),
    ]
    assert list(schedule.first_rung(studies)) == [
        "dummy",
        "lightgbm",
        "catboost",
        "linear",
        "svm",
        "my_plugin",  # not in DEFAULT_ORDER: after those that are, in the order asked for
        "keras_mlp",
    ]
    assert set(schedule.first_rung(studies).values()) == {0}


def test_rung_0_ends_by_half_the_tuning_time_but_every_default_gets_its_equal_share():
    # hotel_rates at 5 minutes: 14 models, 270 s of tuning; the classical defaults took 67 s,
    # and eleven models beyond the dummies had a score when the networks' turns came.
    first = schedule.FirstRung.plan(start=0.0, deadline=270.0, studies=14, workers=1)
    assert first.end == 135.0 and first.fair == pytest.approx(270 / 14)
    # the second-last default (keras_mlp) may take what is left of the half, up to twice its share
    assert first.until(67.0, waiting=1, workers=1, deadline=270.0, ranked=11) == 135.0
    # the last one (keras_resnet, 91 s before) gets what is left of the half: 22 s, over its 19 s
    assert first.until(113.0, waiting=0, workers=1, deadline=270.0, ranked=11) == 135.0
    # past the half, a default still gets its equal share of the tuning time...
    late = first.until(130.0, waiting=0, workers=1, deadline=270.0, ranked=11)
    assert late == pytest.approx(130 + 270 / 14)
    # ...but never past the tuning deadline
    assert first.until(260.0, waiting=0, workers=1, deadline=270.0, ranked=11) == 270.0
    # early on, one default may take at most twice its fair share of the tuning time left
    assert first.until(0.0, waiting=13, workers=1, deadline=270.0) == pytest.approx(2 * 270 / 14)


def test_rung_0_keeps_no_half_until_two_models_beyond_the_baselines_have_ranked():
    # flights at 1 minute: 14 models, about 46 s of tuning; three slow defaults used the half
    # (23 s) and only the dummy had a score. With the half applied, every later default got its
    # 3.3 s equal share, too short for 262k rows, and the second half went to the dummy.
    first = schedule.FirstRung.plan(start=0.0, deadline=46.0, studies=14, workers=1)
    assert first.end == 23.0 and first.fair == pytest.approx(46 / 14)
    for ranked in (0, 1):  # nothing (or one model) to give the time to: twice the fair share left
        until = first.until(23.0, waiting=10, workers=1, deadline=46.0, ranked=ranked)
        assert until == pytest.approx(23.0 + 2 * 23.0 / 11)
    assert first.until(40.0, waiting=1, workers=1, deadline=46.0, ranked=1) == 46.0
    # two ranked models: from now on the half applies (here only the equal share is left)
    two = first.until(23.0, waiting=10, workers=1, deadline=46.0, ranked=2)
    assert two == pytest.approx(23.0 + 46 / 14)
    assert first.until(10.0, waiting=10, workers=1, deadline=46.0, ranked=2) == pytest.approx(
        10.0 + 2 * 36.0 / 11
    )
    assert first.until(19.0, waiting=1, workers=1, deadline=46.0, ranked=2) == 23.0


def test_rung_0_may_use_all_the_tuning_time_when_the_studies_fill_two_turns():
    for studies, workers in ((1, 1), (2, 1), (4, 2)):
        first = schedule.FirstRung.plan(
            start=10.0, deadline=110.0, studies=studies, workers=workers
        )
        assert first.end == 110.0
    alone = schedule.FirstRung.plan(start=10.0, deadline=110.0, studies=1, workers=1)
    assert alone.until(10.0, waiting=0, workers=1, deadline=110.0) == 110.0
    # two workers, six studies: three turns, so rung 0 gets half, and a turn is two studies
    pair = schedule.FirstRung.plan(start=0.0, deadline=120.0, studies=6, workers=2)
    assert (pair.end, pair.fair) == (60.0, 40.0)
    assert pair.until(0.0, waiting=5, workers=2, deadline=120.0, ranked=2) == 60.0  # 80, by 60
    ten = schedule.FirstRung.plan(start=0.0, deadline=120.0, studies=10, workers=2)
    assert ten.until(0.0, waiting=9, workers=2, deadline=120.0) == 48.0  # 2 x 120/5
    assert pair.until(30.0, waiting=1, workers=2, deadline=120.0, ranked=2) == 70.0  # 40 s, past 60


def test_the_reserve_for_refits_follows_the_estimates_within_bounds():
    assert schedule.reserve_seconds(100, [Standing("a", None, 0)], 1) == 10.0
    known = [Standing("a", 0.9, 1, refit_seconds=4.0), Standing("b", 0.8, 1, refit_seconds=8.0)]
    assert schedule.reserve_seconds(100, known, 1) == pytest.approx(4 * 1.25 + 8 * 1.25 + 2)
    assert schedule.reserve_seconds(100, known, 2) == pytest.approx((15 + 2) / 2)
    assert schedule.reserve_seconds(100, known, 1, ensemble=True) == pytest.approx(15 + 2 + 3)
    # a selection is planned for 2 picks per member and one more, scoring both members each
    # time (10 scores), once on all rows and once per fold of its cross-fitted CV
    timed = schedule.reserve_seconds(100, known, 1, ensemble=True, score_seconds=0.03)
    assert timed == pytest.approx(15 + 2 + 3 + 1.25 * 10 * 0.03)
    five_folds = schedule.reserve_seconds(
        100, known, 1, ensemble=True, score_seconds=0.03, selections=6
    )
    assert five_folds == pytest.approx(15 + 2 + 3 + 1.25 * 60 * 0.03)
    assert schedule.reserve_seconds(1000, known, 1) == 50.0  # at least 5%
    huge = [Standing("a", 0.9, 1, refit_seconds=1000.0)]
    assert schedule.reserve_seconds(100, huge, 1) == 50.0  # at most half


def test_presets_pick_models_that_fit_the_task_and_unknown_ones_are_refused():
    from harness import registry

    ames = registry.get_task("ames")
    fast = presets.preset_models(presets.get_preset("fast"), ames)
    assert "linear" in fast and "naive_bayes" not in fast  # naive Bayes cannot regress
    medium = presets.preset_models(presets.get_preset("medium"), ames)
    assert "keras_mlp" not in medium and "dummy" in medium
    assert "keras_mlp" in presets.preset_models(presets.get_preset("best"), ames)
    with pytest.raises(UsageError, match="Unknown preset 'quick'; use one of fast, medium, best"):
        presets.get_preset("quick")


@pytest.mark.parametrize(
    ("metric", "classes"), [("roc_auc", 2), ("log_loss", 3), ("accuracy", 3), ("rmse", 0)]
)
def test_the_ensemble_s_score_is_timed_on_predictions_of_the_task_s_shape(metric, classes):
    from harness.protocol import ensemble

    y = np.random.default_rng(0).integers(0, max(classes, 2), 5000).astype(float)
    seconds = ensemble.score_seconds(y if classes == 0 else y.astype(int), metric, classes)
    assert 0 < seconds < 1


def test_baselines_run_their_defaults_only():
    standings = [
        schedule.Standing("dummy", best=0.5, done=1, trial_seconds=0.1, baseline=True),
        schedule.Standing("linear", best=0.6, done=1, trial_seconds=0.2),
    ]
    grants = schedule.next_rung(
        standings, 1, direction="maximize", workers=1, max_trials=100, seconds_left=50.0
    )
    assert grants == {"linear": 2}
    only_baseline = schedule.next_rung(
        standings[:1], 1, direction="maximize", workers=1, max_trials=100, seconds_left=50.0
    )
    assert only_baseline == {}


def test_a_refit_stops_fitting_at_the_time_the_reserve_planned_for_it():
    # A refit estimated at 4 s (its folds' fit time scaled to the training part): 1.25 * 4 + 1.
    assert schedule.refit_until(100.0, 4.0) == pytest.approx(106.0)
    assert schedule.refit_until(100.0, 0.0) == pytest.approx(101.0)
