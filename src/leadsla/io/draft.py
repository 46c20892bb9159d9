"""``leadsla init``: look at an export and draft a mapping and the settings for it.

Two ways. When the files fit a shipped mapping (every required file found, every column the
leads rule reads present), the draft is that mapping, recognised. Otherwise each column's role
is guessed from its header and its values (one aggregate query per file, in the engine):
ids (unique, filled), timestamps and their date order, statuses (few values that the
built-in synonyms or a yes/no flag explain), amounts and their decimal mark, owner, campaign,
segment. Each guess carries a confidence and what to check; the mapping is written with those
as comments.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis

from leadsla.errors import ConfigError
from leadsla.io.files import (
    CSV_SUFFIXES,
    PARQUET_SUFFIXES,
    SPREADSHEET_SUFFIXES,
    RawFile,
    find_file,
    ident,
    load_file,
    sql_str,
)
from leadsla.io.mapping import (
    DEFAULT_STATUS_SYNONYMS,
    _fold,
    compile_rule,
    load_mapping,
    shipped_mappings,
)
from leadsla.io.typing_sql import (
    OFFSET_RE,
    ColumnEvidence,
    Style,
    decide,
    evidence_sql,
    fetch_evidence,
    number_vote,
    parse_naive,
    text_of,
)
from leadsla.schema import Column

DATA_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES + SPREADSHEET_SUFFIXES
TRUE_WORDS = {"1", "yes", "y", "true", "t", "si", "sim", "oui", "ja", "won", "converted"}
FALSE_WORDS = {"0", "no", "n", "false", "f", "nao", "non", "nein", "lost"}


@dataclass
class Guess:
    """One canonical column's guess: the rule (TOML text), confidence and what to check."""

    column: str
    rule: str
    confidence: str  # "high", "medium", "low"
    why: str
    check: str = ""


@dataclass
class Draft:
    """What ``init`` found: a shipped mapping recognised, or guesses for a new mapping."""

    source: Path
    files: list[Path]
    shipped: str | None = None
    lead_file: Path | None = None
    guesses: list[Guess] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def mapping_text(self, time_zone: str) -> str:
        if self.shipped is not None:
            return _shipped_text(self.shipped, self.notes)
        return _draft_text(self, time_zone)


def data_files(source: Path) -> list[Path]:
    """The data files of a folder (or the file itself), by name."""
    if source.is_file():
        return [source]
    return sorted(
        p
        for p in source.iterdir()
        if p.is_file() and p.suffix.lower() in DATA_SUFFIXES and not p.name.startswith("~$")
    )


def draft(source: Path, *, encoding: str = "utf-8", delimiter: str | None = None) -> Draft:
    """Look at ``source`` (a folder or a file) and draft its mapping."""
    files = data_files(source)
    if not files:
        raise ConfigError(
            f"{source}: no data file (.csv, .xlsx, .ods, .parquet) to look at. Give the folder "
            "that holds the CRM export."
        )
    d = Draft(source, files)
    con = ibis.duckdb.connect()
    try:
        raws: dict[str, RawFile] = {}
        for i, p in enumerate(files):
            got = load_file(con, f"f{i}", p, encoding=encoding, delimiter=delimiter)
            if isinstance(got, RawFile):
                raws[p.name] = got
            else:
                d.notes.append(f"{p.name}: {got.message} {got.fix}")
        if not raws:
            raise ConfigError(f"{source}: none of the files can be read ({'; '.join(d.notes)}).")
        fit = _fitting_shipped(source, raws)
        if fit is not None:
            d.shipped = fit
            d.notes.insert(0, f"the files fit the shipped mapping {fit}")
            return d
        lead = max(raws.values(), key=lambda r: (r.rows, len(r.columns)))
        d.lead_file = lead.path
        if len(raws) > 1:
            d.notes.append(
                f"{lead.path.name} is read as the leads ({lead.rows:,} rows); the other files "
                f"({', '.join(n for n in raws if n != lead.path.name)}) are not used: join "
                "them in the mapping if they hold the outcome or the amounts"
            )
        _guess_columns(con, lead, d)
    finally:
        con.disconnect()
    return d


