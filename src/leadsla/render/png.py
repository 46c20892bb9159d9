"""PNG copies of Plotly charts, drawn with matplotlib (no browser needed on a fresh machine).

The copy carries what the interactive chart shows: every trace (scatter lines, markers, text,
error bars, filled bands; bars; funnels), every layout shape (vertical lines, shaded
rectangles) and annotation, the subplots of ``make_subplots`` (one matplotlib axes per Plotly
axis pair, placed by their domains, subplot titles included), tick texts and formats. Titles
are plain text (Plotly's HTML subset stripped). Tick labels never overlap: crowded ones are
rotated, then shrunk, then thinned (:func:`_declutter`). Every artist drawn for a named trace,
shape or annotation carries that name as its ``gid``, so a test can check the copy against
the figure.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
_MARKERS = {"star": "*", "diamond": "D", "diamond-open": "D", "x": "x", "circle": "o",
            "square": "s", "triangle-up": "^"}  # fmt: skip
DPI = 110


def _arr(v: Any) -> np.ndarray:
    if v is None:
        return np.array([])
    if isinstance(v, dict) and "bdata" in v and "dtype" in v:  # Plotly's typed array (JSON)
        import base64

        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return a.reshape(v["shape"]) if v.get("shape") else a
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


def _nonneg(a: np.ndarray) -> np.ndarray:
    """Error-bar lengths: missing or negative (rounding) ones drawn as 0."""
    return np.maximum(np.nan_to_num(np.asarray(a, dtype=float)), 0.0)


def _err(e: Any, n: int) -> list[np.ndarray] | None:
    if e is None or e.array is None:
        return None
    hi = _num(e.array).astype(float)
    lo = _num(e.arrayminus).astype(float) if e.arrayminus is not None else hi
    return [_nonneg(lo[:n]), _nonneg(hi[:n])]


def plain(text: Any) -> str:
    """Plotly's HTML subset as plain text: <br> → a new line, other tags dropped."""
    return re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", "\n", str(text or ""))).strip()


def _colour(c: Any) -> tuple[Any, float | None]:
    """A Plotly colour as matplotlib's: ``rgba(r,g,b,a)`` → ((r,g,b), a)."""
    if not c:
        return None, None
    m = re.fullmatch(r"rgba?\(([^)]*)\)", str(c).replace(" ", ""))
    if not m:
        return c, None
    parts = [float(p) for p in m.group(1).split(",")]
    alpha = parts[3] if len(parts) == 4 else None
    return tuple(p / 255 for p in parts[:3]), alpha


def _ls(dash: Any) -> str:
    return {"dash": "--", "dot": ":", "dashdot": "-."}.get(str(dash), "-")


def figure_to_png(
    fig: Any, path: str | Path, /, *, width: float = 9.0, height: float | None = None
) -> Path:
    """Draw ``fig`` (a plotly Figure) to ``path`` as PNG; returns the path."""
    import matplotlib.pyplot as plt

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    f = draw(fig, width=width, height=height)
    try:
        f.savefig(out, dpi=DPI)
    finally:
        plt.close(f)
    return out


