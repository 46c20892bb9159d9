"""Properties of reading: valid canonical data validates clean, and the row accounting adds up.

Every example writes its files into its own temporary folder (function-scoped fixtures are not
reset between Hypothesis examples). Times are rendered with an offset, without one (read in
the workspace time zone) or as a date; files are CSV or Parquet.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import leadsla
from leadsla.io.typing_sql import DEFAULT_NULLS
from leadsla.schema import TABLES

AS_OF = datetime(2026, 1, 1, tzinfo=UTC)
START = datetime(2020, 1, 1, tzinfo=UTC)
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati"]
OFFSETS = ["Z", "+00:00", "+01:00", "-05:00", "+05:30", "+0200", "-11:00"]
STATUSES = {
    "open": ["open", "Open", "new"],
    "won": ["won", "Closed Won"],
    "lost": ["lost", "closed-lost", "Disqualified"],
}
TEXT = st.text(alphabet="abcXYZ019 ,'\"éß-", max_size=6)
PROPS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def instants(lo: datetime = START, hi: datetime = AS_OF - timedelta(days=2)) -> Any:
    """Whole-second UTC instants in [lo, hi]."""
    span = int((hi - lo).total_seconds())
    return st.integers(0, span).map(lambda s: lo + timedelta(seconds=s))


@st.composite
def rendered(draw: Any, at: datetime, tz: str, *, date_ok: bool = True) -> str:
    """``at`` as text: with an offset, as wall-clock time in ``tz``, or as a date in ``tz``."""
    kinds = ["offset", "naive"] + (["date"] if date_ok else [])
    kind = draw(st.sampled_from(kinds))
    sep = draw(st.sampled_from(["T", " "]))
    if kind == "offset":
        off = draw(st.sampled_from(OFFSETS))
        sign = -1 if off.startswith("-") else 1
        hours, minutes = (0, 0) if off == "Z" else (int(off[1:3]), int(off[-2:]))
        local = at.astimezone(timezone(sign * timedelta(hours=hours, minutes=minutes)))
        return local.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + off
    local = at.astimezone(ZoneInfo(tz))
    if kind == "naive":
        return local.strftime(f"%Y-%m-%d{sep}%H:%M" + draw(st.sampled_from(["", ":%S"])))
    return local.strftime("%Y-%m-%d")


@dataclass
class Crm:
    """One generated source: its rows, its file format, whether a mapping excludes rows."""

    tz: str
    leads: list[dict[str, Any]]
    activities: list[dict[str, Any]] | None
    fmt: str
    mapping: bool = False


@st.composite
def valid_leads(draw: Any, tz: str) -> list[dict[str, Any]]:
    ids = draw(
        st.lists(
            # an id that is a missing-value token ("-", "NA", "null") is read as missing
            # and reported as an error, as it should be: no valid CRM has one
            st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True).filter(
                lambda s: s.strip().lower() not in DEFAULT_NULLS
            ),
            min_size=1,
            max_size=10,
            unique=True,
        )
    )
    rows = []
    for lead_id in ids:
        status = draw(st.sampled_from(sorted(STATUSES)))
        created = draw(instants(hi=AS_OF - timedelta(days=200)))
        short = draw(st.booleans())  # closed within a day: then no date-only values
        lag = draw(st.integers(0, 86_400) if short else st.integers(2 * 86_400, 180 * 86_400))
        closed = created + timedelta(seconds=lag) if status != "open" else None
        revenue = None
        if status == "won" and draw(st.booleans()):
            amount = draw(st.floats(0, 1e7, allow_nan=False).map(lambda x: round(x, 2)))
            revenue = draw(st.sampled_from([f"{amount}", f"{amount:,.2f}", f"{amount:.2f}"]))
        mql = created + timedelta(seconds=draw(st.integers(0, 86_400)))
        rows.append(
            {
                "_created": created,
                "lead_id": lead_id,
                "created_at": draw(rendered(created, tz, date_ok=not short)),
                "segment": draw(st.one_of(st.none(), st.sampled_from(["smb", "enterprise"]))),
                "campaign": draw(st.one_of(st.none(), TEXT)),
                "source": draw(st.one_of(st.none(), st.sampled_from(["marketing", "sales"]))),
                "owner": draw(st.one_of(st.none(), TEXT)),
                "status": draw(st.sampled_from(STATUSES[status])),
                "closed_at": None
                if closed is None
                else draw(rendered(closed, tz, date_ok=not short)),
                "revenue": revenue,
                "mql_at": draw(st.one_of(st.none(), rendered(mql, tz, date_ok=False))),
            }
        )
    return rows


@st.composite
def activity(draw: Any, lead_id: str, tz: str, at: datetime) -> dict[str, Any]:
    return {
        "activity_id": draw(st.one_of(st.none(), st.from_regex(r"A[0-9]{1,6}", fullmatch=True))),
        "lead_id": lead_id,
        "at": draw(rendered(at, tz)),
        "kind": draw(st.sampled_from(["call", "email", "meeting", "sms"])),
        "rep": draw(st.one_of(st.none(), TEXT)),
        "outcome": draw(st.one_of(st.none(), st.sampled_from(["connected", "no_answer"]))),
    }


@st.composite
def valid_crms(draw: Any) -> Crm:
    tz = draw(st.sampled_from(ZONES))
    leads = draw(valid_leads(tz))
    acts = None
    if draw(st.booleans()):  # a file of activities, each two days or more after its lead
        acts = []
        for _ in range(draw(st.integers(1, 12))):
            i = draw(st.integers(0, len(leads) - 1))
            at = draw(instants(leads[i]["_created"] + timedelta(days=2)))
            acts.append(draw(activity(leads[i]["lead_id"], tz, at)))
    return Crm(tz, leads, acts, draw(st.sampled_from(["csv", "parquet"])))


@st.composite
def crms_with_exclusions(draw: Any) -> Crm:
    """Valid data plus orphan activities, activities after the as-of date and mapping excludes."""
    crm = draw(valid_crms())
    ids = {r["lead_id"] for r in crm.leads}
    acts = list(crm.activities or [])
    n_orphans = draw(st.integers(0, 4))
    for _ in range(n_orphans):
        # ":" is in no lead id, so this lead is unknown
        orphan = draw(st.from_regex(r"gone:[A-Za-z0-9]{0,4}", fullmatch=True))
        acts.append(draw(activity(orphan, crm.tz, draw(instants()))))
    n_late = draw(st.integers(0, 3))
    for _ in range(n_late):
        late = draw(instants(AS_OF + timedelta(days=2), AS_OF + timedelta(days=900)))
        acts.append(draw(activity(draw(st.sampled_from(sorted(ids))), crm.tz, late)))
    # the mapping excludes test leads and internal notes, by a stated reason
    for row in crm.leads:
        if draw(st.integers(0, 3)) == 0:
            row["segment"] = "test"
    for row in acts:
        if row["lead_id"] in ids and draw(st.integers(0, 4)) == 0:
            row["kind"] = "internal"
    order = draw(st.permutations(range(len(acts))))
    crm.activities = [acts[i] for i in order] or None
    crm.mapping = True
    return crm


MAPPING = """
name = "with-excludes"