def _fitting_shipped(source: Path, raws: dict[str, RawFile]) -> str | None:
    """The shipped mapping whose files and columns the export has (most files used wins)."""
    folder = source if source.is_dir() else source.parent
    best: tuple[int, str] | None = None
    by_path = {r.path: r for r in raws.values()}
    for name in sorted(shipped_mappings()):
        m = load_mapping(name)
        headers: dict[str, tuple[str, ...]] = {}
        labels: dict[str, str] = {}
        ok = True
        for fname, f in m.files.items():
            found = find_file(folder, list(f.patterns))
            if source.is_file() and found != source:
                found = found if found is not None and found in by_path else None
            if found is None or found not in by_path:
                if f.required:
                    ok = False
                    break
                continue
            headers[fname] = by_path[found].columns
            labels[fname] = found.name
        if not ok:
            continue
        for rule in m.tables["leads"]:
            if rule.source not in headers:
                ok = False
                break
            if compile_rule(rule, m, headers, labels).issues:
                ok = False
                break
        if ok and (best is None or len(headers) > best[0]):
            best = (len(headers), name)
    return best[1] if best else None


def _shipped_text(name: str, notes: list[str]) -> str:
    text = shipped_mappings()[name].read_text(encoding="utf-8")
    head = (
        f"# Drafted by `leadsla init`: the files fit the shipped mapping {name!r}, copied here\n"
        "# to adapt (its options, synonyms and files). The time zone is in leadsla.toml.\n"
    )
    # the time zone answered to init (leadsla.toml) applies, not the mapping's example zone
    text = re.sub(r"(?m)^time_zone\s*=.*$", lambda mt: "# " + mt.group(0), text)
    return head + "\n" + text


# --- guessing each column's role ------------------------------------------------------------

NAME_HINTS: dict[str, list[str]] = {
    "lead_id": [
        r"\blead.?id\b",
        r"\bprospect.?id\b",
        r"\brecord.?id\b",
        r"\bmql.?id\b",
        r"\bopportunity.?id\b",
        r"\bcontact.?id\b",
        r"^id$",
        r"_id$",
        r"\bid\b",
        r"\bnumber\b",
    ],
    "created_at": [
        r"creat",
        r"first.?contact",
        r"engage",
        r"\bdate\b",
        r"fecha",
        r"datum",
        r"\bdata\b",
        r"opened",
        r"start",
    ],
    "closed_at": [r"clos", r"won.?date", r"cierre", r"fech.*cierre", r"end"],
    "status": [
        r"status",
        r"stage",
        r"estado",
        r"converted",
        r"outcome",
        r"result",
        r"^y$",
        r"\bwon\b",
        r"etapa",
    ],
    "revenue": [
        r"revenue",
        r"amount",
        r"value",
        r"importe",
        r"valor",
        r"montant",
        r"betrag",
        r"price",
        r"deal.?size",
        r"close.?value",
    ],
    "owner": [
        r"owner",
        r"\brep\b",
        r"agent",
        r"assigned",
        r"sales.?person",
        r"\bsr.?id\b",
        r"responsable",
        r"propriet",
    ],
    "campaign": [
        r"campaign",
        r"lead.?source",
        r"\bsource\b",
        r"origin",
        r"utm",
        r"channel",
        r"campa",
    ],
    "segment": [
        r"segment",
        r"industry",
        r"sector",
        r"vertical",
        r"tier",
        r"company.?size",
        r"region",
        r"specialization",
    ],
}


@dataclass
class Profile:
    """What one column's values look like (from one aggregate query)."""

    name: str
    filled: int
    distinct: int
    dates: int  # values that read as a date or time
    numbers: int  # values that read as a number
    values: list[str]  # up to 20 most frequent values
    evidence_number: ColumnEvidence | None = None
    evidence_date: ColumnEvidence | None = None


