"""Crash test: a client streams events while the server is SIGKILLed at random moments and
restarted; afterwards every acknowledged event is stored exactly once and the SLA state
equals a clean replay of the same events. SQLite and PostgreSQL.

The default run is small (about 3,000 events, two kills, SQLite); the full one (20,000
events, five kills, SQLite and PostgreSQL) is marked ``slow``.
"""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from leadsla.service.store import Store
from leadsla.service.summary import summary
from leadsla.synth import generate_frames
from service_support import POLICY, Server, crm_events, make_token, reset_postgres

AS_OF = datetime.fromisoformat("2025-06-30T18:00:00+02:00")
FACTS = (
    "lead_id",
    "policy_version",
    "calendar_version",
    "start_at",
    "due_at",
    "window_end",
    "required",
    "first_attempt_at",
    "attempts_in_window",
    "closed_at",
)


class Client(threading.Thread):
    """Sends the events in random batches (JSON arrays or NDJSON), retrying a batch until it
    is acknowledged; records the ids acknowledged."""

    def __init__(self, server: Server, token: str, events: list[dict[str, Any]], seed: int):
        super().__init__(daemon=True)
        self.server, self.token, self.events = server, token, events
        self.rng = random.Random(seed)
        self.acked: set[str] = set()
        self.errors = 0
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            i = 0
            while i < len(self.events):
                part = self.events[i : i + self.rng.randint(1, 150)]
                if self._send(part):
                    i += len(part)
        except BaseException as e:  # reported by the test
            self.failure = e

    def _send(self, part: list[dict[str, Any]]) -> bool:
        nd = self.rng.random() < 0.5
        body = "\n".join(json.dumps(e) for e in part) if nd else json.dumps(part)
        headers = {"Authorization": f"Bearer {self.token}"}
        if nd:
            headers["Content-Type"] = "application/x-ndjson"
        try:
            r = httpx.post(
                self.server.url + "/v1/events", content=body, headers=headers, timeout=30
            )
        except httpx.HTTPError:
            self.errors += 1
            time.sleep(0.05)
            return False
        if r.status_code != 202:
            raise AssertionError(f"{r.status_code}: {r.text[:500]}")
        res = r.json()
        assert res["rejected"] == [], res["rejected"][:3]
        assert res["accepted"] + res["duplicates"] == len(part)
        self.acked.update(e["id"] for e in part)
        return True


def _state(url: str) -> dict[str, Any]:
    """What must survive: event ids, leads, activities, clock facts (times as UTC instants)."""
    from leadsla.service import db

    eng = db.engine_for(url)
    with eng.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.select(db.events.c.id))]
        facts = sorted(
            tuple(str(v) for v in r)
            for r in conn.execute(sa.select(*(db.lead_sla.c[f] for f in FACTS)))
        )
        acts = conn.execute(sa.select(sa.func.count()).select_from(db.activities)).scalar()
        L = db.leads.c
        leads = sorted(
            tuple(str(v) for v in r)
            for r in conn.execute(sa.select(L.lead_id, L.status, L.closed_at, L.revenue, L.mql_at))
        )
        T = db.transitions.c
        dup_transitions = conn.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(T.lead_id)
                .group_by(T.lead_id, T.clock, T.transition)
                .having(sa.func.count() > 1)
                .subquery()
            )
        ).scalar()
    eng.dispose()
    return {
        "ids": ids,
        "facts": facts,
        "activities": acts,
        "leads": leads,
        "dup_transitions": dup_transitions,
    }


def _crash_run(tmp: Path, db_url: str, clean_url: str, leads: int, kills: int) -> None:
    frames = generate_frames(leads=leads, seed=5, as_of=AS_OF)
    events = crm_events(frames.leads, frames.activities)
    policy = tmp / "sla.toml"
    policy.write_text(POLICY, encoding="utf-8")
    token = make_token(db_url, "ingest")
    server = Server(db_url, policy=policy, log=tmp / "server.log").start()
    client = Client(server, token, events, seed=leads)
    rng = random.Random(kills)
    client.start()
    try:
        for j in range(kills):
            # kill at a random point of each share of the stream (not after a fixed time:
            # a faster ingest would end the stream before the last kill)
            mark = len(events) * (j + rng.uniform(0.3, 0.9)) / kills
            deadline = time.monotonic() + 600
            while len(client.acked) < mark and client.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            server.kill()
            assert client.is_alive(), "the stream ended before the kill: raise the event count"
            server.start()
        client.join(timeout=1200)
        assert not client.is_alive()
        assert client.failure is None, client.failure
        assert client.errors >= kills  # the kills did hit requests in flight
    finally:
        server.kill()
    got = _state(db_url)
    assert len(got["ids"]) == len(set(got["ids"]))  # exactly once
    assert client.acked == {e["id"] for e in events}
    assert set(got["ids"]) == client.acked
    assert got["dup_transitions"] == 0
    # a clean replay of the same events, in one go, in process
    with Store(clean_url) as clean:
        clean.add_policy(policy.read_text(encoding="utf-8"))
        for i in range(0, len(events), 5_000):
            clean.ingest(events[i : i + 5_000])
        want_summary = summary(clean, AS_OF)
    want = _state(clean_url)
    assert got["facts"] == want["facts"]
    assert got["leads"] == want["leads"]
    assert got["activities"] == want["activities"] == len(frames.activities)
    with Store(db_url) as crashed:
        assert summary(crashed, AS_OF) == want_summary


def test_sigkill_loses_no_acknowledged_event_sqlite(tmp_path: Path) -> None:
    _crash_run(
        tmp_path,
        f"sqlite:///{tmp_path / 'a.db'}",
        f"sqlite:///{tmp_path / 'b.db'}",
        leads=320,
        kills=2,
    )


@pytest.mark.slow
def test_sigkill_five_times_20k_events_sqlite(tmp_path: Path) -> None:
    _crash_run(
        tmp_path,
        f"sqlite:///{tmp_path / 'a.db'}",
        f"sqlite:///{tmp_path / 'b.db'}",
        leads=2_150,
        kills=5,
    )


@pytest.mark.slow
@pytest.mark.postgres
def test_sigkill_five_times_20k_events_postgres(tmp_path: Path, postgres_url: str) -> None:
    reset_postgres(postgres_url)
    _crash_run(tmp_path, postgres_url, f"sqlite:///{tmp_path / 'b.db'}", leads=2_150, kills=5)
