"""``agree --lang es`` and ``report --lang es``: the SLA document and the report in Spanish.

One synthetic CRM (3,000 leads, the demo's settings) per module; ``agree`` runs once in each
language and ``report`` once in Spanish, all through the CLI. The Spanish pages must carry
Spanish headings and none of the English ones, show the JSON's numbers as Babel writes them for
``es_ES`` (an independent formatting: Babel called here, not our formatters), and leave the
policy file byte for byte as the English run writes it. The catalog test extracts every message
the documents use from the source (Babel's extractor) and requires a Spanish translation with
the same placeholders, so a new English string cannot ship untranslated.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from typer.testing import CliRunner

from leadsla.cli import app

SRC = Path(__file__).resolve().parents[1] / "src" / "leadsla"
PO = SRC / "locales" / "es" / "LC_MESSAGES" / "leadsla.po"
#: The modules whose messages the documents and the report show.
DOCUMENT_SOURCES = ("render/document.py", "render/report.py", "render/html.py",
                    "render/pdf.py", "render/lang.py", "render/charts.py",
                    "text.py")  # fmt: skip
NBSP = "\xa0"

#: English the Spanish pages must not contain: headings, sentences, labels of our own.
ENGLISH_SLA = (
    "## The agreement", "## Marketing\n\nPer ", "## Sales", "## Evidence", "## Data and method",
    "What could not be computed", "Marketing delivers", "Sales responds to every MQL",
    "worth", "each on average", "of marketing-originated revenue", "Drafted by",
    "Per segment (", "Risk buffer", "Influenced share", "In euros, the same promise",
    "First response: every MQL", "Then contact attempts", "Any other segment",
    "Capacity:", "MQL value (mature leads)", "Plan inputs", "Contact attempts (life table",
    "Speed to lead", "Recommended first response", "Targets on last period",
    "| segment |", "| group |", "close rate", "mean revenue", "95% interval",
    "calendar days", "contact attempts within", "of the MQL (unless", "Business calendar",
    "Attempt window rule", "Numbers in full precision", "Association, not cause",
    "leads are mature", "Cost per attempt", "business hours", "of last period's",
)  # fmt: skip
ENGLISH_REPORT = (
    "leadsla report", "Contents", ">Warnings<", ">Data<", "The plan in euros",
    "How many contact attempts pay", "Speed to lead", "The SLA commitments",
    "Compliance with the SLA", "Compliance to date", "What to act on first",
    "What each number rests on", "Rows read, used and excluded", "Leads by segment and status",
    "Life table:", "First breaches", "By segment", "Show all", "Not computed:",
    "MQL value = close rate", "mean revenue", "close rate", "first attempt within",
    "risk ratio", "Marketing delivers", "Sales: first response", "MQLs delivered against",
    "of decided SLA clocks met", "leads created", "as of", "Association, not cause",
)  # fmt: skip
SPANISH_SLA = ("## El acuerdo", "## Marketing", "## Ventas", "## Evidencia",
               "## Datos y método", "### Valor del MQL (leads maduros)",
               "### Velocidad de respuesta")  # fmt: skip
SPANISH_REPORT = ("Informe de leadsla", "El acuerdo", "Valor del MQL", "El plan en euros",
                  "Cuántos intentos de contacto compensan", "Velocidad de respuesta",
                  "Los compromisos del SLA", "Cumplimiento del SLA", "Datos",
                  "Cumplimiento hasta la fecha")  # fmt: skip


@dataclass
class Runs:
    en: Path
    es: Path
    agreement: dict[str, Any]  # agree --lang es --format json
    report: Path


def cli(*args: str | Path) -> str:
    r = CliRunner().invoke(app, [str(a) for a in args])
    assert r.exit_code == 0, (r.output, r.exception)
    return r.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    from leadsla import synth
    from leadsla.cli.demo import DEMO_SETTINGS

    root = tmp_path_factory.mktemp("i18n")
    crm = root / "crm"
    synth.generate(crm, leads=3_000, seed=5, as_of="2026-06-30T18:00:00+02:00")
    (crm / "leadsla.toml").write_text(DEMO_SETTINGS, encoding="utf-8")
    cli("agree", crm, "--bootstrap", "200", "--out", root / "en", "--format", "json")
    agreement = json.loads(cli("agree", crm, "--bootstrap", "200", "--out", root / "es",
                               "--lang", "es", "--pdf", "--format", "json"))  # fmt: skip
    report = root / "report-es.html"
    cli("report", crm, "--bootstrap", "200", "--out", report, "--no-png", "--lang", "es",
        "--policy", root / "en" / "sla.toml")  # fmt: skip
    return Runs(root / "en", root / "es", agreement, report)


def visible(page: str) -> str:
    """The text a reader sees: scripts (Plotly, the embedded JSON) dropped, tags dropped,
    entities decoded, runs of white space as one space (no-break spaces kept)."""
    page = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return re.sub(r"[ \t\r\n]+", " ", text)


def embedded(page: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="leadsla-data">(.*?)</script>', page,
                  re.S)  # fmt: skip
    assert m is not None
    data: dict[str, Any] = json.loads(m.group(1).replace("<\\/", "</"))
    return data


def prose(data: Any) -> list[str]:
    """The sentences the analyses write into their JSON (bases, explanations, warnings):
    English by design (the JSON is the same in every language), longest first."""
    out: set[str] = set()

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, str) and " " in x.strip() and len(x) >= 12:
            out.add(" ".join(x.split()))

    walk(data)
    return sorted(out, key=len, reverse=True)


def ours(text: str, data: Any) -> str:
    """``text`` without the analyses' own sentences: what the page's templates wrote."""
    for sentence in prose(data):
        text = text.replace(sentence, " ")
        text = text.replace(sentence[0].upper() + sentence[1:], " ")
    return text


def es_money(x: float) -> str:
    """Whole euros as Babel writes them for es_ES: "1.717 €"."""
    return format_decimal(round(x), locale="es_ES") + NBSP + "€"


def es_pct(x: float) -> str:
    """A share with one decimal as Babel writes it for es_ES: "66,6 %"."""
    return format_percent(x, format="#,##0.0" + NBSP + "%", locale="es_ES")


def test_agree_es_writes_the_document_in_spanish(runs: Runs) -> None:
    md = (runs.es / "sla.md").read_text(encoding="utf-8")
    for heading in SPANISH_SLA:
        assert heading in md, heading
    left = [p for p in ENGLISH_SLA if p in ours(md, runs.agreement)]
    assert not left, f"English left in sla.md: {left}"
    page = (runs.es / "sla.html").read_text(encoding="utf-8")
    assert page.startswith('<!DOCTYPE html>\n<html lang="es">')
    text = visible(page)
    for heading in ("El acuerdo", "Marketing", "Ventas", "Evidencia", "Datos y método",
                    "Contenido"):  # fmt: skip
        assert f" {heading} " in text, heading
    left = [p for p in ENGLISH_SLA if not p.startswith("#") and p in ours(text, runs.agreement)]
    assert not left, f"English left in sla.html: {left}"
    # the page embeds the same agreement the JSON prints
    assert embedded(page)["agreement"]["marketing"] == runs.agreement["marketing"]


def test_agree_es_numbers_are_the_json_in_spanish_format(runs: Runs) -> None:
    a = runs.agreement
    m = a["marketing"]
    md = (runs.es / "sla.md").read_text(encoding="utf-8")
    first = next(line for line in md.splitlines() if line.startswith("- Marketing entrega"))
    mqls = format_decimal(m["mqls"], locale="es_ES")
    assert first.startswith(
        f"- Marketing entrega {mqls} MQL por mes, que valen {es_money(m['mql_value_eur'])} "
        f"cada uno de media: {es_money(m['revenue_responsibility_eur'])} de ingresos "
        f"originados por marketing ({es_pct(m['originated_share']['value'])} de la cuota de "
        f"{es_money(m['quota_eur'])})."
    ), first
    assert m["mql_value_eur"] >= 1000, "the test needs a value with a thousands separator"
    assert f"{round(m['mql_value_eur']):,} EUR" not in md  # no English money left
    # per-segment rows: MQLs, MQL value, value, mix share in Spanish form
    for t in m["segments"]:
        row = (f"| {t['segment']} | {format_decimal(t['mqls'], locale='es_ES')} | "
               f"{es_money(t['mql_value_eur'])} | {es_money(t['value_eur'])} | "
               f"{es_pct(t['mix_share'])} |")  # fmt: skip
        assert row in md, row
    # the data's window and the as-of date in Spanish (es_ES medium-style "30 jun 2026")
    as_of = a["as_of"][:10]
    from datetime import date

    day = format_date(date.fromisoformat(as_of), "d MMM y", locale="es_ES")
    assert f"a fecha de {day}" in md
    # the first-response target, reworded: hours in Spanish, never the English words
    s = a["sales"]
    if s["first_response_history"]:
        h = s["first_response_history"]
        assert (f"el {es_pct(h['met'] / h['leads'])} de los "
                f"{format_decimal(h['leads'], locale='es_ES')} leads del último periodo lo "
                "cumplió") in md  # fmt: skip


def test_agree_es_pdf_is_spanish(runs: Runs) -> None:
    assert shutil.which("pdftotext"), "poppler-utils (pdftotext) must be installed"
    pdf = runs.es / "sla.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    pages = [" ".join(p.split()) for p in text.split("\f") if p.strip()]
    first = pages[0]
    assert "El acuerdo" in first and "En qué se basa cada cifra" in first
    assert "Por marketing" in first and "Firma" in first and "Fecha" in first
    mqls = format_decimal(runs.agreement["marketing"]["mqls"], locale="es_ES")
    assert f"Marketing entrega {mqls} MQL por mes" in first
    sha = runs.agreement["data"]["sha256"]
    for i, page in enumerate(pages, 1):
        assert f"SHA-256 de los datos {sha}" in page, i
        assert f"Página {i} de {len(pages)}" in page, i
        for english in ("The agreement", "Signature", "Page ", "Data SHA-256"):
            assert english not in page, (i, english)


def test_the_policy_file_is_the_same_in_both_languages(runs: Runs) -> None:
    en = (runs.en / "sla.toml").read_bytes()
    assert en == (runs.es / "sla.toml").read_bytes()
    assert b"El acuerdo" not in en


def test_report_es_is_spanish(runs: Runs) -> None:
    page = runs.report.read_text(encoding="utf-8")
    assert page.startswith('<!DOCTYPE html>\n<html lang="es">')
    text = visible(page)
    for heading in SPANISH_REPORT:
        assert heading in text, heading
    text = ours(text, embedded(page))
    left = [p for p in ENGLISH_REPORT if p in (page if p.startswith(">") else text)]
    assert not left, f"English left in the report: {left}"
    h2 = re.findall(r"<h2[^>]*>(.*?)</h2>", re.sub(r"<script.*?</script>", "", page, flags=re.S))
    assert [html.unescape(h) for h in h2 if h != "El acuerdo"] == [
        "Datos", "Valor del MQL", "El plan en euros", "Cuántos intentos de contacto compensan",
        "Velocidad de respuesta", "Los compromisos del SLA", "Cumplimiento del SLA", "Avisos",
    ]  # fmt: skip


def test_report_es_numbers_are_the_json_in_spanish_format(runs: Runs) -> None:
    page = runs.report.read_text(encoding="utf-8")
    data = embedded(page)
    text = visible(page)
    m = data["sla"]["agreement"]["marketing"]
    plan = data["plan"]
    mqls = format_decimal(plan["mqls_required"], locale="es_ES")
    assert f"{mqls} MQL por mes para " in text
    assert (f"con un valor del MQL de {format_decimal(round(plan['mql_value']), locale='es_ES')}"
            in text)  # fmt: skip
    assert f"que valen {es_money(m['mql_value_eur'])} cada uno de media" in text
    # the compliance table: counts with Spanish separators, compliance as Babel's percent
    leads = data["compliance"]["leads"]
    row = ("todas las reglas de ventas " + " ".join(
        format_decimal(leads[k], locale="es_ES") for k in ("met", "breached", "pending"))
        + f" {es_pct(leads['compliance'])}")  # fmt: skip
    assert row in text, row
    # the value table's first close rate and the summary's lead count
    n = data["data"]["summary"]["leads"]
    assert f"{format_decimal(n, locale='es_ES')} leads creados del " in text


#: English words a Spanish chart's title, axis titles, annotations (subplot titles among them)
#: and legend must not show.
ENGLISH_CHART = ("MQL value by", "mature leads", "close rate", "per lead", "attempts N",
                 "attempt k", "knee", "band", "naive cohort", "win hazard", "business time",
                 "model (", "target:", "today's p90", "SLA per", "quota", "won deals",
                 "MQLs required", "segment total", "overall", "share", "day", "days",
                 "MQL value per", "per campaign", "per segment", "sorted", "bars", "interval",
                 "all leads", "dashed", "every group", "no group", "revenue", "cost", "profit",
                 "per attempt", "by attempts", "data to", "at least", "leads at risk",
                 "workspace currency", "near-optimal", "not identified", "posterior band",
                 "(model)", "life table", "bound shown", "not told apart")  # fmt: skip


def charts(page: str) -> list[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Every Plotly chart of the page: (traces, layout)."""
    found = re.findall(r'Plotly\.newPlot\(\s*"chart-\d+",\s*(\[.*?\]),\s*(\{.*?\})\s*,'
                       r'\s*\{"displaylogo', page, re.S)  # fmt: skip
    return [(json.loads(d), json.loads(lay)) for d, lay in found]