def _profiles(con: Any, raw: RawFile) -> list[Profile]:
    """Every column's profile: counts in one query, the most frequent values in another."""
    view = ident("raw_" + raw.name)
    aggs, tops = [], []
    for i, col in enumerate(raw.columns):
        v = text_of(ident(col))
        date = (
            f"({v} IS NOT NULL AND (regexp_matches({v}, {sql_str(OFFSET_RE)}) OR "
            f"{parse_naive(v, Style(date_order='dmy'))} IS NOT NULL OR "
            f"{parse_naive(v, Style(date_order='mdy'))} IS NOT NULL) "
            f"AND NOT regexp_matches({v}, '^[0-9]+([.,][0-9]+)?$'))"
        )
        number = f"({v} IS NOT NULL AND {number_vote(v)} IN ('.', ',', '?', '0'))"
        aggs.append(
            f"count({v}), count(DISTINCT {v}), count(*) FILTER (WHERE {date}), "
            f"count(*) FILTER (WHERE {number})"
        )
        tops.append(
            f"SELECT {i} AS i, list(v ORDER BY n DESC, v)[1:20] AS top FROM "
            f"(SELECT {v} AS v, count(*) AS n FROM {view} WHERE {v} IS NOT NULL GROUP BY 1)"
        )
    if not aggs:
        return []
    row = con.raw_sql(f"SELECT {', '.join(aggs)} FROM {view}").fetchone()
    top_of = {int(i): t or [] for i, t in con.raw_sql(" UNION ALL ".join(tops)).fetchall()}
    out = [
        Profile(
            col,
            int(row[4 * i]),
            int(row[4 * i + 1]),
            int(row[4 * i + 2]),
            int(row[4 * i + 3]),
            [str(x) for x in top_of.get(i, [])],
        )
        for i, col in enumerate(raw.columns)
    ]
    cols = [(Column(p.name, "float"), "VARCHAR") for p in out]
    sql = evidence_sql(view, cols)
    if sql:
        by = {e.column: e for e in fetch_evidence(con, sql)}
        for p in out:
            p.evidence_number = by.get(p.name)
    cols = [(Column(p.name, "timestamp"), "VARCHAR") for p in out]
    sql = evidence_sql(view, cols)
    if sql:
        by = {e.column: e for e in fetch_evidence(con, sql)}
        for p in out:
            p.evidence_date = by.get(p.name)
    return out


def _name_score(role: str, name: str) -> int:
    """How well a header names a role: 0 (not at all) to len(hints) (the first hint)."""
    hints = NAME_HINTS[role]
    low = name.lower().replace("_", " ")
    for i, h in enumerate(hints):
        if re.search(h, low) or re.search(h, name.lower()):
            return len(hints) - i
    return 0


def _q(name: str) -> str:
    """A header as a TOML string."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _status_values(p: Profile) -> dict[str, str] | None:
    """Synonyms for a status column's values, or None when they are not statuses."""
    if not 2 <= p.distinct <= 15 or len(p.values) < 2:
        return None
    folded = {v: _fold(v.strip()) for v in p.values}
    out: dict[str, str] = {}
    for v, f in folded.items():
        if f in ("won", "lost", "open"):
            continue
        if f in DEFAULT_STATUS_SYNONYMS:
            continue
        if f in TRUE_WORDS:
            out[v] = "won"
        elif f in FALSE_WORDS:
            out[v] = "lost"
        else:
            out[v] = "open"
    known = sum(1 for f in folded.values() if f in DEFAULT_STATUS_SYNONYMS or f in ("won", "lost"))
    flags = sum(1 for f in folded.values() if f in TRUE_WORDS | FALSE_WORDS)
    if known == 0 and flags < 2:
        return None
    return out


