"""The SLA document and the report as PDFs (``agree --pdf``, ``report --pdf``): the file
opens, the agreement and the signature block are on page 1, every page carries the data's
SHA-256 and its page number; pages rendered to PNG (pdftoppm) are kept as artifacts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import ARTIFACTS, RunCli


def _pages(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    n = int(re.search(r"Pages:\s+(\d+)", info.stdout)[1])  # type: ignore[index]
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(pdf), "-"],
            capture_output=True, text=True, check=True,
        ).stdout
        for i in range(1, n + 1)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from leadsla import synth

    d = tmp_path_factory.mktemp("pdfcrm")
    synth.generate(d, leads=6000, seed=11, as_of="2026-06-30T18:00:00+02:00")
    return d


def test_agree_pdf_has_the_agreement_on_page_1_and_the_hash_on_every_page(
    crm: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    assert shutil.which("pdftotext"), "poppler-utils (pdftotext, pdftoppm) must be installed"
    out = tmp_path / "sla"
    done = run_cli("agree", crm, "--quota", "400000", "--originated-share", "0.4",
                   "--bootstrap", "200", "--out", out, "--pdf", "--format", "json")  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    agreement = json.loads(done.stdout)
    sha = agreement["data"]["sha256"]
    pdf = out / "sla.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    pages = _pages(pdf)
    assert len(pages) >= 2
    first = pages[0]
    assert "The agreement" in first and "What each number rests on" in first
    assert "For marketing" in first and "For sales" in first and "Signature" in first
    mqls = agreement["marketing"]["mqls"]
    assert f"Marketing delivers {mqls:,} MQLs per month" in " ".join(first.split())
    for i, page in enumerate(pages, 1):
        flat = " ".join(page.split())
        assert f"Data SHA-256 {sha}" in flat, f"page {i} lacks the data hash"
        assert f"Page {i} of {len(pages)}" in flat
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("sla-pdf-page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "2", str(pdf),
                    str(ARTIFACTS / "sla-pdf-page")], check=True)  # fmt: skip
    # pdftoppm pads the page number to the width of the page count: -1.png, -01.png
    assert len(list(ARTIFACTS.glob("sla-pdf-page-*.png"))) == 2


def test_report_pdf_opens_with_every_section(crm: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "report.html"
    done = run_cli("report", crm, "--quota", "400000", "--originated-share", "0.4",
                   "--bootstrap", "200", "--out", out, "--pdf", "--no-png")  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    pdf = tmp_path / "report.pdf"
    pages = _pages(pdf)
    text = " ".join(" ".join(pages).split())
    assert "The agreement" in " ".join(pages[0].split())
    for title in ("MQL value", "How many contact attempts pay", "Speed to lead"):
        assert title in text, title
    sha = re.search(r"Data SHA-256 ([0-9a-f]{64})", text)
    assert sha and all(sha[1] in " ".join(p.split()) for p in pages)


class _Cells(HTMLParser):
    """The text of every table cell, and where the first chart stands."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._in = False
        self._buf: list[str] = []
        self.pos = 0
        self.first_chart: int | None = None
        self.first_table: int | None = None
        self.exec_at: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.pos += 1
        cls = dict(attrs).get("class") or ""
        if tag == "div" and "chart" in cls.split() and self.first_chart is None:
            self.first_chart = self.pos
        if tag == "div" and "exec" in cls.split() and self.exec_at is None:
            self.exec_at = self.pos
        if tag == "table" and self.first_table is None:
            self.first_table = self.pos
        if tag in ("td", "th"):
            self._in, self._buf = True, []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._in:
            self.cells.append("".join(self._buf).strip())
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self._buf.append(data)


def test_report_reads_as_people_read_numbers(crm: Path, tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "report.html"
    done = run_cli("report", crm, "--quota", "400000", "--originated-share", "0.4",
                   "--bootstrap", "200", "--out", out, "--no-png")  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    page = out.read_text(encoding="utf-8")
    p = _Cells()
    p.feed(page)
    raw = [c for c in p.cells if re.fullmatch(r"-?0\.\d{3,}", c) or c.startswith("[0.")]
    assert raw == [], f"raw fractions where percentages are meant: {raw[:10]}"
    # the executive page comes first: the agreement box before any table or chart
    assert p.exec_at is not None and p.first_table is not None and p.first_chart is not None
    assert p.exec_at < p.first_table and p.exec_at < p.first_chart
    assert "What to act on first" in page or "Compliance to date" in page
    # the value table's rates are the command's JSON, as percentages with one decimal
    data = json.loads(
        re.search(r'id="leadsla-data">(.*?)</script>', page, re.S)[1].replace("<\\/", "</")  # type: ignore[index]
    )
    for g in data["value"]["groups"][:5]:
        assert f"{g['close_rate']:.1%}" in p.cells
    assert "business h<" not in page  # the headline says hours as people do
