"""Reading CSV, spreadsheet and Parquet files into the DuckDB workspace, row numbers kept.

CSV: delimiter detected (``;`` in the UCI files), a UTF-8 BOM dropped, quoted fields, empty
strings read as null, other encodings through the ``encoding`` setting.
Spreadsheets (.xlsx, .xlsm, .xls, .xlsb, .ods) through python-calamine: the sheet named by the
``sheet`` setting, else the first with data; rows numbered as the spreadsheet shows them.
Both: the header row is found below title lines (said in a warning); all-empty rows and
all-empty unnamed columns are skipped and counted; two columns with one header are an error.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import fnmatch
import io
import math
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadsla.errors import Issue

if TYPE_CHECKING:
    import pyarrow as pa

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
SCAN_LINES = 50  # lines looked at to find the header row
DUCKDB_NATIVE_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf16", "latin-1", "latin1"}


@dataclass(frozen=True)
class RawFile:
    """One input file loaded as relation ``name`` with a ``_row`` column (header = row 1)."""

    name: str
    path: Path
    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: int
    empty_rows: int = 0  # all-empty rows skipped (not in ``rows``)
    notes: tuple[Issue, ...] = ()  # warnings about the file's shape (title lines, …)


def sql_str(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


def ident(s: str) -> str:
    """A quoted SQL identifier."""
    return '"' + s.replace('"', '""') + '"'


def find_file(folder: Path, patterns: list[str]) -> Path | None:
    """The first file in ``folder`` matching one of ``patterns`` (globs, case-insensitive).

    A ``.csv`` pattern also finds the same name as a spreadsheet (``contacts.xlsx``), after
    every pattern as written found nothing.
    """
    entries = (
        {p.name.lower(): p for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}
    )
    spreadsheets = [
        pattern[: -len(".csv")] + suffix
        for pattern in patterns
        if pattern.lower().endswith(".csv")
        for suffix in SPREADSHEET_SUFFIXES
    ]
    for pattern in [*patterns, *spreadsheets]:
        hits = sorted(
            p
            for name, p in entries.items()
            if fnmatch.fnmatch(name, pattern.lower()) and not name.startswith("~$")
        )
        if hits:
            return hits[0]
    return None


def column_letter(i: int) -> str:
    """The spreadsheet letter of 0-based column ``i``: A, B, …, Z, AA."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


@dataclass(frozen=True)
class Shape:
    """Where a table starts in a grid of cells: the header row (0-based) and its names."""

    header_index: int
    names: tuple[str, ...]


def find_header(rows: list[list[str]]) -> Shape | None:
    """The header among the first rows: the first row filled like the rows under it.

    A title line ("Leads export – March 2025") or a blank line above the table has fewer
    filled cells than the table's rows; the header is the first row with at least half as
    many filled cells as the widest of the rows scanned (and two or more).
    """
    filled = [sum(1 for c in r if c.strip()) for r in rows]
    if not filled or max(filled) == 0:
        return None
    widest = max(filled)
    need = max(2, math.ceil(widest / 2)) if widest >= 2 else 1
    for i, n in enumerate(filled):
        if n >= need:
            return Shape(i, tuple(c.strip() for c in rows[i]))
    return None


def duplicate_headers(names: tuple[str, ...], label: str) -> list[Issue]:
    """Two columns with one header (case-insensitive): an error naming both."""
    seen: dict[str, int] = {}
    issues = []
    for i, name in enumerate(names):
        key = name.strip().lower()
        if not key:
            continue
        if key in seen:
            j = seen[key]
            issues.append(
                Issue(
                    "ERROR",
                    "duplicate-header",
                    f'two columns are named "{name}": column {column_letter(j)} and column '
                    f"{column_letter(i)}; which one to read is not clear.",
                    file=label,
                    row=None,
                    column=name,
                    value=name,
                    fix="Rename one of them in the header row (or remove the copy) and "
                    "export again.",
                )
            )
        else:
            seen[key] = i
    return issues


