"""Draft the marketing–sales SLA from the data: ``draft_agreement(ws, quota_eur=…) -> Agreement``.

The agreement runs the four analyses on one workspace, each only when its data exists, and turns
their results into the two sides' commitments:

- **marketing** (:func:`leadsla.analysis.plan.plan_sla`, the same call as ``leadsla plan``):
  MQLs per period and their euro value, per segment. With segment quotas each segment has its
  own plan; with one overall quota the overall MQLs are split across segments at the
  historical mix of mature leads (largest remainders, so the parts add up), each segment's
  MQLs valued at that segment's MQL value (``Σ N_s · v_s ≈ N · v``, since the overall value is
  the mix-weighted mean of the segment values). The influenced share is its own commitment,
  never added to the originated one.
- **sales**: first response within ``H`` business hours (given, else the speed analysis's
  recommendation, else 4 h stated as a default), and per segment ``K`` contact attempts within
  ``D`` calendar days of the MQL. ``K = N*`` of the attempts analysis; when N* is not
  identified (it sits at the edge of the data) ``K`` is the largest supported number of
  attempts (≥ 30 leads at risk) and the document says "at least K". ``D`` = the 90th
  percentile of calendar days from the MQL (``mql_at``; ``created_at`` when missing, where
  ``leadsla check`` starts the clock) to the K-th contact attempt at or after it, among the
  stale leads of the segment (the attempts analysis's population) that reached K attempts,
  rounded up to whole days (at least 1): the window 90% of the leads that did get K attempts
  got them in.
- **provenance**: the data window (first and last ``created_at``) and a SHA-256 of the
  canonical tables (:func:`data_fingerprint`).

A part that cannot be computed (no activities → no attempts or speed; no won revenue → no MQL
value) is listed in ``Agreement.missing`` with why, and the commitment it would have fed uses
the caller's value or a default, each labelled as such.

>>> with connect("crm/") as ws:                                   # doctest: +SKIP
...     agreement = draft_agreement(ws, quota_eur=400_000)
>>> agreement.write("sla/")                                       # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pandas as pd

from leadsla.analysis.attempts import NONE_LABEL, AttemptsResult, MissingValueError
from leadsla.analysis.attempts import from_workspace as attempts_from_workspace
from leadsla.analysis.plan import Period, SlaPlan, plan_sla
from leadsla.analysis.speed import SpeedResult, hours_text, speed_analysis
from leadsla.analysis.value import ValueResult, epoch_seconds, mql_value_table, resolve_as_of
from leadsla.clock import DAYS, BusinessCalendar
from leadsla.errors import ConfigError
from leadsla.output import pct
from leadsla.policy import (
    AttemptRule,
    DataProvenance,
    MarketingPolicy,
    MarketingSegment,
    Policy,
    SalesPolicy,
    write_policy,
)
from leadsla.schema import TABLES

if TYPE_CHECKING:
    from leadsla.io.source import Workspace
    from leadsla.report.html import Section

__all__ = [
    "AGREEMENT_SCHEMA",
    "DEFAULT_ATTEMPTS",
    "DEFAULT_FIRST_RESPONSE_HOURS",
    "DEFAULT_WITHIN_DAYS",
    "HASH_RULE",
    "WINDOW_QUANTILE",
    "Agreement",
    "AgreementFiles",
    "AttemptTarget",
    "DataFingerprint",
    "MarketingCommitment",
    "MarketingTarget",
    "SalesCommitment",
    "attempt_windows",
    "calendar_config",
    "data_fingerprint",
    "draft_agreement",
    "hours_spec",
]

AGREEMENT_SCHEMA = "leadsla.agreement/1"
#: First-response target when it is neither given nor measurable (no activities).
DEFAULT_FIRST_RESPONSE_HOURS = 4.0
#: Contact attempts and their window when neither given nor measurable.
DEFAULT_ATTEMPTS = 6
DEFAULT_WITHIN_DAYS = 14
#: The attempt window D is this quantile of days from the MQL to the K-th attempt.
WINDOW_QUANTILE = 0.9
#: Canonical tables the data hash covers, in this order (those present).
HASH_TABLES = ("leads", "activities", "campaigns", "touches")
HASH_RULE = (
    "SHA-256 over the canonical tables as read (after the mapping and typing, before any "
    "analysis): for each of leads, activities, campaigns, touches that is present, in that "
    "order, a line '# <table>: <columns>' and then its rows as CSV (UTF-8, no header, "
    "Arrow's formatting, timestamps in UTC), the rows sorted by every column in canonical "
    "order. The same data gives the same hash whatever the file format or the export's "
    "column names."
)
FILES = {"markdown": "sla.md", "html": "sla.html", "policy": "sla.toml"}

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- provenance


@dataclass(frozen=True)
class DataFingerprint:
    """What the agreement was measured on: the source, a hash of its tables, the window."""

    source: str
    sha256: str
    rows: dict[str, int]
    first_created_at: datetime | None
    last_created_at: datetime | None
    time_zone: str
    rule: str = HASH_RULE

    @property
    def window(self) -> tuple[date, date] | None:
        """First and last day of ``created_at`` in the workspace time zone."""
        if self.first_created_at is None or self.last_created_at is None:
            return None
        zone = ZoneInfo(self.time_zone)
        return (
            self.first_created_at.astimezone(zone).date(),
            self.last_created_at.astimezone(zone).date(),
        )

    def to_dict(self) -> dict[str, Any]:
        w = self.window
        return {
            "source": self.source,
            "sha256": self.sha256,
            "hash_rule": self.rule,
            "tables": dict(self.rows),
            "leads": self.rows.get("leads", 0),
            "window": {
                "first_created_at": _iso(self.first_created_at),
                "last_created_at": _iso(self.last_created_at),
                "first_day": w[0].isoformat() if w else None,
                "last_day": w[1].isoformat() if w else None,
                "time_zone": self.time_zone,
            },
        }


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _utc(x: Any) -> datetime | None:
    if x is None or pd.isna(x):
        return None
    ts = pd.Timestamp(x)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def _record_batches(ws: Workspace, expr: ir.Table, rows: int) -> Any:
    """A ``pyarrow.RecordBatchReader`` over ``expr``, streamed from the engine.

    On DuckDB the cursor's own reader (ibis 12's ``to_pyarrow_batches`` calls
    ``fetch_record_batch``, which DuckDB 2 renamed ``to_arrow_reader``); elsewhere Ibis's.
    """
    native: Any = getattr(ws.con, "con", None)
    if getattr(ws.con, "name", None) == "duckdb" and hasattr(native, "sql"):
        rel = native.sql(ibis.to_sql(expr, dialect="duckdb"))
        if hasattr(rel, "to_arrow_reader"):
            return rel.to_arrow_reader(rows)
        return rel.record_batch(rows)
    return expr.to_pyarrow_batches(chunk_size=rows)


def data_fingerprint(ws: Workspace, /, *, tables: tuple[str, ...] = HASH_TABLES) -> DataFingerprint:
    """SHA-256 of the workspace's canonical tables (:data:`HASH_RULE`), rows per table, and
    the first and last ``created_at`` of the leads.

    Streams each table from the engine in sorted Arrow batches and hashes their CSV text, so
    memory stays flat and the batch sizes do not matter.
    """
    import pyarrow.csv as pacsv

    digest = hashlib.sha256()
    rows: dict[str, int] = {}
    options = pacsv.WriteOptions(include_header=False)
    for name in tables:
        if not ws.has(name):
            continue
        t = ws.tables[name]
        cols = [c.name for c in TABLES[name].columns if c.name in t.columns]
        ordered = t.select(*cols).order_by(cols)
        digest.update(f"# {name}: {','.join(cols)}\n".encode())
        n = 0
        reader = _record_batches(ws, ordered, 250_000)
        try:
            for batch in reader:
                if batch.num_rows == 0:
                    continue
                buf = io.BytesIO()
                pacsv.write_csv(batch, buf, write_options=options)
                digest.update(buf.getvalue())
                n += batch.num_rows
        finally:
            reader.close()
        rows[name] = n
    leads = ws.leads
    span = leads.aggregate(first=leads.created_at.min(), last=leads.created_at.max()).execute()
    return DataFingerprint(
        source=ws.source,
        sha256=digest.hexdigest(),
        rows=rows,
        first_created_at=_utc(span["first"].iloc[0]),
        last_created_at=_utc(span["last"].iloc[0]),
        time_zone=ws.settings.time_zone,
    )


# --------------------------------------------------------------------------- attempt window


def attempt_windows(
    leads: ir.Table,
    activities: ir.Table,
    counts: Mapping[str, int],
    /,
    *,
    attempt_kinds: tuple[str, ...] | list[str] = ("call", "email"),
    as_of: datetime,
    stale_after_days: float = 90,
    quantile: float = WINDOW_QUANTILE,
) -> dict[str, tuple[int, float | None]]:
    """Per segment: leads that reached their ``counts[segment]``-th attempt, and the
    ``quantile`` of calendar days from the MQL to that attempt.

    The clock starts at ``mql_at`` (``created_at`` when missing); attempts are activities of
    ``attempt_kinds`` at or after the start and before ``closed_at`` (all of them for an open
    lead); leads are the stale ones (created before ``as_of − stale_after_days``), as in the
    attempts analysis. One engine query; segments missing from ``counts`` are left out.
    """
    if not counts:
        return {}
    cutoff = pd.Timestamp(as_of).tz_convert("UTC") - pd.Timedelta(days=stale_after_days)
    lit_cutoff = ibis.literal(cutoff.to_pydatetime(), type="timestamp('UTC')")
    base = leads.filter(leads.created_at < lit_cutoff).select(
        _lid=leads.lead_id,
        _seg=leads.segment.cast("string").fill_null(NONE_LABEL),
        _start=ibis.coalesce(leads.mql_at, leads.created_at),
        _closed=leads.closed_at,
    )
    acts = activities.filter(activities.kind.isin([str(k) for k in attempt_kinds]))
    acts = acts.select(_aid=acts.lead_id, _at=acts["at"])
    j = acts.inner_join(base, acts._aid == base._lid)
    j = j.filter((j._at >= j._start) & (j._closed.isnull() | (j._at < j._closed)))
    ranked = j.mutate(_k=ibis.row_number().over(group_by=j._lid, order_by=j._at) + 1)
    target = ibis.cases(*[(ranked._seg == s, int(k)) for s, k in counts.items()], else_=-1)
    hit = ranked.filter(ranked._k == target)
    # a double before dividing: Spark reads 86400.0 as a DECIMAL and rounds the quotient
    days = (epoch_seconds(hit._at) - epoch_seconds(hit._start)).cast("float64") / 86_400.0
    df = (
        hit.group_by(segment=hit._seg)
        .aggregate(reached=hit._lid.count(), days_q=days.quantile(quantile))
        .execute()
    )
    out: dict[str, tuple[int, float | None]] = {s: (0, None) for s in counts}
    for r in df.to_dict("records"):
        q = r["days_q"]
        out[str(r["segment"])] = (int(r["reached"]), None if pd.isna(q) else float(q))
    return out


def _population_days(attempts: AttemptsResult | None, default: float) -> float:
    """The attempts analysis's population as an age in days (its maturity cutoff, or its
    fixed stale age; 0 when every lead is mature)."""
    if attempts is None:
        return default
    if attempts.stale_after_days is not None:
        return attempts.stale_after_days
    if attempts.cutoff is None:
        return 0.0
    return (attempts.as_of - attempts.cutoff).total_seconds() / 86_400.0


# --------------------------------------------------------------------------- commitments


@dataclass(frozen=True)
class MarketingTarget:
    """One segment's MQLs per period and their euro value."""

    segment: str
    mqls: int
    mql_value_eur: float
    basis: str  # how ``mqls`` was set: its own plan (segment quota) or the historical mix
    mix_share: float | None = None
    quota_eur: float | None = None
    revenue_responsibility_eur: float | None = None

    @property
    def value_eur(self) -> float:
        return self.mqls * self.mql_value_eur

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "mqls": self.mqls,
            "mql_value_eur": self.mql_value_eur,
            "value_eur": self.value_eur,
            "basis": self.basis,
            "mix_share": self.mix_share,
            "quota_eur": self.quota_eur,
            "revenue_responsibility_eur": self.revenue_responsibility_eur,
        }


