"""Load benchmark of ``leadsla serve`` (not a test): events/s, ack latency, transition lateness.

uv run python benchmarks/bench_service.py                          # 100,000 open leads, 60 s
uv run python benchmarks/bench_service.py --seconds 300 --rate 500   # the 5-minute run
uv run python benchmarks/bench_service.py --db postgresql://…       # on PostgreSQL

1. Preloads ``--leads`` open leads into a fresh database (in process, through
   ``Store.ingest``, 5,000 events a batch): their clocks started within the last
   ``--spread`` seconds under a policy whose first response is due ``--due-minutes`` later on a
   24/7 calendar, so warnings (50/75/90%) and breaches come due all through the run.
2. Starts ``leadsla serve`` (a subprocess on a free loopback port) on that database and waits
   until its scheduler has caught up: the preload is history written while no scheduler ran,
   so most of its warnings are overdue when the server starts (about 85% of the leads have
   passed 50% of their time); the time to fire that backlog is reported on its own
   ("catch-up"), and the load starts once ``leadsla_queue_lag_seconds`` is below 1 s.
3. Sends ``--rate`` events/s for ``--seconds`` (open loop: a request every ``batch/rate`` s,
   whatever the answers; each request ``--batch`` events: activities on random open leads,
   one in five a new lead), from ``--clients`` asyncio client processes sharing the rate,
   and records each acknowledgement's latency.
4. Reads back the transitions the scheduler fired during the run and their lateness
   (``fired_at − scheduled_at``), and prints the targets: ≥ 500 events/s sustained, p99 ack
   ≤ 250 ms, p99 lateness ≤ 1 s. ``--out`` appends the figures to a Markdown file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa

from leadsla.service import db
from leadsla.service.auth import create_token
from leadsla.service.store import Store

POLICY = """\
schema = "leadsla.policy/1"
name = "Benchmark SLA (24/7)"

[calendar]
time_zone = "UTC"
hours = "Mon-Sun 00:00-24:00"

[sales]
first_response_hours = {hours}
attempt_kinds = ["call", "email"]

[sales.attempts]
count = 6
within_days = 14
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def preload(store: Store, leads: int, spread_s: float, now: datetime) -> float:
    rng = random.Random(1)
    t0 = time.perf_counter()
    for start in range(0, leads, 5_000):
        batch = []
        for i in range(start, min(start + 5_000, leads)):
            at = (now - timedelta(seconds=rng.uniform(0, spread_s))).isoformat()
            batch.append(
                {
                    "id": f"pre-{i}",
                    "type": "lead.created",
                    "at": at,
                    "lead": {"lead_id": f"P{i:07d}", "segment": rng.choice(["smb", "mid"])},
                }
            )
        res = store.ingest(batch)
        assert res.accepted == len(batch), res.rejected[:2]
    return time.perf_counter() - t0


async def load(
    url: str, token: str, leads: int, rate: float, seconds: float, batch: int, client: int = 0
) -> tuple[list[float], int, int, float]:
    rng = random.Random(2 + client)
    lat: list[float] = []
    errors = 0
    sent = 0
    interval = batch / rate
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        tasks: set[asyncio.Task[None]] = set()

        async def one(events: list[dict[str, object]]) -> None:
            nonlocal errors
            t = time.perf_counter()
            try:
                r = await client.post("/v1/events", content=json.dumps(events), headers=headers)
                if r.status_code != 202 or r.json()["accepted"] != len(events):
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            lat.append(time.perf_counter() - t)

        begin = time.perf_counter()
        n = 0
        new = 0
        while time.perf_counter() - begin < seconds:
            now = datetime.now(UTC).isoformat()
            events: list[dict[str, object]] = []
            for _ in range(batch):
                n += 1
                if rng.random() < 0.2:
                    new += 1
                    events.append(
                        {
                            "id": f"run-{client}-{n}",
                            "type": "lead.created",
                            "at": now,
                            "lead": {"lead_id": f"N{client}-{new:07d}"},
                        }
                    )
                else:
                    lead = f"P{rng.randrange(leads):07d}"
                    events.append(
                        {
                            "id": f"run-{client}-{n}",
                            "type": "activity.logged",
                            "at": now,
                            "activity": {
                                "lead_id": lead,
                                "at": now,
                                "kind": rng.choice(["call", "email"]),
                            },
                        }
                    )
            sent += len(events)
            task = asyncio.create_task(one(events))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            target = begin + (n / batch) * interval
            await asyncio.sleep(max(0.0, target - time.perf_counter()))
        send_s = time.perf_counter() - begin
        if tasks:
            await asyncio.gather(*tasks)
    return lat, errors, sent, send_s


