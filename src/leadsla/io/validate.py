"""Validation: every check over the typed stage tables, as Ibis expressions.

Each check yields at most one Issue with the number of rows it concerns, the first rows as
numbered in the file, the offending value and the fix. Errors stop a run (after all checks
ran); warnings are printed and the run goes on. Rows a check excludes are counted by reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from leadsla.errors import Issue, Severity
from leadsla.schema import STATUSES, TABLES
from leadsla.times import utc_literal

EXAMPLES = 6
TIMESTAMP_FIX = (
    "Dates must be ISO 8601 (2025-02-28T10:00:00+01:00, or 2025-02-28 10:00 read in the "
    "workspace time zone); to read another format give the column's rule formats = "
    '["%d/%m/%Y %H:%M"] in a mapping file.'
)


@dataclass
class Accounting:
    """Rows read, used and excluded by reason, for one canonical table."""

    table: str
    read: int = 0
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def used(self) -> int:
        return self.read - sum(self.excluded.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "read": self.read,
            "used": self.used,
            "excluded": dict(self.excluded),
        }


@dataclass
class Check:
    """One row-level check: a condition over the stage and how to word its issue."""

    severity: Severity
    code: str
    cond: ir.BooleanValue
    message: str
    column: str | None = None
    value: str | None = None
    fix: str = ""
    exclude: str | None = None  # reason, when the rows are excluded rather than kept
    per_value: bool = False  # one issue per offending value, each with its own count


def raw_of(stage: ir.Table, col: str) -> ir.Value:
    """The original text of ``col`` where the stage keeps it, else the typed value."""
    raw = f"{col}__raw"
    return stage[raw] if raw in stage.columns else stage[col]


def rows_of(expr: ir.Table) -> list[dict[str, Any]]:
    """The rows of ``expr``, each a dict. On DuckDB through its own cursor: Ibis's results
    (Arrow or pandas) import pandas, 0.3 s the source's checks can do without."""
    backend = ibis.get_backend(expr)
    if backend.name == "duckdb":
        cur = backend.raw_sql(str(ibis.to_sql(expr, dialect="duckdb")))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return list(expr.to_pyarrow().to_pylist())


def count_rows(t: ir.Table) -> int:
    """How many rows ``t`` has (through :func:`rows_of`)."""
    return int(rows_of(t.aggregate(n=ibis._.count()))[0]["n"])


def count_checks(stage: ir.Table, conds: list[ir.BooleanValue]) -> list[int]:
    """How many rows of ``stage`` meet each condition (null: not), in one query."""
    if not conds:
        return []
    # (a CASE, not a cast: PostgreSQL casts no boolean to bigint; not COUNT … FILTER either,
    # which the grouped counts of attempts use: over the ~20 conditions of one whole-table
    # aggregate it made a cold validate at 1M leads 0.2 s slower, 3 interleaved runs)
    sums = {f"c{i}": ibis.ifelse(c.fill_null(False), 1, 0).sum() for i, c in enumerate(conds)}
    row = rows_of(stage.aggregate(**sums))[0]
    return [int(row[f"c{i}"] or 0) for i in range(len(conds))]