@dataclass(frozen=True)
class MarketingCommitment:
    """Marketing's side: MQLs per period (overall and per segment), their value, the shares."""

    period: str
    mqls: int
    mql_value_eur: float
    revenue_responsibility_eur: float
    quota_eur: float | None
    originated_share: float | None
    originated_basis: str | None
    influenced_share: float | None
    influenced_basis: str | None
    risk_buffer_mqls: int | None
    split: Literal["segment quotas", "historical mix"]
    segments: list[MarketingTarget]

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "mqls": self.mqls,
            "mql_value_eur": self.mql_value_eur,
            "revenue_responsibility_eur": self.revenue_responsibility_eur,
            "quota_eur": self.quota_eur,
            "originated_share": {"value": self.originated_share, "basis": self.originated_basis},
            "influenced_share": {"value": self.influenced_share, "basis": self.influenced_basis},
            "influenced_rule": "share of won revenue with a marketing touch: a separate "
            "commitment that includes the originated share, never added to it",
            "risk_buffer_mqls": self.risk_buffer_mqls,
            "split": self.split,
            "segments": [s.to_dict() for s in self.segments],
        }


@dataclass(frozen=True)
class AttemptTarget:
    """One segment's attempts rule: ``count`` attempts within ``within_days`` calendar days."""

    segment: str
    count: int
    at_least: bool  # N* was not identified: the count is a lower bound
    count_basis: str
    within_days: int
    days_basis: str
    leads: int | None = None  # leads of the segment in the attempts analysis
    reached: int | None = None  # of which reached ``count`` attempts (with timestamps)
    quantile_days: float | None = None  # the 90th percentile of days to the count-th attempt
    expected_attempts: float | None = None  # A(count): attempts per lead when stopping there

    @property
    def text(self) -> str:
        k = f"at least {self.count}" if self.at_least else f"{self.count}"
        return f"{k} contact attempts within {self.within_days} calendar days"

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "count": self.count,
            "at_least": self.at_least,
            "count_basis": self.count_basis,
            "within_days": self.within_days,
            "day_kind": "calendar",
            "days_basis": self.days_basis,
            "leads": self.leads,
            "reached": self.reached,
            "quantile_days": self.quantile_days,
            "expected_attempts": self.expected_attempts,
        }


@dataclass(frozen=True)
class SalesCommitment:
    """Sales' side: the first response, then the attempts rule per segment (and a default)."""

    first_response_hours: float
    first_response_basis: str
    attempt_kinds: tuple[str, ...]
    segments: list[AttemptTarget]
    default: AttemptTarget
    default_basis: str
    hours_per_period: float | None = None  # sales hours the marketing MQLs need
    attempts_per_hour: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "first_response_hours": self.first_response_hours,
            "first_response_basis": self.first_response_basis,
            "attempt_kinds": list(self.attempt_kinds),
            "day_kind": "calendar",
            "segments": [s.to_dict() for s in self.segments],
            "default": self.default.to_dict(),
            "default_basis": self.default_basis,
            "hours_per_period": self.hours_per_period,
            "attempts_per_hour": self.attempts_per_hour,
        }