def shape_notes(label: str, shape: Shape, header_row: int, empty_cols: list[str]) -> list[Issue]:
    """Warnings saying what was skipped: title lines above the header, unnamed empty columns."""
    notes = []
    if shape.header_index > 0:
        notes.append(
            Issue(
                "WARNING",
                "header-below-title",
                f"the header is row {header_row:,}; the {shape.header_index} line(s) above it "
                "(a title or notes) are skipped.",
                file=label,
                row=header_row,
                fix="Nothing to do if that is the header; otherwise remove the lines above it.",
            )
        )
    if empty_cols:
        notes.append(
            Issue(
                "WARNING",
                "empty-columns",
                f"{len(empty_cols)} empty column(s) without a header are skipped "
                f"({', '.join(empty_cols[:8])}{' …' if len(empty_cols) > 8 else ''}).",
                file=label,
                count=1,
            )
        )
    return notes


def _scan_csv(path: Path, encoding: str, delimiter: str | None) -> tuple[str, list[list[str]]]:
    """(delimiter, the first rows) of a CSV file, read with Python's csv module."""
    with path.open("r", encoding=encoding, errors="replace", newline="") as f:
        head = f.read(1 << 16)
    head = head.removeprefix("\ufeff")
    lines = head.splitlines(keepends=True)[:SCAN_LINES]
    text = "".join(lines[:-1] if len(lines) > 1 and not head.endswith("\n") else lines)
    candidates = [delimiter] if delimiter else [",", ";", "\t", "|"]
    best: tuple[int, str, list[list[str]]] | None = None
    for d in candidates:
        rows = list(csv.reader(io.StringIO(text), delimiter=d))
        widths = Counter(len(r) for r in rows if len(r) > 1)
        score = max((w * n for w, n in widths.items()), default=0)
        if best is None or score > best[0]:
            best = (score, d, rows)
    assert best is not None
    return best[1], best[2]


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
    scan_encs = {"latin-1": "latin-1", "latin1": "latin-1", "utf-16": "utf-16", "utf16": "utf-16"}
    scan_enc = scan_encs.get(enc, "utf-8")
    delim, head_rows = _scan_csv(source, scan_enc, delimiter)
    shape = find_header(head_rows)
    skip = shape.header_index if shape is not None else 0
    dup = duplicate_headers(shape.names, label) if shape is not None else []
    if dup:
        return dup[0]
    opts = ["header = true", "all_varchar = true", "auto_detect = true", "null_padding = true"]
    if skip:
        opts.append(f"skip = {skip}")
        delimiter = delimiter or delim
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
    return _describe(con, name, path, row_offset=2 + skip, shape=shape)


def load_parquet(con: Any, name: str, path: Path, /, *, keep: bool = False) -> RawFile | Issue:
    """Load a Parquet file as view ``name`` with ``_row`` (first row = 1); with ``keep`` the
    views are kept in the database (a stage cache's views over the file), else TEMP."""
    if path.stat().st_size == 0:
        return _empty(path.name)
    temp = "" if keep else "TEMP "
    try:
        con.raw_sql(
            f"CREATE OR REPLACE {temp}VIEW {ident('_src_' + name)} AS SELECT * EXCLUDE "
            f"(file_row_number), file_row_number AS _rowid FROM "
            f"read_parquet({sql_str(str(path.resolve()))}, file_row_number = true)"
        )
    except Exception as e:  # a user-facing read error
        return Issue(
            "ERROR",
            "parquet",
            f"cannot be read as Parquet: {str(e).splitlines()[0]}",
            file=path.name,
            fix="Re-export the file, or export it as CSV.",
        )
    return _describe(con, name, path, row_offset=1, keep=keep)


def _parquet_filled(con: Any, path: Path, types: dict[str, str]) -> int | None:
    """The rows of a Parquet file when its metadata prove none is empty (a column of another
    type than text without a null in any row group's statistics); None when they cannot."""
    where = sql_str(str(path.resolve()))
    try:
        stats = con.raw_sql(
            "SELECT path_in_schema, bool_and(stats_null_count IS NOT NULL), "
            f"sum(stats_null_count) FROM parquet_metadata({where}) GROUP BY 1"
        ).fetchall()
        n = con.raw_sql(f"SELECT sum(num_rows) FROM parquet_file_metadata({where})").fetchone()[0]
    except Exception:  # metadata the reader does not give: count the rows instead
        return None
    for col, complete, nulls in stats:
        kind = types.get(col)
        if kind is not None and kind != "VARCHAR" and complete and int(nulls or 0) == 0:
            return int(n or 0)
    return None


