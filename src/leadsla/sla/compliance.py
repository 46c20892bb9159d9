"""Compliance of both sides with the SLA policy (METHODS.md §5): ``check_compliance(...)``.

Who is in scope: every lead whose ``mql_at`` (which defaults to ``created_at``) is at or
before ``as_of`` (and at or after ``since``, when given): every lead handed to sales is owed
a response, whoever originated it. Each lead's clock starts at its ``mql_at``; only contact
attempts (activities of the policy's ``attempt_kinds``) at or after that start and at or
before ``as_of`` count.

Sales rules, per lead:

- **first response**: ``due = calendar.due(mql_at, first_response_hours)`` (business hours).
  Met when the first attempt is at or before ``due``; breached when it is later, or when there
  is none and ``as_of > due``; pending when there is none yet and ``as_of <= due``. Closing a
  lead does not excuse the first response (a lead closed without any attempt is a breach once
  due: that is the abandoned MQL the rule is there to catch).
- **attempts**: ``count`` attempts within ``within_days`` of the start (the segment's rule, else
  the default). The window ends at the same local wall-clock time ``within_days`` calendar days
  later (a skipped wall time moves to the first valid instant, a repeated one is its first
  occurrence), or, for ``day_kind = "business"``, at ``calendar.due(start, within_days ×
  business day)``, a business day being the calendar's mean open hours per working weekday.
  Met when the lead has ``count`` attempts in ``[start, end]``, or when it was closed (won or
  lost) at or before the end of the window: a closed lead needs no more attempts. Breached
  when the window has ended (``as_of > end``) with fewer attempts and the lead still open at
  its end; pending otherwise.
- **minimum before closing** (a segment whose rule is ``"before_closing"``: an N* the data
  cannot pin down, METHODS.md §7): breached when the lead was closed lost by ``as_of``
  without any connected or replied contact (unresponsive) and with fewer than ``count``
  attempts from its start to the close; met when it was won, lost after a contact, or got
  ``count`` attempts; pending while open with fewer (an open lead is never breached for it).

A lead is *breached* when either rule is breached, else *pending* when either is pending, else
*met*; so ``met + breached + pending = leads`` for the combined status and for each rule.

A breach stays a breach: it depends only on events up to the due instant (attempts at or
before it, a closing at or before it), and a breach is only declared after that instant, so
data arriving later (activities after ``as_of``) never turns it back. Leads not yet due are
pending, never met by default.

Marketing: MQLs delivered in the period (month or quarter, in the calendar's time zone) that
contains ``as_of``, counted by ``mql_at`` from the period start to ``as_of``; when any lead has
a ``source``, only ``source = marketing`` leads count (sales' and partners' leads are not
marketing's delivery), otherwise every MQL counts. ``pace = delivered ÷ (target × elapsed
share of the period)`` (calendar time), ``projected = delivered ÷ elapsed share``, the euro
value ``Σ delivered × mql_value_eur`` over segments (a segment's own value, else the overall
one) when the policy gives values.

Where the work happens: the per-lead deadlines need the business clock (numpy), so the leads
in scope are fetched once, their deadlines computed, and sent back to the engine as a
memtable; the engine then joins the attempts to them and aggregates per lead (first attempt,
attempts within the window) in one pass over the activities. Marketing counts are one
grouped query. Everything else is vectorised numpy: no Python loop per lead.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from leadsla.analysis.attempts import CONTACT_OUTCOMES
from leadsla.clock import business_day_seconds
from leadsla.records import Records
from leadsla.sla.clocks import (
    BREACHED,
    MET,
    PENDING,
    combined_status,
    lead_deadlines,
    minimum_rules,
    minimum_status,
    rule_status,
    window_ends,
)
from leadsla.sla.policy import Policy
from leadsla.times import to_utc, utc_literal

__all__ = [
    "RULES",
    "STATUSES",
    "CheckResult",
    "MarketingCheck",
    "RuleCounts",
    "business_day_seconds",
    "check_compliance",
    "iso_times",
    "period_bounds",
    "window_ends",
]

RULES = ("first_response", "attempts")
STATUSES = ("met", "breached", "pending")
NO_OWNER = "(none)"
MARKETING = "marketing"
_NAT = np.iinfo(np.int64).min
_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
I64 = NDArray[np.int64]
I8 = NDArray[np.int8]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class RuleCounts:
    """Leads met, breached and pending (under one rule, or combined)."""

    met: int
    breached: int
    pending: int

    @property
    def total(self) -> int:
        return self.met + self.breached + self.pending

    @property
    def compliance(self) -> float | None:
        """Met ÷ decided (met + breached); None when nothing is decided yet."""
        decided = self.met + self.breached
        return self.met / decided if decided else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "met": self.met,
            "breached": self.breached,
            "pending": self.pending,
            "compliance": self.compliance,
        }


@dataclass(frozen=True)
class MarketingCheck:
    """MQLs delivered so far in the period containing ``as_of``, against the target."""

    period: str
    period_start: datetime
    period_end: datetime
    elapsed_share: float
    target: int
    delivered: int
    pace: float | None
    projected: float | None
    counted: str
    mql_value_eur: float | None = None
    value_delivered_eur: float | None = None
    influenced_share_target: float | None = None
    by_segment: list[dict[str, Any]] = field(default_factory=list)

    @property
    def on_track(self) -> bool | None:
        return None if self.pace is None else self.pace >= 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "delivered": self.delivered,
            "pace": self.pace,
            "projected": self.projected,
            "on_track": self.on_track,
            "period": self.period,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "elapsed_share": self.elapsed_share,
            "counted": self.counted,
            "mql_value_eur": self.mql_value_eur,
            "value_delivered_eur": self.value_delivered_eur,
            "influenced_share_target": self.influenced_share_target,
            "by_segment": self.by_segment,
        }


@dataclass(frozen=True)
class CheckResult:
    """Compliance of sales and marketing with a policy at ``as_of``.

    ``status`` combines the two sales rules per lead (breached if either is, else pending if
    either is, else met). ``breaches`` has one row per (lead, rule) breach, newest due first:
    ``lead_id, rule, due, first_attempt, attempts, required, owner, segment`` (``due`` is the
    first-response deadline or the end of the attempts window; ``first_attempt`` is set for
    first-response breaches, ``attempts``/``required`` for attempts breaches; times in UTC).
    ``per_lead`` (with ``check_compliance(..., per_lead=True)``) has one row per lead in scope,
    in ``lead_id`` order: ``lead_id, owner, segment, start, due, first_attempt, window_end,
    attempts, required, closed_at, first_response, attempts_rule, status``.
    """

    as_of: datetime
    policy_name: str
    time_zone: str
    leads: int
    status: RuleCounts
    first_response: RuleCounts
    attempts: RuleCounts
    first_response_hours: float
    response_hours_median: float | None
    response_hours_p90: float | None
    attempts_met_by_closing: int
    by_rep: list[dict[str, Any]]
    by_segment: list[dict[str, Any]]
    marketing: MarketingCheck | None
    breaches: pd.DataFrame
    since: datetime | None = None
    per_lead: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No breach on the sales side (marketing's pace is a forecast, not a breach)."""
        return self.status.breached == 0

    def breach_rows(self, limit: int | None = None) -> Records:
        """The breaches as rows (times as ISO 8601 in the policy's time zone), held by column
        (:class:`~leadsla.records.Records`: 290,000 breaches at 1M leads)."""
        df = self.breaches if limit is None else self.breaches.head(limit)
        zone = self.time_zone
        return Records(
            {
                "lead_id": df["lead_id"].tolist(),
                "rule": df["rule"].tolist(),
                "due": iso_times(df["due"], zone),
                "first_attempt": iso_times(df["first_attempt"], zone),
                "attempts": _ints(df["attempts"]),
                "required": _ints(df["required"]),
                "owner": df["owner"].tolist(),
                "segment": df["segment"].tolist(),
            }
        )

    def _marketing_dict(self) -> dict[str, Any]:
        assert self.marketing is not None
        d = self.marketing.to_dict()
        for key in ("period_start", "period_end"):
            d[key] = pd.Timestamp(d[key]).tz_convert(self.time_zone).isoformat()
        return d

    def document(self, stamp: dict[str, str], /) -> dict[str, Any]:
        """The JSON of ``leadsla check`` and ``GET /v1/sla/summary`` (one function, one
        document): the run's ``stamp`` (``Workspace.stamp()``: as-of in UTC, zone and their
        bases) first, then :meth:`to_dict`, and ``policy_time_zone`` (the zone of the
        policy's business hours)."""
        out: dict[str, Any] = dict(stamp)
        out.update({k: v for k, v in self.to_dict().items() if k not in out})
        out["policy_time_zone"] = self.time_zone
        return out

    def to_dict(self, *, max_breaches: int | None = None) -> dict[str, Any]:
        """SPEC.md ``check`` keys: ``as_of``, ``leads`` {met, breached, pending, …},
        ``marketing`` {target, delivered, pace, …} (None without a marketing section),
        ``breaches`` [{lead_id, rule, due, first_attempt, attempts, …}]."""
        zone = self.time_zone
        fr = self.first_response.to_dict() | {
            "target_hours": self.first_response_hours,
            "median_business_hours": self.response_hours_median,
            "p90_business_hours": self.response_hours_p90,
        }
        at = self.attempts.to_dict() | {"met_by_closing": self.attempts_met_by_closing}
        return {
            "as_of": pd.Timestamp(self.as_of).tz_convert(zone).isoformat(),
            "policy": self.policy_name,
            "time_zone": zone,
            "since": None if self.since is None else pd.Timestamp(self.since).isoformat(),
            "leads": {
                "total": self.leads,
                **self.status.to_dict(),
                "first_response": fr,
                "attempts": at,
                "by_rep": self.by_rep,
                "by_segment": self.by_segment,
            },
            "marketing": None if self.marketing is None else self._marketing_dict(),
            "warnings": self.warnings,
            "breaches_total": len(self.breaches),
            "breaches": self.breach_rows(max_breaches),
        }


