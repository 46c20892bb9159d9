"""``leadsla report``: every analysis of one source in one self-contained HTML page.

The page carries aggregates, never rows, so it stays small at any data size. Each result's
JSON (the same ``to_dict()`` the commands print) is embedded; a section whose data is missing
says what it could not compute and why instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from leadsla.io.source import Workspace
from leadsla.render.charts import figure
from leadsla.render.document import sections as sla_sections
from leadsla.render.html import ReportFiles, Section, esc, table_html, write_report

LIFE_TABLE_COLUMNS = [
    "attempt", "at_risk", "won", "lost", "win_hazard", "naive_cohort_rate",
    "cumulative_conversion", "expected_attempts", "expected_profit",
]  # fmt: skip


@dataclass
class Report:
    """The sections of the page, its headline and every warning."""

    title: str
    subtitle: str
    sections: list[Section]
    headline: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    agreement: Any = None
    check: Any = None

    def write(self, path: str | Path, /, *, png: bool = True) -> ReportFiles:
        return write_report(self.sections, path, png=png, title=self.title,
                            subtitle=self.subtitle, headline=self.headline,
                            warnings=self.warnings)  # fmt: skip


def _data_section(ws: Workspace) -> Section:
    from leadsla.analysis.summary import summarize

    s = summarize(ws.leads, ws.activities)
    acc = []
    for a in ws.accounting.values():
        d = a.to_dict()
        d["excluded"] = "; ".join(f"{k}: {n:,}" for k, n in d["excluded"].items()) or "none"
        acc.append(d)
    body = (
        f"<p>{s.leads:,} leads created {s.first_created:%Y-%m-%d} to {s.last_created:%Y-%m-%d}"
        + (f"; {s.activities:,} activities" if s.activities is not None else "; no activities")
        + f". Source: <code>{esc(ws.source)}</code> (mapping {esc(ws.mapping.name)}).</p>"
        "<h3>Rows read, used and excluded</h3>"
        + table_html(acc, ["table", "read", "used", "excluded"])
        + "<h3>Leads by segment and status</h3>"
        + table_html(s.by_segment_status)
    )
    if s.by_kind:
        body += "<h3>Activities by kind</h3>" + table_html(s.by_kind)
    issues = [i.to_dict() for i in ws.issues]
    if issues:
        body += "<h3>Validation</h3>" + table_html(
            [{"severity": i["severity"], "where": " ".join(str(x) for x in (i["file"], i["row"] and
              f"row {i['row']}", i["column"]) if x), "problem": str(iss), "rows": i["count"]}
             for i, iss in zip(issues, ws.issues, strict=True)])  # fmt: skip
    return Section("data", "Data", body, data={"summary": s.to_dict(),
                   "accounting": [a.to_dict() for a in ws.accounting.values()]})  # fmt: skip


def _value_section(value: Any, missing: str | None) -> Section:
    if value is None:
        return Section("value", "MQL value", missing=missing or "not computed")
    d = value.to_dict()
    keys = [k for k in ("campaign", "segment", "type", "source", "owner")
            if any(k in g for g in d["groups"])]  # fmt: skip
    rows = [{**{k: g.get(k) for k in keys}, "level": g.get("level"), "leads": g["leads"],
             "won": g["won"], "close rate": g["close_rate"], "close rate 95%": g["close_rate_ci"],
             "shrunk rate": g.get("shrunk_close_rate"), "mean revenue": g["avg_revenue"],
             "median revenue": g.get("median_revenue"), "MQL value": g["mql_value"],
             "MQL value 95%": g["mql_value_ci"]} for g in d["groups"]]  # fmt: skip
    body = (
        "<p>MQL value = close rate × mean revenue of won leads, on mature leads only "
        "(closed, or old enough to have closed). Intervals: Wilson for the rate, Monte Carlo "
        "for the value; the shrunk rate borrows strength from the parent group.</p>"
        + table_html(rows)
    )
    return Section("value", "MQL value", body, [figure(value)], data=d)


def _plan_section(plan: Any, missing: str | None) -> Section:
    if plan is None:
        return Section("plan", "The plan in euros", missing=missing or "give --quota EUR")
    d = plan.to_dict()
    body = (
        f"<p><strong>{d['mqls_required']:,} MQLs per {esc(d['period'])}</strong> for "
        f"{d['revenue_responsibility']:,.0f} of marketing-originated revenue at an MQL value of "
        f"{d['mql_value']:,.0f}.</p>" + table_html(plan.to_frame().to_dict("records"))
    )
    return Section("plan", "The plan in euros", body, [figure(plan)], data=d)


def _attempts_section(attempts: Any, missing: str | None) -> Section:
    if attempts is None or not attempts.groups:
        return Section("attempts", "How many contact attempts pay",
                       missing=missing or "no contact attempts in the data")  # fmt: skip
    d = attempts.to_dict()
    rows = []
    for name, g in d["groups"].items():
        ga = attempts.groups[name].analysis
        rows.append({"lead type": name, "N*": ga.optimal_attempts_text,
                     "N* 95%": ga.interval_text, "identified": g["identified"],
                     "knee": g["knee"], "N max (≥30 at risk)": g["max_attempts_supported"],
                     "near-optimal": ", ".join(map(str, g.get("near_optimal", [])))})  # fmt: skip
    body = (
        f"<p>Cost per attempt {d['cost_per_attempt']:,.2f} (rep hourly cost ÷ attempts per "
        "hour). N* maximises expected profit V·F(N) − c·A(N) under a smooth non-increasing "
        "win hazard fitted to the life table of mature leads; the knee is where the "
        "cumulative return flattens. N* is identified only when the data rule out, with 95% "
        "confidence, that one more attempt pays; otherwise it reads “at least N”, N the "
        "largest number of attempts the data show still paying, with the reason.</p>"
        + table_html(rows)
    )
    for name, g in d["groups"].items():
        table = [{k: r.get(k) for k in LIFE_TABLE_COLUMNS} for r in g["table"][:30]]
        body += f"<h3>Life table: {esc(name)}</h3>" + table_html(table)
    figs = [figure(attempts, k) for k in ("return", "profit", "naive")]
    return Section("attempts", "How many contact attempts pay", body, figs, data=d)


def _speed_section(speed: Any, missing: str | None) -> Section:
    if speed is None:
        return Section("speed", "Speed to lead", missing=missing or "no activities in the data")
    d = speed.to_dict()
    rows = [{"bucket": b["bucket"], "leads": b["leads"], "won": b["won"], "rate": b["rate"],
             "rate 95%": b["rate_ci"]} for b in d["buckets"]]  # fmt: skip
    effect = [{"first attempt within": e["within"], "risk ratio": e["risk_ratio"],
               "95% interval": e["risk_ratio_ci"], "leads within": e["leads_within"],
               "leads later": e["leads_later"],
               "off-hours arrivals: risk ratio": o["risk_ratio"],
               "off-hours 95% interval": o["risk_ratio_ci"]}
              for e, o in zip(d["effect"], d["effect_off_hours"], strict=True)]  # fmt: skip
    targets = [{"target": t["target"], "met last period": t["met_share"],
                "missed (contacted)": t["missed_contacted"], "modelled gain": t["gain_eur"],
                "rep hours": t["rep_hours"], "net": t["net_eur"]}
               for t in d["targets"]]  # fmt: skip
    text = d.get("recommended_first_response_text") or "none"
    body = (
        f"<p>Recommended first response: <strong>{esc(text)}</strong>. "
        f"{esc(d.get('basis', ''))}</p>"
        + table_html(rows)
        + "<h3>Effect within owner × segment (Mantel–Haenszel) and among off-hours arrivals</h3>"
        + table_html(effect)
        + f"<h3>Targets on last period's leads</h3><p class='muted'>"
        f"{esc(d.get('cost_assumption', ''))}.</p>"
        + table_html(targets)
        + f"<p class='caveat'>{esc(d.get('caveat', ''))}</p>"
    )
    return Section("speed", "Speed to lead", body, [figure(speed)], data=d)


def _check_section(check: Any) -> Section:
    d = check.to_dict(max_breaches=20)
    leads = d["leads"]
    rows = [{"rule": name, **{k: leads[key].get(k) for k in ("met", "breached", "pending",
             "compliance")}} for name, key in (("first response", "first_response"),
                                              ("attempts", "attempts"))]  # fmt: skip
    rows.append({"rule": "all sales rules", **{k: leads.get(k) for k in
                 ("met", "breached", "pending", "compliance")}})  # fmt: skip
    m = d["marketing"]
    body = (
        table_html(rows)
        + f"<p>Marketing: {m['delivered']:,} MQLs delivered against {m['target']:,} this "
        f"{esc(m['period'])}"
        + (f", pace {m['pace']:.0%}" if m.get("pace") is not None else "")
        + ".</p>"
        + "<h3>By segment</h3>"
        + table_html(leads.get("by_segment", []))
        + "<h3>First breaches</h3>"
        + table_html(d["breaches"])
    )
    return Section("compliance", "Compliance with the SLA", body, data=d)


def build_report(
    ws: Workspace,
    /,
    *,
    quota_eur: float | None = None,
    policy: str | Path | None = None,
    as_of: datetime | None = None,
    bootstrap: int = 1000,
    agreement: Any = None,
    **agree_options: Any,
) -> Report:
    """Run every analysis the data allows and lay the results out as report sections.

    ``agreement``: an already drafted :class:`leadsla.sla.agreement.Agreement` to lay out instead of
    drafting one (its analyses are not run again).
    """
    from leadsla.sla.agreement import draft_agreement

    warnings = [str(i) for i in ws.issues.warnings]
    if agreement is None:
        agreement = draft_agreement(
            ws, quota_eur=quota_eur, bootstrap=bootstrap, require_quota=False, **agree_options
        )
    missing = agreement.missing
    warnings += agreement.warnings
    sections = [
        _data_section(ws),
        _value_section(agreement.value, missing.get("value")),
        _plan_section(agreement.plan, missing.get("plan")),
        _attempts_section(agreement.attempts, missing.get("attempts")),
        _speed_section(agreement.speed, missing.get("speed")),
    ]
    sla = sla_sections(agreement)
    sections.append(Section("sla", "The SLA commitments",
                            "".join(s.body for s in sla if s.id in ("agreement", "marketing",
                                                                      "sales")),
                            data={"agreement": agreement.to_dict()}))  # fmt: skip
    check = None
    if policy is not None:
        from leadsla.sla.compliance import check_compliance
        from leadsla.sla.policy import load_policy

        pol = load_policy(policy)
        if ws.activities is None:
            sections.append(Section("compliance", "Compliance with the SLA",
                                    missing="the source has no activities table"))  # fmt: skip
        else:
            check = check_compliance(ws.leads, ws.activities, policy=pol,
                                     as_of=as_of or agreement.as_of)  # fmt: skip
            sections.append(_check_section(check))
            warnings += list(check.warnings)
    headline: list[tuple[str, str]] = []
    if agreement.marketing is not None:
        m = agreement.marketing
        headline.append((f"Marketing delivers per {m.period}", f"{m.mqls:,} MQLs"))
        headline.append(("MQL value", f"{m.mql_value_eur:,.0f} {ws.settings.currency}"))
    sales = agreement.sales
    headline.append(("Sales: first response", f"{sales.first_response_hours:.1f} business h"))
    if sales.segments:
        headline.append(("Sales: attempts per segment",
                         "; ".join(f"{t.segment} {'≥' if t.at_least else ''}{t.count} in "
                                   f"{t.within_days} d" for t in sales.segments)))  # fmt: skip
    title = "leadsla report"
    subtitle = (f"{ws.source} · {agreement.data.rows.get('leads', 0):,} leads · as of "
                f"{agreement.as_of:%Y-%m-%d %H:%M %Z}")  # fmt: skip
    return Report(title, subtitle, sections, headline, warnings, agreement, check)