def draw(fig: Any, /, *, width: float = 9.0, height: float | None = None) -> Any:
    """The matplotlib Figure of the PNG copy of ``fig`` (laid out, tick labels decluttered).
    The caller closes it (``matplotlib.pyplot.close``)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    layout = fig.layout
    if height is None:
        height = min(max((layout.height or 480) / 100, 4.8), 22.0)
    pairs = _pairs(fig)
    rows = sorted({_domain(layout, "yaxis", y) for _, y in pairs}, key=lambda d: -d[1])
    cols = sorted({_domain(layout, "xaxis", x) for x, _ in pairs})
    f = plt.figure(figsize=(width, height), dpi=DPI)
    try:
        grid = f.add_gridspec(
            len(rows), len(cols),
            height_ratios=[max(d[1] - d[0], 0.02) for d in rows],
            width_ratios=[max(d[1] - d[0], 0.02) for d in cols],
        )  # fmt: skip
        axes: dict[tuple[str, str], Any] = {}
        for x, y in pairs:
            r = rows.index(_domain(layout, "yaxis", y))
            c = cols.index(_domain(layout, "xaxis", x))
            axes[(x, y)] = f.add_subplot(grid[r, c])
        for (x, y), ax in axes.items():
            _draw(fig, ax, x, y)
        _titles(fig, f, axes)
        # room for a figure title (tight_layout leaves suptitle out)
        top = 1 - 0.3 / height if f.get_suptitle() else 1
        f.tight_layout(rect=(0, 0, 1, top))
        _declutter(f)
        f.tight_layout(rect=(0, 0, 1, top))
        _declutter(f)
    except BaseException:
        plt.close(f)
        raise
    return f


def _pairs(fig: Any) -> list[tuple[str, str]]:
    """The (x, y) axis pairs the traces use, in order ("x", "y" when there is no trace)."""
    out: list[tuple[str, str]] = []
    for t in fig.data:
        p = (getattr(t, "xaxis", None) or "x", getattr(t, "yaxis", None) or "y")
        if t.type == "funnel":
            p = ("x", "y")
        if p not in out:
            out.append(p)
    return out or [("x", "y")]


def _axis(layout: Any, kind: str, ref: str) -> Any:
    """``layout.xaxis2`` for ("xaxis", "x2")."""
    return layout[kind + ref[1:]]


def _domain(layout: Any, kind: str, ref: str) -> tuple[float, float]:
    d = _axis(layout, kind, ref).domain
    return (float(d[0]), float(d[1])) if d else (0.0, 1.0)


def _titles(fig: Any, f: Any, axes: dict[tuple[str, str], Any]) -> None:
    """The figure's title, and subplot titles (paper annotations above an axes) as titles."""
    layout = fig.layout
    title = plain(layout.title.text) if layout.title and layout.title.text else ""
    for a in layout.annotations or ():
        if a.xref != "paper" or a.yref != "paper" or not a.text:
            continue
        for (x, y), ax in axes.items():
            xd, yd = _domain(layout, "xaxis", x), _domain(layout, "yaxis", y)
            if xd[0] - 1e-6 <= float(a.x) <= xd[1] + 1e-6 and abs(float(a.y) - yd[1]) < 0.03:
                ax.set_title(plain(a.text), fontsize=9.5, loc="left", gid="subplot title")
                break
    if not title:
        return
    only = next(iter(axes.values()))
    if len(axes) == 1 and not only.get_title(loc="left"):
        only.set_title(title, fontsize=11, loc="left", gid="title")
    else:
        f.suptitle(title, fontsize=11, x=0.01, ha="left", gid="title")


