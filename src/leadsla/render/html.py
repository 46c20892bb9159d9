"""One self-contained HTML page: Plotly's JavaScript inlined once, every chart, every table.

The results the page shows are embedded as JSON (``<script id="leadsla-data">``) exactly as
the commands write them, so a reader or a test can check the numbers against ``--format json``.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadsla.i18n import gettext
from leadsla.render.output import _clean, json_default
from leadsla.text import number as fmt

CSS = """
:root { --fg:#1d2330; --muted:#5b6475; --line:#d9dde5; --accent:#1f5fbf; --warn:#9a6700; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       max-width: 1100px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 36px 0 8px; padding-top: 8px; border-top: 2px solid var(--line); }
h3 { font-size: 1.02rem; margin: 18px 0 6px; }
.subtitle, .muted { color: var(--muted); }
nav ol { columns: 2; padding-left: 18px; margin: 8px 0 0; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 0.88rem; width: auto; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: left;
         vertical-align: top; }
th { background: #f4f6f9; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.headline { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr));
            gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .big { font-size: 1.5rem; font-weight: 650; }
.card .long { font-size: 1.02rem; font-weight: 600; }
.missing { border-left: 4px solid var(--warn); background: #fff8e6; padding: 8px 12px; }
.warnings li { color: var(--warn); }
.chart { width: 100%; min-height: 380px; margin: 8px 0 18px; break-inside: avoid; }
.caveat { font-style: italic; color: var(--muted); }
details.more summary { cursor: pointer; color: var(--accent); margin: -6px 0 10px; }
.exec { border: 2px solid var(--accent); border-radius: 8px; padding: 12px 18px; margin: 14px 0; }
.exec h2 { border: 0; margin: 0 0 6px; padding: 0; }
.light { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 50%;
         margin-right: 0.4em; vertical-align: baseline; }
.light.green { background: #1b7f3b; } .light.amber { background: #b26b00; }
.light.red { background: #b3261e; } .light.grey { background: #9aa1ab; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  .chart, table, .card { break-inside: avoid; }
}
"""


@dataclass
class Section:
    """One part of the report; ``missing`` says what could not be computed and why."""

    id: str
    title: str
    body: str = ""
    figures: list[Any] = field(default_factory=list)
    missing: str | None = None
    data: Any = None


def esc(text: Any) -> str:
    return html.escape(str(text))


_NUMERIC_TEXT = re.compile(r"^[≥≤<>~−–-]?\s?[\d.,]+(?:[%kM]|\s|–|$)")


def table_html(
    rows: list[dict[str, Any]],
    columns: list[str] | None = None,
    labels: dict[str, str] | None = None,
    *,
    top: int | None = None,
    lang: str = "en",
) -> str:
    """An HTML table of ``rows`` (dicts); numbers (and numbers already written as text, like
    "12.3%") right-aligned. With ``top``, the first ``top`` rows show and the rest sit behind
    a toggle (``<details>``: no script, works offline and in print). Cells are written in
    ``lang``'s number format; column names arrive already in it."""
    _ = gettext(lang)
    if not rows:
        return '<p class="muted">' + esc(_("No rows.")) + "</p>"
    cols = columns or list(rows[0])
    labels = labels or {}
    head = "<thead><tr>" + "".join(f"<th>{esc(labels.get(c, c))}</th>" for c in cols)
    head += "</tr></thead>"
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            num = (isinstance(v, int | float) and not isinstance(v, bool)) or (
                isinstance(v, str) and bool(_NUMERIC_TEXT.match(v))
            )
            cells.append(
                f'<td class="num">{esc(fmt(v, lang=lang))}</td>'
                if num
                else f"<td>{esc(fmt(v, lang=lang))}</td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    if top is None or len(body) <= top:
        return f"<table>{head}<tbody>{''.join(body)}</tbody></table>"
    shown, rest = body[:top], body[top:]
    return (
        f"<table>{head}<tbody>{''.join(shown)}</tbody></table>"
        '<details class="more"><summary>'
        + esc(_("Show all {n} rows ({more} more)").format(n=fmt(len(body), lang=lang),
                                                          more=fmt(len(rest), lang=lang)))
        + f"</summary><table>{head}<tbody>{''.join(rest)}</tbody></table></details>"
    )  # fmt: skip


def render(
    sections: list[Section],
    /,
    *,
    title: str,
    subtitle: str = "",
    headline: list[tuple[str, str]] | None = None,
    warnings: list[str] | None = None,
    summary: str = "",
    lang: str = "en",
) -> str:
    """The whole page as a string; ``summary`` (HTML) opens it, before the cards; the page's
    own words (contents, warnings, not computed) in ``lang``, and ``<html lang>`` says it."""
    from plotly.offline import get_plotlyjs

    _ = gettext(lang)
    parts = [f"<h1>{esc(title)}</h1>"]
    if subtitle:
        parts.append(f'<p class="subtitle">{esc(subtitle)}</p>')
    if summary:
        parts.append(summary)
    if headline:
        cards = "".join(
            f'<div class="card"><div class="muted">{esc(k)}</div>'
            f'<div class="{"big" if len(v) < 24 else "long"}">{esc(v)}</div></div>'
            for k, v in headline
        )
        parts.append(f'<div class="headline">{cards}</div>')
    parts.append(
        "<nav><strong>"
        + esc(_("Contents"))
        + "</strong><ol>"
        + "".join(f'<li><a href="#{s.id}">{esc(s.title)}</a></li>' for s in sections)
        + ('<li><a href="#warnings">' + esc(_("Warnings")) + "</a></li>" if warnings else "")
        + "</ol></nav>"
    )
    n = 0
    data: dict[str, Any] = {}
    for s in sections:
        parts.append(f'<section id="{esc(s.id)}"><h2>{esc(s.title)}</h2>')
        if s.missing:
            parts.append(
                '<p class="missing"><strong>' + esc(_("Not computed:")) + "</strong> "
                f"{esc(s.missing)}</p>"
            )
        parts.append(s.body)
        for fig in s.figures:
            n += 1
            div = fig.to_html(
                full_html=False,
                include_plotlyjs=False,
                div_id=f"chart-{n}",
                config={"displaylogo": False, "responsive": True},
            )
            parts.append(f'<div class="chart" data-section="{esc(s.id)}">{div}</div>')
        parts.append("</section>")
        if s.data is not None:
            data[s.id] = s.data
    if warnings:
        items = "".join(f"<li>{esc(w)}</li>" for w in warnings)
        parts.append(
            '<section id="warnings"><h2>' + esc(_("Warnings")) + "</h2>"
            f'<ul class="warnings">{items}</ul></section>'
        )
    payload = json.dumps(_clean(data), ensure_ascii=False, default=json_default).replace(
        "</", "<\\/"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{esc(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        + "\n".join(parts)
        + f'<script type="application/json" id="leadsla-data">{payload}</script>'
        f"<!-- charts: {n} --></body></html>\n"
    )


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pngs: tuple[Path, ...]


def write_report(
    sections: list[Section], path: str | Path, /, *, png: bool = True, **kwargs: Any
) -> ReportFiles:
    """Write the page and, with ``png``, a PNG copy of every chart in ``<stem>_charts/``."""
    from leadsla.render.png import figure_to_png

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(sections, **kwargs), encoding="utf-8")
    pngs: list[Path] = []
    if png:
        folder = out.parent / f"{out.stem}_charts"
        n = 0
        for s in sections:
            for fig in s.figures:
                n += 1
                pngs.append(figure_to_png(fig, folder / f"{n:02d}-{s.id}.png"))
    return ReportFiles(out, tuple(pngs))