def assert_spanish_charts(found: list[tuple[list[dict[str, Any]], dict[str, Any]]]) -> None:
    """No chart shows an English word of :data:`ENGLISH_CHART` where a reader sees it."""
    for traces, layout in found:
        assert layout["separators"] == ",.", "numbers with a decimal comma"
        words = [layout["title"]["text"]]
        for key, axis in layout.items():
            if re.fullmatch(r"[xy]axis\d*", key):
                words.append(axis.get("title", {}).get("text", ""))
                words += axis.get("ticktext", [])
        words += [note.get("text", "") for note in layout.get("annotations", [])]
        for t in traces:
            words.append(t.get("name") or "")
            if t.get("type") == "funnel":
                words += t["y"] + t["text"]
        text = " | ".join(words)
        left = [w for w in ENGLISH_CHART if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]
        assert not left, (left, text)


def test_report_es_charts_are_spanish(runs: Runs) -> None:
    found = charts(runs.report.read_text(encoding="utf-8"))
    assert len(found) >= 6, len(found)
    assert_spanish_charts(found)
    titles = [lay["title"]["text"] for _, lay in found]
    assert any(t.startswith("Valor del MQL por campaña y segmento, ordenado") for t in titles)
    assert sum(": ingresos, coste y beneficio por lead según los intentos (c = " in t
               for t in titles) == len(embedded(runs.report.read_text(encoding="utf-8"))
                                        ["attempts"]["groups"]), titles  # fmt: skip
    assert any(t.startswith("Tasa de cierre según el tiempo hábil") for t in titles), titles
    plan = next(t for traces, _ in found for t in traces if t.get("type") == "funnel")
    stages = dict(zip(plan["y"], plan["text"], strict=True))
    mqls = embedded(runs.report.read_text(encoding="utf-8"))["plan"]["mqls_required"]
    assert stages["MQL requeridos"] == format_decimal(mqls, locale="es_ES")
    assert stages["cuota"] == format_decimal(400_000, locale="es_ES")


