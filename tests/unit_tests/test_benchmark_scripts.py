"""The benchmark scripts parse their arguments (they are run by hand, never timed in tests)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = ("overhead", "startup", "scale", "parallel", "peer")


@pytest.mark.parametrize("name", SCRIPTS)
def test_benchmark_script_help_describes_its_options(name, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    script = importlib.import_module(name)
    with pytest.raises(SystemExit) as exit_:
        script.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:") and "--show" in out
