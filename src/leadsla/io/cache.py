"""The stage cache: a source's typed, validated canonical tables kept in one DuckDB file.

A command on unchanged files skips reading, parsing and validating them: ``connect`` opens the
cached DuckDB file (read only) with the issues and the row accounting stored beside the tables,
so a warm run reports the same warnings and counts as the cold run that wrote it.

A table read from a Parquet file that needs no parsing (its columns already typed; the leads
excepted) is kept as views over the file, not as a copy of it: the entry holds the validation's
results and the typing as SQL, the file stays the data (the key fingerprints it). Activities
with rows left out (an unknown lead, after the as-of) are copied, marked.

The key of a source: leadsla's version and this cache's format, the source's absolute path,
for each input file its path, size, modification time and a hash of its first and last 64 KiB,
the mapping (its parsed rules and options), and every setting but those only the analyses read
(time zone, encoding, delimiter, decimal, null values, as-of, … are in the key). Any change
makes a miss, and the entry is rebuilt and replaced. Without an as-of date (``now``) an entry
is used only when its build left no activity out for being in the future (otherwise "now"
would move the counts).

One DuckDB file per source (the name is a hash of the source's path and the mapping), in
``$LEADSLA_CACHE_DIR``, else ``$XDG_CACHE_HOME/leadsla``, else ``~/.cache/leadsla``; at most
``$LEADSLA_CACHE_SIZE_MB`` (default 4096) MB in all: the least recently used files go first.
``LEADSLA_NO_CACHE=1`` (or ``--no-cache``) turns the cache off. An entry is written to a
temporary file and renamed into place, so two processes at once never see half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadsla.errors import Issue
from leadsla.io.files import find_file

FORMAT = 3  # bump when the stage's layout or the validation changes
HEAD_TAIL = 64 * 1024
DEFAULT_SIZE_MB = 4096
META = "_leadsla_cache"
DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")
STALE_TEMP_SECONDS = 24 * 3600
#: settings that change no reading nor validation (left out of the key)
ANALYSIS_SETTINGS = frozenset(
    {
        "currency",
        "attempt_kinds",
        "hourly_cost_eur",
        "attempts_per_hour",
        "margin",
        "stale_after_days",
        "maturity_quantile",
        "business_hours",
        "quota_eur",
        "quota_period",
        "quota_by_segment",
        "originated_share",
        "influenced_share",
        "seed",
        "memory_limit",
    }
)


def enabled(no_cache: bool = False) -> bool:
    """Whether the cache is on: not with ``--no-cache`` nor ``LEADSLA_NO_CACHE=1``."""
    flag = os.environ.get("LEADSLA_NO_CACHE", "").strip().lower()
    return not no_cache and flag in ("", "0", "false", "no")


def folder() -> Path:
    """The cache folder (created when first written)."""
    if d := os.environ.get("LEADSLA_CACHE_DIR"):
        return Path(d).expanduser()
    if d := os.environ.get("XDG_CACHE_HOME"):
        return Path(d).expanduser() / "leadsla"
    return Path.home() / ".cache" / "leadsla"


def size_cap() -> int:
    """The cache's size cap in bytes."""
    text = os.environ.get("LEADSLA_CACHE_SIZE_MB", "")
    try:
        mb = float(text) if text.strip() else DEFAULT_SIZE_MB
    except ValueError:
        mb = DEFAULT_SIZE_MB
    return int(mb * 1024 * 1024)


def input_files(path: Path, mapping: Any) -> list[Path] | None:
    """The files a source reads (as ``connect`` finds them); None when it is no file source."""
    if path.is_file() and path.suffix.lower() in DUCKDB_SUFFIXES:
        return [path]
    if not path.exists():
        return None
    lead_file = mapping.tables["leads"][0].source
    found = []
    for name, f in mapping.files.items():
        if path.is_file():
            hit = path if name == lead_file else find_file(path.parent, list(f.patterns))
        else:
            hit = find_file(path, list(f.patterns))
        if hit is not None:
            found.append(hit)
    return found


def _fingerprint(p: Path) -> dict[str, Any]:
    st = p.stat()
    h = hashlib.blake2b(digest_size=16)
    with p.open("rb") as f:
        h.update(f.read(HEAD_TAIL))
        if st.st_size > 2 * HEAD_TAIL:
            f.seek(-HEAD_TAIL, os.SEEK_END)
        h.update(f.read(HEAD_TAIL))
    return {
        "path": str(p.resolve()),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "head_tail": h.hexdigest(),
    }


