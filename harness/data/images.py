"""How image tasks carry their images through the harness (the image representation contract).

An image task's `Dataset.X` has exactly one column, of feature kind "image", whose cells are NumPy
`uint8` arrays of shape (height, width, channels) with 1 or 3 channels, all the same shape within
a task. Splitting, folds and the worker move rows with `DataFrame.iloc` like any other table;
models turn the column into one array with `stack`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from harness.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

IMAGE_COLUMN = "image"


def image_frame(images: Iterable[np.ndarray], column: str = IMAGE_COLUMN) -> pd.DataFrame:
    """A one-column frame of images (each H x W x C, uint8), checked to share one shape."""
    import pandas as pd

    cells = []
    for image in images:
        array = np.asarray(image)
        if array.ndim == 2:
            array = array[:, :, None]
        cells.append(np.ascontiguousarray(array.astype(np.uint8, copy=False)))
    shapes = {cell.shape for cell in cells}
    if len(shapes) > 1:
        raise DataError(
            f"Images must share one shape; found {len(shapes)}: {sorted(shapes)[:4]}. "
            "Resize them in the loader."
        )
    if shapes and next(iter(shapes))[2] not in (1, 3):
        raise DataError(f"Images must have 1 or 3 channels; found shape {next(iter(shapes))}.")
    series = pd.Series(cells, dtype=object, name=column)
    return series.to_frame()


def image_column(X: pd.DataFrame, feature_kinds: dict | None = None) -> str:
    """The name of the one image column of `X`."""
    if feature_kinds is not None:
        names = [c for c, kind in feature_kinds.items() if kind == "image"]
    else:
        names = list(X.columns)
    if len(names) != 1:
        raise DataError(f"An image task needs exactly one image column; found {names}.")
    return names[0]


def stack(X: pd.DataFrame, column: str | None = None) -> np.ndarray:
    """The images of `X` as one float32 array (rows, height, width, channels) scaled to [0, 1]."""
    name = column or image_column(X)
    cells = X[name].to_numpy()
    if len(cells) == 0:
        return np.zeros((0, 1, 1, 1), dtype=np.float32)
    return np.stack(cells).astype(np.float32) / 255.0


def is_image_column(values: pd.Series) -> bool:
    """Whether a column holds image arrays (its first cell is a NumPy array)."""
    return len(values) > 0 and isinstance(values.iloc[0], np.ndarray)


def hashable(X: pd.DataFrame) -> pd.DataFrame:
    """`X` with every image cell replaced by a digest of its shape and bytes.

    pandas cannot hash or count arrays (`hash_pandas_object`, `nunique`); fingerprints, duplicate
    checks and health checks use this copy instead. Other columns are returned as they are.
    """
    import hashlib

    columns = [c for c in X.columns if X[c].dtype == object and is_image_column(X[c])]
    if not columns:
        return X
    out = X.copy()
    for column in columns:
        out[column] = [
            hashlib.blake2b(
                repr(cell.shape).encode() + np.ascontiguousarray(cell).tobytes(), digest_size=16
            ).hexdigest()
            for cell in X[column]
        ]
    return out


def flatten(X: pd.DataFrame, column: str | None = None) -> np.ndarray:
    """The images of `X` as one float32 row of pixels each (rows, height x width x channels),
    scaled to [0, 1]: the input of classical learners on raw pixels."""
    images = stack(X, column)
    return images.reshape(len(images), -1)


def describe(X: pd.DataFrame, column: str | None = None) -> str:
    """A short description of an image column: `1,797 images, 8x8, 1 channel (grayscale)`."""
    name = column or image_column(X)
    if len(X) == 0:
        return "no images"
    height, width, channels = X[name].iloc[0].shape
    kind = "1 channel (grayscale)" if channels == 1 else f"{channels} channels (RGB)"
    return f"{len(X):,} images, {height}x{width}, {kind}"