def _draw(fig: Any, ax: Any, xref: str = "x", yref: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter, PercentFormatter, ScalarFormatter

    layout = fig.layout
    xa, ya = _axis(layout, "xaxis", xref), _axis(layout, "yaxis", yref)
    traces = [
        (i, t) for i, t in enumerate(fig.data)
        if ((getattr(t, "xaxis", None) or "x"), (getattr(t, "yaxis", None) or "y"))
        == (xref, yref) or (t.type == "funnel" and (xref, yref) == ("x", "y"))
    ]  # fmt: skip
    bars = [t for _, t in traces if t.type == "bar"]
    nbar = max(len(bars), 1)
    bar_i = 0
    cats: dict[str, int] = {}
    if ya.categoryorder == "array" and ya.categoryarray is not None:
        cats = {str(c): k for k, c in enumerate(ya.categoryarray)}
    prev_y: np.ndarray | None = None
    for i, t in traces:
        color: Any = _COLORS[i % len(_COLORS)]
        shown = getattr(t, "showlegend", None) is not False
        name = t.name if shown and t.name else None
        gid = t.name or f"trace {i}"
        line = getattr(t, "line", None)
        marker = getattr(t, "marker", None)
        if line is not None and line.color:
            color = _colour(line.color)[0]
        elif marker is not None and isinstance(marker.color, str):
            color = _colour(marker.color)[0]
        if t.type == "scatter" and _categorical(t.y) and not _categorical(t.x):
            labels = [str(v) for v in _arr(t.y)]
            for lab in labels:
                cats.setdefault(lab, len(cats))
            pos = [cats[lab] for lab in labels]
            ax.errorbar(_num(t.x).astype(float), pos, xerr=_err(t.error_x, len(pos)),
                        marker="o", markersize=5, linestyle="none", color=color, label=name,
                        capsize=3, gid=gid)  # fmt: skip
            continue
        if t.type == "scatter":
            x, y = _arr(t.x), _num(t.y).astype(float)
            fill, alpha = _colour(getattr(t, "fillcolor", None))
            if t.fill in ("tonexty", "tozeroy") and len(x):
                same = t.fill == "tonexty" and prev_y is not None and len(prev_y) == len(y)
                base = prev_y if same else 0
                ax.fill_between(list(x), base, y, alpha=alpha or 0.2, color=fill or color,
                                label=name, gid=gid, linewidth=0)  # fmt: skip
            elif t.fill == "toself" and len(x):
                ax.fill(list(x), y, alpha=alpha or 0.2, color=fill or color, label=name,
                        gid=gid, linewidth=0)  # fmt: skip
            else:
                mode = t.mode or "lines"
                ls = _ls(line.dash if line is not None else None) if "lines" in mode else ""
                sym = str(marker.symbol) if marker is not None and marker.symbol else "circle"
                mk = _MARKERS.get(sym, "o") if "markers" in mode else ""
                size = (marker.size if marker is not None and marker.size else 6) * 0.7
                lw = line.width if line is not None and line.width is not None else 1.6
                face = "none" if sym.endswith("-open") else color
                err = _err(t.error_y, len(y))
                if line is not None and line.width == 0 and "markers" not in mode:
                    prev_y = y
                    continue
                ax.errorbar(list(x), y, yerr=err, marker=mk or None, markersize=size,
                            markerfacecolor=face, color=color, label=name, capsize=3 if err
                            else 0, linestyle=ls or "none", linewidth=lw, gid=gid)  # fmt: skip
                if "text" in mode and t.text is not None:
                    texts = [t.text] if isinstance(t.text, str) else list(t.text)
                    for xv, yv, s in zip(x, y, texts, strict=False):
                        below = "bottom" in str(t.textposition or "")
                        ax.annotate(plain(s), (float(xv), float(yv)), xytext=(0, -11 if below
                                    else 9), textcoords="offset points", ha="center",
                                    va="top" if below else "bottom", fontsize=8, color=color,
                                    gid=gid)  # fmt: skip
            prev_y = y
        elif t.type == "bar":
            x, y = _arr(t.x), _num(t.y)
            if t.orientation == "h":
                ax.barh(list(_arr(t.y)), _num(t.x).astype(float), color=color, label=name,
                        gid=gid)  # fmt: skip
                continue
            offsets = np.arange(len(x)) + (bar_i - (nbar - 1) / 2) * 0.8 / nbar
            ax.bar(offsets, y.astype(float), width=0.8 / nbar, color=color, label=name,
                   yerr=_err(t.error_y, len(y)), capsize=3, gid=gid)  # fmt: skip
            ax.set_xticks(np.arange(len(x)), [str(v) for v in x])
            bar_i += 1
        elif t.type == "funnel":
            ys, xs = _arr(t.y), _num(t.x).astype(float)
            texts = list(t.text) if t.text is not None else [f"{v:,.0f}" for v in xs]
            ax.barh(range(len(ys))[::-1], xs, color=color, gid=gid)
            ax.set_yticks(range(len(ys))[::-1], [str(v) for v in ys])
            for k, (v, s) in enumerate(zip(xs, texts, strict=False)):
                ax.text(v, len(ys) - 1 - k, f" {s}", va="center", fontsize=9)
    if cats:
        ax.set_yticks(list(cats.values()), list(cats.keys()), fontsize=8)
        ax.set_ylim(len(cats) - 0.5, -0.5)  # the first category on top, as Plotly draws it
    _shapes(fig, ax, xref, yref)
    _annotations(fig, ax, xref, yref)
    if xa.type == "log":
        ax.set_xscale("log")
    if xa.tickvals and xa.ticktext:
        ax.set_xticks(list(xa.tickvals), [plain(s) for s in xa.ticktext])
        ax.minorticks_off()
    if xa.range is not None:
        ax.set_xlim(*map(float, xa.range))
    for axis, spec in ((ax.xaxis, xa), (ax.yaxis, ya)):
        if spec.tickformat and "%" in spec.tickformat:
            digits = re.search(r"\.(\d+)", spec.tickformat)
            axis.set_major_formatter(PercentFormatter(1.0, int(digits[1]) if digits else 0))
        elif isinstance(axis.get_major_formatter(), ScalarFormatter):  # not fixed labels
            axis.set_major_formatter(FuncFormatter(_si))
    if xa.title and xa.title.text:
        ax.set_xlabel(plain(xa.title.text), fontsize=9, gid="x title")
    if ya.title and ya.title.text:
        ax.set_ylabel(plain(ya.title.text), fontsize=9, gid="y title")
    ax.tick_params(labelsize=8)
    handles, labels = ax.get_legend_handles_labels()
    if handles and layout.legend and layout.legend.orientation == "h":  # below, as Plotly's
        ax.legend(fontsize=8, frameon=False, loc="upper center", ncols=min(len(handles), 3),
                  bbox_to_anchor=(0.5, -0.13))  # fmt: skip
    elif handles:
        ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3)


