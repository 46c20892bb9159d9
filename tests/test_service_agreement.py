"""Agreement with batch: a synthetic CRM replayed as events into a real ``leadsla serve``
gives ``GET /v1/sla/summary?as_of=T`` equal to ``leadsla check SOURCE --policy P --as-of T
--format json`` at several T, and the live clock of every lead equal to check's per-lead
deadlines and statuses (one segment under a minimum before closing)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

import leadsla
from leadsla.sla.compliance import check_compliance
from leadsla.sla.policy import load_policy
from leadsla.synth import generate
from service_support import POLICY, Server, batches, crm_events, make_token, post

AS_OFS = ("2026-01-15T10:30:00+01:00", "2026-04-01T09:00:00+02:00", "2026-06-30T18:00:00+02:00")


def test_replayed_crm_agrees_with_check(tmp_path: Path, cli_env: dict[str, str]) -> None:
    crm = tmp_path / "crm"
    generate(crm, leads=2_000, seed=11, as_of="2026-06-30T18:00:00+02:00")
    policy = tmp_path / "sla.toml"
    # smb under a minimum before closing (no deadline; breached only at a lost-unreached close)
    minimum = (
        '\n[sales.attempts.segments.smb]\ncount = 5\nwithin_days = 14\nrule = "before_closing"\n'
    )
    policy.write_text(POLICY + minimum, encoding="utf-8")
    # the batch answers, from the CLI (three processes at once)
    procs = {
        t: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "leadsla",
                "check",
                str(crm),
                "--policy",
                str(policy),
                "--as-of",
                t,
                "--format",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env,
        )
        for t in AS_OFS
    }
    leads = pd.read_parquet(crm / "leads.parquet")
    acts = pd.read_parquet(crm / "activities.parquet")
    events = crm_events(leads, acts)
    db_url = f"sqlite:///{tmp_path / 'live.db'}"
    token = make_token(db_url, "admin")
    with (
        Server(db_url, policy=policy, log=tmp_path / "server.log") as srv,
        httpx.Client(base_url=srv.url, timeout=120) as c,
    ):
        accepted = 0
        for part in batches(events, 2_000):
            r = post(c, token, list(part))
            assert r.status_code == 202, r.text
            assert r.json()["rejected"] == []
            accepted += r.json()["accepted"]
        assert accepted == len(events)
        stats = c.get("/v1/stats", headers={"Authorization": f"Bearer {token}"}).json()
        assert stats == {"events": len(events), "leads": len(leads), "activities": len(acts)}
        for t, proc in procs.items():
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, err
            r = c.get(
                "/v1/sla/summary", params={"as_of": t}, headers={"Authorization": f"Bearer {token}"}
            )
            assert r.status_code == 200, r.text
            live = r.json()
            live.pop("policy_version")
            batch = json.loads(out)
            assert batch["leads"]["total"] > 100
            assert batch["breaches_total"] > 10
            assert live == batch, t  # every count, every breach (lead by lead), marketing
        # each lead's live clock = check's per-lead deadlines and statuses (now, all data in)
        now = datetime.now(UTC)
        with leadsla.connect(crm) as ws:
            per = check_compliance(
                ws.leads, ws.activities, policy=load_policy(policy), as_of=now, per_lead=True
            ).per_lead
        assert per is not None and len(per) == len(leads)
        sample = per.sample(250, random_state=3)
        for row in sample.itertuples(index=False):
            body = c.get(
                f"/v1/leads/{row.lead_id}", headers={"Authorization": f"Bearer {token}"}
            ).json()
            fr, at = body["first_response"], body["attempts"]
            assert pd.Timestamp(fr["due_at"]) == row.due, row.lead_id
            assert pd.Timestamp(at["due_at"]) == row.window_end, row.lead_id
            assert (at["attempts"], at["required"]) == (row.attempts, row.required), row.lead_id
            assert _status(fr["status"]) == row.first_response, row.lead_id
            assert _status(at["status"]) == row.attempts_rule, row.lead_id
            first = fr["first_attempt_at"]
            assert (None if first is None else pd.Timestamp(first)) == _ts(row.first_attempt)


def _status(s: str) -> str:
    return "pending" if s == "warning" else s


def _ts(v: Any) -> Any:
    return None if pd.isna(v) else pd.Timestamp(v)