def test_agree_es_charts_are_spanish(runs: Runs) -> None:
    """sla.html draws the plan, value, speed and per-lead-type economics charts: all Spanish."""
    found = charts((runs.es / "sla.html").read_text(encoding="utf-8"))
    assert len(found) >= 4, len(found)
    assert_spanish_charts(found)
    titles = [lay["title"]["text"] for _, lay in found]
    assert any(t.startswith("Valor del MQL por campaña") for t in titles), titles


def test_unknown_language_is_a_usage_error_naming_the_choices(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["agree", str(tmp_path), "--lang", "fr"])
    assert r.exit_code == 2
    out = " ".join(r.output.split())
    assert "--lang" in out and "'fr'" in out and "'en'" in out and "'es'" in out, out
    assert "Traceback" not in r.output


def test_the_cli_languages_are_the_catalogs() -> None:
    from leadsla.cli.options import Language
    from leadsla.i18n import LANGUAGES, LOCALES

    assert tuple(x.value for x in Language) == LANGUAGES
    for lang in LANGUAGES[1:]:
        assert (LOCALES / lang / "LC_MESSAGES" / "leadsla.po").is_file(), lang


def _catalog() -> dict[str, str]:
    with PO.open("rb") as f:
        cat = read_po(f, locale="es")
    return {str(m.id): str(m.string) for m in cat if m.id}


