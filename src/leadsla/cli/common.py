"""What every command shares: the consoles, opening a source with its settings, warnings.

Engine modules are imported inside the functions, so ``leadsla --help`` stays light.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from leadsla.errors import ConfigError, UsageError
from leadsla.render.output import rich_table

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from leadsla.io.source import Workspace

console = Console()
err = Console(stderr=True)
STATE: dict[str, Any] = {"verbose": False}


def parse_options(options: list[str] | None) -> dict[str, str]:
    """``--option NAME=VALUE`` flags as a dict."""
    out: dict[str, str] = {}
    for o in options or []:
        if "=" not in o:
            raise UsageError(f'--option "{o}" must look like NAME=VALUE.')
        k, val = o.split("=", 1)
        out[k.strip()] = val.strip()
    return out


def open_source(
    source: str,
    mapping: str | None,
    options: list[str] | None,
    *,
    time_zone: str | None = None,
    encoding: str | None = None,
    as_of: str | None = None,
    strict: bool = True,
    no_cache: bool = False,
    zone_fallback: str | None = None,
    schema: str | None = None,
    **settings: Any,
) -> Workspace:
    """Connect with the settings beside the data, overridden by flags; print warnings.

    The time zone: ``--time-zone``, else the settings', else the mapping's (``connect``),
    else ``zone_fallback`` (check: the policy's), else inferred from the data's offsets.
    """
    from leadsla.io.mapping import load_mapping
    from leadsla.io.source import connect
    from leadsla.settings import load_settings

    if schema is not None:
        source = with_schema(source, schema)
    folder = settings_folder(source)
    base = load_settings(folder)
    if mapping is None and base.mapping:  # leadsla.toml names the mapping (leadsla init)
        beside = folder / base.mapping if folder is not None else None
        mapping = str(beside) if beside is not None and beside.is_file() else base.mapping
    m = load_mapping(mapping)
    if time_zone is None and base.time_zone is None and not m.time_zone:
        time_zone = zone_fallback
    s = base.replace(
        time_zone=time_zone,
        encoding=encoding,
        as_of=parse_instant(as_of) if as_of else None,
        **settings,
    )
    return connect(
        source,
        mapping=m,
        settings=s,
        options=parse_options(options),
        strict=strict,
        cache=not no_cache,
    )


def with_schema(source: str, schema: str) -> str:
    """``--schema NAME`` as the URL's ``schema=`` key (a database or Spark catalog source)."""
    from urllib.parse import quote

    if "://" not in source or source.startswith("duckdb://"):
        raise UsageError(
            f"--schema {schema}: only a database or Spark catalog URL has schemas; "
            f"{source} is a file source. Leave --schema out, or give the database URL."
        )
    if "schema=" in source.partition("?")[2]:
        raise UsageError(f"--schema {schema}: the URL names a schema already ({source}).")
    return f"{source}{'&' if '?' in source else '?'}schema={quote(schema, safe='')}"


def settings_folder(source: str) -> Path | None:
    """Where ``leadsla.toml`` is read: beside the data (a folder, a file's folder, the
    ``path=`` of a pyspark URL), else the working folder for a database URL."""
    p = Path(source)
    if p.is_dir():
        return p
    if p.exists():
        return p.parent
    if "://" in source:
        from leadsla.io.backends import parse_url

        url = parse_url(source)
        return Path(url.path) if url.path else Path.cwd()
    return None


def parse_instant(text: str, flag: str = "--as-of", *, naive: str = "the workspace") -> Any:
    """A flag's ISO 8601 instant as a datetime (naive when the text has no offset: wall-clock
    time in ``naive``'s time zone). "now", "today" and the like are refused, so the wall clock
    never enters a run."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        leave = "; leave it out to take the latest event in the data" if flag == "--as-of" else ""
        raise ConfigError(
            f'{flag} "{text}" is not an ISO 8601 instant. Write it as 2026-06-30, '
            f"2026-06-30T18:00 (in {naive} time zone) or 2026-06-30T18:00+02:00{leave}."
        ) from None


def maturity_rule(maturity: str) -> Any:
    """``--maturity``, checked (a usage error names the choices)."""
    from leadsla.analysis.maturity import MATURITY_RULES

    if maturity not in MATURITY_RULES:
        raise UsageError(f'--maturity "{maturity}" must be one of {", ".join(MATURITY_RULES)}.')
    return maturity


def stamped(ws: Workspace, data: dict[str, Any]) -> dict[str, Any]:
    """An analysis's JSON with the run's ``as_of``, ``as_of_basis``, ``time_zone`` and
    ``time_zone_basis`` first (SPEC.md: every command of one run on one source reports the
    same)."""
    out: dict[str, Any] = dict(ws.stamp())
    out.update({k: v for k, v in data.items() if k not in out})
    return out


def warn_business_time(ws: Workspace) -> None:
    """On the commands that count business hours: where the time zone comes from, when it
    was not given (inferred from the data, or UTC by default)."""
    if (w := ws.time_zone_warning) is not None:
        err.print(f"[yellow]WARNING[/yellow] {escape(w)}", highlight=False)


def print_accounting(ws: Workspace, console: Console = err) -> None:
    """Rows read, used and left out per table."""
    rows = [a.to_dict() for a in ws.accounting.values()]
    for r in rows:
        r["excluded"] = "; ".join(f"{k}: {n:,}" for k, n in r["excluded"].items()) or "none"
    console.print(rich_table("Rows", rows, ["table", "read", "used", "excluded"]))


def print_warnings(ws: Workspace) -> None:
    """The source's warnings, on stderr: one line per kind with a count (``--verbose``: all)."""
    if STATE["verbose"]:
        for i in ws.issues.warnings:
            err.print(f"[yellow]WARNING[/yellow] {escape(str(i))}", highlight=False)
        return
    for i, n in ws.issues.grouped("WARNING"):
        more = f" (and {n - 1} more of this kind; --verbose lists them)" if n > 1 else ""
        err.print(f"[yellow]WARNING[/yellow] {escape(str(i))}{more}", highlight=False)


def warn(messages: list[str]) -> None:
    """Warnings of a result, on stderr: one line per kind (``--verbose`` lists all)."""
    for w in messages if STATE["verbose"] else group_messages(messages):
        err.print(f"[yellow]WARNING[/yellow] {escape(w)}", highlight=False)


def group_messages(messages: list[str]) -> list[str]:
    """Warnings of one kind on one line each: the first, and how many more like it.

    Two messages are of a kind when they differ only in their label ("segment=smb: …") and
    numbers; ``--verbose`` lists them all.
    """
    kinds: dict[str, list[str]] = {}
    for m in messages:
        body = m.split(": ", 1)[1] if ": " in m else m
        kinds.setdefault(re.sub(r"\d[\d,.]*", "#", body), []).append(m)
    out = []
    for same in kinds.values():
        line = same[0]
        if len(same) > 1:
            labels = [m.split(": ", 1)[0] for m in same[1:] if ": " in m]
            shown = ", ".join(labels[:3]) + (", …" if len(labels) > 3 else "")
            line += f" (and {len(same) - 1} more like it" + (f": {shown}" if shown else "")
            line += "; --verbose lists them)"
        out.append(line)
    return out


def write_chart(fig: go.Figure, path: Path | None) -> None:
    """Write a chart as a self-contained HTML file (Plotly's JavaScript inlined)."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.write_html(path, include_plotlyjs=True, full_html=True)
        err.print(f"wrote {path}", highlight=False)
