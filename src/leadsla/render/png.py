"""PNG copies of Plotly charts, drawn with matplotlib (no browser needed on a fresh machine).

Covers the trace kinds leadsla's charts use: scatter (lines, markers, error bars, filled
bands), bar (with error bars) and funnel; vertical marker lines from layout shapes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]


def _arr(v: Any) -> np.ndarray:
    if v is None:
        return np.array([])
    return np.asarray(list(v), dtype=object)


def _num(v: Any) -> np.ndarray:
    a = _arr(v)
    try:
        return a.astype(float)
    except (TypeError, ValueError):
        return a


def _categorical(v: Any) -> bool:
    a = _arr(v)
    if not len(a):
        return False
    try:
        a.astype(float)
    except (TypeError, ValueError):
        return True
    return False


def _err(trace: Any, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    e = getattr(trace, "error_y", None)
    if e is None or e.array is None:
        return None
    hi = _num(e.array).astype(float)
    lo = _num(e.arrayminus).astype(float) if e.arrayminus is not None else hi
    return _nonneg(lo[:n]), _nonneg(hi[:n])


def _nonneg(a: np.ndarray) -> np.ndarray:
    """Error-bar lengths: missing or negative (rounding) ones drawn as 0."""
    return np.maximum(np.nan_to_num(np.asarray(a, dtype=float)), 0.0)


def figure_to_png(
    fig: Any, path: str | Path, /, *, width: float = 9.0, height: float = 4.8
) -> Path:
    """Draw ``fig`` (a plotly Figure) to ``path`` as PNG; returns the path."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    f, ax = plt.subplots(figsize=(width, height), dpi=110)
    try:
        _draw(fig, ax)
        f.tight_layout()
        f.savefig(out)
    finally:
        plt.close(f)
    return out


def _plain(text: str) -> str:
    """Plotly's HTML subset as plain text: <br> → a new line, other tags dropped."""
    import re

    return re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", "\n", text)).strip()


def _draw(fig: Any, ax: Any) -> None:
    bars = [t for t in fig.data if t.type == "bar"]
    nbar = max(len(bars), 1)
    bar_i = 0
    cats: dict[str, int] = {}
    prev_y: np.ndarray | None = None
    for i, t in enumerate(fig.data):
        color = _COLORS[i % len(_COLORS)]
        name = t.name if getattr(t, "showlegend", True) is not False else None
        if t.type == "scatter" and _categorical(t.y) and not _categorical(t.x):
            labels = [str(v) for v in _arr(t.y)]
            for lab in labels:
                cats.setdefault(lab, len(cats))
            pos = [cats[lab] for lab in labels]
            x = _num(t.x).astype(float)
            e = getattr(t, "error_x", None)
            xerr = None
            if e is not None and e.array is not None:
                hi = _num(e.array).astype(float)
                lo = _num(e.arrayminus).astype(float) if e.arrayminus is not None else hi
                xerr = [_nonneg(lo), _nonneg(hi)]
            ax.errorbar(
                x, pos, xerr=xerr, marker="o", linestyle="none", color=color, label=name, capsize=3
            )
            ax.set_yticks(list(cats.values()), list(cats.keys()), fontsize=7)
            ax.invert_yaxis() if i == 0 else None
            continue
        if t.type == "scatter":
            x, y = _arr(t.x), _num(t.y)
            line = getattr(t, "line", None)
            if line is not None and line.color:
                color = line.color
            if t.fill in ("tonexty", "tozeroy") and len(x):
                base = (
                    prev_y
                    if (t.fill == "tonexty" and prev_y is not None and len(prev_y) == len(y))
                    else 0
                )
                ax.fill_between(list(x), base, y.astype(float), alpha=0.2, color=color, label=name)
            elif t.fill == "toself" and len(x):
                ax.fill(list(x), y.astype(float), alpha=0.2, color=color, label=name)
            else:
                mode = t.mode or "lines"
                dash = line.dash if line is not None else None
                ls = (
                    ("--" if dash in ("dash", "dot", "dashdot") else "-") if "lines" in mode else ""
                )
                marker = "o" if "markers" in mode else ""
                err = _err(t, len(y))
                if err is not None:
                    ax.errorbar(
                        list(x),
                        y.astype(float),
                        yerr=[err[0], err[1]],
                        marker=marker or "o",
                        color=color,
                        label=name,
                        capsize=3,
                        linestyle=ls or "none",
                    )
                elif line is not None and line.width == 0:
                    prev_y = y
                    continue
                else:
                    ax.plot(
                        list(x),
                        y.astype(float),
                        marker=marker,
                        color=color,
                        label=name,
                        linestyle=ls or "none",
                    )
            prev_y = y
        elif t.type == "bar":
            x, y = _arr(t.x), _num(t.y)
            if t.orientation == "h":
                ax.barh(list(_arr(t.y)), _num(t.x).astype(float), color=color, label=name)
                continue
            offsets = np.arange(len(x)) + (bar_i - (nbar - 1) / 2) * 0.8 / nbar
            err = _err(t, len(y))
            ax.bar(
                offsets,
                y.astype(float),
                width=0.8 / nbar,
                color=color,
                label=name,
                yerr=None if err is None else [err[0], err[1]],
                capsize=3,
            )
            ax.set_xticks(np.arange(len(x)), [str(v) for v in x], rotation=30, ha="right")
            bar_i += 1
        elif t.type == "funnel":
            ys, xs = _arr(t.y), _num(t.x).astype(float)
            ax.barh(range(len(ys))[::-1], xs, color=color)
            ax.set_yticks(range(len(ys))[::-1], [str(v) for v in ys])
            for k, v in enumerate(xs):
                ax.text(v, len(ys) - 1 - k, f" {v:,.0f}", va="center")
    for s in fig.layout.shapes or ():
        if s.type == "line" and s.x0 == s.x1 and s.xref == "x":
            ax.axvline(float(s.x0), color="grey", linestyle="--", linewidth=1)
    for a in fig.layout.annotations or ():
        if a.text and a.x is not None and a.xref == "x":
            ax.annotate(
                str(a.text),
                (float(a.x), ax.get_ylim()[1]),
                fontsize=8,
                ha="center",
                va="top",
                color="dimgray",
            )
    if fig.layout.xaxis and fig.layout.xaxis.type == "log":
        ax.set_xscale("log")
    if fig.layout.xaxis and fig.layout.xaxis.tickvals and fig.layout.xaxis.ticktext:
        ax.set_xticks(list(fig.layout.xaxis.tickvals), list(fig.layout.xaxis.ticktext))
        ax.minorticks_off()
    title = fig.layout.title.text if fig.layout.title else None
    if title:
        ax.set_title(_plain(title), fontsize=11, loc="left")
    if fig.layout.xaxis and fig.layout.xaxis.title and fig.layout.xaxis.title.text:
        ax.set_xlabel(fig.layout.xaxis.title.text)
    if fig.layout.yaxis and fig.layout.yaxis.title and fig.layout.yaxis.title.text:
        ax.set_ylabel(fig.layout.yaxis.title.text)
    if any(getattr(t, "name", None) for t in fig.data):
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