@dataclass(frozen=True)
class AgreementFiles:
    """What :meth:`Agreement.write` wrote."""

    markdown: Path
    html: Path
    policy: Path

    def to_dict(self) -> dict[str, str]:
        return {"markdown": str(self.markdown), "html": str(self.html), "policy": str(self.policy)}


@dataclass
class Agreement:
    """The drafted SLA: both sides' commitments, the evidence, and what the data could not give.

    ``to_dict()`` embeds the exact ``to_dict()`` of the value, plan, attempts and speed results
    (``None`` for a part not computed; ``missing`` says why); ``policy()`` is the ``sla.toml``
    policy; ``to_markdown()`` and ``to_html()`` the document.
    """

    name: str
    source: str
    currency: str
    as_of: datetime
    data: DataFingerprint
    calendar: dict[str, Any]
    inputs: dict[str, Any]
    marketing: MarketingCommitment | None
    sales: SalesCommitment
    value: ValueResult | None
    plan: SlaPlan | None
    attempts: AttemptsResult | None
    speed: SpeedResult | None
    missing: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ machine forms

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": AGREEMENT_SCHEMA,
            "name": self.name,
            "source": self.source,
            "currency": self.currency,
            "as_of": self.as_of.isoformat(),
            "data": self.data.to_dict(),
            "calendar": dict(self.calendar),
            "inputs": self.inputs,
            "marketing": None if self.marketing is None else self.marketing.to_dict(),
            "sales": self.sales.to_dict(),
            "missing": dict(self.missing),
            "warnings": list(self.warnings),
            "value": None if self.value is None else self.value.to_dict(),
            "plan": None if self.plan is None else self.plan.to_dict(),
            "attempts": None if self.attempts is None else self.attempts.to_dict(),
            "speed": None if self.speed is None else self.speed.to_dict(),
        }

    def policy(self) -> Policy:
        """The policy file's content (``leadsla.policy/1``), checked."""
        s = self.sales

        def rule(t: AttemptTarget) -> AttemptRule:
            return AttemptRule(count=t.count, within_days=t.within_days, day_kind="calendar")

        marketing = None
        if self.marketing is not None and self.marketing.mqls > 0:  # (a zero quota: no target)
            m = self.marketing
            marketing = MarketingPolicy(
                mqls=m.mqls,
                period="quarter" if m.period == "quarter" else "month",
                mql_value_eur=_cents(m.mql_value_eur),
                influenced_share=m.influenced_share or None,
                originated_share=m.originated_share or None,
                quota_eur=m.quota_eur or None,
                segments={
                    t.segment: MarketingSegment(mqls=t.mqls, mql_value_eur=_cents(t.mql_value_eur))
                    for t in m.segments
                    if t.mqls > 0
                },
            )
        window = self.data.window
        policy = Policy(
            name=self.name,
            calendar=dict(self.calendar),
            sales=SalesPolicy(
                first_response_hours=s.first_response_hours,
                attempts=rule(s.default),
                attempt_kinds=s.attempt_kinds,
                segments={t.segment: rule(t) for t in s.segments},
            ),
            marketing=marketing,
            currency=self.currency,
            description=f"Drafted by leadsla agree from {self.source}; the evidence is in "
            f"{FILES['markdown']} and {FILES['html']}.",
            data=DataProvenance(
                source=self.source,
                window=window,
                sha256=self.data.sha256,
                leads=self.data.rows.get("leads") or None,
            ),
        )
        return policy.validated()

    # ------------------------------------------------------------------ documents

    def headline(self) -> list[str]:
        """The commitments in a few sentences (plain text, as the CLI prints them)."""
        cur = self.currency
        out = []
        m = self.marketing
        if m is not None:
            share = (
                f" ({pct(m.originated_share)} of the {_money(m.quota_eur)} {cur} quota)"
                if m.quota_eur and m.originated_share is not None
                else ""
            )
            out.append(
                f"Marketing delivers {m.mqls:,} MQLs per {m.period}, worth "
                f"{_money(m.mql_value_eur)} {cur} each on average: "
                f"{_money(m.revenue_responsibility_eur)} {cur} of marketing-originated revenue"
                f"{share}."
            )
            if m.influenced_share is not None:
                out.append(
                    f"Separately, at least {pct(m.influenced_share)} of won revenue has a "
                    f"marketing touch (influenced; it includes the originated "
                    f"{pct(m.originated_share)}, never added to it)."
                )
        else:
            out.append(f"Marketing: not computed ({self.missing.get('plan', 'no plan')}).")
        s = self.sales
        out.append(
            f"Sales responds to every MQL within {_hours(s.first_response_hours)}, then "
            + ("makes, per segment:" if s.segments else "makes, for every lead:")
        )
        for t in s.segments:
            out.append(f"  {t.segment}: {t.text} of the MQL (unless the lead closes first)")
        if not s.segments:
            out.append(f"  {s.default.text} of the MQL (unless the lead closes first)")
        return out

    def to_markdown(self) -> str:
        """The SLA document in Markdown: commitments, evidence, what was not computed, data."""
        cur = self.currency
        d = self.data
        lines = [f"# {self.name}", ""]
        w = d.window
        lines += [
            f"Drafted by `leadsla agree` from `{self.source}`: {d.rows.get('leads', 0):,} leads "
            + (f"created {w[0]} to {w[1]} ({d.time_zone})" if w else "(no leads)")
            + f", as of {self.as_of.astimezone(ZoneInfo(d.time_zone)):%Y-%m-%d %H:%M} "
            f"{d.time_zone}. Data SHA-256 `{d.sha256}`.",
            "",
            "## The agreement",
            "",
        ]
        lines += [f"- {h.strip()}" if not h.startswith("  ") else f"  - {h.strip()}"
                  for h in self.headline()]  # fmt: skip
        lines.append("")
        if self.missing:
            lines += ["## What could not be computed", ""]
            for part, why in self.missing.items():
                lines.append(f"- **{part}** could not be computed: {why}")
            lines.append("")

        lines += ["## Marketing", ""]
        m = self.marketing
        if m is None:
            lines += [f"Not computed: {self.missing.get('plan', '')}", ""]
        else:
            lines += [
                f"Per {m.period}: **{m.mqls:,} MQLs**, worth "
                f"{_money(m.mql_value_eur)} {cur} each on average, for "
                f"{_money(m.revenue_responsibility_eur)} {cur} of marketing-originated revenue"
                + (
                    f" = {_money(m.quota_eur)} {cur} quota × {pct(m.originated_share)} "
                    f"originated share ({m.originated_basis})."
                    if m.quota_eur and m.originated_share is not None
                    else "."
                ),
                "",
                f"In euros, the same promise: Σ over campaigns of MQLs × MQL value ≥ "
                f"{_money(m.revenue_responsibility_eur)} {cur} per {m.period} (any campaign mix).",
                "",
            ]
            if m.risk_buffer_mqls is not None:
                lines += [
                    f"Risk buffer: {m.risk_buffer_mqls:,} MQLs meet the responsibility with an "
                    "80% chance; the required number alone meets it about half the time.",
                    "",
                ]
            if m.influenced_share is not None:
                lines += [
                    f"Influenced share (a separate commitment, never added to the originated "
                    f"share): at least **{pct(m.influenced_share)}** of won revenue has a "
                    f"marketing touch ({m.influenced_basis}).",
                    "",
                ]
            split = (
                "each segment's own quota"
                if m.split == "segment quotas"
                else "the overall MQLs split at the historical mix of mature leads (largest "
                "remainders); the overall number and the euro promise are what binds"
            )
            lines += [f"Per segment ({split}):", ""]
            rows = [
                [t.segment, f"{t.mqls:,}", f"{_money(t.mql_value_eur)} {cur}",
                 f"{_money(t.value_eur)} {cur}",
                 pct(t.mix_share) if t.mix_share is not None else _money(t.quota_eur)]
                for t in m.segments
            ]  # fmt: skip
            rows.append(
                ["**total**", f"**{m.mqls:,}**", f"{_money(m.mql_value_eur)} {cur}",
                 f"{_money(sum(t.value_eur for t in m.segments))} {cur}", ""]
            )  # fmt: skip
            last = "mix share" if m.split == "historical mix" else f"quota ({cur})"
            lines += _md_table(
                ["segment", f"MQLs per {m.period}", "MQL value", "value of the MQLs", last], rows
            )
            lines.append("")

        s = self.sales
        lines += [
            "## Sales",
            "",
            f"First response: every MQL gets its first contact attempt within "
            f"**{_hours(s.first_response_hours)}** of its MQL time ({s.first_response_basis}).",
            "",
            f"Then contact attempts ({', '.join(s.attempt_kinds)}) within calendar days of the "
            "MQL; a lead closed earlier needs no more:",
            "",
        ]
        rows = [
            [t.segment, ("at least " if t.at_least else "") + str(t.count),
             f"{t.within_days} calendar days", t.count_basis, t.days_basis]
            for t in s.segments
        ]  # fmt: skip
        if rows:
            lines += _md_table(["segment", "attempts", "within", "attempts from", "window from"],
                               rows)  # fmt: skip
            lines += ["", f"Any other segment: {s.default.text} ({s.default_basis}).", ""]
        else:
            lines += [f"Every segment: {s.default.text} ({s.default_basis}).", ""]
        if s.hours_per_period is not None and m is not None:
            lines += [
                f"Capacity: the {m.mqls:,} MQLs per {m.period} at the expected attempts per lead "
                f"A(K) need about {s.hours_per_period:,.0f} sales hours per {m.period} "
                f"({s.attempts_per_hour:g} attempts an hour).",
                "",
            ]

        lines += ["## Evidence", ""]
        lines += self._md_value() + self._md_plan() + self._md_attempts() + self._md_speed()
        if self.warnings:
            lines += ["## Warnings", ""] + [f"- {x}" for x in self.warnings] + [""]
        lines += [
            "## Data and method",
            "",
            f"- Source: `{self.source}`; rows: "
            + ", ".join(f"{k} {n:,}" for k, n in d.rows.items()),
            f"- Window: first lead created {_iso(d.first_created_at)}, last "
            f"{_iso(d.last_created_at)} (UTC)",
            f"- SHA-256: `{d.sha256}`. {d.rule}",
            f"- Business calendar: {_calendar_text(self.calendar)}",
            f"- Attempt window rule: D = the {WINDOW_QUANTILE:.0%} quantile of calendar days "
            "from the MQL to the K-th contact attempt among the segment's stale leads that "
            "reached K attempts, rounded up to whole days (at least 1).",
            "- Numbers in full precision: the JSON embedded in the HTML page "
            '(`<script id="leadsla-data">`) and `leadsla agree --format json`.',
            "",
        ]
        return "\n".join(lines)

    def _md_value(self) -> list[str]:
        cur = self.currency
        out = ["### MQL value (mature leads)", ""]
        if self.value is None:
            return out + [f"Not computed: {self.missing.get('value', '')}", ""]
        rows = []
        for r in self.value.rows:
            if r.level == "group":
                continue
            e = r.estimate
            lo, hi = e.mql_value_ci
            rows.append([
                r.label, f"{e.leads:,}", f"{e.won:,}", pct(e.close_rate),
                f"{_money(e.avg_revenue)} {cur}", f"{_money(e.mql_value)} {cur}",
                f"{_money(lo)}–{_money(hi)}",
            ])  # fmt: skip
        out += _md_table(["group", "mature leads", "won", "close rate", "mean revenue",
                          "MQL value", "95% interval"], rows)  # fmt: skip
        m = self.value.maturity
        out += ["", f"{m.mature_leads:,} of {m.leads_read:,} leads are mature; "
                f"{m.excluded()['why']}. Per campaign: the HTML page and the JSON.",
                ""]  # fmt: skip
        return out

    def _md_plan(self) -> list[str]:
        out = ["### Plan inputs", ""]
        if self.plan is None:
            return out + [f"Not computed: {self.missing.get('plan', '')}", ""]
        rows = []
        for name, entry in self.plan.inputs.items():
            if isinstance(entry, dict) and "basis" in entry and entry["basis"]:
                v = entry["value"]
                rows.append([name, _num(v) if not isinstance(v, list | dict) else "…",
                             entry["basis"]])  # fmt: skip
        for seg, entries in self.plan.inputs.get("by_segment", {}).items():
            for name, entry in entries.items():
                v = entry["value"]
                if entry["basis"] and not isinstance(v, list | dict):
                    rows.append([f"{seg}: {name}", _num(v), entry["basis"]])
        return out + _md_table(["input", "value", "from"], rows) + [""]

    def _md_attempts(self) -> list[str]:
        out = ["### Contact attempts (life table per segment)", ""]
        a = self.attempts
        if a is None or not a.groups:
            return out + [f"Not computed: {self.missing.get('attempts', '')}", ""]
        rows = []
        for name, g in a.groups.items():
            x = g.analysis
            near = x.near_optimal
            rows.append([
                name, f"{g.leads:,}", f"{_money(x.value)} {self.currency}",
                x.optimal_attempts_text, x.interval_text,
                "yes" if x.identified else "no", "–" if x.knee is None else str(x.knee),
                f"{near[0]}–{near[-1]}" if near else "–", str(x.max_attempts_supported),
            ])  # fmt: skip
        out += _md_table(["segment", "leads", "V (value of a win)", "N*", "95% interval",
                          "identified", "knee", "near-optimal", "supported up to"],
                         rows)  # fmt: skip
        out += ["", f"Cost per attempt c = {a.cost_per_attempt:,.2f} {self.currency}; N* = "
                "argmax V·F(N) − c·A(N) (METHODS §3). Counted: "
                f"{a.population} (as of {a.as_of:%Y-%m-%d}).", ""]  # fmt: skip
        return out

    def _md_speed(self) -> list[str]:
        out = ["### Speed to lead", ""]
        sp = self.speed
        if sp is None:
            return out + [f"Not computed: {self.missing.get('speed', '')}", ""]
        rows = [
            [b.bucket, f"{b.leads:,}", f"{b.won:,}", pct(b.rate) if b.leads else "–",
             f"{pct(b.rate_ci[0])}–{pct(b.rate_ci[1])}" if b.leads else "–"]
            for b in sp.buckets
        ]  # fmt: skip
        out += _md_table(["business time to first attempt", "leads", "won", "close rate",
                          "95% interval"], rows)  # fmt: skip
        rec = sp.recommendation
        hours = rec.first_response_hours
        out += [
            "",
            f"Recommended first response: {_hours(hours) if hours is not None else 'none'}. "
            f"{rec.explanation[0].upper()}{rec.explanation[1:]}",
            "",
            f"*{sp.caveat}*",
            "",
        ]
        return out

    def sections(self) -> list[Section]:
        """The HTML report's sections (charts from the results' ``figure()``)."""
        from leadsla.report.html import Section, esc, table_html

        cur = self.currency
        head = "".join(
            f"<li>{esc(h.strip())}</li>" if not h.startswith("  ") else
            f"<li style='margin-left:1.5em'>{esc(h.strip())}</li>"
            for h in self.headline()
        )  # fmt: skip
        d = self.data
        w = d.window
        intro = (
            f"<ul>{head}</ul><p class='muted'>From {esc(self.source)}: "
            f"{d.rows.get('leads', 0):,} leads"
            + (f" created {w[0]} to {w[1]} ({esc(d.time_zone)})" if w else "")
            + f". Data SHA-256 <code>{d.sha256}</code>.</p>"
        )
        if self.missing:
            intro += (
                "<h3>What could not be computed</h3><ul>"
                + "".join(
                    f"<li><strong>{esc(k)}</strong> could not be computed: {esc(v)}</li>"
                    for k, v in self.missing.items()
                )
                + "</ul>"
            )
        out = [Section("agreement", "The agreement", intro, data=self.to_dict())]

        m = self.marketing
        if m is None:
            out.append(Section("marketing", "Marketing", missing=self.missing.get("plan", "")))
        else:
            rows = [
                {"segment": t.segment, f"MQLs per {m.period}": t.mqls,
                 "MQL value": f"{_money(t.mql_value_eur)} {cur}",
                 "value of the MQLs": f"{_money(t.value_eur)} {cur}",
                 "share of mature leads": pct(t.mix_share),
                 "set by": t.basis}
                for t in m.segments
            ]  # fmt: skip
            rows.append({"segment": "total", f"MQLs per {m.period}": m.mqls,
                         "MQL value": f"{_money(m.mql_value_eur)} {cur}",
                         "value of the MQLs": f"{_money(sum(t.value_eur for t in m.segments))} "
                                              f"{cur}",
                         "share of mature leads": "", "set by": ""})  # fmt: skip
            body = (
                f"<p>Per {m.period}: <strong>{m.mqls:,} MQLs</strong>, worth "
                f"{_money(m.mql_value_eur)} {cur} each on average, for "
                f"{_money(m.revenue_responsibility_eur)} {cur} of marketing-originated revenue "
                f"(originated share {pct(m.originated_share)}: {esc(m.originated_basis)}). "
                f"Euro form: Σ over campaigns of MQLs × MQL value ≥ "
                f"{_money(m.revenue_responsibility_eur)} {cur}.</p>"
            )
            if m.influenced_share is not None:
                body += (
                    f"<p>Influenced share, a separate commitment never added to the originated "
                    f"share: at least <strong>{pct(m.influenced_share)}</strong> of won revenue "
                    f"has a marketing touch ({esc(m.influenced_basis)}).</p>"
                )
            body += table_html(rows)
            figs = [x.figure() for x in (self.plan, self.value) if x is not None]
            out.append(Section("marketing", "Marketing", body, figures=figs))

        s = self.sales
        rows = [
            {"segment": t.segment, "attempts": ("at least " if t.at_least else "") + str(t.count),
             "within (calendar days)": t.within_days, "attempts from": t.count_basis,
             "window from": t.days_basis}
            for t in s.segments or [s.default]
        ]  # fmt: skip
        body = (
            f"<p>First response within <strong>{esc(_hours(s.first_response_hours))}</strong> "
            f"of the MQL ({esc(s.first_response_basis)}).</p>"
            + table_html(rows)
            + f"<p class='muted'>Any other segment: {esc(s.default.text)} "
            f"({esc(s.default_basis)}).</p>"
        )
        figs = []
        if self.speed is not None:
            figs.append(self.speed.figure())
        if self.attempts is not None and self.attempts.groups:
            figs.append(self.attempts.figure("return"))
        out.append(Section("sales", "Sales", body, figures=figs))

        out.append(self._evidence_section())
        out.append(Section("data", "Data and method", self._data_html()))
        return out

    def _evidence_section(self) -> Section:
        from leadsla.report.html import Section, esc, table_html

        parts = []
        if self.value is not None:
            parts.append("<h3>MQL value per campaign and segment (mature leads)</h3>")
            parts.append(table_html(
                [{"group": r.label, "level": r.level, "leads": r.estimate.leads,
                  "won": r.estimate.won, "close rate": pct(r.estimate.close_rate),
                  "MQL value": _money(r.estimate.mql_value),
                  "95% interval": f"{_money(r.estimate.mql_value_ci[0])}–"
                                  f"{_money(r.estimate.mql_value_ci[1])}"}
                 for r in self.value.rows]))  # fmt: skip
        if self.attempts is not None and self.attempts.groups:
            parts.append("<h3>Contact attempts: N* per segment</h3>")
            parts.append(table_html(
                [{"segment": n, "leads": g.leads, "V": _money(g.analysis.value),
                  "N*": g.analysis.optimal_attempts_text,
                  "95% interval": g.analysis.interval_text,
                  "knee": g.analysis.knee, "supported up to": g.analysis.max_attempts_supported}
                 for n, g in self.attempts.groups.items()]))  # fmt: skip
        if self.speed is not None:
            parts.append("<h3>Speed to lead</h3>")
            parts.append(table_html(
                [{"bucket": b.bucket, "leads": b.leads, "won": b.won,
                  "close rate": pct(b.rate) if b.leads else "–"} for b in self.speed.buckets]
            ))  # fmt: skip
            parts.append(f"<p class='caveat'>{esc(self.speed.caveat)}</p>")
        for part, why in self.missing.items():
            parts.append(f"<p class='missing'><strong>{esc(part)}</strong> could not be "
                         f"computed: {esc(why)}</p>")  # fmt: skip
        if self.warnings:
            parts.append(
                "<h3>Warnings</h3><ul class='warnings'>"
                + "".join(f"<li>{esc(x)}</li>" for x in self.warnings)
                + "</ul>"
            )
        return Section("evidence", "Evidence", "".join(parts))

    def _data_html(self) -> str:
        from leadsla.report.html import esc

        d = self.data
        rows = ", ".join(f"{esc(k)} {n:,}" for k, n in d.rows.items())
        return (
            f"<ul><li>Source: {esc(self.source)}; rows: {rows}</li>"
            f"<li>Window: first lead created {esc(_iso(d.first_created_at))}, last "
            f"{esc(_iso(d.last_created_at))} (UTC)</li>"
            f"<li>SHA-256 <code>{d.sha256}</code>: {esc(d.rule)}</li>"
            f"<li>Business calendar: {esc(_calendar_text(self.calendar))}</li></ul>"
        )

    def to_html(self) -> str:
        """The SLA document as one self-contained HTML page (Plotly inlined, JSON embedded)."""
        from leadsla.report.html import render

        cards: list[tuple[str, str]] = []
        if self.marketing is not None:
            m = self.marketing
            cards.append((f"Marketing: MQLs per {m.period}", f"{m.mqls:,}"))
            cards.append(("MQL value", f"{_money(m.mql_value_eur)} {self.currency}"))
        h = self.sales.first_response_hours
        cards.append(("Sales: first response", f"{h:g} business h" if float(h).is_integer()
                      else f"{h:.2f} business h"))  # fmt: skip
        for t in self.sales.segments[:4] or [self.sales.default]:
            k = ("≥ " if t.at_least else "") + str(t.count)
            cards.append((f"Attempts: {t.segment}", f"{k} in {t.within_days} days"))
        d = self.data
        return render(
            self.sections(),
            title=self.name,
            subtitle=f"Drafted by leadsla agree from {self.source} · data SHA-256 {d.sha256[:16]}…",
            headline=cards,
            warnings=self.warnings or None,
        )

    def write(self, out_dir: str | os.PathLike[str], /) -> AgreementFiles:
        """Write ``sla.md``, ``sla.html`` and ``sla.toml`` into ``out_dir`` (created)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        policy = write_policy(self.policy(), out / FILES["policy"])
        md = out / FILES["markdown"]
        md.write_text(self.to_markdown(), encoding="utf-8")
        page = out / FILES["html"]
        page.write_text(self.to_html(), encoding="utf-8")
        return AgreementFiles(md, page, policy)


# --------------------------------------------------------------------------- formatting


def _money(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:,.0f}"


def _cents(x: float) -> float:
    return round(float(x), 2)


def _num(x: Any) -> str:
    if isinstance(x, bool) or x is None:
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if not math.isfinite(x):
            return "–"
        return f"{x:.4g}" if abs(x) < 1 else f"{x:,.2f}"
    return str(x)


def _hours(h: float) -> str:
    """4.0 → '4 business hours'; 9.2167 → '9.22 business hours (9 h 13 min)'."""
    if float(h).is_integer():
        return f"{h:g} business hours"
    return f"{h:.2f} business hours ({hours_text(h).replace(' (business)', '')})"


def _md_cell(x: str) -> str:
    return x.replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_md_cell(str(c)) for c in r) + " |" for r in rows]
    return out


def _calendar_text(cfg: Mapping[str, Any]) -> str:
    cal = BusinessCalendar.from_config(cfg)
    text = f"{cal.time_zone}, {hours_spec(cal)}"
    if cal.holiday_country:
        text += f"; public holidays of {cal.holiday_country}"
        if cal.holiday_subdivision:
            text += f"-{cal.holiday_subdivision}"
    if cal.holidays:
        text += f"; {len(cal.holidays)} other holiday date(s)"
    if cal.pauses:
        text += f"; {len(cal.pauses)} pause(s)"
    return text


# --------------------------------------------------------------------------- the calendar


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def hours_spec(calendar: BusinessCalendar, /) -> str:
    """The weekly hours as text: ``"Mon-Fri 09:00-18:00"``, ``"Mon-Thu 08:00-12:00,
    13:00-17:00; Fri 08:00-14:00"`` (runs of days with the same intervals)."""
    groups: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []
    for i, day in enumerate(calendar.hours):
        if not day:
            continue
        if groups and groups[-1][1] == i - 1 and groups[-1][2] == day:
            groups[-1] = (groups[-1][0], i, day)
        else:
            groups.append((i, i, day))
    parts = []
    for first, last, day in groups:
        days = DAYS[first].capitalize() + ("" if first == last else f"-{DAYS[last].capitalize()}")
        parts.append(f"{days} {', '.join(f'{_hhmm(s)}-{_hhmm(e)}' for s, e in day)}")
    return "; ".join(parts)


