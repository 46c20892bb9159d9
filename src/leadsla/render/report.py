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
from leadsla.render.charts_attempts import economics_figures
from leadsla.render.document import sections as sla_sections
from leadsla.render.html import ReportFiles, Section, esc, table_html, write_report
from leadsla.text import hours_text, money, money_range, pct, pct_range

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
    summary: str = ""

    def write(self, path: str | Path, /, *, png: bool = True) -> ReportFiles:
        return write_report(self.sections, path, png=png, title=self.title,
                            subtitle=self.subtitle, headline=self.headline,
                            warnings=self.warnings, summary=self.summary)  # fmt: skip

    def write_pdf(self, path: str | Path, /) -> Path:
        """The report as a PDF: the agreement first, then every section (charts as PNGs)."""
        from leadsla.render.document import agreement_box
        from leadsla.render.pdf import sections_pdf

        a = self.agreement
        first = self.summary or (agreement_box(a) if a is not None else "")
        if self.warnings:
            first += "<h3>Warnings</h3><ul>" + "".join(
                f"<li>{esc(w)}</li>" for w in self.warnings) + "</ul>"  # fmt: skip
        sha = a.data.sha256 if a is not None else "not computed"
        stamp = f"as of {a.as_of:%Y-%m-%d %H:%M %Z}" if a is not None else ""
        return sections_pdf(self.sections, path, title=self.title, sha256=sha,
                            first_page=first, subtitle=self.subtitle, stamp=stamp)  # fmt: skip


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

    def order(g: dict[str, Any]) -> tuple[str, float, int]:
        v = g["mql_value"] if g["mql_value"] is not None else -1.0
        return (str(g.get("level") or ""), -v, -g["leads"])

    groups = sorted(d["groups"], key=order)
    rows = [{**{k: g.get(k) for k in keys}, "level": g.get("level"), "leads": g["leads"],
             "won": g["won"], "close rate": pct(g["close_rate"]),
             "close rate 95%": pct_range(*g["close_rate_ci"]),
             "shrunk rate": pct(g.get("shrunk_close_rate")),
             "mean revenue": money(g["avg_revenue"]),
             "median revenue": money(g.get("median_revenue")),
             "MQL value": money(g["mql_value"]),
             "MQL value 95%": money_range(*g["mql_value_ci"])} for g in groups]  # fmt: skip
    body = (
        "<p>MQL value = close rate × mean revenue of won leads, on mature leads only "
        "(closed, or old enough to have closed). Intervals: Wilson for the rate, Monte Carlo "
        "for the value; the shrunk rate borrows strength from the parent group. Sorted by "
        "MQL value within each level; money in the workspace currency.</p>"
        + table_html(rows, top=12)
    )
    return Section("value", "MQL value", body, [figure(value)], data=d)


