"""MLflow names are spelled once, in harness.store.schema; Optuna attributes in tuning.attrs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from harness.store import schema

HARNESS = Path(__file__).resolve().parents[2] / "harness"
OWNERS = {HARNESS / "store" / "schema.py", HARNESS / "tuning" / "attrs.py"}
MODULE_NAMES = {HARNESS / "layers.py", HARNESS / "registry.py"}  # "harness.task" is a module
TAGS = {value for name, value in vars(schema).items() if name.isupper() and isinstance(value, str)}


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
    return found


def test_no_module_but_the_schema_spells_a_tag_metric_or_artifact_name():
    spelled = []
    for path in sorted(HARNESS.rglob("*.py")):
        if path in OWNERS | MODULE_NAMES:
            continue
        for line, text in _strings(path):
            tag = re.fullmatch(r"harness\.[a-z_]+", text) and text in TAGS
            name = text in {schema.FOLD_SCORES, schema.HOLDOUT_ARRAY, schema.OOF_ARRAY}
            if tag or name or re.fullmatch(r"(cv|holdout|fold|oof|refit)_", text):
                spelled.append(f"{path.relative_to(HARNESS)}:{line}: {text!r}")
    assert spelled == []


def test_the_schemas_names():
    assert schema.STATUS == "harness.status" and schema.KIND == "harness.kind"
    assert (schema.cv_mean("rmse"), schema.cv_std("rmse")) == ("cv_rmse_mean", "cv_rmse_std")
    assert (schema.fold("rmse"), schema.holdout("rmse")) == ("fold_rmse", "holdout_rmse")
    assert schema.array("oof") == schema.OOF_ARRAY == "oof_predictions.npy"
    assert schema.of_kind(schema.KIND_STUDY) == "tags.`harness.kind` = 'study'"
    assert len(set(schema.KINDS)) == 5