def _describe(
    con: Any,
    name: str,
    path: Path,
    *,
    row_offset: int,
    shape: Shape | None = None,
    keep: bool = False,
) -> RawFile | Issue:
    """The view ``raw_NAME`` of a loaded file: all-empty rows and unnamed empty columns left
    out (and counted), ``_row`` the row as numbered in the file. A Parquet file whose metadata
    prove every row filled is not read for the counts."""
    src = ident("_src_" + name)
    if row_offset == 1:
        row = "* EXCLUDE (_rowid), _rowid + 1"
    elif row_offset == 0:
        row = "*, _row"
    else:
        row = f"*, rowid + {row_offset}"
    described = con.raw_sql(f"DESCRIBE {src}").fetchall()
    all_cols = [r[0] for r in described if r[0] not in ("_rowid", "_row")]
    all_types = {r[0]: r[1] for r in described}

    # a row is empty when every cell is: text empty or blank, any other type null (a typed
    # Parquet column is not cast to text for it: that cast was most of a cold read)
    def cell(c: str) -> str:
        if all_types.get(c, "VARCHAR") == "VARCHAR":
            return f"COALESCE(trim({ident(c)}) <> '', false)"
        return f"({ident(c)} IS NOT NULL)"

    filled = "(" + (" OR ".join(cell(c) for c in all_cols) or "false") + ")"
    # only the unnamed columns (a spreadsheet's trailing empty columns) need their own count
    unnamed = [] if shape is None else [i for i, n in enumerate(shape.names) if not n]
    counted = [c for i, c in enumerate(all_cols) if i in unnamed]
    known = _parquet_filled(con, path, all_types) if row_offset == 1 and not counted else None
    if known is not None:
        counts: tuple[Any, ...] = (known, 0)
    else:
        counts = con.raw_sql(
            f"SELECT count(*) FILTER (WHERE {filled}), count(*) FILTER (WHERE NOT {filled})"
            + "".join(f", count(*) FILTER (WHERE {cell(c)})" for c in counted)
            + f" FROM {src}"
        ).fetchone()
    rows, empty_rows = int(counts[0]), int(counts[1])
    empty_cols = [c for c, n in zip(counted, counts[2:], strict=True) if int(n) == 0]
    kept_cols = [c for c in all_cols if c not in empty_cols]
    view = ident("raw_" + name)
    if empty_cols:
        row = row.replace("*", "* EXCLUDE (" + ", ".join(ident(c) for c in empty_cols) + ")", 1)
    # no empty row: no filter for every later read to evaluate
    where = f" WHERE {filled}" if empty_rows else ""
    temp = "" if keep else "TEMP "
    con.raw_sql(f"CREATE OR REPLACE {temp}VIEW {view} AS SELECT {row} AS _row FROM {src}{where}")
    if rows == 0:
        return _empty(path.name)
    notes: list[Issue] = []
    if shape is not None:
        header_row = row_offset - 1 if row_offset > 1 else shape.header_index + 1
        letters = [column_letter(all_cols.index(c)) for c in empty_cols]
        notes = shape_notes(path.name, shape, header_row, letters)
    return RawFile(
        name,
        path,
        tuple(kept_cols),
        tuple(all_types[c] for c in kept_cols),
        rows,
        empty_rows,
        tuple(notes),
    )


def _empty(label: str) -> Issue:
    return Issue(
        "ERROR",
        "empty-file",
        "the file is empty (no data rows).",
        file=label,
        fix="Export the data again; a CRM export holds a header row and one row per record.",
    )


def _cell_text(v: Any) -> str | None:
    """A spreadsheet cell as text, the way the text stage reads it without doubt.

    Dates ISO (``2025-01-30 16:01``), whole numbers without ".0" (ids stay ids), other numbers
    with a decimal point and never exactly three decimals (``123.4560``), so that no number
    cell can look like "1.234" with a thousands separator.
    """
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        text = repr(v)
        if "e" not in text and len(text.split(".")[1]) == 3:
            text += "0"
        return text
    if isinstance(v, dt.datetime):
        if v.second == 0 and v.microsecond == 0:
            return v.strftime("%Y-%m-%d %H:%M")
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    return str(v)


