"""Per-lead SLA clocks: deadlines and rule status, shared by ``check`` and the live service.

One implementation of the sales rules of METHODS.md §5 (``leadsla check`` documents them):
:func:`lead_deadlines` gives each lead's first-response deadline (``calendar.due(start,
first_response_hours)``), the end of its attempts window and the attempts it owes;
:func:`rule_status` decides met / breached / pending at an instant from the facts (first
attempt, attempts in the window, closing); :func:`warning_instants` gives the instants at
which a share of a clock's time has run (the live service's warnings). Everything is
vectorised over leads (int64 nanoseconds since the UTC epoch; ``NAT`` = missing).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from leadsla.clock import BusinessCalendar, business_day_seconds
from leadsla.sla.policy import Policy

__all__ = [
    "BREACHED",
    "MET",
    "NAT",
    "PENDING",
    "combined_status",
    "lead_deadlines",
    "minimum_rules",
    "minimum_status",
    "rule_status",
    "warning_instants",
    "window_ends",
]

MET, BREACHED, PENDING = 0, 1, 2
NAT = np.iinfo(np.int64).min
_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
I64 = NDArray[np.int64]
I8 = NDArray[np.int8]


def window_ends(
    start_ns: I64,
    days: NDArray[np.float64],
    business: NDArray[np.bool_],
    /,
    *,
    calendar: BusinessCalendar,
) -> I64:
    """End of each attempts window: ``days`` calendar days (local wall clock) or business days.

    Calendar days keep the local wall-clock time: a wall time skipped by a spring-forward
    change moves to the first valid instant after it, a repeated one is its first occurrence.
    Business days: ``calendar.due(start, days × business_day_seconds(calendar))``.
    """
    end = np.empty(start_ns.shape, dtype=np.int64)
    cal_rows = ~business
    if cal_rows.any():
        s = start_ns[cal_rows]
        local = pd.DatetimeIndex(s.view("datetime64[ns]")).tz_localize("UTC")
        naive = local.tz_convert(calendar.time_zone).tz_localize(None)
        shift = np.rint(days[cal_rows] * _DAY_NS).astype(np.int64)
        wall = pd.DatetimeIndex((naive.asi8 + shift).view("datetime64[ns]"))
        back = wall.tz_localize(
            calendar.time_zone,
            ambiguous=np.ones(len(wall), dtype=bool),
            nonexistent="shift_forward",
        )
        end[cal_rows] = back.tz_convert("UTC").asi8
    if business.any():
        secs = days[business] * business_day_seconds(calendar)
        due = calendar.due(start_ns[business].view("datetime64[ns]"), secs)
        end[business] = np.asarray(due).view(np.int64)
    return end


def lead_deadlines(
    start_ns: I64,
    seg_codes: I64,
    seg_labels: Sequence[str],
    /,
    *,
    policy: Policy,
    calendar: BusinessCalendar | None = None,
) -> tuple[I64, I64, I64]:
    """``(due, window_end, required)`` per lead, whose clock starts at ``start_ns``.

    ``due = calendar.due(start, first_response_hours)``; the attempts window and the count
    owed are those of the lead's segment (``seg_labels[seg_codes[i]]``) in the policy. The
    window end is cut to whole microseconds (the engines' precision). ``calendar`` replaces
    the policy's own (a newer calendar for in-flight leads); default the policy's.
    """
    cal = calendar or policy.business_calendar()
    sales = policy.sales
    n = len(start_ns)
    if n == 0:
        empty = np.empty(0, np.int64)
        return empty, empty.copy(), empty.copy()
    fr_seconds = float(sales.first_response_hours) * 3600
    due = np.asarray(cal.due(start_ns.view("datetime64[ns]"), fr_seconds)).view(np.int64)
    rules = [sales.attempts_for(s) for s in seg_labels]
    req = np.array([r.count for r in rules], dtype=np.int64)[seg_codes]
    days = np.array([float(r.within_days) for r in rules], dtype=np.float64)[seg_codes]
    business = np.array([r.day_kind == "business" for r in rules], dtype=bool)[seg_codes]
    end = window_ends(start_ns, days, business, calendar=cal)
    end -= end % 1000
    return np.asarray(due, dtype=np.int64), end, req


def rule_status(
    first: I64,
    in_window: I64,
    due: I64,
    end: I64,
    required: I64,
    closed_at: I64,
    as_of_ns: int,
    /,
) -> tuple[I8, I8]:
    """``(first_response, attempts)`` status per lead (``MET``/``BREACHED``/``PENDING``).

    ``first`` is the first attempt at or after the start (``NAT`` when none up to
    ``as_of``), ``in_window`` the attempts in ``[start, window_end]`` up to ``as_of``,
    ``closed_at`` the closing (won/lost) at or before ``as_of`` (``NAT`` otherwise).
    First response: met when ``first <= due``; breached when later, or none and
    ``as_of > due``. Attempts: met with ``required`` attempts in the window or a closing at
    or before its end; breached when the window has ended short and open; else pending.
    """
    n = len(first)
    has_first = first != NAT
    fr = np.full(n, PENDING, dtype=np.int8)
    fr[has_first & (first <= due)] = MET
    fr[(has_first & (first > due)) | (~has_first & (as_of_ns > due))] = BREACHED
    closed_in_window = (closed_at != NAT) & (closed_at <= end)
    at = np.full(n, PENDING, dtype=np.int8)
    enough = in_window >= required
    at[enough | closed_in_window] = MET
    at[~enough & ~closed_in_window & (as_of_ns > end)] = BREACHED
    return fr, at


def minimum_rules(
    policy: Policy, seg_codes: I64, seg_labels: Sequence[str], /
) -> NDArray[np.bool_]:
    """Per lead: whether its segment's attempt rule is a minimum before closing."""
    rules = [policy.sales.attempts_for(s).rule == "before_closing" for s in seg_labels]
    return np.array([*rules, False], dtype=bool)[seg_codes]


def minimum_status(
    before_close: I64, required: I64, closed_at: I64, lost_unreached: NDArray[np.bool_], /
) -> I8:
    """The attempts status under a minimum before closing (``rule = "before_closing"``).

    ``before_close``: the attempts from the start to the closing (or up to the as-of while
    open); ``lost_unreached``: closed lost without a connected or replied attempt. Met once
    ``required`` attempts were made or when the lead closed otherwise; breached when it was
    closed lost unreached short of them; pending (with no deadline) while open.
    """
    closed = closed_at != NAT
    st = np.full(len(before_close), PENDING, dtype=np.int8)
    st[(closed & ~lost_unreached) | (before_close >= required)] = MET
    st[lost_unreached & (before_close < required)] = BREACHED
    return st


def combined_status(fr: I8, at: I8, /) -> I8:
    """Breached if either rule is, else pending if either is, else met."""
    return np.where(
        (fr == BREACHED) | (at == BREACHED),
        BREACHED,
        np.where((fr == PENDING) | (at == PENDING), PENDING, MET),
    ).astype(np.int8)


def warning_instants(
    start_ns: I64,
    end_ns: I64,
    share: float,
    business_seconds: NDArray[np.float64] | None,
    /,
    *,
    calendar: BusinessCalendar,
) -> I64:
    """The instant at which ``share`` (0–1) of each clock's time has run.

    With ``business_seconds`` (the clock's length in business time: the first-response
    target, or a window counted in business days) the share is of business time,
    ``calendar.due(start, share × length)``; without, of absolute time between
    ``start`` and ``end`` (a window counted in calendar days).
    """
    if len(start_ns) == 0:
        return np.empty(0, np.int64)
    if business_seconds is None:
        return start_ns + np.rint((end_ns - start_ns) * share).astype(np.int64)
    due = calendar.due(start_ns.view("datetime64[ns]"), business_seconds * share)
    return np.asarray(due).view(np.int64).astype(np.int64)
