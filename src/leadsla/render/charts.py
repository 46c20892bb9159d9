"""Charts of the analysis results (Plotly): one entry, :func:`figure`, for every result.

The attempts charts live in ``charts_attempts``; the report and the SLA document embed these
figures, the commands write them with ``--chart``.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from leadsla import i18n
from leadsla.analysis.planstats import wins_needed
from leadsla.analysis.speed import NEVER, bucket_mid
from leadsla.render.lang import N_, Lang
from leadsla.text import hours_text

_SEGMENT_COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b")

if TYPE_CHECKING:
    from leadsla.analysis.attempts import AttemptsResult
    from leadsla.analysis.plan import SlaPlan
    from leadsla.analysis.speed import SpeedResult
    from leadsla.analysis.value import ValueResult


def figure(result: Any, /, kind: str = "return", *, lang: str = "en") -> go.Figure:
    """The chart of an analysis result (value, plan, speed or attempts; ``kind`` picks one of
    the attempts charts: ``return``, ``profit``, ``naive`` or ``all``), its words in ``lang``."""
    fig = _figure(result, kind)
    return fig if lang == "en" else localize(fig, Lang(lang))


def economics_figures(result: AttemptsResult, /, *, lang: str = "en") -> list[go.Figure]:
    """Per lead type the revenue, cost and profit of each number of attempts
    (:func:`leadsla.render.charts_attempts.economics_figures`), its words in ``lang``."""
    from leadsla.render.charts_attempts import economics_figures as per_group

    figs = per_group(result)
    return figs if lang == "en" else [localize(f, Lang(lang)) for f in figs]


def _figure(result: Any, kind: str) -> go.Figure:
    from leadsla.analysis.attempts import AttemptsResult
    from leadsla.analysis.plan import SlaPlan
    from leadsla.analysis.speed import SpeedResult
    from leadsla.analysis.value import ValueResult

    if isinstance(result, AttemptsResult):
        from leadsla.render.charts_attempts import figure as attempts_figure

        return attempts_figure(result, kind)  # type: ignore[arg-type]
    if isinstance(result, ValueResult):
        return value_figure(result)
    if isinstance(result, SlaPlan):
        return plan_figure(result)
    if isinstance(result, SpeedResult):
        return speed_figure(result)
    raise TypeError(f"no chart for {type(result).__name__}")


def _facet_label(keys: dict[str, str | None], facet: str | None) -> str:
    """A group's name on the chart: its grouping values, the facet's left out (no "k=v")."""
    named = [str(v) for k, v in keys.items() if v is not None and k != facet]
    return " · ".join(named) if named else "all leads"


def value_facets(res: ValueResult, /) -> list[tuple[str | None, Any, list[Any]]]:
    """The value chart's facets: (segment or None, its total row or None, its group rows sorted
    by MQL value, highest first), segments by their total, highest first. Groups without a
    finite value are left out (the table lists them)."""
    facet = "segment" if "segment" in res.by and len(res.by) > 1 else None
    finite = [r for r in res.rows if math.isfinite(r.estimate.mql_value)]
    groups = [r for r in finite if r.level == "group"]
    if facet is None:
        return [(None, None, sorted(groups, key=lambda r: -r.estimate.mql_value))]
    totals = {r.keys.get(facet): r for r in finite if r.level == "segment total"}
    names = list(dict.fromkeys(str(r.keys.get(facet)) for r in groups))
    names.sort(key=lambda s: -(totals[s].estimate.mql_value if s in totals else -1.0))
    out: list[tuple[str | None, Any, list[Any]]] = [
        (s, totals.get(s), sorted((r for r in groups if r.keys.get(facet) == s),
                                  key=lambda r: -r.estimate.mql_value))
        for s in names
    ]  # fmt: skip
    return out or [(None, None, [])]


def value_figure(res: ValueResult, /) -> go.Figure:
    """MQL value per campaign, one facet per segment (its own colour and scale), sorted by
    value, with the 95% interval as error bars and the segment's total as a dashed line."""
    from plotly.subplots import make_subplots

    facets = value_facets(res)
    facet = "segment" if "segment" in res.by and len(res.by) > 1 else None
    sizes = [max(len(rows), 1) for _, _, rows in facets]
    titles = []
    for seg, total, rows in facets:
        t = f"{seg}" if seg is not None else "every group" if rows else "no group with a value"
        if total is not None:
            t += f" (segment total {total.estimate.mql_value:,.0f}, dashed)"
        titles.append(t)
    fig = make_subplots(rows=len(facets), cols=1, row_heights=sizes, subplot_titles=titles,
                        vertical_spacing=min(0.12, 0.35 / len(facets)))  # fmt: skip
    for i, (seg, total, rows) in enumerate(facets, start=1):
        colour = _SEGMENT_COLOURS[(i - 1) % len(_SEGMENT_COLOURS)]
        labels = [_facet_label(r.keys, facet) for r in rows]
        v = np.array([r.estimate.mql_value for r in rows])
        lo = np.array([r.estimate.mql_value_ci[0] for r in rows])
        hi = np.array([r.estimate.mql_value_ci[1] for r in rows])
        fig.add_trace(go.Scatter(
            x=v, y=labels, mode="markers", name=seg or "group", showlegend=False,
            marker={"color": colour, "size": 9},
            error_x={"type": "data", "symmetric": False, "array": np.nan_to_num(hi - v),
                     "arrayminus": np.nan_to_num(v - lo), "color": colour},
            customdata=np.array([[r.estimate.leads, r.estimate.won] for r in rows]),
            hovertemplate="%{y}" + (f" ({seg})" if seg else "") + "<br>MQL value %{x:,.0f}"
                          "<br>%{customdata[0]:,} leads, %{customdata[1]:,} won<extra></extra>",
        ), row=i, col=1)  # fmt: skip
        fig.update_yaxes(categoryorder="array", categoryarray=labels, autorange="reversed",
                         row=i, col=1)  # fmt: skip
        if total is not None:
            fig.add_vline(x=total.estimate.mql_value, line={"color": colour, "dash": "dash"},
                          name=f"{seg}: segment total", row=i, col=1)  # fmt: skip
    fig.update_xaxes(rangemode="tozero")
    fig.update_xaxes(title_text="MQL value (close rate × mean revenue of won leads)",
                     row=len(facets), col=1)  # fmt: skip
    overall = next((r for r in res.rows if r.level == "overall"), None)
    by = " per segment" if facet else ""
    title = f"MQL value per campaign{by}, sorted (mature leads; bars: 95% interval)"
    if overall is not None and math.isfinite(overall.estimate.mql_value):
        title += f"; all leads {overall.estimate.mql_value:,.0f}"
    fig.update_layout(
        title=title,
        height=max(360, 24 * sum(sizes) + 70 * len(facets) + 110),
        template="plotly_white",
        showlegend=False,
        margin={"l": 180},
    )
    return fig


