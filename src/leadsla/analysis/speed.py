"""Speed to lead (METHODS §4): conversion by business time to the first attempt, and the
first-response SLA it supports.

Response time = business time (the workspace calendar, §5) from ``created_at`` to the first
contact *attempt* (activities of the attempt kinds, default call and email), not the first
successful contact. The engine (Ibis) finds each lead's first attempt; one row per mature lead
with four columns comes into Python, where the calendar turns the two instants into business
seconds (vectorised) and :func:`leadsla.analysis.valuestats.wilson_interval` gives each bucket's
interval.

Buckets, in business time: <5 min, 5–30 min, 30–60 min, 1–4 business hours, 4 h–end of
business day (4 business hours up to one business day of the calendar, e.g. 9 h for 09–18),
1–3 business days, ≥3 business days, never. Each bucket is ``[lower, upper)``: a first call
4 min 59 s after creation is "<5 min", one at 5 min 0 s is "5–30 min".

Recommended first-response SLA = max(the rate rule, the 90% floor):

- rate rule: the earliest bucket boundary after which the rate stops falling materially. A fall
  between adjacent (non-empty) buckets is *material* when it is at least ``threshold`` (2
  percentage points) **and** their Wilson intervals do not overlap; the rule is the upper edge
  of the faster bucket of the last material fall (0 when there is none: no evidence that speed
  matters);
- floor: the 90th percentile of business response time among contacted leads (what the team
  already achieves for 90% of leads), rounded up to the minute.

This is association, not cause: reps call the leads that look hot first.

>>> res = speed_analysis(ws.leads, ws.activities, calendar=cal)   # doctest: +SKIP
>>> res.to_dict()["recommended_first_response_hours"]              # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd

from leadsla.analysis.value import (
    NONE_LABEL,
    Maturity,
    MaturityRule,
    maturity_flags,
    maturity_mode,
    measure_maturity,
    resolve_as_of,
)
from leadsla.analysis.valuestats import MIN_MATURE_LEADS, wilson_interval
from leadsla.clock import BusinessCalendar, business_day_seconds
from leadsla.errors import ConfigError
from leadsla.text import hours_text
from leadsla.times import utc_literal

if TYPE_CHECKING:
    pass

__all__ = [
    "BUCKETS",
    "CAVEAT",
    "NEVER",
    "Recommendation",
    "SpeedBucket",
    "SpeedResult",
    "SpeedTable",
    "bucket_edges",
    "business_day_seconds",
    "first_attempts",
    "recommend",
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
    "rate is lead quality, not speed. Compare within a segment or source (--by) before "
    "promising a lift."
)
BY_CHOICES = ("segment", "source")
DecidedBy = Literal["rate_curve", "p90_floor"]

_MIN = 60.0
_HOUR = 3600.0
_TOL = 1e-12  # rate differences are compared with this slack (0.12 - 0.10 < 0.02 in floats)


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
    """The first-response SLA and how it was reached."""

    first_response_hours: float | None
    rate_rule_hours: float  # boundary after the last material fall; 0 = no material fall
    p90_response_hours: float | None  # None when no lead was contacted
    decided_by: DecidedBy | None
    threshold: float
    falls: list[dict[str, Any]]  # each adjacent pair: rates, difference, overlap, material

    @property
    def explanation(self) -> str:
        if self.first_response_hours is None:
            return "no recommendation: no mature lead was contacted."
        p90 = self.p90_response_hours
        rule = (
            f"the rate stops falling materially after {hours_text(self.rate_rule_hours)}"
            if self.rate_rule_hours > 0
            else "no fall between adjacent buckets is material (at least "
            f"{100 * self.threshold:g} percentage points with separate intervals)"
        )
        floor = (
            f"the team answers 90% of contacted leads within {hours_text(p90)}"
            if p90 is not None
            else "no contacted leads to measure the team's 90% response time on"
        )
        which = "the conversion curve" if self.decided_by == "rate_curve" else "the 90% floor"
        return f"{rule}; {floor}. Decided by {which}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommended_first_response_hours": self.first_response_hours,
            "rate_rule_hours": self.rate_rule_hours,
            "p90_response_hours": self.p90_response_hours,
            "decided_by": self.decided_by,
            "threshold": self.threshold,
            "explanation": self.explanation,
            "falls": self.falls,
        }


@dataclass(frozen=True)
class SpeedTable:
    """The buckets and the recommendation of one population (all leads, or one stratum)."""

    name: str
    buckets: list[SpeedBucket]
    recommendation: Recommendation
    median_response_hours: float | None

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
            "leads": self.leads,
            "contacted": self.contacted,
            "median_response_hours": self.median_response_hours,
        }


@dataclass(frozen=True)
class SpeedResult:
    """Conversion by response-time bucket, the recommended SLA, per stratum on request.

    ``to_dict`` has the SPEC keys ``buckets`` and ``recommended_first_response_hours`` plus
    ``p90_response_hours``, ``decided_by``, ``caveat``, ``excluded``, ``strata`` (with ``by``)
    and ``warnings``.
    """

    overall: SpeedTable
    strata: dict[str, SpeedTable] | None
    by: str | None
    maturity: Maturity
    attempt_kinds: tuple[str, ...]
    time_zone: str
    business_day_hours: float
    attempts_before_creation: dict[str, int]
    warnings: list[str]
    caveat: str = CAVEAT
    sql: list[str] = field(default_factory=list, repr=False)

    @property
    def buckets(self) -> list[SpeedBucket]:
        return self.overall.buckets

    @property
    def recommendation(self) -> Recommendation:
        return self.overall.recommendation

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: SPEC keys first, then the details."""
        rec = self.recommendation
        out: dict[str, Any] = {
            "buckets": [b.to_dict() for b in self.buckets],
            "recommended_first_response_hours": rec.first_response_hours,
            "p90_response_hours": rec.p90_response_hours,
            "rate_rule_hours": rec.rate_rule_hours,
            "decided_by": rec.decided_by,
            "explanation": rec.explanation,
            "threshold": rec.threshold,
            "falls": rec.falls,
            "caveat": self.caveat,
            "excluded": self.maturity.excluded(),
            "leads": self.overall.leads,
            "contacted": self.overall.contacted,
            "median_response_hours": self.overall.median_response_hours,
        }
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
            "attempts_before_creation": dict(self.attempts_before_creation),
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


