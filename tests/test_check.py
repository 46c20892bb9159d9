"""SLA compliance (``check``): METHODS.md §5 fixtures, both sales rules, marketing's pace,
"a breach stays a breach", and the synthetic CRM against a per-lead reference loop."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.io.source import connect
from leadsla.settings import Settings
from leadsla.sla.compliance import (
    CheckResult,
    business_day_seconds,
    check_compliance,
    period_bounds,
    window_ends,
)
from leadsla.sla.policy import SCHEMA, AttemptRule, Policy, write_policy

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600
LEAD_COLUMNS = [
    "lead_id", "created_at", "segment", "campaign", "source", "owner", "status", "closed_at",
    "revenue", "mql_at",
]  # fmt: skip
ACTIVITY_COLUMNS = ["activity_id", "lead_id", "at", "kind", "rep", "outcome"]


def berlin(text: str) -> datetime:
    """A Berlin wall-clock time ("2025-11-14 17:55") as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def iso(text: str | None) -> str:
    return "" if not text else berlin(text).isoformat()


def make_policy(**sales: Any) -> Policy:
    """The METHODS.md §5 calendar, 4 business hours, 3 attempts within 14 calendar days."""
    attempts = {"count": 3, "within_days": 14, "day_kind": "calendar"} | sales.pop("attempts", {})
    return Policy.from_dict(
        {
            "schema": SCHEMA,
            "name": "Test SLA",
            "calendar": {
                "time_zone": "Europe/Berlin",
                "hours": "Mon-Fri 09:00-18:00",
                "holidays": ["2025-12-25", "2025-12-26", "2026-01-01"],
            },
            "sales": {"first_response_hours": 4, "attempts": attempts} | sales,
            "marketing": {
                "period": "month",
                "mqls": 8,
                "mql_value_eur": 1600,
                "segments": {"smb": {"mqls": 4}, "biz": {"mqls": 2, "mql_value_eur": 5000}},
            },
        }
    )


POLICY = make_policy()


# (lead_id, created_at, segment, source, owner, status, closed_at, mql_at)
LEADS = [
    ("F1", "2025-11-14 17:55", "smb", "marketing", "ana", "open", None, None),  # called 12:54
    ("F2", "2025-11-14 17:55", "smb", "marketing", "ben", "open", None, None),  # called 12:56
    ("F3", "2025-11-14 17:55", "smb", "marketing", "ana", "open", None, None),  # never called
    ("A1", "2025-11-03 10:00", "smb", "marketing", "ana", "open", None, None),  # 2 attempts
    ("A2", "2025-11-03 10:00", "smb", "sales", "ben", "lost", "2025-11-04 12:00", None),
    ("A3", "2025-11-03 10:00", "smb", "partner", "ben", "lost", "2025-11-19 12:00", None),
    ("A4", "2025-11-03 10:00", "smb", "marketing", None, "open", None, None),  # 3rd at the end
    ("A5", "2025-11-03 10:00", "smb", "marketing", "ana", "open", None, None),  # meetings
    ("A6", "2025-11-03 09:00", "smb", "marketing", "ana", "open", None, "2025-11-10 10:00"),
    ("A7", "2025-11-03 10:00", "smb", "marketing", "ben", "won", "2025-11-05 10:00", None),
    ("B1", "2025-11-14 17:55", "biz", "marketing", "ben", "open", None, None),
    ("Z1", "2025-11-20 10:00", "smb", "marketing", "ana", "open", None, None),  # after as_of
]
# (lead_id, at, kind)
ACTIVITIES = [
    ("F1", "2025-11-17 12:54", "call"),
    ("F1", "2025-11-18 10:00", "email"),
    ("F1", "2025-11-19 10:00", "call"),
    ("F2", "2025-11-17 12:56", "call"),
    ("F2", "2025-11-17 15:00", "email"),
    ("F2", "2025-11-18 15:00", "call"),
    ("A1", "2025-11-03 10:30", "call"),
    ("A1", "2025-11-05 10:30", "call"),
    ("A2", "2025-11-03 10:30", "call"),
    ("A3", "2025-11-03 10:30", "call"),
    ("A3", "2025-11-05 10:30", "email"),
    ("A4", "2025-11-03 10:30", "call"),
    ("A4", "2025-11-03 12:00", "email"),
    ("A4", "2025-11-17 10:00", "call"),  # exactly at the end of its window
    ("A5", "2025-11-03 10:30", "call"),
    ("A5", "2025-11-04 10:30", "meeting"),
    ("A5", "2025-11-05 10:30", "meeting"),
    ("A5", "2025-11-06 10:30", "sms"),
    ("A6", "2025-11-04 10:00", "call"),  # before its MQL: not a response to it
    ("A6", "2025-11-05 10:00", "call"),
    ("A6", "2025-11-06 10:00", "call"),
    ("A6", "2025-11-10 11:00", "call"),
    ("A7", "2025-11-03 11:00", "call"),
    ("B1", "2025-11-17 09:30", "call"),
    ("B1", "2025-11-17 15:00", "call"),
    ("B1", "2025-11-18 17:00", "email"),
    ("Z1", "2025-11-20 10:05", "call"),
]


