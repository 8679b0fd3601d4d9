"""A whole-run budget is kept and shared by merit; studies run in parallel on their own workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from mlflow.tracking import MlflowClient

from harness import devices
from harness import run as harness_run
from harness.run import config as run_config
from harness.store.tracker import Tracker
from harness.store.urls import make_folders, resolve_stores


def _runs(store, task: str, kind: str) -> list:
    client = MlflowClient(tracking_uri=store.tracking_uri)
    experiment = client.get_experiment_by_name(task)
    runs = client.search_runs([experiment.experiment_id])
    return [r for r in runs if r.data.tags.get("harness.kind") == kind]


def _ready_stores(root):
    """Stores whose MLflow database exists already: its first creation (seconds of schema
    migrations) is not what the budget tests measure."""
    stores = resolve_stores(
        f"sqlite:///{root}/mlruns/mlflow.db", f"sqlite:///{root}/mlruns/optuna.db"
    )
    make_folders(stores)
    Tracker(stores).experiment_id("breast_cancer")
    return stores


def test_a_budgeted_run_ends_on_time_and_gives_the_better_models_more_trials(store):
    budget = 30.0
    config = run_config.RunConfig(
        task="breast_cancer",
        models=("dummy", "naive_bayes", "linear", "knn"),
        trials=run_config.BUDGET_MAX_TRIALS,
        budget=budget,
        n_jobs=1,
    )
    stores = _ready_stores(store.root)
    started = time.monotonic()
    _, _, results = harness_run.run(config, stores, started=started)
    elapsed = time.monotonic() - started
    assert elapsed <= budget + 3.0, f"the run took {elapsed:.1f} s on a {budget:g} s budget"
    *results, blend = results  # the run ends with its ensemble, inside the budget too
    assert blend.model == "ensemble" and blend.status == "ok"
    assert [r.status for r in results] == ["ok"] * 4
    assert all(r.trials_run >= 1 for r in results)  # every model got its defaults
    ranked = sorted(results, key=lambda r: -r.cv_mean)
    assert ranked[0].trials_run > ranked[-1].trials_run  # time went to the promising ones
    assert ranked[-1].model == "dummy" and ranked[-1].trials_run == 1
    studies = {r.data.tags["harness.model"]: r for r in _runs(store, "breast_cancer", "study")}
    for result in results:
        logged = studies[result.model].data
        assert logged.tags["harness.budget"] == "30"
        assert logged.metrics["trials_run"] == result.trials_run
        assert logged.metrics["tuning_seconds"] == pytest.approx(result.tuning_seconds)
    assert sum(r.tuning_seconds for r in results) < budget


def _run_with_a_sleeper(store, monkeypatch, models, budget: float, **options) -> list:
    """A budgeted run of `models` without an ensemble, whose misbehaving plugins sleep 120 s in
    fit; checks it ended within 3 s of the budget and returns its results."""
    monkeypatch.setenv("MISBEHAVE", "sleep")
    config = run_config.RunConfig(
        task="breast_cancer",
        models=models,
        trials=run_config.BUDGET_MAX_TRIALS,
        budget=budget,
        ensemble=False,
        **options,
    )
    stores = _ready_stores(store.root)
    started = time.monotonic()
    _, _, results = harness_run.run(config, stores, started=started)
    assert time.monotonic() - started <= budget + 3.0
    return results


def test_a_trial_still_running_when_the_budget_ends_is_killed_and_recorded(
    store, installed_plugins, monkeypatch
):
    installed_plugins({"misbehaving": "extra_plugins:MISBEHAVING"})
    dummy, misbehaving = _run_with_a_sleeper(store, monkeypatch, ("dummy", "misbehaving"), 12.0)
    assert dummy.status == "ok"
    # Its only trial was cut by the budget: not a failure of the model, so the study is skipped
    # with the reason (and the run's exit code stays 0), while the trial is recorded as timeout.
    assert misbehaving.status == "skipped"
    assert "did not finish within its share of the run's budget" in misbehaving.reason
    (trial,) = [
        r for r in _runs(store, "breast_cancer", "trial") if "misbehaving" in r.info.run_name
    ]
    assert trial.data.tags["harness.status"] == "timeout"
    assert "the end of its share of the run's budget" in trial.data.tags["harness.error"]


def test_a_slow_default_whose_turn_comes_last_leaves_half_the_tuning_time_to_the_others(
    store, installed_plugins, monkeypatch
):
    installed_plugins({"misbehaving_late": "extra_plugins:MISBEHAVING_LATE"})
    budget = 16.0
    models = ("misbehaving_late", "dummy", "naive_bayes", "linear")  # neural: its turn is last
    sleeper, dummy, naive_bayes, linear = _run_with_a_sleeper(
        store, monkeypatch, models, budget, n_jobs=1
    )
    assert [r.status for r in (dummy, naive_bayes, linear)] == ["ok"] * 3
    assert sleeper.status == "skipped"
    (trial,) = [r for r in _runs(store, "breast_cancer", "trial") if "late" in r.info.run_name]
    assert trial.data.tags["harness.status"] == "timeout"
    # Four studies in four turns: rung 0 keeps to half the tuning time, so the last default is
    # killed when that half ends (before, the last default could run to the tuning deadline)...
    seconds = (trial.info.end_time - trial.info.start_time) / 1000
    assert seconds < 0.4 * budget, f"the last default ran {seconds:.1f} s of {budget:g} s"
    # The time its cut default took is still its share of the allocation, in MLflow too.
    assert sleeper.tuning_seconds == pytest.approx(seconds, abs=1.0)
    studies = {r.data.tags["harness.model"]: r for r in _runs(store, "breast_cancer", "study")}
    logged = studies["misbehaving_late"].data.metrics["tuning_seconds"]
    assert logged == pytest.approx(sleeper.tuning_seconds)
    # ...and the models before it get more trials in the time it left.
    assert max(naive_bayes.trials_run, linear.trials_run) > 1


def test_rung_0_keeps_no_half_while_only_the_baselines_and_one_model_have_ranked(
    store, installed_plugins, monkeypatch
):
    # flights at 1 minute: the half ended before models beyond the dummy had a score, and the
    # rest of the run went to the dummy. With only linear ranked besides the dummy, the last
    # default may run past the half (to twice its fair share of what is left: here, all of it).
    installed_plugins({"misbehaving_late": "extra_plugins:MISBEHAVING_LATE"})
    budget = 16.0
    models = ("misbehaving_late", "dummy", "linear")
    sleeper, dummy, linear = _run_with_a_sleeper(store, monkeypatch, models, budget, n_jobs=1)
    assert (dummy.status, linear.status, sleeper.status) == ("ok", "ok", "skipped")
    (trial,) = [r for r in _runs(store, "breast_cancer", "trial") if "late" in r.info.run_name]
    assert trial.data.tags["harness.status"] == "timeout"
    # About 11 s here; with the half applied it was killed after about 5 s (measured).
    seconds = (trial.info.end_time - trial.info.start_time) / 1000
    assert seconds > 0.5 * budget, f"the last default ran {seconds:.1f} s of {budget:g} s"


def test_a_booster_default_that_cannot_finish_its_share_is_cut_short_and_ranked(store, monkeypatch):
    # XGBoost's default on flights (327k rows) takes about 10 s a fold on one core: within a
    # 12 s budget it used to be killed and skipped, leaving the dummy as the leader. All 5
    # folds are kept here (no fold plan: `test_budget_folds` tests that), so they are cut short.
    from harness.results import leaderboard, tables
    from harness.run import schedule

    monkeypatch.setattr(schedule, "FIT_SECONDS_PER_MILLION_CELLS", 0.0)

    budget = 12.0
    config = run_config.RunConfig(
        task="flights",
        models=("dummy", "xgboost"),
        trials=run_config.BUDGET_MAX_TRIALS,
        budget=budget,
        n_jobs=1,
        ensemble=False,
    )
    stores = _ready_stores(store.root)
    started = time.monotonic()
    _, _, results = harness_run.run(config, stores, started=started)
    elapsed = time.monotonic() - started
    assert elapsed <= budget + 3.0, f"the run took {elapsed:.1f} s on a {budget:g} s budget"
    dummy, xgboost = results
    assert (dummy.status, xgboost.status) == ("ok", "ok"), xgboost.reason
    assert xgboost.cv_mean > dummy.cv_mean  # it learned something in the time it had
    trials = [r for r in _runs(store, "flights", "trial") if "xgboost" in r.info.run_name]
    default = next(r for r in trials if r.data.tags.get("harness.default_config") == "true")
    assert default.data.tags["harness.status"] == "ok"
    # its folds stopped at their deadlines (a late fold may finish in the time the others left)
    assert default.data.metrics["cut_short"] > 0
    assert default.data.metrics["rounds_used"] < 2000
    studies = {r.data.tags["harness.model"]: r for r in _runs(store, "flights", "study")}
    assert studies["xgboost"].data.metrics["cut_short"] > 0
    assert studies["dummy"].data.metrics.get("cut_short") is None  # it cannot be cut short
    rows = {r.model: r for r in leaderboard.task_rows(Tracker(stores), "flights")}
    assert rows["xgboost"].rank == 1
    assert tables.status_text(rows["xgboost"]).startswith("ok: cut short (")
    assert tables.status_text(rows["dummy"]) == "ok"


@pytest.mark.skipif(devices.cpu_count() < 2, reason="parallel studies need 2 cores")
def test_parallel_studies_give_the_same_results_as_one_at_a_time_and_overlap(tmp_path):
    models = ("linear", "knn", "naive_bayes")
    outcomes = {}
    for workers in (1, 2):
        root = tmp_path / f"w{workers}"
        stores = resolve_stores(
            f"sqlite:///{root}/mlruns/mlflow.db", f"sqlite:///{root}/mlruns/optuna.db"
        )
        config = run_config.RunConfig(
            task="breast_cancer", models=models, trials=2, workers=workers, n_jobs=1, ensemble=False
        )
        _, _, results = harness_run.run(config, stores)
        outcomes[workers] = [(r.model, r.status, r.cv_mean, r.holdout) for r in results]
        if workers == 2:
            client = MlflowClient(tracking_uri=stores.tracking_uri)
            experiment = client.get_experiment_by_name("breast_cancer")
            spans = sorted(
                (r.info.start_time, r.info.end_time)
                for r in client.search_runs([experiment.experiment_id])
                if r.data.tags.get("harness.kind") == "study"
            )
            assert any(a[1] > b[0] for a, b in zip(spans, spans[1:], strict=False)), (
                "studies never overlapped"
            )
    assert outcomes[1] == outcomes[2]
    assert all(status == "ok" for _, status, _, _ in outcomes[2])


@pytest.mark.skipif(devices.cpu_count() < 2, reason="parallel studies need 2 cores")
def test_an_interrupt_with_parallel_studies_loses_nothing_and_the_same_command_resumes(
    store, children
):
    args = [sys.executable, "-m", "harness", "run", "breast_cancer"]
    args += ["-m", "random_forest", "-m", "extra_trees", "--trials", "4", "--workers", "2"]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["HARNESS_DEVICE"] = "cpu"
    proc = subprocess.Popen(
        args, cwd=store.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 240
    workers: set[int] = set()
    while time.monotonic() < deadline:  # a finished trial in one study, the other running
        time.sleep(0.3)
        workers.update(children(proc.pid))
        try:
            names = ("breast_cancer.random_forest", "breast_cancer.extra_trees")
            studies = [store.study(n) for n in names]
            states = [[t.state.name for t in study.trials] for study in studies]
        except Exception:
            continue
        if any("COMPLETE" in s for s in states) and all("RUNNING" in s for s in states):
            break
    assert proc.poll() is None, "the run ended before it could be interrupted"
    # SIGTERM unwinds exactly like Ctrl-C; SIGINT itself is ignored by a process that a
    # non-interactive shell started in the background, as CI scripts may.
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err.decode()
    time.sleep(0.5)
    assert not [pid for pid in workers if os.path.exists(f"/proc/{pid}")]
    study_runs = _runs(store, "breast_cancer", "study")
    assert sorted(r.info.status for r in study_runs) == ["KILLED", "KILLED"]

    rerun = subprocess.run(args, cwd=store.root, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    for name in ("random_forest", "extra_trees"):
        study = store.study(f"breast_cancer.{name}")
        complete = sorted(t.number for t in study.trials if t.state.name == "COMPLETE")
        assert len(complete) == 4
        logged = sorted(
            int(r.data.tags["harness.trial"])
            for r in _runs(store, "breast_cancer", "trial")
            if r.data.tags["harness.model"] == name
        )
        assert logged == complete  # every finished trial in MLflow exactly once
    client = MlflowClient(tracking_uri=store.tracking_uri)
    experiment = client.get_experiment_by_name("breast_cancer")
    assert all(r.info.status != "RUNNING" for r in client.search_runs([experiment.experiment_id]))


CORES = devices.cpu_count()
BAD = [
    ("run breast_cancer --workers 0", 2, "--workers must be at least 1, got 0."),
    (f"run breast_cancer --workers {CORES + 1}", 2, f"is more than the {CORES} cores here"),
    ("run breast_cancer --budget soon", 2, "--budget must be a duration such as 90, 90s, 10m"),
    ("run breast_cancer --budget 0", 2, "--budget must be more than 0 seconds; got '0'."),
    ("run breast_cancer --budget 1m --timeout 5", 2, "--timeout (per study) and --budget"),
    ("run breast_cancer --preset quick", 2, "Unknown preset 'quick'; use one of fast, medium"),
]
if CORES >= 2:
    BAD.append(
        (f"run breast_cancer --workers 2 --jobs {CORES}", 2, f"= {2 * CORES} threads on {CORES}")
    )


@pytest.mark.parametrize(("args", "code", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_budgets_workers_and_presets_are_refused_before_any_store(
    harness_main, store, args, code, message
):
    got, err = harness_main(*args.split())
    assert got == code, err
    assert message in err, err
    assert "Traceback" not in err
    assert not (store.root / "mlruns").exists()