@dataclass
class Entry:
    """The cache entry of one source under one key."""

    file: Path
    key: str
    now: bool  # no as-of date: valid only if nothing was left out as future

    @classmethod
    def of(cls, path: Path, mapping: Any, settings: Any) -> Entry | None:
        """The entry of a file source; None when the source cannot be cached."""
        from leadsla import __version__

        files = input_files(path, mapping)
        if not files:
            return None
        as_of = settings.as_of
        doc = {
            "format": FORMAT,
            "version": __version__,
            "source": str(path.resolve()),
            "files": [_fingerprint(p) for p in files],
            "mapping": repr(mapping),
            "mapping_raw": json.dumps(mapping.raw, sort_keys=True, default=str),
            # every setting but those only the analyses read (a new reading setting is
            # part of the key without a change here)
            "settings": {
                f.name: getattr(settings, f.name)
                for f in fields(settings)
                if f.name not in ANALYSIS_SETTINGS
            },
        }
        key = hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()
        name = hashlib.sha256(f"{path.resolve()}\0{mapping.name}".encode()).hexdigest()[:24]
        return cls(folder() / f"{name}.duckdb", key, as_of is None)

    def temp_file(self) -> Path:
        """A fresh file beside the entry to build into (renamed into place when complete)."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        return self.file.with_name(f"{self.file.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")

    def open(self, *, built: bool = False) -> tuple[Any, dict[str, Any]] | None:
        """The entry's DuckDB file opened read only, with its stored issues and accounting,
        when it is there and fits the key; else None (a miss). ``built``: this run just wrote
        it (its "now" is this run's)."""
        if not self.file.is_file():
            return None
        import duckdb
        import ibis

        try:
            con = ibis.duckdb.connect(str(self.file), read_only=True)
        except (duckdb.Error, OSError):
            return None  # a broken or foreign file: rebuilt and replaced
        try:
            row = con.con.execute(f"SELECT doc FROM {META}").fetchone()
            doc: dict[str, Any] = json.loads(row[0]) if row else {}
        except (duckdb.Error, ValueError):
            doc = {}
        if doc.get("key") != self.key or (self.now and doc.get("future") and not built):
            con.disconnect()
            return None
        try:
            os.utime(self.file)  # recently used: evicted last
        except OSError:
            pass
        return con, doc

    def write(
        self,
        con: Any,
        tables: list[str],
        issues: list[Issue],
        accounting: dict[str, Any],
        state: dict[str, Any],
    ) -> None:
        """Store the issues and accounting in the file being built (``con``), checkpointed."""
        future = any("activity after the as-of date" in a.excluded for a in accounting.values())
        doc = {
            "key": self.key,
            "written": datetime.now(UTC).isoformat(),
            "future": future,
            "tables": tables,
            "state": state,
            "issues": [asdict(i) for i in issues],
            "accounting": [
                {"table": a.table, "read": a.read, "excluded": dict(a.excluded)}
                for a in accounting.values()
            ],
        }
        con.con.execute(f"CREATE OR REPLACE TABLE {META} (doc VARCHAR)")
        con.con.execute(f"INSERT INTO {META} VALUES (?)", [json.dumps(doc)])
        con.con.execute("CHECKPOINT")

    def publish(self, temp: Path) -> None:
        """Rename the complete, closed file ``temp`` into place; keep the folder under its cap."""
        os.replace(temp, self.file)
        evict(self.file.parent, size_cap(), keep=self.file)


def memo(entry: Entry, name: str, compute: Any) -> Any:
    """A value derived from the entry's tables (``compute()``, JSON), kept in a file beside
    the entry under its key: computed once per entry, read back by later runs."""
    side = entry.file.with_name(f"{entry.file.stem}.{name}.json")
    try:
        doc = json.loads(side.read_text(encoding="utf-8"))
        if doc.get("key") == entry.key:
            return doc["value"]
    except (OSError, ValueError):
        pass
    value = compute()
    temp = side.with_name(f"{side.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        temp.write_text(json.dumps({"key": entry.key, "value": value}), encoding="utf-8")
        os.replace(temp, side)
    except OSError:
        temp.unlink(missing_ok=True)
    return value


def issues_of(doc: dict[str, Any]) -> list[Issue]:
    out = []
    for d in doc["issues"]:
        d = dict(d)
        d["rows"] = tuple(d.get("rows") or ())
        out.append(Issue(**d))
    return out


def evict(where: Path, cap: int, *, keep: Path | None = None) -> list[Path]:
    """Remove the least recently used entries until the folder holds at most ``cap`` bytes;
    also temporary files of builds that died (older than a day). Returns the removed files."""
    removed: list[Path] = []
    now = time.time()
    entries = []
    for p in where.glob("*"):
        try:
            st = p.stat()
        except OSError:
            continue
        if p.suffix == ".tmp" or p.name.endswith(".tmp.wal"):
            if now - st.st_mtime > STALE_TEMP_SECONDS:
                p.unlink(missing_ok=True)
                removed.append(p)
            continue
        if p.suffix == ".duckdb":
            entries.append((st.st_mtime, st.st_size, p))
    total = sum(size for _, size, _ in entries)
    for _, size, p in sorted(entries):
        if total <= cap:
            break
        if keep is not None and p == keep:
            continue
        p.unlink(missing_ok=True)
        removed.append(p)
        total -= size
        for side in where.glob(f"{p.stem}.*.json"):  # values kept beside the entry
            side.unlink(missing_ok=True)
    return removed
