"""``leadsla agree``: the SLA document carries the analyses' own numbers, its policy loads back,
its data hash is stable and sensitive, and a source without activities still gets a document.

One synthetic CRM (20,000 leads, Europe/Berlin) per session; the four analysis commands and
``agree`` run once each through the CLI (``--format json``) and are compared number by number.
"""

from __future__ import annotations

import html
import json
import math
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from leadsla import connect, load_settings
from leadsla.cli import app
from leadsla.clock import BusinessCalendar, calendar_config
from leadsla.errors import ConfigError
from leadsla.io.fingerprint import data_fingerprint
from leadsla.render.document import write_agreement
from leadsla.settings import Settings
from leadsla.sla.agreement import (
    DEFAULT_ATTEMPTS,
    DEFAULT_FIRST_RESPONSE_HOURS,
    DEFAULT_WITHIN_DAYS,
    Agreement,
    _mix_split,
    attempt_windows,
    draft_agreement,
)
from leadsla.sla.policy import Policy, load_policy

TZ = "Europe/Berlin"
QUOTA = 400_000
HOURLY, PER_HOUR = 72.0, 6.0  # cost per attempt 12 EUR (not the default 10)
SEGMENT_QUOTAS = {"enterprise": 200_000.0, "mid-market": 150_000.0, "smb": 50_000.0}


def settings_for(path: Path) -> Settings:
    return load_settings(path).replace(time_zone=TZ)


def run_json(*args: str) -> dict[str, Any]:
    r = CliRunner().invoke(app, [*args, "--time-zone", TZ, "--format", "json"])
    assert r.exit_code == 0, (r.output, r.exception)
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def unstamped(d: dict[str, Any]) -> dict[str, Any]:
    """A JSON without the run's as-of and zone, which every command reports beside its result
    (tests/test_asof_cli.py holds them); the agreement embeds the results themselves."""
    stamp = ("as_of", "as_of_basis", "time_zone", "time_zone_basis")
    return {k: v for k, v in d.items() if k not in stamp}


def embedded(page: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="leadsla-data">(.*?)</script>', page,
                  re.S)  # fmt: skip
    assert m is not None
    data: dict[str, Any] = json.loads(m.group(1).replace("<\\/", "</"))
    return data


def plain(page: str) -> str:
    """The text of an HTML page (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def roundtrip(d: dict[str, Any]) -> dict[str, Any]:
    """As the CLI writes it: JSON with NaN as null and dates as ISO text."""
    from leadsla.render.output import to_json

    out: dict[str, Any] = json.loads(to_json(d))
    return out


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic CRM: 20,000 leads with activities, campaigns and touches (Parquet)."""
    from leadsla.synth import generate

    out = tmp_path_factory.mktemp("agree-crm")
    generate(out, leads=20_000, seed=0)
    return out