def run_checks(
    stage: ir.Table, checks: list[Check], file: str, *, counts: list[int] | None = None
) -> tuple[list[Issue], dict[str, Any]]:
    """Count every check in one query (unless ``counts`` gives each check's count, counted
    beforehand in a query shared with other checks); fetch the first rows of those that hit."""
    if not checks:
        return [], {}
    if counts is None:
        counts = count_checks(stage, [ch.cond for ch in checks])
    issues: list[Issue] = []
    hits: dict[str, Any] = {}
    for ch, n in zip(checks, counts, strict=True):
        if n == 0:
            continue
        cols: dict[str, Any] = {"_row": stage["_row"]}
        if ch.value:
            base = ch.value.removesuffix("__raw")
            cols[ch.value] = (
                raw_of(stage, base).cast("string") if base in stage.columns else stage[ch.value]
            )
        first = stage.filter(ch.cond.fill_null(False)).select(**cols)
        if ch.per_value and ch.value:
            issues += _per_value(first, ch, file)
        else:
            df = first.order_by("_row").limit(EXAMPLES).execute()
            rows = tuple(int(r) for r in df["_row"])
            value = None
            if ch.value:
                v = df[ch.value].iloc[0]
                value = None if v is None or (isinstance(v, float) and v != v) else str(v)
            issues.append(
                Issue(
                    ch.severity,
                    ch.code,
                    ch.message,
                    file=file,
                    row=rows[0] if rows else None,
                    column=ch.column,
                    value=value,
                    fix=ch.fix,
                    count=n,
                    rows=rows,
                )
            )
        if ch.exclude:
            hits[ch.exclude] = hits.get(ch.exclude, 0) + n
    return issues, hits


MAX_VALUES = 10


def _per_value(hits: ir.Table, ch: Check, file: str) -> list[Issue]:
    """One issue per distinct offending value (the first MAX_VALUES by first row), each counted."""
    assert ch.value is not None
    by_value = (
        hits.group_by(ch.value)
        .aggregate(n=ibis._.count(), first=hits._row.min())
        .order_by("first")
        .execute()
    )
    out = []
    shown = by_value.head(MAX_VALUES)
    for value, n in zip(shown[ch.value], shown["n"], strict=True):
        df = hits.filter(hits[ch.value] == value).order_by("_row").limit(EXAMPLES).execute()
        rows = tuple(int(r) for r in df["_row"])
        out.append(
            Issue(
                ch.severity,
                ch.code,
                ch.message,
                file=file,
                row=rows[0],
                column=ch.column,
                value=str(value),
                fix=ch.fix,
                count=int(n),
                rows=rows,
            )
        )
    rest = by_value.iloc[MAX_VALUES:]
    if len(rest):
        first_row = int(rest["first"].min())
        out.append(
            Issue(
                ch.severity,
                ch.code,
                ch.message.replace("{value}", f"{len(rest):,} other values") + " (not listed)",
                file=file,
                row=first_row,
                column=ch.column,
                fix=ch.fix,
                count=int(rest["n"].sum()),
                rows=(first_row,),
            )
        )
    return out


def value_checks(
    stage: ir.Table,
    table: str,
    present: set[str],
    *,
    filled: set[str] | frozenset[str] = frozenset(),
    reported: set[str] | frozenset[str] = frozenset(),
) -> list[Check]:
    """Unparseable values and missing required values, for every column present.

    Columns in ``reported`` already have an error about how their values are written (an
    ambiguous or mixed number or date style); their values are not reported once more each.
    """
    spec = TABLES[table]
    checks: list[Check] = []
    for col in spec.columns:
        if col.name not in present:
            continue
        raw, typed = raw_of(stage, col.name), stage[col.name]
        # text that may fail to parse
        parsed = f"{col.name}__raw" in stage.columns and col.name not in reported
        if col.kind == "timestamp" and parsed:
            checks.append(
                Check(
                    "ERROR",
                    "timestamp",
                    raw.notnull() & typed.isnull(),
                    "{value} is not a date.",
                    col.name,
                    f"{col.name}__raw",
                    TIMESTAMP_FIX,
                    per_value=True,
                )
            )
        elif col.kind in ("float", "integer") and parsed:
            checks.append(
                Check(
                    "ERROR",
                    "number",
                    raw.notnull() & typed.isnull(),
                    "{value} is not a number.",
                    col.name,
                    f"{col.name}__raw",
                    "Numbers must look like 1234.5, 1,234.50 or 1.234,50 (one style per column).",
                    per_value=True,
                )
            )
        if col.required and col.name not in filled:
            checks.append(
                Check(
                    "ERROR",
                    "missing-value",
                    raw.isnull(),
                    f"{col.name} is empty.",
                    col.name,
                    None,
                    f"Every row needs a {col.name}; fill it in or remove the row.",
                )
            )
    return checks


