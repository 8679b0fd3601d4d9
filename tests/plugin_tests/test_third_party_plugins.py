"""Third-party plugins arrive through entry points; broken ones and name clashes only warn."""

from __future__ import annotations

import json

import pytest

from harness.errors import PluginError

RENAME = (
    "give its Model(...) another name and its entry point (group 'harness.models') "
    "the same new name, then reinstall its distribution."
)


def test_entry_point_models_are_listed_and_a_broken_one_only_warns(cli, plugin_site):
    env = plugin_site(
        {
            "ridge_only": "extra_plugins:REGRESSION_ONLY",
            "broken": "extra_plugins_missing:NOPE",
        }
    )
    result = cli("list", "models", "--json", env=env)
    assert result.code == 0, result.err
    assert '"name": "ridge_only"' in result.out
    assert "Skipping broken model plugin entry point 'broken'" in result.err


def test_asking_for_a_broken_plugin_by_name_raises_with_its_error(cli, plugin_site):
    env = plugin_site({"broken": "extra_plugins_missing:NOPE"})
    result = cli("run", "breast_cancer", "--model", "broken", env=env)
    assert result.code == 1
    assert "Error: The model plugin 'broken' is broken" in result.err
    assert "No module named 'extra_plugins_missing'" in result.err
    assert "Traceback" not in result.err


def test_a_plugin_reusing_a_built_in_name_is_left_out_with_a_warning(cli, plugin_site):
    env = plugin_site(
        {"linear": "extra_plugins:DUPLICATE", "ridge_only": "extra_plugins:REGRESSION_ONLY"}
    )
    result = cli("list", "models", "--json", env=env)
    assert result.code == 0, result.err
    models = {m["name"]: m for m in json.loads(result.out)}
    assert models["linear"]["description"].startswith("Logistic regression or ridge")  # built-in
    assert "ridge_only" in models  # the rest of the distribution is registered
    assert (
        "RuntimeWarning: Leaving out the model plugin entry point 'linear' "
        "(extra_plugins:DUPLICATE) from extra-plugins 0.1: its name 'linear' is taken by the "
        "built-in model (built-in module harness.models.linear), so 'linear' means the built-in. "
        f"To use the plugin, rename it: {RENAME}"
    ) in " ".join(result.err.split())
    assert "Error" not in result.err


def test_asking_for_a_built_in_name_a_plugin_reuses_gets_the_built_in(installed_plugins):
    from harness import registry

    with pytest.warns(RuntimeWarning, match="so 'linear' means the built-in"):
        installed_plugins({"linear": "extra_plugins:DUPLICATE"})
        model = registry.get_model("linear")
    assert model.description.startswith("Logistic regression or ridge")
    assert registry.models()["linear"] is model


def test_two_plugins_sharing_a_name_are_both_left_out_and_asking_for_it_fails(cli, plugin_site):
    env = plugin_site(
        {"ridge_only": "extra_plugins:REGRESSION_ONLY"}, other={"ridge_only": "extra_plugins:TWIN"}
    )
    both = (
        "entry point 'ridge_only' (extra_plugins:REGRESSION_ONLY) from extra-plugins 0.1 and "
        "entry point 'ridge_only' (extra_plugins:TWIN) from other-plugins 0.1"
    )
    listed = cli("list", "models", "--json", env=env)
    assert listed.code == 0, listed.err
    assert "ridge_only" not in {m["name"] for m in json.loads(listed.out)}
    assert (
        f"RuntimeWarning: Leaving out the model plugins {both}: they share the name "
        f"'ridge_only', so none of them is used. To use one, uninstall the others or rename "
        f"it: {RENAME}"
    ) in " ".join(listed.err.split())

    asked = cli("run", "diabetes", "--model", "ridge_only", env=env)
    assert asked.code == 1
    assert (
        f"Error: The model name 'ridge_only' is claimed by 2 third-party plugins, {both}, so "
        "none of them is used. Uninstall all but one of their distributions, or rename the "
        "plugins (the name in each and its entry point)."
    ) in " ".join(asked.err.split())
    assert "Traceback" not in asked.err


def test_two_built_ins_sharing_a_name_are_our_bug_and_raise():
    from harness import registry
    from harness.registry import _Registry

    found = _Registry("model")
    linear = registry.get_model("linear")
    found.add(linear, "built-in module harness.models.linear")
    with pytest.raises(PluginError) as info:
        found.add(linear, "built-in module harness.models.linear_copy")
    assert str(info.value) == (
        "Duplicate model name 'linear': defined by built-in module harness.models.linear and by "
        "built-in module harness.models.linear_copy. Rename one of them."
    )
    assert info.value.exit_code == 1


def test_registry_refresh_sees_a_newly_installed_plugin(installed_plugins):
    from harness import registry

    assert "ridge_only" not in registry.models()
    installed_plugins({"ridge_only": "extra_plugins:REGRESSION_ONLY"})
    assert registry.get_model("ridge_only").problem_types == ("regression",)


def test_a_plugin_written_for_the_old_modules_still_imports_them_with_a_warning():
    import importlib
    import sys

    import pytest

    from harness.contracts import Model, Task
    from harness.contracts.preprocessing import make_preprocessor
    from harness.contracts.testing import check_model

    for old, name, new in (
        ("harness.model", "Model", Model),
        ("harness.task", "Task", Task),
        ("harness.preprocess", "make_preprocessor", make_preprocessor),
        ("harness.testing", "check_model", check_model),
    ):
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=f"{old} is deprecated: import from harness"):
            module = importlib.import_module(old)
        assert getattr(module, name) is new


def test_a_plugin_task_without_declared_sizes_lists_with_a_dash_and_a_footnote(cli, plugin_site):
    env = plugin_site({}, tasks={"sizeless": "extra_plugins:SIZELESS"})
    table = cli("list", "tasks", env=env)
    assert table.code == 0, table.err
    (row,) = [line for line in table.out.splitlines() if "sizeless" in line]
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells[:7] == ["sizeless", "tabular", "regression", "-", "-", "rmse", "5"]
    assert table.out.rstrip().splitlines()[-1] == (
        "- : the task does not declare its rows and features; `harness show TASK` loads its data "
        "and measures them."
    )

    listed = {t["name"]: t for t in json.loads(cli("list", "tasks", "--json", env=env).out)}
    assert listed["sizeless"]["rows"] is None and listed["sizeless"]["features"] is None
    assert listed["diabetes"]["rows"] == 442  # declared sizes are unchanged

    shown = cli("show", "sizeless", env=env)
    assert shown.code == 0, shown.err
    assert "Size:          442 labeled rows, 10 features" in shown.out  # what the note promises


def test_the_footnote_is_absent_when_every_task_declares_its_size(cli):
    table = cli("list", "tasks")
    assert table.code == 0, table.err
    assert "does not declare" not in table.out
