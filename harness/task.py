"""Deprecated alias of `harness.contracts`, where the plugin API lives now.

Plugins written for harness 0.1 import Task and Dataset from here; they keep working, with a
DeprecationWarning that names the new import (docs/PLUGINS.md). It goes in a later release.
"""

from __future__ import annotations

import warnings

from harness.contracts.task import *  # noqa: F403

warnings.warn(
    "harness.task is deprecated: import from harness.contracts instead (docs/PLUGINS.md).",
    DeprecationWarning,
    stacklevel=2,
)
