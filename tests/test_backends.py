"""Every analysis gives the same numbers on DuckDB, PostgreSQL and Spark (local mode).

One small synthetic CRM (``leadsla.synth``, 300 leads) plus leads and calls on the edges of
the daylight-saving changes of Europe/Berlin (the workspace and business-hours zone) is read
on each engine: a folder of Parquet files on the embedded DuckDB, the same tables in a
PostgreSQL schema, and the folder through Spark (``pyspark://local[2]?path=…``). value, plan,
attempts, speed, agree and check run through the Python API and the command line on each;
their JSON must equal DuckDB's: counts exactly, rates and money to 1e-9 relative.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ibis
import pandas as pd
import pytest
from typer.testing import CliRunner

import leadsla
from leadsla.analysis.value import mql_value_table
from leadsla.render.document import write_agreement
from leadsla.settings import load_settings
from leadsla.sla.agreement import draft_agreement
from leadsla.sla.compliance import check_compliance
from leadsla.sla.policy import load_policy

# PySpark reads every collect() through a local socket it leaves for the garbage collector to
# close (pyspark/util.py), a ResourceWarning no configuration avoids.
# Its toPandas (behind Ibis's execute) passes pandas 3 a deprecated copy= argument.
pytestmark = [
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
    pytest.mark.postgres,
]

BACKENDS = ("duckdb", "postgres", "pyspark")
AS_OF = "2025-06-30T18:00:00+02:00"
SETTINGS = """\
currency = "EUR"
time_zone = "Europe/Berlin"
hourly_cost_eur = 60
attempts_per_hour = 6
quota_eur = 400000
as_of = "2025-06-30T18:00:00+02:00"

[business_hours]
time_zone = "Europe/Berlin"
hours = "Mon-Fri 09:00-18:00"
holiday_country = "DE"
"""
# instants around Europe/Berlin's clock changes: 2024-10-27 03:00 CEST -> 02:00 CET (the
# hour 02:00-03:00 happens twice) and 2025-03-30 02:00 CET -> 03:00 CEST (it never happens)
DST = {
    "fall_first_0230": "2024-10-27T00:30:00Z",  # 02:30 CEST
    "fall_second_0230": "2024-10-27T01:30:00Z",  # 02:30 CET, an hour later
    "fall_monday": "2024-10-28T08:00:00Z",  # 09:00 CET, the first business minute
    "spring_0159": "2025-03-30T00:59:59Z",  # 01:59:59 CET
    "spring_0300": "2025-03-30T01:00:00Z",  # 03:00 CEST, one second later
    "spring_monday": "2025-03-31T07:00:00Z",  # 09:00 CEST
}


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def dst_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six leads created on the clock changes and called across them."""
    leads, acts = [], []
    plan = [
        ("DST01", "fall_first_0230", "won", "fall_monday", 12_000.0, ["fall_monday"]),
        ("DST02", "fall_second_0230", "lost", "fall_monday", None, ["fall_second_0230"]),
        ("DST03", "fall_second_0230", "open", None, None, []),
        ("DST04", "spring_0159", "won", "spring_monday", 3_000.0, ["spring_0300"]),
        ("DST05", "spring_0300", "lost", "spring_monday", None, ["spring_0300", "spring_monday"]),
        ("DST06", "spring_0159", "won", "spring_monday", 65_000.0, ["spring_monday"]),
    ]
    for i, (lid, created, status, closed, revenue, calls) in enumerate(plan):
        leads.append(
            {
                "lead_id": lid,
                "created_at": _ts(DST[created]),
                "segment": ("smb", "enterprise", "mid-market")[i % 3],
                "campaign": "Google Ads Brand",
                "source": "marketing",
                "owner": "Jonas Weber",
                "status": status,
                "closed_at": _ts(DST[closed]) + pd.Timedelta(minutes=5) if closed else pd.NaT,
                "revenue": revenue,
                "mql_at": _ts(DST[created]),
            }
        )
        for k, call in enumerate(calls):
            acts.append(
                {
                    "activity_id": f"{lid}-A{k + 1}",
                    "lead_id": lid,
                    "at": _ts(DST[call]) + pd.Timedelta(seconds=k),
                    "kind": "call",
                    "rep": "Jonas Weber",
                    "outcome": "connected" if status != "open" else "no answer",
                }
            )
    return pd.DataFrame(leads), pd.DataFrame(acts)