@pytest.fixture(scope="session")
def cli(crm: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``agree`` and the four analyses it builds on, each run once through the CLI."""
    out = tmp_path_factory.mktemp("agree-out")
    src = str(crm)
    cost = ["--hourly-cost", str(HOURLY), "--attempts-per-hour", str(PER_HOUR)]
    return {
        "out": out,
        "agree": run_json("agree", src, "--quota", str(QUOTA), *cost, "--out", str(out)),
        "value": run_json("value", src),
        "plan": run_json("plan", src, "--quota", str(QUOTA)),
        "attempts": run_json("attempts", src, *cost),
        "speed": run_json("speed", src, *cost),
    }


@pytest.fixture(scope="session")
def api(crm: Path) -> Iterator[Agreement]:
    """The same agreement through the library (a second, independent run)."""
    with connect(crm, settings=settings_for(crm)) as ws:
        yield draft_agreement(ws, quota_eur=QUOTA, hourly_cost_eur=HOURLY,
                              attempts_per_hour=PER_HOUR)  # fmt: skip


def segment_totals(value: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["segment"]: g for g in value["groups"] if g["level"] == "segment total"}


# --------------------------------------------------------------------------- the same numbers


def test_agreement_embeds_the_four_analyses_exactly(cli: dict[str, Any]) -> None:
    doc = cli["agree"]
    assert doc["schema"] == "leadsla.agreement/1" and doc["missing"] == {}
    for part in ("value", "plan", "attempts", "speed"):
        assert unstamped(doc[part]) == unstamped(cli[part]), part
    assert doc["attempts"]["cost_per_attempt"] == HOURLY / PER_HOUR
    assert set(doc["files"]) == {"markdown", "html", "policy"}


def test_commitments_come_from_the_analyses(cli: dict[str, Any]) -> None:
    doc, plan, value = cli["agree"], cli["plan"], cli["value"]
    attempts, speed = cli["attempts"], cli["speed"]
    m = doc["marketing"]
    assert m["mqls"] == plan["mqls_required"] and m["period"] == "month"
    assert m["mql_value_eur"] == plan["mql_value"]
    assert m["revenue_responsibility_eur"] == plan["revenue_responsibility"]
    assert m["quota_eur"] == QUOTA == plan["quota"]
    assert m["originated_share"]["value"] == plan["originated_share"]
    # influenced: its own commitment, never added to the originated share
    assert m["influenced_share"]["value"] == plan["influenced_commitment"]["share"]
    assert m["revenue_responsibility_eur"] == pytest.approx(QUOTA * plan["originated_share"])
    # per segment: the segment's MQL value from the value table, MQLs at the historical mix
    totals = segment_totals(value)
    assert m["split"] == "historical mix"
    assert {s["segment"] for s in m["segments"]} == set(totals) == {"enterprise", "mid-market",
                                                                    "smb"}  # fmt: skip
    mature = sum(t["leads"] for t in totals.values())
    for s in m["segments"]:
        t = totals[s["segment"]]
        assert s["mql_value_eur"] == t["mql_value"]
        assert s["value_eur"] == pytest.approx(s["mqls"] * t["mql_value"])
        assert s["mix_share"] == pytest.approx(t["leads"] / mature)
        assert abs(s["mqls"] - m["mqls"] * t["leads"] / mature) < 1
    assert sum(s["mqls"] for s in m["segments"]) == m["mqls"]
    # the split keeps the euro promise: overall value = the mix-weighted segment values
    assert sum(s["value_eur"] for s in m["segments"]) == pytest.approx(
        m["revenue_responsibility_eur"], rel=0.02)  # fmt: skip

    sales = doc["sales"]
    assert sales["first_response_hours"] == speed["recommended_first_response_hours"]
    assert "recommended by the speed analysis" in sales["first_response_basis"]
    rules = {s["segment"]: s for s in sales["segments"]}
    assert set(rules) == set(attempts["groups"])
    for name, g in attempts["groups"].items():
        r = rules[name]
        if g["identified"]:
            assert (r["count"], r["at_least"]) == (g["optimal_attempts"], False)
        else:
            # METHODS §7: the largest count the data show paying, a minimum before closing
            assert (r["count"], r["at_least"]) == (g["optimal_attempts"], True)
            assert r["rule"] == "before_closing"
            assert r["text"].startswith(f"no unresponsive lead is closed before {r['count']} ")
        assert r["leads"] == g["leads"] and r["day_kind"] == "calendar"
        assert r["expected_attempts"] == g["table"][r["count"] - 1]["expected_attempts"]
        # D: the 90th percentile of days to the K-th attempt, rounded up
        assert r["reached"] > 0 and r["within_days"] == math.ceil(r["quantile_days"])
    biggest = max(attempts["groups"], key=lambda n: attempts["groups"][n]["leads"])
    assert sales["default"] == rules[biggest]


def test_api_run_gives_the_same_agreement(cli: dict[str, Any], api: Agreement) -> None:
    doc = {k: v for k, v in cli["agree"].items() if k != "files"}
    assert unstamped(roundtrip(api.to_dict())) == unstamped(doc)
    assert doc["as_of"] == api.to_dict()["as_of"]


def test_policy_file_holds_the_numbers_and_loads_back(cli: dict[str, Any],
                                                      api: Agreement) -> None:  # fmt: skip
    doc, plan, speed = cli["agree"], cli["plan"], cli["speed"]
    path = cli["out"] / "sla.toml"
    assert doc["files"]["policy"] == str(path)
    policy = load_policy(path)
    assert policy == policy.validated() == api.policy()
    assert Policy.from_dict(policy.to_dict()) == policy
    assert policy.time_zone == TZ
    assert policy.business_calendar() == BusinessCalendar.from_config({}, time_zone=TZ)

    assert policy.sales.first_response_hours == speed["recommended_first_response_hours"]
    assert tuple(policy.sales.attempt_kinds) == ("call", "email")
    for r in doc["sales"]["segments"]:
        rule = policy.sales.attempts_for(r["segment"])
        assert (rule.count, rule.within_days, rule.day_kind) == (
            r["count"], r["within_days"], "calendar")  # fmt: skip
    default = doc["sales"]["default"]
    assert (policy.sales.attempts.count, policy.sales.attempts.within_days) == (
        default["count"], default["within_days"])  # fmt: skip

    mk = policy.marketing
    assert mk is not None
    assert mk.mqls == plan["mqls_required"] and mk.period == "month"
    assert mk.mql_value_eur == pytest.approx(plan["mql_value"], abs=0.005)  # cents
    assert mk.originated_share == plan["originated_share"]
    assert mk.influenced_share == plan["influenced_commitment"]["share"]
    assert mk.quota_eur == QUOTA
    for s in doc["marketing"]["segments"]:
        seg = mk.segments[s["segment"]]
        assert seg.mqls == s["mqls"]
        assert seg.mql_value_eur == pytest.approx(s["mql_value_eur"], abs=0.005)

    data = policy.data
    assert data is not None
    assert data.sha256 == doc["data"]["sha256"] and data.leads == 20_000
    assert data.window is not None
    assert [d.isoformat() for d in data.window] == [doc["data"]["window"]["first_day"],
                                                    doc["data"]["window"]["last_day"]]  # fmt: skip


def test_documents_show_the_key_numbers(cli: dict[str, Any]) -> None:
    doc = cli["agree"]
    md = (cli["out"] / "sla.md").read_text(encoding="utf-8")
    page = (cli["out"] / "sla.html").read_text(encoding="utf-8")
    text = plain(page)
    m, sales = doc["marketing"], doc["sales"]
    hours = sales["first_response_text"]  # in human units (the speed analysis's words)
    expected = [
        f"{m['mqls']:,} MQLs per month",
        f"{m['mql_value_eur']:,.0f} EUR",
        f"{m['revenue_responsibility_eur']:,.0f} EUR",
        f"{m['influenced_share']['value']:.1%}",
        hours,
        doc["data"]["sha256"],
    ]
    for s in m["segments"]:
        expected.append(f"{s['mql_value_eur']:,.0f} EUR")
    for r in sales["segments"]:
        expected.append(f"{r['segment']}: {r['text']}")
    for x in expected:
        assert x in md, x
        assert x in text, x
    for s in m["segments"]:  # the per-segment marketing table
        assert f"| {s['segment']} | {s['mqls']:,} | {s['mql_value_eur']:,.0f} EUR |" in md
    assert "## What could not be computed" not in md
    # the page embeds the agreement exactly as --format json prints it, and its charts
    shown = unstamped({k: v for k, v in doc.items() if k != "files"})
    assert unstamped(embedded(page)["agreement"]) == shown
    # plan and value; speed, and revenue, cost and profit per lead type (attempts)
    groups = embedded(page)["agreement"]["attempts"]["groups"]
    assert page.count('class="chart"') == 3 + len(groups) and "plotly" in page[:20_000].lower()


# --------------------------------------------------------------------------- the data hash


def test_data_hash_is_stable_and_changes_with_one_lead(
    crm: Path, cli: dict[str, Any], api: Agreement, tmp_path: Path
) -> None:
    sha = cli["agree"]["data"]["sha256"]
    assert api.data.sha256 == sha and re.fullmatch(r"[0-9a-f]{64}", sha)
    assert cli["agree"]["data"]["tables"] == {"leads": 20_000, "activities": 157_058,
                                              "campaigns": 10, "touches": 77_236}  # fmt: skip
    copy = tmp_path / "copy"
    shutil.copytree(crm, copy)
    with connect(copy, settings=settings_for(copy)) as ws:
        assert data_fingerprint(ws).sha256 == sha  # the place is not hashed, the data is
    leads = pq.read_table(copy / "leads.parquet")
    won = pc.index(leads["status"], "won").as_py()
    revenue = leads["revenue"].to_pylist()
    revenue[won] += 1.0  # one euro more on one won lead
    i = leads.schema.get_field_index("revenue")
    pq.write_table(leads.set_column(i, "revenue", pa.array(revenue, pa.float64())),
                   copy / "leads.parquet")  # fmt: skip
    with connect(copy, settings=settings_for(copy)) as ws:
        changed = data_fingerprint(ws)
    assert changed.sha256 != sha and changed.rows == api.data.rows


def test_data_hash_does_not_depend_on_the_file_format(crm: Path, api: Agreement,
                                                      tmp_path: Path) -> None:  # fmt: skip
    """The same tables written as CSV hash the same: the canonical data is hashed."""
    for f in crm.glob("*.parquet"):
        pacsv.write_csv(pq.read_table(f), tmp_path / f"{f.stem}.csv")
    with connect(tmp_path, settings=settings_for(tmp_path)) as ws:
        fp = data_fingerprint(ws)
    assert fp.sha256 == api.data.sha256
    assert (fp.first_created_at, fp.last_created_at) == (api.data.first_created_at,
                                                         api.data.last_created_at)  # fmt: skip


# --------------------------------------------------------------------------- missing parts


@pytest.fixture(scope="module")
def no_activities(crm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Leads and campaigns only: no activities (so no attempts, no speed) and no touches."""
    out = tmp_path_factory.mktemp("agree-no-activities")
    for name in ("leads.parquet", "campaigns.parquet"):
        shutil.copy(crm / name, out / name)
    return out


def test_source_without_activities_still_gets_a_document(no_activities: Path,
                                                         tmp_path: Path) -> None:  # fmt: skip
    with connect(no_activities, settings=settings_for(no_activities)) as ws:
        agreement = draft_agreement(ws, quota_eur=QUOTA)
    files = write_agreement(agreement, tmp_path)
    assert agreement.attempts is None and agreement.speed is None
    assert set(agreement.missing) == {"attempts", "speed"}
    d = agreement.to_dict()
    assert d["attempts"] is None and d["speed"] is None and d["value"] and d["plan"]
    md = files.markdown.read_text(encoding="utf-8")
    assert "## What could not be computed" in md
    assert "**attempts** could not be computed: no activities table" in md
    assert "**speed** could not be computed: no activities table" in md
    assert f"the default {DEFAULT_FIRST_RESPONSE_HOURS:g} business hours" in md
    assert f"{DEFAULT_ATTEMPTS} contact attempts within {DEFAULT_WITHIN_DAYS} calendar days" in md
    page = plain(files.html.read_text(encoding="utf-8"))
    assert "attempts could not be computed" in page and "speed could not be computed" in page
    policy = load_policy(files.policy)
    assert policy.sales.first_response_hours == DEFAULT_FIRST_RESPONSE_HOURS
    assert (policy.sales.attempts.count, policy.sales.attempts.within_days) == (
        DEFAULT_ATTEMPTS, DEFAULT_WITHIN_DAYS)  # fmt: skip
    assert not policy.sales.segments
    # marketing still stands: measured on the leads alone (originated share from source)
    assert policy.marketing is not None
    assert policy.marketing.mqls == agreement.to_dict()["plan"]["mqls_required"]
    assert d["plan"]["inputs"]["originated_share"]["basis"].startswith("measured from source")


def test_flags_stand_in_for_what_the_data_cannot_give(no_activities: Path,
                                                       tmp_path: Path) -> None:  # fmt: skip
    r = CliRunner().invoke(app, [
        "agree", str(no_activities), "--quota", "300000", "--period", "quarter",
        "--originated-share", "0.4", "--influenced-share", "0.6", "--first-response-hours", "2",
        "--attempts", "5", "--within-days", "7", "--time-zone", TZ, "--out", str(tmp_path),
    ])  # fmt: skip
    assert r.exit_code == 0, (r.output, r.exception)
    assert "Marketing delivers" in r.stdout and "Not computed: attempts" in r.stdout
    assert str(tmp_path / "sla.toml") in r.stdout.replace("\n", "")
    policy = load_policy(tmp_path / "sla.toml")
    assert policy.sales.first_response_hours == 2
    assert (policy.sales.attempts.count, policy.sales.attempts.within_days) == (5, 7)
    mk = policy.marketing
    assert mk is not None and mk.period == "quarter"
    assert (mk.originated_share, mk.influenced_share, mk.quota_eur) == (0.4, 0.6, 300_000)
    md = (tmp_path / "sla.md").read_text(encoding="utf-8")
    assert "2 business hours" in md and "5 contact attempts within 7 calendar days" in md
    assert "the given 5 attempts within the given 7 calendar days" in md


# --------------------------------------------------------------------------- segment quotas


def test_segment_quotas_give_each_segment_its_own_plan(crm: Path) -> None:
    args = [f"--segment-quota={k}={v:g}" for k, v in SEGMENT_QUOTAS.items()]
    plan = run_json("plan", str(crm), *args)
    with connect(crm, settings=settings_for(crm)) as ws:
        agreement = draft_agreement(ws, quota_eur=None, segment_quotas=SEGMENT_QUOTAS,
                                    bootstrap=50)  # fmt: skip
    d = roundtrip(agreement.to_dict())
    assert unstamped(d["plan"]) == unstamped(plan)
    m = d["marketing"]
    assert m["split"] == "segment quotas" and m["mqls"] == plan["mqls_required"]
    by = {p["segment"]: p for p in plan["by_segment"]}
    for s in m["segments"]:
        p = by[s["segment"]]
        assert (s["mqls"], s["mql_value_eur"], s["quota_eur"]) == (
            p["mqls_required"], p["mql_value"], SEGMENT_QUOTAS[s["segment"]])  # fmt: skip
    mk = agreement.policy().marketing
    assert mk is not None
    assert {k: v.mqls for k, v in mk.segments.items()} == {
        p["segment"]: p["mqls_required"] for p in plan["by_segment"]}  # fmt: skip


# --------------------------------------------------------------------------- small parts


LEADS = """\
lead_id,created_at,segment,status,closed_at,revenue,mql_at
L1,2025-01-06T09:00:00+01:00,smb,open,,,
L2,2025-01-06T09:00:00+01:00,smb,won,2025-02-20T09:00:00+01:00,1000,2025-01-08T09:00:00+01:00
L3,2025-01-06T09:00:00+01:00,smb,open,,,
L4,2025-01-06T09:00:00+01:00,smb,lost,2025-01-07T12:00:00+01:00,,
L5,2025-01-06T09:00:00+01:00,ent,open,,,
L6,2025-06-20T09:00:00+02:00,smb,open,,,
"""
ACTS = """\
lead_id,at,kind
L1,2025-01-07T09:00:00+01:00,call
L1,2025-01-08T09:00:00+01:00,meeting
L1,2025-01-08T09:00:00+01:00,email
L1,2025-01-09T09:00:00+01:00,call
L2,2025-01-07T09:00:00+01:00,call
L2,2025-01-09T09:00:00+01:00,call
L2,2025-01-10T09:00:00+01:00,call
L2,2025-01-13T09:00:00+01:00,call
L3,2025-01-06T10:00:00+01:00,call
L3,2025-01-06T11:00:00+01:00,call
L4,2025-01-06T10:00:00+01:00,call
L4,2025-01-07T10:00:00+01:00,call
L4,2025-01-08T10:00:00+01:00,call
L5,2025-01-06T21:00:00+01:00,call
L6,2025-06-20T10:00:00+02:00,call
L6,2025-06-20T11:00:00+02:00,call
L6,2025-06-20T12:00:00+02:00,call
"""


def test_attempt_window_by_hand(tmp_path: Path) -> None:
    """K = 3 for smb, 1 for ent. L1 reaches its 3rd attempt 3 days after its MQL (the
    meeting does not count); L2's clock starts at its MQL (8 Jan), so its 3rd attempt is
    the one of 13 Jan, 5 days later; L3 has two attempts; L4's third came after its close;
    L6 is not stale. 90th percentile of [3, 5] = 4.8 days (interpolated) → D = 5."""
    (tmp_path / "leads.csv").write_text(LEADS, encoding="utf-8")
    (tmp_path / "activities.csv").write_text(ACTS, encoding="utf-8")
    with connect(tmp_path, settings=Settings(time_zone=TZ)) as ws:
        got = attempt_windows(ws.leads, ws.activities, {"smb": 3, "ent": 1},
                              as_of=datetime(2025, 7, 1, tzinfo=UTC))  # fmt: skip
    assert got["smb"][0] == 2 and got["smb"][1] == pytest.approx(4.8)
    assert got["ent"][0] == 1 and got["ent"][1] == pytest.approx(0.5)


def test_mix_split_keeps_the_total() -> None:
    assert _mix_split(158, {"a": 4588, "b": 7260, "c": 6739}) == {"a": 39, "b": 62, "c": 57}
    assert _mix_split(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}  # ties by name
    assert _mix_split(5, {"a": 0, "b": 0}) == {"a": 0, "b": 0}
    for n in range(0, 40):
        assert sum(_mix_split(n, {"x": 0.2, "y": 0.3, "z": 0.5}).values()) == n


def test_calendar_config_round_trips() -> None:
    cal = BusinessCalendar.from_config(
        {"hours": "Mon-Thu 08:00-12:00, 13:00-17:00; Fri 08:00-14:00; Sun 10:00-12:00",
         "holiday_country": "DE", "holidays": ["2025-12-24"],
         "pauses": [["2025-11-20T10:00Z", "2025-11-20T12:00Z"]]},
        time_zone=TZ,
    )  # fmt: skip
    cfg = calendar_config(cal)
    assert cfg["hours"] == "Mon-Thu 08:00-12:00, 13:00-17:00; Fri 08:00-14:00; Sun 10:00-12:00"
    assert BusinessCalendar.from_config(cfg) == cal


def test_errors(crm: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["agree", str(crm), "--time-zone", TZ])
    assert isinstance(r.exception, ConfigError) and "no quota" in str(r.exception)
    r = runner.invoke(app, ["agree", str(crm), "--segment-quota", "nope=1000", "--time-zone", TZ])
    assert isinstance(r.exception, ConfigError) and "nope" in str(r.exception)
    assert "enterprise, mid-market, smb" in str(r.exception)
    r = runner.invoke(app, ["agree", str(crm), "--quota", "1", "--originated-share", "40",
                            "--time-zone", TZ])  # fmt: skip
    assert isinstance(r.exception, ConfigError) and "between 0 and 1" in str(r.exception)
    r = runner.invoke(app, ["agree", str(crm), "--quota", "1", "--format", "csv"])
    assert r.exit_code == 2  # a usage error: the agreement is a document, not a table


def test_agree_takes_the_value_of_a_win_and_a_margin(tmp_path: Path) -> None:
    """Data without revenue (the UCI bank file): agree used to tell users to pass --value and
    then reject it; now --value and --margin reach the attempts analysis, and a cost of 0 is
    refused."""
    bank = Path(__file__).resolve().parents[2] / "shared" / "data" / "uci_bank_marketing"
    runner = CliRunner()
    base = ["agree", str(bank / "bank-full.csv"), "--mapping", "bank-marketing", "--quota",
            "100000", "--originated-share", "0.4", "--mql-value", "500", "--bootstrap", "50",
            "--format", "json", "--out", str(tmp_path / "sla")]  # fmt: skip
    r = runner.invoke(app, [*base, "--value", "2000", "--margin", "0.5"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    group = d["attempts"]["groups"]["all"]
    assert group["value"] == 1000.0 and "given" in group["value_basis"]
    assert d["inputs"]["win_value"]["value"] == 2000.0
    r = runner.invoke(app, [*base, "--hourly-cost", "0"])  # main() prints it, exit 1
    assert r.exit_code == 1 and "hourly_cost_eur (0) must be above 0" in str(r.exception)
