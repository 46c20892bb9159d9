"""``leadsla check``: compliance of both sides with the SLA policy (``sla.toml``).

Exit code 0 whether or not there are breaches (a report is not a failure); with
``--fail-on-breach`` a breached sales rule exits 3, for schedulers and CI.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from leadsla.cli.common import (
    console,
    err,
    open_source,
    parse_instant,
    print_warnings,
    warn_business_time,
)
from leadsla.cli.options import (
    EncodingOpt,
    FormatOpt,
    MappingOpt,
    NoCacheOpt,
    OptionOpt,
    OutOpt,
    SchemaOpt,
    SourceArg,
    TzOpt,
)
from leadsla.render.output import Format, emit, rich_table, to_csv, to_json
from leadsla.text import number, pct

if TYPE_CHECKING:
    import pandas as pd

    from leadsla.sla.compliance import CheckResult

#: Exit code of ``--fail-on-breach`` when a sales rule is breached (0 ok, 1 user error, 2 usage).
EXIT_BREACHED = 3
SECONDS = "%Y-%m-%d %H:%M:%S"


def check(
    source: SourceArg,
    policy: Annotated[
        Path,
        typer.Option(
            "--policy", "-p", help="The SLA policy file (sla.toml, written by `leadsla agree`)."
        ),
    ],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The instant to check at (ISO 8601; without an offset, in the policy's time "
            "zone); default now. Activities after it are left out.",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only leads that became MQLs at or after this instant (ISO 8601; without an "
            "offset, in the policy's time zone); default all.",
        ),
    ] = None,
    breaches: Annotated[
        int, typer.Option("--breaches", help="Breaches listed in the table output.", min=0)
    ] = 20,
    fail_on_breach: Annotated[
        bool,
        typer.Option("--fail-on-breach", help="Exit with code 3 when a sales rule is breached."),
    ] = False,
    mapping: MappingOpt = None,
    option: OptionOpt = None,
    time_zone: TzOpt = None,
    encoding: EncodingOpt = None,
    format: FormatOpt = Format.table,
    out: OutOpt = None,
    no_cache: NoCacheOpt = False,
    schema: SchemaOpt = None,
) -> None:
    """Compliance of sales (first response, attempts) and marketing (MQLs) with the policy."""
    from leadsla.sla.compliance import check_compliance
    from leadsla.sla.policy import load_policy

    since_at = _instant(since, "--since") if since else None
    stamp = _instant(as_of, "--as-of") if as_of else None
    pol = load_policy(policy)
    if stamp is not None:  # a wall-clock --as-of is the policy's local time, like --since
        as_of = (stamp if stamp.tzinfo else stamp.tz_localize(pol.time_zone)).isoformat()
    ws = open_source(
        source,
        mapping,
        option,
        time_zone=time_zone,
        encoding=encoding,
        as_of=as_of,
        no_cache=no_cache,
        schema=schema,
        zone_fallback=pol.time_zone,  # naive times in the policy's zone unless told otherwise
    )
    with ws:
        print_warnings(ws)
        warn_business_time(ws)
        if ws.time_zone != pol.time_zone:
            err.print(
                f"[yellow]WARNING[/yellow] the policy's business hours run in {pol.time_zone}, "
                f"while times without an offset in the data were read in {ws.time_zone} "
                f"({ws.time_zone_basis}); give --time-zone {pol.time_zone} if the data were "
                "written there.",
                highlight=False,
            )
        if (gap := ws.as_of_gap_warning()) is not None:
            err.print(f"[yellow]WARNING[/yellow] {escape(gap)}", highlight=False)
        result = check_compliance(
            ws.leads, ws.activities, policy=pol, as_of=ws.as_of, since=since_at
        )
    for w in result.warnings:
        err.print(f"[yellow]WARNING[/yellow] {escape(w)}", highlight=False)
    if format is Format.json:
        emit(to_json(result.document(ws.stamp())), out, console)
    elif format is Format.csv:
        emit(to_csv(result.breach_rows()), out, console)
    else:
        _tables(result, breaches, out)
    if fail_on_breach and not result.ok:
        raise typer.Exit(EXIT_BREACHED)


def _instant(text: str, flag: str) -> pd.Timestamp:
    """``--as-of``/``--since``: :func:`parse_instant` (naive: the policy's wall-clock time)."""
    import pandas as pd

    return pd.Timestamp(parse_instant(text, flag, naive="the policy's"))


def _local(t: Any, zone: str, pattern: str = "%a %Y-%m-%d %H:%M") -> str:
    import pandas as pd

    if t is None or pd.isna(t):
        return "–"
    return pd.Timestamp(t).tz_convert(zone).strftime(pattern)


def _tables(r: CheckResult, limit: int, out: Path | None) -> None:
    """The readable report: summary, per segment, per rep, marketing, the newest breaches."""
    import pandas as pd
    from rich.console import Console

    target = console if out is None else Console(record=True, width=140)
    zone = r.time_zone
    scope = f"MQLs up to {_local(r.as_of, zone)}"
    if r.since is not None:
        scope = f"MQLs from {_local(r.since, zone)} to {_local(r.as_of, zone)}"
    target.print(
        f"[bold]{r.policy_name}[/bold]: {r.leads:,} leads in scope ({scope}, {zone}).",
        highlight=False,
    )
    rule_rows = [
        {"rule": f"first response ≤ {number(r.first_response_hours)} business h"}
        | _counts(r.first_response.to_dict()),
        {"rule": "contact attempts within the window"} | _counts(r.attempts.to_dict()),
        {"rule": "all sales rules (per lead)"} | _counts(r.status.to_dict()),
    ]
    target.print(rich_table("Sales: leads per rule", rule_rows))
    if r.response_hours_median is not None:
        target.print(
            f"Response time (business hours) to the first attempt: median "
            f"{r.response_hours_median:.2f} h, 90th percentile {r.response_hours_p90:.2f} h. "
            f"{r.attempts_met_by_closing:,} leads met the attempts rule by being closed.",
            highlight=False,
        )
    for title, rows, key in (
        ("Sales by segment", r.by_segment, "segment"),
        ("Sales by rep", r.by_rep, "owner"),
    ):
        shown = [
            {
                key: x[key],
                "leads": x["leads"],
                "met": x["met"],
                "breached": x["breached"],
                "pending": x["pending"],
                "late 1st response": x["first_response_breached"],
                "too few attempts": x["attempts_breached"],
                "compliance": pct(x["compliance"]),
            }
            for x in rows
        ]
        if shown:
            target.print(rich_table(title, shown))
    m = r.marketing
    if m is not None:
        rows = [
            {
                "segment": "all",
                "target": m.target,
                "delivered": m.delivered,
                "pace": pct(m.pace),
                "projected": None if m.projected is None else round(m.projected),
                "value delivered": m.value_delivered_eur,
            }
        ] + [
            {
                "segment": x["segment"],
                "target": x["target"],
                "delivered": x["delivered"],
                "pace": pct(x["pace"]),
                "projected": None if x["projected"] is None else round(x["projected"]),
                "value delivered": x["value_delivered_eur"],
            }
            for x in m.by_segment
        ]
        title = (
            f"Marketing: MQLs this {m.period} ({_local(m.period_start, zone)} to "
            f"{_local(m.period_end, zone)}, {m.elapsed_share:.0%} elapsed; {m.counted})"
        )
        target.print(rich_table(title, rows))
        if m.influenced_share_target is not None:
            target.print(
                f"Influenced-share commitment: ≥ {m.influenced_share_target:.0%} of won revenue "
                "with a marketing touch (measured by `leadsla plan`, not by check).",
                highlight=False,
            )
    n = len(r.breaches)
    if n:
        rows = [
            {
                "lead_id": b["lead_id"],
                "rule": b["rule"].replace("_", " "),
                "due": _local(b["due"], zone, SECONDS),
                "first attempt": _local(b["first_attempt"], zone, SECONDS),
                "attempts": "–" if pd.isna(b["attempts"]) else f"{b['attempts']}/{b['required']}",
                "owner": b["owner"],
                "segment": b["segment"],
            }
            for b in r.breaches.head(limit).to_dict("records")
        ]
        more = f"; {n - len(rows):,} more (--format csv lists them all)" if n > len(rows) else ""
        if rows:
            target.print(rich_table(f"Breaches, newest first ({n:,} in all{more})", rows))
    else:
        target.print("No breaches.", highlight=False)
    if out is not None:
        emit(target.export_text(), out, console)


def _counts(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "met": d["met"],
        "breached": d["breached"],
        "pending": d["pending"],
        "compliance": pct(d["compliance"]),
    }
