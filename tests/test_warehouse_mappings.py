"""The Fivetran HubSpot and Salesforce mappings on the tables those connectors write.

Small seed-like tables with the connectors' real table and column names (as read by the
public dbt packages fivetran/dbt_hubspot_source and fivetran/dbt_salesforce_source) are
created in a PostgreSQL schema (timestamps without a zone, UTC as Fivetran writes them) and
in a Spark database (Spark TIMESTAMPs); each mapping must give the same canonical tables on
both, and the values the rows were written to give (counted here by hand).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest

import leadsla
from leadsla.settings import Settings

# PySpark leaves sockets to the garbage collector and passes pandas 3 a deprecated copy=.
pytestmark = [
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
    pytest.mark.postgres,
]

SETTINGS = Settings(time_zone="Europe/Berlin", as_of=datetime(2025, 6, 30, 16, tzinfo=UTC))


def ts(text: str) -> pd.Timestamp:
    """A UTC instant, naive (as Fivetran stores it)."""
    return pd.Timestamp(text)


# --------------------------------------------------------------------------- HubSpot


def hubspot_tables() -> dict[str, pd.DataFrame]:
    owner = pd.DataFrame(
        {
            "owner_id": [101, 102],
            "portal_id": [4727653, 4727653],
            "email": ["anna@example.com", "ben@example.com"],
            "first_name": ["Anna", "Ben"],
            "last_name": ["Schmidt", "Ortiz"],
            "type": ["PERSON", "PERSON"],
            "created_at": [ts("2023-01-01 08:00"), ts("2023-01-01 08:00")],
            "updated_at": [ts("2024-01-01 08:00"), ts("2024-01-01 08:00")],
        }
    )
    contact = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "_fivetran_deleted": [False, False, False, False, False, True],
            "_fivetran_synced": [ts("2025-06-30 03:00")] * 6,
            "property_email": [f"c{i}@example.com" for i in range(1, 7)],
            "property_firstname": ["Ada", "Bo", "Cy", "Di", "Ed", "Flo"],
            "property_lastname": ["A", "B", "C", "D", "E", "F"],
            # 2: 00:30 UTC on the autumn clock change (02:30 CEST); 4: one second before
            # the spring change
            "property_createdate": [
                ts("2024-09-02 07:15"),
                ts("2024-10-27 00:30"),
                ts("2024-11-05 10:00"),
                ts("2025-03-30 00:59:59"),
                ts("2025-05-20 13:00"),
                ts("2024-12-01 09:00"),
            ],
            "property_industry": ["Software", "Retail", "Software", None, "Retail", "Retail"],
            "property_hs_analytics_source": [
                "PAID_SEARCH",
                "ORGANIC_SEARCH",
                "OFFLINE",
                "PAID_SEARCH",
                "EMAIL_MARKETING",
                "OFFLINE",
            ],
            "property_hubspot_owner_id": [101, 102, 101, None, 102, 101],
            "property_hs_lifecyclestage_marketingqualifiedlead_date": [
                ts("2024-09-02 08:00"),
                None,
                ts("2024-11-05 10:30"),
                None,
                None,
                None,
            ],
        }
    )
    stage = pd.DataFrame(
        {
            "stage_id": ["appointmentscheduled", "closedwon", "closedlost"],
            "pipeline_id": ["default"] * 3,
            "label": ["Appointment Scheduled", "Closed Won", "Closed Lost"],
            "closed_won": [False, True, False],
            "probability": [0.2, 1.0, 0.0],
            "active": [True, True, True],
            "display_order": [0, 5, 6],
            "_fivetran_deleted": [False, False, False],
        }
    )
    deal = pd.DataFrame(
        {
            "deal_id": [9001, 9002, 9003, 9004, 9005],
            "deal_pipeline_id": ["default"] * 5,
            "deal_pipeline_stage_id": [
                "closedwon",
                "closedlost",
                "closedlost",
                "appointmentscheduled",
                "closedwon",
            ],
            "owner_id": [101, 101, 102, 101, 101],
            "portal_id": [4727653] * 5,
            "is_deleted": [False, False, False, False, True],
            "property_dealname": ["Ada big", "Ada small", "Bo", "Cy", "Cy deleted"],
            "property_amount": [12_000.0, 3_000.0, 5_000.0, 8_000.0, 99_000.0],
            "property_closedate": [
                ts("2024-10-01 14:00"),
                ts("2024-09-20 10:00"),
                ts("2024-10-28 08:00"),
                None,
                ts("2024-12-01 09:00"),
            ],
            "property_createdate": [ts("2024-09-10 09:00")] * 5,
        }
    )
    deal_contact = pd.DataFrame(
        {"deal_id": [9001, 9002, 9003, 9004, 9005], "contact_id": [1, 1, 2, 3, 3]}
    )
    engagement = pd.DataFrame(
        {
            "id": [501, 502, 503, 504, 505, 506, 507],
            "type": ["CALL", "EMAIL", "CALL", "NOTE", "MEETING", "CALL", "CALL"],
            "timestamp": [
                ts("2024-09-02 07:40"),
                ts("2024-09-03 08:00"),
                ts("2024-10-27 01:30"),  # 02:30 CET, the second 02:30 of that night
                ts("2024-11-05 11:00"),
                ts("2024-11-06 09:00"),
                ts("2025-03-30 01:00"),  # 03:00 CEST, a second after contact 4's creation
                ts("2024-12-02 09:00"),
            ],
            "owner_id": [101, 101, 102, 101, 101, 102, 101],
            "active": [True, True, True, True, True, True, False],
            "portal_id": [4727653] * 7,
            "created_at": [ts("2024-09-01 00:00")] * 7,
            "activity_type": [None] * 7,
        }
    )
    engagement_contact = pd.DataFrame(
        {
            "engagement_id": [501, 502, 503, 504, 505, 506, 507, 506],
            "contact_id": [1, 1, 2, 3, 3, 4, 6, 5],
        }
    )
    return {
        "owner": owner,
        "contact": contact,
        "deal_pipeline_stage": stage,
        "deal": deal,
        "deal_contact": deal_contact,
        "engagement": engagement,
        "engagement_contact": engagement_contact,
        "engagement_call": pd.DataFrame({"engagement_id": [501, 503, 506, 507]}),
        "engagement_email": pd.DataFrame({"engagement_id": [502]}),
        "engagement_meeting": pd.DataFrame({"engagement_id": [505]}),
    }


# --------------------------------------------------------------------------- Salesforce


def salesforce_tables() -> dict[str, pd.DataFrame]:
    lead = pd.DataFrame(
        {
            "id": ["00Q1", "00Q2", "00Q3", "00Q4", "00Q5"],
            "is_deleted": [False, False, False, False, True],
            "created_date": [
                ts("2024-10-27 00:30"),
                ts("2024-11-04 09:00"),
                ts("2025-03-30 00:59:59"),
                ts("2025-01-15 12:00"),
                ts("2025-01-16 12:00"),
            ],
            "status": ["Closed - Converted", "Closed - Converted", "Unqualified", "Working", "New"],
            "is_converted": [True, True, False, False, False],
            "converted_opportunity_id": ["006A", "006B", None, None, None],
            "converted_contact_id": ["003A", "003B", None, None, None],
            "converted_date": [ts("2024-10-28 10:00"), ts("2024-11-10 10:00"), None, None, None],
            "lead_source": ["Web", "Partner Referral", "Cold Call", "Web", "Web"],
            "owner_id": ["005X", "005Y", "005X", "005Y", "005X"],
            "industry": ["Software", "Retail", "Software", None, "Retail"],
            "last_activity_date": [None, None, ts("2025-04-02 00:00"), None, None],
            "last_modified_date": [ts("2025-01-01 00:00")] * 5,
            "email": [f"l{i}@example.com" for i in range(1, 6)],
            "company": ["A", "B", "C", "D", "E"],
        }
    )
    contact = pd.DataFrame(
        {
            "id": ["003A", "003B", "003Z"],
            "account_id": ["001A", "001B", "001Z"],
            "is_deleted": [False, False, False],
            "created_date": [ts("2024-10-28 10:00"), ts("2024-11-10 10:00"), ts("2024-01-01")],
            "owner_id": ["005X", "005Y", "005Y"],
            "lead_source": ["Web", "Partner Referral", None],
        }
    )
    opportunity = pd.DataFrame(
        {
            "id": ["006A", "006B"],
            "is_deleted": [False, False],
            "is_won": [True, False],
            "is_closed": [True, True],
            "stage_name": ["Closed Won", "Closed Lost"],
            "amount": [25_000.0, 7_000.0],
            "close_date": [ts("2024-12-01 00:00"), ts("2024-12-15 00:00")],
            "created_date": [ts("2024-10-28 10:00"), ts("2024-11-10 10:00")],
            "owner_id": ["005X", "005Y"],
            "account_id": ["001A", "001B"],
        }
    )
    task = pd.DataFrame(
        {
            "id": ["00T1", "00T2", "00T3", "00T4", "00T5", "00T6", "00T7"],
            "is_deleted": [False, False, False, False, False, False, True],
            "is_closed": [True, True, True, False, True, True, True],
            "who_id": ["00Q1", "003A", "00Q3", "00Q4", "003Z", "00Q2", "00Q4"],
            "what_id": [None] * 7,
            "subject": ["Call", "Email", "Call", "Call", "Call", "Call", "Call"],
            "task_subtype": ["Call", "Email", "Call", "Call", "Call", "Call", "Call"],
            "type": ["Call", "Email", "Call", "Call", "Call", "Call", "Call"],
            "call_disposition": [
                "Connected",
                None,
                "No answer",
                None,
                "Busy",
                "Left voicemail",
                None,
            ],
            "completed_date_time": [
                ts("2024-10-27 01:30"),
                ts("2024-10-29 08:00"),
                ts("2025-03-30 01:00"),
                None,
                ts("2025-01-02 10:00"),
                None,
                ts("2025-01-20 10:00"),
            ],
            "created_date": [
                ts("2024-10-27 01:30"),
                ts("2024-10-29 08:00"),
                ts("2025-03-30 01:00"),
                ts("2025-01-16 10:00"),
                ts("2025-01-02 10:00"),
                ts("2024-11-05 09:30"),
                ts("2025-01-20 10:00"),
            ],
            "owner_id": ["005X", "005X", "005X", "005Y", "005Y", "005Y", "005Y"],
        }
    )
    campaign = pd.DataFrame(
        {
            "id": ["701A", "701B"],
            "name": ["Webinar Q4", "Trade Show"],
            "type": ["Webinar", "Trade Show"],
            "actual_cost": [1500.0, 20000.0],
            "budgeted_cost": [2000.0, 18000.0],
            "is_deleted": [False, False],
            "is_active": [True, False],
        }
    )
    campaign_member = pd.DataFrame(
        {
            "id": ["00v1", "00v2", "00v3", "00v4"],
            "campaign_id": ["701A", "701B", "701A", "701B"],
            "lead_id": ["00Q1", None, "00Q3", None],
            "contact_id": [None, "003B", None, "003Z"],
            "status": ["Responded", "Sent", "Responded", "Sent"],
            "has_responded": [True, False, True, False],
            "created_date": [
                ts("2024-10-20 10:00"),
                ts("2024-11-20 10:00"),
                ts("2025-03-01 10:00"),
                ts("2024-11-20 10:00"),
            ],
            "first_responded_date": [ts("2024-10-26 10:00"), None, ts("2025-03-02 00:00"), None],
            "is_deleted": [False, False, False, False],
        }
    )
    return {
        "lead": lead,
        "contact": contact,
        "opportunity": opportunity,
        "task": task,
        "campaign": campaign,
        "campaign_member": campaign_member,
    }


def arrow(df: pd.DataFrame) -> pa.Table:
    """The frame as Arrow, a missing number a null (never NaN), a column of Nones text."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    fields = [
        pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in table.schema
    ]
    return table.cast(pa.schema(fields))


