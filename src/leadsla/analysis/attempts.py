"""How many contact attempts, on the engine (METHODS.md §3): ``attempt_analysis -> AttemptsResult``.

Two steps:

1. :func:`count_attempts`, a pure Ibis expression (DuckDB, PySpark, PostgreSQL, …): per lead
   the contact attempts (outbound activities of the attempt kinds strictly before
   ``closed_at``; all of them for an open lead) and the end state, aggregated to counts per
   (group…, attempts, state). Only this small table comes into Python.
2. :func:`attempt_analysis`: per group, the life table, the hazard model, Π(N), N*,
   identification, its interval over posterior draws, the knee and the warnings, all from
   :mod:`leadsla.analysis.lifetable` and :mod:`leadsla.analysis.hazard` (the one place the
   formulas live).

End states: ``W`` won; ``L`` lost after contact (an activity with outcome ``connected`` or
``replied`` up to the close); ``C`` censored (open, or lost without contact); ``A``
ambiguous: lost, attempted, but the data cannot tell L from C (no outcome values for the
lead, or only a contact count, like the UCI bank file). Ambiguous leads are analysed both ways
(lower bound: treated as lost; upper: as censored) and the result says which is shown.

Only *mature* leads count (METHODS.md §1 and §3, the same cohort as the value analysis):
created before ``as_of − L90``, L90 the 90th percentile of the creation→close lag; with no
open lead every lead is mature. A recent lead that was reached and awaits its outcome is not
evidence against winning. ``stale_after_days`` (given) replaces the rule by a fixed age.
Timestamps are compared as instants (``at <
closed_at``, ``created_at < cutoff``), never subtracted: engines disagree on differences of
time-zone-aware timestamps.

>>> res = attempt_analysis(ws.leads, ws.activities, as_of=ws.as_of,
...                        cost_per_attempt=10.0)                     # doctest: +SKIP
>>> res.to_dict()["groups"]["smb"]["optimal_attempts"]               # doctest: +SKIP
5
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from leadsla.analysis.grouping import parse_by, seed_for
from leadsla.analysis.hazard import ModelName
from leadsla.analysis.hazard import fit as fit_hazard
from leadsla.analysis.lifetable import (
    MIN_AT_RISK,
    GroupAttempts,
    HazardFit,
    group_attempts,
)
from leadsla.analysis.value import measure_maturity
from leadsla.errors import ConfigError, LeadslaError
from leadsla.times import to_utc, utc_literal

if TYPE_CHECKING:
    import pandas as pd  # the engine's answers are DataFrames; to_frame imports it

    from leadsla.io.source import Workspace

__all__ = [
    "CONTACT_OUTCOMES",
    "STATES",
    "AttemptGroup",
    "AttemptsResult",
    "MissingValueError",
    "attempt_analysis",
    "attempts_sql",
    "count_attempts",
    "from_workspace",
]

CONTACT_OUTCOMES = ("connected", "replied")
"""Activity outcomes that mean the lead was reached (a lost lead with one is lost after contact)."""

STATES = ("W", "L", "C", "A", "X")
"""End states in the count table: won, lost after contact, censored, ambiguous (L or C), and
``X`` for leads left out (``excluded`` says why)."""

Bound = Literal["lower", "upper"]
ProgressFn = Callable[[int, int], None]

NONE_LABEL = "(none)"
ALL_LABEL = "all"
_KEY = "__g"
_EXCLUDED = {
    "not_stale": "not stale",
    "immature": "recent (not mature)",
    "negative_count": "negative attempts count",
}
PRIOR_STRENGTH = 100.0
"""Pseudo lead-attempts per k with which a group's win hazard is shrunk toward its parent
(all groups pooled) — as METHODS.md §1's fixed prior m = 100 for close rates."""
MATURITY_QUANTILE = 0.9


class MissingValueError(LeadslaError, ValueError):
    """A group has won leads but no revenue: the value of a win must be given."""


# --------------------------------------------------------------------------- the engine step


def _by(by: str | Sequence[str], columns: Sequence[str]) -> tuple[str, ...]:
    return parse_by(by, columns, what="group attempts")


