"""PDFs ready to sign: the SLA document (``leadsla agree --pdf``) and the report
(``leadsla report --pdf``), through WeasyPrint (HTML + CSS paged media, on Debian's Pango).

Page 1 holds the agreement in plain sentences and a signature block for both teams; the
evidence follows, charts as their PNG copies (a PDF runs no JavaScript). Every page carries
the data's SHA-256 and "page N of M" in its footer, so a printed page can be traced to the
data it rests on.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Sequence
from pathlib import Path

from leadsla.errors import ConfigError
from leadsla.i18n import gettext
from leadsla.render.html import Section, esc

__all__ = ["sections_pdf", "write_pdf"]

CSS = """
@page {
  size: A4; margin: 18mm 16mm 22mm;
  @top-left { content: "@TITLE@"; font-size: 8pt; color: #5b6475; }
  @top-right { content: "@STAMP@"; font-size: 8pt; color: #5b6475; }
  @bottom-left { content: "@DATA@ @SHA@"; font-size: 7pt; color: #5b6475; }
  @bottom-right { content: "@PAGE@ " counter(page) " @OF@ " counter(pages); font-size: 8pt; }
}
body { font: 10pt/1.45 "DejaVu Sans", sans-serif; color: #1d2330; }
h1 { font-size: 17pt; margin: 0 0 4pt; }
h2 { font-size: 13pt; margin: 16pt 0 6pt; border-top: 1.5pt solid #d9dde5; padding-top: 6pt;
     break-after: avoid; }
h3 { font-size: 11pt; margin: 10pt 0 4pt; break-after: avoid; }
.subtitle, .muted { color: #5b6475; }
.agreement { border: 1.5pt solid #1f5fbf; border-radius: 4pt; padding: 8pt 12pt; margin: 10pt 0; }
.agreement { font-size: 9.5pt; }
.agreement li { margin: 2pt 0; }
.agreement ul.muted, .agreement p.muted { font-size: 7.5pt; line-height: 1.3; }
table { border-collapse: collapse; margin: 6pt 0 10pt; font-size: 8.5pt; break-inside: auto; }
th, td { border-bottom: 0.6pt solid #d9dde5; padding: 2pt 6pt; text-align: left; }
th { background: #f4f6f9; }
td.num { text-align: right; }
tr { break-inside: avoid; }
img.chart { width: 100%; margin: 6pt 0 10pt; break-inside: avoid; }
.missing { border-left: 3pt solid #9a6700; background: #fff8e6; padding: 4pt 8pt; }
.signatures { margin-top: 8pt; display: flex; gap: 24pt; break-inside: avoid; }
.signature { flex: 1; border: 0.8pt solid #d9dde5; padding: 5pt 8pt; font-size: 8.5pt; }
.signature .line { border-bottom: 0.8pt solid #1d2330; height: 16pt; margin: 2pt 0 1pt; }
.page-break { break-before: page; }
nav, script, div.chart { display: none; }  /* the interactive charts; img.chart is the PNG */
"""


def _png_data_uri(fig: object, folder: Path, n: int) -> str:
    from leadsla.render.png import figure_to_png

    path = figure_to_png(fig, folder / f"chart-{n:02d}.png")
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def sections_pdf(
    sections: Sequence[Section],
    path: str | Path,
    /,
    *,
    title: str,
    sha256: str,
    first_page: str,
    subtitle: str = "",
    stamp: str = "",
    lang: str = "en",
) -> Path:
    """Write ``first_page`` (HTML) then ``sections`` (their charts as PNGs) as a PDF;
    ``stamp`` (e.g. the data's as-of) heads every page — never the wall clock, so the same
    data give the same document. The page's own words are in ``lang``."""
    _ = gettext(lang)
    parts = [f"<h1>{esc(title)}</h1>"]
    if subtitle:
        parts.append(f'<p class="subtitle">{esc(subtitle)}</p>')
    parts.append(first_page)
    parts.append('<div class="page-break"></div>')
    n = 0
    with tempfile.TemporaryDirectory(prefix="leadsla-pdf-") as tmp:
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
                uri = _png_data_uri(fig, Path(tmp), n)
                alt = esc(_("chart {n}").format(n=n))
                parts.append(f'<img class="chart" alt="{alt}" src="{uri}">')
            parts.append("</section>")
        css = (
            CSS.replace("@TITLE@", _css_str(title))
            .replace("@STAMP@", _css_str(stamp))
            .replace("@SHA@", _css_str(sha256))
            .replace("@DATA@", _css_str(_("Data SHA-256")))
            .replace("@PAGE@", _css_str(_("Page")))
            .replace("@OF@", _css_str(_("of")))
        )
        html = (
            f'<!DOCTYPE html><html lang="{esc(lang)}"><head><meta charset="utf-8">'
            f"<title>{esc(title)}</title><style>{css}</style></head><body>"
            + "\n".join(parts)
            + "</body></html>"
        )
        return write_pdf(html, path)


def write_pdf(html: str, path: str | Path, /) -> Path:
    """``html`` (self-contained: no outside URL is fetched) as a PDF file."""
    try:
        from weasyprint import HTML
    except OSError as e:  # Pango missing: WeasyPrint cannot load its libraries
        raise ConfigError(
            f"the PDF engine (WeasyPrint) cannot start: {e}. Install Pango "
            "(Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0), "
            "or leave out --pdf and print sla.html from a browser."
        ) from None
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)

    from weasyprint.urls import URLFetcher

    # the charts are data: URIs; any other URL is refused (logged by WeasyPrint, not fetched)
    HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf(out)
    return out


def signature_block(parties: Sequence[str], /, *, lang: str = "en") -> str:
    """A box per signing party: name, role, signature, date."""
    _ = gettext(lang)
    name, signature, day = (esc(_("Name")), esc(_("Signature")), esc(_("Date")))
    boxes = "".join(
        f'<div class="signature"><strong>{esc(p)}</strong>'
        f'<div class="muted">{name}</div><div class="line"></div>'
        f'<div class="muted">{signature}</div><div class="line"></div>'
        f'<div class="muted">{day}</div><div class="line"></div></div>'
        for p in parties
    )
    return f'<div class="signatures">{boxes}</div>'


def _css_str(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
