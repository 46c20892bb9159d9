"""``leadsla demo --live``: the service on a fresh SQLite file, the synthetic CRM replayed as
a stream, a local webhook sink that prints the alerts, the dashboard URL and a token.

Time is compressed by the speed-up: the CRM's history (its last ``window_days``) is replayed
so that one real second stands for ``speedup`` seconds of history, and the demo's policy
scales its terms the same way (4 business hours at a speed-up of 600 become 24 s) on a
24/7 calendar, so warnings fire and breaches appear within a minute. The policy file and
the database stay in the output folder for a look afterwards (``leadsla check`` runs on it).
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["LiveDemo", "demo_policy", "replay_events"]

SECRET_ENV = "LEADSLA_DEMO_WEBHOOK_SECRET"


def demo_policy(speedup: float, sink_url: str, dashboard: str) -> str:
    """The demo's SLA, its clocks divided by ``speedup``: 4 business hours to a first call,
    3 attempts within 14 days, 40 MQLs a month; alerts to the local sink."""
    fr = 4.0 / speedup
    within = 14.0 / speedup
    return f"""\
schema = "leadsla.policy/1"
name = "leadsla live demo (time compressed {speedup:g}x)"
description = "Terms of the demo SLA divided by the speed-up; a 24/7 calendar."
currency = "EUR"

[calendar]
time_zone = "Europe/Berlin"
hours = "Mon-Sun 00:00-24:00"

[sales]
first_response_hours = {fr:.6f}
attempt_kinds = ["call", "email"]

[sales.attempts]
count = 3
within_days = {within:.6f}

[marketing]
period = "month"
mqls = 40
mql_value_eur = 1600

[alerts]
dashboard_url = "{dashboard}"
escalate_after_hours = {2.0 / speedup:.6f}
retry_base_seconds = 1

[[alerts.channels]]
name = "sales"
url = "{sink_url}"
secret_env = "{SECRET_ENV}"
events = ["warning", "breach", "escalation"]

[alerts.managers]
"*" = "sales"
"""


def replay_events(
    frames: Any, *, speedup: float, start: datetime, window_days: float
) -> list[tuple[float, dict[str, Any]]]:
    """(seconds from the start, event) for the CRM's last ``window_days``, times compressed."""
    leads, acts = frames.leads, frames.activities
    end = max(
        leads["created_at"].max(), acts["at"].max() if len(acts) else leads["created_at"].max()
    )
    t0 = end - timedelta(days=window_days)

    def live(t: Any) -> tuple[float, str]:
        offset = (t - t0).total_seconds() / speedup
        return offset, (start + timedelta(seconds=offset)).isoformat(timespec="milliseconds")

    out: list[tuple[float, dict[str, Any]]] = []
    keep = leads[leads["created_at"] >= t0]
    ids = set(keep["lead_id"])
    for r in keep.itertuples(index=False):
        off, at = live(r.created_at)
        lead = {"lead_id": r.lead_id, "created_at": at, "segment": r.segment,
                "campaign": r.campaign if isinstance(r.campaign, str) else None,
                "source": r.source, "owner": r.owner}  # fmt: skip
        out.append((off, {"id": f"c-{r.lead_id}", "type": "lead.created", "at": at, "lead": lead}))
        if r.status in ("won", "lost") and r.closed_at == r.closed_at and r.closed_at <= end:
            off, at = live(r.closed_at)
            closed = {"lead_id": r.lead_id, "status": r.status, "closed_at": at}
            if r.revenue == r.revenue and r.revenue is not None:
                closed["revenue"] = float(r.revenue)
            out.append((off, {"id": f"x-{r.lead_id}", "type": "lead.closed", "at": at,
                              "lead": closed}))  # fmt: skip
    for a in acts[acts["lead_id"].isin(ids)].itertuples(index=False):
        off, at = live(a.at)
        outcome = a.outcome if isinstance(a.outcome, str) else None
        act = {"activity_id": a.activity_id, "lead_id": a.lead_id, "at": at, "kind": a.kind,
               "rep": a.rep, "outcome": outcome}  # fmt: skip
        out.append((off, {"id": f"a-{a.activity_id}", "type": "activity.logged", "at": at,
                          "activity": act}))  # fmt: skip
    out.sort(key=lambda x: (x[0], x[1]["type"] != "lead.created"))
    return out


