"""Reading the user's tables: CSV (or TSV) and Parquet files, with errors that say what is wrong."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import DataError, UsageError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["TABLE_SUFFIXES", "read_table", "similar"]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


def similar(name: str, columns: Any) -> str:
    """A hint naming up to three columns whose names are close to `name` ("" if none)."""
    close = difflib.get_close_matches(name, [str(c) for c in columns], n=3, cutoff=0.6)
    return f"; columns with a similar name: {', '.join(map(repr, close))}" if close else ""


def read_table(path: Path, *, encoding: str | None = None, sep: str | None = None) -> pd.DataFrame:
    """Read a CSV (or TSV) or Parquet file, refusing empty, binary and undecodable files.

    CSV files are read as UTF-8 (a byte-order mark is fine); a file that is not UTF-8 but is valid
    Windows-1252 is read as such with a notice printed by the caller.

    Raises:
        DataError: The file is missing, empty, has no rows, is not text, or cannot be decoded.
    """
    import pandas as pd

    if not path.is_file():
        raise DataError(f"No such file: '{path}'.")
    if path.stat().st_size == 0:
        raise DataError(f"The file '{path}' is empty (0 bytes).")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            names = pq.read_schema(path).names
        except Exception:
            names = []  # pandas says below what is wrong with the file
        _refuse_duplicates(path, names)  # pyarrow writes them; pandas cannot read them
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"Cannot read '{path}' as Parquet: {first}") from None
    elif suffix in (".csv", ".tsv", ".txt"):
        frame = _read_csv(path, encoding, sep or ("\t" if suffix == ".tsv" else ","))
    else:
        raise DataError(
            f"Cannot read '{path}': harness reads .csv, .tsv and .parquet files, not "
            f"{suffix or 'files without a suffix'!r}."
        )
    _refuse_duplicates(path, [str(c) for c in frame.columns])
    if frame.empty:
        raise DataError(f"The file '{path}' has a header but no rows.")
    return frame


def _refuse_duplicates(path: Path, names: list[str]) -> None:
    """Refuse a table whose header names a column twice (unnamed columns aside): the features
    would be ambiguous, and pandas would rename the second silently (`x`, `x.1`)."""
    seen: set[str] = set()
    twice: list[str] = []
    for name in names:
        if name.strip() and name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    if twice:
        raise DataError(
            f"The file '{path}' has duplicate column names: {twice}. Give every column its own "
            "name (a repeated column is almost always a mistake of the export)."
        )


def _csv_header(path: Path, encoding: str, sep: str) -> list[str]:
    """The column names of a CSV file's header as written (pandas renames repeated ones)."""
    import pandas as pd

    header = pd.read_csv(
        path, encoding=encoding, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False
    )
    return [str(v) for v in header.iloc[0]] if len(header) else []


def _read_csv(path: Path, encoding: str | None, sep: str) -> pd.DataFrame:
    import pandas as pd

    head = path.read_bytes()[:4096]
    if encoding is None and b"\x00" in head:
        raise DataError(
            f"Cannot read '{path}': it contains NUL bytes, so it is binary or UTF-16 text, not a "
            'UTF-8 CSV. Re-save it as UTF-8, or set encoding = "utf-16" in task.toml.'
        )
    tries = [encoding] if encoding else ["utf-8-sig", "cp1252"]
    error: Exception | None = None
    for codec in tries:
        try:
            frame = pd.read_csv(path, encoding=codec, sep=sep, low_memory=False)
        except UnicodeDecodeError as exc:
            error = exc
            continue
        except LookupError:
            raise UsageError(f"Unknown encoding {encoding!r} (task.toml 'encoding').") from None
        except pd.errors.EmptyDataError:
            raise DataError(f"The file '{path}' is empty (no header, no rows).") from None
        except pd.errors.ParserError as exc:
            raise DataError(f"Cannot parse '{path}' as CSV: {str(exc).strip()}") from None
        frame.attrs["encoding"] = codec
        _refuse_duplicates(path, _csv_header(path, codec, sep))
        return frame
    raise DataError(
        f"Cannot decode '{path}' as {' or '.join(tries)}: {error}. Re-save it as UTF-8, or name "
        'its encoding in task.toml (encoding = "latin-1").'
    )