FIXTURES = {"fivetran-hubspot": hubspot_tables, "fivetran-salesforce": salesforce_tables}


# --------------------------------------------------------------------------- the engines


@pytest.fixture(scope="module")
def pg_schemas(postgres_url: str) -> Iterator[dict[str, str]]:
    """Each connector's tables in a fresh PostgreSQL schema (naive UTC timestamps)."""
    admin = ibis.connect(postgres_url)
    token = uuid.uuid4().hex[:8]
    out = {}
    try:
        for mapping, make in FIXTURES.items():
            schema = f"{mapping.replace('-', '_')}_{token}"
            admin.raw_sql(f'CREATE SCHEMA "{schema}"').close()
            for name, df in make().items():
                admin.create_table(name, arrow(df), database=schema)
            out[mapping] = schema
        yield out
    finally:
        for schema in out.values():
            admin.raw_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE').close()
        admin.disconnect()


@pytest.fixture(scope="module")
def spark_databases(spark_session: Any) -> Iterator[dict[str, str]]:
    """Each connector's tables in a Spark database (TIMESTAMP columns: UTC instants)."""
    token = uuid.uuid4().hex[:8]
    out = {}
    try:
        for mapping, make in FIXTURES.items():
            db = f"{mapping.replace('-', '_')}_{token}"
            spark_session.sql(f"CREATE DATABASE {db}")
            for name, df in make().items():
                frame = df.copy()
                for col in frame.columns:
                    if str(frame[col].dtype).startswith("datetime64"):
                        frame[col] = frame[col].dt.tz_localize("UTC")
                spark_session.createDataFrame(arrow(frame)).write.saveAsTable(f"{db}.{name}")
            out[mapping] = db
        yield out
    finally:
        for db in out.values():
            spark_session.sql(f"DROP DATABASE IF EXISTS {db} CASCADE")


