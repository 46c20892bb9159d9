"""The service's database: tables (SQLAlchemy Core), engine, migrations (Alembic).

The canonical tables ``leads`` and ``activities`` carry SPEC.md's canonical columns, so the
database is itself a leadsla source (``leadsla check sqlite:///leadsla.db --policy …``).
The service's own tables:

- ``events``: every acknowledged event, once (``id`` primary key), with its payload;
- ``policies``: the versions of the SLA policy (``sla.toml`` text, ``effective_from``);
- ``lead_sla``: each lead's clocks (start, first-response deadline, attempts window end and
  count owed, first attempt, attempts in the window, closing) under the policy version in
  force when its clock started, and the status last announced per clock;
- ``timers``: the transitions still to fire (warnings, breach) and when;
- ``transitions``: every transition fired — lead, ``clock`` (``first_response`` /
  ``attempts``), ``transition`` (``warning_50``… / ``breached`` / ``met``), ``from_status``
  → ``to_status``, ``due_at``, ``scheduled_at`` (when it was due to fire), ``fired_at``,
  ``late_seconds``, ``policy_version``; unique on (lead, clock, transition): a transition
  fires exactly once, even after a crash and restart;
- ``tokens``: API tokens, stored as SHA-256 hashes, with scopes and revocation time.

SQLite: WAL journal with ``synchronous = FULL`` (a COMMIT returns after the WAL is fsynced,
so an acknowledged event survives a power cut, not only a crash of the process), foreign
keys on, a busy timeout. PostgreSQL: ``postgresql+psycopg`` (``postgres://`` and
``postgresql://`` accepted). Times are stored in UTC (naive UTC text on SQLite, ``timestamptz``
on PostgreSQL) and always come back as aware UTC datetimes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.types import TypeDecorator

from leadsla.errors import ConfigError

__all__ = [
    "MIGRATIONS",
    "UTCDateTime",
    "activities",
    "engine_for",
    "events",
    "lead_sla",
    "leads",
    "metadata",
    "migrate",
    "normalize_url",
    "policies",
    "timers",
    "tokens",
    "transitions",
]

MIGRATIONS = Path(__file__).parent / "migrations"


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: stored in UTC, returned as an aware UTC ``datetime``.

    Naive values are refused (every time reaching the store has been read with its zone).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} reached the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

leads = Table(
    "leads",
    metadata,
    Column("lead_id", String(200), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("segment", String(200)),
    Column("campaign", String(200)),
    Column("source", String(200)),
    Column("owner", String(200)),
    Column("status", String(10), nullable=False),
    Column("closed_at", UTCDateTime),
    Column("revenue", Float),
    Column("mql_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
)

activities = Table(
    "activities",
    metadata,
    Column("row_id", Integer, primary_key=True, autoincrement=True),
    Column("activity_id", String(200), unique=True),
    Column("lead_id", String(200), ForeignKey("leads.lead_id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(50), nullable=False),
    Column("rep", String(200)),
    Column("outcome", String(100)),
    Column("event_id", String(200), nullable=False),
    Index("ix_activities_lead_at", "lead_id", "at"),
)

events = Table(
    "events",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("type", String(30), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("origin", String(20), nullable=False),
    Column("payload", Text, nullable=False),
)

policies = Table(
    "policies",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("toml", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("effective_from", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

lead_sla = Table(
    "lead_sla",
    metadata,
    Column("lead_id", String(200), ForeignKey("leads.lead_id"), primary_key=True),
    Column("policy_version", Integer, ForeignKey("policies.version"), nullable=False),
    Column("calendar_version", Integer, ForeignKey("policies.version"), nullable=False),
    Column("start_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("window_end", UTCDateTime, nullable=False),
    Column("required", Integer, nullable=False),
    Column("first_attempt_at", UTCDateTime),
    Column("attempts_in_window", Integer, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("first_response", String(10), nullable=False),
    Column("attempts", String(10), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

timers = Table(
    "timers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", String(200), ForeignKey("leads.lead_id"), nullable=False),
    Column("clock", String(20), nullable=False),
    Column("transition", String(20), nullable=False),
    Column("to_status", String(10), nullable=False),
    Column("fire_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("policy_version", Integer, nullable=False),
    UniqueConstraint("lead_id", "clock", "transition", name="uq_timers_lead_clock_transition"),
    Index("ix_timers_fire_at", "fire_at"),
)

transitions = Table(
    "transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lead_id", String(200), ForeignKey("leads.lead_id"), nullable=False),
    Column("clock", String(20), nullable=False),
    Column("transition", String(20), nullable=False),
    Column("from_status", String(10), nullable=False),
    Column("to_status", String(10), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("scheduled_at", UTCDateTime, nullable=False),
    Column("fired_at", UTCDateTime, nullable=False),
    Column("late_seconds", Float, nullable=False),
    Column("policy_version", Integer, nullable=False),
    UniqueConstraint("lead_id", "clock", "transition", name="uq_transitions_lead_clock_transition"),
    Index("ix_transitions_fired_at", "fired_at"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("scopes", String(100), nullable=False),
    Column("note", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)


def normalize_url(url: str, /) -> str:
    """A database URL as SQLAlchemy takes it: ``postgres://`` → ``postgresql+psycopg://``.

    ``sqlite:///leadsla.db`` (relative to the working folder) and ``sqlite:////abs/x.db``
    pass unchanged; a bare path ending in ``.db``/``.sqlite`` becomes a ``sqlite:///`` URL.
    """
    if "://" not in url:
        if url.endswith((".db", ".sqlite", ".sqlite3")):
            return f"sqlite:///{url}"
        raise ConfigError(
            f'database "{url}" is not a URL. Give sqlite:///leadsla.db (a file) or '
            "postgresql://user@host:5432/dbname."
        )
    scheme, rest = url.split("://", 1)
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    if scheme in ("postgresql+psycopg", "sqlite"):
        return url
    raise ConfigError(
        f'database URL scheme "{scheme}" is not supported by the service. Use sqlite:///FILE '
        "or postgresql://user@host:port/dbname."
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def engine_for(url: str, /) -> Engine:
    """An engine on ``url`` (normalised); SQLite files get WAL, FULL sync and foreign keys."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ConfigError(
                "the service needs a database file: give sqlite:///leadsla.db, not an "
                "in-memory database (acknowledged events must survive a restart)."
            )
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(eng, "connect", _sqlite_pragmas)
        return eng
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def migrate(engine: Engine, /) -> None:
    """Bring the database to the newest schema (Alembic ``upgrade head``; creates it)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedup_key", String(300), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("lead_id", String(200)),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Column("dead_at", UTCDateTime),
    Column("last_error", Text),
    UniqueConstraint("dedup_key", name="uq_outbox_dedup_key"),
    Index("ix_outbox_next_attempt_at", "next_attempt_at"),
    Index("ix_outbox_lead_id", "lead_id"),
)

service_state = Table(
    "service_state",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)
