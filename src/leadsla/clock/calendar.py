"""Business-hours calendar and a vectorised business clock (METHODS.md §5).

A calendar is an IANA time zone, weekly local opening intervals ``[start, end)`` (several a
day), holiday dates (listed, a country's public holidays, or an ICS file) and pauses (UTC
ranges during which the clock stops).

How the clock works: for the local dates covering the inputs, every opening interval is
expanded from wall-clock time to UTC through ``zoneinfo`` (never a fixed offset), holidays are
left out and pauses cut out, giving sorted UTC interval starts/ends (int64 ns) and the business
time accumulated before each start. Then ``cum(t)`` (business ns from the table's origin to
``t``) is one lookup of ``t``'s interval (:class:`_Grid`); ``elapsed(a, b) = cum(b) - cum(a)``
and ``due(start, D)`` is the inverse of ``cum``. No Python loop runs per row or per row-day;
the table is rebuilt over a wider span (whole years) when an input falls outside it.

Daylight-saving rule: an instant is open when the office's wall clock shows an open time on a
working day. So an opening that falls in a spring-forward gap (02:30 on a day clocks jump
02:00 -> 03:00) starts at the first valid instant (03:00), an interval lying wholly in a gap is
empty, and wall times repeated at a fall-back (02:00-03:00 shown twice) are open both times
they are shown.

Naive ``numpy.datetime64`` values are read as UTC (numpy has no time zones); Python datetimes,
``pandas.Timestamp`` and pandas Series/indexes must carry a time zone.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import numpy as np
from numpy.typing import NDArray

from leadsla.errors import ConfigError, DataError, Issue

if TYPE_CHECKING:
    # pandas (0.4 s) is imported by the functions that take or make pandas values (issue 16)
    import pandas as pd

__all__ = [
    "DAYS",
    "BusinessCalendar",
    "CalendarConfigError",
    "business_day_seconds",
    "business_seconds_between",
    "calendar_config",
    "hours_spec",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {
    **{d: i for i, d in enumerate(DAYS)},
    **{
        n: i
        for i, n in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{n: i for i, n in enumerate(("mo", "tu", "we", "th", "fr", "sa", "su"))},
}
_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
_NAT = np.iinfo(np.int64).min
_SAMPLE_S = 6 * 3600  # offset sampling step when looking for DST transitions
_MIN_YEAR, _MAX_YEAR = 1678, 2261  # datetime64[ns] range
_ICS_HORIZON = date(2099, 12, 31)  # open-ended RRULEs in ICS files are expanded up to here
_CONFIG_KEYS = (
    "time_zone",
    "hours",
    "holidays",
    "holiday_country",
    "holiday_subdivision",
    "holiday_ics",
    "pauses",
)

Interval: TypeAlias = tuple[int, int]  # seconds after local midnight, [start, end)
WeeklyHours: TypeAlias = tuple[tuple[Interval, ...], ...]  # 7 entries, Monday first
I64: TypeAlias = NDArray[np.int64]
TimeScalar: TypeAlias = "datetime | pd.Timestamp | np.datetime64 | str"
TimeArray: TypeAlias = "pd.Series[Any] | pd.DatetimeIndex | NDArray[Any] | Sequence[Any]"
Times: TypeAlias = "TimeScalar | TimeArray"
Seconds: TypeAlias = "float | int | timedelta | np.timedelta64 | pd.Series[Any] | NDArray[Any]"

_NINE_TO_FIVE: tuple[Interval, ...] = ((9 * 3600, 17 * 3600),)
_DEFAULT_HOURS: WeeklyHours = (_NINE_TO_FIVE,) * 5 + ((), ())


class CalendarConfigError(ConfigError):
    """A business-calendar setting is wrong; ``issues`` lists every problem, each with its fix."""

    def __init__(self, issues: Sequence[str]) -> None:
        self.issues = list(issues)
        if len(self.issues) == 1:
            text = self.issues[0]
        else:
            text = f"{len(self.issues)} problems in the business calendar:\n" + "\n".join(
                f"  - {i}" for i in self.issues
            )
        super().__init__(text)


# --------------------------------------------------------------------------- config parsing


def _fmt(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_RANGE = re.compile(r"^\s*([^-\s]+)\s*-\s*([^-\s]+)\s*$")
_RANGE_SPLIT = re.compile(r"\s*,\s*|\s+(?=\d{1,2}:\d{2}\s*-)")  # between ranges
_GROUP_SPLIT = re.compile(r";|(?<=\d)\s*,\s*(?=[A-Za-z])")  # between "<days> <ranges>" groups


def _parse_time(text: str, where: str, *, end: bool) -> int | str:
    """'09:30' -> 34200 seconds; '24:00' only as an end. Returns an issue text when bad."""
    m = _TIME.match(text)
    if m:
        h, mi = int(m.group(1)), int(m.group(2))
        if (h < 24 and mi < 60) or (end and h == 24 and mi == 0):
            return h * 3600 + mi * 60
    return (
        f'{where}: "{text.strip()}" is not a time of day. Write HH:MM from 00:00 to 23:59 '
        '(24:00 is allowed as an end), e.g. "09:00-18:00".'
    )


def _parse_ranges(value: Any, where: str, issues: list[str]) -> list[tuple[int, int, str]]:
    """'09:00-12:30, 13:30-18:00' or a list of such -> [(start_s, end_s, text)]."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = [p for p in _RANGE_SPLIT.split(value.strip()) if p.strip()]
    elif isinstance(value, Iterable):
        parts = []
        for v in value:
            if not isinstance(v, str):
                issues.append(f'{where}: {v!r} is not a time range. Write "HH:MM-HH:MM".')
                continue
            parts.extend(p for p in _RANGE_SPLIT.split(v.strip()) if p.strip())
    else:
        issues.append(
            f'{where}: {value!r} is not a list of time ranges. Write e.g. ["09:00-18:00"].'
        )
        return []
    out = []
    for part in parts:
        if part.strip().lower() in ("closed", "none", "-"):
            continue
        m = _RANGE.match(part)
        if not m:
            issues.append(
                f'{where}: "{part}" is not a time range. Write "HH:MM-HH:MM", e.g. "09:00-18:00".'
            )
            continue
        start = _parse_time(m.group(1), where, end=False)
        stop = _parse_time(m.group(2), where, end=True)
        if isinstance(start, str) or isinstance(stop, str):
            issues.extend(x for x in (start, stop) if isinstance(x, str))
            continue
        if stop <= start:
            issues.append(
                f'{where}: "{part}" ends before it starts. Write start-end with the end later '
                'than the start; split a night shift in two, e.g. "22:00-24:00" on one day and '
                '"00:00-06:00" on the next.'
            )
            continue
        out.append((start, stop, part.strip()))
    return out