# --------------------------------------------------------------------------- engine


def first_attempts(
    leads: ir.Table,
    activities: ir.Table,
    /,
    *,
    attempt_kinds: Sequence[str] = ("call", "email"),
    as_of: datetime | None = None,
) -> ir.Table:
    """Each lead with its first attempt instant and how many attempts predate its creation.

    Adds to ``leads`` (one row per lead): ``first_attempt_at`` = min over its activities of an
    attempt kind (case-insensitive) of ``greatest(at, created_at)`` — an attempt dated before
    the lead's creation is a data slip and counts as made at creation — or null when it has
    none; ``attempts_before_creation`` = how many of its attempts are dated before creation.
    With ``as_of``, activities after it are left out. Pure Ibis: nothing runs.
    """
    kinds = sorted({k.strip().lower() for k in attempt_kinds if k.strip()})
    if not kinds:
        raise ConfigError("attempt_kinds is empty: name the activity kinds that count as "
                          'contact attempts, e.g. ["call", "email"].')  # fmt: skip
    acts = activities.filter(activities.kind.lower().isin(kinds), activities["at"].notnull())
    if as_of is not None:
        acts = acts.filter(acts["at"] <= utc_literal(as_of))
    created = leads.select(__lid=leads.lead_id, __created=leads.created_at)
    j = acts.inner_join(created, acts.lead_id == created["__lid"])
    per = j.group_by(__lid=j["__lid"]).aggregate(
        first_attempt_at=ibis.greatest(j["at"], j["__created"]).min(),
        attempts_before_creation=j["__lid"].count(where=j["at"] < j["__created"]),
    )
    out = leads.left_join(per, leads.lead_id == per["__lid"])
    return out.select(
        *[out[c] for c in leads.columns],
        first_attempt_at=out.first_attempt_at,
        attempts_before_creation=out.attempts_before_creation.fill_null(0),
    )


# --------------------------------------------------------------------------- the rule


