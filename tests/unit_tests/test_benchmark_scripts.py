"""The benchmark scripts parse their arguments (they are run by hand, never timed in tests)."""

from __future__ import annotations

import importlib
from pathlib import Path

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