def canonical(ws: leadsla.Workspace) -> dict[str, pd.DataFrame]:
    keys = {"leads": "lead_id", "activities": "activity_id", "campaigns": "campaign",
            "touches": "lead_id"}  # fmt: skip
    out = {}
    for name, t in ws.tables.items():
        df = t.to_pyarrow().to_pandas()
        for col in df.columns:
            if str(df[col].dtype).startswith("datetime64"):
                df[col] = pd.to_datetime(df[col], utc=True).astype("datetime64[us, UTC]")
        out[name] = df.sort_values([keys[name], *df.columns.drop(keys[name])[:1]]).reset_index(
            drop=True
        )
    return out


@pytest.mark.parametrize("mapping", list(FIXTURES))
def test_same_canonical_tables_on_postgres_and_spark(
    mapping: str,
    pg_schemas: dict[str, str],
    spark_databases: dict[str, str],
    postgres_url: str,
    spark_session: Any,
) -> None:
    with leadsla.connect(
        postgres_url, mapping=mapping, options={"schema": pg_schemas[mapping]}, settings=SETTINGS
    ) as pg:
        on_pg = canonical(pg)
        acc_pg = {k: a.to_dict() for k, a in pg.accounting.items()}
        issues_pg = [(i.severity, i.code, i.count) for i in pg.issues]
    # HubSpot through a pyspark:// URL naming the database, Salesforce through the running
    # SparkSession object and the mapping's schema option
    if mapping == "fivetran-hubspot":
        spark: Any = f"pyspark://local[2]?schema={spark_databases[mapping]}"
        options = None
    else:
        spark, options = spark_session, {"schema": spark_databases[mapping]}
    with leadsla.connect(spark, mapping=mapping, options=options, settings=SETTINGS) as sp:
        on_spark = canonical(sp)
        acc_spark = {k: a.to_dict() for k, a in sp.accounting.items()}
        issues_spark = [(i.severity, i.code, i.count) for i in sp.issues]
    assert sorted(on_pg) == sorted(on_spark)
    for name in on_pg:
        pd.testing.assert_frame_equal(on_spark[name], on_pg[name], check_dtype=False, obj=name)
    assert acc_spark == acc_pg
    assert issues_spark == issues_pg
    EXPECTED[mapping](on_pg, acc_pg)