def test_every_document_message_has_a_spanish_translation() -> None:
    """Babel extracts ``_()`` and ``N_()`` from the documents' modules; each message needs a
    non-empty translation keeping its ``{placeholders}``."""
    es = _catalog()
    found: dict[str, str] = {}
    for name in DOCUMENT_SOURCES:
        for lineno, message, _c, _ctx in extract_from_file(
            "python", SRC / name, keywords={"_": None, "N_": None}
        ):
            assert isinstance(message, str), (name, lineno, message)
            found.setdefault(message, f"{name}:{lineno}")
    assert len(found) > 250, "the extractor found too few messages: is it reading _()?"
    missing = [f"{where}: {m!r}" for m, where in found.items() if not es.get(m)]
    assert not missing, "untranslated:\n" + "\n".join(missing)
    placeholders = re.compile(r"\{\w*\}")
    broken = [m for m in found if sorted(placeholders.findall(m)) !=
              sorted(placeholders.findall(es[m]))]  # fmt: skip
    assert not broken, broken


def test_no_message_hides_inside_an_f_string() -> None:
    """Babel's extractor does not read ``_()`` inside an f-string's braces: keep them out."""
    inside = re.compile(r"""\bf(["'])[^"']*\{[^}]*\b_\(""")
    hits = [f"{name}:{i}" for name in DOCUMENT_SOURCES
            for i, line in enumerate((SRC / name).read_text(encoding="utf-8").splitlines(), 1)
            if inside.search(line)]  # fmt: skip
    assert not hits, hits