def count_attempts(
    leads: ir.Table,
    activities: ir.Table | None,
    /,
    *,
    by: str | Sequence[str] = ("segment",),
    attempt_kinds: Sequence[str] = ("call", "email"),
    as_of: datetime | str | pd.Timestamp,
    stale_after_days: float | None = 90,
    cutoff: datetime | None = None,
) -> ir.Table:
    """Leads per (group…, ``attempts``, ``state``), with ``revenue_sum``/``revenue_sq``/
    ``revenue_n`` of their revenues (for V and its standard error, from the ``W`` rows), as
    one lazy Ibis expression.

    The population: leads created before ``cutoff`` (the maturity rule of METHODS.md §1,
    measured by :func:`attempt_analysis`), or, when ``stale_after_days`` is given, before
    ``as_of - stale_after_days``; with neither, every lead created by ``as_of``. Activities
    after ``as_of`` are not seen. With the maturity ``cutoff``, the process is observed up to
    that instant (administrative censoring in calendar time): a lead counts its attempts before
    the cutoff, and its outcome only when its deciding attempt came before the cutoff and it
    closed by ``as_of``; otherwise it is censored there. A later attempt is as recent as an
    immature lead — its outcome may still be pending, and a reached lead about to be won is
    no evidence against winning. Leads created after the cutoff have no attempt before it.

    ``attempts`` = the lead's activities of ``attempt_kinds`` with ``at < closed_at`` (all of
    them when ``closed_at`` is empty); a lead without any activity row uses the leads table's
    ``attempts`` column when there is one ("where activity rows exist, they win"), else 0.
    ``state``: see :data:`STATES`; leads created at or after ``as_of - stale_after_days``
    are ``X`` with 0 attempts (as are negative counts: ``excluded`` tells them apart by
    ``reason``). The grouping columns are text, missing values ``(none)``.
    """
    keys_by = _by(by, leads.columns)
    at = to_utc(as_of)
    evidence = at + timedelta(microseconds=1)  # the horizon: attempts before it count
    if stale_after_days is not None:
        cutoff = at - timedelta(days=stale_after_days)
    elif cutoff is None:
        cutoff = at + timedelta(microseconds=1)
    else:
        cutoff = min(to_utc(cutoff), at + timedelta(microseconds=1))
        evidence = cutoff
    kinds = [str(k) for k in attempt_kinds]
    if not kinds:
        raise ConfigError("attempt_kinds is empty: name the activity kinds that are attempts.")
    keys = {
        f"{_KEY}{i}": leads[b].cast("string").fill_null(NONE_LABEL) for i, b in enumerate(keys_by)
    }
    counted = leads["attempts"].cast("int64") if "attempts" in leads.columns else ibis.null("int64")
    revenue = (
        leads["revenue"].cast("float64") if "revenue" in leads.columns else ibis.null("float64")
    )
    base = leads.select(
        _lid=leads.lead_id,
        **keys,
        _status=leads.status,
        _closed=leads.closed_at,
        _revenue=revenue,
        _counted=counted,
        _stale=leads.created_at < utc_literal(cutoff),
    )
    seen = utc_literal(at)
    if activities is not None:
        stale = base.filter(base._stale).select("_lid", "_closed")
        acts = activities.select(
            _aid=activities.lead_id,
            _at=activities["at"],
            _kind=activities.kind,
            _outcome=activities.outcome,
        )
        j = acts.inner_join(stale, acts._aid == stale._lid)
        j = j.filter(j._at <= seen)
        open_ = j._closed.isnull() | (j._closed > seen)
        is_attempt = j._kind.isin(kinds) & (open_ | (j._at < j._closed))
        per = j.group_by(_pid=j._aid).aggregate(
            # COUNT … FILTER: a BIGINT count (a SUM of CASE is a 128-bit sum in DuckDB)
            _n=j.count(where=is_attempt),
            _n_e=j.count(where=is_attempt & (j._at < utc_literal(evidence))),
            _contact=(j._outcome.isin(CONTACT_OUTCOMES) & (open_ | (j._at <= j._closed))).any(),
            _known=j._outcome.notnull().any(),
        )
        t = base.left_join(per, base._lid == per._pid)
        has_rows = t._pid.notnull()
        n_acts = t._n.cast("int64")
        n_horizon = t._n_e.cast("int64")
        contact = has_rows & t._contact.fill_null(False)
        known = has_rows & t._known.fill_null(False)
    else:
        t = base
        has_rows = ibis.literal(False)
        n_acts = ibis.literal(0, type="int64")
        n_horizon = n_acts
        contact = ibis.literal(False)
        known = ibis.literal(False)
    negative = ~has_rows & t._counted.notnull() & (t._counted < 0)
    excluded = ~t._stale | negative
    # decided by the horizon: closed by as_of, its deciding (last) attempt before the horizon
    done = (t._closed.isnull() | (t._closed <= seen)) & (~has_rows | (n_acts == n_horizon))
    m = ibis.ifelse(has_rows, ibis.ifelse(done, n_acts, n_horizon), t._counted.fill_null(0))
    lost = (t._status == "lost") & done
    state = ibis.cases(
        (excluded, "X"),
        ((t._status == "won") & done, "W"),
        (lost & contact, "L"),
        (lost & (m > 0) & ~known, "A"),
        else_="C",
    )
    young = "not_stale" if stale_after_days is not None else "immature"
    reason = ibis.cases((~t._stale, young), (negative, "negative_count"), else_="")
    grouped = t.mutate(
        attempts=ibis.ifelse(excluded, 0, m).cast("int64"), state=state, reason=reason
    )
    out_keys = {b: grouped[f"{_KEY}{i}"] for i, b in enumerate(keys_by)}
    return grouped.group_by(
        **out_keys, attempts=grouped.attempts, state=grouped.state, reason=grouped.reason
    ).aggregate(
        leads=grouped.count(),
        revenue_sum=grouped._revenue.sum(),
        revenue_sq=(grouped._revenue * grouped._revenue).sum(),
        revenue_n=grouped._revenue.count(),
    )


