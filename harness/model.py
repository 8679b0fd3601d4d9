"""Deprecated alias of `harness.contracts`, where the plugin API lives now.

Plugins written for harness 0.1 import Model and BuildSpec from here; they keep working, with a
DeprecationWarning that names the new import (docs/PLUGINS.md). It goes in a later release.
"""

from __future__ import annotations

import warnings

from harness.contracts.model import *  # noqa: F403

warnings.warn(
    "harness.model is deprecated: import from harness.contracts instead (docs/PLUGINS.md).",
    DeprecationWarning,
    stacklevel=2,
)
