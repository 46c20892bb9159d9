"""A realistic synthetic CRM with known truth, for ``leadsla demo`` and the tests of every analysis.

``generate(out_dir)`` writes ``leads``, ``activities``, ``campaigns`` and ``touches`` (Parquet or
CSV, the canonical columns of SPEC.md, timestamps in UTC) and ``truth.json``, the values the
analyses should recover. ``generate_frames()`` returns the same data as pandas DataFrames.

The model (every number below is a constant of this module; only the sampling depends on the
seed, so the truth is the same for every seed):

- Leads come from 10 campaigns (75%), from sales' own prospecting (20%, no campaign) and from
  partners (5%), over the 18 months before ``as_of``; mostly in business hours (Mon-Fri 09-18
  local), some evenings and weekends. Trade-show leads arrive in bursts.
- Each lead has a segment (revenue lognormal: enterprise ~60k, mid-market ~15k, smb ~3k) and an
  owner among 12 reps, who differ in response speed, in how often they never call, and in how
  many attempts they make before giving up (1 to 25: every k has leads at risk).
- The first attempt comes D business minutes after creation (lognormal per rep); the bucket of
  D (METHODS.md §4) multiplies the win hazard: 1.5 under 5 minutes ... 0.6 after 3 days.
- At attempt k a lead is won with hazard ``h1[segment] * decay[segment]**(k-1) * quality *
  speed``, lost after contact with hazard ``lost[segment]`` (a connected call or replied
  email that said no), else the sequence goes on, business hours to days later, until the
  rep's stopping point: the lead is then abandoned (lost, never connected), or still open
  when the next step falls after ``as_of``.
- ``closed_at`` is a few minutes (2-15) after the deciding attempt for won and lost-after-
  contact leads, so "attempts strictly before closed_at" counts it; days later for abandoned
  leads. Won leads often get a meeting (and an SMS reminder) after closing; neither is an
  attempt kind.

The truth is computed exactly from the model mixture (no simulation): the life-table hazard
the estimator targets on mature data, ``E[d_k^W] / E[n_k]``, summed over every (campaign, rep,
response bucket, stopping point) type of a segment, each type's chance to reach attempt k and
its own hazard. Leads still open at ``as_of`` are not in the truth (they are a small,
independently censored share). Response buckets are in business time with no holidays; the
bucket "4 h-end of business day" is 4 to 9 business hours (one business day).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BUCKETS",
    "MAX_ATTEMPTS",
    "SCHEMAS",
    "SEGMENTS",
    "SynthFrames",
    "SynthResult",
    "attempt_counts",
    "attempt_crm_frames",
    "generate",
    "generate_frames",
    "truth",
]

Format = Literal["parquet", "csv"]
ProgressFn = Callable[[int, int], None]
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

MAX_ATTEMPTS = 25
"""K: the largest attempt count the process can produce (the most persistent reps stop here)."""

_BLOCK = 25_000  # leads per random-number block: the data do not depend on chunk_size
_DAY = 86_400
_HOUR = 3_600
_OPEN = 9 * _HOUR  # business hours 09:00-18:00 local, Monday to Friday
_BDAY = 9 * _HOUR  # business seconds in a day
_BWEEK = 5 * _BDAY
_SPAN_DAYS = 548  # ~18 months of leads before as_of
_HORIZON_DAYS = 1_500  # local-date offsets kept beyond as_of (later events are dropped anyway)
_DEFAULT_AS_OF = datetime(2026, 6, 30, 18, 0)  # local, in the time zone asked for
_US = 1_000_000
_UTC = pa.timestamp("us", tz="UTC")

# --- the model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    name: str
    mean_revenue: float  # mean of the lognormal revenue of a won lead (EUR)
    revenue_sigma: float
    win_first: float  # h_1 of a lead with quality x speed multiplier 1
    win_decay: float  # h_k = h_1 * decay**(k-1)
    lost: float  # lost-after-contact hazard at every attempt


_SEGMENTS = (
    _Segment("enterprise", 60_000.0, 0.9, 0.008, 0.92, 0.035),
    _Segment("mid-market", 15_000.0, 0.8, 0.035, 0.58, 0.045),
    _Segment("smb", 3_000.0, 0.7, 0.070, 0.52, 0.055),
)
SEGMENTS = tuple(s.name for s in _SEGMENTS)


@dataclass(frozen=True)
class _Origin:
    source: str  # marketing / sales / partner
    campaign: str | None
    type: str | None
    share: float  # share of all leads
    segment_mix: tuple[float, float, float]  # enterprise, mid-market, smb
    quality: float  # multiplier on the win hazard
    cost_per_lead: float = 0.0
    window: tuple[float, float] = (0.0, 1.0)  # part of the 18 months when it brings leads


_ORIGINS = (
    _Origin(
        "marketing", "Webinar: Forecasting 101", "webinar", 0.075, (0.15, 0.45, 0.40), 1.10, 60.0
    ),
    _Origin("marketing", "Webinar: RevOps Live", "webinar", 0.060, (0.20, 0.45, 0.35), 1.25, 70.0),
    _Origin("marketing", "Demo Request", "demo", 0.090, (0.20, 0.40, 0.40), 1.60, 90.0),
    _Origin("marketing", "Product Tour", "demo", 0.045, (0.10, 0.40, 0.50), 1.35, 55.0),
    _Origin(
        "marketing",
        "DMEXCO 2025",
        "trade show",
        0.050,
        (0.45, 0.40, 0.15),
        0.90,
        250.0,
        (0.45, 0.47),
    ),
    _Origin(
        "marketing",
        "SaaStock Europe 2026",
        "trade show",
        0.040,
        (0.40, 0.40, 0.20),
        0.80,
        300.0,
        (0.82, 0.84),
    ),
    _Origin("marketing", "SLA Playbook Ebook", "content", 0.115, (0.10, 0.35, 0.55), 0.70, 25.0),
    _Origin("marketing", "Blog Newsletter", "content", 0.090, (0.05, 0.30, 0.65), 0.55, 10.0),
    _Origin("marketing", "Google Ads Brand", "paid search", 0.110, (0.10, 0.35, 0.55), 1.05, 45.0),
    _Origin("marketing", "LinkedIn ABM", "paid social", 0.075, (0.40, 0.45, 0.15), 0.75, 120.0),
    _Origin("sales", None, None, 0.200, (0.45, 0.40, 0.15), 1.15),
    _Origin("partner", None, None, 0.050, (0.30, 0.45, 0.25), 1.40),
)
_SOURCES = ("marketing", "sales", "partner")
_CAMPAIGNS = tuple(o.campaign for o in _ORIGINS if o.campaign is not None)
_TYPE_CHANNEL = {
    "webinar": "webinar",
    "demo": "demo request",
    "trade show": "event",
    "content": "content",
    "paid search": "paid search",
    "paid social": "paid social",
}
_BUSINESS_SHARE = {"marketing": 0.82, "sales": 0.97, "partner": 0.90}  # of weekday creations
_WEEKEND_WEIGHT = {"marketing": 0.22, "sales": 0.02, "partner": 0.10}  # per weekend day
_EXTRA_TOUCHES = {"marketing": 0.5, "sales": 0.3, "partner": 0.3}  # Poisson mean, nurture
_NURTURE_TYPES = ("webinar", "content", "paid search", "paid social")


@dataclass(frozen=True)
class _Rep:
    name: str
    response_median_min: float  # median business minutes to the first attempt
    never_share: float  # leads the rep never contacts
    typical_max: float  # typical number of attempts before giving up
    segments: tuple[float, float, float]  # assignment weights by segment


_REPS = (
    _Rep("Anna Becker", 3.0, 0.01, 20.0, (3.0, 0.0, 0.0)),
    _Rep("Jonas Weber", 25.0, 0.03, 15.0, (3.0, 1.0, 0.0)),
    _Rep("Lea Schmidt", 150.0, 0.05, 11.0, (2.0, 1.0, 0.0)),
    _Rep("Lukas Fischer", 8.0, 0.02, 9.0, (1.0, 2.0, 0.0)),
    _Rep("Mia Wagner", 45.0, 0.03, 13.0, (0.0, 3.0, 0.0)),
    _Rep("Felix Hoffmann", 400.0, 0.06, 6.0, (0.0, 3.0, 1.0)),
    _Rep("Sophie Schulz", 12.0, 0.02, 18.0, (0.0, 2.0, 1.0)),
    _Rep("Paul Koch", 90.0, 0.04, 8.0, (0.0, 1.0, 2.0)),
    _Rep("Emma Richter", 5.0, 0.02, 5.0, (0.0, 0.0, 3.0)),
    _Rep("Noah Klein", 30.0, 0.03, 10.0, (0.0, 0.0, 3.0)),
    _Rep("Hannah Wolf", 700.0, 0.08, 4.0, (0.0, 0.0, 3.0)),
    _Rep("Elias Neumann", 60.0, 0.04, 14.0, (0.0, 1.0, 3.0)),
)
_RESPONSE_SIGMA = 1.4  # lognormal sigma of the first-attempt delay
_RESPONSE_CAP_MIN = 40 * 9 * 60  # delays longer than 40 business days are cut there
_MAX_SIGMA = 0.5  # lognormal spread of a rep's stopping point around its typical value
_GAP_MEDIAN = 0.5 * _BDAY  # median business time between attempts 1 and 2 ...
_GAP_GROWTH = 0.12  # ... growing 12% of it per attempt
_GAP_SIGMA = 0.7
_GAP_MIN = 600

BUCKETS: tuple[tuple[str, float, float, float], ...] = (
    ("<5 min", 0.0, 5.0, 1.50),
    ("5–30 min", 5.0, 30.0, 1.30),
    ("30–60 min", 30.0, 60.0, 1.15),
    ("1–4 business hours", 60.0, 240.0, 1.00),
    ("4 h–end of business day", 240.0, 540.0, 0.85),
    ("1–3 business days", 540.0, 1620.0, 0.72),
    ("≥3 business days", 1620.0, math.inf, 0.60),
)
"""Response-time buckets of METHODS.md §4 in business minutes [lower, upper) and the true
multiplier on the win hazard; leads never attempted form the bucket "never"."""

_KINDS = ("call", "email", "meeting", "sms")
_OUTCOMES = ("connected", "no_answer", "voicemail", "sent", "replied")
_STATUSES = ("open", "won", "lost")
_TEAMS = ("marketing", "sales", "partner")
_CHANNELS = (*dict.fromkeys(_TYPE_CHANNEL.values()), "partner referral", "call", "email")

SCHEMAS: dict[str, pa.Schema] = {
    "leads": pa.schema(
        [
            ("lead_id", pa.string()),
            ("created_at", _UTC),
            ("segment", pa.string()),
            ("campaign", pa.string()),
            ("source", pa.string()),
            ("owner", pa.string()),
            ("status", pa.string()),
            ("closed_at", _UTC),
            ("revenue", pa.float64()),
            ("mql_at", _UTC),
        ]
    ),
    "activities": pa.schema(
        [
            ("activity_id", pa.string()),
            ("lead_id", pa.string()),
            ("at", _UTC),
            ("kind", pa.string()),
            ("rep", pa.string()),
            ("outcome", pa.string()),
        ]
    ),
    "campaigns": pa.schema(
        [("campaign", pa.string()), ("type", pa.string()), ("cost", pa.float64())]
    ),
    "touches": pa.schema(
        [
            ("lead_id", pa.string()),
            ("at", _UTC),
            ("channel", pa.string()),
            ("team", pa.string()),
            ("campaign", pa.string()),
        ]
    ),
}
"""The Arrow schema of every table written (timestamps are UTC microseconds)."""

_TABLES = ("leads", "activities", "campaigns", "touches")
_DICT_COLUMNS = [
    "segment",
    "campaign",
    "source",
    "owner",
    "status",
    "kind",
    "rep",
    "outcome",
    "channel",
    "team",
    "type",
]


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthResult:
    """What :func:`generate` wrote: the folder, each file, its row count and the truth."""

    out_dir: Path
    files: dict[str, Path]
    rows: dict[str, int]
    truth: dict[str, Any]
    format: Format


@dataclass(frozen=True)
class SynthFrames:
    """The synthetic CRM as pandas DataFrames (the same data :func:`generate` writes)."""

    leads: pd.DataFrame
    activities: pd.DataFrame
    campaigns: pd.DataFrame
    touches: pd.DataFrame
    truth: dict[str, Any]


# --- calendar ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """Everything fixed before sampling: the calendar, the as-of instant, the lookup tables."""

    seed: int
    leads: int
    tz: str
    as_of: int  # UTC epoch seconds
    ref_epoch: int  # the naive local reference Monday 00:00 read as UTC epoch seconds
    first_day: int  # local day indices (days since the reference Monday) of the lead span
    last_day: int
    offsets: IntArray  # UTC offset (seconds) of each local day since the reference Monday
    day_cdf: FloatArray  # (origins, days in span)
    digits: int
    response_effect: tuple[float, ...] | None = None  # multipliers per bucket; None: BUCKETS'

    def to_utc(self, local: IntArray) -> IntArray:
        """Local wall-clock seconds (since the reference Monday) -> UTC epoch seconds.

        Every generated wall-clock time is between 04:00 and 24:00, so the offset of the local
        date (taken at noon) is the offset of the instant: DST switches happen at 02:00-03:00.
        """
        day = np.clip(local // _DAY, 0, self.offsets.size - 1)
        return self.ref_epoch + local - self.offsets[day]


def _to_business(local: IntArray) -> IntArray:
    """Local seconds -> business seconds since the reference Monday (outside hours: the next
    opening)."""
    week, rest = np.divmod(local, 7 * _DAY)
    day, sod = np.divmod(rest, _DAY)
    inside = np.clip(sod - _OPEN, 0, _BDAY)
    return np.where(day >= 5, (week + 1) * _BWEEK, week * _BWEEK + day * _BDAY + inside)


def _from_business(business: IntArray) -> IntArray:
    """Business seconds since the reference Monday -> local seconds (09:00 <= time < 18:00)."""
    week, rest = np.divmod(business, _BWEEK)
    day, sec = np.divmod(rest, _BDAY)
    return week * 7 * _DAY + day * _DAY + _OPEN + sec


def _resolve_as_of(as_of: str | datetime | pd.Timestamp | None, tz: str) -> pd.Timestamp:
    """The as-of instant in UTC, whole seconds; naive values are read in ``tz``."""
    ts = pd.Timestamp(_DEFAULT_AS_OF if as_of is None else as_of)
    if ts.tzinfo is None:
        ts = ts.tz_localize(tz)
    return ts.tz_convert("UTC").floor("s")


def _noon_offset(day: date, zone: ZoneInfo) -> int:
    """UTC offset in seconds of ``zone`` at local noon of ``day``."""
    offset = datetime(day.year, day.month, day.day, 12, tzinfo=zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _plan(leads: int, seed: int, as_of: pd.Timestamp, tz: str) -> _Plan:
    zone = ZoneInfo(tz)
    last_date = as_of.tz_convert(tz).date()
    first_date = last_date - timedelta(days=_SPAN_DAYS - 1)
    ref = first_date - timedelta(days=first_date.weekday() + 7)  # a Monday before the span
    n_days = (last_date - ref).days + 1 + _HORIZON_DAYS
    offsets = np.array([_noon_offset(ref + timedelta(days=d), zone) for d in range(n_days)])
    first_day = (first_date - ref).days
    last_day = (last_date - ref).days
    days = np.arange(first_day, last_day + 1)
    frac = (days - first_day) / max(1, last_day - first_day)
    weekday = days % 7
    cdfs = []
    for o in _ORIGINS:
        w = np.where(weekday >= 5, _WEEKEND_WEIGHT[o.source], 1.0) * (1.0 + 0.6 * frac)
        lo, hi = o.window
        w = w * ((frac >= lo) & (frac <= hi))
        if w.sum() == 0:  # a window narrower than a day (tiny spans): its nearest day
            w[int(np.argmin(np.abs(frac - lo)))] = 1.0
        cdfs.append(np.cumsum(w) / w.sum())
    day_cdf = np.array(cdfs)
    day_cdf[:, -1] = 1.0
    return _Plan(
        seed=seed,
        leads=leads,
        tz=tz,
        as_of=int(as_of.timestamp()),
        ref_epoch=(ref - date(1970, 1, 1)).days * _DAY,
        first_day=first_day,
        last_day=last_day,
        offsets=offsets,
        day_cdf=day_cdf,
        digits=max(7, len(str(leads))),
    )


# --- model tables shared by the sampler and the truth -------------------------------------------


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _origin_shares() -> FloatArray:
    p = np.array([o.share for o in _ORIGINS])
    return p / p.sum()


def _segment_given_origin() -> FloatArray:
    m = np.array([o.segment_mix for o in _ORIGINS])
    return m / m.sum(axis=1, keepdims=True)


def _rep_given_segment() -> FloatArray:
    w = np.array([r.segments for r in _REPS]).T  # (segments, reps)
    return w / w.sum(axis=1, keepdims=True)


def _bucket_given_rep() -> FloatArray:
    """P(contacted and response bucket b | rep), shape (reps, buckets)."""
    out = np.zeros((len(_REPS), len(BUCKETS)))
    for i, r in enumerate(_REPS):
        for b, (_, lo, hi, _m) in enumerate(BUCKETS):
            f_hi = (
                1.0
                if math.isinf(hi)
                else _phi(math.log(hi / r.response_median_min) / _RESPONSE_SIGMA)
            )
            f_lo = 0.0 if lo == 0 else _phi(math.log(lo / r.response_median_min) / _RESPONSE_SIGMA)
            out[i, b] = (1.0 - r.never_share) * (f_hi - f_lo)
    return out


def _max_given_rep() -> FloatArray:
    """P(stopping point M = m | rep), m = 1..K, shape (reps, K)."""
    out = np.zeros((len(_REPS), MAX_ATTEMPTS))
    for i, r in enumerate(_REPS):
        cdf = [
            _phi(math.log((m + 0.5) / r.typical_max) / _MAX_SIGMA) for m in range(1, MAX_ATTEMPTS)
        ]
        edges = np.array([0.0, *cdf, 1.0])
        out[i] = np.diff(edges)
    return out


def _win_base() -> FloatArray:
    """h_1 * decay**(k-1) per segment, shape (segments, K)."""
    k = np.arange(MAX_ATTEMPTS)
    return np.array([s.win_first * s.win_decay**k for s in _SEGMENTS])


def _multipliers(
    response_effect: tuple[float, ...] | None = None,
) -> tuple[FloatArray, FloatArray]:
    speed = [b[3] for b in BUCKETS] if response_effect is None else list(response_effect)
    return np.array([o.quality for o in _ORIGINS]), np.array(speed, dtype=np.float64)


def _effect(response_effect: Any) -> tuple[float, ...] | None:
    """Checked multipliers of the win hazard per response bucket (one per BUCKETS entry)."""
    if response_effect is None:
        return None
    values = tuple(float(x) for x in response_effect)
    if len(values) != len(BUCKETS) or not all(0 < x < 10 for x in values):
        raise ValueError(
            f"response_effect needs {len(BUCKETS)} multipliers between 0 and 10 (one per "
            f"bucket {', '.join(b[0] for b in BUCKETS)}), not {response_effect!r}."
        )
    return values


def _cdf(p: FloatArray) -> FloatArray:
    c = np.cumsum(p, axis=-1)
    c = c / c[..., -1:]
    c[..., -1] = 1.0
    return c


def _draw(rng: np.random.Generator, cdf: FloatArray, rows: IntArray) -> IntArray:
    """One category per element, from the row ``rows[i]`` of a table of CDFs."""
    u = rng.random(rows.size)
    out = np.empty(rows.size, dtype=np.int64)
    for r in range(cdf.shape[0]):
        mask = rows == r
        if mask.any():
            out[mask] = np.searchsorted(cdf[r], u[mask], side="right")
    return np.minimum(out, cdf.shape[1] - 1)


# --- sampling ---------------------------------------------------------------------------------


@dataclass
class _Tables:
    """One block's rows as Arrow tables."""

    leads: pa.Table
    activities: pa.Table
    touches: pa.Table