def _si(v: float, _pos: Any = None) -> str:
    """A tick as Plotly writes it: 250, 2.5k, 1.2M (never matplotlib's "1e6" offset)."""
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:g}M"
    if a >= 1e4:
        return f"{v / 1e3:g}k"
    return f"{v:,.0f}" if v == int(v) else f"{v:g}"


def _shapes(fig: Any, ax: Any, xref: str, yref: str) -> None:
    """Layout shapes on this axes: vertical lines and rectangles spanning its height."""
    for s in fig.layout.shapes or ():
        if s.xref != xref:
            continue
        color, alpha = _colour(s.fillcolor) if s.fillcolor else (None, None)
        gid = s.name or s.type
        full = str(s.yref).endswith("domain") or s.yref == "paper"
        if s.type == "rect" and full:
            op = s.opacity if s.opacity is not None else 1.0
            ax.axvspan(float(s.x0), float(s.x1), ymin=float(s.y0), ymax=float(s.y1),
                       color=color or "grey", alpha=(alpha or 1.0) * op, linewidth=0,
                       gid=gid, zorder=0)  # fmt: skip
        elif s.type == "line" and s.x0 == s.x1:
            lc = _colour(s.line.color)[0] if s.line and s.line.color else "grey"
            ax.axvline(float(s.x0), color=lc, linestyle=_ls(s.line.dash if s.line else None),
                       linewidth=1.2, gid=gid)  # fmt: skip
        elif s.type == "line" and s.y0 == s.y1 and s.yref == yref:
            lc = _colour(s.line.color)[0] if s.line and s.line.color else "grey"
            ax.axhline(float(s.y0), color=lc, linestyle=_ls(s.line.dash if s.line else None),
                       linewidth=1, gid=gid)  # fmt: skip


def _annotations(fig: Any, ax: Any, xref: str, yref: str) -> None:
    """Annotations placed on this axes' x (y in data or as a share of its height)."""
    for a in fig.layout.annotations or ():
        if not a.text or a.xref != xref or a.x is None:
            continue
        text = plain(a.text)
        color = _colour(a.font.color)[0] if a.font and a.font.color else "dimgray"
        ha = {"left": "left", "right": "right"}.get(str(a.xanchor), "center")
        va = {"top": "top", "bottom": "bottom"}.get(str(a.yanchor), "center")
        if str(a.yref).endswith("domain") or a.yref == "paper":
            ax.text(float(a.x), float(a.y if a.y is not None else 1), text, fontsize=8,
                    ha=ha, va=va, color=color, transform=ax.get_xaxis_transform(),
                    gid=f"annotation: {text}")  # fmt: skip
        else:
            ax.annotate(text, (float(a.x), float(a.y)), fontsize=8, ha=ha, va=va,
                        color=color, gid=f"annotation: {text}")  # fmt: skip


def tick_boxes(f: Any, /) -> list[tuple[Any, str, list[Any]]]:
    """Per axes and axis ("x"/"y"): the window boxes of its visible, non-empty tick labels."""
    f.canvas.draw()
    r = f.canvas.get_renderer()
    out = []
    for ax in f.axes:
        for name, labels in (("x", ax.get_xticklabels()), ("y", ax.get_yticklabels())):
            boxes = [lab.get_window_extent(r) for lab in labels
                     if lab.get_visible() and lab.get_text().strip()]  # fmt: skip
            out.append((ax, name, boxes))
    return out


def _overlap(boxes: list[Any], pad: float = 1.0) -> bool:
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if (a.x0 < b.x1 + pad and b.x0 < a.x1 + pad
                    and a.y0 < b.y1 + pad and b.y0 < a.y1 + pad):  # fmt: skip
                return True
    return False


def _declutter(f: Any) -> None:
    """Crowded tick labels: x ones rotated, then thinned; y ones shrunk, then thinned."""
    for ax, name, boxes in tick_boxes(f):
        if not _overlap(boxes):
            continue
        axis = ax.xaxis if name == "x" else ax.yaxis
        labels = [lab for lab in axis.get_ticklabels() if lab.get_text().strip()]
        if name == "x":
            for lab in labels:
                lab.set_rotation(30)
                lab.set_horizontalalignment("right")
                lab.set_rotation_mode("anchor")
        else:
            for lab in labels:
                lab.set_fontsize(6.5)
        step = 2
        while True:
            f.canvas.draw()
            r = f.canvas.get_renderer()
            shown = [lab for lab in labels if lab.get_visible()]
            if not _overlap([lab.get_window_extent(r) for lab in shown]) or len(shown) < 2:
                break
            for k, lab in enumerate(labels):
                lab.set_visible(k % step == 0)
            step += 1
