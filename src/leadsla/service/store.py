"""The store: every write and read of the service, one transaction per call.

``Store(url)`` opens (and migrates) the database; :meth:`Store.ingest` stores a batch of
events — idempotent by event id, all in one transaction, so a 202 means every accepted event
is committed — and brings the clocks of the leads it touched up to date;
:meth:`Store.fire_due` fires the transitions whose time has come (the scheduler calls it; its
rounds ride in the writer's next group commit, so firing costs no transaction of its own).

Clocks (``lead_sla``) are a function of the stored facts: each lead's deadlines come from
:func:`leadsla.sla.clocks.lead_deadlines` under the policy version in force when its
clock started (``mql_at``, else ``created_at``), with the newest calendar for clocks still
running; its first attempt and attempts in the window are recomputed from its activities on
every event that touches it, so the state never drifts from the data (a clean replay gives
the same rows). Writes are serialised by one lock (SQLite has a single writer anyway);
batches posted at the same time share one transaction (group commit, see :meth:`Store.ingest`).
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, Engine, Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from leadsla.analysis.attempts import CONTACT_OUTCOMES
from leadsla.clock import BusinessCalendar, business_day_seconds
from leadsla.errors import ConfigError
from leadsla.service import db
from leadsla.service.events import Event, EventError, parse_event
from leadsla.sla.clocks import (
    BREACHED,
    MET,
    NAT,
    PENDING,
    lead_deadlines,
    minimum_rules,
    minimum_status,
    rule_status,
    warning_instants,
)
from leadsla.sla.policy import Policy

__all__ = ["CLOCKS", "IngestResult", "PolicyVersion", "Store", "WARN_AT"]

CLOCKS = ("first_response", "attempts")
WARN_AT = (0.5, 0.75, 0.9)
_CHUNK = 500
_GROUP_EVENTS = 20_000  # events at most in one group commit
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
I64 = NDArray[np.int64]


def _ns(t: datetime | None) -> int:
    if t is None:
        return int(NAT)
    d = t - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000_000 + d.microseconds * 1000


def _dt(ns: int) -> datetime | None:
    if ns == NAT:
        return None
    return _EPOCH + timedelta(microseconds=ns // 1000)


def _chunks(items: Sequence[Any], n: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


@dataclass(frozen=True)
class PolicyVersion:
    """One version of the SLA policy: the text posted, the checked policy, its calendar."""

    version: int
    name: str
    toml: str
    sha256: str
    effective_from: datetime
    created_at: datetime
    policy: Policy
    calendar: BusinessCalendar

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "name": self.name,
            "sha256": self.sha256,
            "effective_from": self.effective_from.isoformat(),
            "created_at": self.created_at.isoformat(),
            "time_zone": self.calendar.time_zone,
            "first_response_hours": float(self.policy.sales.first_response_hours),
            "toml": self.toml,
        }


@dataclass
class IngestResult:
    """What ``POST /v1/events`` answers: accepted, duplicates, rejected (index, id, error)."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


@dataclass
class _Job:
    """One ``ingest`` call on its way through the writer: its events, result and signal."""

    origin: str
    now: datetime
    parsed: list[tuple[int, Event]] = field(default_factory=list)
    result: IngestResult = field(default_factory=IngestResult)
    n_rejected: int = 0
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    fire_limit: int = 0  # > 0: a scheduler round (fire at most this many due transitions)
    fired: int = 0