def _ids(prefix: str, nums: IntArray, width: int, seq: IntArray | None = None) -> pa.Array:
    """``prefix`` + zero-padded ``nums`` (+ ``-`` + 2-digit ``seq``), built without Python
    strings."""
    n = nums.size
    head = prefix.encode()
    size = len(head) + width + (3 if seq is not None else 0)
    buf = np.empty((n, size), dtype=np.uint8)
    buf[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    v = nums.astype(np.int64)
    for j in range(len(head) + width - 1, len(head) - 1, -1):
        v, d = np.divmod(v, 10)
        buf[:, j] = 48 + d
    if seq is not None:
        buf[:, -3] = ord("-")
        buf[:, -2] = 48 + seq // 10
        buf[:, -1] = 48 + seq % 10
    offsets = np.arange(n + 1, dtype=np.int32) * size
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf))


def _labels(labels: tuple[str, ...], codes: IntArray) -> pa.Array:
    """Strings from category codes; a negative code is null."""
    idx = pa.array(codes.astype(np.int32), mask=codes < 0)
    return pc.take(pa.array(labels, type=pa.string()), idx)


def _ts(seconds: IntArray, valid: BoolArray | None = None) -> pa.Array:
    mask = None if valid is None else ~valid
    return pa.array(seconds.astype(np.int64) * _US, type=_UTC, mask=mask)


