"""Speed to lead (METHODS §4): how conversion falls with business time to the first attempt,
what a minute is worth in euros, and the first-response target it supports.

Response time = business time (the workspace calendar, §5) from the SLA clock's start
(``mql_at``, which defaults to ``created_at``, as in the policy and ``check``) to the first
contact *attempt* at or after it (activities of the attempt kinds, default call and email).
Never-contacted leads count as not responded: they miss every target. Mature leads only (the
maturity rule and ``as_of`` of ``value``).

The engine finds each lead's first attempt; one row per mature lead comes into Python, where
the calendar turns the two instants into business seconds (a holiday calendar cannot run in
SQL). Everything after that runs on counts per owner × segment × fine time bin
(:mod:`leadsla.analysis.speedstats`):

- buckets for display (<5 min … ≥3 business days, never) with Wilson 95% intervals;
- the **effect**: Mantel–Haenszel risk ratios (Greenland–Robins intervals), owner × segment
  strata, of "first attempt within T" vs later for T = 5 min, 30 min, 1 h, 4 h and one
  business day (the end of the bucket "4 h–end of business day"), among contacted leads; the
  same among leads whose clock started outside business hours (their wait starts at the next
  opening, whatever the rep thinks of them) as a check on confounding;
- the **curve**: ``logit p = α[owner × segment] + β·ln(1 + business minutes)`` (monotone);
  evidence that faster pays = the 99% interval of β below 0 and a risk ratio above 1 (95%);
- the **value of speed**: V = mean revenue of won mature leads of the lead's segment; for each
  candidate target (5, 15, 30 min; 1, 2, 4 business hours; same business day; next business
  day by 12:00), on last period's leads (the 91 days of clock starts before the latest mature
  one): the share that met it, the modelled revenue had every contacted miss been reached by
  it, and the rep hours to do so (assumption: one attempt's time, ``1 / attempts_per_hour``,
  per lead brought forward; staffing for peaks is not in it);
- the **recommendation**: with evidence, the target of largest modelled gain net of rep time
  (hourly cost × hours); without costs, tighten while a step adds ≥ 0.1 close-rate points;
  without evidence, the team's pace (the tightest target 90% of leads already met) and "no
  evidence that faster pays". Per segment too; the segments' own targets are stated when they
  differ. Today's 90th percentile (``team_p90_hours``, never-contacted leads counted as never
  responded) is shown beside the target as the team's pace — never a floor.

Association, not cause: reps call the leads that look hot first; stratifying by owner and
segment and the off-hours check narrow that, they do not rule it out.

>>> res = speed_analysis(ws.leads, ws.activities, calendar=cal)   # doctest: +SKIP
>>> res.to_dict()["recommended_first_response_text"]               # doctest: +SKIP
'within 30 minutes'
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd

from leadsla.analysis.grouping import parse_by
from leadsla.analysis.maturity import (
    Maturity,
    MaturityRule,
    as_of_for,
    maturity_flags,
    maturity_mode,
    measure_maturity,
)
from leadsla.analysis.speedstats import (
    Aggregates,
    Candidate,
    CandidateOutcome,
    Choice,
    Curve,
    Effect,
    aggregate,
    candidate_outcomes,
    choose,
    fine_edges_minutes,
    fit_curve,
    mantel_haenszel,
)
from leadsla.analysis.value import NONE_LABEL
from leadsla.analysis.valuestats import MIN_MATURE_LEADS, wilson_interval
from leadsla.clock import BusinessCalendar, business_day_seconds
from leadsla.errors import ConfigError
from leadsla.text import hours_text
from leadsla.times import utc_literal

__all__ = [
    "BUCKETS",
    "BY_CHOICES",
    "CAVEAT",
    "NEVER",
    "Recommendation",
    "SpeedBucket",
    "SpeedResult",
    "SpeedTable",
    "assign_buckets",
    "bucket_edges",
    "business_day_seconds",
    "candidates_for",
    "first_attempts",
    "speed_analysis",
]

NEVER = "never"
BUCKETS = (
    "<5 min",
    "5–30 min",
    "30–60 min",
    "1–4 business hours",
    "4 h–end of business day",
    "1–3 business days",
    "≥3 business days",
    NEVER,
)
CAVEAT = (
    "Association, not cause: reps call hot leads faster, so part of the faster buckets' higher "
    "rate may be lead quality, not speed. The effect is measured within owner × segment and "
    "checked on leads that arrived outside business hours (their wait is set by the calendar); "
    "that narrows the doubt, it does not remove it."
)
BY_CHOICES = ("owner", "segment", "source", "campaign")
PERIOD_DAYS = 91
MIN_GAIN_POINTS = 0.1  # close-rate points a step must add when no costs are given
NEVER_SHARE_MAX = 0.10  # above this share never contacted, the team's p90 is "never"

_MIN = 60.0
_HOUR = 3600.0


# --------------------------------------------------------------------------- buckets


def bucket_edges(calendar: BusinessCalendar, /) -> npt.NDArray[np.float64]:
    """The six inner bucket edges in business seconds: 5, 30, 60 min, 4 h, 1 and 3 days.

    With a business day of 9 h: ``[300, 1800, 3600, 14400, 32400, 97200]``. A day shorter
    than 4 h leaves "4 h–end of business day" empty (edges never decrease).
    """
    day = business_day_seconds(calendar)
    edges = np.array([5 * _MIN, 30 * _MIN, _HOUR, 4 * _HOUR, day, 3 * day], dtype=np.float64)
    return np.maximum.accumulate(edges)


def assign_buckets(seconds: npt.ArrayLike, edges: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Bucket index (0–7) of each response time in business seconds; NaN (no attempt) → 7."""
    s = np.asarray(seconds, dtype=np.float64)
    idx = np.searchsorted(np.asarray(edges, dtype=np.float64), s, side="right").astype(np.int64)
    idx[np.isnan(s)] = len(BUCKETS) - 1
    return idx


