"""The as-of, time zone and user errors through the real command line (issue 9).

The wall clock is frozen with libfaketime (``faketime``, Debian's package; scripts/test
installs it): the same command run "on" 2026-01-01 and "on" 2027-06-01 must print the same
bytes. A grep of the sources backs it: no wall-clock call outside the live service.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from conftest import RunCli
from leadsla.synth import generate

SRC = Path(__file__).resolve().parents[1] / "src" / "leadsla"
STAMP_KEYS = ("as_of", "as_of_basis", "time_zone", "time_zone_basis")
STAMPS = {"leads": ("created_at", "closed_at", "mql_at"), "activities": ("at",),
          "touches": ("at",)}  # fmt: skip


def _rewrite(src: Path, dst: Path, render: Any) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        for col in STAMPS.get(f.stem, ()):
            if col in df.columns:
                has = df[col] != ""
                utc = pd.to_datetime(df.loc[has, col], utc=True, format="ISO8601")
                df.loc[has, col] = render(utc)
        df.to_csv(dst / f.name, index=False)
    return dst


@pytest.fixture(scope="module")
def crms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One synthetic CRM (700 leads) written twice: with Berlin offsets (+01:00/+02:00 on
    the EU daylight-saving dates) and with naive UTC wall-clock times; no leadsla.toml."""
    base = tmp_path_factory.mktemp("crm")
    generate(base / "utc", leads=700, seed=11, format="csv")
    eu = _rewrite(
        base / "utc",
        base / "eu",
        lambda s: [t.isoformat() for t in s.dt.tz_convert("Europe/Berlin")],
    )
    naive = _rewrite(base / "utc", base / "naive",
                     lambda s: [t.strftime("%Y-%m-%d %H:%M:%S") for t in s])  # fmt: skip
    return {"eu": eu, "naive": naive}


def _json(proc: subprocess.CompletedProcess[str]) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_every_command_reports_one_as_of(crms: dict[str, Path], run_cli: RunCli,
                                         tmp_path: Path) -> None:  # fmt: skip
    """value, plan, attempts, speed, agree and check on one source: one as_of (the data's last
    event), one time zone (Europe/Berlin, inferred from the offsets; check takes it from the
    policy agree wrote, so its basis is "given")."""
    crm = crms["eu"]
    out = tmp_path / "sla"
    runs = {
        "value": _json(run_cli("value", crm, "-f", "json")),
        "plan": _json(run_cli("plan", crm, "--quota", "200000", "-f", "json")),
        "attempts": _json(run_cli("attempts", crm, "-f", "json", "--bootstrap", "50")),
        "speed": _json(run_cli("speed", crm, "-f", "json")),
        "agree": _json(
            run_cli(
                "agree", crm, "--quota", "200000", "--out", out, "-f", "json", "--bootstrap", "50"
            )
        ),  # fmt: skip
    }
    runs["check"] = _json(run_cli("check", crm, "--policy", out / "sla.toml", "-f", "json"))
    stamps = {name: {k: r.get(k) for k in STAMP_KEYS} for name, r in runs.items()}
    leads = pd.read_csv(crm / "leads.csv")
    acts = pd.read_csv(crm / "activities.csv")
    last = max(pd.to_datetime(leads[c], utc=True, format="ISO8601").max()
               for c in ("created_at", "closed_at", "mql_at"))  # fmt: skip
    last = max(last, pd.to_datetime(acts["at"], utc=True, format="ISO8601").max())
    want = {"as_of": last.isoformat(), "as_of_basis": "data", "time_zone": "Europe/Berlin",
            "time_zone_basis": "data"}  # fmt: skip
    # check reads the zone from its policy (written by agree from the inferred one): given
    assert stamps == dict.fromkeys(runs, want) | {"check": want | {"time_zone_basis": "given"}}


def test_a_given_as_of_is_reported_as_given(crms: dict[str, Path], run_cli: RunCli) -> None:
    r = _json(run_cli("value", crms["eu"], "-f", "json", "--as-of", "2026-03-01T12:00",
                      "--time-zone", "America/New_York"))  # fmt: skip
    assert {k: r[k] for k in STAMP_KEYS} == {
        "as_of": "2026-03-01T17:00:00+00:00", "as_of_basis": "given",
        "time_zone": "America/New_York", "time_zone_basis": "given"}  # fmt: skip


def test_naive_times_run_in_utc_with_a_warning(crms: dict[str, Path], run_cli: RunCli) -> None:
    """Business time in UTC is said on the commands that use it, not on value."""
    speed = run_cli("speed", crms["naive"], "-f", "json")
    assert _json(speed)["time_zone_basis"] == "default"
    text = " ".join(speed.stderr.split())
    assert "business hours run in UTC" in text and "--time-zone" in text
    value = run_cli("value", crms["naive"], "-f", "json")
    assert _json(value)["time_zone"] == "UTC"
    assert "business hours run in UTC" not in " ".join(value.stderr.split())
    eu = run_cli("speed", crms["eu"], "-f", "json")
    assert "holidays still need a country" in " ".join(eu.stderr.split())


