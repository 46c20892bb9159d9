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

from leadsla import i18n
from leadsla.io.source import Workspace
from leadsla.render.charts import economics_figures, figure
from leadsla.render.document import sections as sla_sections
from leadsla.render.html import ReportFiles, Section, esc, table_html, write_report
from leadsla.render.lang import N_, Lang
from leadsla.text import hours_text, money, money_range, pct, pct_range

LIFE_TABLE_COLUMNS = [
    "attempt", "at_risk", "won", "lost", "win_hazard", "naive_cohort_rate",
    "cumulative_conversion", "expected_attempts", "expected_profit",
]  # fmt: skip


#: Column names of the report's tables (data keys shown as they are in English), for the catalog.
COLUMNS = (
    N_("segment"), N_("status"), N_("leads"), N_("kind"), N_("activities"), N_("table"),
    N_("read"), N_("used"), N_("excluded"), N_("severity"), N_("where"), N_("problem"),
    N_("rows"), N_("campaign"), N_("type"), N_("source"), N_("owner"), N_("level"), N_("won"),
    N_("close rate"), N_("close rate 95%"), N_("shrunk rate"), N_("mean revenue"),
    N_("median revenue"), N_("MQL value"), N_("MQL value 95%"), N_("period"), N_("quota"),
    N_("originated share"), N_("revenue responsibility"), N_("mql value"),
    N_("mqls required"), N_("risk buffer mqls"), N_("pipeline needed"),
    N_("influenced share"), N_("lead type"), N_("N* 95%"), N_("identified"), N_("knee"),
    N_("N max (≥30 at risk)"), N_("near-optimal"), N_("attempt"), N_("at_risk"), N_("lost"),
    N_("win_hazard"), N_("naive_cohort_rate"), N_("cumulative_conversion"),
    N_("expected_attempts"), N_("expected_profit"), N_("bucket"),
    N_("first attempt within"), N_("risk ratio"), N_("95% interval"), N_("leads within"),
    N_("leads later"), N_("off-hours arrivals: risk ratio"), N_("off-hours 95% interval"),
    N_("target"), N_("met last period"), N_("missed (contacted)"), N_("modelled gain"),
    N_("rep hours"), N_("net"), N_("rule"), N_("met"), N_("breached"), N_("pending"),
    N_("compliance"), N_("first_response_breached"), N_("attempts_breached"),
    N_("lead_id"), N_("due"), N_("first_attempt"), N_("attempts"), N_("required"),
)  # fmt: skip


def _table(rows: list[dict[str, Any]], L: Lang, columns: list[str] | None = None, *,
           top: int | None = None) -> str:  # fmt: skip
    """:func:`table_html` with the column names in ``L``'s language."""
    cols = columns or (list(rows[0]) if rows else [])
    labels = {c: L._(c) for c in cols}
    return table_html(rows, columns, labels, top=top, lang=L.code)


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
    lang: str = "en"

    def write(self, path: str | Path, /, *, png: bool = True) -> ReportFiles:
        return write_report(self.sections, path, png=png, title=self.title,
                            subtitle=self.subtitle, headline=self.headline,
                            warnings=self.warnings, summary=self.summary,
                            lang=self.lang)  # fmt: skip

    def write_pdf(self, path: str | Path, /) -> Path:
        """The report as a PDF: the agreement first, then every section (charts as PNGs)."""
        from leadsla.render.document import agreement_box
        from leadsla.render.pdf import sections_pdf

        L = Lang(self.lang)
        a = self.agreement
        first = self.summary or (agreement_box(a, lang=self.lang) if a is not None else "")
        if self.warnings:
            first += "<h3>" + esc(L._("Warnings")) + "</h3><ul>" + "".join(
                f"<li>{esc(w)}</li>" for w in self.warnings) + "</ul>"  # fmt: skip
        sha = a.data.sha256 if a is not None else L._("not computed")
        stamp = (L._("as of {as_of}").format(as_of=L.when(a.as_of, zone=True))
                 if a is not None else "")  # fmt: skip
        return sections_pdf(self.sections, path, title=self.title, sha256=sha,
                            first_page=first, subtitle=self.subtitle, stamp=stamp,
                            lang=self.lang)  # fmt: skip


