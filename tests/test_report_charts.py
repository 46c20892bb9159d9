"""The charts of the demo's report and SLA document, checked as people see them.

One demo build (the session's ``demo`` fixture) serves every test. The interactive charts are
read back from the page itself (the figures Plotly draws), their PNG copies drawn again from
them with matplotlib and compared pixel for pixel with the files the demo wrote; the copies'
tick-label boxes must not overlap; the value chart and the attempts charts must carry the
numbers of the commands' JSON; headless Chromium (Debian's package) opens report.html and
sla.html, screenshots are kept as artifacts and the visible text must say percentages, not raw
fractions; the report's PDF pages are rendered to PNG (pdftoppm) and hold every chart.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, RunCli

# a fraction written where a percentage is meant: 0.0823, -0.125 (not 10.0823, not 1,0.123)
RAW_FRACTION = re.compile(r"(?<![\w.,])-?0\.\d{3,}")


def page_figures(html: str) -> list[Any]:
    """The Plotly figures of a page, as ``Plotly.newPlot`` draws them (data and layout)."""
    import plotly.graph_objects as go

    dec = json.JSONDecoder()
    figs = []
    for m in re.finditer(r'Plotly\.newPlot\(\s*"chart-\d+",\s*', html):
        data, end = dec.raw_decode(html, m.end())
        comma = re.compile(r"\s*,\s*").match(html, end)
        assert comma, "Plotly.newPlot(id, data, layout, …)"
        layout, _ = dec.raw_decode(html, comma.end())
        figs.append(go.Figure(data=data, layout=layout))
    return figs


def embedded(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="leadsla-data">(.*?)</script>', html, re.S)
    assert m, "the report embeds its results"
    data: dict[str, Any] = json.loads(m.group(1).replace("<\\/", "</"))
    return data


def values(v: Any) -> np.ndarray:
    """A trace's array as numbers (Plotly writes numpy arrays as typed arrays in the page)."""
    from leadsla.render.png import _arr

    return np.asarray(_arr(v), dtype=float)


@pytest.fixture(scope="module")
def report(demo: tuple[Path, str]) -> tuple[Path, str, list[Any], dict[str, Any]]:
    out, _ = demo
    html = (out / "report.html").read_text(encoding="utf-8")
    return out, html, page_figures(html), embedded(html)


@pytest.fixture(scope="module")
def copies(report: tuple[Path, str, list[Any], dict[str, Any]]) -> Iterator[list[Any]]:
    """The matplotlib figures of the PNG copies, drawn again from the page's figures."""
    import matplotlib.pyplot as plt

    from leadsla.render.png import draw

    drawn = [draw(fig) for fig in report[2]]
    yield drawn
    for f in drawn:
        plt.close(f)


def test_every_chart_is_on_the_page_and_has_its_png_copy(
    report: tuple[Path, str, list[Any], dict[str, Any]], copies: list[Any], tmp_path: Path
) -> None:
    out, html, figs, data = report
    n_groups = len(data["attempts"]["groups"])
    sections = re.findall(r'<div class="chart" data-section="(\w+)">', html)
    # value, plan, one revenue/cost/profit chart per lead type and the naive view, speed
    assert sections == ["value", "plan", *["attempts"] * (n_groups + 1), "speed"]
    assert len(figs) == len(sections)
    pngs = sorted((out / "report_charts").glob("*.png"))
    assert [p.name for p in pngs] == [f"{i:02d}-{s}.png" for i, s in enumerate(sections, 1)]
    import matplotlib.image as mpimg

    # the PNG copy is the page's chart: drawn again from the page, it is the same picture
    for p, f in zip(pngs, copies, strict=True):
        again = tmp_path / p.name
        f.savefig(again, dpi=f.dpi)
        a, b = mpimg.imread(p), mpimg.imread(again)
        assert a.shape == b.shape and np.array_equal(a, b), p.name
        assert a.shape[0] >= 400 and a.shape[1] >= 900, p.name