def plan_figure(res: SlaPlan, /) -> go.Figure:
    """The plan as a funnel: quota → marketing's responsibility → wins → MQLs."""
    p = res.plan
    stages: list[tuple[str, float, str]] = []
    if p.quota is not None:
        stages.append(("quota", p.quota, f"{p.quota:,.0f}"))
    stages.append(("marketing-originated revenue", p.revenue_responsibility,
                   f"{p.revenue_responsibility:,.0f}"))  # fmt: skip
    mean_rev = res.inputs.get("mean_revenue", {}).get("value")
    if isinstance(mean_rev, int | float) and mean_rev > 0 and not p.by_segment:
        w = wins_needed(p.revenue_responsibility, mean_rev)
        stages.append(("won deals needed", w, f"{w:,}"))
    if p.risk_buffer_mqls is not None:
        stages.append(("MQLs for an 80% chance", p.risk_buffer_mqls,
                       f"{p.risk_buffer_mqls:,}"))  # fmt: skip
    stages.append(("MQLs required", p.mqls_required, f"{p.mqls_required:,}"))
    fig = go.Figure(go.Funnel(
        y=[s[0] for s in stages], x=[s[1] for s in stages], text=[s[2] for s in stages],
        textinfo="text",
    ))  # fmt: skip
    fig.update_layout(
        title=f"SLA per {p.period}: {p.mqls_required:,} MQLs "
              f"(value {p.mql_value:,.0f} each) for {p.revenue_responsibility:,.0f}",
        template="plotly_white",
    )  # fmt: skip
    return fig


