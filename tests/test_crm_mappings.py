"""The shipped HubSpot and Salesforce mappings on the synthetic exports of shared/crm_exports.

Every expected number below is counted by hand from the sample files and README §6 (the
deliberately messy rows), not taken from a run.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import leadsla
from leadsla.cli import app
from leadsla.io.source import Workspace

EXPORTS = Path(__file__).resolve().parents[2] / "shared" / "crm_exports"
HUBSPOT = EXPORTS / "hubspot"
SALESFORCE = EXPORTS / "salesforce"


def test_the_sample_exports_are_there() -> None:
    # read in place from ../shared: a missing folder fails every test here, never skips
    assert HUBSPOT.is_dir() and SALESFORCE.is_dir(), f"no sample exports at {EXPORTS}"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(datetime.fromisoformat(text).replace(tzinfo=UTC))


def frame(ws: Workspace, table: str, key: str) -> pd.DataFrame:
    return ws.tables[table].execute().set_index(key)


def codes(ws: Workspace) -> dict[str, tuple[str, int]]:
    return {i.code: (i.severity, i.count) for i in ws.issues}


def issue(ws: Workspace, code: str) -> Any:
    hits = [i for i in ws.issues if i.code == code]
    assert len(hits) == 1, [str(i) for i in ws.issues]
    return hits[0]


# --------------------------------------------------------------------------- HubSpot


@pytest.fixture(scope="module")
def hubspot() -> Iterator[Workspace]:
    with leadsla.connect(HUBSPOT, mapping="hubspot") as ws:
        yield ws


@pytest.fixture(scope="module")
def hs_leads(hubspot: Workspace) -> pd.DataFrame:
    return frame(hubspot, "leads", "lead_id")


@pytest.fixture(scope="module")
def hs_calls(hubspot: Workspace) -> pd.DataFrame:
    return frame(hubspot, "activities", "activity_id")


def test_hubspot_row_accounting(hubspot: Workspace) -> None:
    # 30 contacts; Hannah Schmidt (Subscriber) and Rafael Costa (Lead, no MQL date) are out of
    # the MQL scope. 45 calls; the call to Paul Weber (merged contact) is an orphan.
    scope = "not a marketing-qualified lead (lifecycle Subscriber or Lead, no MQL date)"
    assert hubspot.accounting["leads"].to_dict() == {
        "table": "leads",
        "read": 30,
        "used": 28,
        "excluded": {scope: 2},
    }
    assert hubspot.accounting["activities"].to_dict() == {
        "table": "activities",
        "read": 45,
        "used": 44,
        "excluded": {"activity for an unknown lead": 1},
    }


def test_hubspot_issues(hubspot: Workspace) -> None:
    # the orphan call, and the dialer call written before its contact was created
    assert codes(hubspot) == {
        "orphan-activity": ("WARNING", 1),
        "activity-before-created": ("WARNING", 1),
    }
    orphan = issue(hubspot, "orphan-activity")
    assert (orphan.value, orphan.file, orphan.row) == ("74218351999", "calls.csv", 35)


def test_hubspot_status_from_deal_stage(hs_leads: pd.DataFrame) -> None:
    won = {"74218350101", "74218350187", "74218350430", "74218350675", "74218350962"}
    # lost deals behind three different contact states: Bad Timing, lifecycle Other, and a
    # stale "Open Deal" Lead Status
    lost = {"74218350267", "74218350597", "74218350922"}
    assert set(hs_leads.index[hs_leads.status == "won"]) == won
    assert set(hs_leads.index[hs_leads.status == "lost"]) == lost
    assert (hs_leads.status == "open").sum() == 28 - 5 - 3
    assert {"74218350800", "74218350841"}.isdisjoint(hs_leads.index)


def test_hubspot_close_date_only_for_closed_stages(hs_leads: pd.DataFrame) -> None:
    # open deals (Herrera, Liffey, Vitosha, Bianchi) carry expected close dates: not read
    for contact in ("74218350310", "74218350554", "74218351048", "74218351249"):
        assert hs_leads.loc[contact, "status"] == "open"
        assert pd.isna(hs_leads.loc[contact, "closed_at"])
    assert hs_leads.loc["74218350430", "closed_at"] == utc("2026-10-21T10:00")  # 12:00 CEST
    assert hs_leads.loc["74218350922", "closed_at"] == utc("2026-11-10T08:20")  # 09:20 CET


def test_hubspot_revenue_in_company_currency(hs_leads: pd.DataFrame) -> None:
    # Grant & Lowe: 30000 USD = 27600 EUR in company currency
    assert hs_leads.loc["74218350430", "revenue"] == 27600.0
    assert hs_leads.loc["74218350101", "revenue"] == 24000.0
    assert hs_leads.revenue.sum() == 24000 + 18500 + 27600 + 42000 + 21000
    assert hs_leads[hs_leads.status != "won"].revenue.isna().all()


def test_hubspot_time_zone_europe_berlin(hs_leads: pd.DataFrame) -> None:
    assert hs_leads.loc["74218351171", "created_at"] == utc("2026-10-20T07:30")  # CEST, +2
    assert hs_leads.loc["74218351209", "created_at"] == utc("2026-10-26T07:15")  # CET, +1
    assert hs_leads.loc["74218351249", "created_at"] == utc("2026-10-28T11:48")
    assert hs_leads.loc["74218351291", "created_at"] == utc("2026-11-03T14:21")


def test_hubspot_owner_mql_source_campaign(hs_leads: pd.DataFrame) -> None:
    assert pd.isna(hs_leads.loc["74218350348", "owner"])  # Ingrid Solberg, no owner
    assert hs_leads.loc["74218350761", "owner"] == "Amira Haddad"  # Felix Wagner
    # imported list, MQL set by a nightly job the next morning
    lukas = hs_leads.loc["74218350474"]
    assert (lukas.created_at, lukas.mql_at) == (utc("2026-09-10T15:48"), utc("2026-09-11T04:00"))
    assert lukas.campaign == "tradeshow_logimat_2026.csv"
    assert lukas.source == "marketing"
    assert hs_leads.loc["74218351128", "source"] == "sales"  # Offline Sources / CRM_UI
    assert hs_leads.loc["74218350226", "campaign"] == "autumn_webinar"  # social: utm_campaign
    assert hs_leads.loc["74218350101", "campaign"] == "q3_brand_search"
    assert hs_leads.loc["74218350143", "campaign"] == "Organic Search"
    assert (hs_leads.segment == "all").all()


def test_hubspot_custom_lead_status_is_not_an_outcome(hs_leads: pd.DataFrame) -> None:
    # "Nurture - Q1 2027": Lead Status is not read; no deal → open, no issue
    assert hs_leads.loc["74218351087", "status"] == "open"


def test_hubspot_calls(hs_calls: pd.DataFrame) -> None:
    assert (hs_calls.kind == "call").sum() == 43
    assert hs_calls.loc["60112844964", "kind"] == "inbound_call"  # Aoife Kelly calls in
    # the custom outcome "Meeting booked" (first call to Jean Muller) is mapped to connected
    assert hs_calls.loc["60112844277", "outcome"] == "connected"
    assert hs_calls.outcome.value_counts().to_dict() == {
        "connected": 29,
        "no_answer": 10,
        "voicemail": 4,
        "wrong_number": 1,
    }
    assert hs_calls.loc["60112843001"].to_dict() == {
        "lead_id": "74218350101",
        "at": utc("2026-09-01T07:41"),
        "kind": "call",
        "rep": "Lena Vogt",
        "outcome": "no_answer",
    }
    assert "60112845333" not in hs_calls.index  # the orphan call


def test_hubspot_call_before_create_is_kept(hs_leads: pd.DataFrame, hs_calls: pd.DataFrame) -> None:
    # the dialer wrote CEST wall time as UTC: the call precedes the contact by 1 h 54 min. It
    # is kept as exported (the validator has no activity-before-created check yet).
    call = hs_calls.loc["60112843958"]
    assert call.lead_id == "74218350554"
    assert call["at"] == utc("2026-09-22T10:11")
    assert hs_leads.loc["74218350554", "created_at"] - call["at"] == pd.Timedelta(minutes=114)


# --------------------------------------------------------------------------- Salesforce

HARBOR, REED, COLE, ORTIZ, KIM = (
    "00Q5e00000FmdD6EAJ",
    "00Q5e00000nHQssEAG",
    "00Q5e00000pDnpbEAC",
    "00Q5e00000HnVm6EAF",
    "00Q5e00000vMGpnEAG",
)
FOSTER, WALSH, BENNETT, PATEL, TURNER = (
    "00Q5e00000xEnDrEAK",
    "00Q5e00000PhvkdEAB",
    "00Q5e000003WfpfEAC",
    "00Q5e00000ZVR4MEAX",
    "00Q5e00000Gk7PqEAJ",
)
OCONNOR, RIVERA, YOUNG, MITCHELL, CAMPBELL = (
    "00Q5e00000gk7PqEAI",
    "00Q5e00000icL2XEAU",
    "00Q5e00000KhcCuEAJ",
    "00Q5e00000E2mn4EAB",
    "00Q5e000006WXwYEAW",
)
PRICE, BELL, COX, FLORES, JENKINS, PERRY = (
    "00Q5e00000qhp5fEAA",
    "00Q5e00000wuEDyEAM",
    "00Q5e000006eUxaEAE",
    "00Q5e00000LrHhDEAV",
    "00Q5e00000P3UJzEAN",
    "00Q5e00000Rbb9hEAB",
)
MARIA = "0055e00000WKbtDAAT"


@pytest.fixture(scope="module")
def salesforce() -> Iterator[Workspace]:
    with leadsla.connect(SALESFORCE, mapping="salesforce") as ws:
        yield ws


@pytest.fixture(scope="module")
def sf_leads(salesforce: Workspace) -> pd.DataFrame:
    return frame(salesforce, "leads", "lead_id")


@pytest.fixture(scope="module")
def sf_tasks(salesforce: Workspace) -> pd.DataFrame:
    return frame(salesforce, "activities", "activity_id")


def test_salesforce_row_accounting(salesforce: Workspace) -> None:
    assert salesforce.accounting["leads"].to_dict() == {
        "table": "leads",
        "read": 30,
        "used": 30,
        "excluded": {},
    }
    # 41 tasks: Walsh's open "Not Started" task, "Call: renewal terms" on a contact that
    # never was a lead, and the task of a deleted lead
    assert salesforce.accounting["activities"].to_dict() == {
        "table": "activities",
        "read": 41,
        "used": 38,
        "excluded": {
            "open task (planned, not done)": 1,
            "task on a contact that never was a lead": 1,
            "activity for an unknown lead": 1,
        },
    }


def test_salesforce_issues(salesforce: Workspace) -> None:
    assert codes(salesforce) == {
        "orphan-activity": ("WARNING", 1),
        # Patel's dialer call, ET wall time stamped as UTC (before the lead was created)
        "activity-before-created": ("WARNING", 1),
        # O'Connor's EUR amount without a rate (see the rates option)
        "won-without-revenue": ("WARNING", 1),
        # Closed - Not Converted on the day of creation: Reed, Bennett, Cox (date-only close)
        "closed-before-created-slight": ("WARNING", 3),
    }
    assert issue(salesforce, "orphan-activity").value == "00Q5e00000MKgryEAD"
    assert issue(salesforce, "won-without-revenue").row == 15  # O'Connor, file line 15


def test_salesforce_status_from_converted_opportunity(sf_leads: pd.DataFrame) -> None:
    assert set(sf_leads.index[sf_leads.status == "won"]) == {HARBOR, ORTIZ, OCONNOR}
    assert set(sf_leads.index[sf_leads.status == "lost"]) == {
        COLE,
        RIVERA,  # converted, opportunity Closed Lost
        REED,
        KIM,
        BENNETT,
        MITCHELL,
        COX,  # Closed - Not Converted
    }
    assert sf_leads.loc[FOSTER, "status"] == "open"  # opportunity still open
    assert sf_leads.loc[PRICE, "status"] == "open"  # converted without opportunity
    # statuses outside the default vocabulary, mapped to open
    for lead in (YOUNG, BELL, FLORES, PERRY):  # Nurturing, Nurturing, Contacted, Qualified
        assert sf_leads.loc[lead, "status"] == "open"
    assert (sf_leads.status == "open").sum() == 30 - 3 - 7


def test_salesforce_dates_and_revenue(sf_leads: pd.DataFrame) -> None:
    assert sf_leads.loc[HARBOR, "created_at"] == utc("2026-09-08T13:12:07")  # ISO Z = UTC
    # CloseDate is a date: midnight in the org's zone (EDT before 1 November, EST after)
    assert sf_leads.loc[HARBOR, "closed_at"] == utc("2026-10-14T04:00")
    assert sf_leads.loc[RIVERA, "closed_at"] == utc("2026-11-06T05:00")
    assert sf_leads.loc[KIM, "closed_at"] == utc("2026-09-15T04:00")  # LastActivityDate
    assert sf_leads.loc[HARBOR, "revenue"] == 18000.0
    assert sf_leads.loc[ORTIZ, "revenue"] == 26500.0
    assert pd.isna(sf_leads.loc[OCONNOR, "revenue"])  # 21000 EUR, no rate given
    assert sf_leads[sf_leads.status != "won"].revenue.isna().all()
    assert pd.isna(sf_leads.loc[FOSTER, "closed_at"])


def test_salesforce_eur_amount_converted_with_rate() -> None:
    with leadsla.connect(SALESFORCE, mapping="salesforce", options={"rates": "EUR=0.84"}) as ws:
        leads = frame(ws, "leads", "lead_id")
        assert leads.loc[OCONNOR, "revenue"] == pytest.approx(21000 / 0.84)
        assert "won-without-revenue" not in codes(ws)


def test_salesforce_owners(sf_leads: pd.DataFrame) -> None:
    assert pd.isna(sf_leads.loc[TURNER, "owner"])  # Inbound Lead Queue
    assert pd.isna(sf_leads.loc[CAMPBELL, "owner"])
    assert sf_leads.loc[WALSH, "owner"] == MARIA
    names = f"{MARIA}=Maria Lopez, 0055e00000E6kGZAAZ=Derek Chen"
    with leadsla.connect(SALESFORCE, mapping="salesforce", options={"owner_names": names}) as ws:
        leads = frame(ws, "leads", "lead_id")
        tasks = frame(ws, "activities", "activity_id")
        assert leads.loc[WALSH, "owner"] == "Maria Lopez"
        assert leads.loc[PATEL, "owner"] == "0055e00000pDiPCAA0"  # not in the list
        assert pd.isna(leads.loc[TURNER, "owner"])
        assert tasks.loc["00T5e00000wkB2jEAE", "rep"] == "Derek Chen"


def test_salesforce_sources_and_case_twins(sf_leads: pd.DataFrame) -> None:
    assert sf_leads.loc[PATEL, "campaign"] == "LinkedIn Ads"
    assert sf_leads.loc[OCONNOR, "campaign"] == "Webinar"
    assert sf_leads.loc[PRICE, "source"] == "partner"
    assert sf_leads.loc[HARBOR, "source"] == "marketing"
    # 15-character twins 00Q5e00000Gk7Pq / 00Q5e00000gk7Pq stay two leads
    assert sf_leads.loc[TURNER, "created_at"] == utc("2026-09-23T02:18:31")
    assert sf_leads.loc[OCONNOR, "created_at"] == utc("2026-09-23T15:20:38")
    assert sf_leads.index.is_unique


def test_salesforce_tasks(sf_tasks: pd.DataFrame) -> None:
    # calls made before conversion point at the contact: back on the lead
    assert sf_tasks.loc["00T5e00000ggVFKEA2", "lead_id"] == HARBOR  # WhoId 0035e00000TJ6d9AAD
    assert sf_tasks.loc["00T5e00000GjzJdEAJ", "lead_id"] == PRICE  # converted, no opportunity
    assert (sf_tasks.lead_id == HARBOR).sum() == 4
    assert WALSH not in set(sf_tasks.lead_id)  # only an open task
    assert sf_tasks.kind.value_counts().to_dict() == {"call": 33, "email": 4, "inbound_call": 1}
    assert sf_tasks.loc["00T5e00000fbzFyEAI", "kind"] == "inbound_call"
    assert sf_tasks.loc["00T5e00000GzXzSEAV", "outcome"] == "sent"
    assert sf_tasks.loc["00T5e00000ggVFKEA2", "outcome"] == "connected"  # "Connected - demo booked"
    assert sf_tasks.loc["00T5e00000r6qguEAA", "outcome"] == "connected"  # "Connected - Bad Timing"
    assert sf_tasks.outcome.value_counts().to_dict() == {
        "connected": 22,
        "no_answer": 7,
        "voicemail": 4,
        "sent": 4,
        "wrong_number": 1,
    }


def test_salesforce_dialer_slip_is_kept(sf_leads: pd.DataFrame, sf_tasks: pd.DataFrame) -> None:
    # CompletedDateTime holds ET wall time stamped as UTC: 3 h 56 min before the lead exists
    task = sf_tasks.loc["00T5e00000B9e3MEAR"]
    assert task.lead_id == PATEL
    assert task["at"] == utc("2026-10-07T09:05:40")
    assert sf_leads.loc[PATEL, "created_at"] - task["at"] == pd.Timedelta("3h56min31s")


# --------------------------------------------------------------------------- Leads report


@pytest.fixture(scope="module")
def report() -> Iterator[Workspace]:
    with leadsla.connect(SALESFORCE, mapping="salesforce-report") as ws:
        yield ws


def test_report_footer_excluded(report: Workspace) -> None:
    # the blank line is skipped by the reader; totals, confidentiality and copyright lines
    # are read and excluded
    assert report.accounting["leads"].to_dict() == {
        "table": "leads",
        "read": 33,
        "used": 30,
        "excluded": {"report footer (totals, confidentiality and copyright lines)": 3},
    }
    assert "activities" not in report.tables
    assert codes(report) == {"closed-before-created-slight": ("WARNING", 3)}


def test_report_ids_become_18_characters(report: Workspace) -> None:
    with (SALESFORCE / "Lead.csv").open(encoding="utf-8", newline="") as f:
        api_ids = {row["Id"] for row in csv.DictReader(f)}
    leads = frame(report, "leads", "lead_id")
    assert set(leads.index) == api_ids
    assert {TURNER, OCONNOR} <= set(leads.index)


def test_report_us_locale_in_new_york(report: Workspace) -> None:
    leads = frame(report, "leads", "lead_id")
    assert leads.loc[HARBOR, "created_at"] == utc("2026-09-08T13:12")  # 9:12 AM EDT
    assert leads.loc[TURNER, "created_at"] == utc("2026-09-23T02:18")  # 10:18 PM EDT
    assert leads.loc[JENKINS, "created_at"] == utc("2026-11-02T14:05")  # 9:05 AM EST
    assert leads.loc[PERRY, "created_at"] == utc("2026-11-03T19:40")  # 2:40 PM EST
    assert leads.loc[KIM, "closed_at"] == utc("2026-09-15T04:00")  # Last Activity 9/15/2026


def test_report_statuses_and_owners(report: Workspace) -> None:
    leads = frame(report, "leads", "lead_id")
    assert set(leads.index[leads.status == "lost"]) == {REED, KIM, BENNETT, MITCHELL, COX}
    assert (leads.status == "open").sum() == 25  # converted leads included: no outcome here
    assert leads.loc[HARBOR, "status"] == "open"
    assert pd.isna(leads.loc[TURNER, "owner"]) and pd.isna(leads.loc[CAMPBELL, "owner"])
    assert leads.loc[HARBOR, "owner"] == "Maria Lopez"


# --------------------------------------------------------------------------- header case


@pytest.mark.parametrize(
    ("folder", "mapping", "change"),
    [(HUBSPOT, "hubspot", str.lower), (SALESFORCE, "salesforce", str.upper)],
)
def test_headers_match_case_insensitively(
    tmp_path: Path, folder: Path, mapping: str, change: Any
) -> None:
    """Old Data Loader versions upper-case every header; sql rules must still bind."""
    for src in folder.glob("*.csv"):
        lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
        (tmp_path / src.name).write_text(change(lines[0]) + "".join(lines[1:]), encoding="utf-8")
    with (
        leadsla.connect(folder, mapping=mapping) as original,
        leadsla.connect(tmp_path, mapping=mapping) as changed,
    ):
        for table in ("leads", "activities"):
            assert changed.accounting[table] == original.accounting[table]
            key = "lead_id" if table == "leads" else "activity_id"
            pd.testing.assert_frame_equal(
                changed.tables[table].execute().sort_values(key, ignore_index=True),
                original.tables[table].execute().sort_values(key, ignore_index=True),
            )


# --------------------------------------------------------------------------- CLI


def test_cli_lists_the_crm_mappings() -> None:
    # the table, not --format json: Rich wraps long JSON lines at the runner's 80 columns
    result = CliRunner().invoke(app, ["mappings"])
    assert result.exit_code == 0, result.output
    names = set(re.findall(r"^│ (\S+) +│", result.output, flags=re.MULTILINE))
    assert {"hubspot", "salesforce", "salesforce-report"} <= names


@pytest.mark.parametrize(
    ("folder", "mapping"),
    [(HUBSPOT, "hubspot"), (SALESFORCE, "salesforce"), (SALESFORCE, "salesforce-report")],
)
def test_cli_validate_succeeds(folder: Path, mapping: str) -> None:
    result = CliRunner().invoke(app, ["validate", str(folder), "--mapping", mapping])
    assert result.exit_code == 0, result.output
