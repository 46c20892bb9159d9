"""Business-hours clock (METHODS.md §5): fixtures, an independent minute-walk reference, errors."""

from __future__ import annotations

import dataclasses
import doctest
import functools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leadsla.clock.calendar as calendar_module
from leadsla.clock import BusinessCalendar, CalendarConfigError, business_seconds_between
from leadsla.errors import ConfigError, DataError

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.fixture(scope="module")
def methods_cal() -> BusinessCalendar:
    """The METHODS.md §5 fixture calendar."""
    return BusinessCalendar.from_config(
        {
            "time_zone": "Europe/Berlin",
            "hours": {"mon-fri": ["09:00-18:00"]},
            "holidays": ["2025-12-25", "2025-12-26", "2026-01-01"],
        }
    )


# --------------------------------------------------------------------------- METHODS.md fixtures

DUE_ROWS = [
    ("2025-11-14 17:55", "2025-11-17 12:55", None),  # Fri -> Mon
    ("2025-11-14 18:00", "2025-11-17 13:00", None),  # at closing: starts Mon 09:00
    ("2025-11-11 22:10", "2025-11-12 13:00", None),
    ("2025-11-15 10:00", "2025-11-17 13:00", None),  # Saturday
    ("2025-11-12 08:59", "2025-11-12 13:00", None),
    ("2025-12-24 16:00", "2025-12-29 11:00", None),  # over 25-26 Dec and the weekend
    ("2026-03-27 17:55", "2026-03-30 12:55", 66),  # CET -> CEST
    ("2025-10-24 17:55", "2025-10-27 12:55", 68),  # CEST -> CET
]


@pytest.mark.parametrize(("start", "expected", "absolute_hours"), DUE_ROWS)
def test_methods_due_fixtures(
    methods_cal: BusinessCalendar, start: str, expected: str, absolute_hours: int | None
) -> None:
    got = methods_cal.due(berlin(start), 4 * HOUR)
    assert got == berlin(expected)
    if absolute_hours is not None:
        assert got - berlin(start) == timedelta(hours=absolute_hours)
    assert methods_cal.elapsed(berlin(start), got) == 4 * HOUR


def test_methods_due_fixtures_vectorised(methods_cal: BusinessCalendar) -> None:
    starts = pd.Series([berlin(s) for s, _, _ in DUE_ROWS]).dt.tz_convert("UTC")
    got = methods_cal.due(starts, 4 * HOUR)
    assert list(got) == [pd.Timestamp(berlin(e)) for _, e, _ in DUE_ROWS]


def test_methods_elapsed_fixture(methods_cal: BusinessCalendar) -> None:
    assert methods_cal.elapsed(berlin("2025-11-14 17:55"), berlin("2025-11-17 09:05")) == 600.0
    got = business_seconds_between(
        methods_cal, berlin("2025-11-14 17:55"), berlin("2025-11-17 09:05")
    )
    assert got == 600.0


def test_target_reached_at_closing_is_closing(methods_cal: BusinessCalendar) -> None:
    assert methods_cal.due(berlin("2025-11-14 14:00"), 4 * HOUR) == berlin("2025-11-14 18:00")


# --------------------------------------------------------------------------- reference


@dataclasses.dataclass(frozen=True)
class Spec:
    """A calendar as plain data for the reference, and the config the library reads."""

    config: dict[str, Any]
    zone: str
    minutes: dict[int, list[tuple[int, int]]]  # weekday (Mon = 0) -> [(start, end)] minutes
    holidays: frozenset[date] = frozenset()


