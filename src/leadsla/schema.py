"""The canonical CRM tables of SPEC.md: names, types and which columns are required."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["string", "timestamp", "float", "integer"]

STATUSES = ("open", "won", "lost")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    note: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    required: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


LEADS = TableSpec(
    "leads",
    (
        Column("lead_id", "string", True, "unique, non-empty"),
        Column("created_at", "timestamp", True, "ISO 8601"),
        Column("segment", "string", note="missing -> all"),
        Column("campaign", "string"),
        Column("source", "string"),
        Column("owner", "string"),
        Column("status", "string", True, "open / won / lost"),
        Column("closed_at", "timestamp", note="required for won/lost"),
        Column("revenue", "float", note=">= 0, for won leads"),
        Column("mql_at", "timestamp", note="missing -> created_at"),
        Column("attempts", "integer", note="contact count, for exports without activity rows"),
    ),
    required=True,
)

ACTIVITIES = TableSpec(
    "activities",
    (
        Column("activity_id", "string"),
        Column("lead_id", "string", True),
        Column("at", "timestamp", True),
        Column("kind", "string", True),
        Column("rep", "string"),
        Column("outcome", "string"),
    ),
)

CAMPAIGNS = TableSpec(
    "campaigns",
    (Column("campaign", "string", True), Column("type", "string"), Column("cost", "float")),
)

TOUCHES = TableSpec(
    "touches",
    (
        Column("lead_id", "string", True),
        Column("at", "timestamp", True),
        Column("channel", "string"),
        Column("team", "string", True),
        Column("campaign", "string"),
    ),
)

TABLES: dict[str, TableSpec] = {t.name: t for t in (LEADS, ACTIVITIES, CAMPAIGNS, TOUCHES)}
