"""How image tasks carry their images through the harness (the image representation contract).

An image task's `Dataset.X` has exactly one column, of feature kind "image", whose cells are NumPy
`uint8` arrays of shape (height, width, channels) with 1 or 3 channels, all the same shape within
a task. Splitting, folds and the worker move rows with `DataFrame.iloc` like any other table;
models turn the column into one array with `stack`.

`read_images` decodes image files with Pillow into that shape (the image-folder loader in
`harness.data.local.image_folders` uses it) and caches the arrays on disk (`cache_dir`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from harness.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CACHE_ENV",
    "CACHE_VERSION",
    "GRAYSCALE_MODES",
    "IMAGE_COLUMN",
    "DecodedImages",
    "cache_dir",
    "describe",
    "flatten",
    "hashable",
    "image_column",
    "image_frame",
    "image_suffixes",
    "is_image_column",
    "read_images",
    "stack",
]

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


# ---------------------------------------------------------------------------------------------
# Reading image files (Pillow), with an on-disk cache of the decoded arrays

CACHE_ENV = "HARNESS_CACHE_DIR"
CACHE_VERSION = 1
GRAYSCALE_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


def image_suffixes() -> frozenset[str]:
    """File suffixes Pillow can read (lower case, with the dot)."""
    from PIL import Image

    return frozenset(s.lower() for s in Image.registered_extensions())


def cache_dir() -> Path:
    """Where decoded images are cached: `$HARNESS_CACHE_DIR`, else `$XDG_CACHE_HOME/harness`,
    else `~/.cache/harness`; arrays go into its `images/` folder."""
    import os

    root = os.environ.get(CACHE_ENV)
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = str(Path(base) / "harness")
    return Path(root).expanduser() / "images"


@dataclass(frozen=True)
class DecodedImages:
    """Image files decoded to one shape.

    Attributes:
        images: uint8 array (n, height, width, channels) of the readable files, in order.
        kept: Index (into the paths given) of each row of `images`.
        corrupt: (file name, reason) of each file Pillow could not decode, in order.
        resized: How many images were resized to the common size.
        converted: How many images changed colour mode (colour to grayscale, grayscale to RGB,
            alpha or palette dropped).
        cached: Whether the arrays came from the cache rather than from decoding.
    """

    images: np.ndarray
    kept: np.ndarray
    corrupt: tuple[tuple[str, str], ...]
    resized: int
    converted: int
    cached: bool = False

    @property
    def shape(self) -> tuple[int, int, int]:
        """(height, width, channels) of every image."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]


def _cache_key(paths: list[Path], size: tuple[int, int] | None, channels: int | None) -> str:
    import hashlib
    import json

    entries = []
    for path in paths:
        stat = path.stat()
        entries.append([str(path.resolve()), stat.st_mtime_ns, stat.st_size])
    payload = json.dumps([CACHE_VERSION, size, channels, entries]).encode()
    return hashlib.sha256(payload).hexdigest()[:32]


def _read_cache(file: Path) -> DecodedImages | None:
    import json

    try:
        with np.load(file, allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            return DecodedImages(
                images=stored["images"],
                kept=stored["kept"],
                corrupt=tuple(tuple(item) for item in meta["corrupt"]),
                resized=int(meta["resized"]),
                converted=int(meta["converted"]),
                cached=True,
            )
    except Exception:  # a damaged or foreign cache file is ignored and rewritten
        return None


def _write_cache(file: Path, decoded: DecodedImages) -> None:
    import json
    import os

    meta = json.dumps(
        {
            "corrupt": [list(item) for item in decoded.corrupt],
            "resized": decoded.resized,
            "converted": decoded.converted,
        }
    )
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        partial = file.with_name(f"{file.stem}.{os.getpid()}.partial.npz")
        np.savez(partial, images=decoded.images, kept=decoded.kept, meta=np.array(meta))
        os.replace(partial, file)
    except OSError:  # a read-only cache folder only costs the next load a decode
        pass


def _common(values: list) -> Any:
    """The most frequent value (ties: the first seen)."""
    from collections import Counter

    counts = Counter(values)
    best = max(counts.values())
    return next(v for v in values if counts[v] == best)


def read_images(
    paths: list[Path],
    *,
    size: tuple[int, int] | None = None,
    channels: int | None = None,
    cache: bool = True,
) -> DecodedImages:
    """Decode image files with Pillow into one uint8 array of a common shape.

    Files Pillow cannot open or decode are skipped and listed in `corrupt` (the caller warns
    with their count). The common size is `size` (height, width) or else the most frequent
    size; others are resized (bilinear). The channel count is `channels` or else that of the
    majority: grayscale images (1 channel) unless most are colour (3 channels, RGB); alpha and
    palettes are dropped. The result is cached under `cache_dir()` keyed by the files' paths,
    modification times and sizes and the requested shape, so a second load does not decode.

    Raises:
        DataError: No file could be decoded.
    """
    from PIL import Image

    key_file = cache_dir() / f"{_cache_key(paths, size, channels)}.npz" if cache else None
    if key_file is not None and key_file.is_file():
        cached = _read_cache(key_file)
        if cached is not None:
            return cached
    corrupt: list[tuple[str, str]] = []
    headers: list[tuple[int, tuple[int, int], str]] = []
    for index, path in enumerate(paths):
        try:
            with Image.open(path) as image:
                headers.append((index, (image.height, image.width), image.mode))
        except Exception as exc:
            corrupt.append((path.name, f"{type(exc).__name__}: {str(exc)[:80]}"))
    if not headers:
        raise DataError(
            f"None of the {len(paths)} image files could be read; the first failed with: "
            f"{corrupt[0][1] if corrupt else 'no files'}."
        )
    target_size = size or _common([h[1] for h in headers])
    if channels is None:
        gray = sum(mode in GRAYSCALE_MODES for _, _, mode in headers)
        channels = 1 if gray * 2 >= len(headers) else 3
    mode = "L" if channels == 1 else "RGB"
    arrays, kept = [], []
    resized = converted = 0
    for index, shape, original in headers:
        path = paths[index]
        try:
            with Image.open(path) as image:
                image.load()
                if original != mode:
                    image = image.convert(mode)
                    converted += 1
                if shape != target_size:
                    image = image.resize((target_size[1], target_size[0]), Image.BILINEAR)
                    resized += 1
                array = np.asarray(image, dtype=np.uint8)
        except Exception as exc:
            corrupt.append((path.name, f"{type(exc).__name__}: {str(exc)[:80]}"))
            continue
        arrays.append(array[:, :, None] if array.ndim == 2 else array)
        kept.append(index)
    if not arrays:
        raise DataError(
            f"None of the {len(paths)} image files could be decoded; the first failed with: "
            f"{corrupt[0][1]}."
        )
    order = np.argsort(kept, kind="stable")
    corrupt_sorted = sorted(corrupt, key=lambda item: item[0])
    decoded = DecodedImages(
        images=np.stack([arrays[i] for i in order]),
        kept=np.asarray(kept, dtype=np.int64)[order],
        corrupt=tuple(corrupt_sorted),
        resized=resized,
        converted=converted,
    )
    if key_file is not None:
        _write_cache(key_file, decoded)
    return decoded
