"""CPU/GPU detection and thread budgets, without importing TensorFlow or XGBoost.

The device is found from the NVIDIA driver (`/proc/driver/nvidia/gpus` or `nvidia-smi -L`), which
costs milliseconds, so the CLI can decide and log it before any framework starts. Set
`HARNESS_DEVICE=cpu` to force the CPU on a GPU machine (or `cuda` to insist on the GPU).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import cache


@cache
def gpu_count() -> int:
    """Number of NVIDIA GPUs the driver reports (0 when there is no driver)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return 0
    proc = "/proc/driver/nvidia/gpus"
    if os.path.isdir(proc) and os.listdir(proc):
        return len(os.listdir(proc))
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(line.startswith("GPU ") for line in out.stdout.splitlines())


def device() -> str:
    """'cuda' when a GPU is usable (and not disabled by HARNESS_DEVICE=cpu), else 'cpu'."""
    forced = os.environ.get("HARNESS_DEVICE", "").strip().lower()
    if forced in ("cpu", "cuda"):
        return forced
    return "cuda" if gpu_count() > 0 else "cpu"


def cpu_count() -> int:
    """Cores this process may use (respects CPU affinity, e.g. in containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