class _Sink:
    """A local webhook receiver that checks each alert's signature and prints it."""

    def __init__(self, secret: bytes, say: Callable[[str], None]) -> None:
        from leadsla.service.alerts import verify_signature

        self.received = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                ok = verify_signature(secret, headers, body)
                self.send_response(200 if ok else 401)
                self.end_headers()
                if ok:
                    outer.received += 1
                    doc = json.loads(body)
                    say(f"ALERT {doc.get('kind', '')}: {doc.get('text', '')}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class LiveDemo:
    """Run the live demo; ``say`` prints a line for the user."""

    out: Path
    leads: int = 2000
    speedup: float = 600.0
    window_days: float = 2.0
    port: int = 8787
    duration: float | None = None
    seed: int = 7
    say: Callable[[str], None] = print

    def run(self) -> dict[str, Any]:
        import os

        import httpx
        import uvicorn

        from leadsla import synth
        from leadsla.service import ServiceConfig, create_app
        from leadsla.service.auth import create_token
        from leadsla.service.store import Store

        self.out.mkdir(parents=True, exist_ok=True)
        db_file = self.out / "leadsla-live.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        db_url = f"sqlite:///{db_file}"
        secret = secrets.token_hex(16)
        os.environ[SECRET_ENV] = secret
        sink = _Sink(secret.encode(), self.say)
        port = self.port or _free_port()
        base = f"http://127.0.0.1:{port}"
        policy = self.out / "sla-live.toml"
        policy.write_text(demo_policy(self.speedup, sink.url, base), encoding="utf-8")
        with Store(db_url) as store:
            read = create_token(store, ["read"], note="live demo dashboard")
            ingest = create_token(store, ["ingest"], note="live demo replay")
        config = ServiceConfig(db_url=db_url, policy_path=policy, public_url=base)
        server = uvicorn.Server(
            uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the live service did not start")
            time.sleep(0.1)
        frames = synth.generate_frames(leads=self.leads, seed=self.seed)
        start = datetime.now(UTC)
        events = replay_events(frames, speedup=self.speedup, start=start,
                               window_days=self.window_days)  # fmt: skip
        span = events[-1][0] if events else 0.0
        self.say(f"Dashboard: {base}/  (log in with the read token below)")
        self.say(f"Read token: {read}")
        self.say(f"API: {base}/docs · database {db_file} · policy {policy}")
        self.say(
            f"Replaying {len(events):,} events of the CRM's last {self.window_days:g} days "
            f"in {span / 60:.1f} min (speed-up {self.speedup:g}x); alerts print below."
        )
        sent = 0
        stop_at = time.monotonic() + self.duration if self.duration else math.inf
        try:
            with httpx.Client(base_url=base, timeout=30) as client:
                for batch_at, batch in _batches(events):
                    wait = (start + timedelta(seconds=batch_at) - datetime.now(UTC)).total_seconds()
                    if time.monotonic() + max(wait, 0) > stop_at:
                        break
                    if wait > 0:
                        time.sleep(wait)
                    r = client.post("/v1/events", json=batch,
                                    headers={"Authorization": f"Bearer {ingest}"})  # fmt: skip
                    r.raise_for_status()
                    sent += len(batch)
            while time.monotonic() < stop_at:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            server.should_exit = True
            thread.join(30)
            sink.close()
        return {"events": sent, "alerts": sink.received, "dashboard": base, "token": read}


def _batches(events: list[tuple[float, dict[str, Any]]]) -> Iterator[tuple[float, list[Any]]]:
    """Events grouped by the tenth of a second they are due in."""
    batch: list[Any] = []
    at = 0.0
    for off, ev in events:
        if batch and off - at >= 0.1:
            yield at, batch
            batch = []
        if not batch:
            at = off
        batch.append(ev)
    if batch:
        yield at, batch


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
