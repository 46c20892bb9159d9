"""SQL that turns the text stage into typed canonical columns (DuckDB dialect).

Timestamps with an offset (``…+01:00``, ``…Z``) are absolute; without one they are wall-clock
time in the workspace (or mapping) time zone, expanded through the zone's rules, never a
fixed offset; a date without a time (``2026-10-14``) is midnight in that zone. Numbers may
carry currency signs and thousands separators.
"""

from __future__ import annotations

from leadsla.io.files import ident, sql_str
from leadsla.io.mapping import ColumnRule
from leadsla.schema import Column

# An offset after a time of day (or a trailing Z); the "-14" ending an ISO date is no offset.
OFFSET_RE = r"(\d:\d\d(:\d\d(\.\d+)?)?\s*[+-]\d\d(:?\d\d)?|[Zz])$"


def typed_expr(col: Column, src_type: str, rule: ColumnRule | None, tz: str) -> str:
    """The typed value of text-stage column ``col`` whose DuckDB type is ``src_type``."""
    c = ident(col.name)
    t = src_type.upper()
    if col.kind == "string":
        e = f"NULLIF(trim(CAST({c} AS VARCHAR)), '')"
        if rule is not None and rule.default is not None:
            e = f"COALESCE({e}, {sql_str(rule.default)})"
        return e
    if col.kind == "timestamp":
        if t == "TIMESTAMP WITH TIME ZONE":
            return c
        if t.startswith("TIMESTAMP"):
            return f"timezone({sql_str(tz)}, CAST({c} AS TIMESTAMP))"
        if t == "DATE":
            return f"timezone({sql_str(tz)}, CAST({c} AS TIMESTAMP))"
        v = f"NULLIF(trim(CAST({c} AS VARCHAR)), '')"
        naive = f"TRY_CAST({v} AS TIMESTAMP)"
        if rule is not None and rule.formats:
            fmts = "[" + ", ".join(sql_str(f) for f in rule.formats) + "]"
            naive = f"COALESCE(try_strptime({v}, {fmts}), {naive})"
        return (
            f"CASE WHEN {v} IS NULL THEN NULL "
            f"WHEN regexp_matches({v}, {sql_str(OFFSET_RE)}) THEN TRY_CAST({v} AS TIMESTAMPTZ) "
            f"ELSE timezone({sql_str(tz)}, {naive}) END"
        )
    # numbers
    if t in (
        "DOUBLE",
        "FLOAT",
        "REAL",
        "BIGINT",
        "INTEGER",
        "HUGEINT",
        "SMALLINT",
        "TINYINT",
        "UBIGINT",
        "UINTEGER",
    ) or t.startswith("DECIMAL"):
        e = f"CAST({c} AS DOUBLE)"
    else:
        v = f"NULLIF(trim(CAST({c} AS VARCHAR)), '')"
        dec = rule.decimal if rule is not None else "."
        if dec == ",":
            cleaned = f"replace(regexp_replace({v}, '[^0-9,eE+-]', '', 'g'), ',', '.')"
        else:
            cleaned = f"regexp_replace({v}, '[^0-9.eE+-]', '', 'g')"
        e = f"TRY_CAST(NULLIF({cleaned}, '') AS DOUBLE)"
    if rule is not None and rule.positive_only:
        e = f"CASE WHEN {e} > 0 THEN {e} END"
    if col.kind == "integer":
        e = f"CAST(round({e}) AS BIGINT)"
    return e


def raw_expr(col: Column, src_type: str, rule: ColumnRule | None) -> str:
    """The text of the original value, for messages (null where a rule drops it on purpose)."""
    text = f"NULLIF(trim(CAST({ident(col.name)} AS VARCHAR)), '')"
    if rule is not None and rule.positive_only:
        unrestricted = typed_expr(col, src_type, ColumnRule(decimal=rule.decimal), "UTC")
        return f"CASE WHEN {unrestricted} <= 0 THEN NULL ELSE {text} END"
    return text