def _simulate(plan: _Plan, block: int, first: int, n: int) -> _Tables:
    """Leads ``first .. first+n-1``, their activities and touches, from block ``block``'s seed."""
    rng = np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(block,)))
    K = MAX_ATTEMPTS
    kk = np.arange(K)
    rows = np.arange(n)
    source_of = np.array([_SOURCES.index(o.source) for o in _ORIGINS])
    campaign_of = np.array([_CAMPAIGNS.index(o.campaign) if o.campaign else -1 for o in _ORIGINS])
    quality, speed = _multipliers(plan.response_effect)

    # who: origin, segment, rep
    origin = _draw(rng, _cdf(_origin_shares())[None, :], np.zeros(n, dtype=np.int64))
    seg = _draw(rng, _cdf(_segment_given_origin()), origin)
    rep = _draw(rng, _cdf(_rep_given_segment()), seg)
    source = source_of[origin]

    # when: a day of the span (per origin), a time of day
    day = _draw(rng, plan.day_cdf, origin) + plan.first_day
    u1, u2 = rng.random(n), rng.random(n)
    business_share = np.array([_BUSINESS_SHARE[s] for s in _SOURCES])[source]
    off = u2 * 7 * _HOUR
    tod = np.where(
        day % 7 >= 5,
        8 * _HOUR + u2 * 14 * _HOUR,
        np.where(
            u1 < business_share,
            _OPEN + u2 * 9 * _HOUR,
            np.where(off < 2 * _HOUR, 7 * _HOUR + off, 18 * _HOUR + off - 2 * _HOUR),
        ),
    ).astype(np.int64)
    created_local = day * _DAY + tod
    created_local -= _DAY * (plan.to_utc(created_local) > plan.as_of)
    created = plan.to_utc(created_local)
    created_b = _to_business(created_local)

    # first response: never, or D business seconds; its bucket multiplies the win hazard
    never = rng.random(n) < np.array([r.never_share for r in _REPS])[rep]
    median = np.array([r.response_median_min for r in _REPS])[rep]
    delay_min = np.minimum(
        median * np.exp(_RESPONSE_SIGMA * rng.standard_normal(n)), _RESPONSE_CAP_MIN
    )
    delay = np.floor(delay_min * 60.0).astype(np.int64)
    edges = np.array([b[1] * 60.0 for b in BUCKETS])
    bucket = np.searchsorted(edges, delay, side="right") - 1

    # stopping point and the attempt process
    stop = _draw(rng, _cdf(_max_given_rep()), rep) + 1
    stop = np.where(never, 0, stop)
    h_win = _win_base()[seg] * (quality[origin] * speed[bucket])[:, None]
    h_lost = np.array([s.lost for s in _SEGMENTS])[seg][:, None]
    u = rng.random((n, K))
    event = (u < h_win + h_lost) & (kk[None, :] < stop[:, None])
    has_event = event.any(axis=1)
    at = event.argmax(axis=1)
    m = np.where(has_event, at + 1, stop)  # attempts the process makes
    won = has_event & (u[rows, at] < h_win[rows, at])
    gaps = (
        _GAP_MEDIAN
        * (1.0 + _GAP_GROWTH * kk[:-1])
        * np.exp(_GAP_SIGMA * rng.standard_normal((n, K - 1)))
    )
    steps = np.zeros((n, K), dtype=np.int64)
    steps[:, 1:] = np.cumsum(np.maximum(_GAP_MIN, np.floor(gaps)).astype(np.int64), axis=1)
    attempt_b = (created_b + delay)[:, None] + steps

    # closing: a few minutes after the deciding attempt; days later when abandoned
    last_b = attempt_b[rows, np.maximum(m - 1, 0)]
    last_t = plan.to_utc(_from_business(last_b))
    lag = rng.integers(120, 901, n)
    disposition = np.clip(
        np.exp(math.log(3 * _DAY) + 0.8 * rng.standard_normal(n)), _HOUR, 60 * _DAY
    ).astype(np.int64)
    close_never = rng.random(n) < 0.6
    never_delay = rng.integers(10 * _DAY, 90 * _DAY, n)
    closes = has_event | (m > 0) | close_never
    closed = np.where(
        has_event, last_t + lag, np.where(m > 0, last_t + disposition, created + never_delay)
    )
    is_closed = closes & (closed <= plan.as_of)
    status = np.where(is_closed, np.where(won, 1, 2), 0)

    # revenue and MQL time
    mu = np.array([math.log(s.mean_revenue) - s.revenue_sigma**2 / 2 for s in _SEGMENTS])
    sigma = np.array([s.revenue_sigma for s in _SEGMENTS])
    revenue = np.round(np.exp(mu[seg] + sigma[seg] * rng.standard_normal(n)), 2)
    is_won = status == 1
    first_t = plan.to_utc(_from_business(created_b + delay))
    mql_delay = np.where(rng.random(n) < 0.3, rng.integers(60, 1801, n), 0)
    mql = np.minimum(created + mql_delay, plan.as_of)
    mql = np.where(m > 0, np.minimum(mql, np.maximum(first_t, created)), mql)

    # attempt activities (lead-major, in time order), cut at as_of
    mask = kk[None, :] < m[:, None]
    a_lead, a_k = np.nonzero(mask)
    a_t = plan.to_utc(_from_business(attempt_b[mask]))
    deciding = (a_k == m[a_lead] - 1) & has_event[a_lead]
    ua, ub = rng.random(a_lead.size), rng.random(a_lead.size)
    a_kind = np.where(ua < np.where(deciding, 0.8, 0.65), 0, 1)
    a_out = np.where(
        deciding,
        np.where(a_kind == 0, 0, 4),
        np.where(a_kind == 0, np.where(ub < 0.6, 1, 2), 3),
    )
    keep = a_t <= plan.as_of

    # meetings (and SMS reminders) after some wins
    meet_b = last_b + rng.integers(4 * _HOUR, 5 * _BDAY, n)
    meet_t = plan.to_utc(_from_business(meet_b))
    meet = is_won & (rng.random(n) < 0.6) & (meet_t <= plan.as_of)
    sms = meet & (rng.random(n) < 0.5)

    act_lead = np.concatenate([a_lead[keep], np.nonzero(sms)[0], np.nonzero(meet)[0]])
    act_t = np.concatenate([a_t[keep], meet_t[sms] - 2 * _HOUR, meet_t[meet]])
    act_kind = np.concatenate([a_kind[keep], np.full(sms.sum(), 3), np.full(meet.sum(), 2)])
    act_out = np.concatenate([a_out[keep], np.full(sms.sum(), 3), np.full(meet.sum(), 0)])
    order = np.lexsort((act_t, act_lead))
    act_lead, act_t = act_lead[order], act_t[order]
    act_kind, act_out = act_kind[order], act_out[order]
    starts = np.searchsorted(act_lead, act_lead, side="left")
    act_seq = np.arange(act_lead.size) - starts + 1

    # touches: the originating touch, nurture touches, the first sales attempts
    origin_touch = source != 1
    ch_of = np.array(
        [
            _CHANNELS.index(_TYPE_CHANNEL[o.type])
            if o.type
            else _CHANNELS.index("partner referral")
            for o in _ORIGINS
        ]
    )
    lam = np.array([_EXTRA_TOUCHES[s] for s in _SOURCES])[source]
    n_extra = rng.poisson(lam)
    e_lead = np.repeat(rows, n_extra)
    end = np.where(is_closed, closed, plan.as_of)
    e_t = created[e_lead] + np.floor(rng.random(e_lead.size) * (end - created)[e_lead]).astype(
        np.int64
    )
    nurture = np.array([o.type in _NURTURE_TYPES for o in _ORIGINS], dtype=float)
    e_origin = _draw(
        rng, _cdf(nurture * _origin_shares())[None, :], np.zeros(e_lead.size, dtype=np.int64)
    )
    s_sel = keep & (a_k < 3)
    t_lead = np.concatenate([np.nonzero(origin_touch)[0], e_lead, a_lead[s_sel]])
    t_t = np.concatenate([created[origin_touch], e_t, a_t[s_sel]])
    t_rank = np.concatenate(
        [np.zeros(origin_touch.sum()), np.ones(e_lead.size), np.full(s_sel.sum(), 2)]
    )
    t_channel = np.concatenate(
        [
            ch_of[origin][origin_touch],
            ch_of[e_origin],
            np.where(a_kind[s_sel] == 0, _CHANNELS.index("call"), _CHANNELS.index("email")),
        ]
    )
    t_team = np.concatenate(
        [
            np.where(source[origin_touch] == 2, 2, 0),
            np.zeros(e_lead.size, dtype=np.int64),
            np.ones(s_sel.sum(), dtype=np.int64),
        ]
    )
    t_campaign = np.concatenate(
        [campaign_of[origin][origin_touch], campaign_of[e_origin], np.full(s_sel.sum(), -1)]
    )
    order = np.lexsort((t_rank, t_t, t_lead))

    lead_num = first + rows + 1
    reps = tuple(r.name for r in _REPS)
    leads_tbl = pa.Table.from_arrays(
        [
            _ids("L", lead_num, plan.digits),
            _ts(created),
            _labels(SEGMENTS, seg),
            _labels(_CAMPAIGNS, campaign_of[origin]),
            _labels(_SOURCES, source),
            _labels(reps, rep),
            _labels(_STATUSES, status),
            _ts(np.where(is_closed, closed, 0), is_closed),
            pa.array(revenue, mask=~is_won),
            _ts(mql, source == 0),
        ],
        schema=SCHEMAS["leads"],
    )
    act_tbl = pa.Table.from_arrays(
        [
            _ids("A", lead_num[act_lead], plan.digits, act_seq),
            _ids("L", lead_num[act_lead], plan.digits),
            _ts(act_t),
            _labels(_KINDS, act_kind),
            _labels(reps, rep[act_lead]),
            _labels(_OUTCOMES, act_out),
        ],
        schema=SCHEMAS["activities"],
    )
    t_lead = t_lead[order]
    touch_tbl = pa.Table.from_arrays(
        [
            _ids("L", lead_num[t_lead], plan.digits),
            _ts(t_t[order]),
            _labels(_CHANNELS, t_channel[order]),
            _labels(_TEAMS, t_team[order]),
            _labels(_CAMPAIGNS, t_campaign[order]),
        ],
        schema=SCHEMAS["touches"],
    )
    return _Tables(leads_tbl, act_tbl, touch_tbl)


