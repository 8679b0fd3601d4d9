"""Leakage-safe preprocessing for a model's `build`, and the choices its search space can offer.

`make_preprocessor(feature_kinds, style, ...)` is fitted inside each training fold with the
model; `preprocessing_space` and `target_transform_space` add the scaler, encoder and log-target
choices to a search space, `with_target_transform` applies the last one. See docs/MODELS.md.
"""

from __future__ import annotations

from harness.protocol.choices import (
    DEFAULT_PREPROCESSING,
    ENCODERS,
    SCALERS,
    TARGET_TRANSFORMS,
    preprocessing_space,
    target_transform_space,
    with_target_transform,
)
from harness.protocol.preprocess import STYLES, Preprocessor, columns_of, make_preprocessor

__all__ = [
    "DEFAULT_PREPROCESSING",
    "ENCODERS",
    "SCALERS",
    "STYLES",
    "TARGET_TRANSFORMS",
    "Preprocessor",
    "columns_of",
    "make_preprocessor",
    "preprocessing_space",
    "target_transform_space",
    "with_target_transform",
]