def _guess_columns(con: Any, raw: RawFile, d: Draft) -> None:
    profiles = [p for p in _profiles(con, raw) if p.filled > 0]
    rows = raw.rows
    used: set[str] = set()

    def pick(role: str, ok: Any) -> Profile | None:
        cands = [(p, _name_score(role, p.name)) for p in profiles if p.name not in used and ok(p)]
        cands = [c for c in cands if c[1] > 0]
        if not cands:
            return None
        cands.sort(key=lambda c: (-c[1], -c[0].filled))
        used.add(cands[0][0].name)
        return cands[0][0]

    # ids: filled on every row, unique
    lead = pick("lead_id", lambda p: p.filled == rows and p.distinct == rows)
    if lead is not None:
        d.guesses.append(
            Guess(
                "lead_id",
                _q(lead.name),
                "high",
                f"{lead.name}: filled and unique on all {rows:,} rows",
            )
        )
    else:
        d.guesses.append(
            Guess(
                "lead_id",
                '{ row_number = "lead-" }',
                "low",
                "no column is filled and unique on every row: ids are made from row numbers",
                "that one row is one lead",
            )
        )

    def is_date(p: Profile) -> bool:
        return p.dates >= 0.9 * p.filled

    created = pick("created_at", lambda p: is_date(p) and p.filled >= 0.5 * rows)
    if created is None:  # any date column, whatever its name
        dates = [p for p in profiles if p.name not in used and is_date(p)]
        if dates:
            created = max(dates, key=lambda p: p.filled)
            used.add(created.name)
    today = dt.date.fromtimestamp(raw.path.stat().st_mtime).isoformat()
    if created is not None:
        order = _date_order(created)
        rule = _q(created.name)
        missing = created.filled < rows
        if order or missing:
            parts = [f"column = {_q(created.name)}"]
            if order:
                parts.append(f'date_order = "{order}"')
            if missing:
                parts.append('missing = "latest"')
            rule = "{ " + ", ".join(parts) + " }"
        d.guesses.append(
            Guess(
                "created_at",
                rule,
                "high" if _name_score("created_at", created.name) else "medium",
                f"{created.name}: dates on {created.dates:,} of {created.filled:,} rows"
                + (f", {order}" if order else ""),
                "that it is when the lead was created (not last modified)",
            )
        )
    else:
        d.guesses.append(
            Guess(
                "created_at",
                f'{{ constant = "{today}" }}',
                "low",
                "no column holds dates: every lead is dated the same day",
                "the created date; speed and maturity need real dates",
            )
        )

    status = None
    synonyms: dict[str, str] | None = None
    cands = sorted(
        (p for p in profiles if p.name not in used),
        key=lambda p: (-_name_score("status", p.name), p.distinct),
    )
    for p in cands:
        s = _status_values(p)
        if s is not None and (_name_score("status", p.name) or not s or len(p.values) <= 4):
            status, synonyms = p, s
            used.add(p.name)
            break
    if status is not None:
        d.guesses.append(
            Guess(
                "status",
                _q(status.name),
                "high" if _name_score("status", status.name) else "medium",
                f"{status.name}: values {', '.join(status.values[:8])}",
                "the value synonyms below (won / lost / open)",
            )
        )
        d.synonyms = synonyms or {}
    else:
        d.guesses.append(
            Guess(
                "status",
                '{ constant = "open" }',
                "low",
                "no column reads as won / lost / open",
                "map the column that says whether the lead was won",
            )
        )

    closed = pick("closed_at", lambda p: is_date(p))
    if closed is not None:
        order = _date_order(closed)
        rule = (
            _q(closed.name)
            if not order
            else (f'{{ column = {_q(closed.name)}, date_order = "{order}" }}')
        )
        d.guesses.append(
            Guess(
                "closed_at",
                rule,
                "medium",
                f"{closed.name}: dates on {closed.dates:,} rows",
                "that it is the date the lead was won or lost",
            )
        )
    elif status is not None:
        # closed leads need a date: without one, the created date (a close lag of 0)
        d.guesses.append(
            Guess(
                "closed_at",
                d.guesses[1].rule,
                "low",
                "no close date: won and lost leads are closed when created",
                "time to close is unknown (0)",
            )
        )

    def is_amount(p: Profile) -> bool:
        return p.numbers >= 0.9 * p.filled and p.distinct > 2

    revenue = pick("revenue", is_amount)
    if revenue is not None:
        dec = _decimal(revenue)
        rule = (
            _q(revenue.name)
            if dec is None
            else f'{{ column = {_q(revenue.name)}, decimal = "{dec}" }}'
        )
        d.guesses.append(
            Guess(
                "revenue",
                rule,
                "medium",
                f"{revenue.name}: numbers on {revenue.numbers:,} rows"
                + (f', decimal mark "{dec}"' if dec else ""),
                "that it is the won amount, in the workspace currency",
            )
        )
    for role in ("owner", "campaign", "segment"):
        g = pick(role, lambda p: 1 < p.distinct <= max(50, rows // 20))
        if g is not None:
            d.guesses.append(
                Guess(
                    role,
                    _q(g.name),
                    "medium",
                    f"{g.name}: {g.distinct:,} values, e.g. {', '.join(g.values[:4])}",
                )
            )


def _date_order(p: Profile) -> str | None:
    ev = p.evidence_date
    if ev is None:
        return None
    style, issue = decide(ev, None, decimal=None, date_order=None, file="")
    if issue is not None and issue.code == "ambiguous-date":
        return "day-first"  # said in the comment: to check
    return (
        None
        if style.date_order is None
        else {"dmy": "day-first", "mdy": "month-first"}[style.date_order]
    )


def _decimal(p: Profile) -> str | None:
    ev = p.evidence_number
    if ev is None:
        return None
    style, issue = decide(ev, None, decimal=None, date_order=None, file="")
    if issue is not None:
        return "."  # ambiguous: said as a guess to check
    return "," if style.decimal == "," else None


def _draft_text(d: Draft, time_zone: str) -> str:
    assert d.lead_file is not None
    lines = [
        "# Drafted by `leadsla init` from " + d.lead_file.name + ". Check every line marked CHECK;",
        "# the confidence of each guess is in its comment. Validate with `leadsla validate`.",
        f'name = "{d.lead_file.stem.lower()}"',
        f'description = "Drafted from {d.lead_file.name}"',
        "",
        "[files.leads]",
        f"path = [{_q(d.lead_file.name)}]",
        "",
        "[tables.leads]",
        'from = "leads"',
        "",
        "[tables.leads.columns]",
    ]
    for g in d.guesses:
        lines.append(f"# {g.column}: {g.why} (confidence {g.confidence})")
        if g.check:
            lines.append(f"# CHECK: {g.check}")
        lines.append(f"{g.column} = {g.rule}")
    if d.synonyms:
        lines += [
            "",
            "# CHECK: which values are won, lost and open",
            "[tables.leads.values.status]",
        ]
        lines += [f"{_q(k)} = {_q(v)}" for k, v in d.synonyms.items()]
    return "\n".join(lines) + "\n"


MAPPING_FILE = "leadsla-mapping.toml"


def write_draft(
    d: Draft, out: Path, *, time_zone: str, currency: str, force: bool = False
) -> tuple[Path, Path]:
    """Write the drafted mapping and ``leadsla.toml`` (naming it) into ``out``."""
    from leadsla.settings import SETTINGS_FILE, load_settings

    out.mkdir(parents=True, exist_ok=True)
    mapping_path = out / MAPPING_FILE
    settings_path = out / SETTINGS_FILE
    if mapping_path.exists() and not force:
        raise ConfigError(f"{mapping_path} exists; remove it or pass --force to overwrite it.")
    # the settings already there (encoding, delimiter, …) are kept
    kept: dict[str, Any] = {}
    if settings_path.is_file():
        kept = tomllib.loads(settings_path.read_text(encoding="utf-8"))
    for key in ("mapping", "time_zone", "currency"):
        kept.pop(key, None)
    mapping_path.write_text(d.mapping_text(time_zone), encoding="utf-8")
    lines = [
        "# Drafted by `leadsla init`: the settings of this workspace (SPEC.md, Settings).",
        f'mapping = "{MAPPING_FILE}"',
        "# the time zone of times written without an offset in the export",
        f'time_zone = "{time_zone}"',
        f'currency = "{currency}"',
    ]
    lines += [f"{k} = {_toml_value(v)}" for k, v in {**d.settings, **kept}.items()]
    settings_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_settings(settings_path)  # what was written reads back (a wrong zone is an error)
    load_mapping(mapping_path)
    return mapping_path, settings_path


def _toml_value(v: Any) -> str:
    if isinstance(v, str):
        return _q(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return str(v)


def report_lines(d: Draft) -> list[str]:
    """What init guessed, with its confidence, and what to check: one line each."""
    out = [f"Looked at {len(d.files)} file(s): {', '.join(p.name for p in d.files)}"]
    if d.shipped is not None:
        out.append(f"Recognised: the shipped mapping {d.shipped} fits these files (high).")
        out.append(f"Check: its options (leadsla mappings; {d.shipped}) and the time zone.")
    else:
        assert d.lead_file is not None
        out.append(f"Leads: {d.lead_file.name}")
        for g in d.guesses:
            out.append(f"  {g.column:<10} {g.rule}  ({g.confidence}: {g.why})")
        if d.synonyms:
            pairs = ", ".join(f"{k} → {v}" for k, v in d.synonyms.items())
            out.append(f"  status values: {pairs}")
        checks = [f"{g.column}: {g.check}" for g in d.guesses if g.check]
        for c in checks:
            out.append(f"Check: {c}")
    out += [f"Note: {n}" for n in d.notes if not n.startswith("the files fit")]
    return out
