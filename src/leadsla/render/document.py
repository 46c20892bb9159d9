"""The SLA document: the agreement as plain-text headline, Markdown (``sla.md``) and one HTML
page (``sla.html``), and :func:`write_agreement` writing both with the policy (``sla.toml``)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from leadsla import i18n
from leadsla.clock import BusinessCalendar, hours_spec
from leadsla.render.charts import economics_figures, figure
from leadsla.render.html import Section, esc, render, table_html
from leadsla.render.lang import Lang
from leadsla.sla.agreement import (
    FILES,
    FRONT_LOAD_DAYS,
    WINDOW_QUANTILE,
    Agreement,
    AgreementFiles,
)
from leadsla.sla.policy import write_policy
from leadsla.text import hours_text, money


def headline(a: Agreement, /, *, lang: str = "en") -> list[str]:
    """The commitments in a few sentences (plain text, as the CLI prints them)."""
    L = Lang(lang)
    _ = L._
    cur = a.currency
    out = []
    m = a.marketing
    if m is not None:
        share = (
            _(" ({share} of the {quota} quota)").format(
                share=L.pct(m.originated_share), quota=L.cur(m.quota_eur, cur))
            if m.quota_eur and m.originated_share is not None
            else ""
        )  # fmt: skip
        out.append(
            _("Marketing delivers {mqls} MQLs per {period}, worth {value} each on average: "
              "{responsibility} of marketing-originated revenue{share}.").format(
                mqls=L.n(m.mqls), period=L.word(m.period), value=L.cur(m.mql_value_eur, cur),
                responsibility=L.cur(m.revenue_responsibility_eur, cur), share=share)
        )  # fmt: skip
        if m.influenced_share is not None:
            out.append(
                _("Separately, at least {influenced} of won revenue has a marketing touch "
                  "(influenced; it includes the originated {originated}, never added to "
                  "it).").format(influenced=L.pct(m.influenced_share),
                                 originated=L.pct(m.originated_share))
            )  # fmt: skip
    else:
        out.append(_("Marketing: not computed ({why}).").format(
            why=a.missing.get("plan", _("no plan"))))  # fmt: skip
    s = a.sales
    out.append(
        _("Sales responds to every MQL {words} ({check}; {basis}), then ").format(
            words=_words(s, L), check=_check_text(s, L),
            basis=s.first_response_reason or s.first_response_basis)
        + (_("makes, per segment:") if s.segments else _("makes, for every lead:"))
    )  # fmt: skip

    def term(t: Any) -> str:
        if t.at_least:  # a minimum before disqualification: the window is only the pace
            return _term_text(t, L)
        return _("{text} of the MQL (unless the lead closes first)").format(text=_term_text(t, L))

    for t in s.segments:
        out.append(f"  {t.segment}: {term(t)}")
    if not s.segments:
        out.append(f"  {term(s.default)}")
    return out


def to_markdown(a: Agreement, /, *, lang: str = "en") -> str:
    """The SLA document in Markdown: commitments, evidence, what was not computed, data."""
    L = Lang(lang)
    _ = L._
    cur = a.currency
    d = a.data
    lines = [f"# {a.name}", ""]
    w = d.window
    lines += [
        _("Drafted by `leadsla agree` from `{source}`: {leads} leads ").format(
            source=a.source, leads=L.n(d.rows.get("leads", 0)))
        + (_("created {first} to {last} ({zone})").format(
            first=L.day(w[0]), last=L.day(w[1]), zone=d.time_zone) if w else _("(no leads)"))
        + _(", as of {as_of} {zone}. Data SHA-256 `{sha256}`.").format(
            as_of=L.when(a.as_of.astimezone(ZoneInfo(d.time_zone))), zone=d.time_zone,
            sha256=d.sha256),
        "",
        "## " + _("The agreement"),
        "",
    ]  # fmt: skip
    lines += [f"- {h.strip()}" if not h.startswith("  ") else f"  - {h.strip()}"
              for h in headline(a, lang=lang)]  # fmt: skip
    lines.append("")
    if a.missing:
        lines += ["## " + _("What could not be computed"), ""]
        for part, why in a.missing.items():
            lines.append(_("- **{part}** could not be computed: {why}").format(part=part, why=why))
        lines.append("")

    lines += ["## " + _("Marketing"), ""]
    m = a.marketing
    if m is None:
        lines += [_("Not computed: {why}").format(why=a.missing.get("plan", "")), ""]
    else:
        per = L.word(m.period)
        lines += [
            _("Per {period}: **{mqls} MQLs**, worth {value} each on average, for "
              "{responsibility} of marketing-originated revenue").format(
                period=per, mqls=L.n(m.mqls), value=L.cur(m.mql_value_eur, cur),
                responsibility=L.cur(m.revenue_responsibility_eur, cur))
            + (
                _(" = {quota} quota × {share} originated share ({basis}).").format(
                    quota=L.cur(m.quota_eur, cur), share=L.pct(m.originated_share),
                    basis=m.originated_basis)
                if m.quota_eur and m.originated_share is not None
                else "."
            ),
            "",
            _("In euros, the same promise: Σ over campaigns of MQLs × MQL value ≥ "
              "{responsibility} per {period} (any campaign mix).").format(
                responsibility=L.cur(m.revenue_responsibility_eur, cur), period=per),
            "",
        ]  # fmt: skip
        if m.risk_buffer_mqls is not None:
            lines += [
                _("Risk buffer: {mqls} MQLs meet the responsibility with an 80% chance; the "
                  "required number alone meets it about half the time.").format(
                    mqls=L.n(m.risk_buffer_mqls)),
                "",
            ]  # fmt: skip
        if m.influenced_share is not None:
            lines += [
                _("Influenced share (a separate commitment, never added to the originated "
                  "share): at least **{share}** of won revenue has a marketing touch "
                  "({basis}).").format(share=L.pct(m.influenced_share),
                                        basis=m.influenced_basis),
                "",
            ]  # fmt: skip
        split = (
            _("each segment's own quota")
            if m.split == "segment quotas"
            else _("the overall MQLs split at the historical mix of mature leads (largest "
                   "remainders); the overall number and the euro promise are what binds")
        )  # fmt: skip
        lines += [_("Per segment ({split}):").format(split=split), ""]
        rows = [
            [t.segment, L.n(t.mqls), L.cur(t.mql_value_eur, cur), L.cur(t.value_eur, cur),
             L.pct(t.mix_share) if t.mix_share is not None else L.eur(t.quota_eur)]
            for t in m.segments
        ]  # fmt: skip
        rows.append(
            [_("**total**"), f"**{L.n(m.mqls)}**", L.cur(m.mql_value_eur, cur),
             L.cur(sum(t.value_eur for t in m.segments), cur), ""]
        )  # fmt: skip
        last = (_("mix share") if m.split == "historical mix"
                else _("quota ({currency})").format(currency=cur))  # fmt: skip
        lines += _md_table(
            [_("segment"), _("MQLs per {period}").format(period=per), _("MQL value"),
             _("value of the MQLs"), last], rows
        )  # fmt: skip
        lines.append("")

    s = a.sales
    lines += [
        "## " + _("Sales"),
        "",
        _("First response: every MQL gets its first contact attempt **{words}** of its MQL "
          "time (in the policy file: first_response_hours = {hours} business hours, measured "
          "from the MQL time to the first attempt). Checked against the data's own history: "
          "{check}. Basis: {basis}.").format(
            words=_words(s, L), hours=f"{s.first_response_hours:.6g}",
            check=_check_text(s, L), basis=s.first_response_basis),
        "",
        _("Then contact attempts ({kinds}) counted from the MQL. Where the data identify the "
          "best number of attempts it is owed within a window (a lead closed earlier needs no "
          "more); where they cannot, it is a minimum before disqualification: no unresponsive "
          "lead is closed before it, and the window is the team's current pace. Front-load: "
          "the attempts the first 14 days allow come first.").format(
            kinds=", ".join(s.attempt_kinds)),
        "",
    ]  # fmt: skip
    rows = [
        [t.segment, (_("no unresponsive lead closed before {count}").format(count=t.count)
                     if t.at_least else str(t.count)),
         _("{days} calendar days").format(days=t.within_days)
         + (_(" (pace)") if t.at_least else ""),
         t.count_basis, t.days_basis]
        for t in s.segments
    ]  # fmt: skip
    if rows:
        lines += _md_table([_("segment"), _("attempts"), _("within"), _("attempts from"),
                            _("window from")], rows)  # fmt: skip
        lines += ["", _("Any other segment: {text} ({basis}).").format(
            text=_term_text(s.default, L), basis=s.default_basis), ""]  # fmt: skip
    else:
        lines += [_("Every segment: {text} ({basis}).").format(
            text=_term_text(s.default, L), basis=s.default_basis), ""]  # fmt: skip
    if s.hours_per_period is not None and m is not None and s.attempts_per_hour is not None:
        lines += [
            _("Capacity: the {mqls} MQLs per {period} at the expected attempts per lead A(K) "
              "need about {hours} sales hours per {period} ({per_hour} attempts an "
              "hour).").format(mqls=L.n(m.mqls), period=L.word(m.period),
                               hours=L.n(float(s.hours_per_period)),
                               per_hour=L.g(s.attempts_per_hour)),
            "",
        ]  # fmt: skip

    lines += ["## " + _("Evidence"), ""]
    lines += _md_value(a, L) + _md_plan(a, L) + _md_attempts(a, L) + _md_speed(a, L)
    if a.warnings:
        lines += ["## " + _("Warnings"), ""] + [f"- {x}" for x in a.warnings] + [""]
    lines += [
        "## " + _("Data and method"),
        "",
        _("- Source: `{source}`; rows: ").format(source=a.source)
        + ", ".join(f"{k} {L.n(n)}" for k, n in d.rows.items()),
        _("- Window: first lead created {first}, last {last} (UTC)").format(
            first=_iso(d.first_created_at), last=_iso(d.last_created_at)),
        f"- SHA-256: `{d.sha256}`. {d.rule}",
        _("- Business calendar: {calendar}").format(calendar=_calendar_text(a.calendar, L)),
        _("- Attempt window rule: D = the {quantile} quantile of calendar days from the MQL "
          "to the K-th contact attempt among the segment's stale leads that reached K "
          "attempts, rounded up to whole days (at least 1).").format(
            quantile=f"{WINDOW_QUANTILE:.0%}" if L.en else i18n.percent(WINDOW_QUANTILE,
                                                                         lang, 0)),
        _("- Numbers in full precision: the JSON embedded in the HTML page "
          '(`<script id="leadsla-data">`) and `leadsla agree --format json`.'),
        "",
    ]  # fmt: skip
    return "\n".join(lines)


def _md_value(a: Agreement, L: Lang) -> list[str]:
    _ = L._
    cur = a.currency
    out = ["### " + _("MQL value (mature leads)"), ""]
    if a.value is None:
        return out + [_("Not computed: {why}").format(why=a.missing.get("value", "")), ""]
    rows = []
    for r in a.value.rows:
        if r.level == "group":
            continue
        e = r.estimate
        lo, hi = e.mql_value_ci
        rows.append([
            r.label, L.n(e.leads), L.n(e.won), L.pct(e.close_rate),
            L.cur(e.avg_revenue, cur), L.cur(e.mql_value, cur), f"{L.eur(lo)}–{L.eur(hi)}",
        ])  # fmt: skip
    out += _md_table([_("group"), _("mature leads"), _("won"), _("close rate"),
                      _("mean revenue"), _("MQL value"), _("95% interval")], rows)  # fmt: skip
    m = a.value.maturity
    out += ["", _("{mature} of {read} leads are mature; {why}. Per campaign: the HTML page "
                  "and the JSON.").format(mature=L.n(m.mature_leads), read=L.n(m.leads_read),
                                          why=m.excluded()["why"]),
            ""]  # fmt: skip
    return out


def _md_plan(a: Agreement, L: Lang) -> list[str]:
    _ = L._
    out = ["### " + _("Plan inputs"), ""]
    if a.plan is None:
        return out + [_("Not computed: {why}").format(why=a.missing.get("plan", "")), ""]
    rows = []
    for name, entry in a.plan.inputs.items():
        if isinstance(entry, dict) and "basis" in entry and entry["basis"]:
            v = entry["value"]
            rows.append([name, _num(v, L) if not isinstance(v, list | dict) else "…",
                         entry["basis"]])  # fmt: skip
    for seg, entries in a.plan.inputs.get("by_segment", {}).items():
        for name, entry in entries.items():
            v = entry["value"]
            if entry["basis"] and not isinstance(v, list | dict):
                rows.append([f"{seg}: {name}", _num(v, L), entry["basis"]])
    return out + _md_table([_("input"), _("value"), _("from")], rows) + [""]


def _md_attempts(ag: Agreement, L: Lang) -> list[str]:
    _ = L._
    out = ["### " + _("Contact attempts (life table per segment)"), ""]
    a = ag.attempts
    if a is None or not a.groups:
        return out + [_("Not computed: {why}").format(why=ag.missing.get("attempts", "")), ""]
    rows = []
    for name, g in a.groups.items():
        x = g.analysis
        near = x.near_optimal
        rows.append([
            name, L.n(g.leads), L.cur(x.value, ag.currency),
            x.optimal_attempts_text, x.interval_text,
            _("yes") if x.identified else _("no"), "–" if x.knee is None else str(x.knee),
            f"{near[0]}–{near[-1]}" if near else "–", str(x.max_attempts_supported),
        ])  # fmt: skip
    out += _md_table([_("segment"), _("leads"), _("V (value of a win)"), "N*",
                      _("95% interval"), _("identified"), _("knee"), _("near-optimal"),
                      _("supported up to")], rows)  # fmt: skip
    out += ["", _("Cost per attempt c = {cost}; N* = argmax V·F(N) − c·A(N) (METHODS §3). "
                  "Counted: {population} (as of {as_of}).").format(
                cost=(f"{a.cost_per_attempt:,.2f} {ag.currency}" if L.en
                      else i18n.decimal(a.cost_per_attempt, L.code, 2) + f" {ag.currency}"),
                population=a.population,
                as_of=f"{a.as_of:%Y-%m-%d}" if L.en else L.day(a.as_of)),
            ""]  # fmt: skip
    return out


def _md_speed(a: Agreement, L: Lang) -> list[str]:
    _ = L._
    out = ["### " + _("Speed to lead"), ""]
    sp = a.speed
    if sp is None:
        return out + [_("Not computed: {why}").format(why=a.missing.get("speed", "")), ""]
    rows = [
        [L.phrase(b.bucket), L.n(b.leads), L.n(b.won), L.pct(b.rate) if b.leads else "–",
         f"{L.pct(b.rate_ci[0])}–{L.pct(b.rate_ci[1])}" if b.leads else "–"]
        for b in sp.buckets
    ]  # fmt: skip
    out += _md_table([_("business time to first attempt"), _("leads"), _("won"),
                      _("close rate"), _("95% interval")], rows)  # fmt: skip
    rec = sp.recommendation
    out += ["", _("Risk ratio of winning, first attempt within T vs later (Mantel–Haenszel "
                  "within owner × segment; 95% interval), and the same among leads that "
                  "arrived outside business hours:"), ""]  # fmt: skip
    out += _md_table(
        [_("within"), _("risk ratio"), _("leads within / later"), _("off-hours arrivals")],
        [[L.phrase(e.label), _rr(e.risk_ratio, e.ci, L),
          f"{L.n(e.leads_within)} / {L.n(e.leads_later)}",
          _rr(o.risk_ratio, o.ci, L)]
         for e, o in zip(sp.effect, sp.overall.effect_off_hours, strict=True)],
    )  # fmt: skip
    out += ["", _("Targets on last period's leads ({assumption}):").format(
        assumption=sp.cost_assumption), ""]  # fmt: skip
    out += _md_table(
        [_("target"), _("met"), _("missed (contacted)"), _("modelled gain"), _("rep hours"),
         _("net")],
        [[L.phrase(o.candidate.text), L.pct(o.met_share), L.n(o.missed_contacted),
          "–" if o.gain_eur is None else L.cur(o.gain_eur, a.currency),
          L.n(float(o.rep_hours)),
          "–" if o.net_eur is None else L.cur(o.net_eur, a.currency)]
         for o in sp.overall.targets],
    )  # fmt: skip
    out += [
        "",
        _("Recommended first response: {explanation}").format(
            explanation=f"{rec.explanation[0].upper()}{rec.explanation[1:]}"),
        "",
    ]  # fmt: skip
    if sp.segments_differ:
        for name, t in sp.segments.items():
            out.append(f"- {name}: {t.recommendation.explanation}")
        out.append("")
    out += [f"*{L.phrase(sp.caveat)}*", ""]
    return out


def sections(a: Agreement, /, *, lang: str = "en") -> list[Section]:
    """The HTML report's sections (charts from the results' ``figure()``)."""
    L = Lang(lang)
    _ = L._
    cur = a.currency
    head = "".join(
        f"<li>{esc(h.strip())}</li>" if not h.startswith("  ") else
        f"<li style='margin-left:1.5em'>{esc(h.strip())}</li>"
        for h in headline(a, lang=lang)
    )  # fmt: skip
    d = a.data
    w = d.window
    intro = (
        f"<ul>{head}</ul><p class='muted'>"
        + _("From {source}: {leads} leads").format(source=esc(a.source),
                                                   leads=L.n(d.rows.get("leads", 0)))
        + (_(" created {first} to {last} ({zone})").format(
            first=L.day(w[0]), last=L.day(w[1]), zone=esc(d.time_zone)) if w else "")
        + _(". Data SHA-256 {sha256}.").format(sha256=f"<code>{d.sha256}</code>") + "</p>"
    )  # fmt: skip
    if a.missing:
        intro += (
            "<h3>" + esc(_("What could not be computed")) + "</h3><ul>"
            + "".join(
                "<li>" + _("{part} could not be computed: {why}").format(
                    part=f"<strong>{esc(k)}</strong>", why=esc(v)) + "</li>"
                for k, v in a.missing.items()
            )
            + "</ul>"
        )  # fmt: skip
    out = [Section("agreement", _("The agreement"), intro, data=a.to_dict())]

    m = a.marketing
    if m is None:
        out.append(Section("marketing", _("Marketing"), missing=a.missing.get("plan", "")))
    else:
        per = L.word(m.period)
        k_mqls = _("MQLs per {period}").format(period=per)
        k_value, k_of = _("MQL value"), _("value of the MQLs")
        k_share, k_set = _("share of mature leads"), _("set by")
        rows = [
            {_("segment"): t.segment, k_mqls: t.mqls, k_value: L.cur(t.mql_value_eur, cur),
             k_of: L.cur(t.value_eur, cur), k_share: L.pct(t.mix_share), k_set: t.basis}
            for t in m.segments
        ]  # fmt: skip
        rows.append({_("segment"): _("total"), k_mqls: m.mqls,
                     k_value: L.cur(m.mql_value_eur, cur),
                     k_of: L.cur(sum(t.value_eur for t in m.segments), cur),
                     k_share: "", k_set: ""})  # fmt: skip
        body = "<p>" + _(
            "Per {period}: {mqls_strong}, worth {value} each on average, for {responsibility} "
            "of marketing-originated revenue (originated share {share}: {basis}). Euro form: "
            "Σ over campaigns of MQLs × MQL value ≥ {responsibility}."
        ).format(period=per,
                 mqls_strong="<strong>" + _("{mqls} MQLs").format(mqls=L.n(m.mqls))
                 + "</strong>",
                 value=L.cur(m.mql_value_eur, cur),
                 responsibility=L.cur(m.revenue_responsibility_eur, cur),
                 share=L.pct(m.originated_share),
                 basis=esc(m.originated_basis)) + "</p>"  # fmt: skip
        if m.influenced_share is not None:
            body += "<p>" + _(
                "Influenced share, a separate commitment never added to the originated share: "
                "at least {share} of won revenue has a marketing touch ({basis})."
            ).format(share=f"<strong>{L.pct(m.influenced_share)}</strong>",
                     basis=esc(m.influenced_basis)) + "</p>"  # fmt: skip
        body += table_html(rows, lang=lang)
        figs = [figure(x, lang=lang) for x in (a.plan, a.value) if x is not None]
        out.append(Section("marketing", _("Marketing"), body, figures=figs))

    s = a.sales
    rows = [
        {_("segment"): t.segment,
         _("attempts"): (_("no unresponsive lead closed before {count}").format(count=t.count)
                         if t.at_least else str(t.count)),
         _("within (calendar days)"): t.within_days, _("attempts from"): t.count_basis,
         _("window from"): t.days_basis}
        for t in s.segments or [s.default]
    ]  # fmt: skip
    body = (
        "<p>" + _("First response {words} of the MQL ({check}; basis: {basis}).").format(
            words=f"<strong>{esc(_words(s, L))}</strong>",
            check=esc(_check_text(s, L)), basis=esc(s.first_response_basis)) + "</p>"
        + table_html(rows, lang=lang)
        + "<p class='muted'>" + _("Any other segment: {text} ({basis}).").format(
            text=esc(_term_text(s.default, L)), basis=esc(s.default_basis)) + "</p>"
    )  # fmt: skip
    figs = []
    if a.speed is not None:
        figs.append(figure(a.speed, lang=lang))
    if a.attempts is not None and a.attempts.groups:
        figs.extend(economics_figures(a.attempts, lang=lang))
    out.append(Section("sales", _("Sales"), body, figures=figs))

    out.append(_evidence_section(a, L))
    out.append(Section("data", _("Data and method"), _data_html(a, L)))
    return out


def _evidence_section(a: Agreement, L: Lang) -> Section:
    _ = L._
    lang = L.code
    parts = []
    if a.value is not None:
        parts.append("<h3>" + esc(_("MQL value per campaign and segment (mature leads)"))
                     + "</h3>")  # fmt: skip
        parts.append(table_html(
            [{_("group"): r.label, _("level"): r.level, _("leads"): r.estimate.leads,
              _("won"): r.estimate.won, _("close rate"): L.pct(r.estimate.close_rate),
              _("MQL value"): L.eur(r.estimate.mql_value),
              _("95% interval"): f"{L.eur(r.estimate.mql_value_ci[0])}–"
                                 f"{L.eur(r.estimate.mql_value_ci[1])}"}
             for r in a.value.rows], lang=lang))  # fmt: skip
    if a.attempts is not None and a.attempts.groups:
        parts.append("<h3>" + esc(_("Contact attempts: N* per segment")) + "</h3>")
        parts.append(table_html(
            [{_("segment"): n, _("leads"): g.leads, "V": L.eur(g.analysis.value),
              "N*": g.analysis.optimal_attempts_text,
              _("95% interval"): g.analysis.interval_text,
              _("knee"): g.analysis.knee,
              _("supported up to"): g.analysis.max_attempts_supported}
             for n, g in a.attempts.groups.items()], lang=lang))  # fmt: skip
    if a.speed is not None:
        parts.append("<h3>" + esc(_("Speed to lead")) + "</h3>")
        parts.append(table_html(
            [{_("bucket"): L.phrase(b.bucket), _("leads"): b.leads, _("won"): b.won,
              _("close rate"): L.pct(b.rate) if b.leads else "–"} for b in a.speed.buckets],
            lang=lang))  # fmt: skip
        parts.append(f"<p class='caveat'>{esc(L.phrase(a.speed.caveat))}</p>")
    for part, why in a.missing.items():
        parts.append("<p class='missing'>" + _("{part} could not be computed: {why}").format(
            part=f"<strong>{esc(part)}</strong>", why=esc(why)) + "</p>")  # fmt: skip
    if a.warnings:
        parts.append(
            "<h3>" + esc(_("Warnings")) + "</h3><ul class='warnings'>"
            + "".join(f"<li>{esc(x)}</li>" for x in a.warnings)
            + "</ul>"
        )  # fmt: skip
    return Section("evidence", _("Evidence"), "".join(parts))


def _data_html(a: Agreement, L: Lang) -> str:
    _ = L._
    d = a.data
    rows = ", ".join(f"{esc(k)} {L.n(n)}" for k, n in d.rows.items())
    return (
        "<ul><li>" + _("Source: {source}; rows: {rows}").format(source=esc(a.source), rows=rows)
        + "</li><li>" + _("Window: first lead created {first}, last {last} (UTC)").format(
            first=esc(_iso(d.first_created_at)), last=esc(_iso(d.last_created_at)))
        + f"</li><li>SHA-256 <code>{d.sha256}</code>: {esc(d.rule)}</li>"
        + "<li>" + _("Business calendar: {calendar}").format(
            calendar=esc(_calendar_text(a.calendar, L))) + "</li></ul>"
    )  # fmt: skip


def to_html(a: Agreement, /, *, lang: str = "en") -> str:
    """The SLA document as one a-contained HTML page (Plotly inlined, JSON embedded)."""
    L = Lang(lang)
    _ = L._
    cards: list[tuple[str, str]] = []
    if a.marketing is not None:
        m = a.marketing
        cards.append((_("Marketing: MQLs per {period}").format(period=L.word(m.period)),
                      L.n(m.mqls)))  # fmt: skip
        cards.append((_("MQL value"), L.cur(m.mql_value_eur, a.currency)))
    cards.append((_("Sales: first response"), _words(a.sales, L)))
    for t in a.sales.segments[:4] or [a.sales.default]:
        key = _("Attempts: {segment}").format(segment=t.segment)
        if t.at_least:
            cards.append((key, _("none closed unreached before {count}").format(count=t.count)))
        else:
            days = _("{count} in {days} days").format(count=t.count, days=t.within_days)
            cards.append((key, days))
    d = a.data
    return render(
        sections(a, lang=lang),
        title=a.name,
        subtitle=_("Drafted by leadsla agree from {source} · data SHA-256 {sha}…").format(
            source=a.source, sha=d.sha256[:16]),
        headline=cards,
        warnings=a.warnings or None,
        lang=lang,
    )  # fmt: skip


def write_agreement(
    a: Agreement, out_dir: str | os.PathLike[str], /, *, lang: str = "en"
) -> AgreementFiles:
    """Write ``sla.md``, ``sla.html`` (in ``lang``) and ``sla.toml`` (the same in every
    language: its keys are the policy's) into ``out_dir`` (created)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    policy = write_policy(a.policy(), out / FILES["policy"])
    md = out / FILES["markdown"]
    md.write_text(to_markdown(a, lang=lang), encoding="utf-8")
    page = out / FILES["html"]
    page.write_text(to_html(a, lang=lang), encoding="utf-8")
    return AgreementFiles(md, page, policy)


# --------------------------------------------------------------------------- formatting


def _words(s: Any, L: Lang) -> str:
    """The first-response target in words (``SalesCommitment.first_response_words``)."""
    if L.en or s.first_response_text:
        return L.phrase(s.first_response_words)
    return L._("within {time}").format(time=hours_text(s.first_response_hours, exact=True,
                                                      lang=L.code))  # fmt: skip


def _check_text(s: Any, L: Lang) -> str:
    """``SalesCommitment.first_response_check`` in the language."""
    if L.en:
        return str(s.first_response_check)
    if s.first_response_history is None or not s.first_response_history[1]:
        return L._("no history to check it against")
    met, n = s.first_response_history
    return L._("{share} of last period's {n} leads met it").format(share=L.pct(met / n),
                                                                   n=L.n(n))  # fmt: skip


def _term_text(t: Any, L: Lang) -> str:
    """``AttemptTarget.text`` in the language (never a bare "at least")."""
    if L.en:
        return str(t.text)
    if t.at_least:
        return L._("no unresponsive lead is closed before {count} contact attempts (the "
                   "team's current pace: attempt {count} within {days} calendar days)").format(
            count=t.count, days=t.within_days)  # fmt: skip
    front = (L._(", front-loaded: the attempts the first 14 days allow come first")
             if t.within_days > FRONT_LOAD_DAYS else "")  # fmt: skip
    return L._("{count} contact attempts within {days} calendar days{front}").format(
        count=t.count, days=t.within_days, front=front)  # fmt: skip


def _hours(h: float) -> str:
    """Business hours as the SLA states them (``hours_text(h, exact=True)``)."""
    return hours_text(h, exact=True)


def _rr(rr: float | None, ci: tuple[float, float] | None, L: Lang) -> str:
    if rr is None or ci is None:
        return "–"
    return f"{L.ratio(rr)} ({L.ratio(ci[0])}–{L.ratio(ci[1])})"


def _eur(x: float | None) -> str:
    """Whole euros (the SLA states exact amounts)."""
    return money(x, exact=True)


def _num(x: Any, L: Lang) -> str:
    if isinstance(x, bool) or x is None:
        return str(x)
    if not L.en:
        return "–" if isinstance(x, float) and not math.isfinite(x) else L.num(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if not math.isfinite(x):
            return "–"
        return f"{x:.4g}" if abs(x) < 1 else f"{x:,.2f}"
    return str(x)


def _md_cell(x: str) -> str:
    return x.replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_md_cell(str(c)) for c in r) + " |" for r in rows]
    return out


