"""Charts of the attempts analysis (Plotly): the plateau, the profit curve, the biased view.

- ``"return"``: the guide's plateau made sound, the cumulative return V·F(N) per lead type
  (one line each) with the knee (where it flattens) and N* (where profit peaks) marked;
- ``"profit"``: Π(N) = V·F(N) − c·A(N) with its 95% posterior band;
- ``"naive"``: the life-table win hazard beside the guide's naive cohort rate (won ÷ closed
  with exactly k attempts), labelled as biased: the outcome decides the count;
- ``"all"``: the three stacked, which :func:`write_chart` writes as one self-contained page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from leadsla.analysis.attempts import AttemptsResult

ChartKind = Literal["return", "profit", "naive", "all"]

NAIVE_LABEL = "naive cohort rate — biased: the outcome decides the count"
TITLES = {
    "return": "Cumulative return V·F(N) per lead: knee (◆) and N* (★)",
    "profit": "Expected profit per lead Π(N) = V·F(N) − c·A(N), 95% posterior band",
    "naive": f"Win hazard per attempt (life table) vs the {NAIVE_LABEL}",
}
_PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#4a5568")


@dataclass(frozen=True)
class ChartFiles:
    """What :func:`write_chart` wrote: the HTML page, the PNG (or None) and why not."""

    html: Path
    png: Path | None
    note: str | None


def _colour(i: int) -> str:
    return _PALETTE[i % len(_PALETTE)]


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _add_return(fig: go.Figure, res: AttemptsResult, row: int | None) -> None:
    import plotly.graph_objects as go

    pos = {"row": row, "col": 1} if row else {}
    for i, (name, g) in enumerate(res.groups.items()):
        a, c = g.analysis, _colour(i)
        t = a.table
        y = a.value * t.cumulative_conversion
        x = t.attempt
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines+markers",
                name=name,
                legendgroup=name,
                showlegend=True,
                line={"color": c},
                marker={"size": 4},
                hovertemplate=f"{name}<br>N = %{{x}}<br>V·F(N) = %{{y:,.0f}}<extra></extra>",
            ),
            **pos,
        )
        n_star = a.optimal_attempts
        if n_star:
            label = f"N* = {n_star}" if a.identified else f"N* ≥ {n_star}"
            fig.add_trace(
                go.Scatter(
                    x=[n_star],
                    y=[y[n_star - 1]],
                    mode="markers+text",
                    text=[label],
                    textposition="top center",
                    name=f"{name}: {label}",
                    legendgroup=name,
                    showlegend=False,
                    marker={"symbol": "star", "size": 14, "color": c},
                    hovertemplate=f"{name}: {label}<br>interval {a.interval_text}<extra></extra>",
                ),
                **pos,
            )
        if a.knee:
            fig.add_trace(
                go.Scatter(
                    x=[a.knee],
                    y=[y[a.knee - 1]],
                    mode="markers+text",
                    text=[f"knee {a.knee}"],
                    textposition="bottom right",
                    name=f"{name}: knee",
                    legendgroup=name,
                    showlegend=False,
                    marker={"symbol": "diamond-open", "size": 12, "color": c, "line": {"width": 2}},
                    hovertemplate=f"{name}: knee at %{{x}}<extra></extra>",
                ),
                **pos,
            )
    fig.update_xaxes(title_text="attempts N", **pos)
    fig.update_yaxes(title_text="V·F(N) per lead", **pos)


def _add_profit(fig: go.Figure, res: AttemptsResult, row: int | None) -> None:
    import plotly.graph_objects as go

    pos = {"row": row, "col": 1} if row else {}
    for i, (name, g) in enumerate(res.groups.items()):
        a, c = g.analysis, _colour(i)
        x = a.table.attempt
        lo, hi = a.posterior.profit_bands[0], a.posterior.profit_bands[-1]
        if x.size:
            fig.add_trace(
                go.Scatter(
                    x=np.concatenate([x, x[::-1]]),
                    y=np.concatenate([hi, lo[::-1]]),
                    fill="toself",
                    fillcolor=_rgba(c, 0.18),
                    line={"width": 0},
                    hoverinfo="skip",
                    name=f"{name}: 95% band",
                    legendgroup=name,
                    showlegend=False,
                ),
                **pos,
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=a.expected_profit,
                mode="lines+markers",
                name=name,
                legendgroup=name,
                showlegend=row is None,
                line={"color": c},
                marker={"size": 4},
                hovertemplate=f"{name}<br>N = %{{x}}<br>Π(N) = %{{y:,.2f}}<extra></extra>",
            ),
            **pos,
        )
        if a.optimal_attempts:
            n = a.optimal_attempts
            fig.add_trace(
                go.Scatter(
                    x=[n],
                    y=[a.expected_profit[n - 1]],
                    mode="markers",
                    legendgroup=name,
                    showlegend=False,
                    name=f"{name}: N*",
                    marker={"symbol": "star", "size": 14, "color": c},
                    hovertemplate=f"{name}: N* = {a.optimal_attempts_text}<extra></extra>",
                ),
                **pos,
            )
    fig.update_xaxes(title_text="attempts N", **pos)
    fig.update_yaxes(title_text="Π(N) per lead", **pos)


def _add_naive(fig: go.Figure, res: AttemptsResult, row: int | None) -> None:
    import plotly.graph_objects as go

    pos = {"row": row, "col": 1} if row else {}
    for i, (name, g) in enumerate(res.groups.items()):
        a, c = g.analysis, _colour(i)
        t = a.table
        assert t.at_risk is not None and t.naive_cohort_rate is not None
        upto = max(a.max_attempts_supported, 1)
        x = t.attempt[:upto]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=t.win_hazard[:upto],
                mode="lines+markers",
                legendgroup=name,
                name=f"{name}: win hazard h(k) (life table)",
                showlegend=row is None,
                line={"color": c},
                marker={"size": 4},
                hovertemplate=f"{name}<br>k = %{{x}}<br>h = %{{y:.2%}}<extra></extra>",
            ),
            **pos,
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=t.naive_cohort_rate[:upto],
                mode="lines+markers",
                legendgroup=name,
                name=f"{name}: {NAIVE_LABEL}",
                showlegend=True,
                line={"color": c, "dash": "dot"},
                marker={"size": 4, "symbol": "x"},
                hovertemplate=f"{name}<br>k = %{{x}}<br>naive = %{{y:.2%}} (biased)<extra></extra>",
            ),
            **pos,
        )
    fig.update_xaxes(title_text="attempt k", **pos)
    fig.update_yaxes(title_text="share", tickformat=".0%", **pos)


def figure(res: AttemptsResult, kind: ChartKind = "return") -> go.Figure:
    """One chart of :data:`ChartKind` (``"all"``: the three stacked, sharing the legend)."""
    import plotly.graph_objects as go

    adders = {"return": _add_return, "profit": _add_profit, "naive": _add_naive}
    if kind == "all":
        from plotly.subplots import make_subplots

        fig = make_subplots(
            rows=3, cols=1, vertical_spacing=0.08, subplot_titles=[TITLES[k] for k in adders]
        )
        for row, add in enumerate(adders.values(), start=1):
            add(fig, res, row)
        height = 1350
        title = f"How many contact attempts (c = {res.cost_per_attempt:,.2f} per attempt)"
    elif kind in adders:
        fig = go.Figure()
        adders[kind](fig, res, None)
        height = 480
        title = TITLES[kind]
    else:
        raise ValueError(f'kind must be "return", "profit", "naive" or "all", not {kind!r}')
    if res.bound_shown:
        title += f" — {res.bound_shown} bound shown (L and C not told apart)"
    fig.update_layout(
        title=title, template="plotly_white", height=height, legend={"groupclick": "toggleitem"}
    )
    return fig


def write_chart(res: AttemptsResult, path: str | Path, /, *, png: bool = False) -> ChartFiles:
    """The three charts as one self-contained HTML page (plotly.js embedded); with ``png`` also
    ``PATH.png`` when kaleido is importable (it needs a Chrome too), otherwise ``note`` says
    why not."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig = figure(res, "all")
    fig.write_html(out, include_plotlyjs=True)
    if not png:
        return ChartFiles(out, None, None)
    target = out.with_suffix(".png")
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return ChartFiles(
            out,
            None,
            "PNG not written: kaleido is not installed (it also needs "
            "a Chrome); the HTML chart has a download-as-PNG button.",
        )
    try:
        fig.write_image(target)
    except Exception as e:  # kaleido without a usable Chrome
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        return ChartFiles(out, None, f"PNG not written: {first}")
    return ChartFiles(out, target, None)