WEEKDAYS = range(5)
SPECS = {
    "madrid_lunch": Spec(
        config={
            "time_zone": "Europe/Madrid",
            "hours": "Mon-Fri 09:00-14:00, 15:00-18:00",
            "holidays": ["2025-03-28", "2026-10-23"],
        },
        zone="Europe/Madrid",
        minutes={d: [(540, 840), (900, 1080)] for d in WEEKDAYS},
        holidays=frozenset({date(2025, 3, 28), date(2026, 10, 23)}),
    ),
    "madrid_night": Spec(  # openings inside the 02:00-03:00 gap and fold
        config={
            "time_zone": "Europe/Madrid",
            "hours": {
                "mon-fri": "08:00-13:00, 14:00-17:30",
                "sat": ["22:00-24:00"],
                "sun": ["00:00-01:30", "02:15-02:45", "03:00-04:00", "10:00-12:00"],
            },
        },
        zone="Europe/Madrid",
        minutes={
            **{d: [(480, 780), (840, 1050)] for d in WEEKDAYS},
            5: [(1320, 1440)],
            6: [(0, 90), (135, 165), (180, 240), (600, 720)],
        },
    ),
    "new_york_dst": Spec(
        config={
            "time_zone": "America/New_York",
            "hours": "Mon-Fri 09:00-17:00; Sat 00:00-24:00; Sun 01:30-02:30, 03:00-05:00",
            "holidays": ["2025-11-03"],
        },
        zone="America/New_York",
        minutes={
            **{d: [(540, 1020)] for d in WEEKDAYS},
            5: [(0, 1440)],
            6: [(90, 150), (180, 300)],
        },
        holidays=frozenset({date(2025, 11, 3)}),
    ),
    "new_york_always": Spec(
        config={"time_zone": "America/New_York", "hours": "Mon-Sun 00:00-24:00"},
        zone="America/New_York",
        minutes={d: [(0, 1440)] for d in range(7)},
    ),
}
CALS = {k: BusinessCalendar.from_config(v.config) for k, v in SPECS.items()}
TRANSITIONS = {
    "Europe/Madrid": [date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29), date(2026, 10, 25)],
    "America/New_York": [date(2025, 3, 9), date(2025, 11, 2), date(2026, 3, 8), date(2026, 11, 1)],
}
WINDOW_MIN = 9 * 1440  # each window: 4 days before a DST change to 5 days after


def window_start_minute(zone: str, k: int) -> int:
    d = TRANSITIONS[zone][k] - timedelta(days=4)
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) // 60


@functools.cache
def ref_open(key: str, minute: int) -> bool:
    """Is the UTC minute starting at `minute` (since the epoch) open? Reads the wall clock."""
    spec = SPECS[key]
    local = datetime.fromtimestamp(minute * 60, tz=UTC).astimezone(ZoneInfo(spec.zone))
    if local.date() in spec.holidays:
        return False
    wall = local.hour * 60 + local.minute
    return any(s <= wall < e for s, e in spec.minutes.get(local.weekday(), []))


def ref_elapsed_minutes(key: str, a: int, b: int) -> int:
    """Walk minute by minute over [a, b)."""
    return sum(ref_open(key, m) for m in range(a, b))


@functools.cache
def ref_prefix(key: str, k: int) -> tuple[int, np.ndarray]:
    """Open minutes before each minute of window k: P[i] = open minutes in [w0, w0 + i)."""
    w0 = window_start_minute(SPECS[key].zone, k)
    flags = np.array([ref_open(key, w0 + i) for i in range(WINDOW_MIN)], dtype=np.int64)
    return w0, np.concatenate([[0], np.cumsum(flags)])


def as_m8(minutes: np.ndarray) -> np.ndarray:
    return np.asarray(minutes, dtype=np.int64).astype("datetime64[m]")


@settings(max_examples=150, deadline=None, database=None)
@given(
    key=st.sampled_from(sorted(SPECS)),
    k=st.integers(0, 3),
    offset=st.integers(0, WINDOW_MIN - 1),
    span=st.integers(-60, 2 * 1440),
    fraction=st.floats(0, 1),
)
def test_elapsed_matches_minute_walk(
    key: str, k: int, offset: int, span: int, fraction: float
) -> None:
    cal = CALS[key]
    w0 = window_start_minute(SPECS[key].zone, k)
    a = w0 + offset
    b = a + span
    ta = pd.Timestamp(a * 60, unit="s", tz="UTC")
    tb = pd.Timestamp(b * 60, unit="s", tz="UTC")
    got = cal.elapsed(ta, tb)
    assert got == 60 * ref_elapsed_minutes(key, a, b)
    assert cal.due(ta, got) <= max(ta, tb)
    d = 60 * round(fraction * 3 * 1440)
    assert cal.elapsed(ta, cal.due(ta, d)) == d


