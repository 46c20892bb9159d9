"""The SLA document: the agreement as plain-text headline, Markdown (``sla.md``) and one HTML
page (``sla.html``), and :func:`write_agreement` writing both with the policy (``sla.toml``)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from leadsla.clock import BusinessCalendar, hours_spec
from leadsla.render.charts import figure
from leadsla.render.charts_attempts import economics_figures
from leadsla.render.html import Section, esc, render, table_html
from leadsla.sla.agreement import FILES, WINDOW_QUANTILE, Agreement, AgreementFiles
from leadsla.sla.policy import write_policy
from leadsla.text import hours_text, money, pct


def headline(a: Agreement) -> list[str]:
    """The commitments in a few sentences (plain text, as the CLI prints them)."""
    cur = a.currency
    out = []
    m = a.marketing
    if m is not None:
        share = (
            f" ({pct(m.originated_share)} of the {_eur(m.quota_eur)} {cur} quota)"
            if m.quota_eur and m.originated_share is not None
            else ""
        )
        out.append(
            f"Marketing delivers {m.mqls:,} MQLs per {m.period}, worth "
            f"{_eur(m.mql_value_eur)} {cur} each on average: "
            f"{_eur(m.revenue_responsibility_eur)} {cur} of marketing-originated revenue"
            f"{share}."
        )
        if m.influenced_share is not None:
            out.append(
                f"Separately, at least {pct(m.influenced_share)} of won revenue has a "
                f"marketing touch (influenced; it includes the originated "
                f"{pct(m.originated_share)}, never added to it)."
            )
    else:
        out.append(f"Marketing: not computed ({a.missing.get('plan', 'no plan')}).")
    s = a.sales
    out.append(
        f"Sales responds to every MQL {s.first_response_words} "
        f"({s.first_response_check}; {s.first_response_reason or s.first_response_basis}), "
        "then " + ("makes, per segment:" if s.segments else "makes, for every lead:")
    )

    def term(t: Any) -> str:
        if t.at_least:  # a minimum before disqualification: the window is only the pace
            return str(t.text)
        return f"{t.text} of the MQL (unless the lead closes first)"

    for t in s.segments:
        out.append(f"  {t.segment}: {term(t)}")
    if not s.segments:
        out.append(f"  {term(s.default)}")
    return out


def to_markdown(a: Agreement) -> str:
    """The SLA document in Markdown: commitments, evidence, what was not computed, data."""
    cur = a.currency
    d = a.data
    lines = [f"# {a.name}", ""]
    w = d.window
    lines += [
        f"Drafted by `leadsla agree` from `{a.source}`: {d.rows.get('leads', 0):,} leads "
        + (f"created {w[0]} to {w[1]} ({d.time_zone})" if w else "(no leads)")
        + f", as of {a.as_of.astimezone(ZoneInfo(d.time_zone)):%Y-%m-%d %H:%M} "
        f"{d.time_zone}. Data SHA-256 `{d.sha256}`.",
        "",
        "## The agreement",
        "",
    ]
    lines += [f"- {h.strip()}" if not h.startswith("  ") else f"  - {h.strip()}"
              for h in headline(a)]  # fmt: skip
    lines.append("")
    if a.missing:
        lines += ["## What could not be computed", ""]
        for part, why in a.missing.items():
            lines.append(f"- **{part}** could not be computed: {why}")
        lines.append("")

    lines += ["## Marketing", ""]
    m = a.marketing
    if m is None:
        lines += [f"Not computed: {a.missing.get('plan', '')}", ""]
    else:
        lines += [
            f"Per {m.period}: **{m.mqls:,} MQLs**, worth "
            f"{_eur(m.mql_value_eur)} {cur} each on average, for "
            f"{_eur(m.revenue_responsibility_eur)} {cur} of marketing-originated revenue"
            + (
                f" = {_eur(m.quota_eur)} {cur} quota × {pct(m.originated_share)} "
                f"originated share ({m.originated_basis})."
                if m.quota_eur and m.originated_share is not None
                else "."
            ),
            "",
            f"In euros, the same promise: Σ over campaigns of MQLs × MQL value ≥ "
            f"{_eur(m.revenue_responsibility_eur)} {cur} per {m.period} (any campaign mix).",
            "",
        ]
        if m.risk_buffer_mqls is not None:
            lines += [
                f"Risk buffer: {m.risk_buffer_mqls:,} MQLs meet the responsibility with an "
                "80% chance; the required number alone meets it about half the time.",
                "",
            ]
        if m.influenced_share is not None:
            lines += [
                f"Influenced share (a separate commitment, never added to the originated "
                f"share): at least **{pct(m.influenced_share)}** of won revenue has a "
                f"marketing touch ({m.influenced_basis}).",
                "",
            ]
        split = (
            "each segment's own quota"
            if m.split == "segment quotas"
            else "the overall MQLs split at the historical mix of mature leads (largest "
            "remainders); the overall number and the euro promise are what binds"
        )
        lines += [f"Per segment ({split}):", ""]
        rows = [
            [t.segment, f"{t.mqls:,}", f"{_eur(t.mql_value_eur)} {cur}",
             f"{_eur(t.value_eur)} {cur}",
             pct(t.mix_share) if t.mix_share is not None else _eur(t.quota_eur)]
            for t in m.segments
        ]  # fmt: skip
        rows.append(
            ["**total**", f"**{m.mqls:,}**", f"{_eur(m.mql_value_eur)} {cur}",
             f"{_eur(sum(t.value_eur for t in m.segments))} {cur}", ""]
        )  # fmt: skip
        last = "mix share" if m.split == "historical mix" else f"quota ({cur})"
        lines += _md_table(
            ["segment", f"MQLs per {m.period}", "MQL value", "value of the MQLs", last], rows
        )
        lines.append("")

    s = a.sales
    lines += [
        "## Sales",
        "",
        f"First response: every MQL gets its first contact attempt "
        f"**{s.first_response_words}** of its MQL time "
        f"(in the policy file: first_response_hours = {s.first_response_hours:.6g} "
        "business hours, measured from the MQL time to the first attempt). "
        f"Checked against the data's own history: {s.first_response_check}. "
        f"Basis: {s.first_response_basis}.",
        "",
        f"Then contact attempts ({', '.join(s.attempt_kinds)}) counted from the MQL. Where the "
        "data identify the best number of attempts it is owed within a window (a lead closed "
        "earlier needs no more); where they cannot, it is a minimum before disqualification: "
        "no unresponsive lead is closed before it, and the window is the team's current pace. "
        "Front-load: the attempts the first 14 days allow come first.",
        "",
    ]
    rows = [
        [t.segment, (f"no unresponsive lead closed before {t.count}" if t.at_least
                     else str(t.count)),
         f"{t.within_days} calendar days" + (" (pace)" if t.at_least else ""),
         t.count_basis, t.days_basis]
        for t in s.segments
    ]  # fmt: skip
    if rows:
        lines += _md_table(["segment", "attempts", "within", "attempts from", "window from"],
                           rows)  # fmt: skip
        lines += ["", f"Any other segment: {s.default.text} ({s.default_basis}).", ""]
    else:
        lines += [f"Every segment: {s.default.text} ({s.default_basis}).", ""]
    if s.hours_per_period is not None and m is not None:
        lines += [
            f"Capacity: the {m.mqls:,} MQLs per {m.period} at the expected attempts per lead "
            f"A(K) need about {s.hours_per_period:,.0f} sales hours per {m.period} "
            f"({s.attempts_per_hour:g} attempts an hour).",
            "",
        ]

    lines += ["## Evidence", ""]
    lines += _md_value(a) + _md_plan(a) + _md_attempts(a) + _md_speed(a)
    if a.warnings:
        lines += ["## Warnings", ""] + [f"- {x}" for x in a.warnings] + [""]
    lines += [
        "## Data and method",
        "",
        f"- Source: `{a.source}`; rows: " + ", ".join(f"{k} {n:,}" for k, n in d.rows.items()),
        f"- Window: first lead created {_iso(d.first_created_at)}, last "
        f"{_iso(d.last_created_at)} (UTC)",
        f"- SHA-256: `{d.sha256}`. {d.rule}",
        f"- Business calendar: {_calendar_text(a.calendar)}",
        f"- Attempt window rule: D = the {WINDOW_QUANTILE:.0%} quantile of calendar days "
        "from the MQL to the K-th contact attempt among the segment's stale leads that "
        "reached K attempts, rounded up to whole days (at least 1).",
        "- Numbers in full precision: the JSON embedded in the HTML page "
        '(`<script id="leadsla-data">`) and `leadsla agree --format json`.',
        "",
    ]
    return "\n".join(lines)


def _md_value(a: Agreement) -> list[str]:
    cur = a.currency
    out = ["### MQL value (mature leads)", ""]
    if a.value is None:
        return out + [f"Not computed: {a.missing.get('value', '')}", ""]
    rows = []
    for r in a.value.rows:
        if r.level == "group":
            continue
        e = r.estimate
        lo, hi = e.mql_value_ci
        rows.append([
            r.label, f"{e.leads:,}", f"{e.won:,}", pct(e.close_rate),
            f"{_eur(e.avg_revenue)} {cur}", f"{_eur(e.mql_value)} {cur}",
            f"{_eur(lo)}–{_eur(hi)}",
        ])  # fmt: skip
    out += _md_table(["group", "mature leads", "won", "close rate", "mean revenue",
                      "MQL value", "95% interval"], rows)  # fmt: skip
    m = a.value.maturity
    out += ["", f"{m.mature_leads:,} of {m.leads_read:,} leads are mature; "
            f"{m.excluded()['why']}. Per campaign: the HTML page and the JSON.",
            ""]  # fmt: skip
    return out


def _md_plan(a: Agreement) -> list[str]:
    out = ["### Plan inputs", ""]
    if a.plan is None:
        return out + [f"Not computed: {a.missing.get('plan', '')}", ""]
    rows = []
    for name, entry in a.plan.inputs.items():
        if isinstance(entry, dict) and "basis" in entry and entry["basis"]:
            v = entry["value"]
            rows.append([name, _num(v) if not isinstance(v, list | dict) else "…",
                         entry["basis"]])  # fmt: skip
    for seg, entries in a.plan.inputs.get("by_segment", {}).items():
        for name, entry in entries.items():
            v = entry["value"]
            if entry["basis"] and not isinstance(v, list | dict):
                rows.append([f"{seg}: {name}", _num(v), entry["basis"]])
    return out + _md_table(["input", "value", "from"], rows) + [""]


def _md_attempts(ag: Agreement) -> list[str]:
    out = ["### Contact attempts (life table per segment)", ""]
    a = ag.attempts
    if a is None or not a.groups:
        return out + [f"Not computed: {ag.missing.get('attempts', '')}", ""]
    rows = []
    for name, g in a.groups.items():
        x = g.analysis
        near = x.near_optimal
        rows.append([
            name, f"{g.leads:,}", f"{_eur(x.value)} {ag.currency}",
            x.optimal_attempts_text, x.interval_text,
            "yes" if x.identified else "no", "–" if x.knee is None else str(x.knee),
            f"{near[0]}–{near[-1]}" if near else "–", str(x.max_attempts_supported),
        ])  # fmt: skip
    out += _md_table(["segment", "leads", "V (value of a win)", "N*", "95% interval",
                      "identified", "knee", "near-optimal", "supported up to"],
                     rows)  # fmt: skip
    out += ["", f"Cost per attempt c = {a.cost_per_attempt:,.2f} {ag.currency}; N* = "
            "argmax V·F(N) − c·A(N) (METHODS §3). Counted: "
            f"{a.population} (as of {a.as_of:%Y-%m-%d}).", ""]  # fmt: skip
    return out


def _md_speed(a: Agreement) -> list[str]:
    out = ["### Speed to lead", ""]
    sp = a.speed
    if sp is None:
        return out + [f"Not computed: {a.missing.get('speed', '')}", ""]
    rows = [
        [b.bucket, f"{b.leads:,}", f"{b.won:,}", pct(b.rate) if b.leads else "–",
         f"{pct(b.rate_ci[0])}–{pct(b.rate_ci[1])}" if b.leads else "–"]
        for b in sp.buckets
    ]  # fmt: skip
    out += _md_table(["business time to first attempt", "leads", "won", "close rate",
                      "95% interval"], rows)  # fmt: skip
    rec = sp.recommendation
    out += ["", "Risk ratio of winning, first attempt within T vs later (Mantel–Haenszel "
            "within owner × segment; 95% interval), and the same among leads that arrived "
            "outside business hours:", ""]  # fmt: skip
    out += _md_table(
        ["within", "risk ratio", "leads within / later", "off-hours arrivals"],
        [[e.label, _rr(e.risk_ratio, e.ci), f"{e.leads_within:,} / {e.leads_later:,}",
          _rr(o.risk_ratio, o.ci)]
         for e, o in zip(sp.effect, sp.overall.effect_off_hours, strict=True)],
    )  # fmt: skip
    out += ["", f"Targets on last period's leads ({sp.cost_assumption}):", ""]
    out += _md_table(
        ["target", "met", "missed (contacted)", "modelled gain", "rep hours", "net"],
        [[o.candidate.text, pct(o.met_share), f"{o.missed_contacted:,}",
          "–" if o.gain_eur is None else f"{_eur(o.gain_eur)} {a.currency}",
          f"{o.rep_hours:,.0f}",
          "–" if o.net_eur is None else f"{_eur(o.net_eur)} {a.currency}"]
         for o in sp.overall.targets],
    )  # fmt: skip
    out += [
        "",
        f"Recommended first response: {rec.explanation[0].upper()}{rec.explanation[1:]}",
        "",
    ]
    if sp.segments_differ:
        for name, t in sp.segments.items():
            out.append(f"- {name}: {t.recommendation.explanation}")
        out.append("")
    out += [f"*{sp.caveat}*", ""]
    return out


def sections(a: Agreement) -> list[Section]:
    """The HTML report's sections (charts from the results' ``figure()``)."""
    cur = a.currency
    head = "".join(
        f"<li>{esc(h.strip())}</li>" if not h.startswith("  ") else
        f"<li style='margin-left:1.5em'>{esc(h.strip())}</li>"
        for h in headline(a)
    )  # fmt: skip
    d = a.data
    w = d.window
    intro = (
        f"<ul>{head}</ul><p class='muted'>From {esc(a.source)}: "
        f"{d.rows.get('leads', 0):,} leads"
        + (f" created {w[0]} to {w[1]} ({esc(d.time_zone)})" if w else "")
        + f". Data SHA-256 <code>{d.sha256}</code>.</p>"
    )
    if a.missing:
        intro += (
            "<h3>What could not be computed</h3><ul>"
            + "".join(
                f"<li><strong>{esc(k)}</strong> could not be computed: {esc(v)}</li>"
                for k, v in a.missing.items()
            )
            + "</ul>"
        )
    out = [Section("agreement", "The agreement", intro, data=a.to_dict())]

    m = a.marketing
    if m is None:
        out.append(Section("marketing", "Marketing", missing=a.missing.get("plan", "")))
    else:
        rows = [
            {"segment": t.segment, f"MQLs per {m.period}": t.mqls,
             "MQL value": f"{_eur(t.mql_value_eur)} {cur}",
             "value of the MQLs": f"{_eur(t.value_eur)} {cur}",
             "share of mature leads": pct(t.mix_share),
             "set by": t.basis}
            for t in m.segments
        ]  # fmt: skip
        rows.append({"segment": "total", f"MQLs per {m.period}": m.mqls,
                     "MQL value": f"{_eur(m.mql_value_eur)} {cur}",
                     "value of the MQLs": f"{_eur(sum(t.value_eur for t in m.segments))} "
                                          f"{cur}",
                     "share of mature leads": "", "set by": ""})  # fmt: skip
        body = (
            f"<p>Per {m.period}: <strong>{m.mqls:,} MQLs</strong>, worth "
            f"{_eur(m.mql_value_eur)} {cur} each on average, for "
            f"{_eur(m.revenue_responsibility_eur)} {cur} of marketing-originated revenue "
            f"(originated share {pct(m.originated_share)}: {esc(m.originated_basis)}). "
            f"Euro form: Σ over campaigns of MQLs × MQL value ≥ "
            f"{_eur(m.revenue_responsibility_eur)} {cur}.</p>"
        )
        if m.influenced_share is not None:
            body += (
                f"<p>Influenced share, a separate commitment never added to the originated "
                f"share: at least <strong>{pct(m.influenced_share)}</strong> of won revenue "
                f"has a marketing touch ({esc(m.influenced_basis)}).</p>"
            )
        body += table_html(rows)
        figs = [figure(x) for x in (a.plan, a.value) if x is not None]
        out.append(Section("marketing", "Marketing", body, figures=figs))

    s = a.sales
    rows = [
        {"segment": t.segment,
         "attempts": (f"no unresponsive lead closed before {t.count}" if t.at_least
                      else str(t.count)),
         "within (calendar days)": t.within_days, "attempts from": t.count_basis,
         "window from": t.days_basis}
        for t in s.segments or [s.default]
    ]  # fmt: skip
    body = (
        f"<p>First response <strong>{esc(s.first_response_words)}</strong> of the MQL "
        f"({esc(s.first_response_check)}; basis: {esc(s.first_response_basis)}).</p>"
        + table_html(rows)
        + f"<p class='muted'>Any other segment: {esc(s.default.text)} "
        f"({esc(s.default_basis)}).</p>"
    )
    figs = []
    if a.speed is not None:
        figs.append(figure(a.speed))
    if a.attempts is not None and a.attempts.groups:
        figs.extend(economics_figures(a.attempts))
    out.append(Section("sales", "Sales", body, figures=figs))

    out.append(_evidence_section(a))
    out.append(Section("data", "Data and method", _data_html(a)))
    return out


def _evidence_section(a: Agreement) -> Section:
    parts = []
    if a.value is not None:
        parts.append("<h3>MQL value per campaign and segment (mature leads)</h3>")
        parts.append(table_html(
            [{"group": r.label, "level": r.level, "leads": r.estimate.leads,
              "won": r.estimate.won, "close rate": pct(r.estimate.close_rate),
              "MQL value": _eur(r.estimate.mql_value),
              "95% interval": f"{_eur(r.estimate.mql_value_ci[0])}–"
                              f"{_eur(r.estimate.mql_value_ci[1])}"}
             for r in a.value.rows]))  # fmt: skip
    if a.attempts is not None and a.attempts.groups:
        parts.append("<h3>Contact attempts: N* per segment</h3>")
        parts.append(table_html(
            [{"segment": n, "leads": g.leads, "V": _eur(g.analysis.value),
              "N*": g.analysis.optimal_attempts_text,
              "95% interval": g.analysis.interval_text,
              "knee": g.analysis.knee, "supported up to": g.analysis.max_attempts_supported}
             for n, g in a.attempts.groups.items()]))  # fmt: skip
    if a.speed is not None:
        parts.append("<h3>Speed to lead</h3>")
        parts.append(table_html(
            [{"bucket": b.bucket, "leads": b.leads, "won": b.won,
              "close rate": pct(b.rate) if b.leads else "–"} for b in a.speed.buckets]
        ))  # fmt: skip
        parts.append(f"<p class='caveat'>{esc(a.speed.caveat)}</p>")
    for part, why in a.missing.items():
        parts.append(f"<p class='missing'><strong>{esc(part)}</strong> could not be "
                     f"computed: {esc(why)}</p>")  # fmt: skip
    if a.warnings:
        parts.append(
            "<h3>Warnings</h3><ul class='warnings'>"
            + "".join(f"<li>{esc(x)}</li>" for x in a.warnings)
            + "</ul>"
        )
    return Section("evidence", "Evidence", "".join(parts))


def _data_html(a: Agreement) -> str:
    d = a.data
    rows = ", ".join(f"{esc(k)} {n:,}" for k, n in d.rows.items())
    return (
        f"<ul><li>Source: {esc(a.source)}; rows: {rows}</li>"
        f"<li>Window: first lead created {esc(_iso(d.first_created_at))}, last "
        f"{esc(_iso(d.last_created_at))} (UTC)</li>"
        f"<li>SHA-256 <code>{d.sha256}</code>: {esc(d.rule)}</li>"
        f"<li>Business calendar: {esc(_calendar_text(a.calendar))}</li></ul>"
    )


def to_html(a: Agreement) -> str:
    """The SLA document as one a-contained HTML page (Plotly inlined, JSON embedded)."""
    cards: list[tuple[str, str]] = []
    if a.marketing is not None:
        m = a.marketing
        cards.append((f"Marketing: MQLs per {m.period}", f"{m.mqls:,}"))
        cards.append(("MQL value", f"{_eur(m.mql_value_eur)} {a.currency}"))
    cards.append(("Sales: first response", a.sales.first_response_words))
    for t in a.sales.segments[:4] or [a.sales.default]:
        if t.at_least:
            cards.append((f"Attempts: {t.segment}", f"none closed unreached before {t.count}"))
        else:
            cards.append((f"Attempts: {t.segment}", f"{t.count} in {t.within_days} days"))
    d = a.data
    return render(
        sections(a),
        title=a.name,
        subtitle=f"Drafted by leadsla agree from {a.source} · data SHA-256 {d.sha256[:16]}…",
        headline=cards,
        warnings=a.warnings or None,
    )


def write_agreement(a: Agreement, out_dir: str | os.PathLike[str], /) -> AgreementFiles:
    """Write ``sla.md``, ``sla.html`` and ``sla.toml`` into ``out_dir`` (created)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    policy = write_policy(a.policy(), out / FILES["policy"])
    md = out / FILES["markdown"]
    md.write_text(to_markdown(a), encoding="utf-8")
    page = out / FILES["html"]
    page.write_text(to_html(a), encoding="utf-8")
    return AgreementFiles(md, page, policy)


