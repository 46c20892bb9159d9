"""Reading CSV and Parquet files into the DuckDB workspace, row numbers kept.

CSV: delimiter detected (``;`` in the UCI files), a UTF-8 BOM dropped, quoted fields, empty
strings read as null, other encodings through the ``encoding`` setting.
"""

from __future__ import annotations

import codecs
import fnmatch
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leadsla.errors import Issue

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
DUCKDB_NATIVE_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf16", "latin-1", "latin1"}


@dataclass(frozen=True)
class RawFile:
    """One input file loaded as relation ``name`` with a ``_row`` column (header = row 1)."""

    name: str
    path: Path
    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: int


def sql_str(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def ident(s: str) -> str:
    """A quoted SQL identifier."""
    return '"' + s.replace('"', '""') + '"'


def find_file(folder: Path, patterns: list[str]) -> Path | None:
    """The first file in ``folder`` matching one of ``patterns`` (globs, case-insensitive)."""
    entries = (
        {p.name.lower(): p for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}
    )
    for pattern in patterns:
        hits = sorted(p for name, p in entries.items() if fnmatch.fnmatch(name, pattern.lower()))
        if hits:
            return hits[0]
    return None


def first_undecodable(path: Path, encoding: str) -> tuple[int, int, bytes] | None:
    """(line, column, bytes) of the first byte sequence ``encoding`` cannot decode, else None."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    line = 1
    with path.open("rb") as f:
        for raw in f:
            try:
                decoder.decode(raw)
            except UnicodeDecodeError as e:
                return line, e.start + 1, raw[e.start : e.end + 3]
            line += 1
    return None


def transcode_to_utf8(path: Path, encoding: str) -> Path:
    """Copy a file in another encoding to a temporary UTF-8 file (streamed)."""
    out = tempfile.NamedTemporaryFile(  # noqa: SIM115 - the workspace removes it on close
        prefix="leadsla-", suffix=path.suffix, delete=False
    )
    with path.open("r", encoding=encoding, newline="") as src, out:
        while chunk := src.read(1 << 20):
            out.write(chunk.encode("utf-8"))
    return Path(out.name)


def load_csv(
    con: Any,
    name: str,
    path: Path,
    /,
    *,
    encoding: str = "utf-8",
    delimiter: str | None = None,
    temp_files: list[Path] | None = None,
) -> RawFile | Issue:
    """Load a CSV file as table ``name`` (all text) with ``_row``; an Issue when it cannot."""
    label = path.name
    if path.stat().st_size == 0:
        return _empty(label)
    enc = encoding.lower()
    bad = first_undecodable(path, enc) if enc.replace("-", "") in ("utf8", "utf8sig") else None
    if bad is not None:
        line, col, raw = bad
        return Issue(
            "ERROR",
            "encoding",
            f"bytes {raw!r} at character {col} cannot be read as {encoding}.",
            file=label,
            row=line,
            fix='The file is in another encoding: set encoding = "latin-1" (or "cp1252", '
            '"utf-16", …) in leadsla.toml, or pass --encoding latin-1.',
        )
    source = path
    if enc not in DUCKDB_NATIVE_ENCODINGS:
        try:
            source = transcode_to_utf8(path, encoding)
        except LookupError:
            return Issue(
                "ERROR",
                "encoding",
                f'unknown encoding "{encoding}".',
                file=label,
                fix='Use a Python codec name such as "utf-8", "latin-1" or "cp1252".',
            )
        except UnicodeDecodeError as e:
            return Issue(
                "ERROR",
                "encoding",
                f"cannot be read as {encoding} ({e.reason}).",
                file=label,
                fix="Set encoding to the file's real encoding.",
            )
        if temp_files is not None:
            temp_files.append(source)
        enc = "utf-8"
    opts = ["header = true", "all_varchar = true", "auto_detect = true", "null_padding = true"]
    # RFC 4180 quoting, always: with null_padding the sniffer may pick ' as the quote when
    # values hold apostrophes, and then splits "1,234.50" into three columns
    opts += ["quote = '\"'", "escape = '\"'"]
    opts.append(f"encoding = {sql_str('latin-1' if enc in ('latin-1', 'latin1') else enc)}")
    if delimiter:
        opts.append(f"delim = {sql_str(delimiter)}")
    try:
        con.raw_sql(
            f"CREATE OR REPLACE TEMP TABLE {ident('_src_' + name)} AS "
            f"SELECT * FROM read_csv({sql_str(str(source))}, {', '.join(opts)})"
        )
    except Exception as e:  # DuckDB raises several types; each is a user-facing read error
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        if "empty" in text.lower() or "no columns" in text.lower():
            return _empty(label)
        return Issue(
            "ERROR",
            "csv",
            f"cannot be read as CSV: {text}",
            file=label,
            fix="Check the delimiter (set delimiter in leadsla.toml) and the quoting.",
        )
    return _describe(con, name, path, row_offset=2)


def load_parquet(con: Any, name: str, path: Path, /) -> RawFile | Issue:
    """Load a Parquet file as view ``name`` with ``_row`` (first row = 1)."""
    if path.stat().st_size == 0:
        return _empty(path.name)
    try:
        con.raw_sql(
            f"CREATE OR REPLACE TEMP VIEW {ident('_src_' + name)} AS SELECT * EXCLUDE "
            f"(file_row_number), file_row_number AS _rowid FROM "
            f"read_parquet({sql_str(str(path))}, file_row_number = true)"
        )
    except Exception as e:  # a user-facing read error
        return Issue(
            "ERROR",
            "parquet",
            f"cannot be read as Parquet: {str(e).splitlines()[0]}",
            file=path.name,
            fix="Re-export the file, or export it as CSV.",
        )
    return _describe(con, name, path, row_offset=1)


def _describe(con: Any, name: str, path: Path, *, row_offset: int) -> RawFile | Issue:
    src = ident("_src_" + name)
    row = "* EXCLUDE (_rowid), _rowid + 1" if row_offset == 1 else "*, rowid + 2"
    view = ident("raw_" + name)
    con.raw_sql(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {row} AS _row FROM {src}")
    described = con.raw_sql(f"DESCRIBE {view}").fetchall()
    cols = tuple(r[0] for r in described if r[0] != "_row")
    types = tuple(r[1] for r in described if r[0] != "_row")
    rows = con.raw_sql(f"SELECT count(*) FROM {view}").fetchone()[0]
    if rows == 0:
        return _empty(path.name)
    return RawFile(name, path, cols, types, int(rows))


def _empty(label: str) -> Issue:
    return Issue(
        "ERROR",
        "empty-file",
        "the file is empty (no data rows).",
        file=label,
        fix="Export the data again; a CRM export holds a header row and one row per record.",
    )


def load_file(con: Any, name: str, path: Path, /, **csv_options: Any) -> RawFile | Issue:
    """Load a CSV or Parquet file by its suffix."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return load_parquet(con, name, path)
    return load_csv(con, name, path, **csv_options)