@dataclass(frozen=True)
class Crm:
    folder: Path
    frames: dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Crm:
    from leadsla.synth import generate_frames

    f = generate_frames(leads=300, seed=7, as_of=AS_OF)
    extra_leads, extra_acts = dst_rows()
    frames = {
        "leads": pd.concat([f.leads, extra_leads.astype(f.leads.dtypes)], ignore_index=True),
        "activities": pd.concat(
            [f.activities, extra_acts.astype(f.activities.dtypes)], ignore_index=True
        ),
        "campaigns": f.campaigns,
        "touches": f.touches,
    }
    folder = tmp_path_factory.mktemp("crm")
    for name, df in frames.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)
    (folder / "leadsla.toml").write_text(SETTINGS, encoding="utf-8")
    return Crm(folder, frames)


@pytest.fixture(scope="module")
def pg_url(postgres_url: str, crm: Crm) -> Iterator[str]:
    """The CRM's tables in a fresh PostgreSQL schema (dropped afterwards): its URL."""
    schema = f"leadsla_be_{uuid.uuid4().hex[:8]}"
    admin = ibis.connect(postgres_url)
    admin.raw_sql(f'CREATE SCHEMA "{schema}"').close()
    parts = urlsplit(postgres_url)
    url = urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{schema}"))
    con = ibis.connect(url)
    try:
        for name, df in crm.frames.items():
            con.create_table(name, df)
        yield url
    finally:
        con.disconnect()
        admin.raw_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE').close()
        admin.disconnect()


def source_of(backend: str, crm: Crm, pg_url: str) -> str:
    return {
        "duckdb": str(crm.folder),
        "postgres": pg_url,
        "pyspark": f"pyspark://local[2]?path={crm.folder}",
    }[backend]


@pytest.fixture(scope="module")
def workspaces(crm: Crm, pg_url: str, spark_session: Any) -> Iterator[dict[str, leadsla.Workspace]]:
    settings = load_settings(crm.folder)
    out = {b: leadsla.connect(source_of(b, crm, pg_url), settings=settings) for b in BACKENDS}
    yield out
    for ws in out.values():
        ws.close()


# --------------------------------------------------------------------------- comparing