def attempts_sql(
    leads: ir.Table,
    activities: ir.Table | None,
    /,
    *,
    by: str | Sequence[str] = ("segment",),
    attempt_kinds: Sequence[str] = ("call", "email"),
    as_of: datetime | str | pd.Timestamp,
    stale_after_days: float | None = 90,
    cutoff: datetime | None = None,
) -> str:
    """The SQL the engine runs for :func:`count_attempts` (the only query of the analysis)."""
    expr = count_attempts(
        leads,
        activities,
        by=by,
        attempt_kinds=attempt_kinds,
        as_of=as_of,
        stale_after_days=stale_after_days,
        cutoff=cutoff,
    )
    return str(ibis.to_sql(expr))


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AttemptGroup:
    """One group: the counts per attempts k = 0..K and state, V, and the analysis shown.

    ``analysis`` is the bound shown (``bound``); ``other`` the other bound when some leads are
    ambiguous (lost, attempted, L or C unknown), else None.
    """

    name: str
    keys: dict[str, str]
    won: np.ndarray
    lost: np.ndarray
    censored: np.ndarray
    ambiguous: np.ndarray
    value: float
    value_basis: str
    analysis: GroupAttempts
    other: GroupAttempts | None
    bound: Bound | None

    @property
    def leads(self) -> int:
        return int(self.won.sum() + self.lost.sum() + self.censored.sum() + self.ambiguous.sum())

    @property
    def ambiguous_leads(self) -> int:
        return int(self.ambiguous.sum())

    @property
    def bounds(self) -> dict[str, GroupAttempts] | None:
        """``{"lower": …, "upper": …}`` when L and C could not be told apart, else None."""
        if self.other is None or self.bound is None:
            return None
        flip: Bound = "upper" if self.bound == "lower" else "lower"
        return {self.bound: self.analysis, flip: self.other}

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {**self.analysis.to_dict()}
        d["leads"] = self.leads
        d["value_basis"] = self.value_basis
        d["ambiguous_leads"] = self.ambiguous_leads
        b = self.bounds
        d["bounds"] = (
            None
            if b is None
            else {
                name: {
                    "optimal_attempts": g.optimal_attempts,
                    "optimal_attempts_ci": list(g.optimal_attempts_ci),
                    "reason": g.reason,
                    "identified": g.identified,
                    "knee": g.knee,
                }
                for name, g in sorted(b.items())
            }
        )
        return d