def _calendar_text(cfg: Mapping[str, Any], L: Lang) -> str:
    _ = L._
    cal = BusinessCalendar.from_config(cfg)
    text = f"{cal.time_zone}, {hours_spec(cal)}"
    if cal.holiday_country:
        text += _("; public holidays of {country}").format(country=cal.holiday_country)
        if cal.holiday_subdivision:
            text += f"-{cal.holiday_subdivision}"
    if cal.holidays:
        text += _("; {n} other holiday date(s)").format(n=len(cal.holidays))
    if cal.pauses:
        text += _("; {n} pause(s)").format(n=len(cal.pauses))
    return text


def _iso(t: Any) -> str | None:
    return None if t is None else t.isoformat()


def agreement_box(a: Agreement, /, *, lang: str = "en") -> str:
    """The agreement in plain sentences, each number with what it rests on (page 1)."""
    L = Lang(lang)
    _ = L._
    items = "".join(
        f"<li>{esc(h.strip())}</li>" if not h.startswith("  ")
        else f"<li style='margin-left:1.5em'>{esc(h.strip())}</li>"
        for h in headline(a, lang=lang)
    )  # fmt: skip
    basis = []
    m = a.marketing
    if m is not None:
        basis.append(
            _("MQLs: {mqls} per {period} = marketing's revenue responsibility {responsibility} "
              "÷ MQL value {value}; originated share: {basis}.").format(
                mqls=L.n(m.mqls), period=L.word(m.period),
                responsibility=L.cur(m.revenue_responsibility_eur, a.currency),
                value=L.cur(m.mql_value_eur, a.currency),
                basis=m.originated_basis or _("given"))
        )  # fmt: skip
    s = a.sales
    basis.append(_("First response: {basis}.").format(basis=s.first_response_basis))
    for t in s.segments or [s.default]:
        basis.append(_("Attempts, {segment}: {count_basis}; window: {days_basis}.").format(
            segment=t.segment, count_basis=t.count_basis, days_basis=t.days_basis))  # fmt: skip
    d = a.data
    w = d.window
    rests = "".join(f"<li>{esc(b)}</li>" for b in basis)
    return (
        '<div class="agreement"><h2 style="border:0;margin-top:0;padding-top:0">'
        + esc(_("The agreement")) + "</h2>"
        f"<ul>{items}</ul><h3>" + esc(_("What each number rests on"))
        + f"</h3><ul class='muted'>{rests}</ul><p class='muted'>"
        + _("From {source}: {leads} leads").format(source=esc(a.source),
                                                   leads=L.n(d.rows.get("leads", 0)))
        + (_(" created {first} to {last} ({zone})").format(
            first=L.day(w[0]), last=L.day(w[1]), zone=esc(d.time_zone)) if w else "")
        + _("; as of {as_of}. Data SHA-256 {sha256}.").format(
            as_of=L.when(a.as_of, zone=True), sha256=f"<code>{d.sha256}</code>") + "</p>"
        "</div>"
    )  # fmt: skip


def write_agreement_pdf(a: Agreement, path: str | os.PathLike[str], /, *, lang: str = "en") -> Path:
    """The SLA document as a PDF to sign: the agreement and the signatures on page 1, the
    evidence after; the data hash and the page number on every page."""
    from leadsla.render.pdf import sections_pdf, signature_block

    _ = Lang(lang)._
    first = agreement_box(a, lang=lang) + signature_block(
        [_("For marketing (head of marketing)"), _("For sales (head of sales)")], lang=lang
    )
    rest = [s for s in sections(a, lang=lang) if s.id != "agreement"]
    return sections_pdf(
        rest, Path(path), title=a.name, sha256=a.data.sha256, first_page=first,
        subtitle=_("Drafted by leadsla agree from {source}").format(source=a.source),
        stamp=_("as of {as_of}").format(as_of=Lang(lang).when(a.as_of, zone=True)), lang=lang,
    )  # fmt: skip