def _campaigns_table(leads: int) -> pa.Table:
    """The campaigns with their types and costs (cost per lead x the leads it brings)."""
    share = _origin_shares()
    rows = [
        (o.campaign, o.type, round(o.cost_per_lead * leads * p, 2))
        for o, p in zip(_ORIGINS, share, strict=True)
        if o.campaign
    ]
    return pa.Table.from_pylist(
        [{"campaign": c, "type": t, "cost": float(x)} for c, t, x in rows],
        schema=SCHEMAS["campaigns"],
    )


def _chunks(plan: _Plan, chunk_size: int) -> Iterator[tuple[int, _Tables]]:
    """(leads done, tables) per chunk of about ``chunk_size`` leads (whole blocks)."""
    pending: list[_Tables] = []
    done = 0
    count = 0
    for block, first in enumerate(range(0, plan.leads, _BLOCK)):
        n = min(_BLOCK, plan.leads - first)
        pending.append(_simulate(plan, block, first, n))
        count += n
        if count >= chunk_size or first + n == plan.leads:
            done += count
            yield (
                done,
                _Tables(
                    pa.concat_tables([p.leads for p in pending]),
                    pa.concat_tables([p.activities for p in pending]),
                    pa.concat_tables([p.touches for p in pending]),
                ),
            )
            pending, count = [], 0