# --------------------------------------------------------------------------- formatting


def _hours(h: float) -> str:
    """Business hours as the SLA states them (``hours_text(h, exact=True)``)."""
    return hours_text(h, exact=True)


def _rr(rr: float | None, ci: tuple[float, float] | None) -> str:
    return "–" if rr is None or ci is None else f"{rr:.2f} ({ci[0]:.2f}–{ci[1]:.2f})"


def _eur(x: float | None) -> str:
    """Whole euros (the SLA states exact amounts)."""
    return money(x, exact=True)


def _num(x: Any) -> str:
    if isinstance(x, bool) or x is None:
        return str(x)
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


def _calendar_text(cfg: Mapping[str, Any]) -> str:
    cal = BusinessCalendar.from_config(cfg)
    text = f"{cal.time_zone}, {hours_spec(cal)}"
    if cal.holiday_country:
        text += f"; public holidays of {cal.holiday_country}"
        if cal.holiday_subdivision:
            text += f"-{cal.holiday_subdivision}"
    if cal.holidays:
        text += f"; {len(cal.holidays)} other holiday date(s)"
    if cal.pauses:
        text += f"; {len(cal.pauses)} pause(s)"
    return text


def _iso(t: Any) -> str | None:
    return None if t is None else t.isoformat()


def agreement_box(a: Agreement) -> str:
    """The agreement in plain sentences, each number with what it rests on (page 1)."""
    items = "".join(
        f"<li>{esc(h.strip())}</li>" if not h.startswith("  ")
        else f"<li style='margin-left:1.5em'>{esc(h.strip())}</li>"
        for h in headline(a)
    )  # fmt: skip
    basis = []
    m = a.marketing
    if m is not None:
        basis.append(
            f"MQLs: {m.mqls:,} per {m.period} = marketing's revenue responsibility "
            f"{_eur(m.revenue_responsibility_eur)} {a.currency} ÷ MQL value "
            f"{_eur(m.mql_value_eur)} {a.currency}; originated share: "
            f"{m.originated_basis or 'given'}."
        )
    s = a.sales
    basis.append(f"First response: {s.first_response_basis}.")
    for t in s.segments or [s.default]:
        basis.append(f"Attempts, {t.segment}: {t.count_basis}; window: {t.days_basis}.")
    d = a.data
    w = d.window
    rests = "".join(f"<li>{esc(b)}</li>" for b in basis)
    return (
        '<div class="agreement"><h2 style="border:0;margin-top:0;padding-top:0">'
        "The agreement</h2>"
        f"<ul>{items}</ul><h3>What each number rests on</h3><ul class='muted'>{rests}</ul>"
        f"<p class='muted'>From {esc(a.source)}: {d.rows.get('leads', 0):,} leads"
        + (f" created {w[0]} to {w[1]} ({esc(d.time_zone)})" if w else "")
        + f"; as of {a.as_of:%Y-%m-%d %H:%M %Z}. Data SHA-256 <code>{d.sha256}</code>.</p>"
        "</div>"
    )


def write_agreement_pdf(a: Agreement, path: str | os.PathLike[str], /) -> Path:
    """The SLA document as a PDF to sign: the agreement and the signatures on page 1, the
    evidence after; the data hash and the page number on every page."""
    from leadsla.render.pdf import sections_pdf, signature_block

    first = agreement_box(a) + signature_block(
        ["For marketing (head of marketing)", "For sales (head of sales)"]
    )
    rest = [s for s in sections(a) if s.id != "agreement"]
    return sections_pdf(
        rest, Path(path), title=a.name, sha256=a.data.sha256, first_page=first,
        subtitle=f"Drafted by leadsla agree from {a.source}",
        stamp=f"as of {a.as_of:%Y-%m-%d %H:%M %Z}",
    )  # fmt: skip
