"""``leadsla agree``: draft the SLA document (``sla.md``, ``sla.html``) and its policy file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from leadsla.cli.common import (
    console,
    err,
    maturity_rule,
    open_source,
    print_warnings,
    stamped,
    warn_business_time,
)
from leadsla.cli.options import (
    AsOfOpt,
    AttemptsPerHourOpt,
    EncodingOpt,
    HourlyCostOpt,
    InfluencedShareOpt,
    LangOpt,
    Language,
    MappingOpt,
    MaturityOpt,
    MqlValueOpt,
    NoCacheOpt,
    OptionOpt,
    OriginatedShareOpt,
    PeriodOpt,
    QuotaOpt,
    SchemaOpt,
    SegmentQuotaOpt,
    SourceArg,
    TzOpt,
    WinMarginOpt,
    WinValueOpt,
    check_period,
    segment_quotas,
)
from leadsla.render.output import emit, rich_table, to_json

if TYPE_CHECKING:
    from leadsla.sla.agreement import Agreement


class AgreeFormat(StrEnum):
    """The agreement is a document, not a table: no CSV."""

    table = "table"
    json = "json"


def print_agreement(agreement: Agreement) -> None:
    """The headline commitments, the per-segment rules, what was not computed."""
    from leadsla.render.document import headline

    for line in headline(agreement):
        if line.startswith("  "):
            continue
        console.print(escape(line), highlight=False)
    cur = agreement.currency
    m = agreement.marketing
    mk = {t.segment: t for t in (m.segments if m is not None else [])}
    s = agreement.sales
    rules = {t.segment: t for t in s.segments}
    rows = []
    for seg in sorted(set(mk) | set(rules)) or [s.default.segment]:
        row = {"segment": seg}
        if m is not None:
            mt = mk.get(seg)
            row[f"MQLs per {m.period}"] = f"{mt.mqls:,}" if mt else "–"
            row[f"MQL value ({cur})"] = f"{mt.mql_value_eur:,.0f}" if mt else "–"
        rule = rules.get(seg, s.default)
        row["attempts"] = ("at least " if rule.at_least else "") + str(rule.count)
        row["within"] = f"{rule.within_days} days"
        rows.append(row)
    table = rich_table("Per segment", rows)
    for c in table.columns[1:]:
        c.justify = "right"
    console.print(table)
    for part, why in agreement.missing.items():
        console.print(f"[yellow]Not computed:[/yellow] {escape(part)}: {escape(why)}",
                      highlight=False)  # fmt: skip
    d = agreement.data
    w = d.window
    console.print(
        f"Data: {d.rows.get('leads', 0):,} leads"
        + (f" created {w[0]} to {w[1]}" if w else "")
        + f", SHA-256 {d.sha256}",
        highlight=False,
    )


def agree(
    source: SourceArg,
    quota: QuotaOpt = None,
    period: PeriodOpt = None,
    originated_share: OriginatedShareOpt = None,
    influenced_share: InfluencedShareOpt = None,
    segment_quota: SegmentQuotaOpt = None,
    mql_value: MqlValueOpt = None,
    hourly_cost: HourlyCostOpt = None,
    attempts_per_hour: AttemptsPerHourOpt = None,
    value: WinValueOpt = None,
    margin: WinMarginOpt = None,
    first_response_hours: Annotated[
        float | None,
        typer.Option(
            "--first-response-hours",
            help="First-response target in business hours; "
            "default the speed analysis's recommendation (4 without activities).",
        ),
    ] = None,
    attempts: Annotated[
        int | None,
        typer.Option(
            "--attempts",
            help="Contact attempts per lead, for every segment; default "
            "N* per segment (6 without activities).",
            min=1,
        ),
    ] = None,
    within_days: Annotated[
        int | None,
        typer.Option(
            "--within-days",
            help="Calendar days for those attempts, every segment; "
            "default measured per segment (14 without activity times).",
            min=1,
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Title of the SLA (and the policy's name).")
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap resamples for N*'s interval.", min=1)
    ] = 1000,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Folder for sla.md, sla.html and sla.toml (created)."),
    ] = Path("."),
    mapping: MappingOpt = None,
    option: OptionOpt = None,
    time_zone: TzOpt = None,
    encoding: EncodingOpt = None,
    as_of: AsOfOpt = None,
    pdf: Annotated[
        bool,
        typer.Option("--pdf", help="Also write sla.pdf, ready to sign (page numbers, data hash)."),
    ] = False,
    format: Annotated[
        AgreeFormat,
        typer.Option(
            "--format",
            "-f",
            help="Output: table (the headline) or json (the whole agreement and the files).",
        ),
    ] = AgreeFormat.table,
    maturity: MaturityOpt = "cohort",
    no_cache: NoCacheOpt = False,
    schema: SchemaOpt = None,
    lang: LangOpt = Language.en,
) -> None:
    """Draft the SLA from the data: the document (sla.md, sla.html) and its policy (sla.toml)."""
    check_period(period)
    rule = maturity_rule(maturity)
    from leadsla.sla.agreement import draft_agreement

    seg_quotas = segment_quotas(segment_quota)
    with open_source(source, mapping, option, time_zone=time_zone, encoding=encoding,
                     as_of=as_of, no_cache=no_cache, schema=schema) as ws:  # fmt: skip
        print_warnings(ws)
        warn_business_time(ws)
        from rich.status import Status  # loaded when shown, not with the command (issue 16)

        with Status("Drafting the agreement", console=err) as status:
            agreement = draft_agreement(
                ws, quota_eur=quota, period=period, originated_share=originated_share,
                influenced_share=influenced_share, segment_quotas=seg_quotas or None,
                mql_value=mql_value, hourly_cost_eur=hourly_cost,
                attempts_per_hour=attempts_per_hour,
                win_value=value,
                margin=margin, first_response_hours=first_response_hours,
                attempts=attempts, within_days=within_days, name=name, bootstrap=bootstrap,
                progress=lambda step: status.update(f"Drafting the agreement: {step}"),
                maturity=rule,
            )  # fmt: skip
    from leadsla.render.document import write_agreement

    files = write_agreement(agreement, out, lang=lang.value)
    if pdf:
        from leadsla.render.document import write_agreement_pdf

        pdf_path = write_agreement_pdf(agreement, Path(out) / "sla.pdf", lang=lang.value)
        err.print(f"Wrote {pdf_path} (to sign: the agreement on page 1).", highlight=False)
    if format is AgreeFormat.json:
        data = stamped(ws, {**agreement.to_dict(), "files": files.to_dict()})
        emit(to_json(data), None, console)
    else:
        print_agreement(agreement)
        console.print(
            f"Wrote {files.markdown}, {files.html} and {files.policy} (check it with "
            f"`leadsla check SOURCE --policy {files.policy}`).",
            highlight=False,
        )
    for w in agreement.warnings:
        err.print(f"[yellow]WARNING[/yellow] {escape(w)}", highlight=False)