@dataclass(frozen=True)
class AttemptsResult:
    """The attempts analysis of every group; ``to_dict`` gives the SPEC.md ``attempts`` keys
    (``cost_per_attempt``, ``groups``) plus ``excluded``, ``bound_shown`` and ``warnings``."""

    by: tuple[str, ...]
    cost_per_attempt: float
    groups: dict[str, AttemptGroup]
    excluded: dict[str, int]
    bound_shown: Bound | None
    warnings: list[str]
    as_of: datetime
    stale_after_days: float | None
    counts: pa.Table = field(repr=False)  # the engine's count rows, sorted, every group
    cutoff: datetime | None = None

    def __getitem__(self, name: str) -> GroupAttempts:
        return self.groups[name].analysis

    def to_dict(self) -> dict[str, Any]:
        return {
            "cost_per_attempt": float(self.cost_per_attempt),
            "groups": {name: g.to_dict() for name, g in self.groups.items()},
            "excluded": dict(self.excluded),
            "bound_shown": self.bound_shown,
            "warnings": list(self.warnings),
            "population": self.population,
        }

    @property
    def population(self) -> str:
        """Which leads the analysis counts, in words."""
        if self.stale_after_days is not None:
            return f"leads created more than {self.stale_after_days:g} days before the as-of date"
        if self.cutoff is None:
            return "every lead created by the as-of date (no lead is open: all are mature)"
        return (
            "mature leads: created before the as-of date minus the 90th percentile of won "
            "leads' creation→close lag, their attempts up to that cutoff"
        )

    def to_frame(self) -> pd.DataFrame:
        """The life tables stacked, one row per (group, attempt), with Π(N)'s bootstrap band."""
        import pandas as pd

        frames = []
        for name, g in self.groups.items():
            a = g.analysis
            t = a.table
            bands = a.posterior.profit_bands
            frames.append(
                pd.DataFrame(
                    {
                        "group": name,
                        **{b: g.keys[b] for b in self.by},
                        "attempt": t.attempt,
                        "at_risk": t.at_risk,
                        "won": t.won,
                        "lost": t.lost,
                        "censored": t.censored,
                        "win_hazard": t.win_hazard,
                        "lost_hazard": t.lost_hazard,
                        "survival": t.survival,
                        "cumulative_conversion": t.cumulative_conversion,
                        "expected_attempts": t.expected_attempts,
                        "expected_profit": a.expected_profit,
                        "expected_profit_lo": bands[0],
                        "expected_profit_hi": bands[-1],
                        "cumulative_return": a.value * t.cumulative_conversion,
                        "naive_cohort_rate": t.naive_cohort_rate,
                        "optimal": t.attempt == a.optimal_attempts,
                        "knee": t.attempt == (a.knee or 0),
                    }
                )
            )
        if not frames:
            return pd.DataFrame(columns=["group", *self.by, "attempt"])
        return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- the analysis


def _group_name(values: Sequence[str]) -> str:
    return " / ".join(values) if values else ALL_LABEL


@dataclass(frozen=True)
class _Rows:
    """Rows of the engine's count table (one group's, or all), as columns: the few hundred
    aggregate rows need no data frame library."""

    attempts: np.ndarray
    state: np.ndarray
    reason: np.ndarray
    leads: np.ndarray
    revenue_sum: np.ndarray
    revenue_sq: np.ndarray
    revenue_n: np.ndarray

    @classmethod
    def read(cls, table: pa.Table, keys_by: Sequence[str]) -> tuple[_Rows, list[tuple[str, ...]]]:
        """The engine's answer sorted by group, ``attempts``, ``state``, ``reason`` (its rows
        come in no fixed order: sorted, the sums below add in one order), and each row's
        group key."""
        table = table.sort_by([(c, "ascending") for c in (*keys_by, "attempts", "state", "reason")])

        def col(name: str, kind: type) -> np.ndarray:
            x = np.asarray(table.column(name).to_numpy(zero_copy_only=False))
            if kind is float:
                return np.nan_to_num(x.astype(np.float64), nan=0.0)  # a group without revenue
            return x.astype(np.int64) if kind is int else x.astype(object)

        keys = list(zip(*(table.column(b).to_pylist() for b in keys_by), strict=True))
        rows = cls(
            attempts=col("attempts", int), state=col("state", str), reason=col("reason", str),
            leads=col("leads", int), revenue_sum=col("revenue_sum", float),
            revenue_sq=col("revenue_sq", float), revenue_n=col("revenue_n", int),
        )  # fmt: skip
        return rows, keys if keys_by else [()] * table.num_rows

    def __len__(self) -> int:
        return int(self.attempts.size)

    def take(self, which: np.ndarray | slice) -> _Rows:
        return _Rows(**{f: getattr(self, f)[which] for f in self.__dataclass_fields__})

    def of(self, state: str) -> _Rows:
        return self.take(self.state == state)

    def to_arrow(self) -> pa.Table:
        return pa.table({f: getattr(self, f) for f in self.__dataclass_fields__})