def _data_section(ws: Workspace, L: Lang) -> Section:
    from leadsla.analysis.summary import summarize

    _ = L._
    s = summarize(ws.leads, ws.activities)
    acc = []
    for a in ws.accounting.values():
        d = a.to_dict()
        d["excluded"] = "; ".join(f"{k}: {L.n(n)}" for k, n in d["excluded"].items()) or _(
            "none")  # fmt: skip
        acc.append(d)
    body = (
        "<p>" + _("{leads} leads created {first} to {last}").format(
            leads=L.n(s.leads), first=L.day(s.first_created.date()) if not L.en
            else f"{s.first_created:%Y-%m-%d}",
            last=L.day(s.last_created.date()) if not L.en else f"{s.last_created:%Y-%m-%d}")
        + (_("; {n} activities").format(n=L.n(s.activities)) if s.activities is not None
           else _("; no activities"))
        + _(". Source: {source} (mapping {mapping}).").format(
            source=f"<code>{esc(ws.source)}</code>", mapping=esc(ws.mapping.name)) + "</p>"
        "<h3>" + esc(_("Rows read, used and excluded")) + "</h3>"
        + _table(acc, L, ["table", "read", "used", "excluded"])
        + "<h3>" + esc(_("Leads by segment and status")) + "</h3>"
        + _table(s.by_segment_status, L)
    )  # fmt: skip
    if s.by_kind:
        body += "<h3>" + esc(_("Activities by kind")) + "</h3>" + _table(s.by_kind, L)
    issues = [i.to_dict() for i in ws.issues]
    if issues:
        body += "<h3>" + esc(_("Validation")) + "</h3>" + _table(
            [{"severity": i["severity"], "where": " ".join(str(x) for x in (i["file"], i["row"] and
              _("row {row}").format(row=i["row"]), i["column"]) if x), "problem": str(iss),
              "rows": i["count"]}
             for i, iss in zip(issues, ws.issues, strict=True)], L)  # fmt: skip
    return Section("data", _("Data"), body, data={"summary": s.to_dict(),
                   "accounting": [a.to_dict() for a in ws.accounting.values()]})  # fmt: skip


def _value_section(value: Any, missing: str | None, L: Lang) -> Section:
    _ = L._
    if value is None:
        return Section("value", _("MQL value"), missing=missing or _("not computed"))
    d = value.to_dict()
    keys = [k for k in ("campaign", "segment", "type", "source", "owner")
            if any(k in g for g in d["groups"])]  # fmt: skip

    def order(g: dict[str, Any]) -> tuple[str, float, int]:
        v = g["mql_value"] if g["mql_value"] is not None else -1.0
        return (str(g.get("level") or ""), -v, -g["leads"])

    lang = L.code
    groups = sorted(d["groups"], key=order)
    rows = [{**{k: g.get(k) for k in keys}, "level": g.get("level"), "leads": g["leads"],
             "won": g["won"], "close rate": pct(g["close_rate"], lang=lang),
             "close rate 95%": pct_range(*g["close_rate_ci"], lang=lang),
             "shrunk rate": pct(g.get("shrunk_close_rate"), lang=lang),
             "mean revenue": money(g["avg_revenue"], lang=lang),
             "median revenue": money(g.get("median_revenue"), lang=lang),
             "MQL value": money(g["mql_value"], lang=lang),
             "MQL value 95%": money_range(*g["mql_value_ci"], lang=lang)}
            for g in groups]  # fmt: skip
    body = (
        "<p>" + esc(_(
            "MQL value = close rate × mean revenue of won leads, on mature leads only "
            "(closed, or old enough to have closed). Intervals: Wilson for the rate, Monte "
            "Carlo for the value; the shrunk rate borrows strength from the parent group. "
            "Sorted by MQL value within each level; money in the workspace currency.")) + "</p>"
        + _table(rows, L, top=12)
    )  # fmt: skip
    return Section("value", _("MQL value"), body, [figure(value, lang=L.code)], data=d)