# --------------------------------------------------------------------------- helpers


def iso_times(times: pd.Series, zone: str, /) -> list[str | None]:
    """UTC timestamps -> ISO 8601 texts in ``zone`` with their offset (vectorised; NaT -> None).

    ``2025-11-17T11:55:00Z`` in Europe/Berlin -> ``"2025-11-17T12:55:00+01:00"``.
    """
    if len(times) == 0:
        return []
    utc = pd.DatetimeIndex(times).tz_convert("UTC")
    ns = utc.as_unit("ns").asi8
    missing = np.asarray(utc.isna())
    wall = pd.DatetimeIndex(utc.tz_convert(zone).tz_localize(None)).as_unit("ns").asi8
    offset_s = np.where(missing, 0, (wall - ns) // _NS)
    exact = bool(np.all(np.where(missing, 0, wall % _NS) == 0))
    text = np.datetime_as_string(wall.view("datetime64[ns]"), unit="s" if exact else "us")
    uniq, inverse = np.unique(offset_s, return_inverse=True)
    labels = np.array(
        [f"{'+' if o >= 0 else '-'}{abs(o) // 3600:02d}:{abs(o) % 3600 // 60:02d}" for o in uniq]
    )
    out = np.char.add(text.astype(str), labels[inverse]).astype(object)
    out[missing] = None
    return list(out.tolist())


def _segment_warnings(
    policy: Policy, segments: Sequence[str], marketing: MarketingCheck | None
) -> list[str]:
    """Policy segments no lead has (a typo in the policy file, or a segment not yet seen)."""
    out = []
    seen = set(segments)
    named = [("sales.attempts.segments", s) for s in policy.sales.segments]
    if policy.marketing is not None and marketing is not None:
        seen_mkt = {r["segment"] for r in marketing.by_segment if r["delivered"]} | seen
        named += [("marketing.segments", s) for s in policy.marketing.segments if s not in seen_mkt]
    for where, seg in named:
        if seg in seen:
            continue
        close = difflib.get_close_matches(seg, sorted(seen), n=1)
        hint = f' Did you mean "{close[0]}"?' if close else ""
        known = ", ".join(sorted(seen)) or "none"
        out.append(
            f'policy [{where}.{seg}]: no lead in scope has segment "{seg}".{hint} '
            f"Segments in the data: {known}."
        )
    return out


def _with_start(leads: ir.Table) -> ir.Table:
    """``mql_at`` missing -> ``created_at`` (SPEC.md; a Workspace has done it already)."""
    if "created_at" not in leads.columns:
        return leads
    return leads.mutate(mql_at=leads.mql_at.fill_null(leads.created_at))


def _ints(s: pd.Series) -> list[int | None]:
    """A nullable integer column as Python ints and None."""
    mask = s.isna().to_numpy()
    values = s.fillna(0).to_numpy(dtype=np.int64).tolist()
    return [None if m else v for v, m in zip(values, mask.tolist(), strict=True)]


def _ns(col: pa.ChunkedArray | pa.Array) -> I64:
    """Arrow timestamps -> int64 ns since the UTC epoch (null -> int64 min)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    ns = pc.cast(arr, pa.timestamp("ns", tz="UTC"))
    return np.asarray(
        pc.fill_null(pc.cast(ns, pa.int64()), _NAT).to_numpy(zero_copy_only=False),
        dtype=np.int64,
    )


def _codes(col: pa.ChunkedArray, missing: str) -> tuple[I64, list[str]]:
    """Text column -> (codes, labels) with nulls as ``missing``."""
    arr = pc.fill_null(col.combine_chunks(), missing)
    enc = arr.dictionary_encode()
    labels = [str(x) for x in enc.dictionary.to_pylist()]
    return np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64), labels


def period_bounds(as_of: datetime, period: str, time_zone: str) -> tuple[datetime, datetime]:
    """The month or quarter containing ``as_of``, in ``time_zone``: [start, end) as UTC."""
    local = pd.Timestamp(as_of).tz_convert(time_zone)
    first_month = local.month if period == "month" else 3 * ((local.month - 1) // 3) + 1
    start = pd.Timestamp(year=local.year, month=first_month, day=1)
    months = 1 if period == "month" else 3
    end = start + pd.DateOffset(months=months)
    return (
        start.tz_localize(time_zone, ambiguous=True, nonexistent="shift_forward")
        .tz_convert("UTC")
        .to_pydatetime(),
        end.tz_localize(time_zone, ambiguous=True, nonexistent="shift_forward")
        .tz_convert("UTC")
        .to_pydatetime(),
    )


def _group_rows(
    codes: I64, labels: Sequence[str], key: str, status: I8, fr: I8, at: I8
) -> list[dict[str, Any]]:
    k = len(labels)
    rows = []
    counts = {
        name: np.bincount(codes[arr == value], minlength=k)
        for name, arr, value in (
            ("met", status, MET),
            ("breached", status, BREACHED),
            ("pending", status, PENDING),
            ("first_response_breached", fr, BREACHED),
            ("attempts_breached", at, BREACHED),
        )
    }
    total = np.bincount(codes, minlength=k)
    for i, label in enumerate(labels):
        if total[i] == 0:
            continue
        met, breached = int(counts["met"][i]), int(counts["breached"][i])
        rows.append(
            {
                key: label,
                "leads": int(total[i]),
                "met": met,
                "breached": breached,
                "pending": int(counts["pending"][i]),
                "first_response_breached": int(counts["first_response_breached"][i]),
                "attempts_breached": int(counts["attempts_breached"][i]),
                "compliance": met / (met + breached) if met + breached else None,
            }
        )
    rows.sort(key=lambda r: (r[key] == NO_OWNER, r[key]))
    return rows


def _counts(status: I8) -> RuleCounts:
    c = np.bincount(status, minlength=3)
    return RuleCounts(int(c[MET]), int(c[BREACHED]), int(c[PENDING]))


# --------------------------------------------------------------------------- the check


def check_compliance(
    leads: ir.Table,
    activities: ir.Table | None,
    /,
    *,
    policy: Policy,
    as_of: datetime | str | pd.Timestamp,
    since: datetime | str | pd.Timestamp | None = None,
    per_lead: bool = False,
) -> CheckResult:
    """Compliance of both sides with ``policy`` at ``as_of`` (rules in the module docstring).

    ``leads`` and ``activities`` are canonical tables (``Workspace.leads``/``.activities``);
    naive ``as_of``/``since`` are read in the policy's time zone. ``per_lead`` keeps the
    status of every lead (``result.per_lead``). No I/O beyond the engine.
    """
    cal = policy.business_calendar()
    zone = cal.time_zone
    as_of_utc = to_utc(as_of, zone)
    since_utc = None if since is None else to_utc(since, zone)
    as_of_ns = int(pd.Timestamp(as_of_utc).as_unit("ns").value)
    sales = policy.sales

    # 1. the leads in scope (one fetch)
    leads = _with_start(leads)
    cond = leads.mql_at.notnull() & (leads.mql_at <= utc_literal(as_of_utc))
    if since_utc is not None:
        cond &= leads.mql_at >= utc_literal(since_utc)
    scope = (
        leads.filter(cond)
        .select("lead_id", "mql_at", "closed_at", "status", "owner", "segment")
        .order_by("lead_id")  # a stable lead order: results do not depend on the engine's
        .to_pyarrow()
    )
    n = scope.num_rows
    start = _ns(scope["mql_at"])
    closed_at = _ns(scope["closed_at"])
    status_col = pc.fill_null(scope["status"].combine_chunks(), "open")
    is_closed = np.asarray(
        pc.is_in(status_col, value_set=pa.array(["won", "lost"])).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    closed_at = np.where(is_closed & (closed_at != _NAT) & (closed_at <= as_of_ns), closed_at, _NAT)
    seg_codes, seg_labels = _codes(scope["segment"], "all")
    own_codes, own_labels = _codes(scope["owner"], NO_OWNER)

    # 2. the deadlines (business clock, numpy; shared with the live service)
    due, end, req = lead_deadlines(start, seg_codes, seg_labels, policy=policy, calendar=cal)

    # 3. first attempt and attempts in the window, aggregated in the engine
    first = np.full(n, _NAT, dtype=np.int64)
    in_window = np.zeros(n, dtype=np.int64)
    before_close = np.zeros(n, dtype=np.int64)  # attempts from the start to the close / as-of
    contact = np.zeros(n, dtype=bool)  # a connected or replied attempt up to the close
    close_or_now = np.where(closed_at != _NAT, closed_at, as_of_ns + 1)
    if activities is not None and n:
        deadlines = ibis.memtable(
            pa.table(
                {
                    "lead_id": scope["lead_id"],
                    "_i": pa.array(np.arange(n, dtype=np.int64)),
                    "_start": pa.array(start.view("datetime64[ns]")).cast(
                        pa.timestamp("ns", tz="UTC")
                    ),
                    "_end": pa.array(end.view("datetime64[ns]")).cast(pa.timestamp("ns", tz="UTC")),
                    "_close": pa.array(close_or_now.view("datetime64[ns]")).cast(
                        pa.timestamp("ns", tz="UTC")
                    ),
                }
            )
        )
        att = activities.filter(
            activities.kind.isin(list(sales.attempt_kinds))
            & (activities.at <= utc_literal(as_of_utc))
        )
        att = att.select(
            "lead_id",
            "at",
            outcome=(
                att.outcome.cast("string")
                if "outcome" in att.columns
                else ibis.null().cast("string")
            ),
        )
        joined = att.join(deadlines, [att.lead_id == deadlines.lead_id, att.at >= deadlines._start])
        agg = (
            joined.group_by("_i")
            .aggregate(
                _first=joined.at.min(),
                # COUNT … FILTER (a BIGINT count; PostgreSQL casts no boolean to bigint)
                _n=joined.count(where=joined.at <= joined._end),
                _nc=joined.count(where=joined.at < joined._close),
                _contact=(
                    joined.outcome.isin(list(CONTACT_OUTCOMES)) & (joined.at <= joined._close)
                ).any(),
            )
            .to_pyarrow()
        )
        idx = np.asarray(agg["_i"].to_numpy(), dtype=np.int64)
        first[idx] = _ns(agg["_first"])
        in_window[idx] = np.asarray(agg["_n"].to_numpy(), dtype=np.int64)
        before_close[idx] = np.asarray(agg["_nc"].to_numpy(), dtype=np.int64)
        contact[idx] = np.asarray(
            agg["_contact"].to_numpy(zero_copy_only=False), dtype=bool
        ) & ~pd.isna(agg["_contact"].to_numpy(zero_copy_only=False))

    # 4. the rules (shared with the live service)
    has_first = first != _NAT
    fr, at = rule_status(first, in_window, due, end, req, closed_at, as_of_ns)
    minimum = minimum_rules(policy, seg_codes, seg_labels)
    if minimum.any():
        status_np = np.asarray(status_col.to_numpy(zero_copy_only=False), dtype=object)
        lost_unreached = (closed_at != _NAT) & (status_np == "lost") & ~contact
        at_min = minimum_status(before_close, req, closed_at, lost_unreached)
        at = np.where(minimum, at_min, at).astype(np.int8)
    closed_in_window = (closed_at != _NAT) & (closed_at <= end)
    enough = in_window >= req
    status = combined_status(fr, at)

    # 5. response times (business hours) of the leads that got an attempt
    med = p90 = None
    if has_first.any():
        hours = (
            np.asarray(
                cal.elapsed(
                    start[has_first].view("datetime64[ns]"),
                    first[has_first].view("datetime64[ns]"),
                )
            )
            / 3600
        )
        med, p90 = (float(x) for x in np.quantile(hours, [0.5, 0.9]))

    breaches = _breaches(
        scope,
        fr,
        at,
        due,
        end,
        first,
        in_window,
        req,
        seg_codes,
        seg_labels,
        own_codes,
        own_labels,
    )
    marketing = _marketing(leads, policy, as_of_utc, zone)
    table = None
    if per_lead:
        names = np.array(STATUSES, dtype=object)
        table = pd.DataFrame(
            {
                "lead_id": pd.Series(scope["lead_id"].to_numpy(), dtype=object),
                "owner": np.asarray(own_labels + [""], dtype=object)[own_codes],
                "segment": np.asarray(seg_labels + [""], dtype=object)[seg_codes],
                "start": _times(start),
                "due": _times(due),
                "first_attempt": _times(first),
                "window_end": _times(end),
                "attempts": in_window,
                "required": req,
                "closed_at": _times(closed_at),
                "first_response": names[fr],
                "attempts_rule": names[at],
                "status": names[status],
            }
        )
    return CheckResult(
        as_of=as_of_utc,
        policy_name=policy.name,
        time_zone=zone,
        leads=n,
        status=_counts(status),
        first_response=_counts(fr),
        attempts=_counts(at),
        first_response_hours=float(sales.first_response_hours),
        response_hours_median=med,
        response_hours_p90=p90,
        attempts_met_by_closing=int((closed_in_window & ~enough).sum()),
        by_rep=_group_rows(own_codes, own_labels, "owner", status, fr, at),
        by_segment=_group_rows(seg_codes, seg_labels, "segment", status, fr, at),
        marketing=marketing,
        breaches=breaches,
        since=since_utc,
        per_lead=table,
        warnings=_segment_warnings(policy, seg_labels, marketing),
    )


def _times(ns: I64) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")


def _breaches(
    scope: pa.Table,
    fr: I8,
    at: I8,
    due: I64,
    end: I64,
    first: I64,
    in_window: I64,
    req: I64,
    seg_codes: I64,
    seg_labels: list[str],
    own_codes: I64,
    own_labels: list[str],
) -> pd.DataFrame:
    """One row per (lead, rule) breach, newest deadline first (then lead_id, rule)."""
    i_fr, i_at = np.flatnonzero(fr == BREACHED), np.flatnonzero(at == BREACHED)
    lead = np.concatenate([i_fr, i_at])
    is_fr = np.concatenate([np.ones(len(i_fr), bool), np.zeros(len(i_at), bool)])
    deadline = np.concatenate([due[i_fr], end[i_at]])
    # leads are in lead_id order, so the lead index breaks ties like lead_id does
    order = np.lexsort((~is_fr, lead, -deadline))
    lead, is_fr, deadline = lead[order], is_fr[order], deadline[order]
    first_attempt = np.where(is_fr, first[lead], _NAT)
    return pd.DataFrame(
        {
            "lead_id": pd.Series(
                scope["lead_id"].take(pa.array(lead)).to_numpy(zero_copy_only=False),
                dtype=object,
            ),
            "rule": np.where(is_fr, "first_response", "attempts").astype(object),
            "due": _times(deadline),
            "first_attempt": _times(first_attempt),
            "attempts": pd.arrays.IntegerArray(in_window[lead], is_fr),
            "required": pd.arrays.IntegerArray(req[lead], is_fr),
            "owner": np.asarray(own_labels + [""], dtype=object)[own_codes[lead]],
            "segment": np.asarray(seg_labels + [""], dtype=object)[seg_codes[lead]],
        }
    )


def _marketing(
    leads: ir.Table, policy: Policy, as_of: datetime, zone: str
) -> MarketingCheck | None:
    """MQLs delivered so far this period, counted in the engine (grouped by segment)."""
    m = policy.marketing
    if m is None:
        return None
    p_start, p_end = period_bounds(as_of, m.period, zone)
    leads = _with_start(leads)
    in_period = (leads.mql_at >= utc_literal(p_start)) & (leads.mql_at <= utc_literal(as_of))
    is_mkt = leads.source.notnull() & (leads.source.lower() == MARKETING)
    grouped = (
        leads.group_by(segment=leads.segment.fill_null("all"))
        .aggregate(
            mqls=ibis.ifelse(in_period, 1, 0).sum(),
            marketing=ibis.ifelse(in_period & is_mkt, 1, 0).sum(),
            with_source=ibis.ifelse(leads.source.notnull(), 1, 0).sum(),
        )
        .to_pyarrow()
        .to_pylist()
    )
    any_source = any((r["with_source"] or 0) > 0 for r in grouped)
    key = "marketing" if any_source else "mqls"
    counted = (
        "leads whose source is marketing" if any_source else "every MQL (no lead has a source)"
    )
    delivered_by = {str(r["segment"]): int(r[key] or 0) for r in grouped}
    share = (as_of - p_start).total_seconds() / (p_end - p_start).total_seconds()
    share = min(max(share, 0.0), 1.0)

    def pace(delivered: int, target: int) -> tuple[float | None, float | None]:
        if share <= 0:
            return None, None
        return delivered / (target * share), delivered / share

    delivered = sum(delivered_by.values())
    overall_pace, projected = pace(delivered, m.mqls)
    rows: list[dict[str, Any]] = []
    values: list[float | None] = []
    for seg in sorted(set(delivered_by) | set(m.segments)):
        got = delivered_by.get(seg, 0)
        target_seg = m.segments.get(seg)
        value = (
            target_seg.mql_value_eur
            if target_seg is not None and target_seg.mql_value_eur is not None
            else m.mql_value_eur
        )
        p, proj = pace(got, target_seg.mqls) if target_seg is not None else (None, None)
        if target_seg is None and share > 0:
            proj = got / share
        rows.append(
            {
                "segment": seg,
                "target": None if target_seg is None else target_seg.mqls,
                "delivered": got,
                "pace": p,
                "projected": proj,
                "value_delivered_eur": None if value is None else got * float(value),
            }
        )
        if got:
            values.append(None if value is None else got * float(value))
    value_total = None if None in values else float(sum(v for v in values if v is not None))
    return MarketingCheck(
        period=m.period,
        period_start=p_start.astimezone(UTC),
        period_end=p_end.astimezone(UTC),
        elapsed_share=share,
        target=m.mqls,
        delivered=delivered,
        pace=overall_pace,
        projected=projected,
        counted=counted,
        mql_value_eur=None if m.mql_value_eur is None else float(m.mql_value_eur),
        value_delivered_eur=value_total,
        influenced_share_target=m.influenced_share,
        by_segment=rows,
    )