def _hubspot_expected(t: dict[str, pd.DataFrame], acc: dict[str, Any]) -> None:
    leads = t["leads"].set_index("lead_id")
    assert list(leads.index) == ["1", "2", "3", "4", "5"]  # contact 6 is deleted
    assert acc["leads"]["excluded"] == {"deleted in HubSpot": 1}
    assert leads.status.to_dict() == {"1": "won", "2": "lost", "3": "open", "4": "open",
                                      "5": "open"}  # fmt: skip
    assert leads.loc["1", "revenue"] == 12_000.0  # the deleted deal of 3 does not count
    assert leads.loc["1", "closed_at"] == pd.Timestamp("2024-10-01 14:00", tz="UTC")
    assert leads.loc["2", "created_at"] == pd.Timestamp("2024-10-27 00:30", tz="UTC")
    assert leads.loc["4", "created_at"] == pd.Timestamp("2025-03-30 00:59:59", tz="UTC")
    assert leads.loc["1", "owner"] == "Anna Schmidt"
    assert leads.loc["4", "segment"] == "all"
    assert leads.loc["3", "source"] == "sales"
    assert leads.loc["2", "mql_at"] == leads.loc["2", "created_at"]
    acts = t["activities"].set_index("activity_id")
    assert acts.kind.to_dict() == {"501-1": "call", "502-1": "email", "503-2": "call",
                                   "504-3": "note", "505-3": "meeting", "506-4": "call",
                                   "506-5": "call"}  # fmt: skip
    assert acts.loc["503-2", "at"] == pd.Timestamp("2024-10-27 01:30", tz="UTC")
    assert acts.loc["503-2", "rep"] == "Ben Ortiz"
    # 507 is inactive; its contact (6) is deleted: one row, counted under the first reason
    assert acc["activities"]["excluded"] == {"inactive (deleted) engagement": 1}