def _plan_section(plan: Any, missing: str | None, L: Lang) -> Section:
    _ = L._
    if plan is None:
        return Section("plan", _("The plan in euros"), missing=missing or _("give --quota EUR"))
    d = plan.to_dict()
    body = (
        "<p>" + _("{mqls_per_period} for {responsibility} of marketing-originated revenue at an "
                  "MQL value of {value}.").format(
            mqls_per_period="<strong>" + _("{mqls} MQLs per {period}").format(
                mqls=L.n(d["mqls_required"]), period=esc(L.word(d["period"]))) + "</strong>",
            responsibility=L.n(float(d["revenue_responsibility"])),
            value=L.n(float(d["mql_value"]))) + "</p>"
        + _table([_plan_row(r, L) for r in plan.to_frame().to_dict("records")], L)
    )  # fmt: skip
    return Section("plan", _("The plan in euros"), body, [figure(plan, lang=L.code)], data=d)


def _attempts_section(attempts: Any, missing: str | None, L: Lang) -> Section:
    _ = L._
    title = _("How many contact attempts pay")
    if attempts is None or not attempts.groups:
        return Section("attempts", title,
                       missing=missing or _("no contact attempts in the data"))  # fmt: skip
    d = attempts.to_dict()
    rows = []
    for name, g in d["groups"].items():
        ga = attempts.groups[name].analysis
        rows.append({"lead type": name, "N*": ga.optimal_attempts_text,
                     "N* 95%": ga.interval_text, "identified": g["identified"],
                     "knee": g["knee"], "N max (≥30 at risk)": g["max_attempts_supported"],
                     "near-optimal": ", ".join(map(str, g.get("near_optimal", [])))})  # fmt: skip
    cost = (f"{d['cost_per_attempt']:,.2f}" if L.en
            else i18n.decimal(d["cost_per_attempt"], L.code, 2))  # fmt: skip
    body = (
        "<p>" + esc(_(
            "Cost per attempt {cost} (rep hourly cost ÷ attempts per hour). N* maximises "
            "expected profit V·F(N) − c·A(N) under a smooth non-increasing win hazard fitted "
            "to the life table of mature leads; the knee is where the cumulative return "
            "flattens. N* is identified only when the data rule out, with 95% confidence, that "
            "one more attempt pays; otherwise it reads “at least N”, N the largest number of "
            "attempts the data show still paying, with the reason.").format(cost=cost))
        + "</p>"
        + _table(rows, L)
    )  # fmt: skip
    for name, g in d["groups"].items():
        table = [_life_row(r, L) for r in g["table"][:40]]
        body += ("<h3>" + esc(_("Life table: {name}").format(name=name)) + "</h3>"
                 + _table(table, L, top=10))  # fmt: skip
    figs = [*economics_figures(attempts, lang=L.code), figure(attempts, "naive", lang=L.code)]
    return Section("attempts", title, body, figs, data=d)


def _speed_section(speed: Any, missing: str | None, L: Lang) -> Section:
    _ = L._
    lang = L.code
    if speed is None:
        return Section("speed", _("Speed to lead"),
                       missing=missing or _("no activities in the data"))  # fmt: skip
    d = speed.to_dict()
    rows = [{"bucket": L.phrase(b["bucket"]), "leads": b["leads"], "won": b["won"],
             "close rate": pct(b["rate"], lang=lang) if b["leads"] else "–",
             "close rate 95%": pct_range(*b["rate_ci"], lang=lang) if b["leads"] else "–"}
            for b in d["buckets"]]  # fmt: skip
    effect = [{"first attempt within": L.phrase(e["within"]),
               "risk ratio": _ratio(e["risk_ratio"], L),
               "95% interval": _ratio_range(e["risk_ratio_ci"], L),
               "leads within": e["leads_within"], "leads later": e["leads_later"],
               "off-hours arrivals: risk ratio": _ratio(o["risk_ratio"], L),
               "off-hours 95% interval": _ratio_range(o["risk_ratio_ci"], L)}
              for e, o in zip(d["effect"], d["effect_off_hours"], strict=True)]  # fmt: skip
    targets = [{"target": L.phrase(t["target"]), "met last period": pct(t["met_share"], lang=lang),
                "missed (contacted)": t["missed_contacted"],
                "modelled gain": money(t["gain_eur"], lang=lang), "rep hours": t["rep_hours"],
                "net": money(t["net_eur"], lang=lang)}
               for t in d["targets"]]  # fmt: skip
    text = L.phrase(d.get("recommended_first_response_text") or "") or _("none")
    body = (
        "<p>" + _("Recommended first response: {text}.").format(
            text=f"<strong>{esc(text)}</strong>")
        + f" {esc(d.get('basis', ''))}</p>"
        + _table(rows, L)
        + "<h3>" + esc(_("Effect within owner × segment (Mantel–Haenszel) and among off-hours "
                         "arrivals")) + "</h3>"
        + _table(effect, L)
        + "<h3>" + _("Targets on last period's leads") + "</h3><p class='muted'>"
        f"{esc(d.get('cost_assumption', ''))}.</p>"
        + _table(targets, L)
        + f"<p class='caveat'>{esc(L.phrase(d.get('caveat', '')))}</p>"
    )  # fmt: skip
    return Section("speed", _("Speed to lead"), body, [figure(speed, lang=L.code)], data=d)


