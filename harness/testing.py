"""Deprecated alias of `harness.contracts.testing`, where the plugin API lives now.

Plugins written for harness 0.1 import the contract checks from here; they keep working, with a
DeprecationWarning that names the new import (docs/PLUGINS.md). It goes in a later release.
"""

from __future__ import annotations

import warnings

from harness.contracts.testing import *  # noqa: F403

warnings.warn(
    "harness.testing is deprecated: import from harness.contracts.testing instead "
    "(docs/PLUGINS.md).",
    DeprecationWarning,
    stacklevel=2,
)
