"""``leadsla validate``: the broken-input corpus (tests/broken/), the CLI contract, CSV reading.

Every folder of tests/broken/ runs through the real command line in a subprocess (exit code,
the printed message with file, row, column and fix, no traceback) and in-process with
``--format json`` (the exact code, row, column and row accounting).
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer.main
from typer.testing import CliRunner

import leadsla
from leadsla.cli import app

BROKEN = Path(__file__).resolve().parent / "broken"
RunCli = Callable[..., subprocess.CompletedProcess[str]]
CASES = sorted(p.name for p in BROKEN.iterdir() if (p / "expected.toml").is_file())
ISSUE_KEYS = set("severity code message file row column value fix count rows".split())


def expected(case: str) -> dict[str, Any]:
    return tomllib.loads((BROKEN / case / "expected.toml").read_text(encoding="utf-8"))


def case_args(case: str, exp: dict[str, Any]) -> list[str]:
    """SOURCE and the options of ``leadsla validate`` for a corpus folder."""
    folder = BROKEN / case
    args = [str(folder)]
    if "mapping" in exp:
        args += ["--mapping", str(folder / exp["mapping"])]
    return args + list(exp.get("args", []))


def where(issue: dict[str, Any]) -> str:
    """The place an issue names, as printed: ``leads.csv, row 3, column created_at``."""
    parts = [issue["file"]]
    if "row" in issue:
        parts.append(f"row {issue['row']:,}")
    if "column" in issue:
        parts.append(f"column {issue['column']}")
    return ", ".join(parts)


def case_command(case: str, *extra: str) -> tuple[str, ...]:
    return ("validate", *case_args(case, expected(case)), *extra)


MISSING = BROKEN / "no-such-crm"
EXTRA_COMMANDS = [
    ("validate", str(BROKEN / "several-problems"), "--format", "json"),
    ("validate", str(MISSING)),
    ("--verbose", "validate", str(MISSING)),
    ("validate", str(BROKEN / "won-without-revenue"), "--as-of", "yesterday"),
]


@pytest.fixture(scope="module")
def cli(run_cli: RunCli) -> dict[tuple[str, ...], subprocess.CompletedProcess[str]]:
    """Every command line of this module, run up front, side by side (each starts Python)."""
    commands = [case_command(c) for c in CASES]
    commands += [
        case_command(c, *expected(c)["fixed"]["args"]) for c in CASES if "fixed" in expected(c)
    ]
    commands += EXTRA_COMMANDS
    with ThreadPoolExecutor(max_workers=min(4, max(2, os.cpu_count() or 2))) as pool:
        return dict(zip(commands, pool.map(lambda c: run_cli(*c), commands), strict=True))


def test_the_corpus_covers_every_problem() -> None:
    codes = {i["code"] for case in CASES for i in expected(case)["issues"]}
    assert codes >= {
        "missing-column",
        "timestamp",
        "duplicate-id",
        "unknown-status",
        "closed-without-date",
        "closed-before-created",
        "negative-revenue",
        "won-without-revenue",
        "orphan-activity",
        "activity-after-as-of",
        "empty-file",
        "encoding",
        "mapping-column",
    }
    assert (BROKEN / "empty-file" / "leads.csv").stat().st_size == 0


@pytest.mark.parametrize("case", CASES)
def test_case_on_the_command_line(case: str, cli: dict[tuple[str, ...], Any]) -> None:
    exp = expected(case)
    proc = cli[case_command(case)]
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output
    assert proc.returncode == exp["exit"], output
    lines = output.splitlines()
    for issue in exp["issues"]:
        head = f"{issue['severity']} {where(issue)}: "
        hits = [
            line
            for line in lines
            if line.startswith(head) and all(m in line for m in issue["message"])
        ]
        assert len(hits) == 1, f"no line {head!r}… with {issue['message']}:\n{output}"
        for fix in issue["fix"]:
            assert fix in hits[0], f"the fix {fix!r} is missing:\n{hits[0]}"
    n_errors = sum(i["severity"] == "ERROR" for i in exp["issues"])
    n_warnings = sum(i["severity"] == "WARNING" for i in exp["issues"])
    assert f"{n_errors} error(s), {n_warnings} warning(s)" in output
    if "fixed" in exp:
        fixed = cli[case_command(case, *exp["fixed"]["args"])]
        assert "Traceback" not in fixed.stdout + fixed.stderr
        assert fixed.returncode == exp["fixed"]["exit"], fixed.stdout + fixed.stderr
        assert "0 error(s)" in fixed.stdout


@pytest.mark.parametrize("case", CASES)
def test_case_as_json(case: str) -> None:
    exp = expected(case)
    result = CliRunner().invoke(app, ["validate", *case_args(case, exp), "--format", "json"])
    assert result.exit_code == exp["exit"], result.output
    doc = json.loads(result.stdout)
    assert doc["ok"] is (exp["exit"] == 0)
    got = doc["issues"]
    # every error is expected: none hides another, none is reported twice
    assert sorted(i["code"] for i in got if i["severity"] == "ERROR") == sorted(
        i["code"] for i in exp["issues"] if i["severity"] == "ERROR"
    )
    for issue in exp["issues"]:
        hits = [i for i in got if i["code"] == issue["code"] and i["file"] == issue["file"]]
        assert len(hits) == 1, got
        hit = hits[0]
        assert hit["severity"] == issue["severity"]
        assert hit["row"] == issue.get("row")
        assert hit["column"] == issue.get("column")
        if "rows" in issue:
            assert hit["rows"] == issue["rows"]
        assert all(f in hit["fix"] for f in issue["fix"])
    accounting = {a["table"]: a for a in doc["accounting"]}
    for table, acc in exp.get("accounting", {}).items():
        assert accounting[table] == {"table": table, **acc}
        assert acc["read"] == acc["used"] + sum(acc["excluded"].values())


def test_json_output_keys_and_every_error_at_once(cli: dict[tuple[str, ...], Any]) -> None:
    proc = cli[EXTRA_COMMANDS[0]]
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) == {"ok", "issues", "accounting"}
    assert doc["ok"] is False
    assert all(set(i) == ISSUE_KEYS for i in doc["issues"])
    # validate everything first, then fail once: six errors in two files, one run
    assert len([i for i in doc["issues"] if i["severity"] == "ERROR"]) == 6
    assert {i["file"] for i in doc["issues"]} == {"leads.csv", "activities.csv"}
    assert doc["accounting"] == [{"table": "leads", "read": 6, "used": 6, "excluded": {}}]


def test_traceback_only_with_verbose(cli: dict[tuple[str, ...], Any]) -> None:
    assert not MISSING.exists()
    quiet = cli[EXTRA_COMMANDS[1]]
    assert quiet.returncode == 1
    assert "Traceback" not in quiet.stdout + quiet.stderr
    assert "does not exist" in quiet.stderr
    assert "a folder of CSV/Parquet files" in quiet.stderr
    loud = cli[EXTRA_COMMANDS[2]]
    assert loud.returncode == 1
    assert "Traceback" in loud.stderr
    assert "does not exist" in loud.stderr


def test_usage_error_exits_2(cli: dict[tuple[str, ...], Any]) -> None:
    proc = cli[EXTRA_COMMANDS[3]]
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert '--as-of "yesterday" is not an ISO 8601 instant' in proc.stderr


# --- reading CSV files ------------------------------------------------------------------------

HEADER = "lead_id,created_at,status,closed_at,revenue"


def read_leads(folder: Path, **settings: Any) -> tuple[pd.DataFrame, list[leadsla.Issue]]:
    """The canonical leads of ``folder`` by lead_id, and every issue (there must be no error)."""
    s = leadsla.load_settings(folder, **settings)
    with leadsla.connect(folder, settings=s) as ws:
        assert not ws.issues.errors, [str(i) for i in ws.issues.errors]
        return ws.leads.execute().set_index("lead_id").sort_index(), list(ws.issues)


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC")


def test_semicolon_delimiter_is_detected(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(
        "lead_id;created_at;status;closed_at;revenue;campaign\n"
        "L1;2025-01-06T09:00:00+01:00;won;2025-02-03T12:00:00+01:00;1200.5;Webinar\n"
        "L2;2025-01-07T09:00:00+01:00;open;;;Trade show\n",
        encoding="utf-8",
    )
    leads, _ = read_leads(tmp_path)
    assert list(leads.index) == ["L1", "L2"]
    assert leads.loc["L1", "revenue"] == 1200.5
    assert leads.loc["L2", "campaign"] == "Trade show"


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_bytes(
        b"\xef\xbb\xbf" + f"{HEADER}\nL1,2025-01-06T09:00:00Z,open,,\n".encode()
    )
    leads, issues = read_leads(tmp_path)
    assert list(leads.index) == ["L1"]  # lead_id found: the BOM is not part of the header
    assert leads.loc["L1", "created_at"] == utc("2025-01-06T09:00:00Z")
    assert issues == []


def test_quoted_fields_hold_delimiters_and_quotes(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(
        f"{HEADER},campaign,owner\n"
        'L1,2025-01-06,won,2025-02-01,"1,234.50","Spring, EMEA","Smith, ""JJ"" Jane"\n'
        "L2,2025-01-07,open,,,plain,ana\n",
        encoding="utf-8",
    )
    leads, _ = read_leads(tmp_path)
    assert leads.loc["L1", "campaign"] == "Spring, EMEA"
    assert leads.loc["L1", "owner"] == 'Smith, "JJ" Jane'
    assert leads.loc["L1", "revenue"] == 1234.5  # thousands separator inside the quotes
    assert leads.loc["L2", "owner"] == "ana"


def test_apostrophes_do_not_change_the_quote_character(tmp_path: Path) -> None:
    """Found by test_accounting_props: the sniffer took ' as the quote and split "9,539.11"."""
    (tmp_path / "leads.csv").write_text(
        f"{HEADER},campaign,owner\n"
        "L1,2025-01-06,won,2025-02-01,\"9,539.11\",Rock 'n' Roll,O'Brien\n"
        "L2,2025-01-07,open,,,\"b'Z, c\",''\n",
        encoding="utf-8",
    )
    leads, _ = read_leads(tmp_path)
    assert leads.loc["L1", "revenue"] == 9539.11
    assert leads.loc["L1", "campaign"] == "Rock 'n' Roll"
    assert leads.loc["L1", "owner"] == "O'Brien"
    assert leads.loc["L2", "campaign"] == "b'Z, c"
    assert leads.loc["L2", "owner"] == "''"