def _ratio(x: float | None, L: Lang) -> str:
    """A risk ratio as people say it: "1.61×"."""
    return "–" if x is None or x != x else f"{L.ratio(x)}×"


def _ratio_range(ci: list[float] | None, L: Lang) -> str:
    if not ci or any(v is None or v != v for v in ci):
        return "–"
    return f"{L.ratio(ci[0])}–{L.ratio(ci[1])}×"


def _plan_row(r: dict[str, Any], L: Lang) -> dict[str, Any]:
    """A plan row: shares in %, money in whole units, counts as they are."""
    out: dict[str, Any] = {}
    for k, v in r.items():
        label = k.replace("_", " ")
        if k.endswith("share"):
            out[label] = L.pct(v) if v == v and v is not None else "–"
        elif k in ("quota", "revenue_responsibility", "mql_value", "pipeline_needed"):
            out[label] = money(v, lang=L.code) if v == v and v is not None else "–"
        elif k == "period" and isinstance(v, str):
            out[label] = L.word(v)
        else:
            out[label] = v
    return out


def _whole_pct(x: float, L: Lang) -> str:
    """A percentage without decimals (``93%``; ``93 %``)."""
    return f"{x:.0%}" if L.en else i18n.percent(x, L.code, 0)


def _shares_as_pct(r: dict[str, Any], L: Lang) -> dict[str, Any]:
    """Rates, shares, paces and compliance as percentages; the rest as it is."""
    keys = ("rate", "share", "compliance", "pace")
    return {k: L.pct(v) if any(w in k for w in keys) and isinstance(v, float) else v
            for k, v in r.items()}  # fmt: skip


def _life_row(r: dict[str, Any], L: Lang) -> dict[str, Any]:
    """One life-table row as people read it: rates in %, money in whole units."""
    out = {k: r.get(k) for k in LIFE_TABLE_COLUMNS}
    for k in ("win_hazard", "naive_cohort_rate", "cumulative_conversion"):
        out[k] = L.pct(r.get(k), fine=True)
    out["expected_attempts"] = (
        L.ratio(r["expected_attempts"]) if r.get("expected_attempts") is not None else "–"
    )
    out["expected_profit"] = money(r.get("expected_profit"), lang=L.code)
    return out


