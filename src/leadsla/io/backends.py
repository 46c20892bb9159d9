"""Sources on an engine other than the embedded DuckDB: database URLs, Spark, a live session.

``connect`` sends everything that is not a local folder or file here:

* ``postgres://user@host/db/schema`` and any other Ibis URL: the tables of that database
  (schema): the canonical ones, or those a mapping names (``[files.contact] path =
  ["contact"]``); ``?schema=NAME`` (or the mapping option ``schema``) picks the synced schema.
* ``pyspark://local[2]?path=crm/``: a folder of CSV/Parquet files read through Spark;
  ``pyspark://MASTER?catalog=C&schema=S``: the tables of a catalog's database (schema).
  ``spark.*`` keys in the query (or in ``[spark]`` of ``leadsla.toml``) configure the session.
* a ``SparkSession`` or an Ibis backend object, from Python.

The staging works on every engine through Ibis: the mapping's rule SQL (written in DuckDB's
dialect) is translated by sqlglot to the engine's dialect and run over per-workspace temporary
views (never a table written in the user's database), the typed columns are Ibis expressions,
and validation and row accounting use the same Ibis checks as the file path, so a source gives
the same issues and the same counts on every engine. Messages number database rows in the
order of the table's columns (a table has no file order); files read through Spark keep their
line numbers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import sqlglot
from sqlglot import exp

from leadsla.errors import ConfigError, DataError, Issue, IssueSet
from leadsla.io import validate as v
from leadsla.io.files import CSV_SUFFIXES, PARQUET_SUFFIXES, find_file
from leadsla.io.mapping import Compiled, Mapping, compile_rule
from leadsla.io.typing_sql import OFFSET_RE
from leadsla.schema import TABLES, Column
from leadsla.settings import Settings
from leadsla.times import utc_literal

Workspace = Any  # leadsla.io.source.Workspace (not imported: source imports this module)

SPARK_SCHEME = "pyspark"


@dataclass(frozen=True)
class SourceURL:
    """A parsed source URL: the Ibis URL to open and leadsla's own query keys taken out."""

    url: str  # as given, for messages
    scheme: str
    ibis_url: str  # without leadsla's keys
    schema: str | None = None
    catalog: str | None = None
    path: str | None = None
    master: str | None = None
    spark: dict[str, str] = field(default_factory=dict)


def parse_url(url: str) -> SourceURL:
    """Split a source URL into the engine's URL and leadsla's keys (path, catalog, schema,
    ``spark.*``)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme == SPARK_SCHEME:  # the master may hold brackets and a scheme of its own
        master, _, query_text = url.split("://", 1)[1].partition("?")
        query = parse_qsl(query_text, keep_blank_values=True)
    else:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: val for k, val in query if k in ("schema", "catalog", "path")}
    spark = {k: val for k, val in query if k.startswith("spark.")}
    rest = [(k, val) for k, val in query if k not in ours and not k.startswith("spark.")]
    if scheme == SPARK_SCHEME:
        if rest:
            raise ConfigError(
                f"{url}: unknown key(s) {', '.join(k for k, _ in rest)}; a pyspark URL takes "
                "path, catalog, schema and spark.* settings."
            )
        master = master.rstrip("/") or "local[*]"
        if "path" in ours and ("catalog" in ours or "schema" in ours):
            raise ConfigError(f"{url}: give either path= (files) or catalog=/schema= (tables).")
        return SourceURL(
            url,
            scheme,
            url,
            schema=ours.get("schema"),
            catalog=ours.get("catalog"),
            path=ours.get("path"),
            master=master,
            spark=spark,
        )
    # the query rebuilt by hand: urlunsplit turns sqlite:////abs.db into sqlite://abs.db
    base, _, _ = url.partition("?")
    query_text = urlencode(rest)
    return SourceURL(
        url,
        scheme,
        f"{base}?{query_text}" if query_text else base,
        schema=ours.get("schema"),
        catalog=ours.get("catalog"),
        spark=spark,
    )


def is_spark_session(obj: Any) -> bool:
    return type(obj).__name__ == "SparkSession" and type(obj).__module__.startswith("pyspark")


def spark_session(master: str, conf: dict[str, str]) -> tuple[Any, bool]:
    """The Spark session for ``master``: the running one if there is one (not ours to stop),
    else a new one with the UI off and ``conf`` applied. Returns (session, created)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - pyspark is a dev dependency here
        raise ConfigError(
            "pyspark:// sources need PySpark: pip install pyspark (and a Java runtime)."
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        for k, val in conf.items():
            if active.conf.get(k, None) == str(val):
                continue
            try:
                active.conf.set(k, str(val))
            except Exception:  # a static setting (spark.driver.memory…) of a running session
                raise ConfigError(
                    f"{k} = {val}: the running Spark session cannot change this setting. Give "
                    "it to spark-submit (--conf) or to the session builder instead."
                ) from None
        return active, False
    builder = SparkSession.builder.master(master).appName("leadsla")
    defaults = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "4",
    }
    for k, val in {**defaults, **conf}.items():
        builder = builder.config(k, str(val))
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session, True


