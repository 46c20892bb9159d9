"""The SLA policy file (``sla.toml``): round trips, and every validation error at once."""

from __future__ import annotations

import doctest
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leadsla.sla.policy as policy_module
from leadsla.errors import ConfigError
from leadsla.sla.policy import (
    SCHEMA,
    AttemptRule,
    DataProvenance,
    MarketingPolicy,
    MarketingSegment,
    Policy,
    PolicyError,
    SalesPolicy,
    load_policy,
    policy_to_toml,
    write_policy,
)

EXAMPLE = """\
schema = "leadsla.policy/1"
name = "Marketing–sales SLA 2027"
currency = "EUR"
[data]            # provenance (written by agree)
window = ["2025-01-01", "2026-06-30"]; sha256 = "{sha}"
[calendar]        # BusinessCalendar.from_config dict
time_zone = "Europe/Berlin"; hours = "Mon-Fri 09:00-18:00"; holiday_country = "DE"
[sales]
first_response_hours = 4            # business hours
attempt_kinds = ["call", "email"]
[sales.attempts]                    # default for every segment
count = 8; within_days = 14; day_kind = "calendar"   # or "business"
[sales.attempts.segments.enterprise]
count = 12; within_days = 21; day_kind = "calendar"
[marketing]
period = "month"                    # or quarter
mqls = 100                          # per period, overall
mql_value_eur = 1600
influenced_share = 0.6              # separate commitment
[marketing.segments.smb]
mqls = 60
""".replace("; ", "\n").format(sha="0123456789abcdef" * 4)


def minimal() -> dict[str, Any]:
    """The smallest valid policy table."""
    return {
        "schema": SCHEMA,
        "name": "SLA",
        "calendar": {"time_zone": "Europe/Berlin", "hours": "Mon-Fri 09:00-18:00"},
        "sales": {"first_response_hours": 4, "attempts": {"count": 8, "within_days": 14}},
    }


def problems(data: dict[str, Any]) -> list[str]:
    """The issues a policy table raises (asserting it raises)."""
    with pytest.raises(PolicyError) as info:
        Policy.from_dict(data, file="sla.toml")
    assert isinstance(info.value, ConfigError)
    return info.value.issues


def one_problem(data: dict[str, Any]) -> str:
    found = problems(data)
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- loading


def test_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "sla.toml"
    path.write_text(EXAMPLE, encoding="utf-8")
    p = load_policy(path)
    assert p.name == "Marketing–sales SLA 2027"
    assert p.currency == "EUR"
    assert p.data == DataProvenance(
        window=(date(2025, 1, 1), date(2026, 6, 30)), sha256="0123456789abcdef" * 4
    )
    assert p.sales.first_response_hours == 4
    assert p.sales.attempt_kinds == ("call", "email")
    assert p.sales.attempts == AttemptRule(8, 14, "calendar")
    assert p.sales.attempts_for("enterprise") == AttemptRule(12, 21, "calendar")
    assert p.sales.attempts_for("smb") == AttemptRule(8, 14, "calendar")
    assert p.sales.attempts_for(None) == AttemptRule(8, 14, "calendar")
    assert p.marketing == MarketingPolicy(
        mqls=100,
        period="month",
        mql_value_eur=1600,
        influenced_share=0.6,
        segments={"smb": MarketingSegment(60)},
    )
    cal = p.business_calendar()
    assert cal.time_zone == "Europe/Berlin" and cal.holiday_country == "DE"
    assert p.business_calendar() is cal  # built once
    assert load_policy(tmp_path) == p  # a folder means its sla.toml


def test_minimal_defaults() -> None:
    p = Policy.from_dict(minimal())
    assert p.currency == "EUR" and p.marketing is None and p.data is None
    assert p.sales.attempt_kinds == ("call", "email")
    assert p.sales.segments == {}


def test_segment_rule_inherits_left_out_keys() -> None:
    data = minimal()
    data["sales"]["attempts"]["day_kind"] = "business"
    data["sales"]["attempts"]["segments"] = {"enterprise": {"count": 12}}
    p = Policy.from_dict(data)
    assert p.sales.attempts_for("enterprise") == AttemptRule(12, 14, "business")