def candidates_for(calendar: BusinessCalendar, /) -> list[Candidate]:
    """The targets a sales leader uses, tightest first; ``hours`` as the policy holds them.

    "same business day" = by the close of the business day the clock starts on (the next
    opening's day when it starts outside hours); in the policy file, one business day, the
    longest wait it allows. "next business day by 12:00" = by noon of the business day after
    that; in the policy, one business day plus the open hours before noon.
    """
    day_h = business_day_seconds(calendar) / _HOUR
    morning = 0.0
    for day in calendar.hours:
        if day:
            morning = sum(max(0, min(e, 12 * 3600) - s) for s, e in day) / _HOUR
            break
    return [
        Candidate("5min", "within 5 minutes", 5 / 60),
        Candidate("15min", "within 15 minutes", 15 / 60),
        Candidate("30min", "within 30 minutes", 0.5),
        Candidate("1h", "within 1 business hour", 1.0),
        Candidate("2h", "within 2 business hours", 2.0),
        Candidate("4h", "within 4 business hours", 4.0),
        Candidate("same_day", "same business day", day_h),
        Candidate("next_noon", "next business day by 12:00", day_h + morning),
    ]


def _thresholds(day_minutes: float) -> list[tuple[float, str]]:
    return [(5.0, "5 min"), (30.0, "30 min"), (60.0, "1 business hour"),
            (240.0, "4 business hours"), (day_minutes, "one business day")]  # fmt: skip


# --------------------------------------------------------------------------- results


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class SpeedBucket:
    """One response-time bucket: leads, won, close rate with its Wilson 95% interval."""

    bucket: str
    lower_hours: float | None  # business hours; None for "never"
    upper_hours: float | None  # None for the last timed bucket and "never"
    leads: int
    won: int
    rate: float
    rate_ci: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "leads": self.leads,
            "won": self.won,
            "rate": _finite(self.rate),
            "rate_ci": [_finite(self.rate_ci[0]), _finite(self.rate_ci[1])],
            "lower_hours": self.lower_hours,
            "upper_hours": self.upper_hours,
        }


@dataclass(frozen=True)
class Recommendation:
    """The first-response target of one population and what it rests on."""

    target: Candidate | None
    on_evidence: bool
    rule: str
    met_share: float | None  # share of last period's leads that met it
    team: Candidate | None  # the team's pace: tightest target 90% of leads met
    team_p90_hours: float | None  # None = "never" (over 10% never contacted) or no leads
    never_share: float
    period_leads: int
    value_per_hour_eur: float | None
    off_hours_note: str = ""

    @property
    def first_response_hours(self) -> float | None:
        # exactly the stated unit (5 min = 5/60 h): the policy's check then counts a first
        # attempt at 5:00 as met, like this analysis
        return None if self.target is None else self.target.hours

    @property
    def text(self) -> str | None:
        return None if self.target is None else self.target.text

    @property
    def team_p90_text(self) -> str:
        if self.period_leads == 0:
            return "–"
        if self.team_p90_hours is None:
            return (f"never: {self.never_share:.1%} of last period's leads were never "
                    "contacted, so 90% were not all reached")  # fmt: skip
        return hours_text(self.team_p90_hours)

    @property
    def summary(self) -> str:
        """What the target rests on, in one line."""
        if self.target is None:
            return "no mature lead to measure response times on"
        pace = f"today's p90 {self.team_p90_text.split(':')[0]}"
        if not self.on_evidence:
            return f"no evidence that faster pays, so the team's pace ({pace})"
        gain = (
            f"; a business hour of delay costs {self.value_per_hour_eur:,.0f} € per lead"
            if self.value_per_hour_eur is not None
            else ""
        )
        return (f"conversion falls with response time within owner × segment{gain}; "
                f"{self.rule}; {pace} (association, not proven cause)")  # fmt: skip

    @property
    def explanation(self) -> str:
        """What the target rests on, in one paragraph."""
        if self.target is None:
            return "no recommendation: no mature lead to measure response times on."
        met = f"{self.met_share:.1%}" if self.met_share is not None else "–"
        head = f"{self.target.text}: {met} of last period's {self.period_leads:,} leads met it"
        pace = f"the team's 90th percentile today is {self.team_p90_text}"
        if self.on_evidence:
            why = (
                "conversion falls with business response time within owner × segment "
                "(the modelled trend and a risk ratio's interval exclude no effect); "
                f"{self.rule}"
            )
            if self.value_per_hour_eur is not None:
                why += (
                    "; at today's median response a business hour of delay costs "
                    f"{self.value_per_hour_eur:,.2f} € of expected revenue per lead"
                )
        else:
            why = ("no evidence that faster pays (the modelled trend's 99% interval and a "
                   "risk ratio's 95% interval do not both exclude no effect): the target is "
                   "the team's pace")  # fmt: skip
        off = f"; {self.off_hours_note}" if self.off_hours_note else ""
        return f"{head}; {why}; {pace} (the team's pace, not a floor){off}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommended_first_response_hours": self.first_response_hours,
            "recommended_first_response_text": self.text,
            "on_evidence": self.on_evidence,
            "rule": self.rule,
            "met_share": self.met_share,
            "team_pace": None if self.team is None else self.team.text,
            "team_p90_hours": self.team_p90_hours,
            "team_p90_text": self.team_p90_text,
            "never_contacted_share": self.never_share,
            "period_leads": self.period_leads,
            "value_per_business_hour_eur": self.value_per_hour_eur,
            "basis": self.explanation,
        }