def write_crm(
    folder: Path, leads: list[tuple[Any, ...]], activities: list[tuple[Any, ...]]
) -> Path:
    """Canonical ``leads.csv`` and ``activities.csv`` (Berlin times with their offsets)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "leads.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(LEAD_COLUMNS)
        for lead_id, created, segment, source, owner, status, closed, mql in leads:
            revenue = "1000" if status == "won" else ""
            w.writerow(
                [lead_id, iso(created), segment, "", source or "", owner or "", status,
                 iso(closed), revenue, iso(mql)]
            )  # fmt: skip
    with open(folder / "activities.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(ACTIVITY_COLUMNS)
        for k, (lead_id, at, kind) in enumerate(activities):
            w.writerow([f"X{k}", lead_id, iso(at), kind, "rep", ""])
    return folder


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_crm(tmp_path_factory.mktemp("crm"), LEADS, ACTIVITIES)


def run(folder: Path, as_of: str, policy: Policy = POLICY, **kw: Any) -> CheckResult:
    settings_ = Settings(time_zone="Europe/Berlin")
    with connect(folder, settings=settings_) as ws:
        return check_compliance(
            ws.leads, ws.activities, policy=policy, as_of=berlin(as_of), per_lead=True, **kw
        )


def statuses(result: CheckResult) -> dict[str, tuple[str, str, str]]:
    """lead_id -> (first response, attempts, combined)."""
    assert result.per_lead is not None
    df = result.per_lead
    return {
        r.lead_id: (r.first_response, r.attempts_rule, r.status) for r in df.itertuples(index=False)
    }


def assert_consistent(result: CheckResult) -> None:
    """met + breached + pending = leads, per rule, combined, per rep and per segment."""
    for counts in (result.status, result.first_response, result.attempts):
        assert counts.met + counts.breached + counts.pending == result.leads
    for rows in (result.by_rep, result.by_segment):
        assert sum(r["leads"] for r in rows) == result.leads
        for r in rows:
            assert r["met"] + r["breached"] + r["pending"] == r["leads"]
    n_fr = int((result.breaches["rule"] == "first_response").sum())
    assert n_fr == result.first_response.breached
    assert len(result.breaches) - n_fr == result.attempts.breached


# --------------------------------------------------------------------------- METHODS §5


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # due Mon 17 Nov 12:55 (Fri 17:55 + 4 business hours, 09:00-18:00)
        ("2025-11-17 12:00", {"F1": "pending", "F2": "pending", "F3": "pending"}),
        ("2025-11-17 12:54", {"F1": "met", "F2": "pending", "F3": "pending"}),
        ("2025-11-17 12:55", {"F1": "met", "F2": "pending", "F3": "pending"}),
        ("2025-11-17 12:56", {"F1": "met", "F2": "breached", "F3": "breached"}),
        ("2025-11-17 13:00", {"F1": "met", "F2": "breached", "F3": "breached"}),
    ],
)
def test_friday_evening_lead(crm: Path, as_of: str, expected: dict[str, str]) -> None:
    result = run(crm, as_of)
    got = statuses(result)
    assert {k: got[k][0] for k in expected} == expected
    assert_consistent(result)
    assert result.per_lead is not None
    due = result.per_lead.set_index("lead_id").loc["F1", "due"]
    assert due == pd.Timestamp(berlin("2025-11-17 12:55"))


def test_first_response_breach_rows(crm: Path) -> None:
    result = run(crm, "2025-11-17 13:00")
    rows = {(b["lead_id"], b["rule"]): b for b in result.breach_rows()}
    f2 = rows["F2", "first_response"]
    assert f2["due"] == "2025-11-17T12:55:00+01:00"
    assert f2["first_attempt"] == "2025-11-17T12:56:00+01:00"
    assert f2["owner"] == "ben" and f2["segment"] == "smb"
    assert f2["attempts"] is None and f2["required"] is None
    f3 = rows["F3", "first_response"]
    assert f3["first_attempt"] is None


def test_attempt_rules(crm: Path) -> None:
    """Windows end Mon 17 Nov 10:00 for the leads created Mon 3 Nov 10:00."""
    got = statuses(run(crm, "2025-11-17 13:00"))
    assert got["A1"] == ("met", "breached", "breached")  # 2 of 3, window over, open
    assert got["A2"] == ("met", "met", "met")  # closed in its window: no more attempts owed
    assert got["A3"] == ("met", "breached", "breached")  # closes only after (19 Nov)
    assert got["A4"] == ("met", "met", "met")  # the 3rd attempt exactly at the end counts
    assert got["A5"] == ("met", "breached", "breached")  # meetings and SMS are not attempts
    assert got["A6"] == ("met", "pending", "pending")  # MQL 10 Nov: window to 24 Nov, 1 so far
    assert got["A7"] == ("met", "met", "met")  # won
    assert "Z1" not in got  # an MQL after as_of is out of scope


def test_attempts_met_early_and_pending(crm: Path) -> None:
    early = statuses(run(crm, "2025-11-05 12:00"))
    assert early["A1"] == ("met", "pending", "pending")  # 2 of 3, window still open
    assert early["A4"] == ("met", "pending", "pending")
    assert early["A3"] == ("met", "pending", "pending")
    late = statuses(run(crm, "2025-11-19 12:00"))
    assert late["F1"] == ("met", "met", "met")  # 3 attempts before the window ends


def test_attempt_breach_rows_and_counts(crm: Path) -> None:
    result = run(crm, "2025-11-17 13:00")
    rows = {(b["lead_id"], b["rule"]): b for b in result.breach_rows()}
    a1 = rows["A1", "attempts"]
    assert (a1["attempts"], a1["required"]) == (2, 3)
    assert a1["due"] == "2025-11-17T10:00:00+01:00"
    assert a1["first_attempt"] is None
    assert ("A4", "attempts") not in rows
    # newest deadline first
    dues = list(result.breaches["due"])
    assert dues == sorted(dues, reverse=True)
    assert_consistent(result)
    assert result.attempts_met_by_closing == 2  # A2 (lost) and A7 (won) with fewer than 3


def test_summaries(crm: Path) -> None:
    result = run(crm, "2025-11-17 13:00")
    by_rep = {r["owner"]: r for r in result.by_rep}
    assert list(by_rep) == ["ana", "ben", "(none)"]  # no owner sorts last
    assert by_rep["(none)"]["leads"] == 1  # A4
    assert by_rep["ana"]["leads"] == 5  # F1 F3 A1 A5 A6
    assert by_rep["ana"]["first_response_breached"] == 1  # F3
    assert by_rep["ana"]["attempts_breached"] == 2  # A1 A5
    assert by_rep["ana"]["breached"] == 3
    by_seg = {r["segment"]: r for r in result.by_segment}
    assert by_seg["biz"]["leads"] == 1 and by_seg["smb"]["leads"] == 10
    assert result.leads == 11
    assert result.status.breached == 5  # F2 F3 A1 A3 A5
    assert result.first_response.to_dict()["compliance"] == pytest.approx(9 / 11)


# --------------------------------------------------------------------------- windows


def test_business_day_window(crm: Path) -> None:
    """B1: Fri 17:55 + 2 business days (18 business hours) = Tue 17:55; calendar: Sun 17:55."""
    business = make_policy(
        attempts={"segments": {"biz": {"count": 3, "within_days": 2, "day_kind": "business"}}}
    )
    calendar = make_policy(
        attempts={"segments": {"biz": {"count": 3, "within_days": 2, "day_kind": "calendar"}}}
    )
    r_b = run(crm, "2025-11-19 09:00", business)
    r_c = run(crm, "2025-11-19 09:00", calendar)
    assert r_b.per_lead is not None and r_c.per_lead is not None
    end_b = r_b.per_lead.set_index("lead_id").loc["B1", "window_end"]
    end_c = r_c.per_lead.set_index("lead_id").loc["B1", "window_end"]
    assert end_b == pd.Timestamp(berlin("2025-11-18 17:55"))
    assert end_c == pd.Timestamp(berlin("2025-11-16 17:55"))
    assert statuses(r_b)["B1"][1] == "met"  # 3 attempts Mon-Tue
    assert statuses(r_c)["B1"][1] == "breached"  # none by Sunday
    # other segments keep the default rule
    assert statuses(r_b)["A1"] == statuses(r_c)["A1"]
    assert statuses(run(crm, "2025-11-18 12:00", business))["B1"][1] == "pending"


def test_business_day_length() -> None:
    assert business_day_seconds(POLICY.business_calendar()) == 9 * HOUR
    short_friday = replace(
        POLICY, calendar={"time_zone": "UTC", "hours": "Mon-Thu 08:00-18:00; Fri 08:00-13:00"}
    )
    assert business_day_seconds(short_friday.business_calendar()) == 9 * HOUR  # (4×10 + 5) / 5


def ends(starts: list[datetime], days: float, business: bool) -> list[pd.Timestamp]:
    s = np.array([pd.Timestamp(t).tz_convert("UTC").value for t in starts], dtype=np.int64)
    got = window_ends(
        s,
        np.full(len(s), days),
        np.full(len(s), business),
        calendar=POLICY.business_calendar(),
    )
    return [pd.Timestamp(int(x), tz="UTC") for x in got]


def test_calendar_days_keep_the_wall_clock_across_dst() -> None:
    [spring] = ends([berlin("2026-03-20 10:00")], 14, False)
    assert spring == pd.Timestamp(berlin("2026-04-03 10:00"))  # 13 days 23 h later
    [autumn] = ends([berlin("2025-10-20 10:00")], 14, False)
    assert autumn == pd.Timestamp(berlin("2025-11-03 10:00"))  # 14 days 1 h later
    # 02:30 on 29 Mar 2026 does not exist: the first valid instant, 03:00 CEST
    [gap] = ends([berlin("2026-03-14 02:30")], 15, False)
    assert gap == pd.Timestamp("2026-03-29T01:00:00Z")
    # 02:30 on 25 Oct 2026 happens twice: the first time (CEST)
    [fold] = ends([berlin("2026-10-10 02:30")], 15, False)
    assert fold == pd.Timestamp("2026-10-25T00:30:00Z")


def test_business_days_skip_holidays() -> None:
    # Wed 24 Dec 16:00 + 2 business days (18 h): 2 h Wed, Mon 29 (9 h), Tue 30 until 16:00
    [end] = ends([berlin("2025-12-24 16:00")], 2, True)
    assert end == pd.Timestamp(berlin("2025-12-30 16:00"))


# --------------------------------------------------------------------------- marketing


def test_marketing_pace(crm: Path) -> None:
    result = run(crm, "2025-11-17 13:00")
    m = result.marketing
    assert m is not None
    assert m.period_start == berlin("2025-11-01 00:00")
    assert m.period_end == berlin("2025-12-01 00:00")
    share = (16 * 24 + 13) / (30 * 24)
    assert m.elapsed_share == pytest.approx(share)
    # marketing-sourced MQLs from 1 Nov to as_of: F1-3, A1, A4-7, B1 (A2 sales, A3 partner,
    # Z1 after as_of)
    assert m.delivered == 9
    assert m.counted == "leads whose source is marketing"
    assert m.pace == pytest.approx(9 / (8 * share))
    assert m.projected == pytest.approx(9 / share)
    assert m.value_delivered_eur == 8 * 1600 + 5000  # biz has its own MQL value
    segs = {r["segment"]: r for r in m.by_segment}
    assert segs["smb"]["delivered"] == 8 and segs["smb"]["target"] == 4
    assert segs["smb"]["pace"] == pytest.approx(8 / (4 * share))
    assert segs["biz"]["value_delivered_eur"] == 5000  # its own MQL value
    d = result.to_dict()["marketing"]
    assert {"target", "delivered", "pace", "projected", "by_segment"} <= set(d)


def test_marketing_counts_every_mql_without_sources(tmp_path: Path) -> None:
    leads = [(r[0], r[1], r[2], None, *r[4:]) for r in LEADS]
    folder = write_crm(tmp_path / "nosource", leads, ACTIVITIES)
    m = run(folder, "2025-11-17 13:00").marketing
    assert m is not None
    assert m.delivered == 11  # every MQL up to as_of
    assert m.counted == "every MQL (no lead has a source)"


def test_period_bounds() -> None:
    start, end = period_bounds(berlin("2026-02-10 12:00"), "quarter", "Europe/Berlin")
    assert (start, end) == (berlin("2026-01-01 00:00"), berlin("2026-04-01 00:00"))
    start, end = period_bounds(berlin("2026-03-31 23:30"), "month", "Europe/Berlin")
    assert (start, end) == (berlin("2026-03-01 00:00"), berlin("2026-04-01 00:00"))
    assert end - start == timedelta(days=31, hours=-1)  # the DST change


def test_no_marketing_section(crm: Path) -> None:
    p = replace(POLICY, marketing=None)
    result = run(crm, "2025-11-17 13:00", p)
    assert result.marketing is None
    assert result.to_dict()["marketing"] is None


# --------------------------------------------------------------------------- JSON and scope


def test_json_keys(crm: Path) -> None:
    result = run(crm, "2025-11-17 13:00")
    d = result.to_dict()
    assert d["as_of"] == "2025-11-17T13:00:00+01:00"
    assert {
        "met",
        "breached",
        "pending",
        "first_response",
        "attempts",
        "by_rep",
        "by_segment",
    } <= set(d["leads"])
    assert {"met", "breached", "pending"} <= set(d["leads"]["first_response"])
    assert {"target", "delivered", "pace"} <= set(d["marketing"])
    assert d["breaches_total"] == len(d["breaches"]) == len(result.breaches)
    first = d["breaches"][0]
    assert set(first) == {
        "lead_id", "rule", "due", "first_attempt", "attempts", "required", "owner", "segment"
    }  # fmt: skip
    json.dumps(d, default=str)
    assert len(result.to_dict(max_breaches=2)["breaches"]) == 2


def test_since_limits_the_scope(crm: Path) -> None:
    result = run(crm, "2025-11-17 13:00", since=berlin("2025-11-10 00:00"))
    assert set(statuses(result)) == {"F1", "F2", "F3", "A6", "B1"}
    assert_consistent(result)


def test_no_activities_table(tmp_path: Path) -> None:
    folder = tmp_path / "bare"
    write_crm(folder, LEADS, [])
    (folder / "activities.csv").unlink()
    result = run(folder, "2025-11-17 13:00")
    got = statuses(result)
    assert got["F1"] == ("breached", "pending", "breached")
    assert got["A2"] == ("breached", "met", "breached")  # closed without any attempt
    assert_consistent(result)


# --------------------------------------------------------------------------- memtables

T0 = datetime(2025, 11, 3, 8, 0, tzinfo=UTC)  # Monday 09:00 Berlin


def tables(leads: list[dict[str, Any]], acts: list[dict[str, Any]]) -> tuple[ir.Table, ir.Table]:
    lf = pd.DataFrame(
        leads, columns=["lead_id", "mql_at", "closed_at", "status", "owner", "segment", "source"]
    )
    for c in ("mql_at", "closed_at"):
        lf[c] = pd.to_datetime(lf[c], utc=True)
    af = pd.DataFrame(acts, columns=["lead_id", "at", "kind"])
    af["at"] = pd.to_datetime(af["at"], utc=True)
    schema_l = {
        "lead_id": "string", "mql_at": "timestamp('UTC')", "closed_at": "timestamp('UTC')",
        "status": "string", "owner": "string", "segment": "string", "source": "string",
    }  # fmt: skip
    schema_a = {"lead_id": "string", "at": "timestamp('UTC')", "kind": "string"}
    return ibis.memtable(lf, schema=schema_l), ibis.memtable(af, schema=schema_a)


minutes = st.integers(0, 30 * 24 * 60)


@st.composite
def crm_data(draw: Callable[..., Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    n = draw(st.integers(1, 8))
    leads, acts = [], []
    for i in range(n):
        start = T0 + timedelta(minutes=draw(minutes))
        status = draw(st.sampled_from(["open", "open", "won", "lost"]))
        closed = (
            None if status == "open" else start + timedelta(minutes=draw(st.integers(0, 40_000)))
        )
        leads.append(
            {
                "lead_id": f"L{i}",
                "mql_at": start,
                "closed_at": closed,
                "status": status,
                "owner": draw(st.sampled_from(["ana", "ben", None])),
                "segment": draw(st.sampled_from(["smb", "enterprise"])),
                "source": "marketing",
            }
        )
        for _ in range(draw(st.integers(0, 6))):
            acts.append(
                {
                    "lead_id": f"L{i}",
                    "at": start + timedelta(minutes=draw(st.integers(-600, 25_000))),
                    "kind": draw(st.sampled_from(["call", "email", "meeting"])),
                }
            )
    return leads, acts


SMALL_POLICY = make_policy(
    attempts={
        "count": 2,
        "within_days": 3,
        "segments": {"enterprise": {"count": 3, "within_days": 2, "day_kind": "business"}},
    }
)


def reference(
    leads: list[dict[str, Any]], acts: list[dict[str, Any]], policy: Policy, as_of: datetime
) -> dict[str, tuple[str, str, str]]:
    """The rules of ``leadsla.sla.compliance``, one lead at a time in plain Python."""
    cal = policy.business_calendar()
    zone = ZoneInfo(cal.time_zone)
    kinds = set(policy.sales.attempt_kinds)
    out = {}
    for lead in leads:
        start = pd.Timestamp(lead["mql_at"]).to_pydatetime()
        if start > as_of:
            continue
        times = sorted(
            pd.Timestamp(a["at"]).to_pydatetime()
            for a in acts
            if a["lead_id"] == lead["lead_id"] and a["kind"] in kinds
        )
        times = [t for t in times if start <= t <= as_of]
        due = cal.due(start, policy.sales.first_response_hours * HOUR).to_pydatetime()
        if times:
            fr = "met" if times[0] <= due else "breached"
        else:
            fr = "breached" if as_of > due else "pending"
        rule: AttemptRule = policy.sales.attempts_for(lead["segment"])
        if rule.day_kind == "business":
            end = cal.due(start, rule.within_days * 9 * HOUR).to_pydatetime()
        else:
            end = wall_clock_end(start, rule.within_days, zone)
        n = sum(1 for t in times if t <= end)
        closed = lead["closed_at"]
        closed = None if closed is None or pd.isna(closed) else pd.Timestamp(closed)
        closed_ok = (
            lead["status"] in ("won", "lost")
            and closed is not None
            and closed <= as_of
            and closed <= end
        )
        if n >= rule.count or closed_ok:
            at = "met"
        elif as_of > end:
            at = "breached"
        else:
            at = "pending"
        both = (fr, at)
        status = "breached" if "breached" in both else "pending" if "pending" in both else "met"
        out[lead["lead_id"]] = (fr, at, status)
    return out


def wall_clock_end(start: datetime, days: float, zone: ZoneInfo) -> datetime:
    """Same local wall-clock time ``days`` later; a skipped time moves to the first valid one."""
    wall = start.astimezone(zone).replace(tzinfo=None) + timedelta(days=days)

    def exists(w: datetime) -> bool:
        return w.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == w

    while not exists(wall):
        wall = (wall + timedelta(minutes=1)).replace(second=0, microsecond=0)
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


@settings(max_examples=40, deadline=None, database=None)
@given(data=crm_data(), as_of_minutes=minutes)
def test_property_counts_and_reference(
    data: tuple[list[dict[str, Any]], list[dict[str, Any]]], as_of_minutes: int
) -> None:
    leads, acts = data
    as_of = T0 + timedelta(minutes=as_of_minutes)
    lt, at = tables(leads, acts)
    result = check_compliance(lt, at, policy=SMALL_POLICY, as_of=as_of, per_lead=True)
    expected = reference(leads, acts, SMALL_POLICY, as_of)
    assert result.leads == len(expected)
    assert_consistent(result)
    assert statuses(result) == expected


def known_at(
    leads: list[dict[str, Any]], acts: list[dict[str, Any]], t: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The data as it stood at ``t``: later closings not yet made, later activities not yet."""
    past = []
    for lead in leads:
        lead = dict(lead)
        if lead["closed_at"] is not None and lead["closed_at"] > t:
            lead["closed_at"], lead["status"] = None, "open"
        past.append(lead)
    return past, [a for a in acts if a["at"] <= t]