def open_engine(
    source: Any, settings: Settings, opener: Callable[[str], Any] = ibis.connect
) -> tuple[Any, str, SourceURL | None, bool]:
    """(Ibis backend, label, parsed URL, whether the workspace owns the engine)."""
    if is_spark_session(source):
        _quiet_spark()
        return ibis.pyspark.connect(source), "SparkSession", None, False
    if isinstance(source, ibis.BaseBackend):
        return source, f"{source.name} connection", None, False
    url = parse_url(str(source))
    if url.scheme == SPARK_SCHEME:
        _quiet_spark()
        session, created = spark_session(url.master or "local[*]", {**settings.spark, **url.spark})
        return ibis.pyspark.connect(session), url.url, url, created
    try:
        con = opener(url.ibis_url)
    except ConfigError:
        raise
    except Exception as e:  # the driver's own error: wrong host, password, database…
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ConfigError(f"cannot open {_redacted(url.url)}: {first}") from None
    return con, _redacted(url.url), url, True


def _quiet_spark() -> None:
    """PySpark's toPandas (behind every Ibis ``execute``) passes pandas 3 a deprecated
    ``copy=`` argument: a Pandas4Warning per query that says nothing to a leadsla user."""
    import warnings

    import pandas as pd

    category = getattr(pd.errors, "Pandas4Warning", DeprecationWarning)
    warnings.filterwarnings("ignore", category=category, module=r"pyspark\.")


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


# --- the raw inputs: tables of a database, or files read through Spark ----------------------


@dataclass
class Raw:
    """One input (a table, or a file read through Spark) as a temporary view with ``_row``."""

    name: str
    view: str
    label: str
    table: ir.Table


class _Inputs:
    def __init__(self, con: Any, token: str) -> None:
        self.con = con
        self.token = token
        self.views: list[str] = []
        self.tables: list[str] = []

    def view_name(self, name: str) -> str:
        return f"_lsla_{self.token}_raw_{name}"

    def register(self, name: str, expr: ir.Table, label: str) -> Raw:
        view = self.view_name(name)
        return Raw(name, view, label, self.view(view, self.con.compile(expr)))

    def view(self, name: str, sql: str) -> ir.Table:
        """A temporary view of ``sql`` (in the engine's dialect), as an Ibis table."""
        _run(self.con, f"CREATE OR REPLACE TEMPORARY VIEW {_q(self.con, name)} AS {sql}")
        self.views.append(name)
        return self.con.table(name)

    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        """``expr`` computed once (a stage every check reads): a temporary table on
        PostgreSQL, a cached view on Spark, a view elsewhere."""
        full = f"_lsla_{self.token}_{name}"
        sql = self.con.compile(expr)
        if self.con.name == "pyspark":
            self.con._session.sql(sql).localCheckpoint(eager=False).createOrReplaceTempView(full)
            self.views.append(full)
            return self.con.table(full)
        if self.con.name in ("postgres", "duckdb"):
            _run(self.con, f"CREATE TEMPORARY TABLE {_q(self.con, full)} AS {sql}")
            self.tables.append(full)
            return self.con.table(full)
        return self.view(full, sql)

    def drop(self) -> None:
        for kind, names in (("VIEW", self.views), ("TABLE", self.tables)):
            for name in reversed(names):
                try:
                    if self.con.name == "pyspark":
                        self.con._session.catalog.dropTempView(name)
                    else:
                        _run(self.con, f"DROP {kind} IF EXISTS {_q(self.con, name)}")
                except Exception:  # noqa: BLE001, S110 - the engine may be gone already
                    pass