def test_doctests() -> None:
    assert doctest.testmod(policy_module, raise_on_error=False).failed == 0


# --------------------------------------------------------------------------- round trips


def test_round_trip_of_the_example(tmp_path: Path) -> None:
    src = tmp_path / "hand.toml"
    src.write_text(EXAMPLE, encoding="utf-8")
    p = load_policy(src)
    out = write_policy(p, tmp_path / "out" / "sla.toml")
    assert out == tmp_path / "out" / "sla.toml"
    again = load_policy(out)
    assert again == p
    # writing what was read gives the same text: the writer is deterministic
    assert policy_to_toml(again) == out.read_text(encoding="utf-8")


def test_write_into_a_folder(tmp_path: Path) -> None:
    p = Policy.from_dict(minimal())
    assert write_policy(p, tmp_path) == tmp_path / "sla.toml"
    assert load_policy(tmp_path) == p


def test_round_trip_of_a_rich_calendar(tmp_path: Path) -> None:
    data = minimal()
    data["calendar"] = {
        "time_zone": "Europe/Madrid",
        "hours": {"mon-thu": ["09:00-14:00", "15:00-18:00"], "fri": "08:00-15:00"},
        "holidays": ["2025-12-25", date(2026, 1, 6)],
        "holiday_country": "ES",
        "holiday_subdivision": "MD",
        "pauses": [["2025-11-20T10:00:00+01:00", "2025-11-20T12:00:00+01:00"]],
    }
    p = Policy.from_dict(data)
    assert load_policy(write_policy(p, tmp_path / "sla.toml")) == p
    assert p.business_calendar().holiday_subdivision == "MD"


def test_constructed_policy_round_trips(tmp_path: Path) -> None:
    p = Policy(
        name='Quotes " and \\ backslashes\nand a newline',
        calendar={"time_zone": "America/New_York", "hours": "Mon-Fri 08:30-17:00"},
        sales=SalesPolicy(
            first_response_hours=0.25,
            attempts=AttemptRule(5, 2.5, "business"),
            attempt_kinds=("call", "linkedin message"),
            segments={"mid market & co": AttemptRule(7, 10, "calendar")},
        ),
        marketing=MarketingPolicy(
            mqls=250,
            period="quarter",
            mql_value_eur=1234.5,
            influenced_share=0.55,
            originated_share=0.4,
            quota_eur=400_000,
            segments={"smb": MarketingSegment(60, 900.0), "ent": MarketingSegment(5)},
        ),
        currency="USD",
        description="Agreed on 2026-07-01",
        data=DataProvenance(source="crm/", window=(date(2025, 1, 1), date(2026, 6, 30)), leads=7),
    )
    path = write_policy(p, tmp_path / "sla.toml")
    assert load_policy(path) == p
    assert p.validated() == p


segment_names = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
)
positive = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None, database=None)
@given(
    name=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1).filter(
        str.strip
    ),
    hours=positive,
    rules=st.dictionaries(
        segment_names,
        st.tuples(
            st.integers(1, 50),
            positive | st.integers(1, 90),
            st.sampled_from(["calendar", "business"]),
        ),
        max_size=4,
    ),
    targets=st.dictionaries(segment_names, st.integers(1, 10_000), max_size=4),
    value=st.none() | positive,
    share=st.none() | st.floats(min_value=0.01, max_value=1.0),
)
def test_round_trip_property(
    name: str,
    hours: float,
    rules: dict[str, tuple[int, float, str]],
    targets: dict[str, int],
    value: float | None,
    share: float | None,
) -> None:
    p = Policy(
        name=name,
        calendar={"time_zone": "UTC"},
        sales=SalesPolicy(
            first_response_hours=hours,
            attempts=AttemptRule(8, 14),
            segments={
                k: AttemptRule(c, d, k_)  # type: ignore[arg-type]
                for k, (c, d, k_) in rules.items()
            },
        ),
        marketing=MarketingPolicy(
            mqls=100,
            mql_value_eur=value,
            influenced_share=share,
            segments={k: MarketingSegment(n) for k, n in targets.items()},
        ),
    )
    text = policy_to_toml(p)
    assert Policy.from_dict(tomllib.loads(text)) == p


