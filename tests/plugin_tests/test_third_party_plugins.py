"""Third-party plugins arrive through entry points; broken ones warn, duplicates raise."""

from __future__ import annotations


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


def test_a_plugin_reusing_a_built_in_name_is_refused(cli, plugin_site):
    result = cli("list", "models", env=plugin_site({"linear": "extra_plugins:DUPLICATE"}))
    assert result.code == 1
    assert "Duplicate model name 'linear'" in result.err
    assert "Rename one of them." in result.err


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