def calendar_config(calendar: BusinessCalendar, /) -> dict[str, Any]:
    """A :class:`BusinessCalendar` as the table :meth:`BusinessCalendar.from_config` reads
    (explicit: the hours spelled out, holidays of an ICS file as dates)."""
    cfg: dict[str, Any] = {"time_zone": calendar.time_zone, "hours": hours_spec(calendar)}
    if calendar.holidays:
        cfg["holidays"] = sorted(d.isoformat() for d in calendar.holidays)
    if calendar.holiday_country:
        cfg["holiday_country"] = calendar.holiday_country
    if calendar.holiday_subdivision:
        cfg["holiday_subdivision"] = calendar.holiday_subdivision
    if calendar.pauses:
        cfg["pauses"] = [
            [pd.Timestamp(s, unit="ns", tz="UTC").isoformat(),
             pd.Timestamp(e, unit="ns", tz="UTC").isoformat()]
            for s, e in calendar.pauses
        ]  # fmt: skip
    return cfg


def _calendar(
    calendar: BusinessCalendar | Mapping[str, Any] | None, ws: Workspace
) -> tuple[dict[str, Any], BusinessCalendar]:
    """The calendar table for the policy and the calendar itself (default: the settings')."""
    s = ws.settings
    if not isinstance(calendar, BusinessCalendar):
        cfg = dict(calendar if calendar is not None else s.business_hours)
        cfg.setdefault("time_zone", s.time_zone)
        ics = cfg.get("holiday_ics")
        src = Path(ws.source)
        if isinstance(ics, str) and not Path(ics).is_absolute() and src.exists():
            folder = src if src.is_dir() else src.parent
            cfg["holiday_ics"] = str(folder / ics)
        calendar = BusinessCalendar.from_config(cfg, source="business calendar")
    return calendar_config(calendar), calendar