def test_the_analyses_labels_are_translated() -> None:
    """The speed analysis's buckets, thresholds, candidate targets and caveat show in Spanish."""
    from leadsla.analysis.speed import BUCKETS, CAVEAT, _thresholds, candidates_for
    from leadsla.clock import BusinessCalendar
    from leadsla.render.lang import Lang

    es = Lang("es")
    cal = BusinessCalendar.from_config({"time_zone": "Europe/Berlin",
                                        "hours": "Mon-Fri 09:00-18:00"})  # fmt: skip
    labels = [*BUCKETS, CAVEAT, *(t for _, t in _thresholds(540.0)),
              *(c.text for c in candidates_for(cal)), "within 3 business days"]  # fmt: skip
    numeric = {"<5 min", "5–30 min", "30–60 min", "5 min", "30 min"}  # the same in Spanish
    same = [x for x in labels if es.phrase(x) == x and x not in numeric]
    assert not same, same
    assert es.phrase("within 3 business days") == "en 3 días hábiles"


def test_text_formats_in_spanish_call_babel_and_english_stays() -> None:
    """leadsla.text in Spanish is Babel's es_ES form; English keeps its own (the goldens')."""
    from leadsla.text import hours_text, money, money_in, money_range, number, pct, pct_range

    assert money(98_765.4, lang="es") == format_decimal(98_765, locale="es_ES") == "98.765"
    assert money(98_765.4) == "98,765"
    assert money(1_234_567, lang="es") == "1,23M" and money(1_234_567) == "1.23M"
    assert pct(0.075, lang="es") == es_pct(0.075) == f"7,5{NBSP}%"
    assert pct(0.075) == "7.5%"
    assert pct(0.0123, fine=True, lang="es") == f"1,23{NBSP}%"
    assert pct_range(0.07489, 0.09052, lang="es") == f"7,5–9,1{NBSP}%"
    assert money_range(562.8, 3641.2, lang="es") == "563–3.641"
    assert money_in(1600, "EUR", lang="es") == es_money(1600) and money_in(1600, "EUR") == (
        "1,600 EUR"
    )
    assert number(12345.6, lang="es") == "12.346" and number(0.012345, lang="es") == "0,01235"
    assert number(True, lang="es") == "sí" and number(True) == "yes"
    assert hours_text(1.0, exact=True, lang="es") == "1 hora hábil"
    assert hours_text(7.5, lang="es") == "7 h 30 min (hábiles)"
    assert hours_text(7.5) == "7 h 30 min (business)"
    assert pct(None, lang="es") == "–" and money(float("nan"), lang="es") == "–"