def test_10000_random_cases_against_reference() -> None:
    rng = np.random.default_rng(20251114)
    n_per_cal = 2_500  # 4 calendars x 2,500 = 10,000 cases
    for key, cal in CALS.items():
        k = rng.integers(0, 4, n_per_cal)
        w0 = np.array([window_start_minute(SPECS[key].zone, j) for j in range(4)])
        prefix = np.stack([ref_prefix(key, j)[1] for j in range(4)])
        ia = rng.integers(0, WINDOW_MIN, n_per_cal)
        ib = np.clip(ia + rng.integers(-120, 4 * 1440, n_per_cal), 0, WINDOW_MIN)
        a, b = w0[k] + ia, w0[k] + ib
        pa, pb = prefix[k, ia], prefix[k, ib]
        expected = 60.0 * np.maximum(pb - pa, 0)
        got = cal.elapsed(as_m8(a), as_m8(b))
        assert isinstance(got, np.ndarray)
        np.testing.assert_array_equal(got, expected, err_msg=key)

        # due: reference = first minute end where the open-minute count reaches P[a] + D
        left = prefix[k, WINDOW_MIN] - pa
        d_min = np.floor(rng.random(n_per_cal) * (left + 1)).astype(np.int64)
        rows = np.arange(n_per_cal)
        want_idx = np.array(
            [np.searchsorted(prefix[k[r]], pa[r] + d_min[r], side="left") for r in rows]
        )
        want = np.where(d_min == 0, a, w0[k] + want_idx)
        due = cal.due(as_m8(a), d_min * 60)
        np.testing.assert_array_equal(due, as_m8(want).astype("datetime64[ns]"), err_msg=key)

        # invariants
        np.testing.assert_array_equal(cal.elapsed(as_m8(a), due), 60.0 * d_min)
        back = cal.due(as_m8(a), got)
        assert (back <= np.maximum(as_m8(a), as_m8(b))).all()


def test_reference_sees_the_dst_edge_cases() -> None:
    # New York, Sun 9 Mar 2025 (02:00 -> 03:00): "01:30-02:30" opens 30 min, then the gap.
    day = int(datetime(2025, 3, 9, 5, tzinfo=UTC).timestamp()) // 60  # 00:00 EST
    assert ref_elapsed_minutes("new_york_dst", day, day + 1440) == 30 + 120
    # Sun 2 Nov 2025 (02:00 -> 01:00): 01:30-02:00 is shown twice -> 30 + 60 min, then 2 h.
    day = int(datetime(2025, 11, 2, 4, tzinfo=UTC).timestamp()) // 60  # 00:00 EDT
    assert ref_elapsed_minutes("new_york_dst", day, day + 1500) == 90 + 120


# --------------------------------------------------------------------------- DST rule


def test_opening_in_spring_forward_gap_starts_at_first_valid_instant() -> None:
    cal = BusinessCalendar.from_config(
        {"time_zone": "America/New_York", "hours": "Sun 02:30-05:00"}
    )
    midnight = datetime(2025, 3, 9, tzinfo=ZoneInfo("America/New_York"))
    assert cal.next_open(midnight) == datetime(2025, 3, 9, 7, tzinfo=UTC)  # 03:00 EDT
    assert cal.elapsed(midnight, midnight + timedelta(days=1)) == 2 * HOUR


def test_repeated_wall_time_at_fall_back_is_open_twice() -> None:
    cal = BusinessCalendar.from_config({"time_zone": "Europe/Madrid", "hours": "Sun 02:00-04:00"})
    midnight = datetime(2025, 10, 26, tzinfo=ZoneInfo("Europe/Madrid"))
    assert cal.elapsed(midnight, midnight + timedelta(days=1)) == 3 * HOUR


# --------------------------------------------------------------------------- holidays