def _run(con: Any, sql: str) -> None:
    """A statement on the engine, its cursor closed (PostgreSQL) or result dropped."""
    out = con.raw_sql(sql)
    if con.name == "postgres":  # a cursor (DuckDB returns its connection: never closed here)
        out.close()


def _q(con: Any, name: str) -> str:
    return sqlglot.exp.to_identifier(name, quoted=True).sql(dialect=con.dialect)


def _numbered(t: ir.Table) -> ir.Table:
    """Rows numbered 1… in the order of all columns (deterministic on every engine)."""
    order = [t[c] for c in t.columns if not t[c].type().is_nested()]
    return t.mutate(_row=ibis.row_number().over(order_by=order) + 1)


def _database_inputs(
    ws: Workspace, inputs: _Inputs, url: SourceURL | None
) -> tuple[dict[str, Raw], list[Issue]]:
    con, m = ws.con, ws.mapping
    schema = (url.schema if url else None) or m.options.get("schema") or None
    catalog = url.catalog if url else None
    database: Any = (catalog, schema) if catalog and schema else (schema or catalog)
    try:
        if con.name == "duckdb" and not database:  # ibis 12's list_tables fails on DuckDB 2
            sql = "SELECT table_name FROM duckdb_tables() WHERE NOT temporary"
            names = [r[0] for r in con.raw_sql(sql).fetchall()]
        else:
            names = con.list_tables(database=database) if database else con.list_tables()
    except Exception as e:  # unknown schema or catalog
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ConfigError(
            f"{ws.source}: cannot list the tables of {database or 'the database'}: {first}. "
            "Check the schema (?schema=NAME, or --option schema=NAME for the warehouse mappings)."
        ) from None
    have = {n.lower(): n for n in names}
    raws: dict[str, Raw] = {}
    issues: list[Issue] = []
    where = ".".join(p for p in (catalog, schema) if p) or ws.source
    for name, f in m.files.items():
        hit = next(
            (have[p.split(".")[0].lower()] for p in f.patterns if p.split(".")[0].lower() in have),
            None,
        )
        if hit is None:
            if f.required:
                stems = ", ".join(dict.fromkeys(p.split(".")[0] for p in f.patterns))
                issues.append(
                    Issue(
                        "ERROR",
                        "missing-table",
                        f"the database has no {stems} table (for {name}).",
                        file=where,
                        fix="Point at the schema that holds it (?schema=NAME), or choose the "
                        "mapping that fits these tables (--mapping).",
                    )
                )
            continue
        t = con.table(hit, database=database) if database else con.table(hit)
        raws[name] = inputs.register(name, _numbered(t), f"{where}.{hit}" if schema else hit)
    return raws, issues