def test_check_warns_when_as_of_runs_past_the_data(crms: dict[str, Path], run_cli: RunCli,
                                                   tmp_path: Path) -> None:  # fmt: skip
    crm = crms["eu"]
    out = tmp_path / "sla"
    _json(run_cli("agree", crm, "--quota", "200000", "--out", out, "-f", "json",
                  "--bootstrap", "50"))  # fmt: skip
    far = run_cli("check", crm, "--policy", out / "sla.toml", "--as-of", "2026-12-01",
                  "-f", "json")  # fmt: skip
    text = " ".join(far.stderr.split())
    assert re.search(r"as-of 2026-12-01 is \d+ days after the last event in the data "
                     r"\(2026-06-30\)", text), text  # fmt: skip
    assert "--as-of 2026-06-30" in text
    near = run_cli("check", crm, "--policy", out / "sla.toml", "-f", "json")
    assert "days after the last event" not in near.stderr
    # at the data's end nothing is breached only because the export stops
    f, n = _json(far)["leads"], _json(near)["leads"]
    assert f["pending"] <= n["pending"] and f["breached"] >= n["breached"]


# --------------------------------------------------------------------------- the wall clock


def test_no_wall_clock_in_the_analyses() -> None:
    """No ``now()``/``today()``/``time.time()`` in the code that computes results (the live
    service, outside these packages, is the one place that may read the clock)."""
    pattern = re.compile(r"\b(now|today|utcnow)\(|time\.time\(|Timestamp\(\s*[\"']now")
    # the stage cache dates and ages its own entries (bookkeeping for eviction, in no result)
    allowed_files = {"io/cache.py"}
    hits = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith("service/"):
            continue
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and rel not in allowed_files:
                hits.append(f"{rel}:{i}: {line.strip()}")
    assert hits == []


@pytest.mark.parametrize("command", [["attempts", "--bootstrap", "50"], ["speed"]])
def test_the_same_output_whatever_the_date(command: list[str], crms: dict[str, Path],
                                           cli_env: dict[str, str]) -> None:  # fmt: skip
    """libfaketime sets the process's clock to 2026-01-01, then to 2027-06-01: same bytes."""
    faketime = shutil.which("faketime")
    if faketime is None:
        pytest.fail("faketime is missing: apt-get install faketime (scripts/test does)")
    outs = []
    for day in ("2026-01-01 09:00:00", "2027-06-01 09:00:00"):
        proc = subprocess.run(
            [faketime, day, sys.executable, "-c",
             "import datetime, sys; print(datetime.date.today(), file=sys.stderr); "
             "from leadsla.cli import main; sys.argv[0] = 'leadsla'; main()",
             command[0], str(crms["eu"]), "-f", "json", *command[1:]],
            capture_output=True, text=True, encoding="utf-8", env=cli_env, timeout=300,
            check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.startswith(day[:10])  # the clock was frozen at that date
        outs.append(proc.stdout)
    assert outs[0] == outs[1]


# --------------------------------------------------------------------------- user errors


def _user_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    text = " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr and "ValueError" not in text, proc.stderr
    assert "report it if it looks like a bug" not in text
    for n in needles:
        assert n in text, text
    return text


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["plan", "--quota", "400000", "--originated-share", "1.5", "--mql-value", "1600"],
         ["--originated-share", "1.5", "0.4 for 40%"]),
        (["plan", "--quota", "400000", "--originated-share", "0.4", "--mql-value", "0"],
         ["--mql-value", "0", "above 0"]),
        (["plan", "--quota", "-5", "--originated-share", "0.4", "--mql-value", "1600"],
         ["--quota", "-5"]),
        (["value", "postgres://leadsla:secret@127.0.0.1:1/x"],
         ["leadsla:***@127.0.0.1:1/x", "Connection refused", "server runs"]),
        (["value", "{crm}", "--as-of", "30/06/2026"], ["--as-of", "30/06/2026", "ISO 8601"]),
        (["check", "{crm}", "--policy", "{crm}/leads.csv", "--as-of", "yesterday"],
         ["yesterday", "ISO 8601"]),
    ],
)  # fmt: skip
def test_user_mistakes_are_one_paragraph(
    args: list[str], needles: list[str], crms: dict[str, Path], run_cli: RunCli
) -> None:
    argv = [a.replace("{crm}", str(crms["eu"])) for a in args]
    text = _user_error(run_cli(*argv), *needles)
    assert "secret" not in text
    verbose = run_cli("--verbose", *argv)
    assert verbose.returncode == 1 and "Traceback" in verbose.stderr