@settings(max_examples=40, deadline=None, database=None)
@given(data=crm_data(), t1=minutes, later=st.integers(1, 20_000))
def test_property_a_breach_stays_a_breach(
    data: tuple[list[dict[str, Any]], list[dict[str, Any]]], t1: int, later: int
) -> None:
    leads, acts = data
    as_of_1 = T0 + timedelta(minutes=t1)
    as_of_2 = as_of_1 + timedelta(minutes=later)
    first = check_compliance(
        *tables(*known_at(leads, acts, as_of_1)), policy=SMALL_POLICY, as_of=as_of_1,
        per_lead=True,
    )  # fmt: skip
    second = check_compliance(
        *tables(*known_at(leads, acts, as_of_2)), policy=SMALL_POLICY, as_of=as_of_2,
        per_lead=True,
    )  # fmt: skip
    s1, s2 = statuses(first), statuses(second)
    for lead_id, before in s1.items():
        after = s2[lead_id]
        for k in range(3):
            if before[k] in ("breached", "met"):
                assert after[k] == before[k], (lead_id, k, before, after)
    pairs = {(r.lead_id, r.rule) for r in first.breaches.itertuples()}
    assert pairs <= {(r.lead_id, r.rule) for r in second.breaches.itertuples()}


def test_a_breach_stays_a_breach_with_the_fixture(crm: Path, tmp_path: Path) -> None:
    """F3 breached at 13:00; its call at 14:00 and A1's later attempts do not undo anything."""
    before = run(crm, "2025-11-17 13:00")
    more = [*ACTIVITIES, ("F3", "2025-11-17 14:00", "call"), ("A1", "2025-11-17 14:00", "call")]
    more += [("A1", "2025-11-17 15:00", "call"), ("A5", "2025-11-18 10:00", "call")]
    later = write_crm(tmp_path / "later", LEADS, more)
    after = run(later, "2025-11-20 12:00")
    s1, s2 = statuses(before), statuses(after)
    for lead_id, (fr, at_rule, status) in s1.items():
        if status == "breached":
            assert s2[lead_id][2] == "breached", lead_id
        for k, value in enumerate((fr, at_rule)):
            if value != "pending":
                assert s2[lead_id][k] == value, lead_id
    assert s2["F3"][0] == "breached"  # called at 14:00, after the 12:55 deadline


