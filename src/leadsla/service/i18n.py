"""The dashboard's languages: English and Spanish, through Babel.

Messages live in ``locales/LANG/LC_MESSAGES/leadsla.po`` (English is the source text); they are
compiled in memory on first use, so no binary catalog ships. Numbers, money, percentages and
dates are formatted for the locale by Babel (``1.234,5`` and ``75 %`` in Spanish).

>>> t = translations("es")
>>> t.gettext("Due and at risk")
'Vencen pronto y en riesgo'
>>> fmt_percent(0.755, "es"), fmt_percent(0.755, "en")
('75,5%', '75.5%')
"""

from __future__ import annotations

import gettext
import io
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

__all__ = [
    "LANGUAGES",
    "fmt_business_time",
    "fmt_datetime",
    "fmt_money",
    "fmt_number",
    "fmt_percent",
    "translations",
]

LANGUAGES = ("en", "es")
LOCALES = Path(__file__).parent / "locales"
_LOCALE = {"en": "en_GB", "es": "es_ES"}


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` (English: the source text itself)."""
    po = LOCALES / lang / "LC_MESSAGES" / "leadsla.po"
    if lang == "en" or not po.is_file():
        return gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def _loc(lang: str) -> Locale:
    return Locale.parse(_LOCALE.get(lang, "en_GB"))


def fmt_number(x: float | int | None, lang: str, digits: int = 0) -> str:
    if x is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(x, format=pattern, locale=_loc(lang))


def fmt_percent(x: float | None, lang: str) -> str:
    """A share as a percentage with one decimal."""
    if x is None:
        return "–"
    return format_percent(x, format="#,##0.0%", locale=_loc(lang))


def fmt_money(x: float | None, currency: str, lang: str) -> str:
    """Money in the currency, without cents from 1,000 up."""
    if x is None:
        return "–"
    pattern = "#,##0 ¤" if lang == "es" else "¤#,##0"
    if abs(x) < 1000:
        pattern = pattern.replace("#,##0", "#,##0.00")
    return format_currency(x, currency, format=pattern, locale=_loc(lang), currency_digits=False)


def fmt_datetime(t: datetime | None, tz: str, lang: str) -> str:
    """A local date and time, e.g. 'Tue 3 Mar 2026, 13:15 CET'."""
    if t is None:
        return "–"
    return format_datetime(t, "EEE d MMM y, HH:mm zzz", tzinfo=ZoneInfo(tz), locale=_loc(lang))


def fmt_business_time(seconds: float, lang: str) -> str:
    """Business time left (negative: overdue) as people say it: '45 min', '3 h 10 min'.

    >>> fmt_business_time(2700, "en"), fmt_business_time(-11400, "es")
    ('45 min', '−3 h 10 min')
    """
    sign = "−" if seconds < 0 else ""
    s = abs(int(round(seconds)))
    h, rem = divmod(s, 3600)
    m = rem // 60
    if h == 0:
        return f"{sign}{m} min"
    return f"{sign}{h} h {m} min" if m else f"{sign}{h} h"