def _parse_days(spec: str, where: str, issues: list[str]) -> list[int]:
    """'mon-fri', 'Sat,Sun', 'monday' -> weekday numbers (Monday = 0)."""
    days: list[int] = []
    for item in re.split(r"\s*,\s*", spec.strip().lower()):
        ends = [x.strip() for x in item.split("-")]
        if len(ends) not in (1, 2) or any(e not in _DAY_NAMES for e in ends):
            issues.append(
                f'{where}: "{item}" is not a day or day range. Use mon, tue, wed, thu, fri, '
                'sat, sun or a range such as "mon-fri".'
            )
            continue
        first, last = _DAY_NAMES[ends[0]], _DAY_NAMES[ends[-1]]
        days.extend((first + k) % 7 for k in range((last - first) % 7 + 1))
    return days


def _parse_hours(value: Any, issues: list[str]) -> WeeklyHours | None:
    """Dict {"mon": ["09:00-18:00"], ...} or "Mon-Fri 09:00-12:30, 13:30-18:00; Sat 10:00-14:00"."""
    per_day: list[list[tuple[int, int, str]]] = [[] for _ in range(7)]
    if isinstance(value, str):
        for group in (g for g in _GROUP_SPLIT.split(value) if g.strip()):
            m = re.match(r"^\s*([A-Za-z][A-Za-z,\s-]*?)\s+(\d.*)$", group)
            if not m:
                issues.append(
                    f'hours: "{group.strip()}" is not "<days> <ranges>". '
                    'Write e.g. "Mon-Fri 09:00-18:00" or "Mon-Fri 09:00-12:30, 13:30-18:00".'
                )
                continue
            where = f"hours ({m.group(1).strip()})"
            ranges = _parse_ranges(m.group(2), where, issues)
            for d in _parse_days(m.group(1), where, issues):
                per_day[d].extend(ranges)
    elif isinstance(value, Mapping):
        for key, ranges_value in value.items():
            where = f"hours.{key}"
            if not isinstance(key, str):
                issues.append(f"{where}: the key must be a day name such as mon or mon-fri.")
                continue
            days = _parse_days(key, where, issues)
            ranges = _parse_ranges(ranges_value, where, issues)
            for d in days:
                per_day[d].extend(ranges)
    else:
        issues.append(
            f"hours: {value!r} is neither a table of days nor a text. Write "
            '{"mon": ["09:00-18:00"], ...} or "Mon-Fri 09:00-18:00".'
        )
        return None
    return _check_week(per_day, issues)


def _check_week(per_day: list[list[tuple[int, int, str]]], issues: list[str]) -> WeeklyHours:
    """Sort each day's intervals, reject overlaps, merge intervals that touch."""
    week: list[tuple[Interval, ...]] = []
    for d, ranges in enumerate(per_day):
        merged: list[list[int]] = []
        prev_text = ""
        for start, stop, text in sorted(ranges):
            if merged and start < merged[-1][1]:
                issues.append(
                    f'hours.{DAYS[d]}: "{prev_text}" and "{text}" overlap. Merge them into one '
                    f'interval ("{_fmt(merged[-1][0])}-{_fmt(max(stop, merged[-1][1]))}") or make '
                    "one end where the next starts."
                )
                merged[-1][1] = max(stop, merged[-1][1])
            elif merged and start == merged[-1][1]:
                merged[-1][1] = stop
            else:
                merged.append([start, stop])
            prev_text = text
        week.append(tuple((s, e) for s, e in merged))
    return tuple(week)


def _check_zone(name: Any, issues: list[str]) -> str | None:
    if not isinstance(name, str) or not name:
        issues.append(
            f'time_zone: {name!r} is not an IANA time zone name. Write e.g. "Europe/Berlin".'
        )
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        hint = f' Did you mean "{close[0]}"?' if close else ""
        issues.append(
            f'time_zone: "{name}" is not an IANA time zone.{hint} Use a name such as '
            '"Europe/Berlin" or "America/New_York" (zoneinfo.available_timezones() lists them).'
        )
        return None
    return name


def _parse_date(value: Any, where: str, issues: list[str]) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    issues.append(f'{where}: {value!r} is not a date. Write ISO dates such as "2025-12-25".')
    return None