def test_naive_as_of_is_read_in_the_policy_zone() -> None:
    leads = [
        {"lead_id": "L1", "mql_at": berlin("2025-11-14 17:55"), "closed_at": None,
         "status": "open", "owner": "ana", "segment": "smb", "source": "marketing"},
    ]  # fmt: skip
    lt, at = tables(leads, [])
    naive = check_compliance(lt, at, policy=POLICY, as_of="2025-11-17 12:55")
    assert naive.as_of == berlin("2025-11-17 12:55")
    assert naive.first_response.pending == 1
    assert check_compliance(lt, at, policy=POLICY, as_of="2025-11-17 12:56").status.breached == 1


# --------------------------------------------------------------------------- synthetic CRM


@pytest.fixture(scope="module")
def synth_crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from leadsla.synth import generate

    out = tmp_path_factory.mktemp("synth")
    generate(out, leads=6_000, seed=11)
    return out


def test_synthetic_crm_matches_the_reference_loop(synth_crm: Path) -> None:
    """Every lead's statuses equal a plain per-lead loop (clock scalar API + zoneinfo)."""
    policy = make_policy(
        attempt_kinds=["call", "email"],
        attempts={
            "count": 4,
            "within_days": 10,
            "segments": {"enterprise": {"count": 6, "within_days": 8, "day_kind": "business"}},
        },
    )
    as_of = berlin("2026-03-16 11:30")  # a Monday morning: pending leads, later data ignored
    with connect(synth_crm, settings=Settings(time_zone="Europe/Berlin")) as ws:
        result = check_compliance(
            ws.leads, ws.activities, policy=policy, as_of=as_of, per_lead=True
        )
    leads_df = pd.read_parquet(synth_crm / "leads.parquet")
    acts_df = pd.read_parquet(synth_crm / "activities.parquet", columns=["lead_id", "at", "kind"])
    leads_df["mql_at"] = leads_df["mql_at"].fillna(leads_df["created_at"])
    leads = leads_df.to_dict("records")
    for lead in leads:
        if pd.isna(lead["closed_at"]):
            lead["closed_at"] = None
    by_lead: dict[str, list[dict[str, Any]]] = {}
    for a in acts_df.to_dict("records"):
        by_lead.setdefault(a["lead_id"], []).append(a)
    expected: dict[str, tuple[str, str, str]] = {}
    for lead in leads:
        expected |= reference([lead], by_lead.get(lead["lead_id"], []), policy, as_of)
    got = statuses(result)
    assert len(got) == len(expected) == result.leads
    assert got == expected
    counts = {
        s: sum(1 for v in expected.values() if v[2] == s) for s in ("met", "breached", "pending")
    }
    assert (result.status.met, result.status.breached, result.status.pending) == (
        counts["met"],
        counts["breached"],
        counts["pending"],
    )
    assert result.status.pending > 0 and result.status.breached > 0 and result.status.met > 0
    assert_consistent(result)