def parse_policy(text: str, /, *, where: str = "policy") -> Policy:
    """An ``sla.toml`` text checked (every problem listed in one ConfigError)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"{where}: not valid TOML ({e}). Fix the syntax at that place; strings need double "
            'quotes, e.g. name = "SLA 2027".'
        ) from None
    return Policy.from_dict(data, file=where)


class Store:
    """The service's database (see :mod:`leadsla.service.db` for the tables)."""

    def __init__(self, url: str, /, *, warn_at: Sequence[float] = WARN_AT) -> None:
        self.url = db.normalize_url(url)
        self.engine: Engine = db.engine_for(self.url)
        self.warn_at = tuple(sorted(float(w) for w in warn_at))
        if any(not 0 < w < 1 for w in self.warn_at):
            raise ConfigError(
                f"warning thresholds {list(warn_at)} must lie strictly between 0 and 1 "
                "(shares of the clock's time), e.g. 0.5,0.75,0.9."
            )
        self.lock = threading.RLock()
        self.policies: list[PolicyVersion] = []
        self.counters: dict[str, int] = defaultdict(int)
        self.late: list[float] = []
        self._statements: dict[str, Any] = {}
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._writer_guard = threading.Lock()
        self._writer_stopped = False

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> Store:
        self._writer_stopped = False
        db.migrate(self.engine)
        self._load_policies()
        return self

    def close(self) -> None:
        with self._writer_guard:
            self._writer_stopped = True
            writer, self._writer = self._writer, None
        if writer is not None:
            self._queue.put(None)
            writer.join()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _insert(self, table: Table) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def _upsert(self, table: Table, key: str) -> Any:
        """INSERT … ON CONFLICT (key) DO UPDATE every other column (built once per table)."""
        name = f"upsert:{table.name}"
        if name not in self._statements:
            ins = self._insert(table)
            cols = [c.name for c in table.c if c.name not in (key, "row_id")]
            self._statements[name] = ins.on_conflict_do_update(
                index_elements=[key], set_={c: ins.excluded[c] for c in cols}
            )
        return self._statements[name]

    def _insert_new(self, table: Table) -> Any:
        """INSERT … ON CONFLICT DO NOTHING (built once per table)."""
        name = f"insert_new:{table.name}"
        if name not in self._statements:
            self._statements[name] = self._insert(table).on_conflict_do_nothing()
        return self._statements[name]

    # ------------------------------------------------------------------ policies

    def _load_policies(self) -> None:
        with self.engine.connect() as conn:
            rows = conn.execute(select(db.policies).order_by(db.policies.c.version)).all()
        self.policies = [self._version(r._mapping) for r in rows]

    def _version(self, r: Any) -> PolicyVersion:
        policy = parse_policy(r["toml"], where=f"policy version {r['version']}")
        return PolicyVersion(
            r["version"],
            r["name"],
            r["toml"],
            r["sha256"],
            r["effective_from"],
            r["created_at"],
            policy,
            policy.business_calendar(),
        )

    def policy(self, version: int) -> PolicyVersion:
        return next(p for p in self.policies if p.version == version)

    @property
    def current(self) -> PolicyVersion | None:
        return self.policies[-1] if self.policies else None

    def in_force(self, start: datetime) -> PolicyVersion:
        """The version in force at ``start`` (the newest effective by then, else the first)."""
        chosen = self.policies[0]
        for p in self.policies:
            if p.effective_from <= start:
                chosen = p
        return chosen

    def add_policy(
        self, text: str, /, *, effective_from: datetime | None = None, now: datetime | None = None
    ) -> tuple[PolicyVersion, bool]:
        """Store a new policy version (unless it is the current text); returns (version, new).

        ``effective_from`` defaults to now; the first version is in force since ever. When
        the calendar changes, the deadlines of running clocks are recomputed on it.
        """
        policy = parse_policy(text, where="posted policy")
        digest = hashlib.sha256(text.encode()).hexdigest()
        now = now or datetime.now(UTC)
        with self.lock, self.engine.begin() as conn:
            last = self.policies[-1] if self.policies else None
            if last is not None and last.sha256 == digest:
                return last, False
            version = 1 if last is None else last.version + 1
            eff = effective_from or (_EPOCH if last is None else now)
            row = {
                "version": version,
                "name": policy.name,
                "toml": text,
                "sha256": digest,
                "effective_from": eff,
                "created_at": now,
            }
            conn.execute(db.policies.insert().values(**row))
            pv = self._version(row)
            self.policies.append(pv)
            try:
                if last is None:
                    ids = [r[0] for r in conn.execute(select(db.leads.c.lead_id))]
                    self._recompute(conn, ids, now)
                elif pv.calendar != last.calendar:
                    self._recalendar(conn, pv, now)
            except BaseException:
                self.policies.pop()
                raise
        return pv, True

    def _recalendar(self, conn: Connection, pv: PolicyVersion, now: datetime) -> None:
        """Clocks still running move to the new calendar, their deadlines recomputed."""
        running = (db.lead_sla.c.first_response.in_(("pending", "warning"))) | (
            db.lead_sla.c.attempts.in_(("pending", "warning"))
        )
        ids = [r[0] for r in conn.execute(select(db.lead_sla.c.lead_id).where(running))]
        for part in _chunks(ids):
            conn.execute(
                update(db.lead_sla)
                .where(db.lead_sla.c.lead_id.in_(part))
                .values(calendar_version=pv.version)
            )
        self._recompute(conn, ids, now, force_timers=True)

    # ------------------------------------------------------------------ tokens

    def add_token(
        self, token_id: str, digest: str, scopes: Sequence[str], note: str | None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                db.tokens.insert().values(
                    id=token_id,
                    sha256=digest,
                    scopes=",".join(scopes),
                    note=note,
                    created_at=datetime.now(UTC),
                )
            )

    def token(self, token_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(db.tokens).where(db.tokens.c.id == token_id)).first()
        return None if row is None else dict(row._mapping)

    def revoke_token(self, token_id: str) -> bool:
        with self.engine.begin() as conn:
            res = conn.execute(
                update(db.tokens)
                .where(db.tokens.c.id == token_id, db.tokens.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        return bool(res.rowcount)

    # ------------------------------------------------------------------ ingestion

    def ingest(
        self, items: Sequence[Any], /, *, origin: str = "api", now: datetime | None = None
    ) -> IngestResult:
        """Store a batch of raw events (dicts, or EventErrors standing for unreadable lines).

        In order, in one transaction: a known id is a duplicate (not applied again); a lead
        event upserts the lead; ``activity.logged`` needs its lead (stored, or created earlier
        in the batch) and is rejected otherwise. Returns after COMMIT.

        Group commit: without ``now``, the batch is handed to the store's writer thread,
        which takes every batch waiting into one transaction (one COMMIT, one fsync) —
        applied in arrival order, exactly as if they had come one after another — and
        answers each once that transaction has committed. With ``now`` (replays, tests) the
        batch is written alone in the calling thread.
        """
        job = _Job(origin=origin, now=now or datetime.now(UTC))
        for i, raw in enumerate(items):
            try:
                if isinstance(raw, EventError):
                    raise raw
                job.parsed.append((i, parse_event(raw)))
            except EventError as e:
                eid = raw.get("id") if isinstance(raw, dict) else None
                job.result.rejected.append(
                    {
                        "index": i,
                        "id": eid if isinstance(eid, str | int) else None,
                        "error": e.to_dict(),
                    }
                )
        if now is not None or self._writer_stopped:
            self._write([job])
        else:
            self._submit(job)
        if job.error is not None:
            raise job.error
        result = job.result
        self.counters["events_accepted"] += result.accepted
        self.counters["events_duplicate"] += result.duplicates
        self.counters["events_rejected"] += len(result.rejected)
        result.rejected.sort(key=lambda r: r["index"])
        return result

    def _submit(self, job: _Job) -> None:
        """Queue ``job`` for the writer thread (started on first use) and wait for its commit."""
        with self._writer_guard:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(
                    target=self._write_loop, name="leadsla-writer", daemon=True
                )
                self._writer.start()
            self._queue.put(job)
        job.done.wait()

    def _write_loop(self) -> None:
        """The writer thread: every batch waiting goes into one transaction (group commit)."""
        while True:
            job = self._queue.get()
            if job is None:
                return
            jobs = [job]
            size = len(job.parsed)
            while size < _GROUP_EVENTS:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)  # stop after this group
                    break
                jobs.append(nxt)
                size += len(nxt.parsed)
            try:
                self._write(jobs)
            except BaseException as exc:  # never leave a caller waiting
                for j in jobs:
                    if not j.done.is_set():
                        j.error = exc
                        j.done.set()

    def _write(self, jobs: list[_Job]) -> None:
        """Write ``jobs`` in one transaction; when that fails, each alone (its own error)."""
        try:
            self._apply(jobs)
        except Exception as exc:
            if len(jobs) == 1:
                jobs[0].error = exc
            else:
                for j in jobs:
                    j.result = IngestResult(rejected=list(j.result.rejected[: j.n_rejected]))
                    self._write([j])
        for j in jobs:
            j.done.set()

    def _apply(self, jobs: list[_Job]) -> None:
        """Apply the jobs' events in order in one transaction (returns after COMMIT)."""
        for j in jobs:
            j.n_rejected = len(j.result.rejected)
        all_parsed = [ev for j in jobs for _, ev in j.parsed]
        now = max(j.now for j in jobs)
        with self.lock, self.engine.begin() as conn:
            ids = list({ev.id for ev in all_parsed})
            known: set[str] = set()
            for part in _chunks(ids):
                known.update(
                    r[0]
                    for r in conn.execute(select(db.events.c.id).where(db.events.c.id.in_(part)))
                )
            lead_ids = list({ev.lead_id for ev in all_parsed})
            stored: dict[str, dict[str, Any]] = {}
            for part in _chunks(lead_ids):
                for r in conn.execute(select(db.leads).where(db.leads.c.lead_id.in_(part))):
                    stored[r.lead_id] = dict(r._mapping)
            seen: set[str] = set()
            changed: dict[str, dict[str, Any]] = {}
            acts: dict[Any, dict[str, Any]] = {}
            ev_rows: list[dict[str, Any]] = []
            dirty: set[str] = set()
            for job in jobs:
                result = job.result
                for i, ev in job.parsed:
                    if ev.id in known or ev.id in seen:
                        result.duplicates += 1
                        continue
                    try:
                        if ev.type == "activity.logged":
                            if ev.lead_id not in stored:
                                raise EventError(
                                    "unknown_lead",
                                    f'activity for lead "{ev.lead_id}", which the service '
                                    "does not know.",
                                    "Send the lead's lead.created event first (or in the same "
                                    "batch, before the activity).",
                                    "activity.lead_id",
                                    ev.lead_id,
                                )
                            row = dict(ev.fields, event_id=ev.id)
                            key = row["activity_id"] if row["activity_id"] else ("#", ev.id)
                            acts[key] = row
                        else:
                            lead = _merge(stored.get(ev.lead_id), ev, job.now)
                            stored[ev.lead_id] = changed[ev.lead_id] = lead
                    except EventError as e:
                        result.rejected.append({"index": i, "id": ev.id, "error": e.to_dict()})
                        continue
                    seen.add(ev.id)
                    dirty.add(ev.lead_id)
                    ev_rows.append(
                        {
                            "id": ev.id,
                            "type": ev.type,
                            "at": ev.at,
                            "received_at": job.now,
                            "origin": job.origin,
                            "payload": json.dumps(ev.raw, separators=(",", ":"), default=str),
                        }
                    )
                    result.accepted += 1
            if changed:
                conn.execute(self._upsert(db.leads, "lead_id"), list(changed.values()))
            if acts:
                with_id = [a for a in acts.values() if a["activity_id"]]
                without = [a for a in acts.values() if not a["activity_id"]]
                if with_id:
                    conn.execute(self._upsert(db.activities, "activity_id"), with_id)
                if without:
                    conn.execute(db.activities.insert(), without)
            if ev_rows:
                conn.execute(db.events.insert(), ev_rows)
            if dirty and self.policies:
                self._recompute(conn, sorted(dirty), now, unchanged=dirty - set(changed))
            rounds = [j for j in jobs if j.fire_limit]
            fired: list[dict[str, Any]] = []
            if rounds:  # the scheduler's round, after the events (a lead met now won't warn)
                fired = self._fire(conn, datetime.now(UTC), sum(j.fire_limit for j in rounds))
        if all_parsed:
            self.counters["ingest_commits"] += 1
        if rounds:
            self._fired(fired)
            rounds[0].fired = len(fired)

    # ------------------------------------------------------------------ clocks

    def _recompute(
        self,
        conn: Connection,
        lead_ids: Sequence[str],
        now: datetime,
        *,
        force_timers: bool = False,
        unchanged: Set[str] = frozenset(),
    ) -> None:
        """Bring the clocks of ``lead_ids`` up to date with their rows (and timers, transitions).

        ``unchanged``: leads whose row did not change (only activities arrived): their
        deadlines are kept as stored instead of being computed again.
        """
        for part in _chunks(list(lead_ids)):
            self._recompute_part(conn, part, now, force_timers, unchanged)

    def _recompute_part(
        self,
        conn: Connection,
        ids: Sequence[str],
        now: datetime,
        force_timers: bool,
        unchanged: Set[str],
    ) -> None:
        L, S, A = db.leads, db.lead_sla, db.activities
        leads = {r.lead_id: r for r in conn.execute(select(L).where(L.c.lead_id.in_(ids)))}
        old = {r.lead_id: r for r in conn.execute(select(S).where(S.c.lead_id.in_(ids)))}
        acts: dict[str, list[tuple[int, str, bool]]] = defaultdict(list)
        for r in conn.execute(
            select(A.c.lead_id, A.c.at, A.c.kind, A.c.outcome).where(A.c.lead_id.in_(ids))
        ):
            acts[r.lead_id].append((_ns(r.at), r.kind, r.outcome in CONTACT_OUTCOMES))
        # group the leads by (policy, calendar) version: one vectorised deadline call each
        groups: dict[tuple[int, int], list[str]] = defaultdict(list)
        starts: dict[str, datetime] = {}
        for lid in ids:
            lead = leads.get(lid)
            if lead is None:
                continue
            start = lead.mql_at or lead.created_at
            starts[lid] = start
            prev = old.get(lid)
            if prev is not None and prev.start_at == start:
                key = (prev.policy_version, prev.calendar_version)
            else:
                key = (self.in_force(start).version, self.policies[-1].version)
            groups[key].append(lid)
        now_ns = _ns(now)
        sla_rows: list[dict[str, Any]] = []
        new_timers: list[dict[str, Any]] = []
        clear: list[tuple[str, str]] = []
        met_rows: list[dict[str, Any]] = []
        for (pv_n, cv_n), group in groups.items():
            pv, cal = self.policy(pv_n), self.policy(cv_n).calendar
            sales = pv.policy.sales
            kinds = set(sales.attempt_kinds)
            n = len(group)
            start = np.array([_ns(starts[g]) for g in group], dtype=np.int64)
            segs = [leads[g].segment or "all" for g in group]
            due = np.empty(n, np.int64)
            end = np.empty(n, np.int64)
            req = np.empty(n, np.int64)
            todo = []
            for k, g in enumerate(group):
                prev = old.get(g)
                if g in unchanged and not force_timers and prev is not None:
                    due[k], end[k], req[k] = _ns(prev.due_at), _ns(prev.window_end), prev.required
                else:
                    todo.append(k)
            if todo:
                ix = np.array(todo, dtype=np.int64)
                labels = sorted({segs[k] for k in todo})
                codes = np.array([labels.index(segs[k]) for k in todo], dtype=np.int64)
                due[ix], end[ix], req[ix] = lead_deadlines(
                    start[ix], codes, labels, policy=pv.policy, calendar=cal
                )
            first = np.full(n, NAT, dtype=np.int64)
            inwin = np.zeros(n, dtype=np.int64)
            closed = np.full(n, NAT, dtype=np.int64)
            before_close = np.zeros(n, dtype=np.int64)  # as check counts them
            lost_unreached = np.zeros(n, dtype=bool)
            for k, g in enumerate(group):
                lead = leads[g]
                if lead.status in ("won", "lost") and lead.closed_at is not None:
                    closed[k] = _ns(lead.closed_at)
                tried = [
                    (t, c) for t, kind, c in acts.get(g, ()) if kind in kinds and t >= start[k]
                ]
                if tried:
                    first[k] = min(t for t, _ in tried)
                    inwin[k] = sum(1 for t, _ in tried if t <= end[k])
                close_or_now = closed[k] if closed[k] != NAT else now_ns + 1
                before_close[k] = sum(1 for t, _ in tried if t < close_or_now)
                reached = any(c and t <= close_or_now for t, c in tried)
                lost_unreached[k] = closed[k] != NAT and lead.status == "lost" and not reached
            fr, at = rule_status(first, inwin, due, end, req, closed, now_ns)
            # a minimum before closing (check's rule, shared): no deadline, so no timers
            minimum = minimum_rules(pv.policy, np.arange(n, dtype=np.int64), segs)
            if minimum.any():
                at_min = minimum_status(before_close, req, closed, lost_unreached)
                at = np.where(minimum, at_min, at).astype(np.int8)
            timer_for: dict[str, list[int]] = {"first_response": [], "attempts": []}
            for k, g in enumerate(group):
                prev = old.get(g)
                status = {"first_response": "pending", "attempts": "pending"}
                if prev is not None:
                    status = {"first_response": prev.first_response, "attempts": prev.attempts}
                moved = (
                    prev is None
                    or force_timers
                    or prev.start_at != starts[g]
                    or _ns(prev.due_at) != due[k]
                    or _ns(prev.window_end) != end[k]
                )
                for clock, st, deadline, no_deadline in (
                    ("first_response", fr[k], due[k], False),
                    ("attempts", at[k], end[k], bool(minimum[k])),
                ):
                    # a transition decided by this event (not by the clock): fired now
                    to = "met" if st == MET else "breached"
                    if (st == MET and status[clock] != "met") or (
                        # a minimum before closing breaks at a closing, not at a deadline
                        no_deadline and st == BREACHED and status[clock] != "breached"
                    ):
                        met_rows.append(
                            {
                                "lead_id": g,
                                "clock": clock,
                                "transition": to,
                                "from_status": status[clock],
                                "to_status": to,
                                "due_at": _dt(int(deadline)),
                                "scheduled_at": now,
                                "fired_at": now,
                                "late_seconds": 0.0,
                                "policy_version": pv_n,
                            }
                        )
                        status[clock] = to
                        if to == "met":
                            clear.append((g, clock))
                    elif st != MET and status[clock] == "met":
                        # a correction (an activity or a closing withdrawn): the clock runs again
                        status[clock] = "breached" if st == BREACHED else "pending"
                        moved = True
                    elif no_deadline and st == PENDING and status[clock] != "pending":
                        status[clock] = "pending"  # a closing withdrawn
                    if moved and status[clock] != "met":
                        clear.append((g, clock))
                        if status[clock] != "breached" and not no_deadline:
                            timer_for[clock].append(k)
                sla_rows.append(
                    {
                        "lead_id": g,
                        "policy_version": pv_n,
                        "calendar_version": cv_n,
                        "start_at": starts[g],
                        "due_at": _dt(int(due[k])),
                        "window_end": _dt(int(end[k])),
                        "required": int(req[k]),
                        "first_attempt_at": _dt(int(first[k])),
                        "attempts_in_window": int(inwin[k]),
                        "closed_at": _dt(int(closed[k])),
                        "first_response": status["first_response"],
                        "attempts": status["attempts"],
                        "updated_at": now,
                    }
                )
            new_timers += self._timers(group, segs, start, due, end, timer_for, pv, cal, now)
        if sla_rows:
            conn.execute(self._upsert(S, "lead_id"), sla_rows)
        T = db.timers
        by_clock: dict[str, list[str]] = defaultdict(list)
        for g, clock in set(clear):
            by_clock[clock].append(g)
        for clock, gs in by_clock.items():
            conn.execute(delete(T).where(T.c.clock == clock, T.c.lead_id.in_(gs)))
        if new_timers:
            conn.execute(T.insert(), new_timers)
        if met_rows:
            conn.execute(self._insert_new(db.transitions), met_rows)
            self.counters["transitions_fired"] += len(met_rows)

    def _timers(
        self,
        group: Sequence[str],
        segs: Sequence[str],
        start: I64,
        due: I64,
        end: I64,
        timer_for: dict[str, list[int]],
        pv: PolicyVersion,
        cal: BusinessCalendar,
        now: datetime,
    ) -> list[dict[str, Any]]:
        """The warnings (shares of each clock's time) and the breach still to come.

        A share of the first-response clock, and of an attempts window in business days, is
        taken on the business clock (``calendar.due(start, share × length)``); of a window in
        calendar days, of absolute time. Vectorised over the leads of one policy version.
        """
        sales = pv.policy.sales
        bds = business_day_seconds(cal)
        out: list[dict[str, Any]] = []
        for clock, ks in timer_for.items():
            if not ks:
                continue
            ix = np.array(ks, dtype=np.int64)
            deadline = (due if clock == "first_response" else end)[ix]
            s = start[ix]
            if clock == "first_response":
                length: NDArray[np.float64] | None = np.full(
                    len(ix), float(sales.first_response_hours) * 3600
                )
                rows_b = np.ones(len(ix), dtype=bool)
            else:
                rules = [sales.attempts_for(segs[k]) for k in ks]
                rows_b = np.array([r.day_kind == "business" for r in rules], dtype=bool)
                length = np.array([float(r.within_days) * bds for r in rules], dtype=np.float64)
            instants = []
            for share in self.warn_at:
                at = warning_instants(s, deadline, share, None, calendar=cal)
                if rows_b.any():
                    assert length is not None
                    at[rows_b] = warning_instants(
                        s[rows_b], deadline[rows_b], share, length[rows_b], calendar=cal
                    )
                instants.append((f"warning_{round(share * 100)}", "warning", at))
            instants.append(("breached", "breached", deadline))
            for j, k in enumerate(ks):
                due_at = _dt(int(deadline[j]))
                for name, to, at in instants:
                    out.append(
                        {
                            "lead_id": group[k],
                            "clock": clock,
                            "due_at": due_at,
                            "created_at": now,
                            "policy_version": pv.version,
                            "transition": name,
                            "to_status": to,
                            "fire_at": _dt(int(at[j])),
                        }
                    )
        return out

    def fire_due(self, now: datetime | None = None, /, *, limit: int = 5000) -> int:
        """Fire every transition whose time has come (at most ``limit``); returns how many.

        Of several due transitions of one clock only the latest fires (a breach makes its
        warnings moot). Each fires exactly once: the transition row and the timer's removal
        commit together, and ``transitions`` is unique on (lead, clock, transition).
        """
        if now is None and not self._writer_stopped and not self._in_writer():
            job = _Job(origin="scheduler", now=datetime.now(UTC), fire_limit=limit)
            self._submit(job)
            if job.error is not None:
                raise job.error
            return job.fired
        with self.lock, self.engine.begin() as conn:
            fired = self._fire(conn, now or datetime.now(UTC), limit)
        self._fired(fired)
        return len(fired)

    def _in_writer(self) -> bool:
        return threading.current_thread() is self._writer

    def _fire(self, conn: Connection, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Fire (in ``conn``'s transaction) the due transitions, at most ``limit``."""
        T, S = db.timers, db.lead_sla
        rows = conn.execute(
            select(T).where(T.c.fire_at <= now).order_by(T.c.fire_at).limit(limit)
        ).all()
        if not rows:
            return []
        latest: dict[tuple[str, str], Any] = {}
        for r in rows:
            key = (r.lead_id, r.clock)
            if key not in latest or r.fire_at >= latest[key].fire_at:
                latest[key] = r
        ids = list({r.lead_id for r in rows})
        status: dict[str, Any] = {}
        for part in _chunks(ids):
            for s in conn.execute(
                select(S.c.lead_id, S.c.first_response, S.c.attempts).where(S.c.lead_id.in_(part))
            ):
                status[s.lead_id] = s
        fired: list[dict[str, Any]] = []
        updates: dict[tuple[str, str], list[str]] = defaultdict(list)
        for (lid, clock), r in latest.items():
            row = status.get(lid)
            if row is None:
                continue
            current = getattr(row, clock)
            if current in ("met", "breached"):
                continue
            late = (now - max(r.fire_at, r.created_at)).total_seconds()
            fired.append(
                {
                    "lead_id": lid,
                    "clock": clock,
                    "transition": r.transition,
                    "from_status": current,
                    "to_status": r.to_status,
                    "due_at": r.due_at,
                    "scheduled_at": r.fire_at,
                    "fired_at": now,
                    "late_seconds": max(late, 0.0),
                    "policy_version": r.policy_version,
                }
            )
            updates[(clock, r.to_status)].append(lid)
        if fired:
            conn.execute(self._insert_new(db.transitions), fired)
        for (clock, to), lids in updates.items():
            for part in _chunks(lids):
                conn.execute(
                    update(S).where(S.c.lead_id.in_(part)).values({clock: to, "updated_at": now})
                )
        for part in _chunks([r.id for r in rows]):
            conn.execute(delete(T).where(T.c.id.in_(part)))
        return fired

    def _fired(self, fired: list[dict[str, Any]]) -> None:
        """The counters of transitions fired (after their transaction committed)."""
        self.counters["transitions_fired"] += len(fired)
        self.counters["transitions_late"] += sum(1 for f in fired if f["late_seconds"] > 1.0)
        self.late.extend(f["late_seconds"] for f in fired)
        if len(self.late) > 100_000:
            del self.late[: len(self.late) - 100_000]

    def next_fire_at(self) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(select(func.min(db.timers.c.fire_at))).scalar()

    # ------------------------------------------------------------------ reads

    def stats(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
                for name, t in (
                    ("events", db.events),
                    ("leads", db.leads),
                    ("activities", db.activities),
                )
            }

    def lead(self, lead_id: str, /, *, now: datetime | None = None) -> dict[str, Any] | None:
        """The lead's row and its two clocks at ``now`` (SPEC.md ``GET /v1/leads/{id}``)."""
        now = now or datetime.now(UTC)
        with self.engine.connect() as conn:
            lead = conn.execute(select(db.leads).where(db.leads.c.lead_id == lead_id)).first()
            if lead is None:
                return None
            sla = conn.execute(select(db.lead_sla).where(db.lead_sla.c.lead_id == lead_id)).first()
            n_acts = conn.execute(
                select(func.count()).where(db.activities.c.lead_id == lead_id)
            ).scalar()
            trans = conn.execute(
                select(db.transitions)
                .where(db.transitions.c.lead_id == lead_id)
                .order_by(db.transitions.c.fired_at, db.transitions.c.id)
            ).all()
        out: dict[str, Any] = {
            "lead": {k: _json(v) for k, v in lead._mapping.items() if k != "updated_at"},
            "activities": int(n_acts or 0),
            "policy_version": None,
            "first_response": None,
            "attempts": None,
            "transitions": [_transition(t) for t in trans],
        }
        if sla is None:
            return out
        pv = self.policy(sla.policy_version)
        cal = self.policy(sla.calendar_version).calendar
        now_ns = _ns(now)
        first = np.array([_ns(sla.first_attempt_at)], dtype=np.int64)
        if first[0] > now_ns:
            first[0] = NAT
        fr, at = rule_status(
            first,
            np.array([sla.attempts_in_window], dtype=np.int64),
            np.array([_ns(sla.due_at)], dtype=np.int64),
            np.array([_ns(sla.window_end)], dtype=np.int64),
            np.array([sla.required], dtype=np.int64),
            np.array([_ns(sla.closed_at) if _ns(sla.closed_at) <= now_ns else NAT]),
            now_ns,
        )
        names = {0: "met", 1: "breached", 2: "pending"}

        def live(decided: int, announced: str) -> str:
            name = names[int(decided)]
            return "warning" if name == "pending" and announced == "warning" else name

        start = sla.start_at
        upto = min(now, sla.first_attempt_at) if sla.first_attempt_at else now
        elapsed = float(cal.elapsed(start, upto)) if upto > start else 0.0
        out["policy_version"] = sla.policy_version
        out["calendar_version"] = sla.calendar_version
        out["first_response"] = {
            "status": live(fr[0], sla.first_response),
            "started_at": start.isoformat(),
            "due_at": sla.due_at.isoformat(),
            "first_attempt_at": _json(sla.first_attempt_at),
            "elapsed_business_seconds": elapsed,
            "target_business_seconds": float(pv.policy.sales.first_response_hours) * 3600,
        }
        rule = pv.policy.sales.attempts_for(lead.segment or "all").rule
        out["attempts"] = {
            # a minimum before closing changes only at an event: as stored
            "status": sla.attempts if rule == "before_closing" else live(at[0], sla.attempts),
            "rule": rule,
            "started_at": start.isoformat(),
            "due_at": sla.window_end.isoformat(),
            "attempts": sla.attempts_in_window,
            "required": sla.required,
            "closed_at": _json(sla.closed_at),
            "elapsed_business_seconds": float(cal.elapsed(start, now)) if now > start else 0.0,
        }
        return out

    def breaches(self, *, since: datetime | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Breaches fired and still standing, newest deadline first."""
        T, L, S = db.transitions, db.leads, db.lead_sla
        q = (
            select(T, L.c.owner, L.c.segment)
            .join(L, L.c.lead_id == T.c.lead_id)
            .join(S, S.c.lead_id == T.c.lead_id)
            .where(T.c.transition == "breached")
            .where(
                ((T.c.clock == "first_response") & (S.c.first_response == "breached"))
                | ((T.c.clock == "attempts") & (S.c.attempts == "breached"))
            )
            .order_by(T.c.due_at.desc(), T.c.lead_id, T.c.clock)
            .limit(limit)
        )
        if since is not None:
            q = q.where(T.c.due_at >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [_transition(r) | {"owner": r.owner, "segment": r.segment} for r in rows]

    def transitions(self, *, since_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Transitions in the order they were recorded (``id`` > ``since_id``): for alerts."""
        T = db.transitions
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(T).where(T.c.id > since_id).order_by(T.c.id).limit(limit)
            ).all()
        return [_transition(r) for r in rows]

    def queue_lag_seconds(self, now: datetime | None = None) -> float:
        """How long the oldest transition due to fire has waited (0 when none is due)."""
        now = now or datetime.now(UTC)
        with self.engine.connect() as conn:
            oldest = conn.execute(
                select(func.min(db.timers.c.fire_at)).where(db.timers.c.fire_at <= now)
            ).scalar()
        return 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0)


def _json(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def _transition(r: Any) -> dict[str, Any]:
    m = r._mapping
    return {
        "id": m["id"],
        "lead_id": m["lead_id"],
        "clock": m["clock"],
        "transition": m["transition"],
        "from": m["from_status"],
        "to": m["to_status"],
        "due_at": _json(m["due_at"]),
        "scheduled_at": _json(m["scheduled_at"]),
        "fired_at": _json(m["fired_at"]),
        "late_seconds": m["late_seconds"],
        "policy_version": m["policy_version"],
    }


def _merge(old: dict[str, Any] | None, ev: Event, now: datetime) -> dict[str, Any]:
    """The lead after a lead event: the fields given replace the stored ones."""
    f = ev.fields
    if old is None:
        lead: dict[str, Any] = {c.name: None for c in db.leads.c}
        lead["lead_id"] = f["lead_id"]
        lead["status"] = "open"
        lead["created_at"] = ev.at
    else:
        lead = dict(old)
    for k, v in f.items():
        if k == "created_at" and v is None:
            raise EventError(
                "invalid_value",
                "lead.created_at cannot be emptied.",
                "Leave created_at out, or give the time the lead was created.",
                "lead.created_at",
                None,
            )
        lead[k] = v
    if lead["status"] in ("won", "lost") and lead["closed_at"] is None:
        lead["closed_at"] = ev.at
    if lead["status"] == "open" and "closed_at" in f and f["closed_at"] is not None:
        raise EventError(
            "invalid_value",
            "lead.closed_at is given but the lead is open.",
            'Send a lead.closed event with "status": "won" or "lost", or leave closed_at out.',
            "lead.closed_at",
            f["closed_at"].isoformat(),
        )
    if lead["status"] == "open":
        lead["closed_at"] = None
    lead["updated_at"] = now
    return lead