def test_write_refuses_an_invalid_policy(tmp_path: Path) -> None:
    bad = Policy(
        name="SLA",
        calendar={"time_zone": "Mars/Olympus"},
        sales=SalesPolicy(first_response_hours=-1, attempts=AttemptRule(0, 14)),
    )
    target = tmp_path / "sla.toml"
    with pytest.raises(PolicyError) as info:
        write_policy(bad, target)
    assert not target.exists()
    text = str(info.value)
    assert str(target) in text
    assert "sales.first_response_hours" in text and "sales.attempts.count" in text
    assert "calendar" in text and "Mars/Olympus" in text


# --------------------------------------------------------------------------- errors


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such policy file.*leadsla agree"):
        load_policy(tmp_path / "nope.toml")
    bad = tmp_path / "sla.toml"
    bad.write_text('schema = "leadsla.policy/1"\nname = SLA\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sla.toml: not valid TOML .*line 2"):
        load_policy(bad)


def test_schema_missing() -> None:
    data = minimal()
    del data["schema"]
    assert one_problem(data) == f'schema is missing. Add schema = "{SCHEMA}" as the first line.'


def test_schema_unknown_version() -> None:
    issue = one_problem(minimal() | {"schema": "leadsla.policy/2"})
    assert '"leadsla.policy/2" is not a version this leadsla reads' in issue
    assert "Upgrade leadsla" in issue


def test_schema_not_leadsla() -> None:
    issue = one_problem(minimal() | {"schema": "sla/1"})
    assert issue == f'schema: "sla/1" is not a leadsla policy schema. Write schema = "{SCHEMA}".'


@pytest.mark.parametrize(
    ("where", "key", "expected"),
    [
        ((), "nmae", 'nmae: unknown key. Did you mean "name"?'),
        (("sales",), "first_respons_hours", 'Did you mean "first_response_hours"?'),
        (("sales", "attempts"), "within_day", 'Did you mean "within_days"?'),
        (("calendar",), "holiday_county", 'Did you mean "holiday_country"?'),
    ],
)
def test_unknown_keys_with_did_you_mean(where: tuple[str, ...], key: str, expected: str) -> None:
    data = minimal()
    table = data
    for w in where:
        table = table[w]
    table[key] = 1
    issues = problems(data)
    assert any(expected in i for i in issues), issues
    if where == ("sales", "attempts"):
        assert issues == [
            'sales.attempts.within_day: unknown key. Did you mean "within_days"? Keys in '
            "[sales.attempts]: count, within_days, day_kind, rule, segments."
        ]


def test_unknown_keys_in_segment_tables() -> None:
    data = minimal()
    data["sales"]["attempts"]["segments"] = {"enterprise": {"cuont": 12}}
    data["marketing"] = {"mqls": 100, "segments": {"smb": {"mqls": 60, "mql_value": 900}}}
    issues = problems(data)
    assert len(issues) == 2
    assert issues[0].startswith("sales.attempts.segments.enterprise.cuont: unknown key.")
    assert 'Did you mean "count"?' in issues[0]
    assert issues[1].startswith("marketing.segments.smb.mql_value: unknown key.")
    assert 'Did you mean "mql_value_eur"?' in issues[1]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("sales", "first_response_hours"), -4, "sales.first_response_hours: -4 must be above 0"),
        (("sales", "first_response_hours"), 0, "sales.first_response_hours: 0 must be above 0"),
        (("sales", "attempts", "count"), -3, "sales.attempts.count: -3 must be above 0"),
        (("sales", "attempts", "count"), 8.0, "sales.attempts.count: 8.0 is not a whole number"),
        (("sales", "attempts", "count"), True, "sales.attempts.count: true is not a whole number"),
        (("sales", "attempts", "within_days"), 0, "sales.attempts.within_days: 0 must be above"),
        (
            ("sales", "attempts", "within_days"),
            "14",
            'sales.attempts.within_days: "14" is not a number',
        ),
        (
            ("sales", "attempts", "within_days"),
            float("nan"),
            "sales.attempts.within_days: nan is not",
        ),
    ],
)
def test_bad_numbers(path: tuple[str, ...], value: Any, expected: str) -> None:
    data = minimal()
    table = data
    for p in path[:-1]:
        table = table[p]
    table[path[-1]] = value
    issue = one_problem(data)
    assert issue.startswith(expected), issue
    assert "Write" in issue  # the fix


