"""The benchmark scripts parse their arguments (they are run by hand, never timed in tests)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = ("overhead", "startup", "scale", "parallel", "peer", "gpu", "storage", "cv_holdout")


@pytest.fixture
def scripts(tmp_path, monkeypatch):
    """(benchlib, a function importing a benchmark script by name), results files going to
    `tmp_path`."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    benchlib = importlib.import_module("benchlib")
    monkeypatch.setattr(benchlib, "RESULTS", tmp_path)
    return benchlib, importlib.import_module


@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_script_help_describes_its_options(name, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    script = importlib.import_module(name)
    with pytest.raises(SystemExit) as exit_:
        script.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:") and "--show" in out


def test_the_gpu_benchmark_measures_the_cpu_side_in_a_child_with_the_gpu_hidden(
    scripts, tmp_path, capsys
):
    benchlib, load_script = scripts
    gpu = load_script("gpu")
    argv = ["--cases", "xgboost:breast_cancer", "--devices", "cpu", "--repeats", "2", "--jobs", "1"]
    assert gpu.main(argv) == 0
    (written,) = tmp_path.glob("gpu-*.json")
    (row,) = benchlib.load(written)["results"]
    assert (row["device"], row["harness_device"], row["training_rows"]) == ("cpu", "cpu", 455)
    assert row["proof"]["booster_device"] == "cpu" and not row["gpu_mode_ran"]
    assert not row["proof"]["listed_by_nvidia_smi"]
    # early stopping ends a fit 50 rounds past its best one, within the model's 2000
    assert 50 < row["units_per_fit"] <= 2000 and row["units_per_second"] > 0
    assert len(row["fits"]) == 2 and row["fit_seconds"] == row["fits"][1]["seconds"]
    out = capsys.readouterr().out
    assert "| xgboost:breast_cancer | cpu | 455 |" in out and "booster on cpu" in out


def test_the_gpu_benchmark_reports_a_failed_child_and_exits_1(scripts, capsys):
    _, load_script = scripts
    gpu = load_script("gpu")
    assert gpu.main(["--cases", "xgboost:no_such_task", "--devices", "cpu"]) == 1
    out = capsys.readouterr().out
    assert "xgboost:no_such_task on cpu:" in out and "| xgboost:no_such_task | cpu | - |" in out


def test_the_storage_benchmark_replays_a_completed_trial_on_each_storage(scripts, tmp_path):
    benchlib, load_script = scripts
    storage = load_script("storage")
    assert storage.main(["--trials", "3"]) == 0
    (written,) = tmp_path.glob("storage-*.json")
    rows = benchlib.load(written)["results"]
    assert [r["storage"] for r in rows if r["case"] == "trial"] == ["sqlite", "journal", "memory"]
    layouts = {r["layout"]: r["writes"] for r in rows if r["case"] == "results attribute"}
    assert layouts == {"separate": 7, "one": 1}
    calls = [r["call"] for r in rows if r["case"] == "mlflow"]
    assert calls == ["create", "log", "end", "one transaction", "the three public calls"]
    assert all(r["seconds_per_trial"] > 0 for r in rows)


# AutoGluon 1.6.3's eval_metric names per problem type (`autogluon.core.metrics.METRICS`), so the
# mapping is checked without AutoGluon installed; the test after it checks this list against an
# installed AutoGluon when `benchmarks/.venvs/autogluon` exists.
AUTOGLUON_1_6_METRICS = {
    "binary": {"accuracy", "balanced_accuracy", "f1", "f1_macro", "log_loss", "roc_auc"},
    "multiclass": {"accuracy", "balanced_accuracy", "f1_macro", "log_loss", "roc_auc_ovr"},
    "regression": {"root_mean_squared_error", "mean_absolute_error", "r2", "rmse", "mae"},
}


@pytest.fixture
def peer(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("peer")


def catalog_metrics() -> set[tuple[str, str]]:
    from harness import registry

    return {(m, t.problem_type) for t in registry.tasks().values() for m in t.metrics}


def test_every_metric_of_the_catalog_has_an_autogluon_name(peer):
    pairs = catalog_metrics()
    assert {m for m, _ in pairs} >= {"roc_auc", "log_loss", "brier", "rmse", "mae", "r2"}
    for metric, problem_type in pairs:
        assert peer.autogluon_metric(metric) in AUTOGLUON_1_6_METRICS[problem_type], metric
    assert peer.autogluon_metric("rmse") == "root_mean_squared_error"
    assert peer.autogluon_metric("brier") == "log_loss"  # AutoGluon has no Brier score


@pytest.mark.skipif(
    not (BENCHMARKS / ".venvs" / "autogluon" / "bin" / "python").exists(),
    reason="AutoGluon's environment is created by the first `peer.py --peer autogluon`",
)
def test_the_autogluon_names_are_those_the_installed_autogluon_knows(peer):
    import json
    import subprocess

    code = (
        "import json; from autogluon.core.metrics import METRICS; "
        "print(json.dumps({k: sorted(v) for k, v in METRICS.items()}))"
    )
    python = peer.PEERS["autogluon"].python
    known = json.loads(
        subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout
    )
    for problem_type, names in AUTOGLUON_1_6_METRICS.items():
        assert names <= set(known[problem_type]), problem_type
    for metric, problem_type in catalog_metrics():
        assert peer.autogluon_metric(metric) in known[problem_type]


def test_peer_defaults_to_flaml_and_takes_several_peers_once_each_in_order(peer):
    def names(*argv):
        return [p.name for p in peer.arguments(list(argv)).peers]

    assert names() == ["flaml"]
    assert names("--peer", "autogluon") == ["autogluon"]
    assert names("--peer", "autogluon", "flaml") == ["autogluon", "flaml"]
    assert names("--peer", "flaml", "--peer", "autogluon", "--peer", "flaml") == [
        "flaml",
        "autogluon",
    ]
    assert peer.arguments([]).peer_preset == "medium_quality"
    assert peer.arguments(["--peer-preset", "best_quality"]).peer_preset == "best_quality"
    for wrong in (["--peer", "h2o"], ["--peer-preset", "extreme_quality"]):
        with pytest.raises(SystemExit) as exit_:
            peer.arguments(wrong)
        assert exit_.value.code == 2


def test_a_peers_probabilities_are_put_in_harness_class_order(peer):
    # the peer's columns are classes 2, 0 (it never saw class 1)
    full = peer.align_probabilities([[0.75, 0.25], [0.1, 0.9]], [2, 0], 3)
    np.testing.assert_array_equal(full, [[0.25, 0.0, 0.75], [0.9, 0.0, 0.1]])
    # a pandas column index of integer labels, as AutoGluon's predict_proba returns
    import pandas as pd

    frame = pd.DataFrame([[0.3, 0.7]], columns=pd.Index([1, 0]))
    np.testing.assert_array_equal(
        peer.align_probabilities(frame.to_numpy(), frame.columns, 2), [[0.7, 0.3]]
    )


def test_every_driver_carries_the_alignment_code_and_compiles(peer):
    for p in peer.PEERS.values():
        assert "def align_probabilities(" in p.driver
        compile(p.driver, f"{p.name}_driver.py", "exec")
    assert 'presets=meta["autogluon_preset"]' in peer.AUTOGLUON_DRIVER
    assert "predictor.model_best" in peer.AUTOGLUON_DRIVER


def test_the_harness_side_runs_this_checkouts_code(peer):
    program, env = peer.harness_command()
    assert program[1:] == ["-m", "harness"]
    root = Path(__file__).resolve().parents[2]
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(root)
    assert "MLFLOW_TRACKING_URI" not in env


def row(task="ames", **sides):
    return {
        "task": task,
        "metric": "rmse",
        "direction": "minimize",
        "training_rows": 2344,
        "holdout_rows": 586,
        "harness": {
            "model": "ensemble",
            "models_ok": 9,
            "trials": 8,
            "holdout": 0.1212,
            "wall_seconds": 56.0,
        },
        **sides,
    }


def test_the_table_names_each_peer_and_reads_results_from_before_peer(peer, tmp_path, capsys):
    import json

    new = row(
        flaml={
            "pick": "xgboost",
            "best_estimator": "xgboost",
            "holdout": 0.1318,
            "wall_seconds": 64.0,
            "difference": 0.0106,
            "interval": [0.0046, 0.0175],
            "outcome": "win",
        },
        autogluon={
            "pick": "WeightedEnsemble_L2",
            "models": 8,
            "holdout": 0.118,
            "wall_seconds": 66.0,
            "difference": -0.003,
            "interval": [-0.006, -0.001],
            "outcome": "loss",
        },
    )
    text = peer.table([new])
    assert "| FLAML pick | FLAML holdout | FLAML s |" in text
    assert "| AutoGluon pick | AutoGluon holdout | AutoGluon s |" in text
    assert "| WeightedEnsemble_L2 (8 models) | 0.1180 | 66 | -0.0030 |" in text
    assert "against FLAML: 1 / 0 / 0" in text and "against AutoGluon: 0 / 0 / 1" in text
    assert text.index("FLAML pick") < text.index("AutoGluon pick")
    # a results file written before --peer: FLAML's comparison in the row itself
    old = row(flaml={"best_estimator": "xgboost", "holdout": 0.1318, "wall_seconds": 64.0})
    old.update(difference=0.0106, interval=[0.0046, 0.0175], outcome="win")
    written = tmp_path / "peer-old.json"
    written.write_text(json.dumps({"settings": {}, "results": [old]}))
    assert peer.main(["--show", str(written)]) == 0
    out = capsys.readouterr().out
    assert "| xgboost | 0.1318 | 64 | 0.0106 | [0.0046, 0.0175] | win |" in out
    assert "AutoGluon" not in out and "against FLAML: 1 / 0 / 0" in out
