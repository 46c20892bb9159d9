"""The stage cache (``leadsla.io.cache``): a warm run reports exactly what a cold one does.

Real DuckDB files in a temporary cache folder; cold (built), warm (read from the cache) and
uncached runs compared on the broken-input corpus, a synthetic CRM and the JSON of commands;
invalidation when a file changes; ``--no-cache``; the size cap; two processes at once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadsla.cli import app
from leadsla.io import cache
from leadsla.io.source import connect
from leadsla.settings import Settings

BROKEN = Path(__file__).resolve().parent / "broken"
CASES = sorted(p.name for p in BROKEN.iterdir() if (p / "expected.toml").is_file())
AS_OF = "2025-06-30T18:00:00+02:00"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh, empty cache folder for one test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("LEADSLA_CACHE_DIR", str(folder))
    monkeypatch.delenv("LEADSLA_NO_CACHE", raising=False)
    monkeypatch.delenv("LEADSLA_CACHE_SIZE_MB", raising=False)
    yield folder


@pytest.fixture
def crm(tmp_path: Path, synthetic_crm: Any) -> Path:
    """The small synthetic CRM as CSV files in a folder of its own (the test may change it)."""
    folder = tmp_path / "crm"
    folder.mkdir()
    for name in ("leads", "activities", "campaigns", "touches"):
        getattr(synthetic_crm, name).to_csv(folder / f"{name}.csv", index=False)
    return folder


def state(source: Path, **kw: Any) -> tuple[str | None, dict[str, Any]]:
    """How ``connect`` got the stage, and what it reports: issues, accounting, table sizes."""
    with connect(source, strict=False, **kw) as ws:
        return ws.cached, {
            "issues": [i.to_dict() for i in ws.issues],
            "accounting": [a.to_dict() for a in ws.accounting.values()],
            "rows": {t: int(ws.tables[t].count().execute()) for t in sorted(ws.tables)},
            "as_of": ws.as_of.isoformat() if kw.get("settings") else None,
            "state": (sorted(ws.leaks), ws.empty_rows, sorted(ws.style_failed)),
        }


def validate_json(args: list[str], env: dict[str, str] | None = None) -> tuple[int, Any]:
    result = CliRunner().invoke(app, ["validate", *args, "--format", "json"], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def corpus_args(case: str) -> list[str]:
    exp = tomllib.loads((BROKEN / case / "expected.toml").read_text(encoding="utf-8"))
    args = [str(BROKEN / case)]
    if "mapping" in exp:
        args += ["--mapping", str(BROKEN / case / exp["mapping"])]
    return args + list(exp.get("args", []))


@pytest.mark.parametrize("case", CASES)
def test_broken_corpus_warm_equals_cold(case: str, cache_dir: Path) -> None:
    """Every corpus folder: cold, warm and --no-cache runs print the same JSON and exit code;
    folders without errors are cached (their warm run reads the cache)."""
    args = corpus_args(case)
    cold = validate_json(args)
    stored = sorted(cache_dir.glob("*.duckdb")) if cache_dir.exists() else []
    warm = validate_json(args)
    off = validate_json([*args, "--no-cache"])
    assert cold == warm == off
    ok = cold[1]["ok"]
    assert len(stored) == (1 if ok else 0)  # errors are never cached: each run re-reads


def test_every_workspace_field_is_cached() -> None:
    """A field a build fills (beyond the tables, issues and accounting) must be kept in the
    cache, or a warm run would lose it: add it to CACHED_STATE and to _state/_cached."""
    from dataclasses import fields

    from leadsla.io.source import CACHED_STATE, Workspace

    handled = {"con", "source", "settings", "mapping", "tables", "issues", "accounting"}
    handled |= {"as_of", "temp_files", "temp_dirs", "cached", "cache_entry"}
    handled |= {"keep_open", "on_close"}  # a database/Spark source's lifecycle, never cached
    # the run's resolved zone and as-of travel together under the state's "run" key
    run = {"as_of_basis", "time_zone", "time_zone_basis", "time_zone_note", "last_event"}
    assert {f.name for f in fields(Workspace)} - handled - run == set(CACHED_STATE) - {"run"}
    import inspect

    from leadsla.io import source

    kept = inspect.getsource(source._state)
    assert all(f'"{name}"' in kept for name in run), "a run field is not stored in _state"


def test_synthetic_warm_equals_cold(crm: Path, cache_dir: Path) -> None:
    settings = Settings(as_of=datetime.fromisoformat(AS_OF))
    how_cold, cold = state(crm, settings=settings)
    how_warm, warm = state(crm, settings=settings)
    how_off, off = state(crm, settings=settings, cache=False)
    assert (how_cold, how_warm, how_off) == ("stored", "hit", None)
    assert cold == warm == off
    assert cold["rows"]["leads"] == 300 and cold["rows"]["activities"] > 300


@pytest.mark.parametrize("command", ["attempts", "value", "speed"])
def test_command_json_warm_equals_cold(command: str, crm: Path, cache_dir: Path) -> None:
    """The whole command's JSON (and its warnings) cold, warm and with --no-cache."""
    args = [command, str(crm), "--as-of", AS_OF, "--format", "json"]
    if command == "attempts":
        args += ["--bootstrap", "50"]
    runs = [CliRunner().invoke(app, a) for a in (args, args, [*args, "--no-cache"])]
    for r in runs:
        assert r.exit_code == 0, r.output
    outs = [json.loads(r.stdout) for r in runs]
    assert outs[0] == outs[1] == outs[2]
    warnings = [[line for line in r.stderr.splitlines() if "WARNING" in line] for r in runs]
    assert warnings[0] == warnings[1] == warnings[2]
    assert len(list(cache_dir.glob("*.duckdb"))) == 1