# --- truth ------------------------------------------------------------------------------------


def _optimum(h_win: FloatArray, h_lost: FloatArray, value: float, cost: float) -> dict[str, Any]:
    """METHODS.md §3 from hazards: S, F(N), A(N), profit Pi(N) = V F(N) - c A(N), N* = argmax."""
    surv = np.cumprod(1.0 - h_win - h_lost)
    before = np.concatenate([[1.0], surv[:-1]])
    conv = np.cumsum(before * h_win)
    attempts = np.cumsum(before)
    profit = value * conv - cost * attempts
    n_star = int(np.argmax(profit)) + 1
    return {
        "cumulative_conversion": conv,
        "expected_attempts": attempts,
        "expected_profit": profit,
        "optimal_attempts": n_star,
    }


def truth(
    *, cost_per_attempt: float = 10.0, response_effect: tuple[float, ...] | None = None
) -> dict[str, Any]:
    """The model's truth (seed-free): per-segment hazards, N*, close rates, response effect.

    Hazards are exact mixtures: for segment s, ``h_k = sum_types w P(reach k) h_k(type) /
    sum_types w P(reach k)`` over campaign/source, rep, response bucket and stopping point,
    which is what the life table estimates on mature data (``E[d_k^W] / E[n_k]``).
    """
    K = MAX_ATTEMPTS
    p_origin = _origin_shares()
    p_seg_o = _segment_given_origin()  # (O, S)
    p_rep = _rep_given_segment()  # (S, R)
    p_bucket = _bucket_given_rep()  # (R, B), contacted only
    p_max = _max_given_rep()  # (R, K)
    reach = np.cumsum(p_max[:, ::-1], axis=1)[:, ::-1]  # P(M >= k)
    quality, speed = _multipliers(_effect(response_effect))
    base = _win_base()
    joint = p_origin[:, None] * p_seg_o  # P(o, s)
    p_seg = joint.sum(axis=0)

    segments: dict[str, Any] = {}
    close_rate: dict[str, dict[str, float]] = {c: {} for c in _CAMPAIGNS}
    by_source: dict[str, dict[str, float]] = {"sales": {}, "partner": {}}
    bucket_won = np.zeros(len(BUCKETS))
    bucket_all = np.zeros(len(BUCKETS))
    total = {"num_w": np.zeros(K), "num_l": np.zeros(K), "den": np.zeros(K)}
    for s, seg in enumerate(_SEGMENTS):
        h_w = base[s][None, None, :] * (quality[:, None] * speed[None, :])[:, :, None]  # (O,B,K)
        h_l = np.full(K, seg.lost)
        stay = np.cumprod(1.0 - h_w - h_l, axis=2)
        surv = np.concatenate([np.ones(h_w.shape[:2] + (1,)), stay[:, :, :-1]], axis=2)
        w_o = joint[:, s] / joint[:, s].sum()
        w_rb = p_rep[s][:, None] * p_bucket  # (R, B)
        num_w = np.einsum("o,rb,rk,obk->k", w_o, w_rb, reach, surv * h_w)
        num_l = np.einsum("o,rb,rk,obk->k", w_o, w_rb, reach, surv * h_l)
        den = np.einsum("o,rb,rk,obk->k", w_o, w_rb, reach, surv)
        abandoned = np.einsum("o,rb,rk,obk->k", w_o, w_rb, p_max, stay)
        win_hazard = num_w / den
        lost_hazard = num_l / den
        opt = _optimum(win_hazard, lost_hazard, seg.mean_revenue, cost_per_attempt)
        p_won = np.einsum("rb,rk,obk->o", w_rb, reach, surv * h_w)  # P(won | o, s)
        won_rb = np.einsum("rk,obk->obr", reach, surv * h_w)  # (O, B, R)
        weight = joint[:, s][:, None, None] * (p_rep[s][:, None] * p_bucket).T[None]
        bucket_won += (weight * won_rb).sum(axis=(0, 2))
        bucket_all += weight.sum(axis=(0, 2))
        for o, org in enumerate(_ORIGINS):
            if org.campaign is not None:
                close_rate[org.campaign][seg.name] = float(p_won[o])
            else:
                by_source[org.source][seg.name] = float(p_won[o])
        n_star = opt["optimal_attempts"]
        segments[seg.name] = {
            "mean_revenue": seg.mean_revenue,
            "revenue_sigma": seg.revenue_sigma,
            "close_rate": float(w_o @ p_won),
            "win_hazard": win_hazard.tolist(),
            "lost_hazard": lost_hazard.tolist(),
            "base_win_hazard": base[s].tolist(),
            "at_risk_share": (den / den[0]).tolist(),
            "cumulative_conversion": opt["cumulative_conversion"].tolist(),
            "expected_attempts": opt["expected_attempts"].tolist(),
            "expected_profit": opt["expected_profit"].tolist(),
            "optimal_attempts": n_star,
            "optimum_identified": n_star < K,
            "max_attempts": K,
            "naive_rate": (num_w / (num_w + num_l + abandoned)).tolist(),
            "naive_rate_1": float(num_w[0] / (num_w[0] + num_l[0] + abandoned[0])),
            "naive_rate_contacted": (num_w / (num_w + num_l)).tolist(),
        }
        total["num_w"] += p_seg[s] * num_w
        total["num_l"] += p_seg[s] * num_l
        total["den"] += p_seg[s] * den
    never = np.array([r.never_share for r in _REPS])
    p_never = float(sum(p_seg[s] * (p_rep[s] @ never) for s in range(len(_SEGMENTS))))
    buckets = [
        {
            "bucket": label,
            "lower_minutes": lo,
            "upper_minutes": None if math.isinf(hi) else hi,
            "multiplier": mult,
        }
        for label, lo, hi, mult in BUCKETS
    ]
    buckets.append(
        {"bucket": "never", "lower_minutes": None, "upper_minutes": None, "multiplier": None}
    )
    return {
        "max_attempts": K,
        "cost_per_attempt": cost_per_attempt,
        "segments": segments,
        "overall": {
            "win_hazard": (total["num_w"] / total["den"]).tolist(),
            "lost_hazard": (total["num_l"] / total["den"]).tolist(),
            "close_rate": float(
                sum(p_seg[s] * segments[g.name]["close_rate"] for s, g in enumerate(_SEGMENTS))
            ),
        },
        "close_rate": close_rate,
        "close_rate_by_source": by_source,
        "close_rate_by_bucket": {
            **{b[0]: float(bucket_won[i] / bucket_all[i]) for i, b in enumerate(BUCKETS)},
            "never": 0.0,
        },
        "never_contacted_share": p_never,
        "response_time_effect": {b[0]: float(speed[i]) for i, b in enumerate(BUCKETS)},
        "buckets": buckets,
        "campaign_quality": {o.campaign or o.source: o.quality for o in _ORIGINS},
        "source_share": {
            src: float(sum(o.share for o in _ORIGINS if o.source == src)) for src in _SOURCES
        },
        "method": (
            "Exact model mixture, no simulation: win_hazard[k-1] = E[d_k^W] / E[n_k], summed "
            "over the segment's campaign/source x rep x response bucket x stopping point types "
            "(each type's chance to reach attempt k times its own hazard), i.e. what the life "
            "table estimates on mature leads; base_win_hazard is h_1 * decay**(k-1) at "
            "multiplier 1. naive_rate[k-1] = won / closed (won + lost, abandoned included) with "
            "exactly k attempts (METHODS §3); naive_rate_contacted = won / (won + lost after "
            "contact). N* = argmax V F(N) - c A(N) with V = mean_revenue, c = cost_per_attempt."
        ),
    }


