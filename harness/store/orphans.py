"""Runs a killed harness process left RUNNING: found by host and pid, and closed."""

from __future__ import annotations

import os
from typing import Any

from harness.store import schema

__all__ = ["orphaned", "process_alive"]


def process_alive(pid: int) -> bool:
    """Whether `pid` is a live harness process on this machine (a reused pid running something
    else does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"harness" in cmdline.read()
    except OSError:
        return True  # no /proc (macOS): trust the signal check


def orphaned(run: Any, host: str) -> bool:
    tags = run.data.tags
    pid = tags.get(schema.PID, "")
    return tags.get(schema.HOST) == host and pid.isdigit() and not process_alive(int(pid))
