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

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import ibis
import ibis.expr.types as ir
import pandas as pd

from leadsla.analysis.attempts import NONE_LABEL, AttemptsResult, MissingValueError
from leadsla.analysis.attempts import from_workspace as attempts_from_workspace
from leadsla.analysis.maturity import MaturityRule
from leadsla.analysis.plan import Period, SlaPlan, plan_sla
from leadsla.analysis.speed import SpeedResult, speed_analysis
from leadsla.analysis.value import ValueResult, epoch_seconds, mql_value_table
from leadsla.clock import BusinessCalendar, calendar_config
from leadsla.errors import ConfigError
from leadsla.io.fingerprint import DataFingerprint, data_fingerprint
from leadsla.sla.policy import (
    AttemptRule,
    DataProvenance,
    MarketingPolicy,
    MarketingSegment,
    Policy,
    SalesPolicy,
)
from leadsla.text import hours_text, money

if TYPE_CHECKING:
    from leadsla.io.source import Workspace

__all__ = [
    "AGREEMENT_SCHEMA",
    "DEFAULT_ATTEMPTS",
    "DEFAULT_FIRST_RESPONSE_HOURS",
    "DEFAULT_WITHIN_DAYS",
    "WINDOW_QUANTILE",
    "Agreement",
    "AgreementFiles",
    "AttemptTarget",
    "MarketingCommitment",
    "MarketingTarget",
    "SalesCommitment",
    "draft_agreement",
]

AGREEMENT_SCHEMA = "leadsla.agreement/1"
#: First-response target when it is neither given nor measurable (no activities).
DEFAULT_FIRST_RESPONSE_HOURS = 4.0
#: Contact attempts and their window when neither given nor measurable.
DEFAULT_ATTEMPTS = 6
DEFAULT_WITHIN_DAYS = 14
FRONT_LOAD_DAYS = 14  # METHODS §7: the attempts the first 14 days allow come first
#: The attempt window D is this quantile of days from the MQL to the K-th attempt.
WINDOW_QUANTILE = 0.9
FILES = {"markdown": "sla.md", "html": "sla.html", "policy": "sla.toml"}

Progress = Callable[[str], None]


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
    def rule(self) -> str:
        """``"within"`` (an identified N*), ``"before_closing"`` (a minimum before
        disqualification: the data cannot pin N* down, METHODS.md §7)."""
        return "before_closing" if self.at_least else "within"

    @property
    def text(self) -> str:
        """The term in words: "8 contact attempts within 14 calendar days", or "no
        unresponsive lead is closed before 12 contact attempts" (never a bare "at least")."""
        if self.at_least:
            return (
                f"no unresponsive lead is closed before {self.count} contact attempts (the "
                f"team's current pace: the {self.count}th within {self.within_days} calendar "
                "days)"
            )
        front = (
            ", front-loaded: the attempts the first 14 days allow come first"
            if self.within_days > FRONT_LOAD_DAYS
            else ""
        )
        return f"{self.count} contact attempts within {self.within_days} calendar days{front}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "count": self.count,
            "at_least": self.at_least,
            "rule": self.rule,
            "text": self.text,
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
    first_response_text: str = ""  # "within 30 minutes", "same business day", …
    first_response_history: tuple[int, int] | None = None  # (met, leads) last period
    first_response_reason: str = ""  # the basis in one line

    @property
    def first_response_words(self) -> str:
        """The target as words that follow "responds to every MQL"."""
        t = (
            self.first_response_text
            or f"within {hours_text(self.first_response_hours, exact=True)}"
        )
        return {
            "same business day": "on the same business day",
            "next business day by 12:00": "by 12:00 on the next business day",
        }.get(t, t)

    @property
    def first_response_check(self) -> str:
        """The target against the data's own history: "X% of last period's N leads met it"."""
        if self.first_response_history is None or not self.first_response_history[1]:
            return "no history to check it against"
        met, n = self.first_response_history
        return f"{met / n:.1%} of last period's {n:,} leads met it"

    def to_dict(self) -> dict[str, Any]:
        met = self.first_response_history
        return {
            "first_response_hours": self.first_response_hours,
            "first_response_text": self.first_response_text or None,
            "first_response_met_share": met[0] / met[1] if met and met[1] else None,
            "first_response_history": {"met": met[0], "leads": met[1]} if met else None,
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
            return AttemptRule(
                count=t.count,
                within_days=t.within_days,
                day_kind="calendar",
                rule="before_closing" if t.at_least else "within",
            )

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
            f"{FILES['markdown']} and {FILES['html']}. First response "
            f"{s.first_response_words} (first_response_hours = {s.first_response_hours:.6g} "
            f"business hours): {s.first_response_check}.",
            data=DataProvenance(
                source=self.source,
                window=window,
                sha256=self.data.sha256,
                leads=self.data.rows.get("leads") or None,
            ),
        )
        return policy.validated()