# --- public API -------------------------------------------------------------------------------


def _check(leads: int, seed: int, chunk_size: int, cost_per_attempt: float, tz: str) -> None:
    if isinstance(leads, bool) or not isinstance(leads, int) or leads < 1:
        raise ValueError(f"leads must be a positive whole number, not {leads!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, not {seed!r}.")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive whole number, not {chunk_size!r}.")
    if not (isinstance(cost_per_attempt, int | float) and cost_per_attempt > 0):
        raise ValueError(f"cost_per_attempt must be a positive amount, not {cost_per_attempt!r}.")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"time_zone {tz!r} is not an IANA time zone; use a name like 'Europe/Berlin'."
        ) from exc


def _truth_doc(plan: _Plan, as_of: pd.Timestamp, cost_per_attempt: float) -> dict[str, Any]:
    doc = truth(cost_per_attempt=cost_per_attempt, response_effect=plan.response_effect)
    return {
        "seed": plan.seed,
        "leads": plan.leads,
        "as_of": as_of.isoformat(),
        "time_zone": plan.tz,
        **doc,
    }


def _iso_utc(seconds: IntArray, valid: BoolArray) -> pa.Array:
    """UTC epoch seconds -> ``YYYY-MM-DDTHH:MM:SS+00:00`` strings (years 0-9999), built as
    bytes: ``pc.strftime`` is ~20x slower. Civil date from days after H. Hinnant's algorithm."""
    n = seconds.size
    days, sod = np.divmod(seconds.astype(np.int64), _DAY)
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    hour, rest = np.divmod(sod, _HOUR)
    minute, second = np.divmod(rest, 60)
    buf = np.empty((n, 25), dtype=np.uint8)
    buf[:] = np.frombuffer(b"0000-00-00T00:00:00+00:00", dtype=np.uint8)
    for value, end, width in (
        (year, 4, 4), (month, 7, 2), (day, 10, 2), (hour, 13, 2), (minute, 16, 2),
        (second, 19, 2),
    ):  # fmt: skip
        v = value
        for j in range(end - 1, end - width - 1, -1):
            v, d = np.divmod(v, 10)
            buf[:, j] += d.astype(np.uint8)
    offsets = np.arange(n + 1, dtype=np.int32) * 25
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(buf), null_bitmap=bitmap
    )