# --------------------------------------------------------------------------- command line


def test_cli(crm: Path, tmp_path: Path, run_cli: Any) -> None:
    policy_file = write_policy(POLICY, tmp_path / "sla.toml")
    base = ["check", crm, "--policy", policy_file, "--as-of", "2025-11-17T13:00:00+01:00"]
    table = run_cli(*base, "--time-zone", "Europe/Berlin")
    assert table.returncode == 0, table.stderr
    assert "Test SLA: 11 leads in scope" in table.stdout
    assert "Breaches, newest first" in table.stdout
    # a wall-clock --as-of is read in the policy's time zone
    naive = [str(a) for a in base[:-1]] + ["2025-11-17T13:00"]
    as_json = run_cli(*naive, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    d = json.loads(as_json.stdout)
    assert d["as_of"] == "2025-11-17T12:00:00+00:00"  # 13:00 Berlin, as every command: UTC
    assert (d["as_of_basis"], d["policy_time_zone"]) == ("given", "Europe/Berlin")
    assert d["marketing"]["period_start"] == "2025-11-01T00:00:00+01:00"
    assert (d["leads"]["met"], d["leads"]["breached"], d["leads"]["pending"]) == (3, 5, 3)
    out = tmp_path / "breaches.csv"
    as_csv = run_cli(*base, "--format", "csv", "--out", out, "--fail-on-breach")
    assert as_csv.returncode == 3
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == d["breaches_total"] == 5
    assert rows[0].keys() >= {"lead_id", "rule", "due", "first_attempt", "attempts", "owner"}


def test_cli_reports_a_bad_policy(crm: Path, tmp_path: Path, run_cli: Any) -> None:
    bad = tmp_path / "sla.toml"
    bad.write_text('schema = "leadsla.policy/1"\nname = "x"\n', encoding="utf-8")
    done = run_cli("check", crm, "--policy", bad)
    assert done.returncode == 1
    assert "problems in the SLA policy" in done.stderr
    assert "[calendar] is missing" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_mql_at_falls_back_to_created_at() -> None:
    lf = pd.DataFrame(
        {
            "lead_id": ["L1", "L2"],
            "created_at": pd.to_datetime(["2025-11-14T16:55:00Z", "2025-11-03T09:00:00Z"]),
            "mql_at": pd.to_datetime([None, "2025-11-10T09:00:00Z"], utc=True),
            "closed_at": pd.to_datetime([None, None], utc=True),
            "status": ["open", "open"],
            "owner": ["ana", "ana"],
            "segment": ["smb", "smb"],
            "source": ["marketing", "marketing"],
        }
    )
    result = check_compliance(
        ibis.memtable(lf), None, policy=POLICY, as_of=berlin("2025-11-17 12:00"), per_lead=True
    )
    assert result.per_lead is not None
    starts = dict(zip(result.per_lead["lead_id"], result.per_lead["start"], strict=True))
    assert starts == {
        "L1": pd.Timestamp(berlin("2025-11-14 17:55")),  # created_at
        "L2": pd.Timestamp(berlin("2025-11-10 10:00")),  # its own mql_at
    }


def test_policy_segments_missing_from_the_data_are_warned(crm: Path) -> None:
    p = make_policy(attempts={"segments": {"smbb": {"count": 5}}})
    result = run(crm, "2025-11-17 13:00", p)
    assert result.warnings == [
        'policy [sales.attempts.segments.smbb]: no lead in scope has segment "smbb". '
        'Did you mean "smb"? Segments in the data: biz, smb.'
    ]
    assert result.to_dict()["warnings"] == result.warnings
    assert run(crm, "2025-11-17 13:00").warnings == []


def test_minimum_before_closing_is_checked_as_such(crm: Path) -> None:
    """METHODS §7: an N* the data cannot pin down becomes "no unresponsive lead is closed
    before K attempts": a lead closed lost without contact before K attempts is breached; an
    open lead with fewer is pending, never breached; won leads and K attempts are met."""
    policy = make_policy(attempts={"rule": "before_closing"})
    assert policy.sales.attempts.rule == "before_closing"
    got = {k: v[1] for k, v in statuses(run(crm, "2025-11-20 09:00", policy)).items()}
    assert got["A2"] == "breached"  # lost the next day after 1 call, never reached
    assert got["A3"] == "breached"  # lost after 2 attempts, never reached
    assert got["A7"] == "met"  # won
    assert got["A4"] == got["F1"] == got["B1"] == "met"  # 3 attempts
    assert got["A1"] == got["A5"] == got["F3"] == "pending"  # open with fewer: not a breach
    within = {k: v[1] for k, v in statuses(run(crm, "2025-11-20 09:00")).items()}
    assert within["A1"] == "breached" and within["A2"] == "met"  # the window rule differs


def test_minimum_rule_round_trips_through_the_policy_file(tmp_path: Path) -> None:
    from leadsla.sla.policy import load_policy

    policy = make_policy(attempts={"rule": "before_closing", "count": 12})
    path = write_policy(policy, tmp_path / "sla.toml")
    text = path.read_text(encoding="utf-8")
    assert 'rule = "before_closing"' in text
    again = load_policy(path)
    assert again.sales.attempts == AttemptRule(12, 14, "calendar", "before_closing")
    assert "rule = " not in write_policy(POLICY, tmp_path / "w.toml").read_text(encoding="utf-8")
    with pytest.raises(Exception, match='sales.attempts.rule: "sometimes" is not allowed'):
        make_policy(attempts={"rule": "sometimes"})