def _salesforce_expected(t: dict[str, pd.DataFrame], acc: dict[str, Any]) -> None:
    leads = t["leads"].set_index("lead_id")
    assert list(leads.index) == ["00Q1", "00Q2", "00Q3", "00Q4"]
    assert leads.status.to_dict() == {"00Q1": "won", "00Q2": "lost", "00Q3": "lost",
                                      "00Q4": "open"}  # fmt: skip
    assert leads.loc["00Q1", "revenue"] == 25_000.0
    assert leads.loc["00Q1", "closed_at"] == pd.Timestamp("2024-12-01", tz="UTC")
    assert leads.loc["00Q3", "closed_at"] == pd.Timestamp("2025-04-02", tz="UTC")
    assert leads.loc["00Q1", "campaign"] == "Web"
    assert leads.loc["00Q2", "source"] == "partner"
    assert leads.loc["00Q3", "source"] == "sales"
    acts = t["activities"].set_index("activity_id")
    assert acts.lead_id.to_dict() == {"00T1": "00Q1", "00T2": "00Q1", "00T3": "00Q3",
                                      "00T6": "00Q2"}  # fmt: skip
    assert acts.loc["00T3", "outcome"] == "no_answer"
    assert acts.loc["00T6", "outcome"] == "voicemail"
    assert acts.loc["00T2", "kind"] == "email"
    assert acc["activities"]["excluded"] == {
        "deleted in Salesforce": 1,
        "open task (planned, not done)": 1,
        "task on a contact that never was a lead": 1,
    }
    touches = t["touches"]
    assert sorted(touches.lead_id) == ["00Q1", "00Q2", "00Q3"]
    assert acc["touches"]["excluded"] == {"member that never was a lead": 1}
    assert t["campaigns"].cost.sum() == 21_500.0


EXPECTED = {"fivetran-hubspot": _hubspot_expected, "fivetran-salesforce": _salesforce_expected}


def test_spark_session_is_not_stopped(spark_session: Any) -> None:
    """A workspace on a session it did not create leaves it running."""
    with pytest.raises(leadsla.DataError):
        leadsla.connect(spark_session, mapping="fivetran-hubspot",
                        options={"schema": "default"}, settings=SETTINGS)  # fmt: skip
    assert spark_session.range(3).count() == 3


def test_cli_schema_flag_points_at_the_synced_schema(
    pg_schemas: dict[str, str], postgres_url: str, tmp_path: Path
) -> None:
    """``--schema`` on the command line reads the connector's schema, as ``?schema=`` in the
    URL does; on a file source it is a usage error naming the fix."""
    from typer.testing import CliRunner

    from leadsla.cli.app import app

    schema = pg_schemas["fivetran-hubspot"]
    runner = CliRunner()
    base = ["validate", "--mapping", "fivetran-hubspot", "--time-zone", "UTC", "--format", "json"]
    flag = runner.invoke(app, [*base[:1], postgres_url, *base[1:], "--schema", schema])
    url = runner.invoke(app, [*base[:1], f"{postgres_url}?schema={schema}", *base[1:]])
    assert flag.exit_code == 0, flag.output
    assert url.exit_code == 0, url.output
    got, want = json.loads(flag.stdout), json.loads(url.stdout)
    got.pop("source", None), want.pop("source", None)
    assert got == want
    leads = next(a for a in got["accounting"] if a["table"] == "leads")
    assert (leads["read"], leads["used"]) == (6, 5)  # contact 6 read, then excluded (deleted)
    bad = runner.invoke(app, ["validate", str(tmp_path), "--schema", schema])
    assert bad.exit_code != 0
    assert "only a database or Spark catalog URL has schemas" in str(bad.exception)
