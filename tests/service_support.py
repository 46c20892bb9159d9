"""Helpers of the live-service tests: a real ``leadsla serve`` subprocess on a free loopback
port, tokens, a policy, and a synthetic CRM turned into events."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

POLICY = """\
schema = "leadsla.policy/1"
name = "Service test SLA"

[calendar]
time_zone = "Europe/Berlin"
hours = "Mon-Fri 09:00-18:00"
holiday_country = "DE"

[sales]
first_response_hours = 4
attempt_kinds = ["call", "email"]

[sales.attempts]
count = 4
within_days = 10

[sales.attempts.segments.enterprise]
count = 6
within_days = 5
day_kind = "business"

[marketing]
period = "month"
mqls = 120
mql_value_eur = 1500
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reset_postgres(url: str) -> None:
    """Drop every table of the test database (a clean service database)."""
    import sqlalchemy as sa

    from leadsla.service.db import normalize_url

    eng = sa.create_engine(normalize_url(url))
    with eng.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    eng.dispose()


def make_token(db_url: str, *scopes: str) -> str:
    from leadsla.service.auth import create_token
    from leadsla.service.store import Store

    with Store(db_url) as store:
        return create_token(store, list(scopes))


class Server:
    """``python -m leadsla serve`` as a subprocess; ``start``, ``kill`` (SIGKILL), ``stop``."""

    def __init__(
        self,
        db_url: str,
        *,
        policy: Path | None,
        log: Path,
        env: dict[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> None:
        self.db_url = db_url
        self.policy = policy
        self.log = log
        # a server that hangs dumps every thread's stack (SIGABRT) into its log
        self.env = {**os.environ, "PYTHONFAULTHANDLER": "1", **(env or {})}
        self.args = list(args)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 900) -> Server:
        self.port = free_port()
        cmd = [sys.executable, "-m", "leadsla", "serve", "--db", self.db_url]
        cmd += ["--port", str(self.port), *self.args]
        if self.policy is not None:
            cmd += ["--policy", str(self.policy)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        os.kill(self.proc.pid, signal.SIGABRT)
        time.sleep(2)
        self.kill()
        raise RuntimeError(f"server did not start in {timeout} s: {self.log.read_text()[-6000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _iso(t: Any) -> str | None:
    if t is None or (isinstance(t, float) and math.isnan(t)) or pd.isna(t):
        return None
    return pd.Timestamp(t).isoformat()


def _text(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v) else v


def crm_events(leads: pd.DataFrame, activities: pd.DataFrame) -> list[dict[str, Any]]:
    """The synthetic CRM as events: each lead created (open), its activities, its closing.

    Order: every ``lead.created`` first, then activities and closings by time (a replay of
    history; the clocks depend on the facts, not on the order they arrive in).
    """
    created: list[dict[str, Any]] = []
    later: list[tuple[str, int, dict[str, Any]]] = []
    for r in leads.itertuples(index=False):
        lead = {
            "lead_id": r.lead_id,
            "created_at": _iso(r.created_at),
            "segment": _text(r.segment),
            "campaign": _text(r.campaign),
            "source": _text(r.source),
            "owner": _text(r.owner),
        }
        if _iso(r.mql_at) is not None:
            lead["mql_at"] = _iso(r.mql_at)
        created.append(
            {"id": f"c-{r.lead_id}", "type": "lead.created", "at": _iso(r.created_at), "lead": lead}
        )
        if r.status in ("won", "lost"):
            closed = {"lead_id": r.lead_id, "status": r.status, "closed_at": _iso(r.closed_at)}
            if _text(r.revenue) is not None:
                closed["revenue"] = float(r.revenue)
            ev = {"id": f"x-{r.lead_id}", "type": "lead.closed", "at": _iso(r.closed_at)}
            later.append((str(ev["at"]), 1, ev | {"lead": closed}))
    for a in activities.itertuples(index=False):
        act = {
            "activity_id": a.activity_id,
            "lead_id": a.lead_id,
            "at": _iso(a.at),
            "kind": a.kind,
            "rep": _text(a.rep),
            "outcome": _text(a.outcome),
        }
        ev = {"id": f"a-{a.activity_id}", "type": "activity.logged", "at": _iso(a.at)}
        later.append((str(ev["at"]), 0, ev | {"activity": act}))
    later.sort(key=lambda x: (pd.Timestamp(x[0]), x[1]))
    return created + [e for _, _, e in later]


def batches(events: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for i in range(0, len(events), size):
        yield events[i : i + size]


def post(client: httpx.Client, token: str, body: Any, **kw: Any) -> httpx.Response:
    return client.post(
        "/v1/events",
        content=body if isinstance(body, bytes | str) else json.dumps(body),
        headers={"Authorization": f"Bearer {token}", **kw.pop("headers", {})},
        **kw,
    )