def _plan_section(plan: Any, missing: str | None) -> Section:
    if plan is None:
        return Section("plan", "The plan in euros", missing=missing or "give --quota EUR")
    d = plan.to_dict()
    body = (
        f"<p><strong>{d['mqls_required']:,} MQLs per {esc(d['period'])}</strong> for "
        f"{d['revenue_responsibility']:,.0f} of marketing-originated revenue at an MQL value of "
        f"{d['mql_value']:,.0f}.</p>"
        + table_html([_plan_row(r) for r in plan.to_frame().to_dict("records")])
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
        table = [_life_row(r) for r in g["table"][:40]]
        body += f"<h3>Life table: {esc(name)}</h3>" + table_html(table, top=10)
    figs = [*economics_figures(attempts), figure(attempts, "naive")]
    return Section("attempts", "How many contact attempts pay", body, figs, data=d)


def _speed_section(speed: Any, missing: str | None) -> Section:
    if speed is None:
        return Section("speed", "Speed to lead", missing=missing or "no activities in the data")
    d = speed.to_dict()
    rows = [{"bucket": b["bucket"], "leads": b["leads"], "won": b["won"],
             "close rate": pct(b["rate"]) if b["leads"] else "–",
             "close rate 95%": pct_range(*b["rate_ci"]) if b["leads"] else "–"}
            for b in d["buckets"]]  # fmt: skip
    effect = [{"first attempt within": e["within"], "risk ratio": _ratio(e["risk_ratio"]),
               "95% interval": _ratio_range(e["risk_ratio_ci"]),
               "leads within": e["leads_within"], "leads later": e["leads_later"],
               "off-hours arrivals: risk ratio": _ratio(o["risk_ratio"]),
               "off-hours 95% interval": _ratio_range(o["risk_ratio_ci"])}
              for e, o in zip(d["effect"], d["effect_off_hours"], strict=True)]  # fmt: skip
    targets = [{"target": t["target"], "met last period": pct(t["met_share"]),
                "missed (contacted)": t["missed_contacted"],
                "modelled gain": money(t["gain_eur"]), "rep hours": t["rep_hours"],
                "net": money(t["net_eur"])}
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


def _ratio(x: float | None) -> str:
    """A risk ratio as people say it: "1.61×"."""
    return "–" if x is None or x != x else f"{x:.2f}×"


def _ratio_range(ci: list[float] | None) -> str:
    if not ci or any(v is None or v != v for v in ci):
        return "–"
    return f"{ci[0]:.2f}–{ci[1]:.2f}×"


def _plan_row(r: dict[str, Any]) -> dict[str, Any]:
    """A plan row: shares in %, money in whole units, counts as they are."""
    out: dict[str, Any] = {}
    for k, v in r.items():
        label = k.replace("_", " ")
        if k.endswith("share"):
            out[label] = pct(v) if v == v and v is not None else "–"
        elif k in ("quota", "revenue_responsibility", "mql_value", "pipeline_needed"):
            out[label] = money(v) if v == v and v is not None else "–"
        else:
            out[label] = v
    return out


def _shares_as_pct(r: dict[str, Any]) -> dict[str, Any]:
    """Rates, shares, paces and compliance as percentages; the rest as it is."""
    keys = ("rate", "share", "compliance", "pace")
    return {k: pct(v) if any(w in k for w in keys) and isinstance(v, float) else v
            for k, v in r.items()}  # fmt: skip


def _life_row(r: dict[str, Any]) -> dict[str, Any]:
    """One life-table row as people read it: rates in %, money in whole units."""
    out = {k: r.get(k) for k in LIFE_TABLE_COLUMNS}
    for k in ("win_hazard", "naive_cohort_rate", "cumulative_conversion"):
        out[k] = pct(r.get(k), fine=True)
    out["expected_attempts"] = (
        f"{r['expected_attempts']:.2f}" if r.get("expected_attempts") is not None else "–"
    )
    out["expected_profit"] = money(r.get("expected_profit"))
    return out


def _check_section(check: Any) -> Section:
    d = check.to_dict(max_breaches=20)
    leads = d["leads"]
    rows = [{"rule": name, **{k: leads[key].get(k) for k in ("met", "breached", "pending")},
             "compliance": pct(leads[key].get("compliance"))}
            for name, key in (("first response", "first_response"),
                              ("attempts", "attempts"))]  # fmt: skip
    rows.append({"rule": "all sales rules", **{k: leads.get(k) for k in
                 ("met", "breached", "pending")},
                 "compliance": pct(leads.get("compliance"))})  # fmt: skip
    m = d["marketing"]
    body = (
        table_html(rows)
        + f"<p>Marketing: {m['delivered']:,} MQLs delivered against {m['target']:,} this "
        f"{esc(m['period'])}"
        + (f", pace {m['pace']:.0%}" if m.get("pace") is not None else "")
        + ".</p>"
        + "<h3>By segment</h3>"
        + table_html([_shares_as_pct(r) for r in leads.get("by_segment", [])])
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
    headline.append(("Sales: first response", hours_text(sales.first_response_hours)))
    if sales.segments:
        per = [f"{t.segment} {'at least ' if t.at_least else ''}{t.count} in "
               f"{t.within_days:g} days" for t in sales.segments]  # fmt: skip
        headline.append(("Sales: attempts per segment", "; ".join(per)))
    title = "leadsla report"
    subtitle = (f"{ws.source} · {agreement.data.rows.get('leads', 0):,} leads · as of "
                f"{agreement.as_of:%Y-%m-%d %H:%M %Z}")  # fmt: skip
    return Report(title, subtitle, sections, headline, warnings, agreement, check,
                  summary=exec_summary(agreement, check))  # fmt: skip


def _light(x: float | None, green: float, amber: float) -> str:
    colour = "grey" if x is None else "green" if x >= green else "amber" if x >= amber else "red"
    return f'<span class="light {colour}" title="{colour}"></span>'


def actions(agreement: Any, check: Any) -> list[str]:
    """The three things to act on first, most urgent first (plain sentences)."""
    out: list[str] = []
    if check is not None:
        d = check.to_dict(max_breaches=0)
        fr = d["leads"]["first_response"]
        if fr.get("compliance") is not None and fr["compliance"] < 0.9:
            out.append(
                f"Sales: {fr['breached']:,} leads missed the first response "
                f"({pct(fr['compliance'])} met); see the breaches by rep under Compliance."
            )
        at = d["leads"]["attempts"]
        if at.get("compliance") is not None and at["compliance"] < 0.9:
            out.append(
                f"Sales: {at['breached']:,} leads got fewer attempts than agreed "
                f"({pct(at['compliance'])} met)."
            )
        m = d.get("marketing") or {}
        if m.get("pace") is not None and m["pace"] < 1:
            out.append(
                f"Marketing: {m['delivered']:,} of {m['target']:,} MQLs this {m['period']}, "
                f"{pct(m['pace'])} of the pace the goal needs."
            )
    for t in agreement.sales.segments:
        if t.at_least:
            out.append(
                f"{t.segment}: the data cannot tell whether more than {t.count} attempts pay; "
                f"no unresponsive lead should be closed before {t.count} attempts."
            )
    if agreement.missing:
        k, why = next(iter(agreement.missing.items()))
        out.append(f"{k} could not be computed: {why}")
    out += list(agreement.warnings)
    return out[:3]


def exec_summary(agreement: Any, check: Any) -> str:
    """The first page: the agreement, compliance as traffic lights per side, three actions."""
    from leadsla.render.document import agreement_box

    lights = []
    if check is not None:
        d = check.to_dict(max_breaches=0)
        c = d["leads"].get("compliance")
        lights.append(f"<li>{_light(c, 0.9, 0.75)}Sales: {pct(c)} of decided SLA clocks met "
                      "(first response and attempts)</li>")  # fmt: skip
        m = d.get("marketing") or {}
        if m:
            lights.append(f"<li>{_light(m.get('pace'), 1.0, 0.9)}Marketing: {m['delivered']:,} "
                          f"of {m['target']:,} MQLs, pace {pct(m.get('pace'))}</li>")  # fmt: skip
    else:
        lights.append(f"<li>{_light(None, 1, 1)}Compliance not measured: add "
                      "<code>--policy sla.toml</code> to see both sides' lights.</li>")  # fmt: skip
    todo = "".join(f"<li>{esc(a)}</li>" for a in actions(agreement, check))
    return (
        '<div class="exec">'
        + agreement_box(agreement)
        + "<h3>Compliance to date</h3><ul class='lights'>"
        + "".join(lights)
        + "</ul>"
        + (f"<h3>What to act on first</h3><ol>{todo}</ol>" if todo else "")
        + "</div>"
    )