def _texts(f: Any) -> list[Any]:
    from matplotlib.text import Text

    return [t for t in f.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_png_copies_have_no_overlapping_tick_labels_and_plain_titles(
    report: tuple[Path, str, list[Any], dict[str, Any]], copies: list[Any]
) -> None:
    figs = report[2]
    for i, (fig, f) in enumerate(zip(figs, copies, strict=True), 1):
        f.canvas.draw()
        r = f.canvas.get_renderer()
        for ax in f.axes:
            for axis in ("x", "y"):
                labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
                boxes = [lab.get_window_extent(r) for lab in labels
                         if lab.get_visible() and lab.get_text().strip()]  # fmt: skip
                assert len(boxes) >= 2, (i, axis)
                for k, a in enumerate(boxes):
                    for b in boxes[k + 1 :]:
                        assert not a.overlaps(b), f"chart {i}: {axis} tick labels overlap"
            # annotations on one axes stay apart too
            notes = [t.get_window_extent(r) for t in _texts(ax)
                     if str(t.get_gid() or "").startswith("annotation")]  # fmt: skip
            for k, a in enumerate(notes):
                assert not any(a.overlaps(b) for b in notes[k + 1 :]), f"chart {i}: annotations"
        # plain text everywhere: nothing of Plotly's HTML subset reaches the picture
        for t in _texts(f):
            assert "<" not in t.get_text(), (i, t.get_text())
        # and the interactive chart's titles are plain text too
        said = [fig.layout.title.text or ""]
        said += [a.text or "" for a in fig.layout.annotations]
        for name in [k for k in fig.layout if k.startswith(("xaxis", "yaxis"))]:
            said.append(fig.layout[name].title.text or "")
        assert not [s for s in said if "<" in s], (i, said)
        # every title drawn: the figure's, and each subplot's
        drawn = {t.get_text() for t in _texts(f)}
        assert fig.layout.title.text in drawn, i


def test_png_copies_carry_every_trace_shape_and_annotation(
    report: tuple[Path, str, list[Any], dict[str, Any]], copies: list[Any]
) -> None:
    from leadsla.render.png import plain

    for i, (fig, f) in enumerate(zip(figs := report[2], copies, strict=True), 1):
        gids = {str(a.get_gid()) for a in f.findobj() if a.get_gid()}
        texts = {t.get_text() for t in _texts(f)}
        for t in fig.data:
            assert (t.name or "") in gids or t.type == "funnel", (i, t.name)
        for s in fig.layout.shapes:
            assert (s.name or s.type) in gids, (i, s.name)
        for a in fig.layout.annotations:
            assert plain(a.text) in texts, (i, a.text)
        legend = {t.get_text() for ax in f.axes if ax.get_legend()
                  for t in ax.get_legend().get_texts()}  # fmt: skip
        shown = {t.name for t in fig.data if t.showlegend is not False and t.name}
        if fig.layout.showlegend is not False and len(fig.data) > 1:
            assert shown <= legend, (i, shown - legend)
    assert figs


def test_value_chart_is_sorted_by_value_per_segment_as_in_the_json(
    report: tuple[Path, str, list[Any], dict[str, Any]],
) -> None:
    _, _, figs, data = report
    fig = figs[0]
    groups = data["value"]["groups"]
    finite = [g for g in groups if g["mql_value"] is not None and math.isfinite(g["mql_value"])]
    totals = {g["segment"]: g["mql_value"] for g in finite if g["level"] == "segment total"}
    segments = sorted(totals, key=lambda s: -totals[s])
    assert [t.name for t in fig.data] == segments  # facets by segment total, highest first
    for t, seg in zip(fig.data, segments, strict=True):
        rows = sorted((g for g in finite if g["level"] == "group" and g["segment"] == seg),
                      key=lambda g: -g["mql_value"])  # fmt: skip
        assert list(t.y) == [g["campaign"] for g in rows], seg  # readable: no "k=v, k=v"
        assert values(t.x) == pytest.approx([g["mql_value"] for g in rows], rel=1e-12)
        lo = values(t.x) - values(t.error_x.arrayminus)
        hi = values(t.x) + values(t.error_x.array)
        assert lo == pytest.approx([g["mql_value_ci"][0] for g in rows], rel=1e-9)
        assert hi == pytest.approx([g["mql_value_ci"][1] for g in rows], rel=1e-9)
        axis = fig.layout["yaxis" + t.yaxis[1:]]
        assert list(axis.categoryarray) == list(t.y) and axis.autorange == "reversed"
        line = [s for s in fig.layout.shapes if s.name == f"{seg}: segment total"]
        assert len(line) == 1 and line[0].x0 == pytest.approx(totals[seg], rel=1e-12)
    assert not any("=" in str(y) for t in fig.data for y in t.y)


def test_attempts_charts_mark_n_star_the_band_and_the_data_horizon_from_the_json(
    report: tuple[Path, str, list[Any], dict[str, Any]],
) -> None:
    _, _, figs, data = report
    attempts = data["attempts"]
    charts = {f.layout.title.text.split(":")[0]: f for f in figs[2 : 2 + len(attempts["groups"])]}
    assert list(charts) == list(attempts["groups"])
    for name, g in attempts["groups"].items():
        fig = charts[name]
        by_name = {t.name: t for t in fig.data}
        table = g["table"]
        profit = by_name["profit Π(N) = V·F(N) − c·A(N)"]
        revenue, cost = by_name["revenue V·F(N) (model)"], by_name["cost c·A(N)"]
        observed = by_name["revenue V·F(N) (life table)"]
        assert values(profit.x).tolist() == [r["attempt"] for r in table]
        assert values(profit.y) == pytest.approx([r["expected_profit"] for r in table], rel=1e-9)
        # the profit curve is the revenue minus the cost, drawn both
        assert values(revenue.y) - values(cost.y) == pytest.approx(values(profit.y), abs=1e-6)
        assert values(observed.y) == pytest.approx(
            [g["value"] * r["cumulative_conversion"] for r in table], rel=1e-9
        )
        assert np.all(np.diff(values(cost.y)) >= 0)  # cumulative: never falls
        n = g["optimal_attempts"]
        label = f"N* = {n}" if g["identified"] else f"N* ≥ {n}"
        star = by_name[label]
        assert values(star.x).tolist() == [n]
        assert values(star.y)[0] == pytest.approx(table[n - 1]["expected_profit"], rel=1e-9)
        shapes = {s.name: s for s in fig.layout.shapes}
        assert shapes["N*"].x0 == shapes["N*"].x1 == n
        near = g["near_optimal"]
        if g["identified"] and len(near) > 1:
            band = shapes["near-optimal"]
            assert (band.x0, band.x1) == (near[0] - 0.5, near[-1] + 0.5)
            assert f"near-optimal: {near[0]}–{near[-1]}" in [a.text for a in fig.layout.annotations]
        else:
            assert "near-optimal" not in shapes
        horizon = g["max_attempts_supported"]
        start = horizon if g["identified"] else min(horizon, n)
        region = shapes["not identified"]
        assert region.x0 == start + 0.5 and region.x1 > region.x0
        assert region.x1 == fig.layout.xaxis.range[1]  # shaded to the chart's right edge
        assert "not identified" in [a.text for a in fig.layout.annotations]
        assert f"data to N = {horizon}" in fig.layout.xaxis.title.text
    assert any(not g["identified"] for g in attempts["groups"].values()), (
        "the demo has a lead type whose N* is not identified"
    )


def _visible_text(page: Any) -> str:
    """The page's visible text without code and preformatted blocks (hashes, SQL, JSON)."""
    text: str = page.inner_text("body")
    for block in page.locator("code, pre").all_inner_texts():
        text = text.replace(block, " ")
    return text


@pytest.mark.parametrize(
    ("page_name", "shot"),
    [("report.html", "charts-demo-report.png"), ("sla/sla.html", "charts-demo-sla.png")],
)
def test_pages_in_chromium_draw_every_chart_and_say_percentages(
    demo: tuple[Path, str], page_name: str, shot: str
) -> None:
    from playwright.sync_api import sync_playwright

    out, _ = demo
    path = out / page_name
    n_charts = path.read_text(encoding="utf-8").count('<div class="chart"')
    assert n_charts >= 5
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", lambda r: r.abort() if r.request.url.startswith("http")
                       else r.continue_())  # fmt: skip
            page.goto(path.as_uri())
            drawn = "document.querySelectorAll('.chart .js-plotly-plot .main-svg').length"
            page.wait_for_function(f"{drawn} >= {n_charts}", timeout=30_000)
            svg_text = "els => els.map(e => e.textContent)"
            titles = page.locator(".chart .gtitle").evaluate_all(svg_text)
            assert len(titles) == n_charts and all(titles), titles
            page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
            # the page's text, and the charts' (SVG: titles, ticks, labels, annotations)
            text = (
                _visible_text(page)
                + "\n"
                + "\n".join(page.locator(".chart svg text").evaluate_all(svg_text))
            )
        finally:
            browser.close()
    assert errors == [], errors
    raw = RAW_FRACTION.findall(text)
    assert raw == [], f"{page_name}: raw fractions where percentages are meant: {raw[:10]}"
    assert "%" in text
    assert (ARTIFACTS / shot).stat().st_size > 50_000