def _spark_file_inputs(
    ws: Workspace, inputs: _Inputs, folder: Path
) -> tuple[dict[str, Raw], list[Issue]]:
    """The mapping's files in ``folder``, read through Spark; rows numbered as in the file."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    session = ws.con._session
    raws: dict[str, Raw] = {}
    issues: list[Issue] = []
    if not folder.is_dir():
        raise ConfigError(f"{ws.source}: path {folder} is not a folder.")
    for name, f in ws.mapping.files.items():
        found = find_file(folder, list(f.patterns))
        if found is None:
            if f.required:
                issues.append(
                    Issue(
                        "ERROR",
                        "missing-file",
                        f"no file for {name} ({', '.join(f.patterns)}).",
                        file=str(folder),
                        fix="Put the export in this folder under one of those names, or choose "
                        "the mapping that fits the export (--mapping).",
                    )
                )
            continue
        suffix = found.suffix.lower()
        if suffix in PARQUET_SUFFIXES:
            df, first = session.read.parquet(str(found)), 1
        elif suffix in CSV_SUFFIXES:
            reader = session.read.option("header", True).option("inferSchema", False)
            reader = reader.option("encoding", ws.settings.encoding)
            reader = reader.option("quote", '"').option("escape", '"').option("mode", "PERMISSIVE")
            sep = ws.settings.delimiter or ("\t" if suffix == ".tsv" else _sniff(found))
            df, first = reader.option("sep", sep).csv(str(found)), 2
        else:
            continue
        if not df.columns:
            issues.append(
                Issue("ERROR", "empty-file", "the file is empty (no data rows).", file=found.name)
            )
            continue
        order = Window.orderBy(F.monotonically_increasing_id())
        # numbered once and kept (a checkpoint): the numbering is not recomputed by each query
        numbered = df.withColumn("_row", F.row_number().over(order) + (first - 1))
        numbered = numbered.localCheckpoint(eager=False)
        view = inputs.view_name(name)
        numbered.createOrReplaceTempView(view)
        inputs.views.append(view)
        raws[name] = Raw(name, view, found.name, ws.con.table(view))
    return raws, issues


def _sniff(path: Path) -> str:
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        head = fh.readline()
    return max((",", ";", "\t", "|"), key=head.count)


# --- typing: the text stage as canonical typed columns, in Ibis ---------------------------


def _local_to_utc(con: Any, ts: ir.TimestampValue, zone: str) -> ir.TimestampValue:
    """A wall-clock timestamp read in ``zone`` (the zone's rules, DST included) as a UTC
    instant, on the engine."""
    if zone == "UTC":
        return ts.cast("timestamp('UTC')")
    if con.name == "pyspark":
        out = _spark_to_utc(ts.cast("timestamp"), zone)
    elif con.name == "postgres":
        out = _pg_timezone(zone, ts.cast("timestamp"))
    elif con.name == "duckdb":
        out = _duck_timezone(zone, ts.cast("timestamp"))
    else:
        raise ConfigError(
            f"timestamps without a time zone cannot yet be read on {con.name}: store them as "
            "UTC instants (TIMESTAMP WITH TIME ZONE) or set the mapping's data_time_zone = "
            '"UTC" when they are UTC.'
        )
    return out.cast("timestamp('UTC')")


@ibis.udf.scalar.builtin(name="to_utc_timestamp")
def _spark_to_utc(ts: dt.timestamp, zone: dt.string) -> dt.timestamp:
    """Spark: wall time in ``zone`` → UTC instant."""


@ibis.udf.scalar.builtin(name="timezone")
def _pg_timezone(zone: dt.string, ts: dt.timestamp) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type]
    """PostgreSQL: ``timezone(zone, timestamp)`` is the instant of that wall time."""


@ibis.udf.scalar.builtin(name="timezone")
def _duck_timezone(zone: dt.string, ts: dt.timestamp) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type]
    """DuckDB: ``timezone(zone, timestamp)`` is the instant of that wall time."""


@ibis.udf.scalar.builtin(name="try_to_timestamp")
def _spark_try_ts(text: dt.string) -> dt.timestamp:
    """Spark: ISO 8601 text (with or without an offset) as a timestamp, null when it is not."""


def _is_instant(con: Any, dtype: dt.DataType) -> bool:
    """Whether a typed timestamp column holds instants (Spark's TIMESTAMP always does)."""
    if not dtype.is_timestamp():
        return False
    if dtype.timezone is not None:
        return True
    return con.name == "pyspark"


def _spark_ntz(con: Any, text: ir.Table) -> set[str]:
    """Columns of a Spark relation typed TIMESTAMP_NTZ (wall time; Ibis types both naive)."""
    if con.name != "pyspark":
        return set()
    from pyspark.sql.types import TimestampNTZType

    schema = con._session.sql(con.compile(text)).schema
    return {f.name for f in schema.fields if isinstance(f.dataType, TimestampNTZType)}


def _text(col: ir.Value) -> ir.StringValue:
    return col.cast("string").strip().nullif("")


def _typed(
    con: Any, col: Column, src: ir.Value, rule: Any, zone: str, ntz: set[str]
) -> tuple[ir.Value, ir.Value | None]:
    """(typed value, original text when parsing can fail) of one canonical column."""
    dtype = src.type()
    if dtype.is_null():  # a column the mapping does not fill
        return ibis.null(_dtype(col)), None
    if col.kind == "string":
        e = _text(src)
        if rule is not None and rule.default is not None:
            e = e.fill_null(rule.default)
        return e, None
    if col.kind == "timestamp":
        if dtype.is_timestamp():
            if col.name not in ntz and _is_instant(con, dtype):
                return src.cast("timestamp('UTC')"), None
            return _local_to_utc(con, src, zone), None
        if dtype.is_date():
            return _local_to_utc(con, src.cast("timestamp"), zone), None
        if con.name != "pyspark":
            raise _TextColumn(col.name)
        if rule is not None and rule.formats:
            raise ConfigError(
                f"{col.name}: formats = [...] are DuckDB strptime formats; reading text dates "
                "through Spark takes ISO 8601 only. Read the files with the default engine."
            )
        t = _text(src)
        aware = _spark_try_ts(t).cast("timestamp('UTC')")
        naive = _local_to_utc(con, _spark_try_ts(t), zone)
        typed = ibis.cases((t.re_search(OFFSET_RE), aware), else_=naive)
        return ibis.cases((t.isnull(), ibis.null("timestamp('UTC')")), else_=typed), t
    # numbers
    raw: ir.Value | None = None
    if dtype.is_numeric():
        e = src.cast("float64")
    else:
        if con.name != "pyspark":
            raise _TextColumn(col.name)
        t = _text(src)
        dec = rule.decimal if rule is not None else "."
        if dec == ",":
            cleaned = t.re_replace("[^0-9,eE+-]", "").replace(",", ".")
        else:
            cleaned = t.re_replace("[^0-9.eE+-]", "")
        e = cleaned.nullif("").try_cast("float64")
        raw = t
    if rule is not None and rule.positive_only:
        unrestricted = e
        e = ibis.cases((e > 0, e), else_=ibis.null("float64"))
        if raw is not None:
            raw = ibis.cases((unrestricted <= 0, ibis.null("string")), else_=raw)
    if col.kind == "integer":
        e = e.round().cast("int64")
    return e, raw


class _TextColumn(Exception):
    def __init__(self, column: str) -> None:
        self.column = column


# --- the workspace ------------------------------------------------------------------------


def connect_backend(
    source: Any,
    mapping: Mapping,
    settings: Settings,
    strict: bool,
    *,
    workspace: Callable[..., Any],
    helpers: Any,
    opener: Callable[[str], Any] = ibis.connect,
    zone_note: str = "given",
) -> Any:
    """Open ``source`` (URL, SparkSession or Ibis backend) as a validated workspace.

    ``workspace`` makes the Workspace, ``helpers`` is the module with the file path's
    shared rules (fills, severities, the latest date), ``opener`` opens a database URL:
    :mod:`leadsla.io.source` passes its own, so that this module does not import it.
    """
    con, label, url, owned = open_engine(source, settings, opener)
    ws = workspace(con, label, settings, mapping, {}, IssueSet(), {})
    helpers._given_zone(ws, zone_note)
    if ws.time_zone_basis != "given":
        helpers._set_zone(ws, "UTC", "default", "the database's timestamps carry no offsets")
    ws.keep_open = not owned
    inputs = _Inputs(con, uuid.uuid4().hex[:10])
    ws.on_close.append(inputs.drop)
    try:
        if url is not None and url.path is not None:
            raws, issues = _spark_file_inputs(ws, inputs, Path(url.path))
        else:
            raws, issues = _database_inputs(ws, inputs, url)
        ws.issues.extend(issues)
        _build(ws, raws, inputs, helpers)
    except BaseException:
        ws.close()
        raise
    if strict and ws.issues.errors:
        ws.close()
        raise DataError(ws.issues)
    return ws


def _build(ws: Workspace, raws: dict[str, Raw], inputs: _Inputs, src_mod: Any) -> None:
    headers = {n: tuple(c for c in r.table.columns if c != "_row") for n, r in raws.items()}
    files = {n: r.label for n, r in raws.items()}
    stages: dict[str, tuple[ir.Table, set[str], str]] = {}
    for table, rules in ws.mapping.tables.items():
        parts: list[tuple[Compiled, ir.Table]] = []
        present: set[str] = set()
        label = ""
        for rule in rules:
            if rule.source not in raws:
                continue
            compiled = compile_rule(rule, ws.mapping, headers, files)
            ws.issues.extend(compiled.issues)
            if any(i.severity == "ERROR" for i in compiled.issues):
                continue
            try:
                sql = sqlglot.transpile(
                    _on_views(compiled.sql, inputs, raws), read="duckdb", write=ws.con.dialect
                )[0]
                text = inputs.view(f"_lsla_{inputs.token}_text_{table}_{len(parts)}", sql)
            except Exception as e:  # the mapping's SQL does not run on this engine
                ws.issues.add(
                    Issue(
                        "ERROR",
                        "mapping-sql",
                        f"the mapping's SQL for {table} fails on {ws.con.name}: "
                        f"{str(e).splitlines()[0] if str(e) else type(e).__name__}",
                        file=raws[rule.source].label,
                        fix=f"Fix the sql rule in {ws.mapping.origin} (portable SQL: CASE, "
                        "COALESCE, joins, correlated subqueries).",
                    )
                )
                continue
            parts.append((compiled, text))
            present |= compiled.present
            label = label or raws[rule.source].label
        if not parts:
            continue
        try:
            stage = inputs.materialize(f"stage_{table}", _typed_stage(ws, table, parts))
        except _TextColumn as e:
            ws.issues.add(
                Issue(
                    "ERROR",
                    "text-column",
                    f"{table}.{e.column} is text in the database; on {ws.con.name} it must be "
                    "typed (a timestamp or a number).",
                    file=label,
                    column=e.column,
                    fix="Cast the column in a view (or in the mapping's sql rule), or export the "
                    "tables as files and read them with the default engine.",
                )
            )
            continue
        stages[table] = (stage, present, label)
    if "leads" not in stages:
        return
    src_mod._resolve_as_of(ws, src_mod._latest_event(ws, stages))
    _validate_and_publish(ws, stages, inputs, src_mod)


_ACCENTED = "áàâäãåāéèêëēíìîïīóòôöõøōúùûüūçñýÿ"
_PLAIN = "aaaaaaaeeeeeiiiiiooooooouuuuucnyy"


def _on_views(sql: str, inputs: _Inputs, raws: dict[str, Raw]) -> str:
    """The mapping's DuckDB SQL with ``raw_<file>`` pointing at this workspace's views."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    names = {f"raw_{n}": r.view for n, r in raws.items()}

    def accents(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() == "strip_accents":
            # DuckDB's strip_accents has no portable twin: translate the common accents
            args = [node.expressions[0], exp.Literal.string(_ACCENTED), exp.Literal.string(_PLAIN)]
            return exp.Anonymous(this="translate", expressions=args)
        return node

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name in names and not node.db:
            new = exp.to_table(names[node.name], quoted=True)
            alias = node.args.get("alias")
            if alias is None:
                alias = exp.TableAlias(this=exp.to_identifier(node.name, quoted=True))
            new.set("alias", alias)
            return new
        return node

    # (tables first: a replaced node's children are not visited again)
    return tree.transform(swap).transform(accents).sql(dialect="duckdb")


def _typed_stage(ws: Workspace, table: str, parts: list[tuple[Compiled, ir.Table]]) -> ir.Table:
    spec = TABLES[table]
    zone = ws.mapping.data_time_zone or ws.time_zone
    raw_cols: set[str] = set()
    built = []
    for compiled, text in parts:
        cols: dict[str, ir.Value] = {
            "_file": text["_file"].cast("string"),
            "_row": text["_row"].cast("int64"),
            "_exclude": text["_exclude"].cast("string"),
        }
        raws: dict[str, ir.Value] = {}
        ntz = _spark_ntz(ws.con, text)
        for col in spec.columns:
            rule = compiled.rule.columns.get(col.name)
            if col.name not in compiled.present:  # not mapped: null of the column's type
                cols[col.name] = ibis.null(_dtype(col))
                continue
            typed, raw = _typed(ws.con, col, text[col.name], rule, zone, ntz)
            cols[col.name] = typed.cast(_dtype(col))
            if raw is not None:
                raws[col.name] = raw
        raw_cols |= set(raws)
        built.append((text, cols, raws))
    selects = []
    for text, cols, raws in built:
        out = dict(cols)
        for name in sorted(raw_cols):
            out[f"{name}__raw"] = raws.get(name, _text(cols[name]))
        selects.append(_select(text, out))
    stage = selects[0]
    for p in selects[1:]:
        stage = stage.union(p)
    return stage


def _select(t: ir.Table, cols: dict[str, ir.Value]) -> ir.Table:
    ordered = ["_file", "_row", "_exclude"]
    names = ordered + [c for c in cols if c not in ordered]
    return t.select(**{n: cols[n] for n in names})


def _dtype(col: Column) -> str:
    return {
        "string": "string",
        "timestamp": "timestamp('UTC')",
        "float": "float64",
        "integer": "int64",
    }[col.kind]


def _validate_and_publish(
    ws: Workspace,
    stages: dict[str, tuple[ir.Table, set[str], str]],
    inputs: _Inputs,
    src_mod: Any,
) -> None:
    """The file path's checks and accounting, with the exclusions as Ibis expressions."""
    for table, (stage, present, label) in stages.items():
        acc = v.Accounting(table)
        counts = stage.group_by("_exclude").aggregate(n=ibis._.count()).execute()
        for reason, n in zip(counts["_exclude"], counts["n"], strict=True):
            acc.read += int(n)
            if isinstance(reason, str):
                acc.excluded[reason] = int(n)
        ws.accounting[table] = acc
        kept = stage.filter(stage._exclude.isnull())
        fills = {c for c, _ in src_mod._fill_rules(ws, table)}
        checks = v.value_checks(kept, table, present, filled=fills)
        if table == "leads":
            checks += v.lead_checks(kept, present)
        issues, _ = v.run_checks(kept, checks, label)
        ws.issues.extend(src_mod._with_severity(ws, issues))
        if table == "leads":
            leaks = v.leak_issues(kept, present, src_mod._defaults(ws, table), label)
            ws.issues.extend(leaks)
            ws.leaks |= {i.column for i in leaks if i.column}
            dup = v.duplicate_issue(kept, "lead_id", label)
            if dup:
                ws.issues.add(dup)
    leads_stage = stages["leads"][0]
    latest = src_mod._fill_warnings(ws, stages)
    final: dict[str, ir.Table] = {}
    for table, (stage, _p, _l) in stages.items():
        final[table] = stage
    if "activities" in stages:
        stage, present, label = stages["activities"]
        # whether each activity's lead exists / is kept, joined once (Spark takes no IN
        # subquery inside an aggregate or a projection)
        ids = (
            leads_stage.filter(leads_stage.lead_id.notnull())
            .group_by(_lid=leads_stage.lead_id)
            .aggregate(_live_n=ibis.ifelse(leads_stage._exclude.isnull(), 1, 0).sum())
        )
        flagged = stage.left_join(ids, stage.lead_id == ids._lid).drop("_lid")
        flagged = flagged.mutate(
            _known=flagged._live_n.notnull(), _live=flagged._live_n.fill_null(0) > 0
        ).drop("_live_n")
        flagged = inputs.materialize("activities_flagged", flagged)
        kept = flagged.filter(flagged._exclude.isnull())
        checks = v.activity_checks(kept, leads_stage, ws.as_of, known=kept._known, live=kept._live)
        issues, excluded = v.run_checks(kept, checks, label)
        ws.issues.extend(issues)
        for reason, n in excluded.items():
            ws.accounting["activities"].excluded[reason] = n
        has_id = kept.lead_id.notnull()
        n_excluded = v.count_rows(kept.filter(has_id & kept._known & ~kept._live))
        if n_excluded:
            ws.accounting["activities"].excluded["activity for an excluded lead"] = n_excluded
        f = flagged
        has_id = f.lead_id.notnull()
        reason = ibis.cases(
            (f._exclude.notnull(), f._exclude),
            (has_id & ~f._known, "activity for an unknown lead"),
            (has_id & ~f._live, "activity for an excluded lead"),
            (has_id & (f["at"] > utc_literal(ws.as_of)), "activity after the as-of date"),
            else_=ibis.null("string"),
        )
        final["activities"] = f.mutate(_exclude=reason).drop("_known", "_live")
        kept = stage.filter(stage._exclude.isnull())
        created = leads_stage.filter(leads_stage._exclude.isnull()).select(
            "lead_id", lead_created_at="created_at"
        )
        joined = kept.inner_join(created, "lead_id")
        issues, _ = v.run_checks(joined, v.activity_timing_checks(joined), label)
        ws.issues.extend(src_mod._with_severity(ws, issues))
    fills_latest = utc_literal(latest if latest.tzinfo else latest.replace(tzinfo=UTC))
    for table, stage in final.items():
        kept = stage.filter(stage._exclude.isnull())
        fills = {c for c, _ in src_mod._fill_rules(ws, table)}
        cols: dict[str, ir.Value] = {}
        for col in TABLES[table].columns:
            c = kept[col.name]
            if col.name in fills:
                c = c.fill_null(fills_latest)
            elif table == "leads" and col.name == "segment":
                c = c.fill_null("all")
            elif table == "leads" and col.name == "mql_at":
                c = c.fill_null(kept.created_at)
            elif table == "leads" and col.name == "closed_at":
                c = ibis.cases((c < kept.created_at, kept.created_at), else_=c)
            # typed as on DuckDB (Ibis reads Spark's TIMESTAMP as naive: instants in UTC)
            cols[col.name] = c.cast(_dtype(col))
        ws.tables[table] = kept.select(**cols)