def _parse_instant(value: Any, where: str, issues: list[str]) -> int | None:
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = None
    if ts is None or ts is pd.NaT:
        issues.append(
            f"{where}: {value!r} is not an instant. Write ISO 8601 with an offset, "
            'e.g. "2025-11-20T10:00:00+01:00".'
        )
        return None
    if ts.tzinfo is None:
        issues.append(
            f"{where}: {value!r} has no time zone. Add an offset or Z, "
            'e.g. "2025-11-20T10:00:00+01:00".'
        )
        return None
    return int(ts.tz_convert("UTC").as_unit("ns").value)


def _parse_pauses(value: Any, issues: list[str]) -> tuple[tuple[int, int], ...]:
    """[[start, end], {"start": ..., "end": ...}, ...] -> ((start_ns, end_ns), ...) in UTC."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        issues.append(
            'pauses: expected a list of [start, end] pairs, e.g. [["2025-11-20T10:00Z", '
            '"2025-11-20T12:00Z"]].'
        )
        return ()
    out = []
    for k, item in enumerate(value):
        where = f"pauses[{k}]"
        if isinstance(item, Mapping):
            pair: Any = (item.get("start"), item.get("end"))
        else:
            pair = item
        if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
            issues.append(f"{where}: {item!r} is not a [start, end] pair.")
            continue
        start = _parse_instant(pair[0], f"{where} start", issues)
        end = _parse_instant(pair[1], f"{where} end", issues)
        if start is None or end is None:
            continue
        if end <= start:
            issues.append(f"{where}: the end {pair[1]!r} is not after the start {pair[0]!r}.")
            continue
        out.append((start, end))
    return tuple(sorted(out))


def _check_country(country: Any, subdivision: Any, issues: list[str]) -> tuple[str | None, ...]:
    if country is None:
        if subdivision is not None:
            issues.append(
                f"holiday_subdivision: {subdivision!r} needs holiday_country too, "
                'e.g. holiday_country = "DE", holiday_subdivision = "BE".'
            )
        return None, None
    if not isinstance(country, str):
        issues.append(f'holiday_country: {country!r} is not a country code. Write e.g. "DE".')
        return None, None
    import holidays as holidays_pkg

    code = country.strip().upper()
    sub = subdivision.strip().upper() if isinstance(subdivision, str) else subdivision
    try:
        holidays_pkg.country_holidays(code)
    except NotImplementedError:
        issues.append(
            f'holiday_country: "{country}" is not a country the holidays package knows. Use an '
            'ISO 3166-1 alpha-2 code such as "DE", "ES" or "US", or list dates under holidays.'
        )
        return None, None
    if sub is not None:
        try:
            holidays_pkg.country_holidays(code, subdiv=sub)
        except NotImplementedError:
            known = ", ".join(holidays_pkg.list_supported_countries().get(code, []))
            issues.append(
                f'holiday_subdivision: "{subdivision}" is not a subdivision of {code}. '
                f"Use one of: {known}."
            )
            return code, None
    return code, sub


def _ics_holidays(path: Any, issues: list[str]) -> set[date]:
    """All-day VEVENTs of an ICS file -> dates (DTEND exclusive; RRULE/EXDATE expanded)."""
    import icalendar
    from dateutil.rrule import rruleset, rrulestr

    where = "holiday_ics"
    try:
        raw = Path(path).read_bytes()
    except (OSError, TypeError) as exc:
        issues.append(f"{where}: cannot read {str(path)!r} ({exc}). Give the path of an .ics file.")
        return set()
    try:
        cal = icalendar.Calendar.from_ical(raw)
    except Exception as exc:  # icalendar raises several types for bad input
        issues.append(f"{where}: {str(path)!r} is not a valid iCalendar file ({exc}).")
        return set()
    out: set[date] = set()
    for event in cal.walk("VEVENT"):
        dtstart = event.get("DTSTART")
        if dtstart is None or isinstance(dtstart.dt, datetime) or not isinstance(dtstart.dt, date):
            continue  # timed events are meetings, not holidays
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        first: date = dtstart.dt
        dtend = event.get("DTEND")
        if dtend is not None and isinstance(dtend.dt, date) and not isinstance(dtend.dt, datetime):
            length = max((dtend.dt - first).days, 1)
        elif event.get("DURATION") is not None:
            length = max(event.get("DURATION").dt.days, 1)
        else:
            length = 1
        starts = [first]
        rrule = event.get("RRULE")
        if rrule is not None:
            start_dt = datetime(first.year, first.month, first.day)
            rules = rruleset()
            try:
                rules.rrule(rrulestr(rrule.to_ical().decode(), dtstart=start_dt))
            except (ValueError, TypeError) as exc:
                summary = str(event.get("SUMMARY", ""))
                issues.append(f'{where}: event "{summary}" has an unreadable RRULE ({exc}).')
                continue
            exdates = event.get("EXDATE")
            for exlist in exdates if isinstance(exdates, list) else [exdates]:
                for ex in getattr(exlist, "dts", []):
                    d = ex.dt.date() if isinstance(ex.dt, datetime) else ex.dt
                    rules.exdate(datetime(d.year, d.month, d.day))
            horizon = datetime(_ICS_HORIZON.year, _ICS_HORIZON.month, _ICS_HORIZON.day)
            starts = [x.date() for x in rules.between(start_dt, horizon, inc=True)]
        for s in starts:
            out.update(s + timedelta(days=k) for k in range(length))
    return out


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class _Grid:
    """``np.searchsorted(a, t, side="right")`` in constant time a key, for a strictly
    increasing ``a``: cells of width ``step`` (at most the smallest gap of ``a``, so a cell
    holds at most one value of ``a``) from ``a[0]``, each with the count of values at or
    before its start. A key's count is its cell's, plus one when the cell's value (the next
    one) is at or before the key. A binary search over ~1,000 interval starts took 20 ms a
    million keys; this takes a few."""

    a: I64
    base: int
    step: int
    before: I64  # values of a <= each cell's start

    @staticmethod
    def of(a: I64) -> _Grid | None:
        """The grid of ``a``; None when ``a`` has under two values, repeats one, or its
        smallest gap is so small against its span that the grid would be large."""
        if a.size < 2:
            return None
        gap = int(np.diff(a).min())
        cells = (int(a[-1]) - int(a[0])) // gap + 1 if gap > 0 else 0
        if gap <= 0 or cells > 8 * a.size + 4096:
            return None
        starts = int(a[0]) + np.arange(cells, dtype=np.int64) * gap
        return _Grid(a, int(a[0]), gap, np.searchsorted(a, starts, side="right"))

    def right(self, t: I64) -> I64:
        """``np.searchsorted(self.a, t, side="right")`` (any int64 keys)."""
        a = self.a
        cell = np.clip(t, self.base, a[-1])  # (keys outside: no overflow, fixed below)
        cell -= self.base
        cell //= self.step
        i = np.take(self.before, cell)
        i += (np.take(a, i, mode="clip") <= t) & (i < a.size)
        i[t < self.base] = 0
        return i


def _search_right(a: I64, grid: _Grid | None, t: I64) -> I64:
    return grid.right(t) if grid is not None else np.searchsorted(a, t, side="right")


@dataclass(frozen=True)
class _Table:
    """Open UTC intervals for local dates [first_day, last_day] and their running total.

    ``cum(t)`` is exact for ``lo_ns <= t <= hi_ns`` (instants whose local date is surely in
    the span whatever the UTC offset).
    """

    first_day: int  # days since 1970-01-01
    last_day: int
    starts: I64
    ends: I64
    cum_start: I64  # business ns before starts[i]
    lo_ns: int
    hi_ns: int
    cum_hi: int

    @property
    def lengths(self) -> I64:
        return self.ends - self.starts

    @cached_property
    def starts_grid(self) -> _Grid | None:
        return _Grid.of(self.starts)

    @cached_property
    def ends_grid(self) -> _Grid | None:
        return _Grid.of(self.ends)

    def cum(self, t: I64) -> I64:
        """Business ns from the table origin to each instant t (int64 ns UTC, no NaT)."""
        if self.starts.size == 0:
            return np.zeros(t.shape, dtype=np.int64)
        i = _search_right(self.starts, self.starts_grid, t)
        i -= 1
        np.maximum(i, 0, out=i)  # before the first interval: i = 0 and t - starts[0] < 0
        off = np.take(self.starts, i)
        np.subtract(t, off, out=off)
        np.maximum(off, 0, out=off)
        tmp = np.take(self.lengths, i)
        np.minimum(off, tmp, out=off)
        np.take(self.cum_start, i, out=tmp)
        off += tmp
        return off

    def inverse(self, target: I64) -> I64:
        """First instant where cum reaches target (target > 0 and <= cum_hi)."""
        cum_end = self.cum_start + self.lengths
        j = np.searchsorted(cum_end, target, side="left")
        return self.starts[j] + (target - self.cum_start[j])


def _offset_s(zone: ZoneInfo, utc_s: int) -> int:
    off = datetime.fromtimestamp(utc_s, tz=UTC).astimezone(zone).utcoffset()
    assert off is not None
    return int(off.total_seconds())


def _offset_segments(zone: ZoneInfo, lo_s: int, hi_s: int) -> tuple[list[int], list[int]]:
    """UTC seconds where a constant-offset stretch begins, and its offset (zoneinfo, exact).

    Samples the offset every 6 h and bisects to the second where it changes.
    """
    samples = list(range(lo_s, hi_s + _SAMPLE_S, _SAMPLE_S))
    offsets = [_offset_s(zone, s) for s in samples]
    bounds, segs = [lo_s], [offsets[0]]
    for k in range(1, len(samples)):
        if offsets[k] != offsets[k - 1]:
            lo, hi = samples[k - 1], samples[k]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_s(zone, mid) == offsets[k - 1]:
                    lo = mid
                else:
                    hi = mid
            bounds.append(hi)
            segs.append(offsets[k])
    return bounds, segs


def _open_minus_closed(
    starts: I64, ends: I64, closed_starts: I64, closed_ends: I64
) -> tuple[I64, I64]:
    """(union of [starts, ends)) minus (union of [closed_starts, closed_ends)), merged & sorted."""
    t = np.concatenate([starts, ends, closed_starts, closed_ends])
    if t.size == 0:
        return t, t
    n, m = starts.size, closed_starts.size
    d_open = np.concatenate([np.ones(n), -np.ones(n), np.zeros(2 * m)])
    d_closed = np.concatenate([np.zeros(2 * n), np.ones(m), -np.ones(m)])
    uniq, inv = np.unique(t, return_inverse=True)
    n_open = np.cumsum(np.bincount(inv, weights=d_open, minlength=uniq.size))
    n_closed = np.cumsum(np.bincount(inv, weights=d_closed, minlength=uniq.size))
    ok = (n_open > 0.5) & (n_closed < 0.5)  # state on [uniq[i], uniq[i+1])
    change = np.diff(np.concatenate([[0], ok.astype(np.int8)]))
    return uniq[change == 1], uniq[change == -1]


# --------------------------------------------------------------------------- input/output


def _issue(message: str, fix: str) -> DataError:
    return DataError(Issue("ERROR", "time_zone_missing", message, fix=fix))


def _scalar_ns(x: Any, what: str) -> int:
    import pandas as pd

    if x is None or x is pd.NaT:
        return int(_NAT)
    if isinstance(x, np.datetime64):
        if np.isnat(x):
            return int(_NAT)
        return int(x.astype("datetime64[ns]").astype(np.int64))
    ts = pd.Timestamp(x)
    if ts is pd.NaT:
        return int(_NAT)
    if ts.tzinfo is None:
        raise _issue(
            f"{what}: {x!r} has no time zone, so the instant it names is unknown.",
            "Attach one (datetime(..., tzinfo=ZoneInfo('Europe/Berlin')) or an ISO offset such "
            "as +01:00), or pass numpy datetime64 values, which are read as UTC.",
        )
    return int(ts.tz_convert("UTC").as_unit("ns").value)


def _is_scalar(x: Any) -> bool:
    import pandas as pd

    return x is None or isinstance(x, datetime | np.datetime64 | str | date) or x is pd.NaT


def _times_ns(x: Any, what: str) -> I64:
    """Instants -> int64 ns since the UTC epoch (NaT = int64 min)."""
    import pandas as pd

    if _is_scalar(x):
        return np.array(_scalar_ns(x, what), dtype=np.int64)
    if isinstance(x, np.ndarray) and x.dtype.kind == "M":
        return x.astype("datetime64[ns]", copy=False).view(np.int64)
    if isinstance(x, pd.Series | pd.Index) and x.dtype.kind == "M" and not hasattr(x.dtype, "tz"):
        raise _issue(
            f"{what}: the timestamps have no time zone.",
            "Localise them first (s.dt.tz_localize('Europe/Berlin')), or convert to UTC.",
        )
    if isinstance(x, pd.Series | pd.Index | np.ndarray) and x.dtype == object:
        raise _issue(
            f"{what}: the values are not a datetime column (dtype object, e.g. mixed offsets).",
            "Convert with pd.to_datetime(values, utc=True).",
        )
    if not isinstance(x, pd.Series | pd.Index | np.ndarray):
        return np.array([_scalar_ns(v, what) for v in x], dtype=np.int64)  # short lists
    idx = pd.DatetimeIndex(x)
    if idx.tz is None:
        raise _issue(
            f"{what}: the timestamps have no time zone.",
            "Localise them first, or pass numpy datetime64 values, which are read as UTC.",
        )
    return np.asarray(idx.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)


def _durations_ns(x: Any) -> I64:
    """Seconds (numbers) or timedeltas -> int64 ns (NaN/NaT -> int64 min)."""
    import pandas as pd

    if isinstance(x, timedelta | pd.Timedelta):
        return np.array(int(pd.Timedelta(x).as_unit("ns").value), dtype=np.int64)
    if isinstance(x, np.timedelta64):
        return np.array(x.astype("timedelta64[ns]").astype(np.int64), dtype=np.int64)
    arr = np.asarray(x.to_numpy() if isinstance(x, pd.Series | pd.Index) else x)
    if arr.dtype.kind == "m":
        return arr.astype("timedelta64[ns]").view(np.int64)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64) * _NS
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    with np.errstate(invalid="ignore"):
        ns = np.rint(arr * _NS).astype(np.int64)
    return np.where(np.isnan(arr), _NAT, ns)


def _series_index(*xs: Any) -> pd.Index | None:
    import pandas as pd

    for x in xs:
        if isinstance(x, pd.Series):
            return x.index
    return None


def _flat(*arrays: I64) -> tuple[tuple[int, ...], list[I64]]:
    """Broadcast, then flatten to 1-d (ufuncs on 0-d arrays return scalars)."""
    shaped = np.broadcast_arrays(*arrays)
    return shaped[0].shape, [np.ascontiguousarray(x).reshape(-1) for x in shaped]


def _wrap_times(ns: I64, like: Sequence[Any]) -> Any:
    """int64 ns -> pandas Series (UTC), numpy datetime64[ns] array or a UTC Timestamp."""
    import pandas as pd

    index = _series_index(*like)
    if index is not None:
        utc = pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")
        return pd.Series(utc, index=index)
    if ns.ndim == 0:
        v = int(ns[()])
        return pd.NaT if v == _NAT else pd.Timestamp(v, unit="ns", tz="UTC")
    return ns.view("datetime64[ns]")


# --------------------------------------------------------------------------- the calendar


@dataclass
class _Cache:
    table: _Table | None = None


@dataclass(frozen=True)
class BusinessCalendar:
    """IANA zone + weekly local hours + holidays + pauses, with a vectorised business clock.

    ``hours`` holds 7 tuples (Monday first) of ``(start, end)`` seconds after local midnight;
    ``holidays`` are local dates; ``pauses`` are ``(start, end)`` UTC ns ranges. Build one with
    :meth:`from_config` or :meth:`default`.

    >>> cal = BusinessCalendar.from_config(
    ...     {"time_zone": "Europe/Berlin", "hours": "Mon-Fri 09:00-18:00"})
    >>> cal.due("2025-11-14T17:55+01:00", 4 * 3600)  # Fri 17:55 + 4 business hours
    Timestamp('2025-11-17 11:55:00+0000', tz='UTC')
    >>> cal.elapsed("2025-11-14T17:55+01:00", "2025-11-17T09:05+01:00")
    600.0
    """

    time_zone: str = "UTC"
    hours: WeeklyHours = _DEFAULT_HOURS
    holidays: frozenset[date] = frozenset()
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    pauses: tuple[tuple[int, int], ...] = ()
    _cache: _Cache = field(default_factory=_Cache, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        issues: list[str] = []
        _check_zone(self.time_zone, issues)
        if len(self.hours) != 7:
            issues.append(f"hours: expected 7 days (Monday first), got {len(self.hours)}.")
        else:
            per_day = [
                [(int(s), int(e), f"{_fmt(int(s))}-{_fmt(int(e))}") for s, e in day]
                for day in self.hours
            ]
            for d, day in enumerate(per_day):
                for s, e, _text in day:
                    if not 0 <= s < e <= 86_400:
                        issues.append(
                            f"hours.{DAYS[d]}: ({s}, {e}) must satisfy 0 <= start < end <= 86400 "
                            "seconds after local midnight."
                        )
            if not issues:
                object.__setattr__(self, "hours", _check_week(per_day, issues))
            if not any(self.hours):
                issues.append(
                    "hours: no day has opening hours, so the clock would never run. Give at "
                    'least one interval, e.g. "Mon-Fri 09:00-17:00".'
                )
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        country, sub = _check_country(self.holiday_country, self.holiday_subdivision, issues)
        object.__setattr__(self, "holiday_country", country)
        object.__setattr__(self, "holiday_subdivision", sub)
        pauses = tuple(sorted((int(s), int(e)) for s, e in self.pauses))
        for s, e in pauses:
            if e <= s:
                issues.append(f"pauses: the range ({s}, {e}) ends before it starts.")
        object.__setattr__(self, "pauses", pauses)
        if issues:
            raise CalendarConfigError(issues)

    # ------------------------------------------------------------------ constructors

    @classmethod
    def default(cls, time_zone: str = "UTC") -> BusinessCalendar:
        """Mon-Fri 09:00-17:00 in ``time_zone``, no holidays."""
        return cls(time_zone=time_zone)

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], /, *, time_zone: str = "UTC", source: str = ""
    ) -> BusinessCalendar:
        """Build from a settings table; every problem is reported at once.

        Keys: ``time_zone`` (else the ``time_zone`` argument), ``hours`` (a table
        ``{"mon": ["09:00-12:30", "13:30-18:00"], ...}`` or text ``"Mon-Fri 09:00-18:00"``;
        days left out are closed; default Mon-Fri 09:00-17:00), ``holidays`` (ISO dates),
        ``holiday_country`` / ``holiday_subdivision`` (holidays package), ``holiday_ics``
        (path; all-day events are holidays) and ``pauses`` (``[start, end]`` instants).
        ``source`` (e.g. ``"leadsla.toml [business_hours]"``) prefixes error messages.

        >>> BusinessCalendar.from_config({"hours": {"mon-fri": "09:00-18:00"}}).hours[0]
        ((32400, 64800),)
        """
        issues: list[str] = []
        if not isinstance(config, Mapping):
            raise CalendarConfigError([f"{source or 'business calendar'}: expected a table."])
        for key in config:
            if key not in _CONFIG_KEYS:
                close = difflib.get_close_matches(str(key), _CONFIG_KEYS, n=1)
                hint = f' Did you mean "{close[0]}"?' if close else ""
                issues.append(
                    f'"{key}" is not a calendar setting.{hint} Known: {", ".join(_CONFIG_KEYS)}.'
                )
        zone = _check_zone(config.get("time_zone", time_zone), issues)
        n_before = len(issues)
        hours = _parse_hours(config["hours"], issues) if "hours" in config else _DEFAULT_HOURS
        if hours is not None and not any(hours) and len(issues) == n_before:
            issues.append(
                "hours: no day has opening hours, so the clock would never run. Give at least "
                'one interval, e.g. "Mon-Fri 09:00-17:00".'
            )
        dates: set[date] = set()
        raw_dates = config.get("holidays", [])
        if isinstance(raw_dates, str) or not isinstance(raw_dates, Iterable):
            issues.append(
                f'holidays: {raw_dates!r} is not a list of dates. Write ["2025-12-25", ...].'
            )
        else:
            for k, v in enumerate(raw_dates):
                d = _parse_date(v, f"holidays[{k}]", issues)
                if d is not None:
                    dates.add(d)
        if config.get("holiday_ics") is not None:
            dates |= _ics_holidays(config["holiday_ics"], issues)
        pauses = _parse_pauses(config["pauses"], issues) if "pauses" in config else ()
        country, sub = _check_country(
            config.get("holiday_country"), config.get("holiday_subdivision"), issues
        )
        if issues or zone is None or hours is None:
            prefix = f"{source}: " if source else ""
            raise CalendarConfigError([prefix + i for i in issues])
        return cls(
            time_zone=zone,
            hours=hours,
            holidays=frozenset(dates),
            holiday_country=country,
            holiday_subdivision=sub,
            pauses=pauses,
        )

    # ------------------------------------------------------------------ table

    @property
    def zone(self) -> ZoneInfo:
        """The ``ZoneInfo`` of :attr:`time_zone`."""
        return ZoneInfo(self.time_zone)

    @property
    def weekly_seconds(self) -> int:
        """Open seconds in a week without holidays (Mon-Fri 09:00-17:00 -> 144,000)."""
        return sum(e - s for day in self.hours for s, e in day)

    def _holiday_days(self, first_day: int, last_day: int) -> I64:
        years = range(_year(first_day), _year(last_day) + 1)
        days = set(self.holidays)
        if self.holiday_country:
            import holidays as holidays_pkg

            days |= set(
                holidays_pkg.country_holidays(
                    self.holiday_country, subdiv=self.holiday_subdivision, years=years
                )
            )
        return np.array(sorted((d - date(1970, 1, 1)).days for d in days), dtype=np.int64)

    def _build(self, first_day: int, last_day: int) -> _Table:
        """Expand the weekly hours of local dates [first_day, last_day] to UTC intervals."""
        days = np.arange(first_day, last_day + 1, dtype=np.int64)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        working = ~np.isin(days, self._holiday_days(first_day, last_day))
        wall_s, wall_e = [], []
        for wd, intervals in enumerate(self.hours):
            sel = days[(weekday == wd) & working] * _DAY_NS
            for s, e in intervals:
                wall_s.append(sel + s * _NS)
                wall_e.append(sel + e * _NS)
        ws = np.concatenate(wall_s) if wall_s else np.empty(0, np.int64)
        we = np.concatenate(wall_e) if wall_e else np.empty(0, np.int64)
        # wall time -> UTC: within a stretch of constant offset o, wall w is instant w - o;
        # clipping to the stretch's wall range handles DST gaps (empty) and folds (twice).
        lo_s, hi_s = (first_day - 2) * 86_400, (last_day + 3) * 86_400
        bounds, offsets = _offset_segments(self.zone, lo_s, hi_s)
        bounds.append(hi_s)
        pieces_s, pieces_e = [], []
        for k, off in enumerate(offsets):
            o = off * _NS
            clip_s = np.maximum(ws, bounds[k] * _NS + o)
            clip_e = np.minimum(we, bounds[k + 1] * _NS + o)
            keep = clip_s < clip_e
            pieces_s.append(clip_s[keep] - o)
            pieces_e.append(clip_e[keep] - o)
        ps = np.array([p[0] for p in self.pauses], dtype=np.int64)
        pe = np.array([p[1] for p in self.pauses], dtype=np.int64)
        starts, ends = _open_minus_closed(
            np.concatenate(pieces_s), np.concatenate(pieces_e), ps, pe
        )
        lengths = ends - starts
        cum_start = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        lo_ns, hi_ns = (first_day + 1) * _DAY_NS, last_day * _DAY_NS
        table = _Table(first_day, last_day, starts, ends, cum_start, lo_ns, hi_ns, 0)
        cum_hi = int(table.cum(np.array([hi_ns], dtype=np.int64))[0])
        return _Table(first_day, last_day, starts, ends, cum_start, lo_ns, hi_ns, cum_hi)

    def _table(self, lo_ns: int, hi_ns: int) -> _Table:
        """A table valid for [lo_ns, hi_ns], reusing or widening the cached one (whole years)."""
        table = self._cache.table
        if table is not None and table.lo_ns <= lo_ns and hi_ns <= table.hi_ns:
            return table
        first = _jan1(_year(lo_ns // _DAY_NS - 2))
        last = _dec31(_year(hi_ns // _DAY_NS + 2))
        if table is not None:
            first, last = min(first, table.first_day), max(last, table.last_day)
        if _year(first) < _MIN_YEAR or _year(last) > _MAX_YEAR:
            raise DataError(
                Issue(
                    "ERROR",
                    "time_out_of_range",
                    "business clock: instants must lie between 1678 and 2261 "
                    f"(got {_year(lo_ns // _DAY_NS)}-{_year(hi_ns // _DAY_NS)}).",
                    fix="Check the timestamps for typos in the year.",
                )
            )
        table = self._build(first, last)
        self._cache.table = table
        return table

    def _prepare(self, *arrays: I64) -> tuple[_Table, NDArray[np.bool_] | None]:
        """The table covering the arrays, and their NaT mask (None when there is no NaT)."""
        lo, hi, missing = None, None, None
        for a in arrays:
            if a.size == 0:
                continue
            a_min, a_max = int(a.min()), int(a.max())  # NaT is int64 min: max is unaffected
            if a_min == _NAT:
                nat = a == _NAT
                missing = nat if missing is None else missing | nat
                if a_max == _NAT:
                    continue
                a_min = int(a[~nat].min())
            lo = a_min if lo is None else min(lo, a_min)
            hi = a_max if hi is None else max(hi, a_max)
        return self._table(0 if lo is None else lo, 0 if hi is None else hi), missing

    # ------------------------------------------------------------------ the clock

    @overload
    def elapsed(self, a: TimeScalar, b: TimeScalar, /) -> float: ...
    @overload
    def elapsed(self, a: Times, b: Times, /) -> Any: ...

    def elapsed(self, a: Times, b: Times, /) -> Any:
        """Business seconds in ``[a, b)``: ``cum(b) - cum(a)``, 0 when ``b <= a``, NaN for NaT.

        Arrays broadcast; a Series in gives a Series (float64) out; two scalars give a float.

        >>> cal = BusinessCalendar.default("Europe/Berlin")  # Mon-Fri 09:00-17:00
        >>> cal.elapsed("2025-11-14T16:00+01:00", "2025-11-17T10:00+01:00") / 3600
        2.0
        """
        shape, (a_ns, b_ns) = _flat(_times_ns(a, "start"), _times_ns(b, "end"))
        table, missing = self._prepare(a_ns, b_ns)
        if missing is not None:
            a_ns = np.where(missing, table.lo_ns, a_ns)
            b_ns = np.where(missing, table.lo_ns, b_ns)
        diff = table.cum(b_ns)
        diff -= table.cum(a_ns)
        np.maximum(diff, 0, out=diff)
        out = diff / _NS
        if missing is not None:
            out[missing] = np.nan
        index = _series_index(a, b)
        if index is not None:
            import pandas as pd

            return pd.Series(out, index=index, dtype="float64")
        return float(out[0]) if shape == () else out.reshape(shape)

    business_seconds_between = elapsed

    @overload
    def due(self, start: TimeScalar, seconds: float | timedelta, /) -> pd.Timestamp: ...
    @overload
    def due(self, start: Times, seconds: Seconds, /) -> Any: ...

    def due(self, start: Times, seconds: Seconds, /) -> Any:
        """First instant ``t >= start`` with ``elapsed(start, t) == seconds`` (UTC).

        ``= cum⁻¹(cum(start) + D)``: a clock started outside hours begins at the next opening,
        and a target reached exactly at a closing time is that closing time. ``seconds`` are
        numbers (seconds) or timedeltas; NaN/NaT give NaT; 0 gives ``start``.

        >>> cal = BusinessCalendar.from_config({"time_zone": "Europe/Berlin",
        ...                                     "hours": "Mon-Fri 09:00-18:00"})
        >>> cal.due("2025-11-14T14:00+01:00", 4 * 3600)  # Fri 14:00 + 4 h = Fri 18:00
        Timestamp('2025-11-14 17:00:00+0000', tz='UTC')
        """
        shape, (s_ns, d_ns) = _flat(_times_ns(start, "start"), _durations_ns(seconds))
        table, missing = self._prepare(s_ns)
        if d_ns.size and int(d_ns.min()) < 0:
            d_nat = d_ns == _NAT
            negative = int(((d_ns < 0) & ~d_nat).sum())
            if negative:
                raise DataError(
                    Issue(
                        "ERROR",
                        "negative_duration",
                        f"due: {negative:,} durations are negative.",
                        fix="Business time to add must be 0 or more seconds.",
                    )
                )
            missing = d_nat if missing is None else missing | d_nat
        s_ok, d_ok = s_ns, d_ns
        if missing is not None:
            s_ok = np.where(missing, table.lo_ns, s_ns)
            d_ok = np.where(missing, 0, d_ns)
        while True:
            target = table.cum(s_ok) + d_ok
            short = int(target.max(initial=0)) - table.cum_hi
            if short <= 0:
                break
            rate = table.cum_hi / max(table.hi_ns - table.lo_ns, 1)  # business ns per ns
            if rate <= 0:
                rate = 1 / 365
            extra = int(short / rate * 1.25) + 14 * _DAY_NS
            table = self._table(table.lo_ns, table.hi_ns + extra)
        reached = table.inverse(np.maximum(target, 1)) if table.starts.size else s_ok
        out = np.where(d_ok == 0, s_ok, reached)
        if missing is not None:
            out[missing] = _NAT
        return _wrap_times(out.reshape(shape), (start, seconds))

    def next_open(self, t: Times, /) -> Any:
        """First open instant ``>= t`` (``t`` itself when open), UTC; NaT stays NaT.

        >>> BusinessCalendar.default("Europe/Berlin").next_open("2025-11-15T10:00+01:00")
        Timestamp('2025-11-17 08:00:00+0000', tz='UTC')
        """
        shape, (t_ns,) = _flat(_times_ns(t, "t"))
        table, missing = self._prepare(t_ns)
        t_ok = t_ns if missing is None else np.where(missing, table.lo_ns, t_ns)
        while True:
            i = _search_right(table.ends, table.ends_grid, t_ok)
            beyond = i >= table.ends.size
            out = np.maximum(t_ok, table.starts[np.minimum(i, table.ends.size - 1)])
            if table.ends.size and not beyond.any() and int(out.max(initial=0)) <= table.hi_ns:
                break
            if _year(table.last_day) >= _MAX_YEAR - 1:
                raise DataError(
                    Issue("ERROR", "never_open", "next_open: the calendar never opens again.")
                )
            table = self._table(table.lo_ns, table.hi_ns + 366 * _DAY_NS)
        if missing is not None:
            out[missing] = _NAT
        return _wrap_times(out.reshape(shape), (t,))

    def is_open(self, t: Times, /) -> Any:
        """Whether the clock runs at ``t`` (bool; False for NaT)."""
        shape, (t_ns,) = _flat(_times_ns(t, "t"))
        table, missing = self._prepare(t_ns)
        t_ok = t_ns if missing is None else np.where(missing, table.lo_ns, t_ns)
        i = _search_right(table.starts, table.starts_grid, t_ok) - 1
        ok = (i >= 0) & (t_ok < table.ends[np.maximum(i, 0)])
        if missing is not None:
            ok &= ~missing
        index = _series_index(t)
        if index is not None:
            import pandas as pd

            return pd.Series(ok, index=index)
        return bool(ok[0]) if shape == () else ok.reshape(shape)


def business_seconds_between(calendar: BusinessCalendar, a: Times, b: Times, /) -> Any:
    """Business seconds in ``[a, b)`` under ``calendar`` (same as ``calendar.elapsed(a, b)``)."""
    return calendar.elapsed(a, b)


def business_day_seconds(calendar: BusinessCalendar, /) -> float:
    """One business day: open seconds a week ÷ open weekdays (Mon–Fri 09–18 → 32,400; 0 if none)."""
    open_days = sum(1 for day in calendar.hours if day)
    return calendar.weekly_seconds / open_days if open_days else 0.0


def _year(day: int) -> int:
    return int(np.datetime64(int(day), "D").astype("datetime64[Y]").astype(int)) + 1970


def _jan1(year: int) -> int:
    return int(np.datetime64(f"{year:04d}-01-01", "D").astype(np.int64))


def _dec31(year: int) -> int:
    return int(np.datetime64(f"{year:04d}-12-31", "D").astype(np.int64))


# --------------------------------------------------------------------------- back to config


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
        parts.append(f"{days} {', '.join(f'{_fmt(s)}-{_fmt(e)}' for s, e in day)}")
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
        import pandas as pd

        cfg["pauses"] = [
            [pd.Timestamp(s, unit="ns", tz="UTC").isoformat(),
             pd.Timestamp(e, unit="ns", tz="UTC").isoformat()]
            for s, e in calendar.pauses
        ]  # fmt: skip
    return cfg
