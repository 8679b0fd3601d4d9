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

__all__ = ["cpu_count", "device", "gpu_count", "memory_mb", "parse_memory"]


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


def memory_mb(share: float = 1.0) -> float | None:
    """`share` of the machine's memory in MiB, from /proc/meminfo (None when unknown)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 * share
    except (OSError, ValueError, IndexError):
        return None
    return None


def parse_memory(text: str) -> float:
    """A memory size such as '4G', '512M', '1.5g' or '2048' (MiB) in MiB.

    Raises:
        UsageError: The text is not a size, or not a finite positive one (NaN, inf, 0, -1G).
    """
    import math

    from harness.errors import UsageError

    units = {"k": 1 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0 * 1024}
    value = text.strip().lower().removesuffix("ib").removesuffix("b")
    scale = units.get(value[-1:], None)
    number = value[:-1] if scale is not None else value
    try:
        size = float(number) * (scale or 1.0)
    except ValueError:
        raise UsageError(
            f"--memory-limit must be a size such as 4G, 512M or 2048 (MiB); got {text!r}."
        ) from None
    if not math.isfinite(size):
        raise UsageError(
            f"--memory-limit must be a finite size such as 4G, 512M or 2048 (MiB); got {text!r}."
        )
    if size <= 0:
        raise UsageError(f"--memory-limit must be positive; got {text!r}.")
    return size