@dataclass(frozen=True)
class SpeedTable:
    """Buckets, effect, curve, targets and recommendation of one population."""

    name: str
    buckets: list[SpeedBucket]
    effect: list[Effect]
    effect_off_hours: list[Effect]
    curve: Curve
    targets: list[CandidateOutcome]
    recommendation: Recommendation
    median_response_hours: float | None
    curve_points: list[tuple[float, float]]  # (business hours, modelled close rate)

    @property
    def leads(self) -> int:
        return sum(b.leads for b in self.buckets)

    @property
    def contacted(self) -> int:
        return sum(b.leads for b in self.buckets if b.bucket != NEVER)

    def bucket(self, name: str) -> SpeedBucket:
        return next(b for b in self.buckets if b.bucket == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "buckets": [b.to_dict() for b in self.buckets],
            **self.recommendation.to_dict(),
            "effect": [e.to_dict() for e in self.effect],
            "effect_off_hours": [e.to_dict() for e in self.effect_off_hours],
            "model": self.curve.to_dict(),
            "targets": [t.to_dict() for t in self.targets],
            "leads": self.leads,
            "contacted": self.contacted,
            "median_response_hours": self.median_response_hours,
        }


@dataclass(frozen=True)
class SpeedResult:
    """The speed-to-lead analysis; ``to_dict`` has the SPEC keys first.

    ``buckets``, ``recommended_first_response_hours`` (+ ``_text``), ``team_p90_hours``,
    ``effect`` (``within_hours``, ``risk_ratio``, ``risk_ratio_ci``, counts), ``basis``; then
    ``effect_off_hours``, ``model``, ``targets``, ``by_segment``, ``strata`` (with ``by``),
    ``caveat``, ``excluded``, ``warnings``, calendar and maturity.
    """

    overall: SpeedTable
    segments: dict[str, SpeedTable]
    segments_differ: bool
    strata: dict[str, SpeedTable] | None
    by: str | None
    maturity: Maturity
    attempt_kinds: tuple[str, ...]
    time_zone: str
    business_day_hours: float
    period: tuple[datetime, datetime] | None
    hours_per_lead: float
    hourly_cost_eur: float
    attempts_before_start: dict[str, int]
    warnings: list[str]
    caveat: str = CAVEAT
    sql: list[str] = field(default_factory=list, repr=False)
    period_minutes: npt.NDArray[np.float64] = field(
        default_factory=lambda: np.zeros(0), repr=False
    )  # business minutes to the first attempt of last period's leads (NaN: never)

    @property
    def buckets(self) -> list[SpeedBucket]:
        return self.overall.buckets

    def history(self, hours: float, /) -> tuple[int, int]:
        """(met, leads): how many of last period's leads had a first attempt within ``hours``
        business hours of their clock start (never-contacted leads missed it)."""
        t = self.period_minutes
        return int(np.sum(np.isfinite(t) & (t <= hours * 60.0 + 1e-9))), int(t.size)

    def target_text(self, hours: float, /) -> str:
        """A business-hours target said in human units: the candidate's words when it is one
        ("within 30 minutes"), else "within N business hours/minutes"."""
        rec = self.recommendation
        for o in self.overall.targets:
            c = o.candidate
            if c.key not in ("same_day", "next_noon") and math.isclose(
                c.hours, hours, abs_tol=1e-6
            ):
                return c.text
        if rec.target is not None and math.isclose(rec.target.hours, hours, abs_tol=1e-6):
            return rec.target.text
        return f"within {hours_text(hours)}"

    @property
    def recommendation(self) -> Recommendation:
        return self.overall.recommendation

    @property
    def effect(self) -> list[Effect]:
        return self.overall.effect

    @property
    def cost_assumption(self) -> str:
        if self.hourly_cost_eur <= 0:
            return (f"no rep cost given: a faster target must add at least {MIN_GAIN_POINTS:g} "
                    "close-rate points to be recommended")  # fmt: skip
        return (
            f"each lead brought within a target costs one attempt's time "
            f"({self.hours_per_lead * 60:.0f} min of a rep at {self.hourly_cost_eur:,.0f} €/h); "
            "staffing for peaks is not in it"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: SPEC keys first, then the details."""
        o = self.overall
        rec = o.recommendation.to_dict()
        out: dict[str, Any] = {
            "as_of": self.maturity.as_of.isoformat(),
            "buckets": [b.to_dict() for b in o.buckets],
            "recommended_first_response_hours": rec.pop("recommended_first_response_hours"),
            "recommended_first_response_text": rec.pop("recommended_first_response_text"),
            "team_p90_hours": rec.pop("team_p90_hours"),
            "effect": [e.to_dict() for e in o.effect],
            "basis": rec.pop("basis"),
            **rec,
            "effect_off_hours": [e.to_dict() for e in o.effect_off_hours],
            "model": o.curve.to_dict(),
            "targets": [t.to_dict() for t in o.targets],
            "cost_assumption": self.cost_assumption,
            "period": None if self.period is None else
            {"from": self.period[0].isoformat(), "to": self.period[1].isoformat()},
            "by_segment": {name: {**t.recommendation.to_dict(),
                                  "effect": [e.to_dict() for e in t.effect]}
                           for name, t in self.segments.items()},
            "segments_differ": self.segments_differ,
            "caveat": self.caveat,
            "excluded": self.maturity.excluded(),
            "leads": o.leads,
            "contacted": o.contacted,
            "median_response_hours": o.median_response_hours,
        }  # fmt: skip
        if self.strata is not None:
            out["by"] = self.by
            out["strata"] = {name: t.to_dict() for name, t in self.strata.items()}
        out |= {
            "warnings": list(self.warnings),
            "attempt_kinds": list(self.attempt_kinds),
            "calendar": {
                "time_zone": self.time_zone,
                "business_day_hours": self.business_day_hours,
            },
            "attempts_before_start": dict(self.attempts_before_start),
            "maturity": self.maturity.to_dict(),
        }
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per (stratum, bucket); ``stratum`` is ``all leads`` for the pooled rows."""
        tables = [self.overall, *(self.strata or {}).values()]
        recs = []
        for t in tables:
            for b in t.buckets:
                d = b.to_dict()
                lo, hi = d.pop("rate_ci")
                recs.append({"stratum": t.name, **d, "rate_lo": lo, "rate_hi": hi})
        cols = ["stratum", "bucket", "lower_hours", "upper_hours", "leads", "won", "rate",
                "rate_lo", "rate_hi"]  # fmt: skip
        return pd.DataFrame.from_records(recs, columns=cols).astype(
            {"rate": "float64", "rate_lo": "float64", "rate_hi": "float64"}
        )


def bucket_mid(b: SpeedBucket, day_hours: float) -> float:
    """The middle of a bucket on a log scale, in business hours (for charts)."""
    lo = b.lower_hours or 0.0
    hi = b.upper_hours if b.upper_hours is not None else max(lo * 2, 5 * day_hours)
    return math.sqrt(max(lo, 1 / 120) * hi)


# --------------------------------------------------------------------------- engine


def first_attempts(
    leads: ir.Table,
    activities: ir.Table,
    /,
    *,
    attempt_kinds: Sequence[str] = ("call", "email"),
    as_of: datetime | None = None,
) -> ir.Table:
    """Each lead with its clock start, first attempt and how many attempts predate the start.

    Adds to ``leads`` (one row per lead): ``clock_start`` = ``mql_at``, else ``created_at``;
    ``first_attempt_at`` = the earliest activity of an attempt kind (case-insensitive) at or
    after the clock start (as ``check`` counts), null when none; ``attempts_before_start`` =
    its attempts dated before the start (not a response: before the lead was handed over, or
    a time-zone slip). With ``as_of``, activities after it are left out. Pure Ibis.
    """
    kinds = sorted({k.strip().lower() for k in attempt_kinds if k.strip()})
    if not kinds:
        raise ConfigError("attempt_kinds is empty: name the activity kinds that count as "
                          'contact attempts, e.g. ["call", "email"].')  # fmt: skip
    start = (
        leads.mql_at.fill_null(leads.created_at) if "mql_at" in leads.columns
        else leads.created_at
    )  # fmt: skip
    leads = leads.mutate(clock_start=start)
    acts = activities.filter(activities.kind.lower().isin(kinds), activities["at"].notnull())
    if as_of is not None:
        acts = acts.filter(acts["at"] <= utc_literal(as_of))
    starts = leads.select(__lid=leads.lead_id, __start=leads.clock_start)
    j = acts.inner_join(starts, acts.lead_id == starts["__lid"])
    per = j.group_by(__lid=j["__lid"]).aggregate(
        first_attempt_at=j["at"].min(where=j["at"] >= j["__start"]),
        attempts_before_start=j["__lid"].count(where=j["at"] < j["__start"]),
    )
    out = leads.left_join(per, leads.lead_id == per["__lid"])
    return out.select(
        *[out[c] for c in leads.columns],
        first_attempt_at=out.first_attempt_at,
        attempts_before_start=out.attempts_before_start.fill_null(0),
    )


# --------------------------------------------------------------------------- populations


@dataclass
class _Leads:
    """Per-lead arrays of one population (numpy), ready to aggregate."""

    minutes: npt.NDArray[np.float64]  # NaN: never contacted
    won: npt.NDArray[np.bool_]
    stratum: npt.NDArray[np.int64]  # owner × segment code
    off_hours: npt.NDArray[np.bool_]
    in_period: npt.NDArray[np.bool_]
    value: npt.NDArray[np.float64] | None  # V of the lead's segment
    deadlines: npt.NDArray[np.float64]  # (candidates, leads) minutes
    late: npt.NDArray[np.bool_] | None = None  # (candidates, leads): missed, by instants

    def take(self, sel: npt.NDArray[np.bool_]) -> _Leads:
        return _Leads(self.minutes[sel], self.won[sel], self.stratum[sel], self.off_hours[sel],
                      self.in_period[sel], None if self.value is None else self.value[sel],
                      self.deadlines[:, sel],
                      None if self.late is None else self.late[:, sel])  # fmt: skip


def _table(
    name: str,
    pop: _Leads,
    strata: tuple[str, ...],
    edges: npt.NDArray[np.float64],
    fine: npt.NDArray[np.float64],
    cands: list[Candidate],
    *,
    hours_per_lead: float,
    hourly_cost: float,
    day_minutes: float,
) -> SpeedTable:
    seconds = pop.minutes * 60.0
    idx = assign_buckets(seconds, edges)
    nb = len(BUCKETS)
    n = np.bincount(idx, minlength=nb)
    k = np.bincount(idx, weights=pop.won.astype(np.float64), minlength=nb).astype(np.int64)
    lo, hi = (np.atleast_1d(x) for x in wilson_interval(k, n))
    lower = [0.0, *(edges / _HOUR)]
    upper = [*(edges / _HOUR), math.inf]
    buckets = [
        SpeedBucket(
            bucket=BUCKETS[i],
            lower_hours=float(lower[i]) if i < nb - 1 else None,
            upper_hours=float(upper[i]) if i < nb - 2 else None,
            leads=int(n[i]), won=int(k[i]),
            rate=float(k[i] / n[i]) if n[i] else math.nan,
            rate_ci=(float(lo[i]), float(hi[i])),
        )
        for i in range(nb)
    ]  # fmt: skip
    agg = aggregate(pop.minutes, pop.won, pop.stratum, strata, fine)
    thresholds = _thresholds(day_minutes)
    effect = mantel_haenszel(agg, thresholds)
    off = pop.off_hours  # only their response times count: no copy of the deadline arrays
    agg_off = aggregate(pop.minutes[off], pop.won[off], pop.stratum[off], strata, fine)
    effect_off = mantel_haenszel(agg_off, thresholds)
    curve = fit_curve(agg)
    per = pop.take(pop.in_period)
    targets = candidate_outcomes(
        curve, cands, stratum=per.stratum, minutes=per.minutes, deadline_minutes=per.deadlines,
        value=per.value, late=per.late, hours_per_lead=hours_per_lead, hourly_cost=hourly_cost,
    )  # fmt: skip
    contacted = np.isfinite(pop.minutes)
    median = float(np.median(pop.minutes[contacted])) / 60 if contacted.any() else None
    rec = _recommend(curve, effect, targets, per, agg, median, hourly_cost)
    rec = dataclasses.replace(rec, off_hours_note=_off_hours_note(effect, effect_off))
    weights = agg.n.sum(axis=1) + agg.never_n
    grid = np.geomspace(0.5, max(day_minutes * 10, 600.0), 60)
    points = (
        [(float(g / 60), float(p)) for g, p in zip(grid, curve.average(grid, weights),
                                                    strict=True)]
        if agg.n.sum() else []
    )  # fmt: skip
    return SpeedTable(name, buckets, effect, effect_off, curve, targets, rec, median, points)


def _off_hours_note(effect: list[Effect], off: list[Effect]) -> str:
    """The confounding check in words, at 1 business hour (the middle threshold)."""
    e, o = effect[2], off[2]
    if o.risk_ratio is None or o.ci is None:
        return "too few leads arrived outside business hours for the confounding check"
    said = (f"among leads that arrived outside business hours (their wait is set by the "
            f"calendar, not by a rep's choice) the risk ratio of a first attempt within "
            f"{o.label} vs later is {o.risk_ratio:.2f} ({o.ci[0]:.2f}–{o.ci[1]:.2f})")  # fmt: skip
    if e.risk_ratio is None:
        return said
    if o.ci[0] > 1.0:
        return f"{said}: the same direction, so reps' choice of leads does not explain it all"
    if o.risk_ratio > 1.0:
        return f"{said}: the same direction, not significant on its own"
    return f"{said}: no effect there, so part of the association may be reps' choice of leads"


def _recommend(
    curve: Curve,
    effect: list[Effect],
    targets: list[CandidateOutcome],
    per: _Leads,
    agg: Aggregates,
    median_hours: float | None,
    hourly_cost: float,
) -> Recommendation:
    leads = per.minutes.size
    never = float(np.isnan(per.minutes).mean()) if leads else 0.0
    if leads == 0 or agg.n.sum() == 0:
        return Recommendation(None, False, "no contacted mature leads", None, None, None,
                              never, leads, None)  # fmt: skip
    t = np.where(np.isnan(per.minutes), np.inf, per.minutes)
    p90m = float(np.quantile(t, 0.9, method="inverted_cdf"))
    p90 = None if (never > NEVER_SHARE_MAX or not math.isfinite(p90m)) else p90m / 60
    use_costs = hourly_cost > 0 and per.value is not None
    # evidence: the modelled trend is significant AND at least one stratified risk ratio's
    # interval lies above 1 (two signs, so a no-effect CRM rarely gets a tighter target)
    evidence = curve.evidence and any(e.claimed and (e.risk_ratio or 0) > 1 for e in effect)
    choice: Choice = choose(targets, evidence=evidence, use_costs=use_costs,
                            min_gain_points=MIN_GAIN_POINTS)  # fmt: skip
    if choice.team_index is None:
        # no listed target reaches 90% of leads: the team's pace in whole business days, from
        # the p90 of all leads (of the contacted ones when over 10% were never contacted)
        contacted = t[np.isfinite(t)]
        p90c = p90m if math.isfinite(p90m) else (
            float(np.quantile(contacted, 0.9, method="inverted_cdf")) if contacted.size
            else math.inf
        )  # fmt: skip
        day_min = targets[-2].candidate.hours * 60.0
        days = max(2, math.ceil(round(p90c / day_min, 6))) if math.isfinite(p90c) else 5
        slow = Candidate(f"{days}d", f"within {days} business days", days * day_min / 60.0)
        met = int(np.sum(t <= days * day_min + 1e-9))
        extra = CandidateOutcome(
            slow,
            leads,
            met,
            int(np.isfinite(t).sum()) - met,
            int(np.isnan(per.minutes).sum()),
            None,
            0.0,
            0.0,
            0.0,
        )
        targets.append(extra)
        if not choice.on_evidence:
            choice = Choice(len(targets) - 1, len(targets) - 1, False, choice.rule)
        else:
            choice = Choice(choice.index, len(targets) - 1, True, choice.rule)
    chosen = targets[choice.index]
    team = targets[choice.team_index].candidate if choice.team_index is not None else None
    vph = None
    if per.value is not None and median_hours is not None and evidence:
        # d/dt of the stratum-averaged close rate at today's median, × the mean V
        m = max(median_hours * 60, 1.0)
        w = agg.n.sum(axis=1) + agg.never_n
        p0, p1 = curve.average([m, m + 60.0], w)
        v = float(np.nanmean(per.value)) if per.value.size else math.nan
        vph = float((p0 - p1) * v) if math.isfinite(v) else None
    return Recommendation(
        chosen.candidate,
        choice.on_evidence,
        choice.rule,
        chosen.met_share,
        team,
        p90,
        never,
        leads,
        vph,
    )


def _deadlines(
    calendar: BusinessCalendar,
    start: pd.Series[Any],
    first: pd.Series[Any],
    minutes: npt.NDArray[np.float64],
    cands: list[Candidate],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """(candidates, leads): business minutes from each lead's clock start to its deadline,
    and whether its first attempt came after it (by business time for the durations, by the
    instant for the calendar targets: a call at 18:30 is still the same day)."""
    n = len(start)
    out = np.empty((len(cands), n), dtype=np.float64)
    late = np.zeros((len(cands), n), dtype=bool)
    contacted = np.isfinite(minutes)
    for j, c in enumerate(cands):
        if c.key not in ("same_day", "next_noon"):
            out[j] = c.hours * 60.0
            late[j] = contacted & (minutes > out[j] + 1e-9)
    if n == 0:
        return out, late
    zone = calendar.time_zone
    opened = pd.Series(calendar.next_open(start), index=start.index)
    local_day = opened.dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
    close_day = _local(local_day + pd.Timedelta(days=1), zone)
    same = np.asarray(calendar.elapsed(start, close_day), dtype=np.float64) / 60.0
    nxt = pd.Series(calendar.next_open(close_day), index=start.index)
    noon = _local(nxt.dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
                  + pd.Timedelta(hours=12), zone)  # fmt: skip
    noon = noon.where(noon >= nxt, nxt)
    nextnoon = np.asarray(calendar.elapsed(start, noon), dtype=np.float64) / 60.0
    first_ns = first.to_numpy(dtype="datetime64[ns]")
    for j, c in enumerate(cands):
        if c.key in ("same_day", "next_noon"):
            out[j] = same if c.key == "same_day" else nextnoon
            instant = (close_day if c.key == "same_day" else noon).to_numpy(dtype="datetime64[ns]")
            late[j] = contacted & (first_ns >= instant if c.key == "same_day"
                                   else first_ns > instant)  # fmt: skip
    return out, late


def _local(naive: pd.Series[Any], zone: str) -> pd.Series[Any]:
    return naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert(
        "UTC"
    )


# --------------------------------------------------------------------------- the analysis


def speed_analysis(
    leads: ir.Table,
    activities: ir.Table,
    /,
    *,
    calendar: BusinessCalendar,
    attempt_kinds: Sequence[str] = ("call", "email"),
    by: str | None = None,
    mature_only: bool = True,
    as_of: datetime | str | None = None,
    maturity_quantile: float = 0.9,
    maturity: MaturityRule = "cohort",
    hourly_cost_eur: float = 60.0,
    attempts_per_hour: float = 6.0,
    margin: float | None = None,
) -> SpeedResult:
    """Conversion by business time to the first attempt, its value, and the target.

    Population: mature leads by the rule of :mod:`leadsla.analysis.maturity` (the won leads'
    lag; every lead when none is open). ``as_of``: ``ws.as_of`` from the command line, else
    the latest event in ``leads`` and ``activities``; activities after it are left out.
    ``by``: owner, segment, source or campaign adds one table per group (missing values →
    ``(none)``), each with its own buckets, effect (still stratified by owner × segment) and
    target. ``hourly_cost_eur`` 0 = no costs (the threshold rule). ``margin`` scales V.
    """
    by = next(iter(parse_by(by, BY_CHOICES, what="stratify speed", most=1)), None)
    if attempts_per_hour <= 0 or hourly_cost_eur < 0:
        raise ConfigError("attempts_per_hour must be above 0 and hourly_cost_eur at least 0.")
    mode = maturity_mode(maturity, mature_only, maturity_quantile)
    at = as_of_for(as_of, leads, activities)
    rule = measure_maturity(leads, at, maturity_quantile)
    kinds = tuple(attempt_kinds)
    fa = first_attempts(leads, activities, attempt_kinds=kinds, as_of=at)
    f = maturity_flags(fa, rule, mode)

    def text(col: str) -> ir.Value:
        if col in fa.columns:
            return fa[col].cast("string").fill_null(NONE_LABEL)
        return ibis.literal(NONE_LABEL)

    cols: dict[str, Any] = {
        "clock_start": fa.clock_start,
        "first_attempt_at": fa.first_attempt_at,
        "early": fa.attempts_before_start,
        "created": f["created"],
        "mature": f["mature"],
        "won": f["won"],
        "left_closed": f["left_closed"],
        "revenue": fa.revenue if "revenue" in fa.columns else ibis.null("float64"),
        "owner": text("owner"),
        "segment": text("segment"),
    }
    if by is not None and by not in ("owner", "segment"):
        cols["group"] = text(by)
    rows_q = fa.select(**cols)
    everyone = rows_q.to_pyarrow().to_pandas()
    for flag in ("created", "mature", "won", "left_closed"):
        everyone[flag] = everyone[flag].astype("boolean").fillna(False).astype(bool)
    read = len(everyone)
    future = int((~everyone["created"]).sum())
    early = everyone["early"].fillna(0).to_numpy(dtype=np.int64)
    early_acts, early_leads = int(early.sum()), int((early > 0).sum())
    df = everyone[everyone["mature"]].reset_index(drop=True)
    left_closed = int(everyone["left_closed"].sum())
    del everyone  # (its mature rows are df: not held twice through the per-lead steps)
    mature = len(df)

    start = _utc(df["clock_start"])
    first = _utc(df["first_attempt_at"])
    seconds = np.asarray(calendar.elapsed(start, first), dtype=np.float64) if mature else \
        np.zeros(0)  # fmt: skip
    minutes = seconds / 60.0
    won = df["won"].to_numpy(dtype=bool)
    owner = df["owner"].astype(str).to_numpy()
    segment = df["segment"].astype(str).to_numpy()
    # the strata "owner × segment", sorted, and each lead's: the text of each distinct pair
    # only (hashing codes, not sorting a million strings)
    o_code, o_text = pd.factorize(owner)
    s_code, s_text = pd.factorize(segment)
    pairs, pair_of = np.unique(o_code.astype(np.int64) * max(len(s_text), 1) + s_code,
                               return_inverse=True)  # fmt: skip
    pair_text = np.array([f"{o_text[c // len(s_text)]} × {s_text[c % len(s_text)]}"
                          for c in pairs], dtype=str)  # fmt: skip
    strata_labels, label_of = np.unique(pair_text, return_inverse=True)
    stratum = label_of[pair_of] if mature else np.zeros(0, dtype=np.int64)
    strata = tuple(str(s) for s in strata_labels)
    off_hours = ~np.asarray(calendar.is_open(start), dtype=bool) if mature else np.zeros(0, bool)
    # last period: the 91 days of clock starts up to the latest mature one
    period: tuple[datetime, datetime] | None = None
    in_period = np.ones(mature, dtype=bool)
    if mature:
        last = start.max()
        first_day = last - pd.Timedelta(days=PERIOD_DAYS)
        in_period = (start > first_day).to_numpy()
        period = (first_day.to_pydatetime(), last.to_pydatetime())
    # V per lead: mean revenue of the won mature leads of its segment (else of all)
    rev = pd.to_numeric(df["revenue"], errors="coerce").to_numpy(dtype=np.float64)
    group = df["group"].astype(str).to_numpy() if "group" in df.columns else None
    del df  # its columns are arrays now: not held through the per-lead steps
    won_rev = won & np.isfinite(rev)
    value: npt.NDArray[np.float64] | None = None
    if won_rev.any():
        overall_v = float(rev[won_rev].mean())
        seg_v = pd.Series(rev[won_rev]).groupby(segment[won_rev]).mean()
        per_segment = seg_v.reindex(s_text).to_numpy(dtype=np.float64)  # by segment code
        value = np.where(np.isnan(per_segment), overall_v, per_segment)[s_code]
        if margin is not None:
            value = value * margin
    cands = candidates_for(calendar)
    deadlines, late = _deadlines(calendar, start, first, minutes, cands)
    pop = _Leads(minutes, won, stratum.astype(np.int64), off_hours, in_period, value, deadlines,
                 late)  # fmt: skip

    day_seconds = business_day_seconds(calendar)
    edges = bucket_edges(calendar)
    fine = fine_edges_minutes(day_seconds / 60.0)
    hpl = 1.0 / attempts_per_hour
    kw = {"hours_per_lead": hpl, "hourly_cost": float(hourly_cost_eur),
          "day_minutes": day_seconds / 60.0}  # fmt: skip
    overall = _table("all leads", pop, strata, edges, fine, cands, **kw)
    segments: dict[str, SpeedTable] = {}
    seg_names = sorted(set(segment.tolist()))
    if len(seg_names) > 1:
        for name in seg_names:
            segments[name] = _table(name, pop.take(segment == name), strata, edges, fine, cands,
                                    **kw)  # fmt: skip
    chosen = {t.recommendation.text for t in segments.values() if t.recommendation.target}
    differ = len(chosen) > 1
    strata_tables: dict[str, SpeedTable] | None = None
    if by is not None:
        labels = {"owner": owner, "segment": segment}.get(by)
        if labels is None:
            assert group is not None  # selected by the query for any other grouping
            labels = group
        strata_tables = {}
        for name in sorted(set(labels.tolist())):
            strata_tables[str(name)] = _table(str(name), pop.take(labels == name), strata, edges,
                                              fine, cands, **kw)  # fmt: skip

    mat = Maturity.of(
        rule, mode, maturity_quantile, leads_read=read, mature_leads=mature,
        immature=read - mature - future, immature_closed=left_closed,
        created_after_as_of=future,
    )  # fmt: skip
    warnings = _warnings(mat, overall, strata_tables, by, kinds, early_acts, early_leads, value)
    return SpeedResult(
        overall=overall, segments=segments, segments_differ=differ, strata=strata_tables, by=by,
        maturity=mat, attempt_kinds=kinds, time_zone=calendar.time_zone,
        business_day_hours=float(day_seconds / _HOUR), period=period, hours_per_lead=hpl,
        hourly_cost_eur=float(hourly_cost_eur),
        attempts_before_start={"attempts": early_acts, "leads": early_leads},
        warnings=warnings, sql=[ibis.to_sql(rows_q)], period_minutes=minutes[in_period],
    )  # fmt: skip


def _warnings(
    mat: Maturity,
    overall: SpeedTable,
    strata: dict[str, SpeedTable] | None,
    by: str | None,
    kinds: tuple[str, ...],
    early_acts: int,
    early_leads: int,
    value: npt.NDArray[np.float64] | None,
) -> list[str]:
    out: list[str] = []
    if mat.mature_leads == 0:
        out.append(f"no mature leads: nothing to estimate ({mat.why}).")
    if early_acts:
        out.append(
            f"{early_acts:,} attempt(s) on {early_leads:,} lead(s) are dated before the lead's "
            "clock start (mql_at, else created_at): before the lead was handed over, or a "
            "time-zone slip in the export. They are not a response; the first attempt after "
            "the start is."
        )
    if mat.mature_leads and value is None:
        out.append("no won lead has a revenue: the value of speed cannot be put in euros; the "
                   "target follows the close-rate threshold.")  # fmt: skip
    for t_ in [overall, *(strata or {}).values()]:
        where = "" if t_ is overall else f"{by}={t_.name}: "
        small = [b.bucket for b in t_.buckets if 0 < b.leads < MIN_MATURE_LEADS]
        if small:
            out.append(
                f"{where}buckets with fewer than {MIN_MATURE_LEADS} leads ({', '.join(small)}): "
                "their rates are too uncertain to read alone."
            )
        if mat.mature_leads and t_.contacted == 0:
            out.append(f"{where}no mature lead has an attempt of kind "
                       f"{', '.join(kinds)}: no response times to measure.")  # fmt: skip
    return out


def _utc(s: pd.Series[Any]) -> pd.Series[Any]:
    """A timestamp column as tz-aware UTC (the engine may hand back naive UTC values)."""
    ts = pd.to_datetime(s)
    if getattr(ts.dt, "tz", None) is None:
        return ts.dt.tz_localize("UTC")
    return ts.dt.tz_convert("UTC")