def speed_figure(res: SpeedResult, /) -> go.Figure:
    """Close rate per bucket (Wilson bars) and the modelled curve against business hours."""
    o = res.overall
    fig = go.Figure()
    shown = [b for b in o.buckets if b.leads > 0 and b.bucket != NEVER]
    mids = [bucket_mid(b, res.business_day_hours) for b in shown]
    rate = np.array([b.rate for b in shown])
    lo = np.array([b.rate_ci[0] for b in shown])
    hi = np.array([b.rate_ci[1] for b in shown])
    fig.add_trace(go.Scatter(
        x=mids, y=rate, mode="markers", name="close rate per bucket (95% interval)",
        marker={"size": 9}, text=[b.bucket for b in shown],
        error_y={"type": "data", "symmetric": False, "array": hi - rate,
                 "arrayminus": rate - lo},
        customdata=np.array([[b.leads, b.won] for b in shown]),
        hovertemplate="%{text}<br>close rate %{y:.1%}<br>%{customdata[0]:,} leads, "
                      "%{customdata[1]:,} won<extra></extra>",
    ))  # fmt: skip
    if o.curve_points:
        xs, ys = zip(*o.curve_points, strict=True)
        fig.add_trace(go.Scatter(x=list(xs), y=list(ys), mode="lines",
                                 name="model (within owner × segment)"))  # fmt: skip
    rec = o.recommendation
    top = max([*(hi.tolist() if len(shown) else []), *(p for _, p in o.curve_points), 0.01])
    marks = []
    if rec.target is not None:
        marks.append((rec.target.hours, f"target: {rec.target.text}", "green", "dash"))
    if rec.team_p90_hours is not None:
        marks.append((rec.team_p90_hours, f"today's p90 (team's pace): "
                       f"{hours_text(rec.team_p90_hours)}", "grey", "dot"))  # fmt: skip
    for x, label, color, dash in marks:  # legend entries: labels never overlap
        x = max(x, 1 / 60)
        fig.add_trace(go.Scatter(x=[x, x], y=[0, top * 1.05], mode="lines", name=label,
                                 line={"color": color, "dash": dash},
                                 hoverinfo="name"))  # fmt: skip
    day = res.business_day_hours
    ticks = [1 / 60, 5 / 60, 0.5, 1.0, 4.0, day, 3 * day, 10 * day]
    labels = ["1 min", "5 min", "30 min", "1 h", "4 h", "1 day", "3 days", "10 days"]
    fig.update_layout(
        title="Close rate by business time to first attempt (association, not cause)",
        xaxis={"title": "business time from the MQL to the first attempt (log scale)",
               "type": "log", "tickvals": ticks, "ticktext": labels},
        yaxis={"title": "close rate (mature leads)", "tickformat": ".0%",
               "rangemode": "tozero"},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.25},
    )  # fmt: skip
    return fig


# --------------------------------------------------------------------------- other languages