def _arrays(rows: _Rows, k_max: int) -> dict[str, np.ndarray]:
    out = {}
    for s in ("W", "L", "C", "A"):
        part = rows.of(s)
        out[s] = np.bincount(
            part.attempts, weights=part.leads.astype(np.float64), minlength=k_max + 1
        ).astype(np.int64)
    return out


def attempt_analysis(
    leads: ir.Table,
    activities: ir.Table | None,
    /,
    *,
    as_of: datetime | str | pd.Timestamp,
    cost_per_attempt: float,
    by: str | Sequence[str] = ("segment",),
    value: float | Mapping[str, float] | None = None,
    margin: float | None = None,
    B: int = 1000,
    seed: int = 0,
    smooth: HazardFit = "raw",
    attempt_kinds: Sequence[str] = ("call", "email"),
    stale_after_days: float | None = None,
    bound: Bound = "lower",
    min_at_risk: int = MIN_AT_RISK,
    progress: ProgressFn | None = None,
    model: ModelName | None = None,
    prior_strength: float = PRIOR_STRENGTH,
) -> AttemptsResult:
    """N* and the life table per group (METHODS.md §3) from the canonical tables.

    V per group = mean revenue of its won leads (from the engine), or ``value`` when given
    (one amount, or a dict by group name), times ``margin`` when given; c =
    ``cost_per_attempt`` (rep hourly cost ÷ attempts per hour). A group with won leads but
    no revenue needs ``value`` (:class:`MissingValueError`). Where some lost leads cannot be
    told apart as lost-after-contact or censored, both bounds are computed and ``bound``
    (default ``"lower"``: treated as lost) is shown. ``progress(done, total)`` is called after
    each group's bootstrap.
    """
    if bound not in ("lower", "upper"):
        raise ConfigError(f'bound must be "lower" or "upper", not {bound!r}.')
    if margin is not None and not 0 < margin <= 1:
        raise ConfigError(f"margin {margin} must be above 0 and at most 1.")
    if not np.isfinite(cost_per_attempt) or cost_per_attempt < 0:
        raise ConfigError(f"cost per attempt {cost_per_attempt} must be a finite amount >= 0.")
    keys_by = _by(by, leads.columns)
    at = to_utc(as_of)
    cutoff = None if stale_after_days is not None else maturity_cutoff(leads, at)
    expr = count_attempts(
        leads,
        activities,
        by=keys_by,
        attempt_kinds=attempt_kinds,
        as_of=at,
        stale_after_days=stale_after_days,
        cutoff=cutoff,
    )
    counts, row_keys = _Rows.read(expr.to_pyarrow(), keys_by)
    gone = counts.state == "X"
    excluded = {
        str(r): n
        for r in sorted(set(counts.reason[gone]))
        if (n := int(counts.leads[gone & (counts.reason == r)].sum()))
    }
    used = counts.take(~gone)
    used_keys = [k for k, g in zip(row_keys, gone, strict=True) if not g]
    todo: list[tuple[str, dict[str, str], _Rows]] = []
    if keys_by:
        start = 0  # the rows are sorted by key: each group is one run of them, in order
        for key, same in itertools.groupby(used_keys):
            end = start + sum(1 for _ in same)
            kv = {b: str(x) for b, x in zip(keys_by, key, strict=True)}
            todo.append((_group_name(list(kv.values())), kv, used.take(slice(start, end))))
            start = end
    elif len(used):
        todo.append((ALL_LABEL, {}, used))

    warnings: list[str] = []
    values = _values(todo, value, margin)
    total = sum(2 if int(rows.of("A").leads.sum()) else 1 for _, _, rows in todo)
    done = 0
    groups: dict[str, AttemptGroup] = {}
    any_ambiguous = False
    arrays = {name: _arrays(rows, int(rows.attempts.max()) if len(rows) else 0)
              for name, _, rows in todo}  # fmt: skip
    parents = _parent_hazards(arrays, seed=seed) if len(todo) > 1 and prior_strength > 0 else {}
    for name, kv, _rows in todo:
        arr = arrays[name]
        val, basis, note, val_se = values[name]
        if note:
            warnings.append(note)
        amb = arr["A"]

        def run(w: np.ndarray, lo: np.ndarray, ce: np.ndarray, which: Bound) -> GroupAttempts:
            return group_attempts(
                w,
                lo,
                ce,
                value=val,  # noqa: B023 - called within the iteration
                value_se=val_se,  # noqa: B023
                cost_per_attempt=cost_per_attempt,
                smooth=smooth,
                B=B,
                seed=seed_for(seed, name),  # noqa: B023
                min_at_risk=min_at_risk,
                model=model,
                prior_hazard=parents.get(which),
                prior_strength=prior_strength,
            )

        lower = run(arr["W"], arr["L"] + amb, arr["C"], "lower")
        done += 1
        if progress is not None:
            progress(done, total)
        other: GroupAttempts | None = None
        shown = lower
        group_bound: Bound | None = None
        if amb.sum():
            any_ambiguous = True
            upper = run(arr["W"], arr["L"], arr["C"] + amb, "upper")
            done += 1
            if progress is not None:
                progress(done, total)
            shown, other = (lower, upper) if bound == "lower" else (upper, lower)
            group_bound = bound
            warnings.append(_bound_note(name, int(amb.sum()), lower, upper, bound))
        groups[name] = AttemptGroup(
            name=name,
            keys=kv,
            won=arr["W"],
            lost=arr["L"],
            censored=arr["C"],
            ambiguous=amb,
            value=val,
            value_basis=basis,
            analysis=shown,
            other=other,
            bound=group_bound,
        )
    if groups and all(g.analysis.table.max_attempt == 0 for g in groups.values()):
        kinds = ", ".join(attempt_kinds)
        warnings.append(
            f"No lead has a contact attempt ({kinds} before the close): the source needs an "
            "activities table (lead_id, at, kind, outcome) or an attempts column in leads."
        )
    if not groups:
        warnings.append(
            "No lead to analyse: every lead is too recent to have an outcome by the as-of "
            f"date {at:%Y-%m-%d} (set stale_after_days or as_of)."
        )
    n_out = excluded.get("not_stale", 0) + excluded.get("immature", 0)
    if n_out and groups:
        since = (
            f"within {stale_after_days:g} days of the as-of date {at:%Y-%m-%d}"
            if stale_after_days is not None
            else f"on or after {cutoff:%Y-%m-%d} (the maturity cutoff)"
        )
        warnings.append(
            f"{n_out:,} leads created {since} are left out: they are still being worked, and a "
            "reached lead awaiting its outcome is no evidence against winning."
        )
    return AttemptsResult(
        by=keys_by,
        cost_per_attempt=float(cost_per_attempt),
        groups=groups,
        excluded=excluded,
        bound_shown=bound if any_ambiguous else None,
        warnings=warnings,
        as_of=at,
        stale_after_days=stale_after_days,
        counts=counts.to_arrow(),
        cutoff=cutoff,
    )


