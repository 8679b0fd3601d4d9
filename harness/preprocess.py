"""Deprecated alias of `harness.contracts.preprocessing`, where the plugin API lives now.

Plugins written for harness 0.1 import make_preprocessor from here; they keep working, with a
DeprecationWarning that names the new import (docs/PLUGINS.md). It goes in a later release.
"""

from __future__ import annotations

import warnings

from harness.protocol.preprocess import *  # noqa: F403

warnings.warn(
    "harness.preprocess is deprecated: import from harness.contracts.preprocessing instead "
    "(docs/PLUGINS.md).",
    DeprecationWarning,
    stacklevel=2,
)
