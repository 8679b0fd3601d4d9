"""The CLI starts fast: --help and list never import TensorFlow, XGBoost, MLflow or Optuna."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("tensorflow", "keras", "xgboost", "mlflow", "optuna", "sklearn")

PROBE = """
import sys
from harness.cli import app
for args in (["--help"], ["list", "tasks"], ["list", "models", "--json"]):
    try:
        app(args, standalone_mode=False)
    except SystemExit:
        pass
print("HEAVY=" + ",".join(m for m in {heavy!r} if m in sys.modules))
"""


def test_help_and_list_import_no_heavy_framework():
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="


def test_list_shows_the_first_tasks_and_models(cli):
    tasks = json.loads(cli("list", "tasks", "--json").out)
    assert {t["name"] for t in tasks} >= {"breast_cancer", "wa_churn", "penguins", "ames"}
    models = {m["name"]: m for m in json.loads(cli("list", "models", "--json").out)}
    assert set(models) >= {"dummy", "linear", "random_forest", "xgboost", "keras_mlp"}
    assert models["keras_mlp"]["family"] == "neural"
    assert cli("--version").out.startswith("harness ")
    module = subprocess.run(
        [sys.executable, "-m", "harness", "--help"], capture_output=True, text=True
    )
    assert module.returncode == 0 and "run" in module.stdout