def _check_section(check: Any, L: Lang) -> Section:
    _ = L._
    d = check.to_dict(max_breaches=20)
    leads = d["leads"]
    rows = [{"rule": name, **{k: leads[key].get(k) for k in ("met", "breached", "pending")},
             "compliance": L.pct(leads[key].get("compliance"))}
            for name, key in ((_("first response"), "first_response"),
                              (_("attempts"), "attempts"))]  # fmt: skip
    rows.append({"rule": _("all sales rules"), **{k: leads.get(k) for k in
                 ("met", "breached", "pending")},
                 "compliance": L.pct(leads.get("compliance"))})  # fmt: skip
    m = d["marketing"]
    body = (
        _table(rows, L)
        + "<p>" + _("Marketing: {delivered} MQLs delivered against {target} this {period}").format(
            delivered=L.n(m["delivered"]), target=L.n(m["target"]),
            period=esc(L.word(m["period"])))
        + (_(", pace {pace}").format(pace=_whole_pct(m["pace"], L))
           if m.get("pace") is not None else "")
        + ".</p>"
        + "<h3>" + esc(_("By segment")) + "</h3>"
        + _table([_shares_as_pct(r, L) for r in leads.get("by_segment", [])], L)
        + "<h3>" + esc(_("First breaches")) + "</h3>"
        + _table(d["breaches"], L)
    )  # fmt: skip
    return Section("compliance", _("Compliance with the SLA"), body, data=d)


def build_report(
    ws: Workspace,
    /,
    *,
    quota_eur: float | None = None,
    policy: str | Path | None = None,
    as_of: datetime | None = None,
    bootstrap: int = 1000,
    agreement: Any = None,
    lang: str = "en",
    **agree_options: Any,
) -> Report:
    """Run every analysis the data allows and lay the results out as report sections.

    ``agreement``: an already drafted :class:`leadsla.sla.agreement.Agreement` to lay out instead of
    drafting one (its analyses are not run again). ``lang``: the page's language (en, es).
    """
    from leadsla.sla.agreement import draft_agreement

    L = Lang(lang)
    _ = L._
    warnings = [str(i) for i in ws.issues.warnings]
    if agreement is None:
        agreement = draft_agreement(
            ws, quota_eur=quota_eur, bootstrap=bootstrap, require_quota=False, **agree_options
        )
    missing = agreement.missing
    warnings += agreement.warnings
    sections = [
        _data_section(ws, L),
        _value_section(agreement.value, missing.get("value"), L),
        _plan_section(agreement.plan, missing.get("plan"), L),
        _attempts_section(agreement.attempts, missing.get("attempts"), L),
        _speed_section(agreement.speed, missing.get("speed"), L),
    ]
    sla = sla_sections(agreement, lang=lang)
    sections.append(Section("sla", _("The SLA commitments"),
                            "".join(s.body for s in sla if s.id in ("agreement", "marketing",
                                                                      "sales")),
                            data={"agreement": agreement.to_dict()}))  # fmt: skip
    check = None
    if policy is not None:
        from leadsla.sla.compliance import check_compliance
        from leadsla.sla.policy import load_policy

        pol = load_policy(policy)
        if ws.activities is None:
            sections.append(Section("compliance", _("Compliance with the SLA"),
                                    missing=_("the source has no activities table")))  # fmt: skip
        else:
            check = check_compliance(ws.leads, ws.activities, policy=pol,
                                     as_of=as_of or agreement.as_of)  # fmt: skip
            sections.append(_check_section(check, L))
            warnings += list(check.warnings)
    headline: list[tuple[str, str]] = []
    if agreement.marketing is not None:
        m = agreement.marketing
        headline.append((_("Marketing delivers per {period}").format(period=L.word(m.period)),
                         _("{mqls} MQLs").format(mqls=L.n(m.mqls))))  # fmt: skip
        headline.append((_("MQL value"), f"{m.mql_value_eur:,.0f} {ws.settings.currency}"
                         if L.en else L.cur(m.mql_value_eur, ws.settings.currency)))  # fmt: skip
    sales = agreement.sales
    headline.append((_("Sales: first response"),
                     hours_text(sales.first_response_hours, lang=lang)))  # fmt: skip
    if sales.segments:
        per = [_("{segment} at least {count} in {days} days") if t.at_least
               else _("{segment} {count} in {days} days") for t in sales.segments]  # fmt: skip
        per = [p.format(segment=t.segment, count=t.count, days=L.g(t.within_days))
               for p, t in zip(per, sales.segments, strict=True)]  # fmt: skip
        headline.append((_("Sales: attempts per segment"), "; ".join(per)))
    title = _("leadsla report")
    subtitle = _("{source} · {leads} leads · as of {as_of}").format(
        source=ws.source, leads=L.n(agreement.data.rows.get("leads", 0)),
        as_of=L.when(agreement.as_of, zone=True))  # fmt: skip
    return Report(title, subtitle, sections, headline, warnings, agreement, check,
                  summary=exec_summary(agreement, check, lang=lang), lang=lang)  # fmt: skip