# --------------------------------------------------------------------------- formatting


def _eur(x: float | None) -> str:
    """Whole euros (the SLA states exact amounts)."""
    return money(x, exact=True)


def _cents(x: float) -> float:
    return round(float(x), 2)


# --------------------------------------------------------------------------- the calendar


def _calendar(
    calendar: BusinessCalendar | Mapping[str, Any] | None, ws: Workspace
) -> tuple[dict[str, Any], BusinessCalendar]:
    """The calendar table for the policy and the calendar itself (default: the settings')."""
    if not isinstance(calendar, BusinessCalendar):
        calendar = ws.calendar(None if calendar is None else dict(calendar))
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
        else:  # METHODS §7: the largest count the data show paying, a minimum before closing
            k = max(a.optimal_attempts, 1)
            picks[name] = (k, True, f"N* not identified: {a.reason} A minimum before "
                           "disqualification, not a bare “at least”")  # fmt: skip
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
            db = (f"the team's current pace, not evidence: {WINDOW_QUANTILE:.0%} of the "
                  f"{reached:,} leads that reached attempt {k} had it within {q:.1f} days of "
                  "the MQL")  # fmt: skip
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
    win_value: float | None = None,
    margin: float | None = None,
    first_response_hours: float | None = None,
    attempts: int | None = None,
    within_days: int | None = None,
    calendar: BusinessCalendar | Mapping[str, Any] | None = None,
    name: str | None = None,
    bootstrap: int = 1000,
    draws: int = 10_000,
    progress: Progress | None = None,
    require_quota: bool = True,
    maturity: MaturityRule = "cohort",
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
    business hours in the workspace time zone. ``maturity``: the rule of
    :mod:`leadsla.analysis.maturity` for value, plan and speed (``--maturity``).

    Example: quota 400,000 €, originated 40%, MQL value 1,600 € → marketing delivers 100 MQLs
    a month; sales answers within the recommended hours and makes N* attempts per segment.
    """
    s = ws.settings
    say = progress or (lambda _step: None)
    if hourly_cost_eur is not None or attempts_per_hour is not None or margin is not None:
        s = s.replace(
            hourly_cost_eur=hourly_cost_eur, attempts_per_hour=attempts_per_hour, margin=margin
        )
    if win_value is not None and not (math.isfinite(win_value) and win_value > 0):
        raise ConfigError(f"--value {win_value!r} (the revenue of one won lead) must be above 0.")
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
    as_of_value = ws.as_of
    missing: dict[str, str] = {}
    warnings: list[str] = []

    say("Hashing the data")
    fingerprint = data_fingerprint(ws)

    say("MQL value")
    campaigns = ws.table("campaigns") if ws.has("campaigns") else None
    value: ValueResult | None = mql_value_table(
        ws.leads, by="campaign,segment", campaigns=campaigns, as_of=as_of_value,
        maturity_quantile=s.maturity_quantile, maturity=maturity, draws=draws, seed=s.seed,
    )  # fmt: skip

    say("Plan")
    plan: SlaPlan | None = None
    if quota is None and not seg_q:
        missing["plan"] = f"{no_quota} Marketing's side of the agreement is left out."
    else:
        try:
            plan = plan_sla(
                ws.leads, touches=ws.table("touches") if ws.has("touches") else None,
                as_of=as_of_value, maturity=maturity, maturity_quantile=s.maturity_quantile,
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
                ws,
                by="segment",
                B=bootstrap,
                cost_per_attempt=s.cost_per_attempt_eur,
                value=win_value,
                margin=s.margin,
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
            + f" {hours_text(h, exact=True)}."
        )
    else:
        speed = speed_analysis(
            ws.leads, ws.activities, calendar=cal, attempt_kinds=s.attempt_kinds,
            as_of=ws.as_of,
            maturity_quantile=s.maturity_quantile, maturity=maturity,
            hourly_cost_eur=s.hourly_cost_eur, attempts_per_hour=s.attempts_per_hour,
            margin=s.margin,
        )  # fmt: skip

    # ---- sales
    rec = speed.recommendation if speed is not None else None
    h_text, h_reason = "", ""
    if first_response_hours is not None:
        h, hb = float(first_response_hours), "given"
        h_text = speed.target_text(h) if speed is not None else ""
        if rec is not None and rec.text is not None:
            hb += f"; the data recommends {rec.text}"
    elif rec is not None and rec.first_response_hours is not None:
        h = float(rec.first_response_hours)
        h_text = rec.text or ""
        h_reason = rec.summary
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
            missing["first response"] = f"{why}; the default {hours_text(h, exact=True)} is used."
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
        first_response_text=h_text, first_response_reason=h_reason,
        first_response_history=speed.history(h) if speed is not None else None,
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
        "win_value": given(win_value, None),
        "margin": given(margin, s.margin),
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