def test_empty_strings_are_null(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(
        f"{HEADER},campaign,owner,segment,mql_at\n"
        'L1,2025-01-06,open,,,"",  ,,\n'
        'L2,2025-01-07,open,"","","","",smb,""\n',
        encoding="utf-8",
    )
    leads, issues = read_leads(tmp_path)
    assert issues == []  # an empty closed_at or revenue is no bad date or number
    assert leads[["campaign", "owner", "revenue", "closed_at"]].isna().all(axis=None)
    assert leads.loc["L1", "segment"] == "all"  # missing segment -> all (SPEC.md)
    assert leads.loc["L2", "segment"] == "smb"
    assert (leads["mql_at"] == leads["created_at"]).all()  # missing mql_at -> created_at


def test_empty_closed_at_of_a_closed_lead_is_missing(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(f'{HEADER}\nL1,2025-01-06,lost,"",\n', encoding="utf-8")
    with leadsla.connect(tmp_path, strict=False) as ws:
        assert [(i.code, i.row) for i in ws.issues] == [("closed-without-date", 2)]


def test_empty_strings_are_null_in_required_columns(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(
        f'{HEADER}\nL1,2025-01-06,open,,\n"",2025-01-07,open,,\n', encoding="utf-8"
    )
    with leadsla.connect(tmp_path, strict=False) as ws:
        [issue] = ws.issues.errors
    assert (issue.code, issue.file, issue.row, issue.column) == (
        "missing-value",
        "leads.csv",
        3,
        "lead_id",
    )


def test_timestamps_with_and_without_offset(tmp_path: Path) -> None:
    """Without an offset a time is wall-clock time in the workspace zone (Europe/Berlin)."""
    (tmp_path / "leadsla.toml").write_text('time_zone = "Europe/Berlin"\n', encoding="utf-8")
    (tmp_path / "leads.csv").write_text(
        f"{HEADER},mql_at\n"
        "W,2025-01-15 10:00,open,,,2025-01-15T10:00:00\n"  # winter: CET, UTC+1
        "S,2025-07-15 10:00:00,open,,,2025-07-15T10:00:00.250\n"  # summer: CEST, UTC+2
        "D,2025-03-30 03:30,open,,,2025-03-30 01:30\n"  # the day clocks go forward
        "O,2025-07-15T10:00:00+05:30,open,,,2025-07-15T10:00:00-0400\n"  # offsets win
        "Z,2025-07-15T10:00:00Z,open,,,2025-07-15 10:00:00+00\n",
        encoding="utf-8",
    )
    leads, issues = read_leads(tmp_path)
    assert issues == []
    expect = {
        "W": ("2025-01-15T09:00:00Z", "2025-01-15T09:00:00Z"),
        "S": ("2025-07-15T08:00:00Z", "2025-07-15T08:00:00.250Z"),
        "D": ("2025-03-30T01:30:00Z", "2025-03-30T00:30:00Z"),
        "O": ("2025-07-15T04:30:00Z", "2025-07-15T14:00:00Z"),
        "Z": ("2025-07-15T10:00:00Z", "2025-07-15T10:00:00Z"),
    }
    for lead, (created, mql) in expect.items():
        assert leads.loc[lead, "created_at"] == utc(created), lead
        assert leads.loc[lead, "mql_at"] == utc(mql), lead
    assert str(leads["created_at"].dtype) in ("datetime64[us, UTC]", "datetime64[ns, UTC]")


def test_time_zone_flag_overrides_the_settings_file(tmp_path: Path) -> None:
    (tmp_path / "leadsla.toml").write_text('time_zone = "Europe/Berlin"\n', encoding="utf-8")
    (tmp_path / "leads.csv").write_text(f"{HEADER}\nL1,2025-01-15 10:00,open,,\n", encoding="utf-8")
    leads, _ = read_leads(tmp_path, time_zone="America/New_York")
    assert leads.loc["L1", "created_at"] == utc("2025-01-15T15:00:00Z")


def test_date_only_values_are_midnight_in_the_workspace_zone(tmp_path: Path) -> None:
    (tmp_path / "leadsla.toml").write_text('time_zone = "Europe/Berlin"\n', encoding="utf-8")
    (tmp_path / "leads.csv").write_text(
        f"{HEADER}\n"
        "L1,2025-01-14,won,2025-10-14,500\n"  # "-14" ends a date; it is not an offset
        "L2,2025-07-01,lost,2025-07-02,\n",
        encoding="utf-8",
    )
    leads, issues = read_leads(tmp_path)
    assert issues == []
    assert leads.loc["L1", "created_at"] == utc("2025-01-13T23:00:00Z")
    assert leads.loc["L1", "closed_at"] == utc("2025-10-13T22:00:00Z")
    assert leads.loc["L2", "created_at"] == utc("2025-06-30T22:00:00Z")
    assert leads.loc["L2", "closed_at"] == utc("2025-07-01T22:00:00Z")


LATIN = f"{HEADER},owner\nL1,2025-01-06,open,,,José Müller\nL2,2025-01-07,open,,,Zoë\n"


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_encoding_setting(tmp_path: Path, encoding: str) -> None:
    (tmp_path / "leads.csv").write_bytes(LATIN.encode(encoding))
    with leadsla.connect(tmp_path, strict=False) as ws:
        assert [i.code for i in ws.issues.errors] == ["encoding"]
    leads, _ = read_leads(tmp_path, encoding=encoding)
    assert leads.loc["L1", "owner"] == "José Müller"
    assert leads.loc["L2", "owner"] == "Zoë"


def test_encoding_in_the_settings_file_and_temporary_copies_removed(tmp_path: Path) -> None:
    (tmp_path / "leadsla.toml").write_text('encoding = "cp1252"\n', encoding="utf-8")
    (tmp_path / "leads.csv").write_bytes(LATIN.replace("Zoë", "Zoë €").encode("cp1252"))
    # uncached: the copy lives as long as the workspace (cached, it goes with the build)
    ws = leadsla.connect(tmp_path, cache=False)
    try:
        owners = set(ws.leads.execute()["owner"])
        copies = list(ws.temp_files)
    finally:
        ws.close()
    assert owners == {"José Müller", "Zoë €"}
    assert copies and not any(p.exists() for p in copies)


def test_unknown_encoding_is_a_data_issue(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text(f"{HEADER}\nL1,2025-01-06,open,,\n", encoding="utf-8")
    s = leadsla.load_settings(tmp_path, encoding="klingon-8")
    with leadsla.connect(tmp_path, settings=s, strict=False) as ws:
        [issue] = ws.issues.errors
    assert issue.code == "encoding" and issue.file == "leads.csv"
    assert "latin-1" in issue.fix


# --- every command and option documented ---------------------------------------------------------


def walk(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """(path, command) for the app and every command and subcommand under it."""
    out = [(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        out += walk(sub, (*path, name))
    return out


COMMANDS = walk(typer.main.get_command(app))


def test_every_command_and_option_has_help() -> None:
    assert len(COMMANDS) > 3
    missing = []
    for path, command in COMMANDS:
        name = " ".join(("leadsla", *path))
        if not (command.help or "").strip():
            missing.append(name)
        missing += [f"{name} {p.name}" for p in command.params if not (p.help or "").strip()]
    assert missing == [], f"commands or options without help text: {missing}"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "leadsla")
def test_help_shows_every_option(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    command = dict(COMMANDS)[path]
    for p in command.params:
        shown = p.opts[0] if p.param_type_name == "option" else p.name
        assert shown in result.output, f"{shown} is not in the help of {path}"
        start = " ".join(p.help.split()[:4])  # the help's first words (before any wrapping)
        assert start in " ".join(result.output.split()), f"{p.name}: {start!r} not shown"
