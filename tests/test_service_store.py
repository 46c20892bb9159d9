"""The service's store in process: migrations equal the tables, a changed calendar moves
running clocks, overdue transitions fire exactly once across a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from leadsla.service import db
from leadsla.service.store import IngestResult, Store, parse_policy
from service_support import POLICY


def test_migrations_create_exactly_the_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with Store(f"sqlite:///{tmp_path / 'm.db'}") as store, store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), db.metadata)
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        mode = conn.execute(sa.text("PRAGMA journal_mode")).scalar()
        sync = conn.execute(sa.text("PRAGMA synchronous")).scalar()
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    assert diffs == []
    assert version == ScriptDirectory.from_config(cfg).get_current_head()
    assert (mode, sync) == ("wal", 2)  # WAL, synchronous = FULL


def test_a_new_calendar_moves_running_clocks_only(tmp_path: Path) -> None:
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Mon 09:00 Berlin
    with Store(f"sqlite:///{tmp_path / 'c.db'}") as store:
        store.add_policy(POLICY, now=now)
        store.ingest(
            [
                {
                    "id": "1",
                    "type": "lead.created",
                    "at": "2026-03-02T09:00:00+01:00",
                    "lead": {"lead_id": "run"},
                },
                {
                    "id": "2",
                    "type": "lead.created",
                    "at": "2026-03-02T09:00:00+01:00",
                    "lead": {"lead_id": "done"},
                },
                {
                    "id": "3",
                    "type": "activity.logged",
                    "at": "2026-03-02T09:30:00+01:00",
                    "activity": {"lead_id": "done", "kind": "call"},
                },
                {
                    "id": "4",
                    "type": "lead.closed",
                    "at": "2026-03-02T09:40:00+01:00",
                    "lead": {"lead_id": "done", "status": "lost"},
                },
            ],
            now=now,
        )
        assert store.lead("run", now=now)["first_response"]["due_at"] == (
            "2026-03-02T12:00:00+00:00"
        )
        later = POLICY.replace('hours = "Mon-Fri 09:00-18:00"', 'hours = "Mon-Fri 11:00-18:00"')
        pv, new = store.add_policy(later, now=now + timedelta(minutes=1))
        assert new and pv.version == 2
        run = store.lead("run", now=now)
        assert (run["policy_version"], run["calendar_version"]) == (1, 2)
        assert run["first_response"]["due_at"] == "2026-03-02T14:00:00+00:00"  # 11:00 + 4 h
        done = store.lead("done", now=now)
        assert done["calendar_version"] == 1  # both clocks decided: not moved
        assert done["first_response"]["due_at"] == "2026-03-02T12:00:00+00:00"


def test_overdue_transitions_fire_once_across_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    with Store(url) as store:
        store.add_policy(POLICY, now=t0)
        store.ingest(
            [{"id": "1", "type": "lead.created", "at": t0.isoformat(), "lead": {"lead_id": "x"}}],
            now=t0,
        )
        assert store.fire_due(t0) == 0  # nothing due yet
    # the service was down for two days: on restart the breach fires once, its warnings not
    with Store(url) as store:
        down = t0 + timedelta(days=2)
        assert store.fire_due(down) == 1
        assert store.fire_due(down) == 0
    with Store(url) as store:
        assert store.fire_due(t0 + timedelta(days=30)) == 1  # the attempts window's breach
        rows = store.transitions()
        assert [(r["clock"], r["transition"]) for r in rows] == [
            ("first_response", "breached"),
            ("attempts", "breached"),
        ]
        assert rows[0]["late_seconds"] > 40 * 3600  # says how late it fired
        assert store.next_fire_at() is None
        # the unique constraint holds even against a second insert of the same transition
        with store.engine.begin() as conn:
            conn.execute(
                store._insert_new(db.transitions),
                [
                    {k: v for k, v in rows[0].items() if k not in ("id", "from", "to")}
                    | {
                        "from_status": "pending",
                        "to_status": "breached",
                        "due_at": t0,
                        "scheduled_at": t0,
                        "fired_at": t0,
                    }
                ],
            )
        assert len(store.transitions()) == 2


def test_group_commit_answers_each_batch_as_if_alone(tmp_path: Path) -> None:
    """Batches waiting for the writer share one transaction, yet each gets its own answer:
    an id sent by every batch is accepted once and a duplicate everywhere else."""
    import threading
    import time
    from collections.abc import Callable

    with Store(f"sqlite:///{tmp_path / 'g.db'}") as store:
        store.add_policy(POLICY)
        at = datetime.now(UTC).isoformat()

        def batch(n: int) -> list[dict[str, object]]:
            return [
                {"id": "shared", "type": "lead.created", "at": at, "lead": {"lead_id": "S"}},
                {"id": f"c{n}", "type": "lead.created", "at": at, "lead": {"lead_id": f"L{n}"}},
                {
                    "id": f"a{n}",
                    "type": "activity.logged",
                    "at": at,
                    "activity": {"lead_id": f"L{n}", "at": at, "kind": "call"},
                },
            ]

        results: dict[int, IngestResult] = {}

        def send(n: int) -> None:
            results[n] = store.ingest(batch(n))

        def wait_until(ready: Callable[[], bool]) -> None:
            deadline = time.monotonic() + 30
            while not ready() and time.monotonic() < deadline:
                time.sleep(0.005)

        def queued() -> int:
            with store._writer_guard:  # the writer is started and fed under this lock
                return -1 if store._writer is None else store._queue.qsize()

        threads = [threading.Thread(target=send, args=(n,)) for n in range(12)]
        with store.lock:  # the writer blocks on it, so the batches pile up in its queue
            threads[0].start()
            wait_until(lambda: queued() == 0)  # the writer holds batch 0
            for t in threads[1:]:
                t.start()
            wait_until(lambda: queued() == 11)
        for t in threads:
            t.join(30)
        assert store.counters["ingest_commits"] == 2  # batch 0 alone, then the 11 together
        assert sorted(r.accepted for r in results.values()) == [2] * 11 + [3]
        assert sum(r.duplicates for r in results.values()) == 11
        assert all(r.rejected == [] for r in results.values())
        with store.engine.connect() as conn:
            n_events = conn.execute(sa.select(sa.func.count()).select_from(db.events)).scalar()
            met = conn.execute(
                sa.select(sa.func.count()).where(
                    db.lead_sla.c.first_response == "met", db.lead_sla.c.lead_id.like("L%")
                )
            ).scalar()
        assert (n_events, met) == (25, 12)


def test_a_scheduler_round_rides_in_the_writers_group_commit(tmp_path: Path) -> None:
    """The scheduler's round waits in the writer's queue like a batch of events and commits
    with them: no transaction (no fsync) of its own, and it fires what is due exactly once."""
    import threading
    import time

    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.add_policy(POLICY)
        now = datetime.now(UTC)
        old = (now - timedelta(days=7)).isoformat()  # its first response is long overdue
        store.ingest([{"id": "o", "type": "lead.created", "at": old, "lead": {"lead_id": "O"}}])

        def lead(n: int) -> list[dict[str, object]]:
            at = now.isoformat()
            return [{"id": f"n{n}", "type": "lead.created", "at": at, "lead": {"lead_id": f"N{n}"}}]

        commits: list[int] = []
        sa.event.listen(store.engine, "commit", lambda conn: commits.append(1))
        fired: list[int] = []

        def queued() -> int:
            with store._writer_guard:
                return -1 if store._writer is None else store._queue.qsize()

        def wait_until(n: int) -> None:
            deadline = time.monotonic() + 30
            while queued() != n and time.monotonic() < deadline:
                time.sleep(0.005)

        threads = [
            threading.Thread(target=store.ingest, args=(lead(1),)),
            threading.Thread(target=lambda: fired.append(store.fire_due())),
            threading.Thread(target=store.ingest, args=(lead(2),)),
        ]
        with store.lock:  # the writer holds the first batch; the round and a batch queue up
            threads[0].start()
            wait_until(0)
            threads[1].start()
            wait_until(1)
            threads[2].start()
            wait_until(2)
        for t in threads:
            t.join(30)
        assert fired == [2]  # the first-response breach (its warnings moot), attempts at 50%
        assert len(commits) == 2  # the first batch alone; the round and the second batch together
        assert store.counters["ingest_commits"] == 3
        assert store.fire_due() == 0
        rows = store.transitions()
        assert [(r["lead_id"], r["clock"], r["transition"]) for r in rows] == [
            ("O", "first_response", "breached"),
            ("O", "attempts", "warning_50"),
        ]


def test_a_minimum_before_closing_runs_live_as_check_counts_it(tmp_path: Path) -> None:
    """A segment whose rule is "before_closing" has no deadline: no attempts timers; the live
    clock is met at the K-th attempt or a closing after contact, breached when the lead is
    closed lost unreached short of K — fired at that event — and equals check lead by lead."""
    import leadsla
    from leadsla.sla.compliance import check_compliance

    policy = (
        POLICY
        + '\n[sales.attempts.segments.smb]\ncount = 3\nwithin_days = 14\nrule = "before_closing"\n'
    )
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def at(hours: float) -> str:
        return (t0 + timedelta(hours=hours)).isoformat()

    def created(lid: str, segment: str) -> dict[str, object]:
        lead = {"lead_id": lid, "segment": segment}
        return {"id": f"c-{lid}", "type": "lead.created", "at": at(0), "lead": lead}

    def call(lid: str, n: int, outcome: str = "no_answer") -> dict[str, object]:
        act = {"lead_id": lid, "at": at(n), "kind": "call", "outcome": outcome}
        return {"id": f"a-{lid}-{n}", "type": "activity.logged", "at": at(n), "activity": act}

    def closed(lid: str, status: str, hours: float) -> dict[str, object]:
        lead = {"lead_id": lid, "status": status, "closed_at": at(hours)}
        return {"id": f"x-{lid}", "type": "lead.closed", "at": at(hours), "lead": lead}

    url = f"sqlite:///{tmp_path / 'm.db'}"
    with Store(url) as store:
        store.add_policy(policy, now=t0)
        events = [created(x, "smb") for x in "ABCDE"] + [created("W", "mid-market")]
        events += [call("A", 1), call("A", 2)]  # two attempts, then lost unreached: breached
        events += [call("B", 1), call("B", 2), call("B", 3)]  # three: met
        events += [call("C", 1, "connected")]  # reached, then lost: met
        events += [call("D", 1)]  # open with one attempt: pending, never late
        events += [closed("A", "lost", 30), closed("C", "lost", 30)]
        store.ingest(events, now=t0 + timedelta(hours=40))
        with store.engine.connect() as conn:
            T = db.timers.c
            timers = conn.execute(
                sa.select(T.lead_id).where(T.clock == "attempts").order_by(T.lead_id)
            ).all()
        assert {r[0] for r in timers} == {"W"}  # only the lead with a window (warnings, breach)
        later = t0 + timedelta(days=60)  # long past any 14-day window
        store.fire_due(later)
        live = {
            lid: store.lead(lid, now=later)["attempts"]["status"]  # type: ignore[index]
            for lid in "ABCDEW"
        }
        assert live == {
            "A": "breached",
            "B": "met",
            "C": "met",
            "D": "pending",
            "E": "pending",
            "W": "breached",
        }
        fired = {
            (r["lead_id"], r["transition"]) for r in store.transitions() if r["clock"] == "attempts"
        }
        assert ("A", "breached") in fired and ("D", "breached") not in fired
    with leadsla.connect(url) as ws:
        per = check_compliance(
            ws.leads, ws.activities, policy=parse_policy(policy), as_of=later, per_lead=True
        ).per_lead
    assert per is not None
    assert dict(zip(per.lead_id, per.attempts_rule, strict=True)) == live