def differences(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two JSON values differ: integers and text exactly, floats to 1e-9 relative
    (NaN equals NaN)."""
    if isinstance(a, dict):
        if not isinstance(b, dict) or sorted(a) != sorted(b):
            return [f"{where}: keys {sorted(a)} != {b if not isinstance(b, dict) else sorted(b)}"]
        return [d for k in a for d in differences(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return [f"{where}: {a!r:.200} != {b!r:.200}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in differences(x, y, f"{where}[{i}]")]  # fmt: skip
    if isinstance(a, float) and isinstance(b, float | int) and not isinstance(b, bool):
        same = math.isnan(b) if math.isnan(a) else b == pytest.approx(a, rel=1e-9, abs=1e-12)
        return [] if same else [f"{where}: {a!r} != {b!r}"]
    return [] if type(a) is type(b) and a == b else [f"{where}: {a!r:.200} != {b!r:.200}"]


def assert_same(a: Any, b: Any, label: str = "") -> None:
    diffs = differences(a, b)
    assert not diffs, f"{label}: {len(diffs)} differences:\n" + "\n".join(diffs[:25])


def _plain(d: Any) -> Any:
    """JSON as written, without the source's name (a path or URL: the one legitimate
    difference between the engines)."""
    out = json.loads(json.dumps(d, default=str))
    out.pop("source", None)
    if isinstance(out.get("data"), dict):
        out["data"].pop("source", None)
    return out


# --------------------------------------------------------------------------- the Python API


def test_validation_and_accounting_agree(workspaces: dict[str, leadsla.Workspace]) -> None:
    """Same rows read, used and excluded, and the same issues (code, count, column)."""
    duck = workspaces["duckdb"]
    assert duck.accounting["leads"].read == 306
    for b in BACKENDS[1:]:
        ws = workspaces[b]
        assert {k: a.to_dict() for k, a in ws.accounting.items()} == {
            k: a.to_dict() for k, a in duck.accounting.items()
        }, b
        key = [(i.severity, i.code, i.count, i.column) for i in duck.issues]
        assert [(i.severity, i.code, i.count, i.column) for i in ws.issues] == key, b
        assert ws.as_of == duck.as_of


@pytest.mark.parametrize("backend", BACKENDS[1:])
def test_canonical_tables_agree(workspaces: dict[str, leadsla.Workspace], backend: str) -> None:
    """The canonical tables themselves: same rows, same instants (DST edges included)."""
    for name, key in (("leads", "lead_id"), ("activities", "activity_id")):
        want = workspaces["duckdb"].table(name).to_pyarrow().to_pandas()
        got = workspaces[backend].table(name).to_pyarrow().to_pandas()
        want = want.sort_values(key, ignore_index=True)
        got = got.sort_values(key, ignore_index=True)[list(want.columns)]
        for col in want.columns:
            if str(want[col].dtype).startswith("datetime64"):
                want[col] = want[col].dt.tz_convert("UTC").astype("datetime64[us, UTC]")
                got[col] = pd.to_datetime(got[col], utc=True).astype("datetime64[us, UTC]")
        pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=f"{backend} {name}")
    dst = workspaces[backend].leads.filter(ibis._.lead_id == "DST04").to_pyarrow().to_pylist()
    assert dst[0]["created_at"].astimezone(UTC) == datetime(2025, 3, 30, 0, 59, 59, tzinfo=UTC)


@pytest.fixture(scope="module")
def agreements(workspaces: dict[str, leadsla.Workspace]) -> dict[str, Any]:
    return {
        b: draft_agreement(ws, quota_eur=400_000, bootstrap=50, draws=500, name="SLA")
        for b, ws in workspaces.items()
    }


@pytest.mark.parametrize("backend", BACKENDS[1:])
def test_agree_value_plan_attempts_speed_agree(agreements: dict[str, Any], backend: str) -> None:
    """agree runs value, plan, attempts and speed as their commands do: its JSON holds theirs."""
    want = _plain(agreements["duckdb"].to_dict())
    got = _plain(agreements[backend].to_dict())
    for part in ("value", "plan", "attempts", "speed"):
        assert want[part], part
    assert_same(want, got, backend)


@pytest.mark.parametrize("backend", BACKENDS[1:])
def test_value_by_campaign_agrees(workspaces: dict[str, leadsla.Workspace], backend: str) -> None:
    def run(ws: leadsla.Workspace) -> Any:
        return mql_value_table(ws.leads, by=("campaign", "segment"), as_of=ws.as_of, draws=500)

    want = run(workspaces["duckdb"]).to_dict()
    assert want["groups"], "no groups: the comparison would be empty"
    assert_same(_plain(want), _plain(run(workspaces[backend]).to_dict()))


@pytest.mark.parametrize("backend", BACKENDS[1:])
def test_check_agrees(
    workspaces: dict[str, leadsla.Workspace],
    agreements: dict[str, Any],
    tmp_path: Path,
    backend: str,
) -> None:
    files = write_agreement(agreements["duckdb"], tmp_path / "sla")
    policy = load_policy(files.policy)

    def run(ws: leadsla.Workspace) -> Any:
        return check_compliance(ws.leads, ws.activities, policy=policy, as_of=ws.as_of)

    want = run(workspaces["duckdb"]).to_dict()
    assert want["leads"]["met"] + want["leads"]["breached"] > 0
    assert_same(_plain(want), _plain(run(workspaces[backend]).to_dict()))


# --------------------------------------------------------------------------- the CLI


@pytest.fixture(scope="module")
def cli_json(
    crm: Crm, pg_url: str, spark_session: Any, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """``leadsla ARGS… --format json`` in this process (Spark's session is reused) in a folder
    holding the CRM's leadsla.toml (database URLs read the one of the working folder)."""
    runner = CliRunner()
    home = tmp_path_factory.mktemp("cli")
    (home / "leadsla.toml").write_text(SETTINGS, encoding="utf-8")

    def run(backend: str, *args: str) -> Any:
        from leadsla.cli.app import app

        source = source_of(backend, crm, pg_url)
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(home)
            result = runner.invoke(app, [args[0], source, *args[1:], "--format", "json"])
        assert result.exit_code == 0, (backend, args, result.output, result.exception)
        return json.loads(result.stdout)

    return run


@pytest.mark.parametrize(
    "args",
    [
        ("value", "--by", "segment", "--draws", "500"),
        ("plan", "--quota", "400000"),
        ("attempts", "--bootstrap", "50"),
        ("speed",),
    ],
    ids=lambda a: a[0],
)
def test_cli_commands_agree_on_postgres(cli_json: Any, args: tuple[str, ...]) -> None:
    """Each command on PostgreSQL; on Spark ``agree`` (below) runs all four in one
    connection (a Spark connection is the slow part of a run)."""
    assert_same(_plain(cli_json("duckdb", *args)), _plain(cli_json("postgres", *args)))


def test_cli_agree_and_check_agree(cli_json: Any, tmp_path: Path) -> None:
    outs = {}
    for backend in BACKENDS:
        out = tmp_path / backend
        agreed = cli_json(backend, "agree", "--bootstrap", "50", "--name", "SLA", "--out", str(out))
        agreed.pop("files")
        outs[backend] = _plain(agreed)
    for part in ("value", "plan", "attempts", "speed"):
        assert outs["duckdb"][part], part
    for backend in BACKENDS[1:]:
        assert_same(outs["duckdb"], outs[backend], backend)
    policy = str(tmp_path / "duckdb" / "sla.toml")
    want = cli_json("duckdb", "check", "--policy", policy, "--as-of", AS_OF)
    assert want["leads"]["met"] + want["leads"]["breached"] > 0
    for backend in BACKENDS[1:]:
        got = cli_json(backend, "check", "--policy", policy, "--as-of", AS_OF)
        assert_same(_plain(want), _plain(got), backend)


# --------------------------------------------------------------------------- bad data


def broken_frames() -> dict[str, pd.DataFrame]:
    """Typed tables with one of each data problem the checks find in typed columns."""
    t = pd.Timestamp("2025-01-06T09:00:00Z")
    day = pd.Timedelta(days=1)
    leads = pd.DataFrame(
        {
            "lead_id": ["B1", "B2", "B2", "B4", "B5", "B6", "B7", None],
            "created_at": [t, t, t, t, t, t, t + 10 * day, t],
            "segment": ["smb"] * 8,
            "status": ["won", "lost", "open", "Won", "won", "maybe", "lost", "open"],
            # B1 no revenue (warning); B5 negative revenue; B7 closed 10 days before created
            "closed_at": [t + day, None, None, t + day, t + day, None, t, None],
            "revenue": [None, None, None, 100.0, -5.0, None, None, None],
        }
    )
    leads["closed_at"] = pd.to_datetime(leads["closed_at"], utc=True)
    acts = pd.DataFrame(
        {
            "activity_id": ["X1", "X2", "X3", "X4"],
            "lead_id": ["B1", "NOPE", "B4", "B4"],
            "at": [t + day / 2, t, t - day, pd.Timestamp("2026-01-01T00:00:00Z")],
            "kind": ["call"] * 4,
        }
    )
    return {"leads": leads, "activities": acts}


def test_same_issues_and_counts_on_bad_data(
    postgres_url: str, spark_session: Any, tmp_path: Path
) -> None:
    """Every check finds the same problems, on as many rows, on each engine; the excluded
    activities are counted alike (unknown lead, after the as-of date)."""
    frames = broken_frames()
    folder = tmp_path / "broken"
    folder.mkdir()
    for name, df in frames.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)
    schema = f"leadsla_bad_{uuid.uuid4().hex[:8]}"
    admin = ibis.connect(postgres_url)
    admin.raw_sql(f'CREATE SCHEMA "{schema}"').close()
    try:
        for name, df in frames.items():
            admin.create_table(name, df, database=schema)
        parts = urlsplit(postgres_url)
        pg = urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{schema}"))
        settings = load_settings(None).replace(as_of=datetime(2025, 6, 30, tzinfo=UTC))
        found = {}
        for backend in BACKENDS:
            source = {"duckdb": str(folder), "postgres": pg,
                      "pyspark": f"pyspark://local[2]?path={folder}"}[backend]  # fmt: skip
            with leadsla.connect(source, settings=settings, strict=False) as ws:
                found[backend] = (
                    sorted((i.severity, i.code, i.count, i.column) for i in ws.issues),
                    {k: a.to_dict() for k, a in ws.accounting.items()},
                )
    finally:
        admin.raw_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE').close()
        admin.disconnect()
    codes = {code for _, code, _, _ in found["duckdb"][0]}
    assert {"duplicate-id", "unknown-status", "negative-revenue", "closed-before-created",
            "won-without-revenue", "missing-value", "orphan-activity", "activity-after-as-of",
            "activity-before-created"} <= codes, codes  # fmt: skip
    assert found["duckdb"][1]["activities"]["excluded"] == {
        "activity for an unknown lead": 1,
        "activity after the as-of date": 1,
    }
    for backend in BACKENDS[1:]:
        assert found[backend] == found["duckdb"], backend