def maturity_cutoff(leads: ir.Table, as_of: datetime, /) -> datetime | None:
    """The maturity cutoff of METHODS.md §1 (value's rule, the same as-of): leads created
    before it count; None when no lead is open at ``as_of`` (every lead is mature)."""
    # one rule, value's: the lag quantile over won leads, no cutoff when no lead is open
    return measure_maturity(leads, as_of, MATURITY_QUANTILE).cutoff


def _parent_hazards(
    arrays: Mapping[str, Mapping[str, np.ndarray]], *, seed: int
) -> dict[Bound, np.ndarray]:
    """The parent's (all groups pooled) fitted win hazard, per bound, as the prior of each
    group's hazard (empirical-Bayes shrinkage of small groups)."""
    k_max = max(a["W"].size for a in arrays.values())

    def pad(x: np.ndarray) -> np.ndarray:
        return np.pad(x, (0, k_max - x.size))

    tot = {s: sum(pad(a[s]) for a in arrays.values()) for s in ("W", "L", "C", "A")}
    out: dict[Bound, np.ndarray] = {}
    for which, (lo, ce) in {
        "lower": (tot["L"] + tot["A"], tot["C"]),
        "upper": (tot["L"], tot["C"] + tot["A"]),
    }.items():
        hz = fit_hazard(tot["W"], lo, ce, draws=1, seed=seed)
        out[which] = hz.win_hazard  # type: ignore[index]
    return out