def test_country_holidays() -> None:
    de = BusinessCalendar.from_config({"time_zone": "Europe/Berlin", "holiday_country": "DE"})
    assert not de.is_open(berlin("2025-12-25 10:00"))
    assert de.is_open(berlin("2025-12-23 10:00"))
    assert de.elapsed(berlin("2025-12-25 00:00"), berlin("2025-12-27 00:00")) == 0
    assert not de.is_open(berlin("2031-12-25 10:00"))  # the table grows to later years
    assert de.is_open(berlin("2024-03-08 10:00"))  # International Women's Day: Berlin only
    be = BusinessCalendar.from_config(
        {"time_zone": "Europe/Berlin", "holiday_country": "de", "holiday_subdivision": "be"}
    )
    assert not be.is_open(berlin("2024-03-08 10:00"))
    assert be.holiday_country == "DE" and be.holiday_subdivision == "BE"


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//leadsla tests//EN
BEGIN:VEVENT
UID:two-days@test
DTSTART;VALUE=DATE:20251124
DTEND;VALUE=DATE:20251126
SUMMARY:Company retreat
END:VEVENT
BEGIN:VEVENT
UID:meeting@test
DTSTART:20251127T100000Z
DTEND:20251127T110000Z
SUMMARY:A meeting is not a holiday
END:VEVENT
BEGIN:VEVENT
UID:yearly@test
DTSTART;VALUE=DATE:20251231
RRULE:FREQ=YEARLY;COUNT=3
EXDATE;VALUE=DATE:20261231
SUMMARY:New Year's Eve
END:VEVENT
END:VCALENDAR
"""


def test_ics_holidays(tmp_path: Path) -> None:
    path = tmp_path / "holidays.ics"
    path.write_text(ICS.replace("\n", "\r\n"), encoding="utf-8")
    cal = BusinessCalendar.from_config({"time_zone": "Europe/Berlin", "holiday_ics": str(path)})
    assert cal.holidays == {
        date(2025, 11, 24),
        date(2025, 11, 25),
        date(2025, 12, 31),
        date(2027, 12, 31),
    }
    assert not cal.is_open(berlin("2025-11-24 10:00"))
    assert not cal.is_open(berlin("2025-11-25 10:00"))
    assert cal.is_open(berlin("2025-11-26 10:00"))
    assert cal.is_open(berlin("2025-11-27 11:00"))  # timed events are ignored
    assert cal.is_open(berlin("2026-12-31 10:00"))  # EXDATE


def test_listed_holidays_and_pauses() -> None:
    cal = BusinessCalendar.from_config(
        {
            "time_zone": "Europe/Berlin",
            "hours": "Mon-Fri 09:00-12:30, 13:30-18:00",
            "pauses": [
                ["2025-11-17T10:00:00+01:00", "2025-11-17T11:00:00+01:00"],
                {"start": "2025-11-18T17:00:00Z", "end": "2025-11-19T09:00:00Z"},
            ],
        }
    )
    mon9, mon12 = berlin("2025-11-17 09:00"), berlin("2025-11-17 12:00")
    assert cal.elapsed(mon9, mon12) == 2 * HOUR
    assert cal.due(mon9, 2 * HOUR) == mon12
    assert cal.due(berlin("2025-11-17 12:00"), HOUR) == berlin("2025-11-17 14:00")  # lunch
    # Tue 18:00 Berlin - Wed 10:00 Berlin paused: Wed opens at 10:00
    assert cal.next_open(berlin("2025-11-18 18:00")) == berlin("2025-11-19 10:00")


# --------------------------------------------------------------------------- config errors


@pytest.mark.parametrize(
    ("config", "needles"),
    [
        ({"time_zone": "Europe/Berlinn"}, ["time_zone", "Europe/Berlinn", '"Europe/Berlin"']),
        ({"hours": {"mon": ["09:00-25:00"]}}, ["hours.mon", '"25:00"', "HH:MM"]),
        ({"hours": {"tue": "18:00-09:00"}}, ["hours.tue", "ends before it starts", "24:00"]),
        (
            {"hours": {"fri": ["09:00-13:00", "12:30-18:00"]}},
            ["hours.fri", "overlap", '"09:00-18:00"'],
        ),
        ({"hours": {"mnday": ["09:00-17:00"]}}, ["hours.mnday", "mon-fri"]),
        ({"hours": "Mon-Fri nine to five"}, ["hours", "Mon-Fri 09:00-18:00"]),
        ({"hours": {}}, ["no day has opening hours"]),
        ({"timezone": "UTC"}, ['"timezone"', 'Did you mean "time_zone"']),
        ({"holidays": ["2025-02-30"]}, ["holidays[0]", "2025-02-30", "ISO dates"]),
        ({"holiday_country": "XX"}, ["holiday_country", '"XX"', "ISO 3166"]),
        (
            {"holiday_country": "DE", "holiday_subdivision": "ZZ"},
            ["holiday_subdivision", '"ZZ"', "BE"],
        ),
        ({"holiday_subdivision": "BE"}, ["holiday_subdivision", "holiday_country"]),
        ({"holiday_ics": "/nonexistent/x.ics"}, ["holiday_ics", "x.ics"]),
        ({"pauses": [["2025-11-17T10:00", "2025-11-17T11:00+01:00"]]}, ["pauses[0]", "time zone"]),
        ({"pauses": [["2025-11-17T11:00Z", "2025-11-17T10:00Z"]]}, ["pauses[0]", "not after"]),
    ],
)
def test_bad_config_is_a_clear_error(config: dict[str, object], needles: list[str]) -> None:
    with pytest.raises(CalendarConfigError) as info:
        BusinessCalendar.from_config(config)
    assert isinstance(info.value, ValueError) and isinstance(info.value, ConfigError)
    for needle in needles:
        assert needle in str(info.value)


def test_every_config_problem_is_reported_at_once() -> None:
    with pytest.raises(CalendarConfigError) as info:
        BusinessCalendar.from_config(
            {"time_zone": "Mars/Base", "hours": {"mon": "25:00-26:00"}, "holidays": ["x"]},
            source="leadsla.toml [business_hours]",
        )
    assert len(info.value.issues) == 4  # zone, two bad times, bad date
    assert all(i.startswith("leadsla.toml [business_hours]: ") for i in info.value.issues)


def test_direct_construction_is_validated() -> None:
    with pytest.raises(CalendarConfigError, match="overlap"):
        BusinessCalendar(hours=(((0, 3600), (1800, 7200)),) + ((),) * 6)
    with pytest.raises(CalendarConfigError, match="time_zone"):
        BusinessCalendar(time_zone="Nowhere/Land")


def test_bad_inputs_are_clear_errors(methods_cal: BusinessCalendar) -> None:
    with pytest.raises(DataError, match="no time zone"):
        methods_cal.elapsed(datetime(2025, 11, 14, 9), datetime(2025, 11, 14, 10))
    with pytest.raises(DataError, match="no time zone"):
        methods_cal.due(pd.Series(pd.to_datetime(["2025-11-14 09:00"])), 60)
    with pytest.raises(DataError, match="negative"):
        methods_cal.due(berlin("2025-11-14 09:00"), -1)


# --------------------------------------------------------------------------- API shapes


def test_config_forms_and_default() -> None:
    short = BusinessCalendar.from_config(
        {"hours": "Mon-Fri 09:00-18:00"}, time_zone="Europe/Berlin"
    )
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    table = BusinessCalendar.from_config(
        {"time_zone": "Europe/Berlin", "hours": {d: ["09:00-18:00"] for d in weekdays}}
    )
    assert short == table
    default = BusinessCalendar.default()
    assert default == BusinessCalendar.from_config({})
    assert default.weekly_seconds == 5 * 8 * HOUR and default.time_zone == "UTC"
    mixed = BusinessCalendar.from_config({"hours": "Mon,Wed 08:00-10:00, Sat 10:00-12:00"})
    eight_to_ten, ten_to_noon = ((28800, 36000),), ((36000, 43200),)
    assert mixed.hours == (eight_to_ten, (), eight_to_ten, (), (), ten_to_noon, ())
    attribute = "time_zone"
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(default, attribute, "Europe/Berlin")


def test_shapes_nat_and_broadcasting(methods_cal: BusinessCalendar) -> None:
    a = pd.Series(
        [berlin("2025-11-14 17:55"), pd.NaT, berlin("2025-11-17 10:00")], index=["x", "y", "z"]
    ).dt.tz_convert("UTC")
    b = a + pd.Timedelta(hours=1)
    got = methods_cal.elapsed(a, b)
    assert list(got.index) == ["x", "y", "z"] and got.dtype == "float64"
    assert got["x"] == 300 and np.isnan(got["y"]) and got["z"] == HOUR
    assert methods_cal.elapsed(b, a).fillna(-1).tolist() == [0.0, -1.0, 0.0]  # b <= a -> 0
    due = methods_cal.due(a, pd.Series([HOUR, HOUR, np.nan], index=a.index))
    assert str(due.dtype) == "datetime64[ns, UTC]"
    assert due["x"] == berlin("2025-11-17 09:55") and due.iloc[1:].isna().all()
    arr = np.array(["2025-11-14T16:55", "NaT"], dtype="datetime64[s]")  # numpy: UTC
    np.testing.assert_array_equal(
        methods_cal.elapsed(arr, arr + np.timedelta64(1, "h")), [300, np.nan]
    )
    out = methods_cal.due(arr, np.array([3600, 60], dtype="timedelta64[s]"))
    assert out.dtype == "datetime64[ns]" and out[0] == np.datetime64("2025-11-17T08:55", "ns")
    assert np.isnat(out[1])
    assert methods_cal.due(berlin("2025-11-15 10:00"), timedelta(0)) == berlin("2025-11-15 10:00")
    assert methods_cal.due("2025-11-14T17:55+01:00", timedelta(hours=4)) == berlin(
        "2025-11-17 12:55"
    )
    assert methods_cal.next_open([berlin("2025-11-15 10:00")])[0] == np.datetime64(
        "2025-11-17T08:00", "ns"
    )
    assert methods_cal.due(pd.NaT, 60) is pd.NaT


def test_table_grows_and_matches_a_fresh_calendar(methods_cal: BusinessCalendar) -> None:
    fresh = dataclasses.replace(methods_cal)
    far = berlin("2031-06-02 10:00")
    assert fresh.elapsed(far, far + timedelta(days=7)) == 5 * 9 * HOUR
    methods_cal.elapsed(berlin("2025-11-14 10:00"), berlin("2025-11-15 10:00"))  # small table
    assert methods_cal.elapsed(far, far + timedelta(days=7)) == 5 * 9 * HOUR
    d = 1_000 * 9 * HOUR  # ~4 years of business days: due() extends the table itself
    start = berlin("2025-11-17 09:00")
    assert dataclasses.replace(methods_cal).elapsed(start, methods_cal.due(start, d)) == d


def test_docstring_examples_run() -> None:
    result = doctest.testmod(calendar_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- the interval grid

_I64 = np.iinfo(np.int64)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(1, 10**12), min_size=1, max_size=60),
    st.integers(-(10**15), 10**15),
    st.lists(st.integers(_I64.min, _I64.max), max_size=40),
    st.lists(st.integers(-(10**13), 10**13), max_size=40),
)
def test_grid_search_is_numpys_binary_search(
    gaps: list[int], first: int, anywhere: list[int], near: list[int]
) -> None:
    """The grid's lookup equals ``np.searchsorted(side="right")`` for any strictly increasing
    array and any int64 keys (the values themselves, around them, the int64 extremes)."""
    from leadsla.clock.calendar import _Grid, _search_right

    a = np.cumsum(np.array([first, *gaps], dtype=np.int64))
    keys = np.array(
        [*anywhere, *(int(a[0]) + d for d in near), *a, *(a - 1), *(a + 1), _I64.min, _I64.max],
        dtype=np.int64,
    )
    grid = _Grid.of(a)
    assert np.array_equal(
        _search_right(a, grid, keys.copy()), np.searchsorted(a, keys, side="right")
    )
    if a.size >= 2:
        assert grid is not None or (int(a[-1]) - int(a[0])) // int(np.diff(a).min()) > 8 * a.size


def test_grid_is_declined_for_repeats_and_single_values() -> None:
    from leadsla.clock.calendar import _Grid

    assert _Grid.of(np.array([5], dtype=np.int64)) is None
    assert _Grid.of(np.array([1, 2, 2, 3], dtype=np.int64)) is None
