"""The flat public API: one function per analysis, each over an open workspace.

>>> import leadsla
>>> with leadsla.connect("crm/") as ws:                    # doctest: +SKIP
...     table = leadsla.value(ws, by="campaign")
...     sla = leadsla.agree(ws, quota_eur=400_000)

Each is a thin call of the analysis with the workspace's settings (as-of, maturity quantile,
seed, calendar); keyword options go to the analysis function named in its docstring.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadsla.io.source import Workspace, connect

if TYPE_CHECKING:
    from leadsla.analysis.attempts import AttemptsResult
    from leadsla.analysis.plan import SlaPlan
    from leadsla.analysis.speed import SpeedResult
    from leadsla.analysis.value import ValueResult
    from leadsla.render.report import Report
    from leadsla.sla.agreement import Agreement
    from leadsla.sla.compliance import CheckResult
    from leadsla.sla.policy import Policy

__all__ = ["agree", "attempts", "check", "connect", "plan", "report", "speed", "value"]


def _as_of(ws: Workspace) -> Any:
    from leadsla.analysis.value import resolve_as_of

    s = ws.settings
    return resolve_as_of(s.as_of, s.time_zone) if s.as_of is not None else None


def value(ws: Workspace, /, **options: Any) -> ValueResult:
    """The MQL value table (:func:`leadsla.analysis.value.mql_value_table`)."""
    from leadsla.analysis.value import mql_value_table

    s = ws.settings
    kw: dict[str, Any] = {
        "as_of": _as_of(ws),
        "maturity_quantile": s.maturity_quantile,
        "seed": s.seed,
    }
    if ws.has("campaigns"):
        kw["campaigns"] = ws.table("campaigns")
    return mql_value_table(ws.leads, **(kw | options))


def plan(ws: Workspace | None = None, /, **options: Any) -> SlaPlan:
    """The MQLs marketing owes per period (:func:`leadsla.analysis.plan.plan_sla`); without a
    workspace every input is given."""
    from leadsla.analysis.plan import plan_sla

    if ws is None:
        return plan_sla(None, **options)
    s = ws.settings
    kw: dict[str, Any] = {
        "as_of": _as_of(ws),
        "maturity_quantile": s.maturity_quantile,
        "seed": s.seed,
        "quota": s.quota_eur,
        "period": s.quota_period,
        "originated_share": s.originated_share,
        "influenced_share": s.influenced_share,
        "attempts_per_hour": s.attempts_per_hour,
        "touches": ws.table("touches") if ws.has("touches") else None,
    }
    return plan_sla(ws.leads, **(kw | options))


def attempts(ws: Workspace, /, **options: Any) -> AttemptsResult:
    """The attempt life table and N* per group
    (:func:`leadsla.analysis.attempts.from_workspace`)."""
    from leadsla.analysis.attempts import from_workspace

    return from_workspace(ws, **options)


def speed(ws: Workspace, /, **options: Any) -> SpeedResult:
    """Close rate by business time to the first attempt
    (:func:`leadsla.analysis.speed.speed_analysis`), on the workspace's calendar."""
    from leadsla.analysis.speed import speed_analysis

    s = ws.settings
    kw: dict[str, Any] = {
        "calendar": ws.calendar(),
        "attempt_kinds": s.attempt_kinds,
        "as_of": _as_of(ws),
        "maturity_quantile": s.maturity_quantile,
        "hourly_cost_eur": s.hourly_cost_eur,
        "attempts_per_hour": s.attempts_per_hour,
        "margin": s.margin,
    }
    return speed_analysis(ws.leads, ws.table("activities"), **(kw | options))


def agree(ws: Workspace, /, **options: Any) -> Agreement:
    """Draft the SLA (:func:`leadsla.sla.agreement.draft_agreement`); write it with
    :func:`leadsla.render.document.write_agreement`."""
    from leadsla.sla.agreement import draft_agreement

    return draft_agreement(ws, **options)


def check(ws: Workspace, policy: Policy | str | Path, /, **options: Any) -> CheckResult:
    """Compliance with a policy (:func:`leadsla.sla.compliance.check_compliance`), at the
    workspace's as-of unless ``as_of`` is given."""
    from leadsla.sla.compliance import check_compliance
    from leadsla.sla.policy import load_policy

    pol = policy if not isinstance(policy, str | Path) else load_policy(policy)
    kw: dict[str, Any] = {"policy": pol, "as_of": ws.as_of}
    return check_compliance(ws.leads, ws.activities, **(kw | options))


def report(ws: Workspace, /, **options: Any) -> Report:
    """Every analysis in one HTML report (:func:`leadsla.render.report.build_report`); write
    it with ``.write(path)``."""
    from leadsla.render.report import build_report

    return build_report(ws, **options)
