"""MQL value per group (METHODS §1) on the engine: ``mql_value_table(leads) -> ValueResult``.

Population: *mature* leads, by the one rule of :mod:`leadsla.analysis.maturity` (METHODS §1):
created before ``as-of − L90``, ``L90`` the 90th percentile of the won leads' creation→close
lag; every lead when none is open. ``maturity="closed-or-old"`` also keeps the recent leads
that already closed — the fast ones, mostly wins — and so overstates close rates (measured
on the synthetic CRM: +0.5 standard errors per cell at 200k leads, +0.9 at 1M, where 7 of 30
of the 95% intervals miss the true rate).

The engine does every per-lead step (Ibis expressions; DuckDB, PostgreSQL, …), in at most
three statements:

1. maturity: the won leads' lag quantile at the as-of instant, and the leads still open;
2. per group: leads read, future, mature, recent-closed, won, and over won revenues count,
   sum, sum of squares, max and median; then the medians of the segment totals and of all
   leads (``UNION ALL`` over one shared CTE: GROUPING SETS without the dialect dependence);
3. only when some group is small: its raw won revenues (at most ``max_raw`` = 5,000 per
   group, within a bootstrap budget), in one query.

Only those aggregated rows come into Python, where :mod:`leadsla.analysis.valuestats` does
the statistics: Wilson interval, ``v = p · R̄`` and its Monte Carlo interval (a bootstrap of
the raw revenues, or for large groups the normal approximation from the engine's count, sum
and sum of squares), empirical-Bayes shrinkage toward the parent (the segment, or all leads)
and the warnings. The totals' additive aggregates are summed from the groups' rows.

>>> res = mql_value_table(ws.leads, by=("campaign", "segment"))   # doctest: +SKIP
>>> res.to_dict()["groups"][0]["mql_value"]                        # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np

from leadsla.analysis.grouping import CAMPAIGN_TYPE as CAMPAIGN_TYPE  # re-exported
from leadsla.analysis.grouping import parse_by, seed_for
from leadsla.analysis.maturity import MATURITY_RULES as MATURITY_RULES  # re-exported
from leadsla.analysis.maturity import (
    Maturity,
    MaturityCutoff,
    MaturityRule,
    as_of_for,
    maturity_flags,
    maturity_mode,
    maturity_query,
    measure_maturity,
)
from leadsla.analysis.valuestats import (
    RevenueSummary,
    ValueEstimate,
    estimate_value,
    revenue_concentration,
    shrink,
    value_warnings,
)
from leadsla.errors import ConfigError
from leadsla.times import epoch_seconds as epoch_seconds  # re-exported
from leadsla.times import to_utc

if TYPE_CHECKING:
    import pandas as pd  # imported by to_frame and the roll-up, where frames are built

DEFAULT_BY = ("campaign", "segment")
#: Groups with at most this many won revenues ship them raw for an exact bootstrap ...
MAX_RAW_REVENUES = 5_000
#: ... within a budget of draws × raw revenues resampled (~20 ns each, so ≤ 0.4 s in all):
#: beyond it the largest groups use the normal approximation (within 1% of the bootstrap
#: interval from ~100 won revenues on).
BOOTSTRAP_BUDGET = 20_000_000
#: The label of a missing grouping value (no campaign, no owner, …).
NONE_LABEL = "(none)"
#: The label of a grouping column summed over in a total row (in tables and CSV).
TOTAL_LABEL = "(total)"
Level = Literal["group", "segment total", "overall"]

_KEY = "__k"  # prefix of the grouping columns inside the engine queries


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ValueRow:
    """One row of the value table: a group, a segment total or the overall row."""

    keys: dict[str, str | None]  # grouping column → value (None: summed over)
    level: Level
    estimate: ValueEstimate
    shrunk_close_rate: float
    won_with_revenue: int
    max_deal_share: float
    revenue_basis: Literal["raw", "summary", "none"]

    @property
    def label(self) -> str:
        named = [f"{k}={v}" for k, v in self.keys.items() if v is not None]
        return ", ".join(named) if named else "all leads"

    def to_dict(self) -> dict[str, Any]:
        est = self.estimate.to_dict()
        return {
            **self.keys,
            **{k: est[k] for k in ("leads", "won", "close_rate", "close_rate_ci",
                                   "avg_revenue", "mql_value", "mql_value_ci")},
            "median_revenue": est["median_revenue"],
            "shrunk_close_rate": _finite(self.shrunk_close_rate),
            "level": self.level,
            "won_with_revenue": self.won_with_revenue,
            "max_deal_share": _finite(self.max_deal_share),
            "revenue_basis": self.revenue_basis,
        }  # fmt: skip


@dataclass(frozen=True)
class ValueResult:
    """MQL value per group with segment totals and the overall row (``to_dict``: SPEC keys)."""

    by: tuple[str, ...]
    rows: list[ValueRow]
    maturity: Maturity
    warnings: list[str]
    shrinkage: list[dict[str, Any]]
    draws: int
    seed: int
    max_raw: int
    queries: list[ir.Table] = field(default_factory=list, repr=False)

    @property
    def sql(self) -> list[str]:
        """The SQL of the engine queries that ran, in order."""
        return [ibis.to_sql(q) for q in self.queries]

    @property
    def groups(self) -> list[ValueRow]:
        """The rows at the finest level (one per group asked for)."""
        return [r for r in self.rows if r.level == "group"]

    @property
    def overall(self) -> ValueRow:
        return next(r for r in self.rows if r.level == "overall")

    def row(self, **keys: str) -> ValueRow:
        """The group row whose grouping values are ``keys`` (e.g. ``campaign="Webinar"``)."""
        for r in self.groups:
            if all(r.keys.get(k) == v for k, v in keys.items()):
                return r
        raise KeyError(keys)

    def interval_note(self) -> str:
        raw = sum(r.revenue_basis == "raw" for r in self.rows)
        summ = sum(r.revenue_basis == "summary" for r in self.rows)
        return (
            f"MQL value interval: Monte Carlo, {self.draws:,} draws (seed {self.seed}), "
            f"p ~ Beta(k+½, n−k+½) × bootstrap mean of won revenues. {raw} row(s) resample "
            f"their raw won revenues (≤ {self.max_raw:,}); {summ} row(s) with more use the "
            "normal approximation N(mean, variance/count) from the engine's count, sum and sum "
            "of squares."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``groups`` (SPEC keys + extras), ``excluded``, ``warnings`` and details."""
        return {
            "by": list(self.by),
            "groups": [r.to_dict() for r in self.rows],
            "excluded": self.maturity.excluded(),
            "warnings": list(self.warnings),
            "maturity": self.maturity.to_dict(),
            "shrinkage": self.shrinkage,
            "mql_value_interval": {
                "method": self.interval_note(),
                "draws": self.draws,
                "seed": self.seed,
                "max_raw_revenues": self.max_raw,
            },
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per table row; intervals split into ``*_lo`` / ``*_hi`` columns."""
        import pandas as pd

        recs = []
        for r in self.rows:
            d = r.to_dict()
            for k in ("close_rate_ci", "mql_value_ci"):
                lo, hi = d.pop(k)
                d[k.replace("_ci", "_lo")], d[k.replace("_ci", "_hi")] = lo, hi
            recs.append(d)
        cols = [*self.by, "level", "leads", "won", "close_rate", "close_rate_lo",
                "close_rate_hi", "shrunk_close_rate", "avg_revenue", "median_revenue",
                "mql_value", "mql_value_lo", "mql_value_hi", "won_with_revenue",
                "max_deal_share", "revenue_basis"]  # fmt: skip
        return pd.DataFrame.from_records(recs, columns=cols).astype(
            {"close_rate": "float64", "avg_revenue": "float64", "mql_value": "float64",
             "median_revenue": "float64", "shrunk_close_rate": "float64"}
        )  # fmt: skip


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


# --------------------------------------------------------------------------- inputs


def normalize_by(by: str | Sequence[str], columns: Sequence[str]) -> tuple[str, ...]:
    """Grouping columns from ``"campaign,segment"`` or a sequence; ``type`` = campaign type
    (:func:`leadsla.analysis.grouping.parse_by`)."""
    return parse_by(by, columns, virtual=(CAMPAIGN_TYPE,))


def resolve_as_of(
    as_of: datetime | str | pd.Timestamp | None, time_zone: str = "UTC"
) -> datetime | None:
    """An aware UTC ``datetime`` (naive values are read in ``time_zone``), or None."""
    return None if as_of is None else to_utc(as_of, time_zone)


def _keyed(leads: ir.Table, by: tuple[str, ...], campaigns: ir.Table | None) -> ir.Table:
    """The leads with the grouping columns as text (missing → ``(none)``) under ``__k*``."""
    t = leads
    ctype = None
    if CAMPAIGN_TYPE in by:
        if campaigns is None:
            raise ConfigError(
                "grouping by campaign type needs the campaigns table "
                "(campaign, type); pass campaigns=…, or add campaigns.csv."
            )
        types = campaigns.group_by(campaigns.campaign).aggregate(
            __ctype=campaigns.type.cast("string").min()
        )
        t = leads.left_join(types, leads.campaign == types.campaign).select(
            *[leads[c] for c in leads.columns], types["__ctype"]
        )
        ctype = t["__ctype"]
    keys = {}
    for i, b in enumerate(by):
        col = ctype if b == CAMPAIGN_TYPE else t[b]
        assert col is not None
        keys[f"{_KEY}{i}"] = col.cast("string").fill_null(NONE_LABEL)
    return t.mutate(**keys)


# --------------------------------------------------------------------------- engine steps


def flagged(keyed: ir.Table, n_keys: int, rule: MaturityCutoff, mode: MaturityRule) -> ir.Table:
    """One row per lead: its group keys (``__k0``…), revenue and :func:`maturity_flags`."""
    f = maturity_flags(keyed, rule, mode)
    return keyed.select(*[f"{_KEY}{i}" for i in range(n_keys)], revenue=keyed.revenue, **f)


def group_query(
    keyed: ir.Table,
    n_keys: int,
    rule: MaturityCutoff,
    mode: MaturityRule,
    *,
    segment_key: str | None = None,
) -> ir.Table:
    """Per group (``level`` 0): leads read, future, mature, recent-closed, won, and over won
    revenues count, sum, sum of squares, max and median; then (``level`` 1, 2) the medians of
    the segment totals and of all leads — one statement, the flagged leads shared as a CTE.

    The additive aggregates of the totals are summed from the groups in Python; only the
    median needs the engine again (GROUPING SETS without the dialect dependence).
    """
    b = flagged(keyed, n_keys, rule, mode)
    keys = [f"{_KEY}{i}" for i in range(n_keys)]
    aggs = {
        "read": b.count(),
        "future": b.count(where=~b.created),
        "leads": b.count(where=b.mature),
        "left_closed": b.count(where=b.left_closed),
        "won": b.count(where=b.won),
        "rev_n": b.revenue.count(where=b.won_rev),
        "rev_sum": b.revenue.sum(where=b.won_rev),
        "rev_sumsq": (b.revenue * b.revenue).sum(where=b.won_rev),
        "rev_max": b.revenue.max(where=b.won_rev),
        "rev_median": ibis.ifelse(b.won_rev, b.revenue, ibis.null("float64")).median(),
    }
    if not keys:
        return b.aggregate(**aggs).mutate(level=ibis.literal(0, "int8"))
    out = b.group_by(keys).aggregate(**aggs).mutate(level=ibis.literal(0, "int8"))
    schema = out.schema()
    won = b.filter(b.won_rev)
    levels = ([[segment_key]] if segment_key else []) + [[]]
    for i, lkeys in enumerate(levels, start=1):
        m = (won.group_by(lkeys).aggregate(rev_median=won.revenue.median()) if lkeys
             else won.aggregate(rev_median=won.revenue.median()))  # fmt: skip
        cols = {c: (m[c] if c in m.columns else ibis.null(schema[c])) for c in schema.names}
        cols["level"] = ibis.literal(i, "int8")
        out = out.union(m.select(**cols), distinct=False)
    return out


def raw_revenue_query(
    keyed: ir.Table, n_keys: int, rule: MaturityCutoff, mode: MaturityRule, max_raw: int
) -> ir.Table:
    """Won revenues of every group holding at most ``max_raw`` of them, sorted."""
    b = flagged(keyed, n_keys, rule, mode)
    won = b.filter(b.won_rev)
    keys = [f"{_KEY}{i}" for i in range(n_keys)]
    sized = won.mutate(
        __n=won.revenue.count().over(group_by=keys) if keys else won.revenue.count().over()
    )
    return (sized.filter(sized["__n"] <= max_raw)
            .select(*keys, "revenue").order_by([*keys, "revenue"]))  # fmt: skip


# --------------------------------------------------------------------------- the table


def raw_limit(groups: Sequence[int], totals: Sequence[int], *, max_raw: int, budget: int) -> int:
    """The largest ``T ≤ max_raw`` whose raw bootstraps fit the budget of revenues resampled.

    Rows (groups and totals) with at most ``T`` won revenues resample them; a total's raw
    revenues are its groups', so it resamples only when all of them were fetched.
    """
    sizes = sorted(x for x in [*groups, *totals] if 0 < x <= max_raw)
    used, limit = 0, 0
    for i, m in enumerate(sizes):
        if i + 1 < len(sizes) and sizes[i + 1] == m:
            used += m
            continue
        used += m
        if used > budget:
            break
        limit = m
    return limit


def _summary(n: int, total: float, sumsq: float) -> RevenueSummary:
    if n == 0:
        return RevenueSummary(0, float("nan"), float("nan"))
    mean = total / n
    var = max((sumsq - total * total / n) / (n - 1), 0.0) if n > 1 else 0.0
    return RevenueSummary(n, mean, var)


def mql_value_table(
    leads: ir.Table,
    /,
    *,
    by: str | Sequence[str] = DEFAULT_BY,
    campaigns: ir.Table | None = None,
    as_of: datetime | str | None = None,
    maturity_quantile: float = 0.9,
    seed: int = 0,
    draws: int = 10_000,
    mature_only: bool = True,
    maturity: MaturityRule = "cohort",
    max_raw: int = MAX_RAW_REVENUES,
    bootstrap_budget: int = BOOTSTRAP_BUDGET,
) -> ValueResult:
    """MQL value ``v = p · R̄`` per group of mature leads, with segment totals and overall.

    ``by``: grouping columns of ``leads`` (``campaign``, ``segment``, ``source``, ``owner``, …)
    or ``campaign_type`` (through ``campaigns``: campaign, type). ``as_of``: aware or UTC
    instant — ``ws.as_of`` from the command line; without it the latest created/closed/MQL
    timestamp of ``leads``. Mature leads (:mod:`leadsla.analysis.maturity`), with
    ``cutoff = as_of − the maturity_quantile (0.9) of the won leads' creation→close lag``;
    every lead when none is open at ``as_of``:

    - ``maturity="cohort"`` (default, METHODS §1): leads created before the cutoff;
    - ``"closed-or-old"``: also the recent leads already closed. It keeps the fast closers of
      the recent cohort and drops its slow ones, so it overstates close rates (on the
      synthetic CRM by ~0.5 standard errors per cell at 200k leads);
    - ``"all"`` or ``mature_only=False``: every lead created by ``as_of``.

    Status is read at ``as_of`` (a lead closed later is open). Per row: close rate with
    Wilson interval, mean (and median) revenue of won leads, ``v`` with its seeded Monte Carlo
    interval, and the empirical-Bayes shrunk rate (parent: the row's segment when grouping by
    segment and more, else all leads).

    Example: 1,200 mature leads, 12 won at a mean 160,000 € → close rate 1%, v = 1,600 €.
    """
    mode = maturity_mode(maturity, mature_only, maturity_quantile)
    keys_by = normalize_by(by, leads.columns)
    at = as_of_for(as_of, leads)
    rule = measure_maturity(leads, at, maturity_quantile)
    keyed = _keyed(leads, keys_by, campaigns)
    n_keys = len(keys_by)
    kcols = [f"{_KEY}{i}" for i in range(n_keys)]
    queries = [maturity_query(leads, at, maturity_quantile)]

    seg_i = keys_by.index("segment") if "segment" in keys_by and n_keys > 1 else None
    gq = group_query(
        keyed, n_keys, rule, mode, segment_key=kcols[seg_i] if seg_i is not None else None
    )
    queries.append(gq)
    res = gq.execute()
    for c in ("read", "future", "leads", "left_closed", "won", "rev_n"):
        res[c] = res[c].fillna(0).astype("int64")
    for c in ("rev_sum", "rev_sumsq"):
        res[c] = res[c].astype("float64").fillna(0.0)
    for c in ("rev_max", "rev_median"):
        res[c] = res[c].astype("float64")
    g = res[res["level"] == 0].drop(columns="level")
    g = g.sort_values(kcols, kind="stable").reset_index(drop=True) if kcols else g
    # Medians of the totals: level 1 (per segment), level 2 (all leads).
    medians: dict[str | None, float] = {}
    for r in res[res["level"] > 0].to_dict("records"):
        key = str(r[kcols[seg_i]]) if seg_i is not None and r["level"] == 1 else None
        medians[key] = float(r["rev_median"])

    frames: list[tuple[Level, list[str], pd.DataFrame]] = []
    if n_keys:
        frames.append(("group", kcols, g))
        if seg_i is not None:
            frames.append(("segment total", [kcols[seg_i]], _rollup(g, [kcols[seg_i]])))
        frames.append(("overall", [], _rollup(g, [])))
    else:
        frames.append(("overall", [], g))

    # Which rows resample raw revenues: at most max_raw each, within the bootstrap budget.
    limit = raw_limit([int(x) for x in g["rev_n"]], [
        int(x) for _lvl, _k, f in frames[1:] for x in f["rev_n"]], max_raw=max_raw,
        budget=bootstrap_budget // max(draws, 1))  # fmt: skip
    # Raw revenues of small groups (one query).
    raw: dict[tuple[str, ...], np.ndarray] = {}
    if ((g["rev_n"] > 0) & (g["rev_n"] <= limit)).any():
        rq = raw_revenue_query(keyed, n_keys, rule, mode, limit)
        queries.append(rq)
        rdf = rq.execute()
        if n_keys:
            for key, part in rdf.groupby(kcols, sort=False):
                raw[tuple(str(x) for x in key)] = part["revenue"].to_numpy(dtype=np.float64)
        else:
            raw[()] = rdf["revenue"].to_numpy(dtype=np.float64)

    # (keys, record) of every row, per frame.
    built = [[({b: (str(rec[kcols[j]]) if kcols[j] in keys else None)
                for j, b in enumerate(keys_by)}, _record(rec)) for rec in f.to_dict("records")]
             for _lvl, keys, f in frames]  # fmt: skip

    def revenues_of(
        fi: int, kv: dict[str, str | None], rec: dict[str, Any]
    ) -> tuple[np.ndarray | RevenueSummary, Literal["raw", "summary", "none"], float]:
        """Raw won revenues (bootstrap) or their summary, and the engine's median."""
        n = int(rec["rev_n"])
        lvl = frames[fi][0]
        median = (float(rec["rev_median"]) if lvl == "group" or not n_keys
                  else medians.get(kv.get("segment") if lvl == "segment total" else None,
                                   float("nan")))  # fmt: skip
        if n == 0:
            return np.zeros(0), "none", float("nan")
        if n <= limit:
            want = list(kv.values())
            arrs = [a for k, a in raw.items()
                    if all(v is None or k[j] == v for j, v in enumerate(want))]  # fmt: skip
            vals = np.sort(np.concatenate(arrs)) if arrs else np.zeros(0)
            if vals.size == n:
                return vals, "raw", median
        return _summary(n, float(rec["rev_sum"]), float(rec["rev_sumsq"])), "summary", median

    shrunk, shrinkage = _shrinkage(frames, built, seg_i)

    rows: list[ValueRow] = []
    warnings: list[str] = []
    for fi, (lvl, _keys, _f) in enumerate(frames):
        for ri, (kv, rec) in enumerate(built[fi]):
            revs, basis, med = revenues_of(fi, kv, rec)
            label = ", ".join(f"{k}={v}" for k, v in kv.items() if v is not None) or "all leads"
            est = estimate_value(
                int(rec["won"]),
                int(rec["leads"]),
                revs,
                draws=draws,
                seed=seed_for(seed, f"{lvl}|{label}"),
            )
            est = dataclasses.replace(est, median_revenue=med)
            share = (float(rec["rev_max"]) / float(rec["rev_sum"])
                     if rec["rev_n"] and rec["rev_sum"] > 0 else float("nan"))  # fmt: skip
            rows.append(ValueRow(
                keys=kv, level=lvl, estimate=est,
                shrunk_close_rate=shrunk.get((fi, ri), est.close_rate),
                won_with_revenue=int(rec["rev_n"]), max_deal_share=share, revenue_basis=basis,
            ))  # fmt: skip
            if lvl == "group" or not n_keys:
                warnings += value_warnings(label, est.leads, share, 0)
            elif lvl == "overall" and (text := revenue_concentration(label, share)) is not None:
                warnings.append(text)  # whatever the grouping (issue 12)

    total = built[-1][0][1]
    no_revenue = int(total["won"] - total["rev_n"])
    if no_revenue:
        hit = sum(1 for r in rows if r.level == "group" and r.estimate.won > r.won_with_revenue)
        where = f" ({hit} of {len(built[0])} groups have such leads)" if n_keys else ""
        warnings += [w + where for w in value_warnings("all leads", 10**9, None, no_revenue)]

    mat = Maturity.of(
        rule, mode, maturity_quantile,
        leads_read=int(total["read"]), mature_leads=int(total["leads"]),
        immature=int(total["read"] - total["leads"] - total["future"]),
        immature_closed=int(total["left_closed"]),
        created_after_as_of=int(total["future"]),
    )  # fmt: skip
    if mat.mature_leads == 0:
        warnings.insert(0, f"no mature leads: nothing to estimate ({mat.why})")
    if seg_i is not None:
        # Each segment's groups, then its total; the overall row last.
        order = {"group": 0, "segment total": 1, "overall": 2}
        rows.sort(key=lambda r: (r.level == "overall", str(r.keys.get("segment")),
                                 order[r.level]))  # fmt: skip
    return ValueResult(
        by=keys_by, rows=rows, maturity=mat, warnings=warnings, shrinkage=shrinkage,
        draws=draws, seed=seed, max_raw=limit, queries=queries,
    )  # fmt: skip


_SUMS = {"read": "sum", "future": "sum", "leads": "sum", "left_closed": "sum", "won": "sum",
         "rev_n": "sum",
         "rev_sum": "sum", "rev_sumsq": "sum", "rev_max": "max"}  # fmt: skip


def _rollup(g: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Totals of the additive per-group aggregates (the median is not additive)."""
    if keys:
        return g.groupby(keys, sort=True, as_index=False).agg(_SUMS)
    import pandas as pd

    return pd.DataFrame([{c: (g[c].max() if f == "max" else g[c].sum())
                          for c, f in _SUMS.items()}])  # fmt: skip


def _record(rec: dict[Any, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in rec.items()}


def _rate(rec: dict[str, Any]) -> float:
    return rec["won"] / rec["leads"] if rec["leads"] else float("nan")


def _shrinkage(
    frames: list[tuple[Level, list[str], pd.DataFrame]],
    built: list[list[tuple[dict[str, str | None], dict[str, Any]]]],
    seg_i: int | None,
) -> tuple[dict[tuple[int, int], float], list[dict[str, Any]]]:
    """Shrunk close rates of every non-overall row toward its parent, and the priors used.

    Groups shrink toward their segment when grouping by segment and more, else toward all
    leads; segment totals toward all leads. Siblings = the rows sharing that parent.
    """
    overall_p = _rate(built[-1][0][1])
    seg_p = ({str(kv["segment"]): _rate(rec) for kv, rec in built[1]}
             if seg_i is not None else {})  # fmt: skip
    shrunk: dict[tuple[int, int], float] = {}
    notes: list[dict[str, Any]] = []
    for fi, (lvl, _keys, _f) in enumerate(frames):
        if lvl == "overall":
            continue
        families: dict[str | None, list[int]] = {}
        for ri, (kv, _rec) in enumerate(built[fi]):
            parent = kv["segment"] if (lvl == "group" and seg_i is not None) else None
            families.setdefault(parent, []).append(ri)
        for parent, idx in families.items():
            p = seg_p.get(str(parent), float("nan")) if parent is not None else overall_p
            if not math.isfinite(p):
                continue
            k = np.array([built[fi][ri][1]["won"] for ri in idx], dtype=np.float64)
            n = np.array([built[fi][ri][1]["leads"] for ri in idx], dtype=np.float64)
            res = shrink(k, n, float(p))
            for ri, s in zip(idx, res.shrunk, strict=True):
                shrunk[(fi, ri)] = float(s)
            notes.append({
                "level": lvl, "parent": f"segment={parent}" if parent is not None else "all leads",
                "parent_close_rate": float(p), "alpha": res.prior.alpha, "beta": res.prior.beta,
                "prior": res.prior.source, "note": res.note,
            })  # fmt: skip
    return shrunk, notes


def value_sql(
    leads: ir.Table,
    /,
    *,
    by: str | Sequence[str] = DEFAULT_BY,
    campaigns: ir.Table | None = None,
    as_of: datetime | str | None = None,
    maturity_quantile: float = 0.9,
    mature_only: bool = True,
    maturity: MaturityRule = "cohort",
    max_raw: int = MAX_RAW_REVENUES,
) -> list[tuple[str, str]]:
    """The SQL :func:`mql_value_table` runs, as (title, SQL) pairs.

    Runs the first (maturity) query, since its as-of instant and lag cutoff are literals of
    the others; the median and raw-revenue queries run only when some group needs them.
    """
    mode = maturity_mode(maturity, mature_only, maturity_quantile)
    keys_by = normalize_by(by, leads.columns)
    at = as_of_for(as_of, leads)
    rule = measure_maturity(leads, at, maturity_quantile)
    keyed = _keyed(leads, keys_by, campaigns)
    n = len(keys_by)
    seg = f"{_KEY}{keys_by.index('segment')}" if "segment" in keys_by and n > 1 else None
    return [
        ("1. maturity: the as-of instant and the creation→close lag quantile",
         ibis.to_sql(maturity_query(leads, at, maturity_quantile))),
        ("2. per group: leads, mature, won, won revenue count/sum/sum of squares/max/median; "
         "then the medians of the totals",
         ibis.to_sql(group_query(keyed, n, rule, mode, segment_key=seg))),
        (f"3. raw won revenues of groups with at most {max_raw:,} (for the bootstrap; runs "
         "only when some group is that small)",
         ibis.to_sql(raw_revenue_query(keyed, n, rule, mode, max_raw))),
    ]  # fmt: skip


OTHER = "(other)"


def fold_small_groups(
    leads: ir.Table, by: str | Sequence[str], min_leads: int, *, other: str = OTHER
) -> ir.Table:
    """``leads`` with each grouping column's values of fewer than ``min_leads`` leads replaced
    by ``other`` ("(other)"), so that they are estimated together instead of one tiny group
    each. ``min_leads`` <= 1 changes nothing.

    >>> import ibis
    >>> t = ibis.memtable({"campaign": ["a", "a", "b", "c"]})
    >>> sorted(fold_small_groups(t, "campaign", 2).campaign.execute())
    ['(other)', '(other)', 'a', 'a']
    """
    cols = [by] if isinstance(by, str) else list(by)
    cols = [c.strip() for c in cols if c and c.strip() and c.strip() in leads.columns]
    if min_leads <= 1 or not cols:
        return leads
    out = leads
    for c in cols:
        counts = leads.group_by(c).aggregate(_n=leads.count())
        small = counts.filter(counts._n < min_leads)[c]
        out = out.mutate(**{c: ibis.cases((out[c].isin(small), ibis.literal(other)), else_=out[c])})
    return out