def recommend(
    leads: npt.ArrayLike,
    won: npt.ArrayLike,
    upper_hours: Sequence[float],
    /,
    *,
    response_hours: npt.ArrayLike,
    threshold: float = 0.02,
) -> Recommendation:
    """The first-response SLA from the timed buckets' counts and the response times.

    ``leads``/``won``: counts of the timed buckets in order (no "never"); ``upper_hours``:
    each bucket's upper edge (the last may be ``inf``); ``response_hours``: business hours to
    the first attempt of every contacted lead. SLA = max(rate rule, 90% floor) (module doc).
    """
    n = np.asarray(leads, dtype=np.int64)
    k = np.asarray(won, dtype=np.int64)
    lo, hi = (np.atleast_1d(x) for x in wilson_interval(k, n))
    rate = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    filled = [i for i in range(n.size) if n[i] > 0]
    falls: list[dict[str, Any]] = []
    last: int | None = None
    for a, b in zip(filled, filled[1:], strict=False):
        diff = float(rate[a] - rate[b])
        overlap = bool(lo[a] <= hi[b] and lo[b] <= hi[a])
        material = diff >= threshold - _TOL and not overlap
        falls.append({
            "after": BUCKETS[a], "before": BUCKETS[b], "boundary_hours": float(upper_hours[a]),
            "difference": diff, "intervals_overlap": overlap, "material": material,
        })  # fmt: skip
        if material:
            last = a
    rule = float(upper_hours[last]) if last is not None else 0.0
    r = np.asarray(response_hours, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size == 0:
        return Recommendation(None, rule, None, None, threshold, falls)
    p90 = float(np.quantile(r, 0.9, method="inverted_cdf"))
    floor = math.ceil(round(p90 * 60, 9)) / 60  # up to the whole minute: never tighter
    decided: DecidedBy = "rate_curve" if rule >= floor else "p90_floor"
    return Recommendation(max(rule, floor), rule, p90, decided, threshold, falls)


def _table(
    name: str,
    seconds: npt.NDArray[np.float64],
    won: npt.NDArray[np.bool_],
    edges: npt.NDArray[np.float64],
    threshold: float,
) -> SpeedTable:
    idx = assign_buckets(seconds, edges)
    nb = len(BUCKETS)
    n = np.bincount(idx, minlength=nb)
    k = np.bincount(idx, weights=won.astype(np.float64), minlength=nb).astype(np.int64)
    lo, hi = (np.atleast_1d(x) for x in wilson_interval(k, n))
    lower = [0.0, *(edges / _HOUR)]
    upper = [*(edges / _HOUR), math.inf]
    buckets = [
        SpeedBucket(
            bucket=BUCKETS[i],
            lower_hours=float(lower[i]) if i < nb - 1 else None,
            upper_hours=float(upper[i]) if i < nb - 2 else None,
            leads=int(n[i]),
            won=int(k[i]),
            rate=float(k[i] / n[i]) if n[i] else math.nan,
            rate_ci=(float(lo[i]), float(hi[i])),
        )
        for i in range(nb)
    ]
    hours = seconds[np.isfinite(seconds)] / _HOUR
    rec = recommend(n[: nb - 1], k[: nb - 1], upper, response_hours=hours, threshold=threshold)
    median = float(np.median(hours)) if hours.size else None
    return SpeedTable(name, buckets, rec, median)


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
    threshold: float = 0.02,
    as_of: datetime | str | None = None,
    maturity_quantile: float = 0.9,
    maturity: MaturityRule = "cohort",
) -> SpeedResult:
    """Close rate by business time to the first attempt, and the first-response SLA.

    Population: mature leads, by the rule of :mod:`leadsla.analysis.value` (one definition for
    every analysis): ``cutoff = as_of −`` the ``maturity_quantile`` of the creation→close lag;
    ``maturity="cohort"`` (default, as ``value``) counts leads created before the cutoff,
    ``"closed-or-old"`` also the closed leads created after it (METHODS §1 literally), ``"all"``
    or ``mature_only=False`` every lead created by ``as_of``. ``as_of`` defaults to the
    latest timestamp in the leads; when given, activities after it are left out. ``by``:
    ``segment`` or ``source`` adds one table per stratum (missing values → ``(none)``).

    Example: 3 leads called within 5 minutes, 2 won → "<5 min" 66.7% [20.8%, 93.9%].
    """
    if by is not None and by not in BY_CHOICES:
        raise ConfigError(f'cannot stratify speed by "{by}": choose segment or source.')
    mode = maturity_mode(maturity, mature_only, maturity_quantile)
    if not 0.0 <= threshold < 1.0:
        raise ConfigError(f"threshold {threshold} must be a rate difference between 0 and 1.")
    given = resolve_as_of(as_of)
    rule = measure_maturity(leads, given, maturity_quantile)
    kinds = tuple(attempt_kinds)
    fa = first_attempts(leads, activities, attempt_kinds=kinds, as_of=given)
    f = maturity_flags(fa, rule, mode)

    cols: dict[str, Any] = {
        "created_at": fa.created_at,
        "first_attempt_at": fa.first_attempt_at,
        "early": fa.attempts_before_creation,
        "created": f["created"],
        "mature": f["mature"],
        "won": f["won"],
        "left_closed": f["left_closed"],
    }
    if by is not None:
        cols["stratum"] = fa[by].cast("string").fill_null(NONE_LABEL)
    rows_q = fa.select(**cols)
    # one pull, through Arrow (much faster than the engine's own pandas conversion)
    everyone = rows_q.to_pyarrow().to_pandas()
    for flag in ("created", "mature", "won", "left_closed"):
        everyone[flag] = everyone[flag].astype("boolean").fillna(False).astype(bool)
    read = len(everyone)
    future = int((~everyone["created"]).sum())
    early = everyone["early"].fillna(0).to_numpy(dtype=np.int64)
    early_acts, early_leads = int(early.sum()), int((early > 0).sum())
    df = everyone[everyone["mature"]].reset_index(drop=True)
    mature = len(df)

    seconds = _response_seconds(calendar, df)
    won = df["won"].to_numpy(dtype=bool)
    edges = bucket_edges(calendar)
    overall = _table("all leads", seconds, won, edges, threshold)
    strata: dict[str, SpeedTable] | None = None
    warnings: list[str] = []
    if by is not None:
        strata = {}
        labels = df["stratum"].to_numpy(dtype=object)
        for name in sorted(set(labels.tolist())):
            sel = labels == name
            strata[str(name)] = _table(str(name), seconds[sel], won[sel], edges, threshold)

    mat = Maturity(
        as_of=rule.as_of, quantile=maturity_quantile, lag_seconds=rule.lag_seconds,
        cutoff=rule.cutoff if mode != "all" else None, closed_leads=rule.closed,
        leads_read=read, mature_leads=mature, immature=read - mature - future,
        immature_closed=int(everyone["left_closed"].sum()), created_after_as_of=future, rule=mode,
    )  # fmt: skip
    if mature == 0:
        warnings.append(f"no mature leads: nothing to estimate ({mat.why}).")
    if early_acts:
        warnings.append(
            f"{early_acts:,} attempt(s) on {early_leads:,} lead(s) are dated before the lead's "
            "creation (a data slip: check the time zone of the export); they count as made at "
            "creation, response time 0."
        )
    for t_ in [overall, *(strata or {}).values()]:
        where = "" if t_ is overall else f"{by}={t_.name}: "
        small = [b.bucket for b in t_.buckets if 0 < b.leads < MIN_MATURE_LEADS]
        if small:
            warnings.append(
                f"{where}buckets with fewer than {MIN_MATURE_LEADS} leads ({', '.join(small)}): "
                "their rates are too uncertain to read alone."
            )
        if mature and t_.contacted == 0:
            warnings.append(f"{where}no mature lead has an attempt of kind "
                            f"{', '.join(kinds)}: no response times to measure.")  # fmt: skip
    return SpeedResult(
        overall=overall, strata=strata, by=by, maturity=mat, attempt_kinds=kinds,
        time_zone=calendar.time_zone, business_day_hours=float(edges[4] / _HOUR),
        attempts_before_creation={"attempts": early_acts, "leads": early_leads},
        warnings=warnings, sql=[ibis.to_sql(rows_q)],
    )  # fmt: skip


def _response_seconds(calendar: BusinessCalendar, df: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Business seconds from creation to first attempt (NaN: no attempt), vectorised."""
    if df.empty:
        return np.zeros(0, dtype=np.float64)
    created = _utc(df["created_at"])
    first = _utc(df["first_attempt_at"])
    out = calendar.elapsed(created, first)
    return np.asarray(out, dtype=np.float64)


def _utc(s: pd.Series[Any]) -> pd.Series[Any]:
    """A timestamp column as tz-aware UTC (the engine may hand back naive UTC values)."""
    ts = pd.to_datetime(s)
    if getattr(ts.dt, "tz", None) is None:
        return ts.dt.tz_localize("UTC")
    return ts.dt.tz_convert("UTC")