def test_report_pdf_pages_hold_every_chart_and_say_percentages(
    demo: tuple[Path, str], run_cli: RunCli, tmp_path: Path
) -> None:
    out, _ = demo
    assert shutil.which("pdftoppm"), "poppler-utils (pdftotext, pdftoppm) must be installed"
    html = tmp_path / "report.html"
    done = run_cli("report", out / "crm", "--out", html, "--pdf", "--no-png")
    assert done.returncode == 0, done.stderr + done.stdout
    pdf = tmp_path / "report.pdf"
    n_charts = html.read_text(encoding="utf-8").count('<div class="chart"')
    listed = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]  # fmt: skip
    images = [row for row in listed if row.split()[2] == "image"]  # not their alpha masks
    assert len(images) == n_charts  # every chart, as its PNG copy
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    raw = RAW_FRACTION.findall(text)
    assert raw == [], f"report.pdf: raw fractions where percentages are meant: {raw[:10]}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("charts-report-pdf-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf),
                    str(ARTIFACTS / "charts-report-pdf")], check=True)  # fmt: skip
    pages = sorted(ARTIFACTS.glob("charts-report-pdf-*.png"))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert len(pages) == int(re.search(r"Pages:\s+(\d+)", info.stdout)[1])  # type: ignore[index]