#: The charts' fixed texts (titles, axes, legend entries, ticks), for the catalog; a chart in
#: another language looks each text up whole (tests/test_i18n_documents.py holds them to the
#: charts the report draws).
CHART_TEXTS = (
    N_("MQL value per campaign, sorted (mature leads; bars: 95% interval)"),
    N_("MQL value per campaign per segment, sorted (mature leads; bars: 95% interval)"),
    N_("every group"), N_("no group with a value"),
    N_("MQL value (close rate × mean revenue of won leads)"), N_("group"),
    N_("segment total"), N_("overall"), N_("quota"), N_("marketing-originated revenue"),
    N_("won deals needed"), N_("MQLs for an 80% chance"), N_("MQLs required"),
    N_("close rate per bucket (95% interval)"), N_("model (within owner × segment)"),
    N_("1 min"), N_("1 h"), N_("4 h"), N_("1 day"), N_("3 days"), N_("10 days"),
    N_("Close rate by business time to first attempt (association, not cause)"),
    N_("business time from the MQL to the first attempt (log scale)"),
    N_("close rate (mature leads)"),
    N_("Cumulative return V·F(N) per lead: knee (◆) and N* (★)"),
    N_("Expected profit per lead Π(N) = V·F(N) − c·A(N), 95% posterior band"),
    N_("Win hazard per attempt (life table) vs the naive cohort rate — biased: the outcome "
       "decides the count"),
    N_("naive cohort rate — biased: the outcome decides the count"),
    N_("attempts N"), N_("V·F(N) per lead"), N_("Π(N) per lead"), N_("attempt k"),
    N_("share"), N_("95% band"), N_("knee"), N_("win hazard h(k) (life table)"),
    N_("per lead (workspace currency)"), N_("not identified"), N_("near-optimal"),
    N_("profit: 95% posterior band"), N_("revenue V·F(N) (model)"),
    N_("revenue V·F(N) (life table)"), N_("cost c·A(N)"), N_("profit Π(N) = V·F(N) − c·A(N)"),
)  # fmt: skip
#: Names of the value chart's rows (its y categories) that are our words, not the data's.
_CATEGORIES = (N_("all leads"),)

_NUMBER = r"[\d,]+(?:\.\d+)?"
#: Chart texts with numbers in them: the pattern and the message it becomes.
_CHART_PATTERNS = (
    (re.compile(rf"SLA per (?P<period>\w+): (?P<mqls>{_NUMBER}) MQLs \(value "
                rf"(?P<value>{_NUMBER}) each\) for (?P<responsibility>{_NUMBER})"),
     N_("SLA per {period}: {mqls} MQLs (value {value} each) for {responsibility}")),
    (re.compile(rf"How many contact attempts \(c = (?P<cost>{_NUMBER}) per attempt\)"),
     N_("How many contact attempts (c = {cost} per attempt)")),
    (re.compile(r"target: (?P<target>.+)"), N_("target: {target}")),
    (re.compile(r"today's p90 \(team's pace\): (?P<time>.+)"),
     N_("today's p90 (team's pace): {time}")),
    (re.compile(r"knee (?P<n>\d+)"), N_("knee {n}")),
    (re.compile(rf"(?P<title>.+); all leads (?P<value>{_NUMBER})"),
     N_("{title}; all leads {value}")),
    (re.compile(rf"(?P<name>.+) \(segment total (?P<value>{_NUMBER}), dashed\)"),
     N_("{name} (segment total {value}, dashed)")),
    (re.compile(rf"revenue, cost and profit per lead by attempts \(c = (?P<cost>{_NUMBER}) "
                r"per attempt\)"),
     N_("revenue, cost and profit per lead by attempts (c = {cost} per attempt)")),
    (re.compile(r"(?P<title>.+), lower bound shown"), N_("{title}, lower bound shown")),
    (re.compile(r"(?P<title>.+), upper bound shown"), N_("{title}, upper bound shown")),
    (re.compile(r"(?P<title>.+) — lower bound shown \(L and C not told apart\)"),
     N_("{title} — lower bound shown (L and C not told apart)")),
    (re.compile(r"(?P<title>.+) — upper bound shown \(L and C not told apart\)"),
     N_("{title} — upper bound shown (L and C not told apart)")),
    (re.compile(r"attempts N \(data to N = (?P<n>\d+): at least 30 leads at risk\)"),
     N_("attempts N (data to N = {n}: at least 30 leads at risk)")),
    (re.compile(r"near-optimal: (?P<low>\d+)–(?P<high>\d+)"), N_("near-optimal: {low}–{high}")),
    (re.compile(r"N\* = (?P<n>\d+)"), N_("N* = {n}")),
    (re.compile(r"N\* ≥ (?P<n>\d+)"), N_("N* ≥ {n}")),
)  # fmt: skip
_HOURS = (
    (re.compile(r"(?P<n>\d+) business min"), "{n} business min"),
    (re.compile(r"(?P<n>\d+) business hours"), "{n} business hours"),
    (re.compile(r"(?P<h>\d+) h (?P<m>\d+) min \(business\)"), "{h} h {m} min (business)"),
)  # fmt: skip