def _light(x: float | None, green: float, amber: float) -> str:
    colour = "grey" if x is None else "green" if x >= green else "amber" if x >= amber else "red"
    return f'<span class="light {colour}" title="{colour}"></span>'


def actions(agreement: Any, check: Any, /, *, lang: str = "en") -> list[str]:
    """The three things to act on first, most urgent first (plain sentences)."""
    L = Lang(lang)
    _ = L._
    out: list[str] = []
    if check is not None:
        d = check.to_dict(max_breaches=0)
        fr = d["leads"]["first_response"]
        if fr.get("compliance") is not None and fr["compliance"] < 0.9:
            out.append(
                _("Sales: {breached} leads missed the first response ({met} met); see the "
                  "breaches by rep under Compliance.").format(
                    breached=L.n(fr["breached"]), met=L.pct(fr["compliance"]))
            )  # fmt: skip
        at = d["leads"]["attempts"]
        if at.get("compliance") is not None and at["compliance"] < 0.9:
            out.append(
                _("Sales: {breached} leads got fewer attempts than agreed ({met} met).").format(
                    breached=L.n(at["breached"]), met=L.pct(at["compliance"]))
            )  # fmt: skip
        m = d.get("marketing") or {}
        if m.get("pace") is not None and m["pace"] < 1:
            out.append(
                _("Marketing: {delivered} of {target} MQLs this {period}, {pace} of the pace "
                  "the goal needs.").format(
                    delivered=L.n(m["delivered"]), target=L.n(m["target"]),
                    period=L.word(m["period"]), pace=L.pct(m["pace"]))
            )  # fmt: skip
    for t in agreement.sales.segments:
        if t.at_least:
            out.append(
                _("{segment}: the data cannot tell whether more than {count} attempts pay; no "
                  "unresponsive lead should be closed before {count} attempts.").format(
                    segment=t.segment, count=t.count)
            )  # fmt: skip
    if agreement.missing:
        k, why = next(iter(agreement.missing.items()))
        out.append(_("{part} could not be computed: {why}").format(part=k, why=why))
    out += list(agreement.warnings)
    return out[:3]


def exec_summary(agreement: Any, check: Any, /, *, lang: str = "en") -> str:
    """The first page: the agreement, compliance as traffic lights per side, three actions."""
    from leadsla.render.document import agreement_box

    L = Lang(lang)
    _ = L._
    lights = []
    if check is not None:
        d = check.to_dict(max_breaches=0)
        c = d["leads"].get("compliance")
        lights.append(f"<li>{_light(c, 0.9, 0.75)}" + esc(_(
            "Sales: {met} of decided SLA clocks met (first response and attempts)").format(
                met=L.pct(c))) + "</li>")  # fmt: skip
        m = d.get("marketing") or {}
        if m:
            lights.append(f"<li>{_light(m.get('pace'), 1.0, 0.9)}" + esc(_(
                "Marketing: {delivered} of {target} MQLs, pace {pace}").format(
                    delivered=L.n(m["delivered"]), target=L.n(m["target"]),
                    pace=L.pct(m.get("pace")))) + "</li>")  # fmt: skip
    else:
        lights.append(f"<li>{_light(None, 1, 1)}" + _(
            "Compliance not measured: add {option} to see both sides' lights.").format(
                option="<code>--policy sla.toml</code>") + "</li>")  # fmt: skip
    todo = "".join(f"<li>{esc(a)}</li>" for a in actions(agreement, check, lang=lang))
    return (
        '<div class="exec">'
        + agreement_box(agreement, lang=lang)
        + "<h3>" + esc(_("Compliance to date")) + "</h3><ul class='lights'>"
        + "".join(lights)
        + "</ul>"
        + ("<h3>" + esc(_("What to act on first")) + f"</h3><ol>{todo}</ol>" if todo else "")
        + "</div>"
    )  # fmt: skip