def _client(job: tuple[Any, ...]) -> tuple[list[float], int, int, float]:
    """One client process: its share of the rate (``--clients`` of them run side by side)."""
    return asyncio.run(load(*job))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", help="database URL (default: a new SQLite file in a temp folder)")
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=500.0, help="events per second")
    ap.add_argument("--batch", type=int, default=10, help="events per request")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument(
        "--clients", type=int, default=1, help="client processes sharing the rate (default 1)"
    )
    ap.add_argument("--spread", type=float, default=1800.0, help="clock starts spread (s)")
    ap.add_argument("--due-minutes", type=float, default=30.0)
    ap.add_argument("--out", type=Path, help="append the results to this Markdown file")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="leadsla-bench-service-"))
    url = args.db or f"sqlite:///{tmp / 'bench.db'}"
    policy = tmp / "sla.toml"
    policy.write_text(POLICY.format(hours=args.due_minutes / 60), encoding="utf-8")
    now = datetime.now(UTC)
    with Store(url) as store:
        store.add_policy(policy.read_text())
        pre_s = preload(store, args.leads, args.spread, now)
        token = create_token(store, ["admin"])
    print(f"preloaded {args.leads:,} open leads in {pre_s:.1f} s", flush=True)
    port = _free_port()
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leadsla",
            "serve",
            "--db",
            url,
            "--policy",
            str(policy),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=os.environ.copy(),
    )
    base = f"http://127.0.0.1:{port}"
    eng0 = db.engine_for(url)
    try:
        for _ in range(1200):
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.25)
        catch_t0 = time.perf_counter()
        auth = {"Authorization": f"Bearer {token}"}
        while time.perf_counter() - catch_t0 < 1800:
            text = httpx.get(base + "/metrics", headers=auth, timeout=30).text
            lag = next(
                float(line.split()[1])
                for line in text.splitlines()
                if line.startswith("leadsla_queue_lag_seconds ")
            )
            if lag < 1.0:
                break
            time.sleep(1.0)
        catch_s = time.perf_counter() - catch_t0
        with eng0.connect() as conn:
            backlog = conn.execute(sa.select(sa.func.count()).select_from(db.transitions)).scalar()
        print(f"scheduler caught up in {catch_s:.1f} s ({backlog:,} transitions)", flush=True)
        run_start = datetime.now(UTC)
        jobs = [
            (base, token, args.leads, args.rate / args.clients, args.seconds, args.batch, c)
            for c in range(args.clients)
        ]
        if args.clients == 1:
            parts = [_client(jobs[0])]
        else:
            with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
                parts = pool.map(_client, jobs)
        lat = [x for p in parts for x in p[0]]
        errors = sum(p[1] for p in parts)
        sent = sum(p[2] for p in parts)
        send_s = max(p[3] for p in parts)
        run_end = datetime.now(UTC)
        time.sleep(2)
    finally:
        proc.terminate()
        proc.wait(60)
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    eng = db.engine_for(url)
    T = db.transitions.c
    with eng.connect() as conn:
        rows = conn.execute(
            sa.select(T.late_seconds, T.transition).where(
                T.scheduled_at >= run_start, T.scheduled_at <= run_end, T.transition != "met"
            )
        ).all()
        met = conn.execute(
            sa.select(sa.func.count()).where(T.transition == "met", T.fired_at >= run_start)
        ).scalar()
    eng.dispose()
    eng0.dispose()
    late = np.array([r[0] for r in rows]) if rows else np.zeros(1)
    lat_ms = np.array(lat) * 1000
    wall = (run_end - run_start).total_seconds()
    ok_events = sent - errors * args.batch
    load_avg = os.getloadavg()
    lines = [
        f"## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {url.split(':')[0]}, "
        f"{args.leads:,} open leads, {args.rate:g} events/s offered for {args.seconds:g} s",
        "",
        f"- machine: {os.cpu_count()} cores, load average {load_avg[0]:.1f} during the run "
        "(shared with other jobs)",
        f"- preload: {args.leads:,} lead.created events in {pre_s:.1f} s (in process)",
        f"- catch-up before the run: the scheduler fired the preload's overdue backlog "
        f"({backlog:,} transitions) in {catch_s:.1f} s",
        f"- offered: {sent:,} events sent in {send_s:.1f} s = {sent / send_s:.0f} events/s "
        f"by {args.clients} client process(es) (target {args.rate:g}; less when the client "
        "itself gets too little CPU)",
        f"- requests: {len(lat):,} of {args.batch} events; events acknowledged "
        f"{ok_events:,} in {wall:.1f} s = **{ok_events / wall:.0f} events/s**; "
        f"errors {errors}",
        f"- ack latency: p50 {np.percentile(lat_ms, 50):.0f} ms, "
        f"**p99 {np.percentile(lat_ms, 99):.0f} ms**, max {lat_ms.max():.0f} ms",
        f"- transitions due during the run and fired by the scheduler: {len(rows):,} "
        f"(+ {met:,} met on ingest); lateness p50 {np.percentile(late, 50):.3f} s, "
        f"**p99 {np.percentile(late, 99):.3f} s**, max {late.max():.3f} s",
        f"- server CPU: {cpu.ru_utime + cpu.ru_stime:.0f} s (start-up, load, drain)",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        with args.out.open("a", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
