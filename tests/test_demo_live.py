"""``leadsla demo --live`` as a new user runs it: leads arrive, warnings fire and breaches
appear within a minute, the printed dashboard URL and token log in."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def test_demo_live_shows_leads_warnings_and_breaches_within_a_minute(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    cmd = [sys.executable, "-m", "leadsla", "demo", "--live", "--out", str(tmp_path),
           "--speedup", "2400", "--duration", "75", "--port", "0"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=cli_env
    )
    lines: list[tuple[float, str]] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append((time.monotonic(), line.rstrip("\n")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not any("Replaying" in t for _, t in lines):
            assert proc.poll() is None, "\n".join(t for _, t in lines)
            time.sleep(0.2)
        text = "\n".join(t for _, t in lines)
        url = re.search(r"Dashboard: (http://127\.0\.0\.1:\d+)/", text)
        token = re.search(r"Read token: (lsla_\S+)", text)
        assert url and token, text
        started = next(ts for ts, t in lines if "Replaying" in t)
        # within a minute of the replay's start: warnings and breaches arrive at the sink
        while time.monotonic() < started + 60:
            alerts = [t for _, t in lines if t.startswith("ALERT")]
            if any("ALERT warning" in t for t in alerts) and any(
                "ALERT breach" in t for t in alerts
            ):
                break
            time.sleep(0.5)
        alerts = [t for _, t in lines if t.startswith("ALERT")]
        assert any("ALERT warning" in t for t in alerts), "\n".join(t for _, t in lines)
        assert any("ALERT breach" in t for t in alerts), "\n".join(t for _, t in lines)
        # the dashboard logs in with the printed token and lists the arriving leads
        with httpx.Client(base_url=url[1], timeout=30, follow_redirects=False) as c:
            form = c.get("/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)[1]  # type: ignore[index]
            assert c.post("/login", data={"token": token[1], "csrf": csrf}).status_code == 303
            page = c.get("/").text
            assert re.search(r'href="/leads/L\d+"', page)
    finally:
        proc.terminate()
        proc.wait(60)
        reader.join(30)
        if proc.stdout is not None:
            proc.stdout.close()
