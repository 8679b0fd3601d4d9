"""The distribution is ml-harness (`harness` on PyPI is another project); the command and
the import stay `harness`, and every message that says what to install names the distribution."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import harness
from harness.errors import StoreError

ROOT = Path(__file__).resolve().parents[2]


def test_the_distribution_is_named_once_and_the_command_stays_harness():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == harness.DISTRIBUTION == "ml-harness"
    assert project["scripts"] == {"harness": "harness.cli:main"}
    readme = (ROOT / "README.md").read_text()
    assert (
        "The distribution is named `ml-harness` (a name free on PyPI, where `harness` is an "
        "unrelated project); the command and the import are `harness`" in " ".join(readme.split())
    )


def test_a_missing_postgresql_driver_says_which_distribution_to_install(monkeypatch):
    from harness.tuning import studies

    def no_driver(url, name=None):
        raise ModuleNotFoundError("No module named 'psycopg2'")

    monkeypatch.setattr(studies, "open_storage", no_driver)
    with pytest.raises(StoreError) as info:
        studies.open_study("postgresql://db.example/optuna", "t.m", "maximize", seed=0, data=None)
    assert str(info.value) == (
        "Cannot open the Optuna storage 'postgresql://db.example/optuna': No module named "
        "'psycopg2'. Install the PostgreSQL driver: pip install 'psycopg[binary]' (or the "
        "'postgres' extra of ml-harness)."
    )
    assert info.value.exit_code == 1