[files.leads]
path = ["leads.csv", "leads.parquet"]

[files.activities]
path = ["activities.csv", "activities.parquet"]
required = false

[tables.leads]
from = "leads"
exclude = [{ when = "segment = 'test'", reason = "test lead" }]

[tables.leads.columns]
{leads}

[tables.activities]
from = "activities"
exclude = [{ when = "kind = 'internal'", reason = "internal note" }]

[tables.activities.columns]
{activities}
"""


def write(crm: Crm, folder: Path) -> Path | None:
    """The files of ``crm`` in ``folder``, the settings beside them; the mapping file, if any."""
    (folder / "leadsla.toml").write_text(
        f'time_zone = "{crm.tz}"\nas_of = "{AS_OF.isoformat()}"\n', encoding="utf-8"
    )
    tables = {"leads": crm.leads, "activities": crm.activities}
    for name, rows in tables.items():
        if rows is None:
            continue
        df = pd.DataFrame(
            rows, columns=[c for c in TABLES[name].names if c != "attempts"], dtype=object
        )
        if crm.fmt == "csv":
            df.to_csv(folder / f"{name}.csv", index=False)
        else:
            df.astype("string").to_parquet(folder / f"{name}.parquet", index=False)
    if not crm.mapping:
        return None
    cols = {
        t: "\n".join(f'{c} = "{c}"' for c in TABLES[t].names if c != "attempts") for t in tables
    }
    path = folder / "mapping.toml"
    path.write_text(
        MAPPING.replace("{leads}", cols["leads"]).replace("{activities}", cols["activities"]),
        encoding="utf-8",
    )
    return path


def check_accounting(ws: leadsla.Workspace, crm: Crm) -> None:
    """read = used + Σ excluded for every table; used = the canonical table's rows."""
    files = {"leads": crm.leads, "activities": crm.activities}
    assert set(ws.accounting) == {t for t, rows in files.items() if rows}
    for table, acc in ws.accounting.items():
        rows = files[table]
        assert rows is not None
        assert acc.read == len(rows)
        assert acc.read == acc.used + sum(acc.excluded.values()), acc
        assert all(n > 0 for n in acc.excluded.values()), acc
        assert ws.tables[table].count().execute() == acc.used, acc


@PROPS
@given(crm=valid_crms())
def test_valid_data_validates_clean(crm: Crm) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write(crm, folder)
        with leadsla.connect(folder, strict=False) as ws:
            assert not ws.issues.errors, [str(i) for i in ws.issues.errors]
            # only a won lead without revenue, or a close a few hours "before" creation
            # (a date-only or DST-ambiguous wall-clock time), may warn
            assert {i.code for i in ws.issues.warnings} <= {
                "won-without-revenue",
                "closed-before-created-slight",
            }
            check_accounting(ws, crm)
            assert all(not acc.excluded for acc in ws.accounting.values())
            got = ws.leads.lead_id.execute()
            assert sorted(got) == sorted(r["lead_id"] for r in crm.leads)


@PROPS
@given(crm=crms_with_exclusions())
def test_row_accounting_adds_up(crm: Crm) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mapping = write(crm, folder)
        with leadsla.connect(folder, mapping=mapping, strict=False) as ws:
            assert not ws.issues.errors, [str(i) for i in ws.issues.errors]
            check_accounting(ws, crm)
            leads = {r["lead_id"] for r in crm.leads}
            kept = {r["lead_id"] for r in crm.leads if r["segment"] != "test"}
            assert set(ws.leads.lead_id.execute()) == kept
            if crm.activities:
                acts = ws.accounting["activities"].excluded
                n_orphans = sum(r["lead_id"] not in leads for r in crm.activities)
                assert acts.get("activity for an unknown lead", 0) == n_orphans
                n_internal = sum(r["kind"] == "internal" for r in crm.activities)
                assert acts.get("internal note", 0) == n_internal
                n_of_excluded = sum(
                    r["lead_id"] in leads - kept and r["kind"] != "internal" for r in crm.activities
                )
                assert acts.get("activity for an excluded lead", 0) == n_of_excluded