def test_bad_day_kind() -> None:
    data = minimal()
    data["sales"]["attempts"]["day_kind"] = "bussiness"
    assert one_problem(data) == (
        'sales.attempts.day_kind: "bussiness" is not allowed. Did you mean "business"? '
        'Write "calendar" or "business".'
    )


@pytest.mark.parametrize(
    ("mqls", "expected"),
    [
        (100.5, "marketing.mqls: 100.5 is not a whole number"),
        (100.0, "marketing.mqls: 100.0 is not a whole number"),
        ("100", 'marketing.mqls: "100" is not a whole number'),
        (0, "marketing.mqls: 0 must be above 0"),
    ],
)
def test_mqls_must_be_a_positive_integer(mqls: Any, expected: str) -> None:
    issue = one_problem(minimal() | {"marketing": {"mqls": mqls}})
    assert issue.startswith(expected), issue
    assert "mqls = 100" in issue


def test_marketing_checks() -> None:
    data = minimal() | {
        "marketing": {
            "period": "week",
            "mql_value_eur": -1600,
            "influenced_share": 1.5,
            "segments": {"smb": {"mqls": 6.5}, "ent": 3},
        }
    }
    issues = problems(data)
    assert issues == [
        'marketing.period: "week" is not allowed. Write "month" or "quarter".',
        "marketing.mqls is missing. Add e.g. mqls = 100 under [marketing].",
        "marketing.mql_value_eur: -1600 must be above 0. Write e.g. mql_value_eur = 1600.",
        "marketing.influenced_share: 1.5 is above 1. A share is a fraction between 0 and 1, "
        "e.g. influenced_share = 0.6 for 60%.",
        "marketing.segments.smb.mqls: 6.5 is not a whole number. Write a whole number without "
        "a decimal point, e.g. mqls = 60.",
        "marketing.segments.ent: 3 is not a table. Write [marketing.segments.ent] with "
        "mqls = … under it.",
    ]


def test_bad_calendar_uses_the_clock_errors() -> None:
    data = minimal()
    data["calendar"] = {"time_zone": "Europe/Berln", "hours": "Mon-Fri 09:00-25:00"}
    issues = problems(data)
    assert len(issues) == 2
    assert all(i.startswith("calendar: ") for i in issues)
    assert any('Did you mean "Europe/Berlin"?' in i for i in issues)
    assert any('"25:00" is not a time of day' in i for i in issues)


def test_calendar_needs_a_time_zone() -> None:
    data = minimal()
    data["calendar"] = {"hours": "Mon-Fri 09:00-18:00"}
    assert one_problem(data).startswith("calendar.time_zone is missing.")


def test_missing_sections_and_keys() -> None:
    issues = problems({"schema": SCHEMA})
    assert issues == [
        'name is missing. Add e.g. name = "Marketing–sales SLA 2027".',
        "[calendar] is missing. Add the section (see the example in SPEC.md).",
        'calendar.time_zone is missing. Add e.g. time_zone = "Europe/Berlin" (the IANA zone of '
        "the business hours) under [calendar].",
        "[sales] is missing. Add the section (see the example in SPEC.md).",
        "sales.first_response_hours is missing. Add e.g. first_response_hours = 4 under [sales].",
        "[sales.attempts] is missing. Add the section (see the example in SPEC.md).",
        "sales.attempts.count is missing. Add e.g. count = 8 under [sales.attempts].",
        "sales.attempts.within_days is missing. Add e.g. within_days = 14 under [sales.attempts].",
    ]