def _number(text: str, L: Lang) -> str:
    """An English-formatted number ("400,000", "12.50") in ``L``'s format."""
    digits = text.split(".")[1] if "." in text else ""
    return L.n(float(text.replace(",", "")), len(digits))


def _chart_text(text: str, L: Lang) -> str:
    """One text of a chart in ``L``'s language: whole (the catalog), by pattern, or as
    "group: text"; anything else (a group's own name) as it is. A pattern's ``name`` is a
    group's own name, kept as it is; spaces around the text stay."""
    if not text:
        return text
    core = text.strip()
    if core != text:
        start = text.index(core[0]) if core else len(text)
        return text[:start] + _chart_text(core, L) + text[start + len(core) :]
    whole = L.phrase(text)
    if whole != text:
        return whole
    for rx, message in _CHART_PATTERNS:
        m = rx.fullmatch(text)
        if m:
            parts = {k: v if k == "name" else _number(v, L) if re.fullmatch(_NUMBER, v)
                        else _chart_text(v, L) for k, v in m.groupdict().items()}  # fmt: skip
            return L._(message).format(**parts)
    for rx, message in _HOURS:
        m = rx.fullmatch(text)
        if m:
            return L._(message).format(**m.groupdict())
    if ": " in text:
        name, rest = text.split(": ", 1)
        translated = _chart_text(rest, L)
        if translated != rest:
            return f"{name}: {translated}"
    return L.word(text)


def _category(text: Any, L: Lang) -> Any:
    """A row of the value chart: our own words (:data:`_CATEGORIES`) translated, a group's
    name as it is."""
    return L._(text) if text in _CATEGORIES else text


def localize(fig: go.Figure, L: Lang, /) -> go.Figure:
    """The figure's words in ``L``'s language and its numbers with the locale's separators
    (titles, axes, subplot titles, legend entries, point labels; hover texts stay English)."""
    fig.update_layout(separators=i18n.separators(L.code))
    layout = fig.layout
    if layout.title and layout.title.text:
        layout.title.text = _chart_text(layout.title.text, L)
    for key in list(layout.to_plotly_json()):
        if re.fullmatch(r"[xy]axis\d*", key):
            axis = layout[key]
            if axis.title and axis.title.text:
                axis.title.text = _chart_text(axis.title.text, L)
            if axis.ticktext:
                axis.ticktext = [_chart_text(str(t), L) for t in axis.ticktext]
            if axis.categoryarray:
                axis.categoryarray = [_category(t, L) for t in axis.categoryarray]
    for note in layout.annotations or ():
        note.text = _chart_text(note.text, L)
    for shape in layout.shapes or ():
        if shape.name:
            shape.name = _chart_text(shape.name, L)
    for trace in fig.data:
        if getattr(trace, "name", None):
            trace.name = _chart_text(trace.name, L)
        if (
            trace.type == "scatter"
            and trace.y is not None
            and any(isinstance(t, str) for t in trace.y)
        ):  # the value chart's rows
            trace.y = [_category(t, L) for t in trace.y]
        text = getattr(trace, "text", None)
        if trace.type == "funnel":  # the plan's stages and their amounts
            trace.y = [_chart_text(str(t), L) for t in trace.y or ()]
            trace.text = [_number(str(t), L) if re.fullmatch(_NUMBER, str(t)) else t
                          for t in text or ()]  # fmt: skip
        elif isinstance(text, tuple | list):
            trace.text = [_chart_text(str(t), L) for t in text]
    return fig
