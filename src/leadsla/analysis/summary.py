"""The data summary: rows, date range, leads by segment and status, activities by kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis.expr.types as ir
import pandas as pd


@dataclass(frozen=True)
class Summary:
    """What a source holds, aggregated in the engine."""

    leads: int
    activities: int | None
    first_created: Any
    last_created: Any
    by_segment_status: list[dict[str, Any]] = field(default_factory=list)
    by_kind: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "leads": self.leads,
            "activities": self.activities,
            "created_from": self.first_created,
            "created_to": self.last_created,
            "leads_by_segment_status": self.by_segment_status,
            "activities_by_kind": self.by_kind,
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.by_segment_status)


def summarize(leads: ir.Table, activities: ir.Table | None = None, /) -> Summary:
    """Counts by segment × status and activity kind; the span of creation dates."""
    span = leads.aggregate(
        n=leads.count(), lo=leads.created_at.min(), hi=leads.created_at.max()
    ).execute()
    pivot = (
        leads.group_by("segment")
        .aggregate(
            leads=leads.count(),
            open=(leads.status == "open").sum(),
            won=(leads.status == "won").sum(),
            lost=(leads.status == "lost").sum(),
        )
        .order_by("segment")
        .execute()
    )
    by_kind: list[dict[str, Any]] = []
    n_act = None
    if activities is not None:
        kinds = (
            activities.group_by("kind").aggregate(n=activities.count()).order_by("kind").execute()
        )
        by_kind = [
            {"kind": k, "activities": int(n)}
            for k, n in zip(kinds["kind"], kinds["n"], strict=True)
        ]
        n_act = sum(r["activities"] for r in by_kind)
    rows = [
        {
            "segment": r.segment,
            "leads": int(r.leads),
            "open": int(r.open),
            "won": int(r.won),
            "lost": int(r.lost),
        }
        for r in pivot.itertuples()
    ]
    return Summary(
        int(span["n"].iloc[0]), n_act, span["lo"].iloc[0], span["hi"].iloc[0], rows, by_kind
    )