# --------------------------------------------------------------------------- drafting


def _mix_split(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split ``total`` in proportion to ``weights`` (largest remainders; ties by name)."""
    w = {k: max(float(v), 0.0) for k, v in weights.items()}
    s = sum(w.values())
    if s <= 0 or total <= 0:
        return dict.fromkeys(w, 0)
    exact = {k: total * v / s for k, v in w.items()}
    out = {k: math.floor(x) for k, x in exact.items()}
    left = total - sum(out.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - out[k]), k))[:left]:
        out[k] += 1
    return out


def _marketing(plan: SlaPlan, value: ValueResult | None) -> MarketingCommitment:
    p = plan.plan
    inputs = plan.inputs
    if p.by_segment:
        split: Literal["segment quotas", "historical mix"] = "segment quotas"
        targets = [
            MarketingTarget(
                segment=str(x.segment),
                mqls=x.mqls_required,
                mql_value_eur=x.mql_value,
                basis="its own plan (segment quota)",
                quota_eur=x.quota,
                revenue_responsibility_eur=x.revenue_responsibility,
            )  # fmt: skip
            for x in p.by_segment
        ]
        orig_basis = "per segment: " + "; ".join(
            f"{seg} {e['originated_share']['basis']}"
            for seg, e in inputs.get("by_segment", {}).items()
        )
        infl_basis = "per segment: " + "; ".join(
            f"{seg} {e['influenced_share']['basis']}"
            for seg, e in inputs.get("by_segment", {}).items()
        )
    else:
        split = "historical mix"
        totals = [r for r in (value.rows if value is not None else []) if r.level ==
                  "segment total"]  # fmt: skip
        given_value = inputs.get("mql_value", {}).get("basis") == "given"
        if not totals:
            targets = [MarketingTarget("all", p.mqls_required, p.mql_value, "all leads", 1.0)]
        else:
            weights = {str(r.keys["segment"]): float(r.estimate.leads) for r in totals}
            n = sum(weights.values())
            counts = _mix_split(p.mqls_required, weights)
            targets = []
            for r in totals:
                seg = str(r.keys["segment"])
                v = (
                    p.mql_value
                    if given_value or not math.isfinite(r.estimate.mql_value)
                    else r.estimate.mql_value
                )
                targets.append(MarketingTarget(
                    segment=seg, mqls=counts[seg], mql_value_eur=float(v),
                    basis="historical mix of mature leads", mix_share=weights[seg] / n if n else
                    None,
                ))  # fmt: skip
        orig_basis = inputs.get("originated_share", {}).get("basis")
        infl_basis = inputs.get("influenced_share", {}).get("basis")
    infl = (p.influenced_commitment or {}).get("share")
    return MarketingCommitment(
        period=p.period,
        mqls=p.mqls_required,
        mql_value_eur=p.mql_value,
        revenue_responsibility_eur=p.revenue_responsibility,
        quota_eur=p.quota,
        originated_share=p.originated_share,
        originated_basis=orig_basis,
        influenced_share=None if infl is None else float(infl),
        influenced_basis=infl_basis if infl is not None else None,
        risk_buffer_mqls=p.risk_buffer_mqls,
        split=split,
        segments=targets,
    )


def _attempt_targets(
    ws: Workspace,
    attempts: AttemptsResult | None,
    *,
    count: int | None,
    within_days: int | None,
    missing: dict[str, str],
    warnings: list[str],
) -> tuple[list[AttemptTarget], AttemptTarget, str]:
    """Per segment: K from N* (or given), D from the data (or given, or the default)."""
    groups = attempts.groups if attempts is not None else {}
    if not groups:
        k = count if count is not None else DEFAULT_ATTEMPTS
        d = within_days if within_days is not None else DEFAULT_WITHIN_DAYS
        kb = "given" if count is not None else f"default ({DEFAULT_ATTEMPTS})"
        db = "given" if within_days is not None else f"default ({DEFAULT_WITHIN_DAYS} days)"
        t = AttemptTarget("all", k, False, kb, d, db)
        return [], t, "the attempts analysis could not be computed"
    picks: dict[str, tuple[int, bool, str]] = {}
    for name, g in groups.items():
        a = g.analysis
        if count is not None:
            picks[name] = (count, False, f"given (N* = {a.optimal_attempts_text})")
        elif a.identified:
            k = a.optimal_attempts
            why = f"N* = {k} (profit-optimal; 95% interval {a.interval_text})"
            if k < 1:
                k, why = 1, "N* = 0 (no attempt pays at this cost); the policy needs one"
            picks[name] = (k, False, why)
        else:
            k = a.max_attempts_supported or a.optimal_attempts
            picks[name] = (max(k, 1), True, f"N* not identified (at the edge of the data, "
                           f"{a.optimal_attempts}): the largest supported number of attempts "
                           "(≥ 30 leads at risk), a lower bound")  # fmt: skip
    windows: dict[str, tuple[int, float | None]] = {}
    if within_days is None and ws.activities is not None:
        s = ws.settings
        windows = attempt_windows(
            ws.leads, ws.activities, {n: k for n, (k, _, _) in picks.items()},
            attempt_kinds=s.attempt_kinds, as_of=attempts.as_of if attempts else ws.as_of,
            stale_after_days=_population_days(attempts, s.stale_after_days),
        )  # fmt: skip
    elif within_days is None:
        missing["attempt window"] = (
            "no activities table: the days to the K-th attempt cannot be measured (the leads "
            f"carry only a count). Each segment uses the default of {DEFAULT_WITHIN_DAYS} "
            "calendar days; give --within-days to set it."
        )
    targets = []
    for name, g in groups.items():
        k, at_least, kb = picks[name]
        reached, q = windows.get(name, (0, None))
        if within_days is not None:
            d, db = within_days, "given"
        elif q is not None and reached > 0:
            d = max(1, math.ceil(round(q, 9)))
            db = (f"{WINDOW_QUANTILE:.0%} of the {reached:,} leads that reached attempt {k} "
                  f"had it within {q:.1f} days of the MQL")  # fmt: skip
        else:
            d = DEFAULT_WITHIN_DAYS
            db = f"default ({DEFAULT_WITHIN_DAYS} days): no lead reached attempt {k}"
            if ws.activities is not None:
                warnings.append(f"{name}: no lead reached {k} attempts with timestamps; the "
                                f"window is the default {DEFAULT_WITHIN_DAYS} days.")  # fmt: skip
        life = g.analysis.table
        exp = float(life.expected_attempts[k - 1]) if 0 < k <= life.max_attempt else None
        targets.append(AttemptTarget(
            segment=name, count=k, at_least=at_least, count_basis=kb, within_days=d,
            days_basis=db, leads=g.leads, reached=reached if ws.activities is not None else None,
            quantile_days=q, expected_attempts=exp,
        ))  # fmt: skip
    biggest = max(targets, key=lambda t: (t.leads or 0, t.segment))
    return targets, biggest, f"the rule of the largest segment, {biggest.segment}"


def draft_agreement(
    ws: Workspace,
    /,
    *,
    quota_eur: float | None,
    period: str | None = None,
    originated_share: float | None = None,
    influenced_share: float | None = None,
    segment_quotas: Mapping[str, float] | None = None,
    mql_value: float | None = None,
    hourly_cost_eur: float | None = None,
    attempts_per_hour: float | None = None,
    first_response_hours: float | None = None,
    attempts: int | None = None,
    within_days: int | None = None,
    calendar: BusinessCalendar | Mapping[str, Any] | None = None,
    name: str | None = None,
    bootstrap: int = 1000,
    draws: int = 10_000,
    progress: Progress | None = None,
    require_quota: bool = True,
) -> Agreement:
    """Run value, plan, attempts and speed on ``ws`` and draft both sides' commitments.

    With ``require_quota=False`` a missing quota leaves the plan (marketing's side) out, said
    in ``missing``, instead of failing (the report does this).

    The analyses are called exactly as ``leadsla value``, ``plan``, ``attempts`` and ``speed``
    call them with the same flags, so ``to_dict()`` carries their JSON. Options left ``None``
    come from the workspace settings (``leadsla.toml``), as in those commands: quota and
    period, segment quotas (when no quota is given), the shares, hourly cost and attempts per
    hour. ``first_response_hours`` defaults to the speed analysis's recommendation;
    ``attempts``/``within_days`` (one rule for every segment) to N* and the measured window.
    ``calendar``: a :class:`BusinessCalendar` or its config table; default the settings'
    business hours in the workspace time zone.

    Example: quota 400,000 €, originated 40%, MQL value 1,600 € → marketing delivers 100 MQLs
    a month; sales answers within the recommended hours and makes N* attempts per segment.
    """
    s = ws.settings
    say = progress or (lambda _step: None)
    if hourly_cost_eur is not None or attempts_per_hour is not None:
        s = s.replace(hourly_cost_eur=hourly_cost_eur, attempts_per_hour=attempts_per_hour)
    for label, x in (("first_response_hours", first_response_hours), ("attempts", attempts),
                     ("within_days", within_days)):  # fmt: skip
        if x is not None and not (math.isfinite(x) and x > 0):
            raise ConfigError(f"{label} must be above 0, got {x!r}.")
    for label, x in (("originated_share", originated_share),
                     ("influenced_share", influenced_share)):  # fmt: skip
        if x is not None and not (math.isfinite(x) and 0 <= x <= 1):
            raise ConfigError(f"{label} {x!r} must be a share between 0 and 1 (0.4 for 40%).")
    if mql_value is not None and not (math.isfinite(mql_value) and mql_value > 0):
        raise ConfigError(f"mql_value {mql_value!r} must be an amount above 0.")
    for label, x in [("quota_eur", quota_eur), *(segment_quotas or {}).items()]:
        if x is not None and not (math.isfinite(x) and x >= 0):
            raise ConfigError(f"the quota of {label} ({x!r}) must be an amount of at least 0.")
    if attempts is not None and int(attempts) != attempts:
        raise ConfigError(f"attempts must be a whole number, got {attempts!r}.")
    if within_days is not None and int(within_days) != within_days:
        raise ConfigError(f"within_days must be a whole number of days, got {within_days!r}.")
    # the plan command's rules: flags win over leadsla.toml
    quota = quota_eur if quota_eur is not None else s.quota_eur
    seg_q = dict(segment_quotas or {}) or (dict(s.quota_by_segment) if quota_eur is None else {})
    per = period or s.quota_period
    if per not in ("month", "quarter"):
        raise ConfigError(f'period "{per}" must be month or quarter.')
    orig = originated_share if originated_share is not None else s.originated_share
    infl = influenced_share if influenced_share is not None else s.influenced_share
    no_quota = (
        "no quota: give --quota EUR (per period) or quotas per segment "
        "(--segment-quota NAME=EUR, or quota_eur in leadsla.toml)."
    )
    if quota is None and not seg_q and require_quota:
        raise ConfigError(no_quota)
    if seg_q:
        segs = ws.leads.select(segment=ws.leads.segment.fill_null("all")).distinct()
        have = {str(x) for x in segs.execute()["segment"]}
        unknown = sorted(set(seg_q) - have)
        if unknown:
            raise ConfigError(f"segment quota for {', '.join(unknown)}: not a segment of the "
                              f"data; its segments are {', '.join(sorted(have))}.")  # fmt: skip
    cal_cfg, cal = _calendar(calendar, ws)
    as_of_value = resolve_as_of(s.as_of, s.time_zone) if s.as_of is not None else None
    missing: dict[str, str] = {}
    warnings: list[str] = []

    say("Hashing the data")
    fingerprint = data_fingerprint(ws)

    say("MQL value")
    campaigns = ws.table("campaigns") if ws.has("campaigns") else None
    value: ValueResult | None = mql_value_table(
        ws.leads, by="campaign,segment", campaigns=campaigns, as_of=as_of_value,
        maturity_quantile=s.maturity_quantile, maturity="cohort", draws=draws, seed=s.seed,
    )  # fmt: skip

    say("Plan")
    plan: SlaPlan | None = None
    if quota is None and not seg_q:
        missing["plan"] = f"{no_quota} Marketing's side of the agreement is left out."
    else:
        try:
            plan = plan_sla(
                ws.leads, touches=ws.table("touches") if ws.has("touches") else None,
                as_of=as_of_value, maturity="cohort", maturity_quantile=s.maturity_quantile,
                quota=quota, period=cast(Period, per),
                quota_by_segment=seg_q or None, originated_share=orig, influenced_share=infl,
                mql_value=mql_value, seed=s.seed, draws=draws,
                attempts_per_hour=s.attempts_per_hour,
                value=value,  # the table above: the same inputs, not computed again
            )  # fmt: skip
        except ConfigError as e:
            missing["plan"] = f"{e} Marketing's side of the agreement is left out."

    say("Contact attempts")
    attempts_res: AttemptsResult | None = None
    counted = "attempts" in ws.leads.columns and int(ws.leads.attempts.count().execute()) > 0
    if ws.activities is None and not counted:
        k = attempts if attempts is not None else DEFAULT_ATTEMPTS
        d = within_days if within_days is not None else DEFAULT_WITHIN_DAYS
        missing["attempts"] = (
            "no activities table (and no attempts column in leads): the attempts analysis "
            "needs each lead's contact attempts. The attempts rule uses "
            + ("the given" if attempts is not None else "the default")
            + f" {k} attempts within "
            + ("the given" if within_days is not None else "the default")
            + f" {d} calendar days."
        )
    else:
        try:
            attempts_res = attempts_from_workspace(
                ws, by="segment", B=bootstrap, cost_per_attempt=s.cost_per_attempt_eur
            )
        except MissingValueError as e:
            missing["attempts"] = f"{e} The attempts rule uses defaults."
        else:
            if not attempts_res.groups:
                missing["attempts"] = " ".join(attempts_res.warnings) or "no stale leads."

    say("Speed to lead")
    speed: SpeedResult | None = None
    if ws.activities is None:
        h = first_response_hours or DEFAULT_FIRST_RESPONSE_HOURS
        missing["speed"] = (
            "no activities table: speed to lead needs the time of each lead's first call or "
            "email. The first response uses "
            + ("the given" if first_response_hours is not None else "the default")
            + f" {_hours(h)}."
        )
    else:
        speed = speed_analysis(
            ws.leads, ws.activities, calendar=cal, attempt_kinds=s.attempt_kinds,
            as_of=ws.as_of if s.as_of is not None else None,
            maturity_quantile=s.maturity_quantile,
        )  # fmt: skip

    # ---- sales
    rec = speed.recommendation if speed is not None else None
    if first_response_hours is not None:
        h, hb = float(first_response_hours), "given"
        if rec is not None and rec.first_response_hours is not None:
            hb += f"; the data recommends {_hours(rec.first_response_hours)}"
    elif rec is not None and rec.first_response_hours is not None:
        h = float(rec.first_response_hours)
        hb = f"recommended by the speed analysis: {rec.explanation}"
    else:
        h = DEFAULT_FIRST_RESPONSE_HOURS
        why = (
            "speed to lead could not be computed"
            if speed is None or rec is None
            else f"the speed analysis gives no recommendation, {rec.explanation}"
        )
        hb = f"the default: {why}"
        if speed is not None:
            missing["first response"] = f"{why}; the default {_hours(h)} is used."
    targets, default, default_basis = _attempt_targets(
        ws, attempts_res, count=attempts, within_days=within_days, missing=missing,
        warnings=warnings,
    )  # fmt: skip
    marketing = _marketing(plan, value) if plan is not None else None
    hours_needed = None
    if marketing is not None and targets:
        per_seg = {t.segment: t for t in targets}
        need = 0.0
        for mt in marketing.segments:
            t = per_seg.get(mt.segment, default)
            if t.expected_attempts is None:
                need = float("nan")
                break
            need += mt.mqls * t.expected_attempts
        hours_needed = need / s.attempts_per_hour if math.isfinite(need) else None
    sales = SalesCommitment(
        first_response_hours=h, first_response_basis=hb, attempt_kinds=tuple(s.attempt_kinds),
        segments=targets, default=default, default_basis=default_basis,
        hours_per_period=hours_needed, attempts_per_hour=s.attempts_per_hour,
    )  # fmt: skip

    found = [*(value.warnings if value is not None else []),
             *(plan.to_dict()["warnings"] if plan is not None else []),
             *(attempts_res.warnings if attempts_res is not None else []),
             *(f"{n}: {w}" for n, g in (attempts_res.groups if attempts_res else {}).items()
               for w in g.analysis.warnings),
             *(speed.warnings if speed is not None else [])]  # fmt: skip
    warnings += [w for w in dict.fromkeys(found) if w not in warnings]

    def given(x: Any, fallback: Any, label: str = "settings") -> dict[str, Any]:
        if x is not None:
            return {"value": x, "basis": "given"}
        return {"value": fallback, "basis": label if fallback is not None else None}

    inputs = {
        "quota_eur": given(quota_eur, quota),
        "period": given(period, per, "settings (quota_period)"),
        "segment_quotas": {"value": seg_q or None,
                           "basis": "given" if segment_quotas else "settings" if seg_q else None},
        "originated_share": given(originated_share, s.originated_share),
        "influenced_share": given(influenced_share, s.influenced_share),
        "mql_value": given(mql_value, None),
        "hourly_cost_eur": given(hourly_cost_eur, s.hourly_cost_eur),
        "attempts_per_hour": given(attempts_per_hour, s.attempts_per_hour),
        "cost_per_attempt_eur": {"value": s.cost_per_attempt_eur,
                                 "basis": "hourly cost ÷ attempts per hour"},
        "first_response_hours": given(first_response_hours, None),
        "attempts": given(attempts, None),
        "within_days": given(within_days, None),
        "attempt_kinds": {"value": list(s.attempt_kinds), "basis": "settings"},
        "seed": {"value": s.seed, "basis": "settings"},
        "bootstrap": {"value": bootstrap, "basis": "given" if bootstrap != 1000 else "default"},
    }  # fmt: skip
    as_of = value.maturity.as_of if value is not None else ws.as_of
    title = name or f"Marketing–sales SLA ({Path(ws.source).name or ws.source})"
    return Agreement(
        name=title, source=ws.source, currency=s.currency, as_of=as_of.astimezone(UTC),
        data=fingerprint, calendar=cal_cfg, inputs=inputs, marketing=marketing, sales=sales,
        value=value, plan=plan, attempts=attempts_res, speed=speed, missing=missing,
        warnings=warnings,
    )  # fmt: skip