def load_spreadsheet(
    con: Any, name: str, path: Path, /, *, sheet: str | None = None
) -> RawFile | Issue:
    """Load one sheet of an .xlsx/.xls/.ods file as table ``name`` with ``_row``."""
    import python_calamine as pc

    label = path.name
    if path.stat().st_size == 0:
        return _empty(label)
    try:
        wb = pc.CalamineWorkbook.from_path(str(path))
    except Exception as e:  # calamine raises its own and zip/XML errors: a user-facing error
        return Issue(
            "ERROR",
            "spreadsheet",
            f"cannot be read as a spreadsheet: {str(e).splitlines()[0] if str(e) else e}",
            file=label,
            fix="Open it and save it again as .xlsx, or export the data as CSV.",
        )
    grid: list[list[Any]] = []
    if sheet is not None:
        by_name = {n.lower(): n for n in wb.sheet_names}
        if sheet.lower() not in by_name:
            return Issue(
                "ERROR",
                "sheet",
                f'has no sheet "{sheet}" (sheets: {", ".join(wb.sheet_names)}).',
                file=label,
                fix="Set sheet to one of those names (sheet in leadsla.toml, or the file's "
                "sheet in the mapping).",
            )
        grid = wb.get_sheet_by_name(by_name[sheet.lower()]).to_python(skip_empty_area=False)
    else:
        for n in wb.sheet_names:
            rows = wb.get_sheet_by_name(n).to_python(skip_empty_area=False)
            if sum(1 for r in rows if any(c not in (None, "") for c in r)) >= 2:
                grid, sheet = rows, n
                break
    shape = find_header([[_cell_text(c) or "" for c in r] for r in grid[:SCAN_LINES]])
    if shape is None:
        return _empty(label)
    dup = duplicate_headers(shape.names, label)
    if dup:
        return dup[0]
    width = max(len(r) for r in grid)
    body = [list(r) + [None] * (width - len(r)) for r in grid[shape.header_index + 1 :]]
    names = list(shape.names) + [""] * (width - len(shape.names))
    import pyarrow as pa

    cols: dict[str, pa.Array] = {}
    for j, header in enumerate(names):
        key = header or f"column{j}"
        cols[key] = pa.array([_cell_text(r[j]) for r in body], pa.string())
    first = shape.header_index + 2  # the spreadsheet's number of the first data row
    cols["_row"] = pa.array(range(first, first + len(body)), pa.int64())
    table = pa.table(cols)
    tmp = f"_arrow_{name}"
    raw = con.con if hasattr(con, "con") else con
    raw.register(tmp, table)
    try:
        con.raw_sql(
            f"CREATE OR REPLACE TEMP TABLE {ident('_src_' + name)} AS SELECT * FROM {ident(tmp)}"
        )
    finally:
        raw.unregister(tmp)
    got = _describe(con, name, path, row_offset=0, shape=shape)
    if isinstance(got, RawFile) and len(wb.sheet_names) > 1:
        note = Issue(
            "WARNING",
            "sheet-chosen",
            f'read the sheet "{sheet}" of {len(wb.sheet_names)} ({", ".join(wb.sheet_names)}).',
            file=label,
            fix="Set sheet (in leadsla.toml, or the mapping's file) to read another.",
        )
        got = RawFile(
            got.name,
            got.path,
            got.columns,
            got.types,
            got.rows,
            got.empty_rows,
            (note, *got.notes),
        )
    return got


def load_file(
    con: Any,
    name: str,
    path: Path,
    /,
    *,
    sheet: str | None = None,
    keep: bool = False,
    **csv_options: Any,
) -> RawFile | Issue:
    """Load a CSV, spreadsheet or Parquet file by its suffix (``keep``: a Parquet file's views
    kept in the database, see :func:`load_parquet`)."""
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return load_parquet(con, name, path, keep=keep)
    if suffix in SPREADSHEET_SUFFIXES:
        return load_spreadsheet(con, name, path, sheet=sheet)
    return load_csv(con, name, path, **csv_options)
