"""The large task runs end to end on a small machine (slow: about 2 minutes on 2 cores)."""

from __future__ import annotations

import resource

import pytest


@pytest.mark.slow
def test_harness_run_flights_with_the_linear_model_completes_within_memory(cli):
    result = cli("run", "flights", "--model", "linear", "--trials", "1")
    assert result.code == 0, result.err
    assert "261877 training rows in 5 folds" in result.err
    assert "65469 holdout rows" in result.err
    assert "linear" in result.out and "ok" in result.out
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_kib < 2 * 1024 * 1024, f"peak memory {peak_kib / 1024:.0f} MiB"
