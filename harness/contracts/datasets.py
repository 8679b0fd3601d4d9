"""Building a task's `Dataset`: from R and scikit-learn packages, and image columns.

`frame_dataset` turns a data frame into a `Dataset` (drops rows without a target, infers numeric
and categorical kinds, takes `drop=` and `categorical=`); `r_dataset` and `sklearn_classes` read
the packaged data; `image_frame`, `image_column` and `stack` make and read the one uint8 image
column of an image task.
"""

from __future__ import annotations

from harness.data.images import image_column, image_frame, stack
from harness.data.packages import date_parts, frame_dataset, r_dataset, sklearn_classes

__all__ = [
    "date_parts",
    "frame_dataset",
    "image_column",
    "image_frame",
    "r_dataset",
    "sklearn_classes",
    "stack",
]
