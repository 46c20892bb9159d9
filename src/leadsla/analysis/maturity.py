"""Which leads are mature (METHODS §1): the one rule every analysis uses.

A lead is *mature* when it was created before ``as_of − L90``, where ``L90`` is the 90th
percentile (``quantile``) of the creation→close lag of the leads **won** by ``as_of``: wins
close later than losses, and a recent cohort has not had time to win — keeping only its fast
closers would bias its rate either way. When no lead is open at ``as_of`` (nothing left to
close: a finished campaign, an export of closed deals only), every lead is mature.
``as_of`` is the workspace's (``ws.as_of``: ``--as-of``, else the latest event in the data).

Rules (``--maturity``):

- ``cohort`` (default): leads created before the cutoff, closed or not — METHODS §1;
- ``closed-or-old``: also the recent leads already closed by ``as_of`` (they are the fast
  closers, mostly wins: this overstates close rates; kept for comparison);
- ``all``: every lead created by ``as_of``.

Without a won lead to measure the lag on (while some leads are open), only the leads closed
by ``as_of`` count.

Example: won leads closing 10 to 100 days after creation (p90 = 91 days), as-of 2026-06-30
→ cutoff 2026-03-31: a lead created on 2026-04-02 is recent, one created on 2026-03-01
mature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import ibis
import ibis.expr.types as ir

from leadsla.errors import ConfigError
from leadsla.io.source import latest_event
from leadsla.times import epoch_seconds, to_utc, utc_literal

if TYPE_CHECKING:
    import pandas as pd

#: ``cohort``: leads created before as-of − L90 (default, METHODS §1); ``closed-or-old``:
#: those and the recent leads already closed; ``all``: every lead.
MaturityRule = Literal["cohort", "closed-or-old", "all"]
MATURITY_RULES: tuple[str, ...] = ("cohort", "closed-or-old", "all")


def as_of_for(
    as_of: datetime | str | pd.Timestamp | None,
    leads: ir.Table,
    /,
    activities: ir.Table | None = None,
    touches: ir.Table | None = None,
) -> datetime:
    """The as-of instant of an analysis: the one given (``ws.as_of`` from the command line),
    else the latest event in the tables it was given (never the wall clock)."""
    if as_of is not None:
        return to_utc(as_of)
    return latest_event(leads, activities, touches)


def maturity_mode(maturity: str, mature_only: bool, quantile: float) -> MaturityRule:
    """The rule to apply (``all`` when ``mature_only`` is False), checked."""
    if maturity not in MATURITY_RULES:
        raise ConfigError(f'maturity rule "{maturity}" must be one of {", ".join(MATURITY_RULES)}.')
    if not 0.0 < quantile < 1.0:
        raise ConfigError(
            f"maturity_quantile {quantile} must be between 0 and 1 (0.9: the 90th percentile "
            "of the won leads' creation→close lag)."
        )
    return "all" if not mature_only else maturity  # type: ignore[return-value]


def maturity_query(leads: ir.Table, as_of: datetime, quantile: float) -> ir.Table:
    """One row: the won leads' lag quantile, how many won leads it was measured on, and how
    many leads created by ``as_of`` are still open then."""
    at = utc_literal(as_of)
    created = leads.created_at <= at
    closed_by = leads.status.isin(["won", "lost"]) & (
        leads.closed_at.isnull() | (leads.closed_at <= at)
    )
    won_by = (leads.status == "won") & leads.closed_at.notnull() & (leads.closed_at <= at)
    lag = epoch_seconds(leads.closed_at) - epoch_seconds(leads.created_at)
    return leads.aggregate(
        # a quantile over a CASE, not where=: Spark takes no filter inside percentile()
        lag_q=ibis.ifelse(won_by, lag, ibis.null("float64")).quantile(quantile),
        won=leads.count(where=won_by),
        open=leads.count(where=created & ~closed_by),
    )


@dataclass(frozen=True)
class MaturityCutoff:
    """The measured rule: as-of, the won leads' lag quantile, the cutoff, won and open counts.

    ``cutoff`` is None when no lead is open (all mature) or no lead was won (only closed ones
    count).
    """

    as_of: datetime
    lag_seconds: float | None
    cutoff: datetime | None
    won: int  # won leads the lag quantile was measured on
    open: int  # leads created by as_of and still open then

    @property
    def all_mature(self) -> bool:
        return self.open == 0


def measure_maturity(leads: ir.Table, as_of: datetime, quantile: float) -> MaturityCutoff:
    """Run :func:`maturity_query`: the lag quantile and the cutoff at ``as_of``."""
    # one row, read through Arrow (no pandas: its import alone is ~0.4 s of a command)
    row = maturity_query(leads, as_of, quantile).to_pyarrow().to_pylist()[0]
    lag = row["lag_q"]
    lag_s = None if lag is None or lag != lag else max(float(lag), 0.0)  # NULL or NaN
    n_open = int(row["open"])
    cutoff = None if lag_s is None or n_open == 0 else as_of - timedelta(seconds=lag_s)
    return MaturityCutoff(as_of, lag_s, cutoff, int(row["won"]), n_open)


def maturity_flags(t: ir.Table, rule: MaturityCutoff, mode: MaturityRule) -> dict[str, Any]:
    """Boolean expressions on lead rows ``t`` at the as-of date (reused by other analyses).

    ``created``: created by as-of; ``mature``: counted (see :data:`MaturityRule`); ``won``:
    mature and won by as-of; ``won_rev``: that, with a revenue; ``left_closed``: closed by
    as-of but left out as recent (the cohort rule).
    """
    as_of = utc_literal(rule.as_of)
    closed_by = t.closed_at.isnull() | (t.closed_at <= as_of)
    created = t.created_at <= as_of
    closed = t.status.isin(["won", "lost"]) & closed_by
    won = (t.status == "won") & closed_by
    if mode == "all" or rule.all_mature:
        mature = created
    elif rule.cutoff is None:
        mature = created & closed
    elif mode == "cohort":
        mature = created & (t.created_at < utc_literal(rule.cutoff))
    else:
        mature = created & (closed | (t.created_at < utc_literal(rule.cutoff)))
    return {"created": created, "mature": mature, "won": mature & won,
            "won_rev": mature & won & t.revenue.notnull(),
            "left_closed": created & ~mature & closed}  # fmt: skip


@dataclass(frozen=True)
class Maturity:
    """Who counts: the as-of instant, the lag rule, and how many leads were left out and why."""

    as_of: datetime
    quantile: float
    lag_seconds: float | None  # the quantile of the won leads' creation→close lag
    cutoff: datetime | None  # leads created at or after this are recent (immature)
    won_leads: int  # won leads the lag quantile was measured on
    open_leads: int  # leads open at the as-of date (0: every lead is mature)
    leads_read: int
    mature_leads: int
    immature: int  # recent leads left out (created after ``cutoff``)
    immature_closed: int  # of which closed by the as-of date (left out by the cohort rule)
    created_after_as_of: int
    rule: MaturityRule

    @classmethod
    def of(
        cls, rule: MaturityCutoff, mode: MaturityRule, quantile: float, **counts: int
    ) -> Maturity:
        """The rule measured, with the counts (``leads_read``, ``mature_leads``, …)."""
        return cls(
            as_of=rule.as_of, quantile=quantile, lag_seconds=rule.lag_seconds,
            cutoff=rule.cutoff if mode != "all" else None, won_leads=rule.won,
            open_leads=rule.open, rule=mode, **counts,
        )  # fmt: skip

    @property
    def lag_days(self) -> float | None:
        return None if self.lag_seconds is None else self.lag_seconds / 86_400.0

    @property
    def why(self) -> str:
        if self.rule == "all":
            return "every lead created by the as-of date counts (maturity rule switched off)"
        if self.open_leads == 0:
            return (
                f"no lead is open at the as-of date {self.as_of:%Y-%m-%d %H:%M} UTC: every "
                "lead has had its time to close, so every lead counts"
            )
        if self.lag_seconds is None:
            return "no won leads to measure the creation→close lag on: only closed leads count"
        who = "leads" if self.rule == "cohort" else "open leads"
        text = (
            f"{who} created less than {self.lag_days:,.1f} days (the {self.quantile:.0%} "
            f"quantile of the creation→close lag of {self.won_leads:,} won leads) "
            f"before the as-of date {self.as_of:%Y-%m-%d %H:%M} UTC have not had time to "
            "win"
        )
        if self.rule == "cohort":
            text += (
                "; the recent ones already closed are left out too, since keeping only "
                "the fast closers of a recent cohort would bias its close rate"
            )
        return text

    def excluded(self) -> dict[str, Any]:
        """The SPEC ``excluded`` block: counts per reason, their total and the rule."""
        return {
            "total": self.immature + self.created_after_as_of,
            "immature": self.immature,
            "immature_open": self.immature - self.immature_closed,
            "immature_closed": self.immature_closed,
            "created_after_as_of": self.created_after_as_of,
            "why": self.why,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "rule": self.rule,
            "mature_only": self.rule != "all",
            "quantile": self.quantile,
            "lag_days": self.lag_days,
            "lag_of": "won leads",
            "cutoff": self.cutoff.isoformat() if self.cutoff else None,
            "won_leads": self.won_leads,
            "open_leads": self.open_leads,
            "leads_read": self.leads_read,
            "mature_leads": self.mature_leads,
        }
