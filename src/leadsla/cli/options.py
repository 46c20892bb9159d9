"""Options shared by the commands (Typer ``Annotated`` types) and the small parsers behind them."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from leadsla.errors import UsageError
from leadsla.render.output import Format

if TYPE_CHECKING:
    from leadsla.analysis.value import MaturityRule

#: default of ``--lookback-days`` (``leadsla.analysis.attribution.LOOKBACK_DAYS``; a test holds
#: them equal, the analysis module loads the engine)
LOOKBACK_DAYS = 90.0


class Language(StrEnum):
    """The documents' languages (``leadsla.i18n.LANGUAGES``; a test holds them equal)."""

    en = "en"
    es = "es"


LangOpt = Annotated[
    Language,
    typer.Option("--lang", help="Language of the written documents: en (English) or es (Spanish)."),
]
SourceArg = Annotated[
    str,
    typer.Argument(
        help="A folder of CSV/Parquet files, one file, a DuckDB file or a database URL."
    ),
]
MappingOpt = Annotated[
    str | None,
    typer.Option(
        "--mapping", "-m", help="A shipped mapping (see `leadsla mappings`) or a mapping TOML file."
    ),
]
OptionOpt = Annotated[
    list[str] | None,
    typer.Option("--option", help="Set a mapping option, NAME=VALUE (repeatable)."),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output: table, json or csv.")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Write the output to this file.")]
TzOpt = Annotated[
    str | None, typer.Option("--time-zone", help="Workspace time zone for times without an offset.")
]
EncodingOpt = Annotated[
    str | None, typer.Option("--encoding", help="Encoding of CSV files (default utf-8).")
]
QuotaOpt = Annotated[
    float | None,
    typer.Option(
        "--quota", help="Sales quota per period (EUR); default quota_eur of leadsla.toml."
    ),
]
PeriodOpt = Annotated[
    str | None, typer.Option("--period", help="month or quarter (the quota's period).")
]
SegmentQuotaOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--segment-quota",
        help="Quota of one segment, NAME=EUR (repeatable); each segment then gets its own "
        "MQL target.",
    ),
]
OriginatedShareOpt = Annotated[
    float | None,
    typer.Option(
        "--originated-share",
        help="Share of won revenue marketing originates (0-1); default measured on SOURCE "
        "(touches, else source).",
    ),
]
InfluencedShareOpt = Annotated[
    float | None,
    typer.Option(
        "--influenced-share",
        help="Share of won revenue with a marketing touch (0-1), a separate commitment; "
        "default measured from touches.",
    ),
]
WinValueOpt = Annotated[
    float | None,
    typer.Option(
        "--value",
        help="Revenue of one won lead (EUR) for the attempts analysis, every segment; default "
        "the mean revenue of each segment's won leads. Needed when the data has no revenue.",
    ),
]
WinMarginOpt = Annotated[
    float | None,
    typer.Option(
        "--margin",
        help="Share of revenue that is profit (0-1]: the value of a win is revenue × margin "
        "(default: settings, none).",
    ),
]
MqlValueOpt = Annotated[
    float | None,
    typer.Option("--mql-value", help="Value of one MQL (EUR); default measured on SOURCE."),
]
HourlyCostOpt = Annotated[
    float | None,
    typer.Option(
        "--hourly-cost",
        help="Rep cost per hour (EUR); cost per attempt = hourly cost ÷ attempts per hour "
        "(default: settings, 60).",
    ),
]
AttemptsPerHourOpt = Annotated[
    float | None,
    typer.Option(
        "--attempts-per-hour",
        help="Contact attempts a rep makes in an hour (default: settings, 6).",
    ),
]
NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        help="Read and validate the files afresh, without the stage cache (LEADSLA_CACHE_DIR).",
    ),
]
SchemaOpt = Annotated[
    str | None,
    typer.Option(
        "--schema",
        help="For a database or Spark catalog URL: the schema holding the tables (the one a "
        "Fivetran/Airbyte sync writes), as ?schema= in the URL.",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="The run's as-of instant (ISO 8601; without an offset, in the workspace time "
        "zone); default the latest event in the data, never today's date.",
    ),
]

ByOpt = Annotated[
    str,
    typer.Option("--by", help="Grouping columns, comma-separated: campaign, campaign_type, "
                 "segment, source, owner (or any text column of leads)."),
]  # fmt: skip
AllLeadsOpt = Annotated[
    bool,
    typer.Option("--all-leads", help="Count every lead created by the as-of date, not only "
                 "mature ones (recent leads then pull close rates down)."),
]  # fmt: skip
MaturityOpt = Annotated[
    str,
    typer.Option("--maturity", help="Which leads are mature: cohort (created before as-of − "
                 "the 90% creation→close lag of won leads, every lead when none is open; "
                 "default, METHODS §1), closed-or-old (also recent closed leads), all."),
]  # fmt: skip
SeedOpt = Annotated[
    int | None, typer.Option("--seed", help="Seed of the Monte Carlo interval (default: settings).")
]
DrawsOpt = Annotated[
    int, typer.Option("--draws", help="Monte Carlo draws for the MQL value interval.")
]
ChartOpt = Annotated[
    Path | None, typer.Option("--chart", help="Also write the chart as a self-contained HTML file.")
]
LookbackOpt = Annotated[
    float,
    typer.Option("--lookback-days", help="Touches count up to this many days before the close."),
]
AttemptsByOpt = Annotated[
    str,
    typer.Option(
        "--by",
        help="Lead types to analyse separately: comma-separated text columns "
        "of leads (segment, campaign, source, owner); empty for all leads together.",
    ),
]
StaleOpt = Annotated[
    int | None,
    typer.Option(
        "--stale-after",
        help="Only leads created more than this many days before the as-of date count "
        "(default: the maturity rule — created before as-of minus the 90th percentile of won "
        "leads' creation→close lag; every lead when none is open).",
        min=0,
    ),
]


def maturity_mode(maturity: str, all_leads: bool) -> MaturityRule:
    """The ``--maturity`` flag checked; ``--all-leads`` means ``all``."""
    from leadsla.analysis.value import MATURITY_RULES

    if maturity not in MATURITY_RULES:
        raise UsageError(f'--maturity "{maturity}" must be one of {", ".join(MATURITY_RULES)}.')
    return cast("MaturityRule", "all" if all_leads else maturity)


def segment_quotas(items: list[str] | None) -> dict[str, float]:
    """``--segment-quota NAME=EUR`` flags as a dict."""
    out: dict[str, float] = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(
                f'--segment-quota "{item}" must look like NAME=EUR (enterprise=250000).'
            )
        name, amount = item.split("=", 1)
        try:
            out[name.strip()] = float(amount.strip().replace(",", "").replace("_", ""))
        except ValueError:
            raise UsageError(f'--segment-quota "{item}": "{amount}" is not an amount.') from None
    return out


def check_period(period: str | None) -> None:
    """``--period`` is month or quarter."""
    if period is not None and period not in ("month", "quarter"):
        raise UsageError(f'--period "{period}" must be month or quarter.')


def check_by(by: str, columns: list[str]) -> None:
    """A ``--by`` naming no column is a usage error (exit 2), with the columns to choose from."""
    from leadsla.analysis.value import normalize_by
    from leadsla.errors import ConfigError

    try:
        normalize_by(by, columns)
    except ConfigError as e:
        raise UsageError(f"--by: {e}") from None