def test_provenance_and_top_level_checks() -> None:
    data = minimal() | {
        "currency": "euro",
        "name": "  ",
        "data": {"window": ["2026-06-30", "2025-01-01"], "sha256": "xyz", "leads": -5},
    }
    data["sales"]["attempt_kinds"] = ["call", "call"]
    issues = problems(data)
    assert issues == [
        'name: "  " is not a non-empty text. Write e.g. name = "Marketing–sales SLA 2027".',
        'currency: "euro" is not an ISO 4217 code. Write three capital letters, e.g. '
        'currency = "EUR".',
        "data.window: the last day 2025-01-01 is before the first day 2026-06-30. Write the "
        "earlier date first.",
        'data.sha256: "xyz" is not a SHA-256 digest. Write the 64 lower-case hex digits '
        "`leadsla agree` printed, or remove the key.",
        "data.leads: -5 must be above 0. Write e.g. leads = 48210.",
        "sales.attempt_kinds: call listed twice. List each kind once.",
    ]


def test_attempt_kinds_must_be_a_list_of_names() -> None:
    data = minimal()
    data["sales"]["attempt_kinds"] = []
    assert one_problem(data).startswith("sales.attempt_kinds: [] is not a list of activity kinds")


def test_every_problem_at_once(tmp_path: Path) -> None:
    """A badly hand-edited file: every problem is listed in one error naming the file."""
    path = tmp_path / "sla.toml"
    path.write_text(
        """\
schema = "leadsla.policy/9"
name = "SLA"
colour = "blue"

[calendar]
time_zone = "Europe/Berlin"
hours = "Mon-Fri 9-18"

[sales]
first_response_hours = 0
attempt_kinds = ["call", "email"]

[sales.attempts]
count = 8.5
within_days = -14
day_kind = "weekdays"

[marketing]
period = "quarter"
mqls = "a hundred"
""",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    err = info.value
    assert err.file == str(path)
    assert len(err.issues) == 9, err.issues  # the clock reports both bad times
    text = str(err)
    assert text.startswith(f"{path}: 9 problems in the SLA policy:\n  - ")
    for needle in (
        '"leadsla.policy/9" is not a version',
        "colour: unknown key",
        "calendar: hours",
        "sales.first_response_hours: 0 must be above 0",
        "sales.attempts.count: 8.5 is not a whole number",
        "sales.attempts.within_days: -14 must be above 0",
        'sales.attempts.day_kind: "weekdays" is not allowed',
        'marketing.mqls: "a hundred" is not a whole number',
    ):
        assert needle in text, needle


def test_single_problem_message_names_file_and_key() -> None:
    data = minimal()
    data["sales"]["attempts"]["count"] = 0
    with pytest.raises(PolicyError) as info:
        Policy.from_dict(data, file="team/sla.toml")
    assert str(info.value) == (
        "team/sla.toml, sales.attempts.count: 0 must be above 0. Write e.g. count = 8."
    )


def test_holiday_ics_is_read_beside_the_policy(tmp_path: Path) -> None:
    (tmp_path / "holidays.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
        "UID:1\r\nDTSTART;VALUE=DATE:20251124\r\nDTEND;VALUE=DATE:20251125\r\n"
        "SUMMARY:Team day\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    data = minimal()
    data["calendar"]["holiday_ics"] = "holidays.ics"
    path = tmp_path / "sla.toml"
    path.write_text(policy_to_toml(Policy.from_dict(data, base_dir=tmp_path)), encoding="utf-8")
    p = load_policy(path)
    assert p.calendar["holiday_ics"] == "holidays.ics"  # kept as written
    assert date(2025, 11, 24) in p.business_calendar().holidays
    missing = minimal()
    missing["calendar"]["holiday_ics"] = "nope.ics"
    issue = one_problem(missing)
    assert issue.startswith("calendar: holiday_ics: cannot read")
