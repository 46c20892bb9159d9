"""``connect``: a source (folder, file, DuckDB file or database URL) as canonical Ibis tables."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import duckdb
import ibis
import ibis.expr.types as ir

from leadsla.clock import BusinessCalendar
from leadsla.errors import ConfigError, DataError, Issue, IssueSet
from leadsla.io import backends
from leadsla.io import cache as _cache
from leadsla.io import validate as v
from leadsla.io.files import PARQUET_SUFFIXES, RawFile, find_file, ident, load_file, sql_str
from leadsla.io.mapping import Compiled, Mapping, TableRule, compile_rule, load_mapping
from leadsla.io.typing_sql import (
    Reading,
    Style,
    decide,
    evidence_sql,
    fetch_evidence,
    raw_expr,
    typed_expr,
    unclean_sql,
)
from leadsla.io.zones import ISO_WITH_OFFSET, OFFSET_AT_END, ZoneGuess, infer_zone, parse_offset
from leadsla.schema import TABLES
from leadsla.settings import SETTINGS_FILE, Settings, load_settings
from leadsla.times import utc_literal

DUCKDB_SUFFIXES = (".duckdb", ".ddb", ".db")
#: How many days the as-of may lie past the data's last event before ``check`` warns.
AS_OF_GAP_DAYS = 7
_UNSET = datetime(1970, 1, 1, tzinfo=UTC)
AsOfBasis = Literal["given", "data"]
ZoneBasis = Literal["given", "data", "default"]


@dataclass
class Workspace:
    """The canonical tables of one source, validated, with the row accounting of the run.

    ``ws.leads`` and ``ws.activities`` are Ibis tables on the source's engine (DuckDB for
    files); every analysis takes them as inputs.

    Two instants of the run are resolved here once, for every analysis: ``as_of`` (given, else
    the latest event in the data: a lead created, closed or made an MQL, an activity, a touch
    — never the wall clock) and ``time_zone`` (given by flag, settings or mapping, else
    inferred from the UTC offsets the timestamps carry, else UTC). ``stamp()`` is what every
    analysis reports of them.
    """

    con: Any
    source: str
    settings: Settings
    mapping: Mapping
    tables: dict[str, ir.Table]
    issues: IssueSet
    accounting: dict[str, v.Accounting]
    as_of: datetime = _UNSET
    as_of_basis: AsOfBasis = "data"
    time_zone: str = "UTC"
    time_zone_basis: ZoneBasis = "default"
    time_zone_note: str = ""  # where the zone comes from, in words
    last_event: datetime | None = None  # the latest event in the data (UTC)
    temp_files: list[Path] = field(default_factory=list)
    temp_dirs: list[Path] = field(default_factory=list)
    keep_open: bool = False  # an engine the caller gave (a SparkSession): not ours to stop
    on_close: list[Callable[[], None]] = field(default_factory=list)
    # grouping columns filled (nearly) only for won leads: left out of default groupings
    leaks: set[str] = field(default_factory=set)
    # all-empty rows skipped in each loaded file (counted in the accounting of its table)
    empty_rows: dict[str, int] = field(default_factory=dict)
    # (table, column) whose number or date style could not be decided (already reported)
    style_failed: set[tuple[str, str]] = field(default_factory=set)
    #: the stage cache: "hit" (read from it), "stored" (built and written to it) or None (off)
    cached: str | None = None
    #: the cache entry the tables come from (results derived from them may be kept beside it)
    cache_entry: Any = None

    def stamp(self) -> dict[str, str]:
        """``as_of`` (ISO 8601 UTC), ``as_of_basis``, ``time_zone``, ``time_zone_basis``."""
        return {
            "as_of": self.as_of.astimezone(UTC).isoformat(),
            "as_of_basis": self.as_of_basis,
            "time_zone": self.time_zone,
            "time_zone_basis": self.time_zone_basis,
        }

    @property
    def time_zone_warning(self) -> str | None:
        """What a command using business time must say about the zone (None when given)."""
        if self.time_zone_basis == "data":
            return (
                f"time zone {self.time_zone} inferred from the data: {self.time_zone_note}. "
                "Business hours run in it; public holidays still need a country (holidays in "
                "[business_hours] of leadsla.toml), and --time-zone or time_zone in "
                "leadsla.toml fixes the zone."
            )
        if self.time_zone_basis == "default":
            return (
                f"no time zone given and none found in the data ({self.time_zone_note}): "
                "business hours run in UTC, which may be hours off the team's day. Give "
                '--time-zone (e.g. Europe/Berlin) or time_zone = "..." in leadsla.toml.'
            )
        return None

    def as_of_gap_warning(self, days: float = AS_OF_GAP_DAYS) -> str | None:
        """A warning when the as-of lies more than ``days`` after the data's last event."""
        last = self.last_event
        if last is None or self.as_of - last <= timedelta(days=days):
            return None
        gap = (self.as_of - last).total_seconds() / 86_400
        zone = ZoneInfo(self.time_zone)
        return (
            f"as-of {self.as_of.astimezone(zone):%Y-%m-%d} is {gap:,.0f} days after the last "
            f"event in the data ({last.astimezone(zone):%Y-%m-%d}): leads whose window runs "
            "past the data's end show as "
            "breached only because the export stops; pass --as-of "
            f"{last.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} (or leave --as-of out) to judge at "
            "the data's end."
        )

    @property
    def leads(self) -> ir.Table:
        return self.tables["leads"]

    @property
    def activities(self) -> ir.Table | None:
        return self.tables.get("activities")

    def has(self, name: str) -> bool:
        return name in self.tables

    def table(self, name: str) -> ir.Table:
        if name not in self.tables:
            raise DataError(
                Issue(
                    "ERROR",
                    "missing-table",
                    f"the source has no {name} table.",
                    file=self.source,
                    fix=f"Add a {name}.csv (or .parquet) file with the columns of SPEC.md, or "
                    "map one in the mapping file.",
                )
            )
        return self.tables[name]

    def calendar(self, config: dict[str, Any] | None = None, /) -> BusinessCalendar:
        """The business calendar: ``config``, else the settings' ``[business_hours]``, in the
        settings' time zone unless it names one; a relative ``holiday_ics`` is read beside the
        data."""
        cfg = dict(config if config is not None else self.settings.business_hours)
        cfg.setdefault("time_zone", self.settings.time_zone)
        ics = cfg.get("holiday_ics")
        src = Path(self.source)
        if isinstance(ics, str) and not Path(ics).is_absolute() and src.exists():
            cfg["holiday_ics"] = str((src if src.is_dir() else src.parent) / ics)
        where = "business calendar" if config is not None else f"{SETTINGS_FILE} [business_hours]"
        return BusinessCalendar.from_config(cfg, source=where)

    def close(self) -> None:
        try:
            for hook in self.on_close:
                hook()
            if not self.keep_open:
                self.con.disconnect()
        finally:
            for p in self.temp_files:
                p.unlink(missing_ok=True)
            for d in self.temp_dirs:
                shutil.rmtree(d, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(
    source: str | os.PathLike[str] | Any,
    /,
    *,
    mapping: str | Path | Mapping | None = None,
    settings: Settings | None = None,
    options: dict[str, str] | None = None,
    workspace: str | os.PathLike[str] | None = None,
    strict: bool = True,
    cache: bool = True,
) -> Workspace:
    """Open a source as canonical tables and validate it.

    ``source`` is a folder of CSV/Parquet files, one such file (the mapping's lead file), a
    DuckDB file, a database URL (``postgres://…``, ``pyspark://…``, any Ibis backend; see
    :mod:`leadsla.io.backends`), a ``SparkSession`` or an Ibis backend. With ``strict`` a
    source with errors raises :class:`DataError` listing every problem; warnings are kept in
    ``ws.issues``. With ``cache`` (and no ``workspace``) the typed, validated tables of a
    file source are kept in the stage cache (:mod:`leadsla.io.cache`) and reused while the
    files and the settings that read them are unchanged.

    >>> ws = connect("crm/")                                   # doctest: +SKIP
    >>> ws.leads.count().execute()                             # doctest: +SKIP
    """
    if not isinstance(source, str | os.PathLike):  # a SparkSession or an Ibis backend
        s0 = settings or load_settings(None)
        m0 = load_mapping(mapping if mapping is not None else s0.mapping)
        m0 = m0.with_options(options) if options else m0
        return _connect_backend(source, m0, s0, strict, "given")
    src = str(source)
    is_url = "://" in src and not Path(src).exists()
    path = Path(src)
    if not is_url and not path.exists():
        raise ConfigError(
            f"source {src} does not exist. Give a folder of CSV/Parquet files, a "
            "file, a DuckDB file or a database URL."
        )
    folder = None if is_url else path if path.is_dir() else path.parent
    s = settings or load_settings(folder)
    if mapping is None and s.mapping:  # the mapping named in leadsla.toml (leadsla init)
        named = Path(s.mapping)
        mapping = str(folder / named) if folder and (folder / named).is_file() else s.mapping
    m = load_mapping(mapping)
    if options:
        m = m.with_options(options)
    zone_note = "given"
    if s.time_zone is None and m.time_zone:
        s, zone_note = s.replace(time_zone=m.time_zone), f"the mapping {m.name}"
    if is_url and not src.startswith("duckdb://"):
        return _connect_backend(src, m, s, strict, zone_note)
    where = path if not is_url else Path(src.removeprefix("duckdb://"))
    entry = None
    if cache and workspace is None and _cache.enabled():
        entry = _cache.Entry.of(where, m, s)
    if entry is not None:
        hit = entry.open()
        if hit is not None:
            return _cached(hit, src, s, m, strict, "hit", entry)
        workspace = building = entry.temp_file()
    con = ibis.duckdb.connect(str(workspace) if workspace else ":memory:")
    ws = Workspace(con, src, s, m, {}, IssueSet(), {})
    _given_zone(ws, zone_note)
    ws.temp_dirs.append(_engine_settings(con, s))
    if entry is not None:  # a failed or erroneous build leaves nothing behind
        keep = [building, Path(f"{building}.wal")]
        ws.temp_files += keep
    try:
        # the cache keeps the stage and views over it (one copy of the data written);
        # a workspace file the canonical tables
        _build(ws, where, materialize=workspace is not None, stage_kept=entry is not None)
    except BaseException:
        ws.close()
        raise
    if entry is not None and not ws.issues.errors and "leads" in ws.tables:
        # the complete stage goes into the cache; the run then reads it as a warm one would
        entry.write(con, list(ws.tables), list(ws.issues), ws.accounting, _state(ws))
        ws.temp_files = [p for p in ws.temp_files if p not in keep]
        ws.close()
        entry.publish(building)
        hit = entry.open(built=True)
        if hit is None:  # replaced at once by another process's build under another key
            return connect(source, mapping=m, settings=s, strict=strict, cache=False)
        return _cached(hit, src, s, m, strict, "stored", entry)
    if strict and ws.issues.errors:
        ws.close()
        raise DataError(ws.issues)
    return ws


def _engine_settings(con: Any, s: Settings) -> Path:
    """No progress bar; the engine's memory limit, past which DuckDB spills to a temporary
    folder of ours (returned, removed on close)."""
    con.raw_sql("SET enable_progress_bar = false")
    spill = Path(tempfile.mkdtemp(prefix="leadsla-duckdb-"))
    con.raw_sql(f"SET temp_directory = {sql_str(str(spill))}")
    limit = os.environ.get("LEADSLA_MEMORY_LIMIT") or s.memory_limit
    if limit:
        con.raw_sql(f"SET memory_limit = {sql_str(limit)}")
    return spill


def _cached(
    hit: tuple[Any, dict[str, Any]],
    src: str,
    s: Settings,
    m: Mapping,
    strict: bool,
    how: str,
    entry: _cache.Entry,
) -> Workspace:
    """A workspace on a cache entry: its tables, the issues and accounting stored with them."""
    con, doc = hit
    ws = Workspace(con, src, s, m, {}, IssueSet(), {}, cached=how)
    ws.cache_entry = entry
    try:
        ws.temp_dirs.append(_engine_settings(con, s))
        ws.issues.extend(_cache.issues_of(doc))
        for a in doc["accounting"]:
            ws.accounting[a["table"]] = v.Accounting(a["table"], a["read"], dict(a["excluded"]))
        for table in doc["tables"]:
            ws.tables[table] = con.table(table)
        state = doc["state"]
        ws.leaks = set(state["leaks"])
        ws.empty_rows = dict(state["empty_rows"])
        ws.style_failed = {(t, c) for t, c in state["style_failed"]}
        _restore_run(ws, state["run"])
    except BaseException:
        ws.close()
        raise
    if strict and ws.issues.errors:
        ws.close()
        raise DataError(ws.issues)
    return ws


#: what a build finds beside the tables, the issues and the accounting, kept in the cache
#: (``run``: the as-of and time zone resolved from the data, and the data's last event)
CACHED_STATE = ("leaks", "empty_rows", "style_failed", "run")


def _state(ws: Workspace) -> dict[str, Any]:
    return {
        "leaks": sorted(ws.leaks),
        "empty_rows": dict(ws.empty_rows),
        "style_failed": sorted(ws.style_failed),
        "run": {
            "as_of": ws.as_of.isoformat(),
            "as_of_basis": ws.as_of_basis,
            "time_zone": ws.time_zone,
            "time_zone_basis": ws.time_zone_basis,
            "time_zone_note": ws.time_zone_note,
            "last_event": ws.last_event.isoformat() if ws.last_event else None,
        },
    }


def _restore_run(ws: Workspace, run: dict[str, Any]) -> None:
    """The as-of and zone of the build that wrote the cache entry (same files, same key)."""
    _set_zone(ws, run["time_zone"], run["time_zone_basis"], run["time_zone_note"])
    ws.as_of, ws.as_of_basis = datetime.fromisoformat(run["as_of"]), run["as_of_basis"]
    last = run["last_event"]
    ws.last_event = datetime.fromisoformat(last) if last else None


def _inputs(
    ws: Workspace, path: Path, *, keep: bool = False
) -> tuple[dict[str, RawFile], list[Issue]]:
    """Load every file the mapping names (or the tables of a DuckDB file); ``keep``: the
    views over Parquet files kept in the database (the stage cache's)."""
    con, m, s = ws.con, ws.mapping, ws.settings
    raws: dict[str, RawFile] = {}
    issues: list[Issue] = []
    if path.is_file() and path.suffix.lower() in DUCKDB_SUFFIXES:
        con.raw_sql(f"ATTACH {sql_str(str(path))} AS src (READ_ONLY)")
        have = {
            r[0].lower(): r[0]
            for r in con.raw_sql(
                "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'src'"
            ).fetchall()
        }
        for name, f in m.files.items():
            hit = next(
                (
                    have[p.split(".")[0].lower()]
                    for p in f.patterns
                    if p.split(".")[0].lower() in have
                ),
                None,
            )
            if hit is None:
                continue
            con.raw_sql(
                f"CREATE OR REPLACE TEMP VIEW {ident('raw_' + name)} AS SELECT *, "
                f"row_number() OVER () AS _row FROM src.main.{ident(hit)}"
            )
            desc = [
                r
                for r in con.raw_sql(f"DESCRIBE {ident('raw_' + name)}").fetchall()
                if r[0] != "_row"
            ]
            n = con.raw_sql(f"SELECT count(*) FROM {ident('raw_' + name)}").fetchone()[0]
            raws[name] = RawFile(
                name, path, tuple(r[0] for r in desc), tuple(r[1] for r in desc), int(n)
            )
        return raws, issues
    lead_file = m.tables["leads"][0].source
    for name, f in m.files.items():
        if path.is_file():
            found = path if name == lead_file else find_file(path.parent, list(f.patterns))
        else:
            found = find_file(path, list(f.patterns))
        if found is None:
            if f.required and (path.is_dir() or name != lead_file):
                where = path if path.is_dir() else path.parent
                issues.append(
                    Issue(
                        "ERROR",
                        "missing-file",
                        f"no file for {name} ({', '.join(f.patterns)}).",
                        file=str(where),
                        fix="Put the export in this folder under one of those names, or choose the "
                        "mapping that fits the export (--mapping).",
                    )
                )
            continue
        got = load_file(
            con,
            name,
            found,
            encoding=s.encoding,
            delimiter=s.delimiter,
            temp_files=ws.temp_files,
            sheet=f.sheet or s.sheet,
            keep=keep,
        )
        if isinstance(got, Issue):
            issues.append(got)
        else:
            raws[name] = got
            issues.extend(got.notes)
    return raws, issues


def _text_stage(ws: Workspace, rule: TableRule, raws: dict[str, RawFile]) -> Compiled | None:
    headers = {n: r.columns for n, r in raws.items()}
    files = {n: r.path.name for n, r in raws.items()}
    if rule.source not in raws:
        return None
    return compile_rule(rule, ws.mapping, headers, files)


def _given_zone(ws: Workspace, note: str) -> None:
    """The zone of the flags, settings or mapping, when one was given."""
    if ws.settings.time_zone is not None:
        ws.time_zone, ws.time_zone_basis, ws.time_zone_note = ws.settings.time_zone, "given", note


def _set_zone(ws: Workspace, zone: str, basis: ZoneBasis, note: str) -> None:
    ws.time_zone, ws.time_zone_basis, ws.time_zone_note = zone, basis, note
    ws.settings = ws.settings.replace(time_zone=zone)


def _infer_zone(ws: Workspace, texts: dict[str, list[tuple[str, dict[str, str]]]]) -> None:
    """The zone from the offsets of the timestamps written as text (before typing them)."""
    if ws.time_zone_basis == "given":
        return
    parts = []
    for table, views in texts.items():
        stamps = [c.name for c in TABLES[table].columns if c.kind == "timestamp"]
        for view, types in views:
            for col in stamps:
                if types.get(col, "").upper() != "VARCHAR":
                    continue
                v = f"trim({ident(col)})"
                parts.append(
                    f"SELECT DISTINCT regexp_extract({v}, {sql_str(OFFSET_AT_END)}, 1) AS o, "
                    f"left({v}, 13) AS h FROM {view} "
                    f"WHERE regexp_matches({v}, {sql_str(ISO_WITH_OFFSET)})"
                )
    guess = ZoneGuess(None, (), (), 0, why="no timestamp is written as text with an offset")
    if parts:
        rows = ws.con.raw_sql(" UNION ".join(parts)).fetchall()
        pairs = [(off, str(h)) for o, h in rows if (off := parse_offset(str(o))) is not None]
        guess = infer_zone(pairs)
    if guess.zone is None:
        _set_zone(ws, "UTC", "default", guess.why)
    else:
        _set_zone(ws, guess.zone, "data", guess.describe())


def _resolve_as_of(ws: Workspace, last: datetime | None) -> None:
    """``--as-of`` (naive: in the workspace zone), else the data's latest event."""
    ws.last_event = last
    given = ws.settings.as_of
    if given is not None:
        at = given if given.tzinfo else given.replace(tzinfo=ZoneInfo(ws.time_zone))
        ws.as_of, ws.as_of_basis = at.astimezone(UTC), "given"
    elif last is not None:
        ws.as_of, ws.as_of_basis = last, "data"
    # no timestamp at all: no lead to analyse (validation reports why); as_of stays unset


def _latest_event(
    ws: Workspace, stages: dict[str, tuple[ir.Table, set[str], str]]
) -> datetime | None:
    """The latest lead creation, close, MQL, activity or touch among the rows kept."""
    found: list[datetime] = []
    leads = stages["leads"][0]
    kept_leads = leads.filter(leads._exclude.isnull())
    for table, cols in (("leads", ("created_at", "closed_at", "mql_at")),
                        ("activities", ("at",)), ("touches", ("at",))):  # fmt: skip
        if table not in stages:
            continue
        t = stages[table][0]
        t = t.filter(t._exclude.isnull())
        if table == "leads" or "at" not in t.columns:
            found += _maxima(t, cols)
            continue
        found += _latest_of_kept(t, kept_leads)
    return max(found) if found else None


#: how many leads the rows at the latest time may name to be checked by their ids
LATEST_IDS = 64


def _latest_of_kept(t: ir.Table, kept_leads: ir.Table) -> list[datetime]:
    """The latest ``at`` of the rows of ``t`` whose lead is kept, cheapest first: the latest
    of all rows (from the files' statistics when DuckDB reads a column as the file holds it)
    when a row at that time has a kept lead (a look-up of their few ids); else the latest of
    the top 64 rows of a kept lead; else of every row joined with the leads."""
    last = _maxima(t, ("at",))
    if not last:
        return []
    at_last = t.filter(t.at >= utc_literal(last[0]))
    ids = v.rows_of(at_last.select("lead_id").distinct().limit(LATEST_IDS + 1))
    named = [r["lead_id"] for r in ids if r["lead_id"] is not None]
    if named and len(ids) <= LATEST_IDS:
        hits = kept_leads.filter(kept_leads.lead_id.isin(named))
        if v.count_rows(hits):
            return last
    # the latest row of a kept lead is among the latest rows: a top-64 first (a cheap
    # scan), the semi-join of every row with the leads only when none of those is kept
    top = t.filter(t.at.notnull()).order_by(t.at.desc()).limit(64)
    hit = _maxima(top.filter(top.lead_id.isin(kept_leads.lead_id)), ("at",))
    return hit or _maxima(t.filter(t.lead_id.isin(kept_leads.lead_id)), ("at",))


def latest_event(
    leads: ir.Table, /, activities: ir.Table | None = None, touches: ir.Table | None = None
) -> datetime:
    """The latest event in canonical tables: a lead created, closed or made an MQL, an
    activity, a touch. What ``ws.as_of`` is without ``--as-of``; analyses called on bare
    tables without an ``as_of`` use it on the tables they were given."""
    found = _maxima(leads, ("created_at", "closed_at", "mql_at"))
    for t in (activities, touches):
        if t is not None:
            found += _maxima(t, ("at",))
    if not found:
        raise DataError(
            Issue(
                "ERROR",
                "no-as-of",
                "the data hold no timestamp to take the as-of instant from.",
                fix="Give an as-of instant (--as-of 2026-06-30T18:00Z).",
            )
        )
    return max(found)


def _maxima(t: ir.Table, cols: tuple[str, ...]) -> list[datetime]:
    have = [c for c in cols if c in t.columns]
    if not have:
        return []
    row = v.rows_of(t.aggregate(**{c: t[c].max() for c in have}))[0]
    return [
        (x if x.tzinfo else x.replace(tzinfo=UTC)).astimezone(UTC)
        for x in row.values()
        if isinstance(x, datetime)
    ]


def _build(ws: Workspace, path: Path, *, materialize: bool, stage_kept: bool = False) -> None:
    raws, issues = _inputs(ws, path, keep=stage_kept)
    ws.issues.extend(issues)
    ws.empty_rows = {n: r.empty_rows for n, r in raws.items() if r.empty_rows}
    if any(i.severity == "ERROR" for i in issues) and "leads" not in {
        r.table for rules in ws.mapping.tables.values() for r in rules if r.source in raws
    }:
        return
    built: list[tuple[str, list[Compiled], set[str], str]] = []
    for table, rules in ws.mapping.tables.items():
        parts = []
        present: set[str] = set()
        label = ""
        for rule in rules:
            compiled = _text_stage(ws, rule, raws)
            if compiled is None:
                continue
            ws.issues.extend(compiled.issues)
            if compiled.issues and any(i.severity == "ERROR" for i in compiled.issues):
                continue
            parts.append(compiled)
            present |= compiled.present
            label = label or raws[rule.source].path.name
        if parts:
            built.append((table, parts, present, label))
    texts: dict[str, list[tuple[str, dict[str, str]]]] = {}
    stages: dict[str, tuple[ir.Table, set[str], str]] = {}
    for step in ("text", "typed"):
        if step == "typed":  # the zone from the text's offsets, before naive times are typed
            _infer_zone(ws, texts)
        for table, parts, present, label in built:
            try:
                if step == "text":
                    texts[table] = _text_views(ws, table, parts, raws, keep=stage_kept)
                elif table in texts:
                    # (the leads stay a copy: read from a view over the file, the last digit
                    # of a float sum in the analyses moved — tests/golden demo-agree)
                    view = table != "leads" and all(_over_parquet(p, raws) for p in parts)
                    stage = _typed_stage(
                        ws,
                        table,
                        parts,
                        texts[table],
                        present,
                        kept=stage_kept,
                        view=view,
                        raws=raws,
                    )
                    stages[table] = (stage, present, label)
            except duckdb.Error as e:  # a binder error in a mapping's SQL expression
                texts.pop(table, None)
                ws.issues.add(
                    Issue(
                        "ERROR",
                        "mapping-sql",
                        f"the mapping's SQL for {table} fails: {str(e).splitlines()[0]}",
                        file=label,
                        fix=f"Fix the sql rule in {ws.mapping.origin}.",
                    )
                )
    if "leads" not in stages:
        if ws.settings.as_of is not None:
            _resolve_as_of(ws, None)
        return
    _resolve_as_of(ws, _latest_event(ws, stages))
    _validate_and_publish(ws, stages, "VIEW" if stage_kept else "TABLE" if materialize else "")


def _over_parquet(part: Compiled, raws: dict[str, RawFile]) -> bool:
    """Whether a part is a plain selection of the columns of one Parquet file (no join, no SQL
    rule): its stage can be a view over the file rather than a copy of it."""
    rule = part.rule
    plain = not rule.joins and not any(c.sql or c.row_number for c in rule.columns.values())
    raw = raws.get(rule.source)
    return plain and raw is not None and raw.path.suffix.lower() in PARQUET_SUFFIXES


def _text_views(
    ws: Workspace,
    table: str,
    parts: list[Compiled],
    raws: dict[str, RawFile] | None = None,
    *,
    keep: bool = False,
) -> list[tuple[str, dict[str, str]]]:
    """One view per part of the text stage, with its columns' engine types (kept in the
    database with ``keep`` when every part is a view over a Parquet file)."""
    out = []
    over_files = raws is not None and all(_over_parquet(p, raws) for p in parts)
    for i, part in enumerate(parts):
        text = ident(f"_text_{table}_{i}")
        # a plain selection of columns stays a view (read twice: the styles' evidence and
        # the stage; no copy of the data); joins and SQL rules are computed once, into a table
        rule = part.rule
        plain = not rule.joins and not any(c.sql or c.row_number for c in rule.columns.values())
        kind = "VIEW" if plain else "TABLE"
        temp = "" if keep and over_files else "TEMP "
        ws.con.raw_sql(f"CREATE OR REPLACE {temp}{kind} {text} AS {part.sql}")
        types = {r[0]: r[1] for r in ws.con.raw_sql(f"DESCRIBE {text}").fetchall()}
        out.append((text, types))
    return out


def _typed_stage(
    ws: Workspace,
    table: str,
    parts: list[Compiled],
    views: list[tuple[str, dict[str, str]]],
    present: set[str],
    *,
    kept: bool = False,
    view: bool = False,
    raws: dict[str, RawFile] | None = None,
) -> ir.Table:
    """The typed stage of ``table``: a table, or with ``view`` (parts over the Parquet files
    of ``raws``) a view over the files — no copy of the data."""
    con = ws.con
    spec = TABLES[table]
    texts = [(part, text, types) for part, (text, types) in zip(parts, views, strict=True)]
    # the original text is kept only where parsing can fail: text read as a timestamp or number
    with_raw = {
        c.name
        for c in spec.columns
        if c.kind != "string" and any(t.get(c.name, "VARCHAR") == "VARCHAR" for _, _, t in texts)
    }
    nulls = ws.settings.null_values
    selects = []
    for part, text, types in texts:
        styles = _styles(ws, table, part, text, types, nulls)
        clean = set()
        if raws is not None:
            file = raws[part.rule.source]
            clean = _clean_text(ws, table, text, types, nulls, file, copy=not view)
        cols = ["_file", "_row", "_exclude"]
        for col in spec.columns:
            # an unmapped column (an option left empty) takes no default either
            rule = part.rule.columns.get(col.name) if col.name in part.present else None
            src_type = types.get(col.name, "VARCHAR")
            zone = ws.mapping.data_time_zone or ws.time_zone
            reading = Reading(zone, nulls, styles.get(col.name, Style()), col.name in clean)
            cols.append(f"{typed_expr(col, src_type, rule, reading)} AS {ident(col.name)}")
            if col.name in with_raw:
                raw = raw_expr(col, src_type, rule, reading)
                cols.append(f"{raw} AS {ident(col.name + '__raw')}")
        selects.append(f"SELECT {', '.join(cols)} FROM {text}")
    # one pass over the input: every check and the canonical tables read this table
    stage_name = ident(f"_stage_{table}")
    temp = "" if kept else "TEMP "
    kind = "VIEW" if view else "TABLE"
    con.raw_sql(f"CREATE OR REPLACE {temp}{kind} {stage_name} AS {' UNION ALL '.join(selects)}")
    return con.table(f"_stage_{table}")


def _clean_text(
    ws: Workspace,
    table: str,
    text: str,
    types: dict[str, str],
    nulls: tuple[str, ...],
    raw: RawFile,
    *,
    copy: bool = False,
) -> set[str]:
    """The text columns of a part whose values need no trimming and hold no null spelling
    (one query over the part): the stage reads them as they are. Checked: those the Parquet
    file stores with a dictionary (a few values: checked at no cost) and, for a view, the
    required columns. The others keep their cleaning in the view, done only by the queries
    that read them (checking them here would cost a read of each, e.g. the unique ids no
    analysis reads); a ``copy`` cleans them once anyway, so checking its other columns saves
    nothing. Each column's distinct values are checked, not its rows: the columns checked
    are categories, or the lead id the rows of an activity or touch table share (7.8M
    activities, 1M lead ids: 0.6 s, not 1.0 s)."""
    if not copy or raw.path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            coded = {
                str(r[0]).lower()
                for r in ws.con.raw_sql(
                    "SELECT path_in_schema FROM parquet_metadata("
                    f"{sql_str(str(raw.path.resolve()))}) GROUP BY 1 "
                    "HAVING bool_and(encodings LIKE '%DICTIONARY%')"
                ).fetchall()
            }
        except duckdb.Error:
            coded = set()
    else:
        coded = set()
    cols = [
        c.name
        for c in TABLES[table].columns
        if c.kind == "string"
        and ((c.required and not copy) or c.name.lower() in coded)
        and types.get(c.name, "").upper() == "VARCHAR"
    ]
    if not cols:
        return set()
    counts = ws.con.raw_sql(
        "SELECT "
        + ", ".join(
            f"(SELECT {unclean_sql('v', nulls)} FROM (SELECT DISTINCT {ident(c)} AS v FROM {text}))"
            for c in cols
        )
    ).fetchone()
    return {c for c, n in zip(cols, counts, strict=True) if int(n or 0) == 0}


def _styles(
    ws: Workspace,
    table: str,
    part: Compiled,
    text: str,
    types: dict[str, str],
    nulls: tuple[str, ...],
) -> dict[str, Style]:
    """Each text column's number and date style, decided by one query over its values."""
    spec = TABLES[table]
    sql = evidence_sql(text, [(c, types.get(c.name, "VARCHAR")) for c in spec.columns], nulls)
    if sql is None:
        return {}
    label = ws.con.raw_sql(f"SELECT any_value(_file) FROM {text}").fetchone()[0] or text
    evidence = fetch_evidence(ws.con, sql)
    decided = {
        ev.column: decide(
            ev,
            part.rule.columns.get(ev.column),
            decimal=ws.settings.decimal,
            date_order=ws.settings.date_order,
            file=label,
        )
        for ev in evidence
    }
    # a column whose values say nothing follows the other columns of its file when they
    # agree (one export, one locale): 03/02/2025 beside 30/01/2025 in another column
    kinds = {ev.column: ev.kind for ev in evidence}
    for kind, code, attr in (
        ("timestamp", "ambiguous-date", "date_order"),
        ("number", "ambiguous-number", "decimal"),
    ):
        told = {
            getattr(st, attr)
            for c, (st, issue) in decided.items()
            if kinds[c] == kind and issue is None and _told(ev_of(evidence, c), attr)
        }
        if len(told) == 1:
            order = told.pop()
            for c, (_st, issue) in list(decided.items()):
                if issue is not None and issue.code == code:
                    decided[c] = (Style(**{attr: order}), None)
    out = {}
    for c, (style, issue) in decided.items():
        out[c] = style
        if issue is not None:
            ws.issues.add(issue)
            ws.style_failed.add((table, c))
    return out


def ev_of(evidence: list[Any], column: str) -> Any:
    return next(ev for ev in evidence if ev.column == column)


def _told(ev: Any, attr: str) -> bool:
    """Whether the column's own values decided its style (not a setting, not a default)."""
    if attr == "date_order":
        return bool(ev.counts["dmy"] or ev.counts["mdy"])
    return bool(ev.counts["."] or ev.counts[","])


def _validate_and_publish(
    ws: Workspace, stages: dict[str, tuple[ir.Table, set[str], str]], kind: str
) -> None:
    """Every check on the stages; then the canonical tables as ``kind`` (TABLE or VIEW in
    the database, else a TEMP VIEW) of the rows kept."""
    con = ws.con
    canonical: dict[str, str] = {}
    marked: dict[str, int] = {}  # rows the mapping excludes, per table
    for table, (stage, present, label) in stages.items():
        acc = v.Accounting(table)
        for row in v.rows_of(stage.group_by("_exclude").aggregate(n=ibis._.count())):
            reason, n = row["_exclude"], row["n"]
            acc.read += int(n)
            if isinstance(reason, str):
                acc.excluded[reason] = int(n)
                marked[table] = marked.get(table, 0) + int(n)
        for rule in ws.mapping.tables.get(table, ())[:1]:
            if n_empty := ws.empty_rows.get(rule.source, 0):
                acc.read += n_empty
                acc.excluded["empty row"] = n_empty
        ws.accounting[table] = acc
        kept = stage.filter(stage._exclude.isnull())
        fills = {c for c, _ in _fill_rules(ws, table)}
        checks = v.value_checks(
            kept,
            table,
            present,
            filled=fills,
            reported={c for t, c in ws.style_failed if t == table},
        )
        if table == "leads":
            checks += v.lead_checks(kept, present)
        issues, _ = v.run_checks(kept, checks, label)
        ws.issues.extend(_with_severity(ws, issues))
        if table == "leads":
            leaks = v.leak_issues(kept, present, _defaults(ws, table), label)
            ws.issues.extend(leaks)
            ws.leaks |= {i.column for i in leaks if i.column}
            dup = v.duplicate_issue(kept, "lead_id", label)
            if dup:
                ws.issues.add(dup)
        # the filled timestamps (missing = "latest")
        canonical[table] = _canonical_select(ws, table)
    leads_stage = stages["leads"][0]
    latest = _fill_warnings(ws, stages)
    if "activities" in stages:
        stage, present, label = stages["activities"]
        kept = stage.filter(stage._exclude.isnull())
        counted = _activity_counts(kept, leads_stage, ws.as_of)
        checks = v.activity_checks(kept, leads_stage, ws.as_of)
        issues, excluded = v.run_checks(kept, checks, label, counts=counted.checks)
        ws.issues.extend(issues)
        for reason, n in excluded.items():
            ws.accounting["activities"].excluded[reason] = n
        n_excluded = counted.excluded_lead
        if n_excluded:
            ws.accounting["activities"].excluded["activity for an excluded lead"] = n_excluded
        # mark the rows left out, so the canonical table is a plain filter of the stage (the
        # rows the checks counted: none, and there is nothing to mark)
        if sum(excluded.values()) or n_excluded:
            _mark_left_out(ws)
        created = leads_stage.filter(leads_stage._exclude.isnull()).select(
            "lead_id", lead_created_at="created_at"
        )
        joined = kept.inner_join(created, "lead_id")
        timing = v.activity_timing_checks(joined)
        issues, _ = v.run_checks(joined, timing, label, counts=counted.timing)
        ws.issues.extend(_with_severity(ws, issues))
    kind = kind or "TEMP VIEW"
    for table, select in canonical.items():
        where = "_exclude IS NULL"
        sql = select.replace("{latest}", sql_str(latest.isoformat()))
        con.raw_sql(
            f"CREATE OR REPLACE {kind} {ident(table)} AS SELECT {sql} "
            f"FROM {ident('_stage_' + table)} WHERE {where}"
        )
        ws.tables[table] = con.table(table)


@dataclass(frozen=True)
class _ActivityCounts:
    checks: list[int]  # of v.activity_checks, in order
    excluded_lead: int  # activities of a lead the mapping excludes
    timing: list[int] | None  # of v.activity_timing_checks (None: count them on the join)


def _activity_counts(kept: ir.Table, leads: ir.Table, as_of: datetime) -> _ActivityCounts:
    """The activity checks, the activities of excluded leads and the timing checks, counted
    in one query: the kept activities left-joined once with their lead's id counts (whether
    it exists, is kept, and when it was created), not one join (or IN list) per check.

    The timing checks run on the activities still kept after those of unknown or excluded
    leads and after the as-of are left out (``_mark_left_out``), joined with their kept
    lead: the rows of a kept lead not after the as-of. Counted exactly unless such a lead
    appears twice (a duplicate id: one activity joined twice), when the join counts them.
    """
    ids = leads.filter(leads.lead_id.notnull())
    is_kept = ids._exclude.isnull()
    ids = ids.group_by(_lid=ids.lead_id).aggregate(
        _kept_n=ibis.ifelse(is_kept, 1, 0).sum(),
        lead_created_at=ids.created_at.max(where=is_kept),
    )
    j = kept.left_join(ids, kept.lead_id == ids._lid)
    j = j.mutate(_known=j._kept_n.notnull(), _live=j._kept_n.fill_null(0) > 0)
    checks = v.activity_checks(j, leads, as_of, known=j._known, live=j._live)
    after = (j["at"] > utc_literal(as_of)).fill_null(False)
    still = j._live & ~after
    timing = [c.cond & still for c in v.activity_timing_checks(j)]
    conds = [
        *(c.cond for c in checks),
        j.lead_id.notnull() & j._known & ~j._live,
        still & (j._kept_n > 1),
        *timing,
    ]
    n = v.count_checks(j, conds)
    k = len(checks)
    return _ActivityCounts(n[:k], n[k], None if n[k + 1] else n[k + 2 :])


def _mark_left_out(ws: Workspace) -> None:
    """Set ``_exclude`` of the activities of unknown or excluded leads and of those after the
    as-of; a stage that is a view over a file becomes a table first (the rows to mark are
    few files' worth of exceptions, the copy the price of them)."""
    con = ws.con
    view = con.raw_sql(
        "SELECT temporary FROM duckdb_views() WHERE view_name = '_stage_activities'"
    ).fetchone()
    if view is not None:
        temp = "TEMP " if view[0] else ""
        con.raw_sql(
            f"CREATE {temp}TABLE _stage_activities__copy AS SELECT * FROM _stage_activities"
        )
        con.raw_sql("DROP VIEW _stage_activities")
        con.raw_sql("ALTER TABLE _stage_activities__copy RENAME TO _stage_activities")
    as_of_sql = f"{sql_str(ws.as_of.isoformat())}::TIMESTAMPTZ"
    con.raw_sql(
        "UPDATE _stage_activities SET _exclude = CASE "
        # (ids only: one lead without an id would make every NOT IN unknown)
        "WHEN lead_id NOT IN (SELECT lead_id FROM _stage_leads WHERE lead_id IS NOT NULL) "
        "THEN 'activity for an unknown lead' "
        "WHEN lead_id NOT IN (SELECT lead_id FROM _stage_leads WHERE _exclude IS NULL "
        "AND lead_id IS NOT NULL) "
        "THEN 'activity for an excluded lead' "
        "ELSE 'activity after the as-of date' END "
        "WHERE _exclude IS NULL AND lead_id IS NOT NULL AND ("
        "lead_id NOT IN (SELECT lead_id FROM _stage_leads WHERE _exclude IS NULL "
        f'AND lead_id IS NOT NULL) OR "at" > {as_of_sql})'
    )


def _with_severity(ws: Workspace, issues: list[Issue]) -> list[Issue]:
    """Apply the mapping's [severity] overrides."""
    out = []
    for i in issues:
        sev = ws.mapping.severity.get(i.code)
        out.append(dataclasses.replace(i, severity=sev) if sev else i)  # type: ignore[arg-type]
    return out


def _defaults(ws: Workspace, table: str) -> dict[str, str | None]:
    """Each column's default value (a rule's ``default``), which counts as not filled."""
    out: dict[str, str | None] = {}
    for rule in ws.mapping.tables.get(table, ()):
        for col, r in rule.columns.items():
            out.setdefault(col, r.default)
    return out


def _fill_rules(ws: Workspace, table: str) -> list[tuple[str, Any]]:
    out = []
    for rule in ws.mapping.tables.get(table, ()):
        for col, r in rule.columns.items():
            if r.missing == "latest":
                out.append((col, r))
    return out


def _fill_warnings(ws: Workspace, stages: dict[str, tuple[ir.Table, set[str], str]]) -> datetime:
    """Warn, per column the mapping fills (``missing = "latest"``), how many kept rows it
    dates at the latest date in the data; returns that date. Shared by the file path and
    :mod:`leadsla.io.backends`."""
    latest = _latest(ws, stages["leads"][0])
    for table, (stage, _present, label) in stages.items():
        for col, _rule in _fill_rules(ws, table):
            kept = stage.filter(stage._exclude.isnull())
            n = v.count_rows(kept.filter(v.raw_of(kept, col).isnull()))
            if n:
                ws.issues.add(
                    Issue(
                        "WARNING",
                        "filled",
                        f"{n:,} rows have no {col}; they are dated at the "
                        f"latest date in the data, {latest:%Y-%m-%d}.",
                        file=label,
                        column=col,
                        count=1,
                        fix="Fill the column in the export for exact dates.",
                    )
                )
    return latest


def _latest(ws: Workspace, leads: ir.Table) -> datetime:
    cols = [c for c in ("created_at", "closed_at", "mql_at") if c in leads.columns]
    vals = _maxima(leads, tuple(cols))
    if not vals:
        return ws.as_of
    return max(vals)


def _canonical_select(ws: Workspace, table: str) -> str:
    spec = TABLES[table]
    fills = {c for c, _ in _fill_rules(ws, table)}
    out = []
    for col in spec.columns:
        c = ident(col.name)
        if col.name in fills:
            out.append(f"COALESCE({c}, {{latest}}::TIMESTAMPTZ) AS {c}")
        elif table == "leads" and col.name == "segment":
            out.append(f"COALESCE({c}, 'all') AS {c}")
        elif table == "leads" and col.name == "mql_at":
            out.append(f"COALESCE({c}, created_at) AS {c}")
        elif table == "leads" and col.name == "closed_at":
            out.append(f"CASE WHEN {c} < created_at THEN created_at ELSE {c} END AS {c}")
        else:
            out.append(c)
    return ", ".join(out)


def redact(url: str) -> str:
    """A database URL without its password (``postgres://u:***@host/db``)."""
    head, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    return f"{head}{sep}{creds.split(':', 1)[0]}:***@{host}"


def _open_url(url: str) -> Any:
    """``ibis.connect``, its failures (refused, unknown database, bad scheme) as ConfigError."""
    try:
        return ibis.connect(url)
    except Exception as e:  # the driver's own exception types (psycopg, sqlite3, …)
        first = next((line.strip() for line in str(e).splitlines() if line.strip()), "")
        first = first.replace(url, redact(url))
        raise ConfigError(
            f"cannot open the database {redact(url)}: {first or type(e).__name__}. Check that "
            "the server runs and accepts connections on that host and port, that the database "
            "exists and the user may read it; URLs look like "
            "postgresql://USER:PASSWORD@HOST:5432/DATABASE or sqlite:///path/to/file.db."
        ) from e


def _sqlite_in_duckdb(path: Path) -> Any:
    """The canonical tables of a SQLite file copied into an in-memory DuckDB, timestamps as
    UTC instants. SQLite keeps times as text, and Ibis's SQLite backend writes them in two
    formats (``2026-01-02 10:00:00`` literals, ``2026-01-02T10:00:00+00:00`` temporary
    tables) that do not compare as instants; DuckDB does."""
    import pyarrow as pa
    import pyarrow.compute as pc

    src = ibis.sqlite.connect(str(path))
    con = ibis.duckdb.connect(":memory:")
    con.raw_sql("SET enable_progress_bar = false")
    try:
        have = set(src.list_tables())
        for name in TABLES:
            if name not in have:
                continue
            t = src.table(name).to_pyarrow()
            cols = []
            for field_ in t.schema:
                col = t[field_.name]
                if pa.types.is_timestamp(field_.type) and field_.type.tz is None:
                    col = pc.cast(col, pa.timestamp(field_.type.unit, tz="UTC"))
                cols.append(col)
            view = f"_leadsla_sqlite_{name}"
            con.con.register(view, pa.table(cols, names=t.schema.names))
            con.raw_sql(f"CREATE TABLE {ident(name)} AS SELECT * FROM {ident(view)}")
            con.con.unregister(view)
    finally:
        src.disconnect()
    return con


def _backend(url: str) -> Any:
    """An Ibis connection; ``sqlite:///x.db`` is relative to the working folder (SQLAlchemy's
    reading, ``sqlite:////abs/x.db`` absolute) and must exist; ``postgresql+psycopg://`` is
    read as ``postgresql://``."""
    scheme, _, rest = url.partition("://")
    if scheme == "sqlite":
        path = Path(rest[1:] if rest.startswith("/") else rest).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"source {url}: no SQLite file at {path.resolve()}. Check the path "
                "(sqlite:///relative.db or sqlite:////absolute/path.db)."
            )
        return _sqlite_in_duckdb(path.resolve())
    if scheme.startswith("postgresql+") or scheme == "postgres":
        url = "postgresql://" + rest
    return _open_url(url)


def _connect_backend(
    source: Any, m: Mapping, s: Settings, strict: bool, zone_note: str
) -> Workspace:
    """A database or Spark source: staged and validated on its own engine (io/backends.py).

    The zone: given (flags, settings, mapping), else UTC — a database's timestamps carry no
    offsets to infer one from; the as-of: given, else the latest event (resolved in the
    build, before the checks that use it).
    """
    ws: Workspace = backends.connect_backend(
        source, m, s, strict, workspace=Workspace, helpers=sys.modules[__name__], opener=_backend,
        zone_note=zone_note,
    )  # fmt: skip
    return ws
