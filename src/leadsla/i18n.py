"""Languages: English and Spanish, through Babel — the dashboard, the SLA document and the report.

Messages live in ``locales/LANG/LC_MESSAGES/leadsla.po`` (English is the source text); they are
compiled in memory on first use, so no binary catalog ships. Numbers, money, percentages and
dates are formatted for the locale by Babel (``1.234,5``, ``75,5 %`` and ``1.600 €`` in Spanish);
:mod:`leadsla.text` calls these for a language other than English.

>>> t = translations("es")
>>> t.gettext("Due and at risk")
'Vencen pronto y en riesgo'
>>> decimal(1234.5, "es", 1), percent(0.075, "es"), currency(1600, "EUR", "es")
('1.234,5', '7,5\\xa0%', '1.600\\xa0€')
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from babel import Locale

# Babel is imported where it is used: leadsla.text (every command's formats) imports this
# module, and English output never needs Babel, so ``leadsla --help`` does not load it.

__all__ = [
    "LANGUAGES",
    "currency",
    "decimal",
    "fmt_business_time",
    "fmt_date",
    "fmt_datetime",
    "fmt_money",
    "fmt_number",
    "gettext",
    "percent",
    "translations",
]

LANGUAGES = ("en", "es")
LOCALES = Path(__file__).parent / "locales"
CATALOG = "leadsla.po"
_LOCALE = {"en": "en_GB", "es": "es_ES"}


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The catalog of ``lang`` (English: the source text itself)."""
    po = LOCALES / lang / "LC_MESSAGES" / CATALOG
    if lang == "en" or not po.is_file():
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def gettext(lang: str) -> Callable[[str], str]:
    """``_`` for ``lang``: ``_ = gettext(lang); _("Sales")`` (identity in English)."""
    return translations(lang).gettext


@cache
def _loc(lang: str) -> Locale:
    from babel import Locale

    return Locale.parse(_LOCALE.get(lang, "en_GB"))


def decimal(x: float | int, lang: str, digits: int = 0) -> str:
    """A number with the locale's separators and ``digits`` decimals (``1.234,5`` in es)."""
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(x, format=pattern, locale=_loc(lang))


def significant(x: float, lang: str, digits: int = 4) -> str:
    """``x`` to ``digits`` significant digits (``0,01235`` in es)."""
    from babel.numbers import format_decimal

    return format_decimal(float(f"{x:.{digits}g}"), format="#,##0.##########", locale=_loc(lang))


def percent(x: float, lang: str, digits: int = 1) -> str:
    """A share as a percentage in the locale's own pattern (``7,5 %`` in es, ``7.5%`` in en)."""
    from babel.numbers import format_percent

    loc = _loc(lang)
    pattern = loc.percent_formats[None].pattern
    if digits:
        pattern = pattern.replace("#,##0", "#,##0." + "0" * digits, 1)
    return format_percent(x, format=pattern, locale=loc)


def separators(lang: str) -> str:
    """The decimal and the group separator (Plotly's ``layout.separators``): ``",."`` in es."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return get_decimal_symbol(_loc(lang)) + get_group_symbol(_loc(lang))


def currency(x: float, code: str, lang: str) -> str:
    """Whole units of the currency in the locale's pattern (``1.600 €`` in es)."""
    from babel.numbers import format_currency

    loc = _loc(lang)
    pattern = loc.currency_formats["standard"].pattern.split(";")[0].replace("#,##0.00", "#,##0")
    return format_currency(x, code, format=pattern, locale=loc, currency_digits=False)


def fmt_number(x: float | int | None, lang: str, digits: int = 0) -> str:
    return "–" if x is None else decimal(x, lang, digits)


def fmt_money(x: float | None, currency: str, lang: str) -> str:
    """Money in the currency, without cents from 1,000 up (the dashboard's cards)."""
    from babel.numbers import format_currency

    if x is None:
        return "–"
    pattern = "#,##0 ¤" if lang == "es" else "¤#,##0"
    if abs(x) < 1000:
        pattern = pattern.replace("#,##0", "#,##0.00")
    return format_currency(x, currency, format=pattern, locale=_loc(lang), currency_digits=False)


def fmt_datetime(t: datetime | None, tz: str, lang: str) -> str:
    """A local date and time, e.g. 'Tue 3 Mar 2026, 13:15 CET'."""
    from babel.dates import format_datetime

    if t is None:
        return "–"
    return format_datetime(t, "EEE d MMM y, HH:mm zzz", tzinfo=ZoneInfo(tz), locale=_loc(lang))


def fmt_date(d: date | datetime, lang: str, *, time: bool = False, zone: bool = False) -> str:
    """A date as the locale writes it (``1 mar 2025``), with ``time`` its hour and minute and
    with ``zone`` the time zone's abbreviation (``1 mar 2025, 12:05 CET``)."""
    from babel.dates import format_date, format_datetime

    if not time:
        return format_date(d, "d MMM y", locale=_loc(lang))
    assert isinstance(d, datetime)
    pattern = "d MMM y, HH:mm" + (" zzz" if zone else "")
    return format_datetime(d, pattern, tzinfo=d.tzinfo, locale=_loc(lang))


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