NEAR_OPTIMAL = "near-optimal"
NOT_IDENTIFIED = "not identified"


def economics_figure(res: AttemptsResult, name: str, /) -> go.Figure:
    """The guide's chart made sound, for one lead type: per lead, the cumulative revenue
    V·F(N) and cumulative cost c·A(N) of the fitted model, their difference the profit Π(N)
    (95% posterior band), the observed V·F(N) of the life table as dots; N* marked, the
    near-optimal set {N : Π(N) ≥ 99% of Π(N*)} shaded, and what the data cannot tell shaded
    grey: attempts past N_max (fewer than 30 leads at risk), or past N* when it is not
    identified ("at least N*")."""
    import plotly.graph_objects as go

    g = res.groups[name]
    a = g.analysis
    fitted = a.fitted if a.fitted is not None else a.table
    x = a.table.attempt
    revenue = a.value * fitted.cumulative_conversion
    cost = a.cost_per_attempt * fitted.expected_attempts
    fig = go.Figure()
    lo, hi = a.posterior.profit_bands[0], a.posterior.profit_bands[-1]
    money = "%{y:,.0f}"
    if x.size:
        fig.add_trace(go.Scatter(
            x=np.concatenate([x, x[::-1]]), y=np.concatenate([hi, lo[::-1]]), fill="toself",
            fillcolor=_rgba(_PALETTE[0], 0.15), line={"width": 0}, hoverinfo="skip",
            name="profit: 95% posterior band",
        ))  # fmt: skip
    fig.add_trace(go.Scatter(
        x=x, y=revenue, mode="lines", name="revenue V·F(N) (model)",
        line={"color": _PALETTE[2], "width": 2},
        hovertemplate=f"N = %{{x}}<br>V·F(N) = {money}<extra></extra>",
    ))  # fmt: skip
    fig.add_trace(go.Scatter(
        x=x, y=a.value * a.table.cumulative_conversion, mode="markers",
        name="revenue V·F(N) (life table)", marker={"color": _PALETTE[2], "size": 5,
                                                    "symbol": "circle-open"},
        hovertemplate=f"N = %{{x}}<br>observed V·F(N) = {money}<extra></extra>",
    ))  # fmt: skip
    fig.add_trace(go.Scatter(
        x=x, y=cost, mode="lines", name="cost c·A(N)", line={"color": _PALETTE[1], "width": 2},
        hovertemplate=f"N = %{{x}}<br>c·A(N) = {money}<extra></extra>",
    ))  # fmt: skip
    fig.add_trace(go.Scatter(
        x=x, y=a.expected_profit, mode="lines", name="profit Π(N) = V·F(N) − c·A(N)",
        line={"color": _PALETTE[0], "width": 3},
        hovertemplate=f"N = %{{x}}<br>Π(N) = {money}<extra></extra>",
    ))  # fmt: skip
    n_star = a.optimal_attempts
    k = int(x[-1]) if x.size else 0
    horizon = a.max_attempts_supported
    end = max(k, horizon) + 0.5 + max(3.0, 0.15 * k)
    if n_star:
        label = f"N* = {n_star}" if a.identified else f"N* ≥ {n_star}"
        fig.add_trace(go.Scatter(
            x=[n_star], y=[a.expected_profit[n_star - 1]], mode="markers", name=label,
            showlegend=False, marker={"symbol": "star", "size": 15, "color": _PALETTE[0]},
            hovertemplate=f"{label}<br>interval {a.interval_text}<extra></extra>",
        ))  # fmt: skip
        fig.add_vline(x=n_star, line={"color": _PALETTE[0], "dash": "dot", "width": 1},
                      name="N*")  # fmt: skip
        fig.add_annotation(x=n_star, y=0.99, xref="x", yref="y domain", xanchor="left",
                           yanchor="top", showarrow=False, text=f" {label}",
                           font={"color": _PALETTE[0]})  # fmt: skip
    near = a.near_optimal
    if a.identified and len(near) > 1:
        fig.add_vrect(x0=near[0] - 0.5, x1=near[-1] + 0.5, fillcolor=_rgba(_PALETTE[0], 0.12),
                      line_width=0, layer="below", name=NEAR_OPTIMAL)  # fmt: skip
        fig.add_annotation(x=(near[0] + near[-1]) / 2, y=0.01, xref="x", yref="y domain",
                           yanchor="bottom", showarrow=False,
                           text=f"near-optimal: {near[0]}–{near[-1]}")  # fmt: skip
    start = min(horizon, n_star) if not a.identified and n_star else horizon
    fig.add_vrect(x0=start + 0.5, x1=end, fillcolor="rgba(113,128,150,0.22)", line_width=0,
                  layer="below", name=NOT_IDENTIFIED)  # fmt: skip
    fig.add_annotation(x=(start + 0.5 + end) / 2, y=0.5, xref="x", yref="y domain",
                       showarrow=False, text=NOT_IDENTIFIED, font={"color": "#4a5568"})  # fmt: skip
    title = (f"{name}: revenue, cost and profit per lead by attempts "
             f"(c = {res.cost_per_attempt:,.2f} per attempt)")  # fmt: skip
    if res.bound_shown:
        title += f", {res.bound_shown} bound shown"
    fig.update_layout(
        title=title, template="plotly_white", height=480,
        xaxis={"title": f"attempts N (data to N = {horizon}: at least 30 leads at risk)",
               "range": [0.5, end]},
        yaxis={"title": "per lead (workspace currency)"},
        legend={"orientation": "h", "y": -0.22},
    )  # fmt: skip
    return fig


def economics_figures(res: AttemptsResult, /) -> list[go.Figure]:
    """:func:`economics_figure` for every lead type, in the result's order."""
    return [economics_figure(res, name) for name in res.groups]