def test_changed_file_invalidates(crm: Path, cache_dir: Path) -> None:
    settings = Settings(as_of=datetime.fromisoformat(AS_OF))
    assert state(crm, settings=settings)[0] == "stored"
    assert state(crm, settings=settings)[0] == "hit"
    leads = crm / "leads.csv"
    # touched: a new modification time
    st = leads.stat()
    os.utime(leads, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert state(crm, settings=settings)[0] == "stored"
    assert state(crm, settings=settings)[0] == "hit"
    # rewritten with the same size and modification time, one status changed: the content
    # hash of head and tail tells
    text = leads.read_text(encoding="utf-8")
    before = state(crm, settings=settings)[1]
    st = leads.stat()
    changed = text.replace(",won,", ",bad,", 1)
    assert changed != text and len(changed) == len(text)
    leads.write_text(changed, encoding="utf-8")
    os.utime(leads, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert leads.stat().st_size == st.st_size
    how, after = state(crm, settings=settings)
    assert how is None  # an error now: built, not cached
    assert [i["code"] for i in after["issues"]] == ["unknown-status"]
    assert before["issues"] == []
    # a setting that changes the reading (the time zone) is another key
    leads.write_text(text, encoding="utf-8")
    assert state(crm, settings=settings)[0] == "stored"
    assert state(crm, settings=settings.replace(time_zone="Europe/Berlin"))[0] == "stored"
    assert state(crm, settings=settings.replace(null_values=("", "-")))[0] == "stored"
    # a setting only the analyses read is not
    assert state(crm, settings=settings.replace(null_values=("", "-"), seed=5))[0] == "hit"
    assert len(list(cache_dir.glob("*.duckdb"))) == 1  # one file per source, replaced


def test_no_cache_flag_and_env(crm: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _ = validate_json([str(crm), "--as-of", AS_OF, "--no-cache"])
    assert code == 0 and not cache_dir.exists()
    monkeypatch.setenv("LEADSLA_NO_CACHE", "1")
    assert state(crm)[0] is None
    assert not cache_dir.exists()


def test_without_as_of_the_data_fixes_the_as_of_and_entries_are_reused(
    crm: Path, cache_dir: Path, synthetic_crm: Any
) -> None:
    """Without --as-of the as-of is the data's latest event (never the wall clock), so an
    entry depends on the files alone: reused while they are unchanged, rebuilt when not."""
    how, first = state(crm)
    assert how == "stored"
    assert state(crm) == ("hit", first)
    acts = synthetic_crm.activities.copy()
    acts.loc[acts.index[0], "at"] = "2999-01-01T00:00:00+00:00"
    acts.to_csv(crm / "activities.csv", index=False)
    how, got = state(crm)
    assert how == "stored"  # the file changed
    assert state(crm) == ("hit", got)  # nothing moves with the clock
    assert not any(i["code"] == "activity-after-as-of" for i in got["issues"])


def test_size_cap_evicts_least_recently_used(
    tmp_path: Path, crm: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    shutil.copytree(crm, other)
    settings = Settings(as_of=datetime.fromisoformat(AS_OF))
    assert state(crm, settings=settings)[0] == "stored"
    first = sorted(cache_dir.glob("*.duckdb"))
    assert len(first) == 1
    os.utime(first[0], (1_000_000, 1_000_000))  # long unused
    size = first[0].stat().st_size
    # room for one entry and a half: storing the second evicts the first
    monkeypatch.setenv("LEADSLA_CACHE_SIZE_MB", str(1.5 * size / 2**20))
    assert state(other, settings=settings)[0] == "stored"
    left = sorted(cache_dir.glob("*.duckdb"))
    assert len(left) == 1 and left != first
    assert state(crm, settings=settings)[0] == "stored"  # evicted: built again
    assert state(other, settings=settings)[0] == "stored"  # and that evicted the other one
    # a temporary file of a build that died long ago goes too
    dead = cache_dir / "x.123.abcd.tmp"
    dead.write_bytes(b"half a file")
    os.utime(dead, (1_000_000, 1_000_000))
    assert dead in cache.evict(cache_dir, 10**12)
    assert not dead.exists()


def test_broken_cache_file_is_rebuilt(crm: Path, cache_dir: Path) -> None:
    settings = Settings(as_of=datetime.fromisoformat(AS_OF))
    _, cold = state(crm, settings=settings)
    (entry,) = cache_dir.glob("*.duckdb")
    entry.write_bytes(b"not a DuckDB file")
    how, again = state(crm, settings=settings)
    assert how == "stored" and again == cold


CONCURRENT = """
import json, sys
from datetime import datetime
from leadsla.io.source import connect
from leadsla.settings import Settings
s = Settings(as_of=datetime.fromisoformat(sys.argv[2]))
with connect(sys.argv[1], settings=s) as ws:
    print(json.dumps({"how": ws.cached,
                      "acc": [a.to_dict() for a in ws.accounting.values()],
                      "leads": int(ws.leads.count().execute())}))
"""


def test_two_processes_at_once(crm: Path, cache_dir: Path) -> None:
    """Two processes build the same entry at once: both succeed with the same figures, and
    the entry left behind is whole (a third run reads it)."""
    env = {**os.environ, "LEADSLA_CACHE_DIR": str(cache_dir)}
    cmd = [sys.executable, "-c", CONCURRENT, str(crm), AS_OF]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    outs = []
    for p in procs:
        out, errs = p.communicate(timeout=240)
        assert p.returncode == 0, errs
        outs.append(json.loads(out.strip().splitlines()[-1]))
    assert outs[0]["acc"] == outs[1]["acc"] and outs[0]["leads"] == 300
    assert {o["how"] for o in outs} <= {"stored", "hit"}
    third = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240, check=True)
    assert json.loads(third.stdout.strip().splitlines()[-1])["how"] == "hit"
    assert sorted(p.suffix for p in cache_dir.iterdir()) == [".duckdb"]  # no leftovers


def test_fingerprint_kept_beside_the_entry(crm: Path, cache_dir: Path) -> None:
    """The data fingerprint (a full sorted hash of every table) is computed once per entry:
    the same cold, warm (read back) and uncached."""
    from leadsla.io.fingerprint import data_fingerprint

    settings = Settings(as_of=datetime.fromisoformat(AS_OF))
    with connect(crm, settings=settings) as ws:
        cold = data_fingerprint(ws)
    assert len(list(cache_dir.glob("*.fingerprint-*.json"))) == 1
    with connect(crm, settings=settings) as ws:
        assert ws.cached == "hit"
        warm = data_fingerprint(ws)
    with connect(crm, settings=settings, cache=False) as ws:
        off = data_fingerprint(ws)
    assert cold == warm == off and cold.rows["leads"] == 300
