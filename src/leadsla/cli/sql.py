"""``leadsla sql …``: print the SQL an analysis runs on the engine."""

from __future__ import annotations

import typer

from leadsla.cli.common import console, open_source
from leadsla.cli.options import (
    AllLeadsOpt,
    AsOfOpt,
    AttemptsByOpt,
    ByOpt,
    EncodingOpt,
    MappingOpt,
    MaturityOpt,
    NoCacheOpt,
    OptionOpt,
    OutOpt,
    SchemaOpt,
    SourceArg,
    StaleOpt,
    TzOpt,
    maturity_mode,
)
from leadsla.render.output import emit

app = typer.Typer(help="Print the SQL an analysis runs on the engine.", no_args_is_help=True)


@app.command("value")
def sql_value(
    source: SourceArg,
    by: ByOpt = "campaign,segment",
    all_leads: AllLeadsOpt = False,
    maturity: MaturityOpt = "cohort",
    mapping: MappingOpt = None,
    option: OptionOpt = None,
    time_zone: TzOpt = None,
    encoding: EncodingOpt = None,
    as_of: AsOfOpt = None,
    out: OutOpt = None,
    no_cache: NoCacheOpt = False,
    schema: SchemaOpt = None,
) -> None:
    """Print the SQL `leadsla value` runs (the maturity query runs to fill in its literals)."""
    mode = maturity_mode(maturity, all_leads)
    with open_source(
        source,
        mapping,
        option,
        time_zone=time_zone,
        encoding=encoding,
        as_of=as_of,
        no_cache=no_cache,
        schema=schema,
    ) as ws:
        campaigns = ws.table("campaigns") if ws.has("campaigns") else None
        from leadsla.analysis.value import value_sql

        parts = value_sql(
            ws.leads,
            by=by,
            campaigns=campaigns,
            as_of=ws.as_of,
            maturity_quantile=ws.settings.maturity_quantile,
            maturity=mode,
        )
    text = "\n\n".join(f"-- {title}\n{sql.rstrip()};" for title, sql in parts)
    emit(text + "\n", out, console)


@app.command("attempts")
def sql_attempts(
    source: SourceArg,
    by: AttemptsByOpt = "segment",
    stale_after: StaleOpt = None,
    mapping: MappingOpt = None,
    option: OptionOpt = None,
    time_zone: TzOpt = None,
    encoding: EncodingOpt = None,
    as_of: AsOfOpt = None,
    out: OutOpt = None,
    no_cache: NoCacheOpt = False,
    schema: SchemaOpt = None,
) -> None:
    """Print the SQL `leadsla attempts` runs: attempts and end state per lead, counted."""
    with open_source(
        source,
        mapping,
        option,
        time_zone=time_zone,
        encoding=encoding,
        as_of=as_of,
        no_cache=no_cache,
        schema=schema,
        stale_after_days=stale_after,
    ) as ws:
        from leadsla.analysis.attempts import attempts_sql, maturity_cutoff

        s = ws.settings

        sql = attempts_sql(
            ws.leads,
            ws.activities,
            by=by,
            attempt_kinds=s.attempt_kinds,
            as_of=ws.as_of,
            stale_after_days=stale_after,
            cutoff=None if stale_after is not None else maturity_cutoff(ws.leads, ws.as_of),
        )
    emit(f"-- leads per (group, attempts, state, reason)\n{sql.rstrip()};\n", out, console)
