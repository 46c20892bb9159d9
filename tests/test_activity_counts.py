"""The activity checks counted in one query (``io.source._activity_counts``): unknown leads,
excluded leads, activities after the as-of and before their lead's creation, on a CRM whose
every row is one of those cases, in CSV (copied stages) and Parquet (stages as views); and
the data's last event, which only activities of kept leads may set.

The expected issues and accounting are counted by hand; the same file ran through the
separate queries the fused one replaced gives the same (checked when it was written).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import leadsla

AS_OF = "2026-06-30T16:00:00+00:00"
LEADS = [
    ("L1", "2026-01-10T00:00:00Z", "smb"),
    ("L2", "2026-07-05T00:00:00Z", "smb"),  # created after the as-of
    ("L3", "2026-01-10T00:00:00Z", "test"),  # excluded by the mapping
    ("L5", "2026-02-01T00:00:00Z", "smb"),
]
# rows 2 onwards in the CSV file (the header is row 1), 1 onwards in the Parquet file
ACTIVITIES = [
    ("A1", "L1", "2026-01-05T00:00:00Z"),  # 2: before L1's creation
    ("A2", "L1", "2026-02-01T00:00:00Z"),  # 3: fine
    ("A3", "L1", "2026-07-10T00:00:00Z"),  # 4: after the as-of
    ("A4", "L2", "2026-07-01T00:00:00Z"),  # 5: after the as-of (and before L2: left out first)
    ("A5", "L2", "2026-06-01T00:00:00Z"),  # 6: before L2's creation
    ("A6", "L9", "2026-03-01T00:00:00Z"),  # 7: unknown lead
    ("A7", "L3", "2026-03-01T00:00:00Z"),  # 8: excluded lead
    ("A8", "L3", "2026-08-01T00:00:00Z"),  # 9: excluded lead (not "after the as-of")
    ("A9", "L9", "2026-09-01T00:00:00Z"),  # 10: unknown lead (not "after the as-of")
    ("A10", "L5", "2026-01-20T00:00:00Z"),  # 11: before L5's creation
    ("A11", None, "2026-03-01T00:00:00Z"),  # 12: no lead id (an error, not an orphan)
]
MAPPING = """
name = "test-excluded"

[files.leads]
path = ["leads.csv", "leads.parquet"]

[files.activities]
path = ["activities.csv", "activities.parquet"]

[tables.leads]
from = "leads"
exclude = [{ when = "segment = 'test'", reason = "test lead" }]

[tables.leads.columns]
lead_id = "lead_id"
created_at = "created_at"
segment = "segment"
status = "status"

[tables.activities]
from = "activities"

[tables.activities.columns]
activity_id = "activity_id"
lead_id = "lead_id"
at = "at"
kind = "kind"
"""


def write(
    folder: Path,
    fmt: str,
    leads: list[tuple[str, str, str]],
    activities: list[tuple[str, str | None, str]] = ACTIVITIES,
) -> Path:
    folder.mkdir(exist_ok=True)
    frames = {
        "leads": pd.DataFrame(
            [(i, c, s, "open") for i, c, s in leads],
            columns=["lead_id", "created_at", "segment", "status"],
        ),
        "activities": pd.DataFrame(
            [(a, lead, at, "call") for a, lead, at in activities],
            columns=["activity_id", "lead_id", "at", "kind"],
        ),
    }
    for name, df in frames.items():
        if fmt == "csv":
            df.to_csv(folder / f"{name}.csv", index=False)
        else:
            df.astype("string").to_parquet(folder / f"{name}.parquet", index=False)
    (folder / "leadsla.toml").write_text(f'as_of = "{AS_OF}"\n', encoding="utf-8")
    mapping = folder / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return mapping


def activity_issues(ws: leadsla.Workspace, fmt: str) -> dict[str, tuple[Any, ...]]:
    """Each activity issue's count, rows (numbered as in the CSV file) and value."""
    shift = 1 if fmt == "parquet" else 0
    return {
        i.code: (i.count, tuple(r + shift for r in i.rows), i.value)
        for i in ws.issues
        if i.file and i.file.startswith("activities")
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_case_counted_once(tmp_path: Path, fmt: str) -> None:
    mapping = write(tmp_path / "crm", fmt, LEADS)
    with leadsla.connect(tmp_path / "crm", mapping=mapping, strict=False, cache=False) as ws:
        assert activity_issues(ws, fmt) == {
            "missing-value": (1, (12,), None),
            "orphan-activity": (2, (7, 10), "L9"),
            "activity-after-as-of": (2, (4, 5), "2026-07-10T00:00:00Z"),
            # A4 (row 5) is before L2's creation too, but left out as after the as-of
            "activity-before-created": (3, (2, 6, 11), "2026-01-05T00:00:00Z"),
        }
        acc = ws.accounting["activities"]
        assert (acc.read, acc.used) == (11, 5)
        assert acc.excluded == {
            "activity for an unknown lead": 2,
            "activity after the as-of date": 2,
            "activity for an excluded lead": 2,
        }
        assert sorted(ws.activities.activity_id.to_pyarrow().to_pylist()) == sorted(
            ["A1", "A2", "A5", "A10", "A11"]
        )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_duplicated_lead_counts_its_activities_once_per_lead_row(
    tmp_path: Path, fmt: str
) -> None:
    """L5 twice (created 1 and 25 January 2026): A10 (20 January) is before both rows."""
    leads = [*LEADS, ("L5", "2026-01-25T00:00:00Z", "smb")]
    mapping = write(tmp_path / "crm", fmt, leads)
    with leadsla.connect(tmp_path / "crm", mapping=mapping, strict=False, cache=False) as ws:
        got = activity_issues(ws, fmt)
        assert got["activity-before-created"] == (4, (2, 6, 11, 11), "2026-01-05T00:00:00Z")
        assert got["orphan-activity"] == (2, (7, 10), "L9")
        assert ws.accounting["activities"].used == 5


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize(
    ("extra", "last"),
    [
        # the latest activities are of an unknown (1 Sep) and an excluded lead (1 Aug): the
        # last event is L1's activity of 10 July
        ((), datetime(2026, 7, 10, tzinfo=UTC)),
        # one of the activities at the latest time is of a kept lead
        ((("A12", "L1", "2026-09-01T00:00:00Z"),), datetime(2026, 9, 1, tzinfo=UTC)),
    ],
)
def test_the_last_event_is_of_a_kept_lead(
    tmp_path: Path, fmt: str, extra: tuple[tuple[str, str, str], ...], last: datetime
) -> None:
    mapping = write(tmp_path / "crm", fmt, LEADS, [*ACTIVITIES, *extra])
    (tmp_path / "crm" / "leadsla.toml").write_text('time_zone = "UTC"\n', encoding="utf-8")
    with leadsla.connect(tmp_path / "crm", mapping=mapping, strict=False, cache=False) as ws:
        assert ws.as_of_basis == "data"
        assert (ws.last_event, ws.as_of) == (last, last)