def _iso_text(ts: pa.Array) -> pa.Array:
    """A UTC timestamp array as ISO 8601 text (nulls stay null)."""
    micros = pc.fill_null(ts.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    valid = ts.is_valid().to_numpy(zero_copy_only=False)
    return _iso_utc(micros // _US, valid)


def _csv_ready(table: pa.Table) -> pa.Table:
    """Timestamps as ISO 8601 text with the UTC offset (2025-03-04T09:15:00+00:00)."""
    cols: list[pa.Array | pa.ChunkedArray] = []
    for field, col in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            col = pa.chunked_array([_iso_text(c) for c in col.chunks], type=pa.string())
        cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names)


class _Writer:
    """One Parquet or CSV writer per table, fed chunk by chunk."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: Format) -> None:
        self.fmt = fmt
        self.rows = 0
        self._pq: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        if fmt == "parquet":
            dict_cols = [c for c in schema.names if c in _DICT_COLUMNS]
            self._pq = pq.ParquetWriter(path, schema, compression="zstd", use_dictionary=dict_cols)
        else:
            csv_schema = pa.schema(
                [(f.name, pa.string() if pa.types.is_timestamp(f.type) else f.type) for f in schema]
            )
            self._csv = pacsv.CSVWriter(path, csv_schema)

    def write(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        if self._pq is not None:
            self._pq.write_table(table)
        elif self._csv is not None:
            self._csv.write_table(_csv_ready(table))

    def close(self) -> None:
        for w in (self._pq, self._csv):
            if w is not None:
                w.close()


def generate(
    out_dir: str | Path,
    /,
    *,
    leads: int = 20_000,
    seed: int = 0,
    format: Format = "parquet",
    as_of: str | datetime | pd.Timestamp | None = None,
    time_zone: str = "Europe/Berlin",
    cost_per_attempt: float = 10.0,
    chunk_size: int = 500_000,
    progress: ProgressFn | None = None,
    response_effect: tuple[float, ...] | None = None,
) -> SynthResult:
    """Write a synthetic CRM (leads, activities, campaigns, touches) and its ``truth.json``.

    Reproducible by ``seed`` (random numbers are drawn per block of 25,000 leads, so the data
    do not depend on ``chunk_size``: the leads generated and appended at a time, rounded up to
    whole blocks, which only bounds memory, about 1.2 GB at the default). ``as_of`` (default
    2026-06-30 18:00 in ``time_zone``) ends the 18 months of leads; nothing happens after it.
    ``progress(done, total)`` is called after each chunk. ``response_effect``: the multiplier
    of the win hazard per response bucket of :data:`BUCKETS` (default: theirs; all 1.0 = no
    effect of speed), for calibration studies.

    >>> result = generate("crm", leads=1_000)  # doctest: +SKIP
    >>> result.truth["segments"]["smb"]["optimal_attempts"]  # doctest: +SKIP
    5
    """
    if format not in ("parquet", "csv"):
        raise ValueError(f"format must be 'parquet' or 'csv', not {format!r}.")
    _check(leads, seed, chunk_size, cost_per_attempt, time_zone)
    stamp = _resolve_as_of(as_of, time_zone)
    plan = dataclasses.replace(
        _plan(leads, seed, stamp, time_zone), response_effect=_effect(response_effect)
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ext = "parquet" if format == "parquet" else "csv"
    files = {name: out / f"{name}.{ext}" for name in _TABLES}
    writers = {name: _Writer(files[name], SCHEMAS[name], format) for name in _TABLES}
    try:
        writers["campaigns"].write(_campaigns_table(leads))
        for done, tables in _chunks(plan, chunk_size):
            writers["leads"].write(tables.leads)
            writers["activities"].write(tables.activities)
            writers["touches"].write(tables.touches)
            if progress is not None:
                progress(done, leads)
    finally:
        for w in writers.values():
            w.close()
    doc = _truth_doc(plan, stamp, float(cost_per_attempt))
    files["truth"] = out / "truth.json"
    files["truth"].write_text(
        json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    rows = {name: w.rows for name, w in writers.items()}
    return SynthResult(out_dir=out, files=files, rows=rows, truth=doc, format=format)


def generate_frames(
    *,
    leads: int = 20_000,
    seed: int = 0,
    as_of: str | datetime | pd.Timestamp | None = None,
    time_zone: str = "Europe/Berlin",
    cost_per_attempt: float = 10.0,
    response_effect: tuple[float, ...] | None = None,
) -> SynthFrames:
    """The same data as :func:`generate`, in memory as pandas DataFrames (for small sizes)."""
    _check(leads, seed, 1, cost_per_attempt, time_zone)
    stamp = _resolve_as_of(as_of, time_zone)
    plan = dataclasses.replace(
        _plan(leads, seed, stamp, time_zone), response_effect=_effect(response_effect)
    )
    parts = [t for _, t in _chunks(plan, leads)]
    return SynthFrames(
        leads=pa.concat_tables([p.leads for p in parts]).to_pandas(),
        activities=pa.concat_tables([p.activities for p in parts]).to_pandas(),
        campaigns=_campaigns_table(leads).to_pandas(),
        touches=pa.concat_tables([p.touches for p in parts]).to_pandas(),
        truth=_truth_doc(plan, stamp, float(cost_per_attempt)),
    )


# --- attempt processes with a given hazard (calibration of the attempts analysis) ----------


def attempt_counts(
    win_hazard: ArrayLike,
    lost_hazard: ArrayLike,
    stop_hazard: ArrayLike,
    /,
    *,
    leads: int,
    open_share: float = 0.0,
    seed: int | np.random.Generator = 0,
) -> tuple[IntArray, IntArray, IntArray]:
    """Leads won, lost and censored at their k-th attempt, k = 0..K, for ``leads`` leads.

    The lead-level process: at attempt k = 1..K a lead is won with ``win_hazard[k-1]``, lost
    after contact with ``lost_hazard[k-1]``, else its rep stops with ``stop_hazard[k-1]``
    (censored: abandoned), else it gets attempt k + 1; after attempt K it is censored. A share
    ``open_share`` of the leads is still being worked at the as-of date: each of these is cut
    after a uniformly drawn attempt 1..K (censored there, if it got that far) — independent
    censoring, as a mature cohort's open leads are once the unresolved recent cohort is left
    out (METHODS.md §3).

    Drawn as counts, not leads: given the n_k leads at risk at attempt k, the numbers won,
    lost, censored and going on are one multinomial draw of n_k with the per-lead
    probabilities, because the leads are independent and each one's step k depends only on
    having reached k. Simulating the leads one by one gives the same distribution of counts.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    h_w = np.asarray(win_hazard, dtype=np.float64)
    h_l = np.asarray(lost_hazard, dtype=np.float64)
    h_s = np.asarray(stop_hazard, dtype=np.float64)
    k_max = h_w.size
    if h_l.shape != h_w.shape or h_s.shape != h_w.shape or k_max == 0:
        raise ValueError("win, lost and stop hazards must have the same length K >= 1")
    if not 0 <= open_share <= 1 or leads < 0:
        raise ValueError("open_share must be in [0, 1] and leads >= 0")
    if np.any(h_w + h_l > 1) or np.any(h_w < 0) or np.any(h_l < 0) or np.any(h_s < 0):
        raise ValueError("hazards must be >= 0 with win + lost <= 1")
    n_open = int(rng.binomial(leads, open_share))
    won = np.zeros(k_max + 1, dtype=np.int64)
    lost = np.zeros(k_max + 1, dtype=np.int64)
    cens = np.zeros(k_max + 1, dtype=np.int64)
    # closed leads: the process above; open leads: also cut at a uniform attempt 1..K
    # (P(cut after k | not cut before k) = 1 / (K - k + 1))
    cut = 1.0 / (k_max - np.arange(k_max))
    for n0, extra in ((leads - n_open, np.zeros(k_max)), (n_open, cut)):
        n = n0
        for k in range(k_max):
            if n == 0:
                break
            rest = 1.0 - h_w[k] - h_l[k]
            stop = rest * (1.0 - (1.0 - min(h_s[k], 1.0)) * (1.0 - extra[k]))
            go = max(rest - stop, 0.0)
            x = rng.multinomial(n, [h_w[k], h_l[k], stop, go])
            won[k + 1] += x[0]
            lost[k + 1] += x[1]
            cens[k + 1] += x[2]
            n = int(x[3])
        cens[k_max] += n
    return won, lost, cens


def attempt_crm_frames(
    win_hazard: ArrayLike,
    lost_hazard: ArrayLike,
    stop_hazard: ArrayLike,
    /,
    *,
    leads: int = 20_000,
    mean_revenue: float = 10_000.0,
    span_days: float = 540.0,
    win_lag_days: float = 30.0,
    days_between_attempts: float = 3.0,
    seed: int = 0,
    as_of: datetime = datetime(2026, 6, 30, 18, 0),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small CRM (canonical ``leads`` and ``activities``, UTC) from the same lead process as
    :func:`attempt_counts`, with time: leads created uniformly over ``span_days`` before
    ``as_of``; attempts (calls) every ``days_between_attempts`` days on average; a lead lost
    after contact closes an hour after its deciding call (outcome ``connected``), an abandoned
    one 3 days after its last call (``no_answer`` throughout); a won lead's deciding call is
    ``connected`` and the deal closes a log-normal lag later (median ``win_lag_days``) — in
    between it is open though reached and about to be won: the leads a life table must not
    count as non-wins. Whatever happens after ``as_of`` is cut: later calls are dropped and a
    lead not closed by then is open. Revenue: log-normal, mean ``mean_revenue``.
    """
    rng = np.random.default_rng(seed)
    h_w = np.asarray(win_hazard, dtype=np.float64)
    h_l = np.asarray(lost_hazard, dtype=np.float64)
    h_s = np.asarray(stop_hazard, dtype=np.float64)
    k_max = h_w.size
    u = rng.random((leads, k_max))
    s = rng.random((leads, k_max))
    outcome = np.where(u < h_w, 1, np.where(u < h_w + h_l, 2, np.where(s < h_s, 3, 0)))
    outcome[:, -1] = np.where(outcome[:, -1] == 0, 3, outcome[:, -1])
    ends = outcome > 0
    m = ends.argmax(axis=1) + 1  # attempts of each lead
    state = outcome[np.arange(leads), m - 1]  # 1 won, 2 lost after contact, 3 abandoned
    day = 86_400.0
    end = pd.Timestamp(as_of, tz="UTC").value / 1e9
    created = end - rng.random(leads) * span_days * day
    gaps = rng.exponential(days_between_attempts * day, (leads, k_max))
    gaps[:, 0] = rng.exponential(2 * 3_600.0, leads)
    at = created[:, None] + np.cumsum(gaps, axis=1)
    last = at[np.arange(leads), m - 1]
    lag = np.exp(rng.normal(np.log(win_lag_days * day), 0.6, leads))
    closed = np.where(state == 1, last + lag, np.where(state == 2, last + 3_600.0, last + 3 * day))
    is_open = closed > end
    sigma = 0.8
    revenue = mean_revenue * np.exp(rng.normal(-(sigma**2) / 2, sigma, leads))
    status = np.where(is_open, "open", np.where(state == 1, "won", "lost"))
    ids = np.char.add("L", np.arange(leads).astype(str))

    def ts(x: FloatArray) -> pd.Series:
        return pd.to_datetime(pd.Series(np.round(x * 1e6).astype(np.int64)), unit="us", utc=True)

    lead_frame = pd.DataFrame(
        {
            "lead_id": ids,
            "created_at": ts(created),
            "segment": "all",
            "status": status,
            "closed_at": ts(closed).where(~is_open),
            "revenue": np.where((state == 1) & ~is_open, revenue, np.nan),
        }
    )
    lead_idx, k_idx = np.nonzero(np.arange(k_max)[None, :] < m[:, None])
    t = at[lead_idx, k_idx]
    keep = t <= end
    lead_idx, k_idx, t = lead_idx[keep], k_idx[keep], t[keep]
    deciding = (k_idx == m[lead_idx] - 1) & np.isin(state[lead_idx], (1, 2))
    acts = pd.DataFrame(
        {
            "activity_id": np.char.add("A", np.arange(t.size).astype(str)),
            "lead_id": ids[lead_idx],
            "at": ts(t),
            "kind": "call",
            "outcome": np.where(deciding, "connected", "no_answer"),
        }
    )
    return lead_frame, acts
