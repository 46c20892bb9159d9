"""Mappings: declarative TOML files that turn a CRM's own export onto the canonical tables.

A mapping names its input files, then for each canonical table the file it comes from, the
files joined to it, and a rule per canonical column::

    name = "olist"
    time_zone = "America/Sao_Paulo"

    [files.mql]
    path = ["olist_marketing_qualified_leads_dataset.csv"]

    [tables.leads]
    from = "mql"
    joins = [{ file = "deals", on = "mql_id" }]

    [tables.leads.columns]
    lead_id = "mql_id"                                      # a column of the file
    created_at = { column = "first_contact_date", formats = ["%d/%m/%Y"] }
    segment = { column = "business_segment", default = "unknown" }
    status = { sql = "CASE WHEN deals.mql_id IS NULL THEN 'open' ELSE 'won' END" }
    revenue = { column = "declared_monthly_revenue", positive_only = true }

    [tables.leads.values.status]                             # value synonyms
    "Closed Won" = "won"

A rule is a column name, or a table with one of ``column``, ``sql`` (DuckDB SQL over the
file's columns), ``constant`` or ``row_number`` (a prefix: ids made from row numbers), and
optionally ``default``, ``formats``, ``positive_only``, ``decimal`` and ``missing = "latest"``
(fill an empty timestamp with the latest one in the data, counted as a warning).
``exclude = [{ when = "SQL", reason = "…" }]`` drops rows by a stated reason (counted).
A ``sql`` rule sees every loaded file as ``raw_<name>``, so a correlated subquery can aggregate
another file per row (a contact's deals), and ``unnest(list)`` makes one row per list item (a
call associated with several contacts); headers in SQL match case-insensitively (DuckDB). Write
long SQL as multi-line literal strings (``'''…'''``); TOML allows no line break between the
keys of an inline table, so long excludes go in ``[[tables.x.exclude]]`` tables (see the
hubspot and salesforce mappings).
``data_time_zone = "UTC"`` says that stored times without an offset are UTC (the warehouse
tables sync tools write) while the workspace zone still drives the business clock.
``[severity]`` turns a check into a warning for a data set known to need it
(``closed-before-created = "warning"``). ``[options]`` holds values a user may change
(``--option segment_column=job``), used as ``${name}`` anywhere in the rules.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from leadsla.errors import ConfigError, Issue
from leadsla.io.files import ident, sql_str
from leadsla.schema import TABLES, TableSpec

RULE_KEYS = {
    "column",
    "sql",
    "constant",
    "row_number",
    "default",
    "formats",
    "positive_only",
    "decimal",
    "date_order",
    "missing",
    "values",
}
DEFAULT_STATUS_SYNONYMS = {
    "closed won": "won",
    "closed-won": "won",
    "closedwon": "won",
    "won": "won",
    "customer": "won",
    "converted": "won",
    "closed lost": "lost",
    "closed-lost": "lost",
    "closedlost": "lost",
    "lost": "lost",
    "disqualified": "lost",
    "unqualified": "lost",
    "closed - not converted": "lost",
    "open": "open",
    "new": "open",
    "working": "open",
    "in progress": "open",
    "nurture": "open",
    "nurturing": "open",
    "contacted": "open",
    # Spanish, Portuguese, French, German, Italian (compared without accents, lower case)
    "ganado": "won",
    "ganada": "won",
    "cerrado ganado": "won",
    "cerrada ganada": "won",
    "ganho": "won",
    "ganha": "won",
    "fechado ganho": "won",
    "fechada ganha": "won",
    "gagne": "won",
    "gagnee": "won",
    "ferme gagne": "won",
    "gewonnen": "won",
    "abgeschlossen gewonnen": "won",
    "auftrag gewonnen": "won",
    "vinto": "won",
    "vinta": "won",
    "chiuso vinto": "won",
    "chiusa vinta": "won",
    "perdido": "lost",
    "perdida": "lost",
    "cerrado perdido": "lost",
    "cerrada perdida": "lost",
    "fechado perdido": "lost",
    "fechada perdida": "lost",
    "perdu": "lost",
    "perdue": "lost",
    "ferme perdu": "lost",
    "verloren": "lost",
    "abgeschlossen verloren": "lost",
    "perso": "lost",
    "persa": "lost",
    "chiuso perso": "lost",
    "chiusa persa": "lost",
    "abierto": "open",
    "abierta": "open",
    "nuevo": "open",
    "en curso": "open",
    "en proceso": "open",
    "aberto": "open",
    "aberta": "open",
    "novo": "open",
    "em andamento": "open",
    "ouvert": "open",
    "ouverte": "open",
    "nouveau": "open",
    "en cours": "open",
    "offen": "open",
    "neu": "open",
    "in bearbeitung": "open",
    "aperto": "open",
    "aperta": "open",
    "nuovo": "open",
    "in corso": "open",
    "in lavorazione": "open",
}


@dataclass(frozen=True)
class ColumnRule:
    """How one canonical column is made from the input."""

    column: str | None = None
    sql: str | None = None
    constant: str | float | None = None
    row_number: str | None = None
    default: str | None = None
    formats: tuple[str, ...] = ()
    positive_only: bool = False
    decimal: str | None = None  # None: decided by the column's values
    date_order: str | None = None  # "day-first" / "month-first"; None: from the values
    missing: str | None = None
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FileRule:
    name: str
    patterns: tuple[str, ...]
    required: bool = True
    sheet: str | None = None  # a spreadsheet's sheet; None: the first with data


@dataclass(frozen=True)
class JoinRule:
    file: str
    left: str
    right: str


@dataclass(frozen=True)
class TableRule:
    table: str
    source: str
    columns: dict[str, ColumnRule]
    joins: tuple[JoinRule, ...] = ()
    excludes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Mapping:
    """A parsed mapping file."""

    name: str
    description: str
    files: dict[str, FileRule]
    tables: dict[str, tuple[TableRule, ...]]
    time_zone: str | None = None
    data_time_zone: str | None = None  # stored times without an offset are in this zone
    options: dict[str, str] = field(default_factory=dict)
    origin: str = "<built-in>"
    canonical: bool = False
    severity: dict[str, str] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def with_options(self, options: dict[str, str]) -> Mapping:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise ConfigError(
                f"mapping {self.name} has no option {', '.join(unknown)} (its options: {known})."
            )
        return _parse({**self.raw, "options": {**self.options, **options}}, self.origin)


def shipped_mappings() -> dict[str, Path]:
    """The mappings that ship with leadsla, by name."""
    folder = resources.files("leadsla") / "mappings"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".toml")}


def load_mapping(spec: str | Path | Mapping | None, /) -> Mapping:
    """A shipped mapping by name, a mapping file by path, or the canonical one for ``None``."""
    if isinstance(spec, Mapping):
        return spec
    if spec is None:
        return canonical_mapping()
    shipped = shipped_mappings()
    path = shipped.get(str(spec)) or Path(spec)
    if not path.is_file():
        names = ", ".join(sorted(shipped))
        close = difflib.get_close_matches(str(spec).lower(), sorted(shipped), n=1, cutoff=0.6)
        hint = f'Did you mean "{close[0]}"? ' if close else ""
        raise ConfigError(
            f'mapping "{spec}" is neither a shipped mapping ({names}) nor a file. {hint}'
            "Run `leadsla mappings` to list them, or give the path of a mapping TOML file."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e}).") from None
    return _parse(data, str(path))


def _as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def _parse_rule(where: str, v: Any, values: dict[str, str]) -> ColumnRule:
    if isinstance(v, str):
        return ColumnRule(column=v, values=values)
    if not isinstance(v, dict):
        raise ConfigError(f"{where}: a column rule is a column name or a table, not {v!r}.")
    unknown = set(v) - RULE_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(RULE_KEYS))}."
        )
    kinds = [k for k in ("column", "sql", "constant", "row_number") if k in v]
    if len(kinds) != 1:
        raise ConfigError(f"{where}: give exactly one of column, sql, constant, row_number.")
    if v.get("missing") not in (None, "latest"):
        raise ConfigError(f'{where}: missing = "latest" is the only choice.')
    if v.get("decimal") not in (None, ".", ","):
        raise ConfigError(f'{where}: decimal is "." or ",", not {v.get("decimal")!r}.')
    if v.get("date_order") not in (None, "day-first", "month-first"):
        raise ConfigError(
            f'{where}: date_order is "day-first" or "month-first", not {v.get("date_order")!r}.'
        )
    return ColumnRule(
        column=v.get("column"),
        sql=v.get("sql"),
        constant=v.get("constant"),
        row_number=v.get("row_number"),
        default=v.get("default"),
        formats=tuple(_as_list(v.get("formats", []))),
        positive_only=bool(v.get("positive_only", False)),
        decimal=v.get("decimal"),
        date_order=v.get("date_order"),
        missing=v.get("missing"),
        values={**values, **{str(a).lower(): str(b) for a, b in v.get("values", {}).items()}},
    )


def _substitute(obj: Any, options: dict[str, str]) -> Any:
    if isinstance(obj, str):
        return re.sub(r"\$\{(\w+)\}", lambda m: str(options.get(m.group(1), m.group(0))), obj)
    if isinstance(obj, list):
        return [_substitute(o, options) for o in obj]
    if isinstance(obj, dict):
        return {k: _substitute(v, options) for k, v in obj.items()}
    return obj


def _parse(data: dict[str, Any], origin: str) -> Mapping:
    options = {str(k): str(v) for k, v in data.get("options", {}).items()}
    body = _substitute({k: v for k, v in data.items() if k != "options"}, options)
    files = {
        name: FileRule(
            name,
            tuple(_as_list(f.get("path", [name + ".csv"]))),
            f.get("required", True),
            f.get("sheet"),
        )
        for name, f in body.get("files", {}).items()
    }
    tables: dict[str, tuple[TableRule, ...]] = {}
    for tname, spec in body.get("tables", {}).items():
        if tname not in TABLES:
            raise ConfigError(
                f"{origin}: [tables.{tname}] is not a canonical table ({', '.join(TABLES)})."
            )
        rules = []
        for i, t in enumerate(_as_list(spec)):
            where = f"{origin}: [tables.{tname}]" + (f" #{i + 1}" if isinstance(spec, list) else "")
            src = t.get("from")
            if src not in files:
                raise ConfigError(f'{where}: from = "{src}" names no [files.{src}] entry.')
            synonyms = {
                col: {str(a).lower(): str(b) for a, b in vals.items()}
                for col, vals in t.get("values", {}).items()
            }
            columns = {}
            for col, rule in t.get("columns", {}).items():
                if col not in TABLES[tname].names:
                    raise ConfigError(
                        f"{where}: {col} is not a column of {tname} "
                        f"({', '.join(TABLES[tname].names)})."
                    )
                columns[col] = _parse_rule(f"{where} {col}", rule, synonyms.get(col, {}))
            joins = []
            for j in _as_list(t.get("joins", [])):
                if j.get("file") not in files:
                    raise ConfigError(f"{where}: join file {j.get('file')!r} has no [files] entry.")
                on = j.get("on")
                left, right = (on, on) if isinstance(on, str) else (j.get("left"), j.get("right"))
                if not left or not right:
                    raise ConfigError(f'{where}: a join needs on = "column" or left/right.')
                joins.append(JoinRule(j["file"], left, right))
            excludes = tuple((e["when"], e["reason"]) for e in _as_list(t.get("exclude", [])))
            rules.append(TableRule(tname, src, columns, tuple(joins), excludes))
        tables[tname] = tuple(rules)
    if "leads" not in tables:
        raise ConfigError(f"{origin}: a mapping needs a [tables.leads] section.")
    return Mapping(
        name=str(data.get("name", Path(origin).stem)),
        description=str(data.get("description", "")),
        files=files,
        tables=tables,
        time_zone=data.get("time_zone"),
        data_time_zone=data.get("data_time_zone"),
        options=options,
        origin=origin,
        canonical=bool(data.get("canonical", False)),
        severity=_severity(data.get("severity", {}), origin),
        raw=data,
    )


def _severity(data: dict[str, Any], origin: str) -> dict[str, str]:
    out = {}
    for code, sev in data.items():
        if str(sev).upper() not in ("ERROR", "WARNING"):
            raise ConfigError(
                f'{origin}: [severity] {code} = "{sev}" must be "error" or "warning".'
            )
        out[str(code)] = str(sev).upper()
    return out


def canonical_mapping() -> Mapping:
    """The identity mapping: files named after the canonical tables, columns by their names."""
    data: dict[str, Any] = {"name": "canonical", "canonical": True, "files": {}, "tables": {}}
    for t in TABLES.values():
        data["files"][t.name] = {
            "path": [
                f"{t.name}.csv",
                f"{t.name}.parquet",
                f"{t.name}.tsv",
                f"{t.name}.pq",
                f"{t.name}.xlsx",
                f"{t.name}.xls",
                f"{t.name}.xlsm",
                f"{t.name}.ods",
            ],
            "required": t.required,
        }
        data["tables"][t.name] = {
            "from": t.name,
            "columns": {c.name: c.name for c in t.columns},
        }
    return _parse(data, "<canonical>")


# --- compiling a table rule to SQL over the loaded files ------------------------------------


@dataclass
class Compiled:
    """The text-stage SQL of one table rule, and the problems found resolving its columns."""

    sql: str
    rule: TableRule
    issues: list[Issue]
    present: set[str]


def resolve(
    ref: str, rule: TableRule, headers: dict[str, tuple[str, ...]]
) -> tuple[str, str] | None:
    """(file alias, real header) of a column reference ``col`` or ``file.col``, case-insensitive."""
    order = [rule.source] + [j.file for j in rule.joins]
    candidates: list[tuple[str, str]] = []
    if "." in ref and ref.split(".", 1)[0] in order:
        f, c = ref.split(".", 1)
        candidates = [(f, c)]
    else:
        candidates = [(f, ref) for f in order]
    for f, c in candidates:
        for h in headers.get(f, ()):
            if h == c:
                return f, h
        for h in headers.get(f, ()):
            if h.lower() == c.lower():
                return f, h
    return None


def headers_list(found: tuple[str, ...], limit: int = 12) -> str:
    """The headers of a file for a message: all of them, or the first ones and "… and N more"."""
    if len(found) <= limit:
        return ", ".join(found)
    return ", ".join(found[:limit]) + f" … and {len(found) - limit} more"


def _missing_column_issue(
    ref: str,
    col: str,
    spec: TableSpec,
    rule: TableRule,
    headers: dict[str, tuple[str, ...]],
    files: dict[str, str],
    mapping: Mapping,
) -> Issue:
    found = headers.get(rule.source, ())
    close = difflib.get_close_matches(ref.split(".")[-1], list(found), n=3, cutoff=0.5)
    hint = (
        f" Closest headers: {', '.join(close)}."
        if close
        else f" Headers found: {headers_list(found)}."
    )
    label = files.get(rule.source, rule.source)
    if mapping.canonical:
        return Issue(
            "ERROR",
            "missing-column",
            f"required column {col} is missing.",
            file=label,
            column=col,
            fix=f"Rename a header to {col}, or use a mapping (--mapping hubspot, salesforce, or "
            f"a TOML file) that says which header holds it.{hint}",
        )
    return Issue(
        "ERROR",
        "mapping-column",
        f'the mapping "{mapping.name}" reads {spec.name}.{col} from column "{ref}", which the '
        "file lacks.",
        file=label,
        column=ref,
        fix=f"Edit the mapping ({mapping.origin}) to name a column the file has.{hint}",
    )


def compile_rule(
    rule: TableRule,
    mapping: Mapping,
    headers: dict[str, tuple[str, ...]],
    files: dict[str, str],
) -> Compiled:
    """The SELECT that makes the text stage of ``rule``: ``_file``, ``_row`` and each column."""
    spec = TABLES[rule.table]
    issues: list[Issue] = []
    select = [f"{ident(rule.source)}._row AS _row", f"{sql_str(files[rule.source])} AS _file"]
    present: set[str] = set()
    for col in spec.names:
        r = rule.columns.get(col)
        expr: str | None = None
        if r is None:
            pass
        elif r.column == "":
            pass  # an option left empty: the column is not mapped
        elif r.column is not None:
            hit = resolve(r.column, rule, headers)
            if hit is None:
                if spec.column(col).required or not mapping.canonical:
                    issues.append(
                        _missing_column_issue(r.column, col, spec, rule, headers, files, mapping)
                    )
            else:
                expr = f"{ident(hit[0])}.{ident(hit[1])}"
        elif r.sql is not None:
            expr = f"({r.sql})"
        elif r.constant is not None:
            expr = sql_str(str(r.constant))
        elif r.row_number is not None:
            expr = f"{sql_str(r.row_number)} || CAST({ident(rule.source)}._row - 1 AS VARCHAR)"
        if expr is None:
            select.append(f"NULL AS {ident(col)}")
            continue
        present.add(col)
        assert r is not None
        values = dict(r.values)
        if col == "status":  # the built-in synonyms, the mapping's own win
            values = {**DEFAULT_STATUS_SYNONYMS, **values}
        if values:
            cases = " ".join(
                f"WHEN {sql_str(_fold(k))} THEN {sql_str(v)}" for k, v in values.items()
            )
            expr = (
                f"CASE strip_accents(lower(trim(CAST({expr} AS VARCHAR)))) {cases} "
                f"ELSE {'lower(' if col == 'status' else '('}trim(CAST({expr} AS VARCHAR))) END"
            )
        select.append(f"{expr} AS {ident(col)}")
    joins = " ".join(
        f"LEFT JOIN {ident('raw_' + j.file)} AS {ident(j.file)} ON "
        f"{_qualified(j.left, rule, headers)} = "
        f"{ident(j.file)}.{ident(_header(j.file, j.right, headers))}"
        for j in rule.joins
        if j.file in headers
    )
    excl = " ".join(f"WHEN ({cond}) THEN {sql_str(reason)}" for cond, reason in rule.excludes)
    select.append(f"CASE {excl} END AS _exclude" if excl else "CAST(NULL AS VARCHAR) AS _exclude")
    source = f"{ident('raw_' + rule.source)} AS {ident(rule.source)}"
    sql = f"SELECT {', '.join(select)} FROM {source} {joins}"
    return Compiled(sql, rule, issues, present)


def _fold(text: str) -> str:
    """Lower case without accents, as ``strip_accents(lower(…))`` in DuckDB."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _header(file: str, col: str, headers: dict[str, tuple[str, ...]]) -> str:
    for h in headers.get(file, ()):
        if h.lower() == col.lower():
            return h
    return col


def _qualified(ref: str, rule: TableRule, headers: dict[str, tuple[str, ...]]) -> str:
    hit = resolve(ref, rule, headers)
    if hit is None:
        return ident(ref)
    return f"{ident(hit[0])}.{ident(hit[1])}"