def lead_checks(stage: ir.Table, present: set[str]) -> list[Check]:
    """The lead table's own rules (SPEC.md)."""
    s = stage
    known = ", ".join(STATUSES)
    checks = [
        Check(
            "ERROR",
            "unknown-status",
            s.status.notnull() & ~s.status.isin(list(STATUSES)),
            "{value} is not a known status.",
            "status",
            "status",
            f"Known statuses: {known}. Map yours in a mapping file: "
            '[tables.leads.values.status] "Your Status" = "won".',
            per_value=True,
        ),
        Check(
            "ERROR",
            "closed-without-date",
            s.status.isin(["won", "lost"]) & s.closed_at.isnull() & raw_of(s, "closed_at").isnull(),
            "the lead is {value} but has no closed_at.",
            "closed_at",
            "status",
            "Won and lost leads need the date they closed; fill closed_at, or set status "
            "open if the lead is still being worked.",
        ),
        Check(
            "ERROR",
            "closed-before-created",
            s.closed_at.notnull() & (s.closed_at < s.created_at - ibis.interval(days=1)),
            "closed_at {value} is before created_at.",
            "closed_at",
            "closed_at__raw",
            "A lead cannot close before it exists: check both dates and their time zone.",
        ),
        Check(
            "WARNING",
            "closed-before-created-slight",
            s.closed_at.notnull()
            & (s.closed_at < s.created_at)
            & (s.closed_at >= s.created_at - ibis.interval(days=1)),
            "closed_at {value} is less than a day before created_at (a date without a time, "
            "or a time-zone slip); the lead is kept with a close lag of 0.",
            "closed_at",
            "closed_at__raw",
        ),
        Check(
            "ERROR",
            "negative-revenue",
            s.revenue < 0,
            "revenue {value} is negative.",
            "revenue",
            "revenue__raw",
            "Revenue must be 0 or more; a refund or credit note belongs elsewhere.",
        ),
        Check(
            "WARNING",
            "won-without-revenue",
            (s.status == "won") & s.revenue.isnull(),
            "the lead is won but has no revenue; it counts as a win, not in mean revenue.",
            "revenue",
            None,
            "Fill revenue for won leads (or map the deal amount) so MQL value is right.",
        ),
    ]
    if "attempts" in present:
        checks.append(
            Check(
                "ERROR",
                "negative-attempts",
                s.attempts < 0,
                "attempts {value} is negative.",
                "attempts",
                "attempts__raw",
                "A contact count is 0 or more.",
            )
        )
    return checks


def activity_checks(
    stage: ir.Table,
    leads: ir.Table,
    as_of: datetime,
    *,
    known: ir.BooleanValue | None = None,
    live: ir.BooleanValue | None = None,
) -> list[Check]:
    """Activities: unknown leads and times after the as-of date are excluded and counted.

    ``known`` / ``live`` (the lead exists / is kept) may be given as columns of ``stage``
    joined beforehand, for engines that take no IN subquery inside an aggregate (Spark).
    """
    if known is None:
        # (ids only: a lead without an id would make every NOT IN unknown)
        known = stage.lead_id.isin(leads.filter(leads.lead_id.notnull()).lead_id)
    if live is None:
        live = stage.lead_id.isin(
            leads.filter(leads._exclude.isnull() & leads.lead_id.notnull()).lead_id
        )
    return [
        Check(
            "WARNING",
            "orphan-activity",
            stage.lead_id.notnull() & ~known,
            "activity for lead {value}, which is not in the leads table; it is left out.",
            "lead_id",
            "lead_id",
            "Export the leads and activities together (a merged or deleted record leaves "
            "such rows).",
            exclude="activity for an unknown lead",
        ),
        Check(
            "WARNING",
            "activity-after-as-of",
            live & (stage["at"] > utc_literal(as_of)),
            f"activity at {{value}} is after the data's as-of date {as_of:%Y-%m-%d %H:%M %Z}; "
            "it is left out.",
            "at",
            "at__raw",
            "Check the time zone of the export, or set as_of in leadsla.toml.",
            exclude="activity after the as-of date",
        ),
    ]