def _values(
    todo: list[tuple[str, dict[str, str], _Rows]],
    value: float | Mapping[str, float] | None,
    margin: float | None,
) -> dict[str, tuple[float, str, str | None, float]]:
    """V per group: (value, how it was obtained, a warning or None, V's standard error: the
    standard error of the mean revenue, 0 for a given value)."""
    out: dict[str, tuple[float, str, str | None, float]] = {}
    missing: list[str] = []
    for name, _kv, rows in todo:
        given = value.get(name) if isinstance(value, Mapping) else value
        won = rows.of("W")
        n_won = int(won.leads.sum())
        n_rev = int(won.revenue_n.sum())
        note = None
        se = 0.0
        if given is not None:
            if not np.isfinite(given) or given < 0:
                raise ConfigError(f'the value of a win for "{name}" ({given}) must be >= 0.')
            base, basis = float(given), "given"
        elif n_rev:
            base = float(won.revenue_sum.sum()) / n_rev
            basis = f"mean revenue of {n_rev:,} won leads"
            if n_rev >= 2:
                var = (float(won.revenue_sq.sum()) - n_rev * base * base) / (n_rev - 1)
                se = float(np.sqrt(max(var, 0.0) / n_rev))
            else:
                se = base  # one deal: its size says little about the mean
            if n_rev < n_won:
                note = (
                    f"{name}: {n_won - n_rev:,} of {n_won:,} won leads have no revenue; V is "
                    "the mean over the others."
                )
        elif n_won == 0:
            base, basis = 0.0, "no won leads"
            note = f"{name}: no won lead, so V = 0 and no attempt pays."
        else:
            missing.append(name)
            continue
        if margin is not None:
            base *= margin
            se *= margin
            basis += f" × margin {margin:g}"
        out[name] = (base, basis, note, se)
    if missing:
        which = ", ".join(f'"{m}"' for m in missing)
        raise MissingValueError(
            f"no revenue for the won leads of {which}: the value of one win cannot be "
            "measured. Give it with --value EUR (value= in Python), e.g. the average deal size "
            "(a margin given with --margin applies to it)."
        )
    return out


def _bound_note(name: str, n: int, lower: GroupAttempts, upper: GroupAttempts, shown: Bound) -> str:
    return (
        f"{name}: {n:,} lost leads have no outcome data, so lost-after-contact cannot be told "
        f"from abandoned; showing the {shown} bound ("
        + ("treated as lost" if shown == "lower" else "treated as censored")
        + f"). N* = {lower.optimal_attempts_text} treated as lost, "
        f"{upper.optimal_attempts_text} treated as censored."
    )


def from_workspace(ws: Workspace, /, **options: Any) -> AttemptsResult:
    """:func:`attempt_analysis` on a workspace, its settings filling what ``options`` leaves
    out (as_of, cost per attempt, margin, attempt kinds, stale-after, seed)."""
    s = ws.settings
    opts: dict[str, Any] = {
        "as_of": ws.as_of,
        "cost_per_attempt": s.cost_per_attempt_eur,
        "margin": s.margin,
        "attempt_kinds": s.attempt_kinds,
        "seed": s.seed,
    }
    opts.update({k: v for k, v in options.items() if v is not None})
    return attempt_analysis(ws.leads, ws.activities, **opts)
