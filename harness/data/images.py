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