def duplicate_issue(stage: ir.Table, key: str, file: str) -> Issue | None:
    """Duplicate values of a key column: every row of each duplicated value is listed."""
    dups = stage.filter(stage[key].notnull()).group_by(key).aggregate(n=ibis._.count())
    dups = dups.filter(dups.n > 1)
    n_ids = count_rows(dups)
    if n_ids == 0:
        return None
    rows_df = (
        stage.semi_join(dups, key)
        .order_by([key, "_row"])
        .select("_row", key)
        .limit(EXAMPLES)
        .execute()
    )
    n_rows = count_rows(stage.semi_join(dups, key))
    value = str(rows_df[key].iloc[0])
    rows = tuple(int(r) for r in rows_df[rows_df[key] == value]["_row"])
    return Issue(
        "ERROR",
        "duplicate-id",
        f"{key} {{value}} appears more than once ({n_ids:,} duplicated ids).",
        file=file,
        row=rows[0],
        column=key,
        value=value,
        fix=f"Each lead must appear once: remove the duplicate rows or, if they are different "
        f"leads, give them different {key}s.",
        count=n_rows,
        rows=rows,
    )


def activity_timing_checks(joined: ir.Table) -> list[Check]:
    """Activities before their lead was created: kept (a dialer or time-zone slip), reported."""
    return [
        Check(
            "WARNING",
            "activity-before-created",
            joined["at"] < joined.lead_created_at,
            "activity at {value} is before its lead was created; it is kept and counts as "
            "made at creation (response time 0).",
            "at",
            "at__raw",
            "Usually a dialer that writes local wall time as UTC: check the export's time zone.",
        )
    ]


GROUPINGS = ("segment", "campaign", "source", "owner")


def leak_issues(
    stage: ir.Table, present: set[str], defaults: dict[str, str | None], file: str
) -> list[Issue]:
    """Grouping columns (nearly) only filled for won leads: a leak of the outcome.

    A column recorded when a deal is won (Olist's business_segment) makes every group of it
    convert and puts the open and lost leads in one "unknown" group. Filled means not empty
    and not the rule's default. A leak: at least 90% of the won leads filled and at most 10%
    of the others (with 5 won and 20 other leads at least).
    """
    cols = [c for c in GROUPINGS if c in present]
    if not cols:
        return []
    won = stage.status == "won"
    # (CASE, not a cast: PostgreSQL casts no boolean to bigint)
    aggs: dict[str, Any] = {
        "won": ibis.ifelse(won, 1, 0).sum(),
        "other": ibis.ifelse(~won, 1, 0).sum(),
    }
    for c in cols:
        filled = stage[c].notnull()
        if defaults.get(c) is not None:
            filled = filled & (stage[c] != defaults[c])
        aggs[f"{c}_won"] = ibis.ifelse(filled & won, 1, 0).sum()
        aggs[f"{c}_other"] = ibis.ifelse(filled & ~won, 1, 0).sum()
    row = rows_of(stage.aggregate(**aggs))[0]
    n_won, n_other = int(row["won"] or 0), int(row["other"] or 0)
    if n_won < 5 or n_other < 20:
        return []
    out = []
    for c in cols:
        fw, fo = int(row[f"{c}_won"] or 0) / n_won, int(row[f"{c}_other"] or 0) / n_other
        if fw >= 0.9 and fo <= 0.1:
            out.append(
                Issue(
                    "WARNING",
                    "grouping-leak",
                    f"{c} is filled for {fw:.0%} of the won leads but {fo:.1%} of the others: it "
                    "is recorded when a lead is won, so grouped by it every group converts. It "
                    "is left out of the default groupings.",
                    file=file,
                    column=c,
                    fix=f"Group by {c} only knowingly (--by {c}); map a column known before "
                    "the outcome instead.",
                )
            )
    return out
