"""Numbers as text: the one money, percent, number and duration format of every output.

They sit at the bottom layer because analysis explanations and the SLA's headline (both in the
JSON) are text too; tables, documents and charts use the same functions. With ``lang`` other
than English they write the locale's form through Babel (:mod:`leadsla.i18n`): ``1.234``,
``7,5 %``; English keeps the forms below.
"""

from __future__ import annotations

import math
from typing import Any

from leadsla import i18n


def money(x: float | None, /, *, exact: bool = False, lang: str = "en") -> str:
    """Euros: whole up to 100,000, then 123.5k and 1.23M; ``exact`` always whole euros.

    >>> money(98_765.4), money(123_456), money(1_234_567), money(123_456, exact=True)
    ('98,765', '123.5k', '1.23M', '123,456')
    >>> money(None), money(float("nan"))
    ('–', '–')
    >>> money(98_765.4, lang="es"), money(1_234_567, lang="es")
    ('98.765', '1,23M')
    """
    if x is None or not math.isfinite(x):
        return "–"

    def fixed(v: float, digits: int) -> str:  # one rule below, the language's separators
        if lang == "en":
            return f"{v:,.{digits}f}"
        return i18n.decimal(v if digits else round(v), lang, digits)

    if not exact and abs(x) >= 1e6:
        return f"{fixed(x / 1e6, 2)}M"
    if not exact and abs(x) >= 1e5:
        return f"{fixed(x / 1e3, 1)}k"
    return fixed(x, 0)


def pct(x: float | None, /, *, fine: bool = False, lang: str = "en") -> str:
    """A rate as a percentage, "–" when missing; ``fine`` gives two decimals below 10%.

    >>> pct(0.1234), pct(0.0123), pct(0.0123, fine=True), pct(None)
    ('12.3%', '1.2%', '1.23%', '–')
    >>> pct(0.075, lang="es")
    '7,5\xa0%'
    """
    if x is None or not math.isfinite(x):
        return "–"
    digits = 2 if fine and 0 < x < 0.1 else 1
    return f"{x:.{digits}%}" if lang == "en" else i18n.percent(x, lang, digits)


def pct_range(lo: float | None, hi: float | None, /, *, lang: str = "en") -> str:
    """An interval of rates: "7.5–9.1%".

    >>> pct_range(0.07489, 0.09052), pct_range(0.0, 0.1332), pct_range(None, 0.2)
    ('7.5–9.1%', '0.0–13.3%', '–')
    """
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "–"
    if lang != "en":
        return i18n.decimal(lo * 100, lang, 1) + "–" + i18n.percent(hi, lang, 1)
    return f"{lo * 100:.1f}–{hi * 100:.1f}%"


def money_range(lo: float | None, hi: float | None, /, *, lang: str = "en") -> str:
    """An interval of money in one format: "563–3,641", "98,000–123.5k".

    >>> money_range(562.8, 3641.2), money_range(None, 1.0)
    ('563–3,641', '–')
    """
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return "–"
    return f"{money(lo, lang=lang)}–{money(hi, lang=lang)}"


def number(v: Any, /, *, lang: str = "en") -> str:
    """Any cell value: integers with separators, floats to 4 significant digits below 1.

    >>> number(1234), number(0.012345), number(12.345), number(12345.6), number(True)
    ('1,234', '0.01235', '12.35', '12,346', 'yes')
    >>> number(None), number([1, 2.5])
    ('–', '[1, 2.50]')
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if lang != "en":
        return _number_in(v, lang)
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(number(x) for x in v) + "]"
    return str(v)


def _number_in(v: Any, lang: str) -> str:
    """:func:`number` in another language: the same rules, the locale's separators."""
    if isinstance(v, bool):
        return i18n.gettext(lang)("yes" if v else "no")
    if isinstance(v, int):
        return i18n.decimal(v, lang)
    if isinstance(v, float):
        if abs(v) < 1:
            return i18n.significant(v, lang, 4)
        return i18n.decimal(v, lang, 2 if abs(v) < 1000 else 0)
    if isinstance(v, list | tuple):
        return "[" + "; ".join(number(x, lang=lang) for x in v) + "]"
    return str(v)


def money_in(x: float | None, currency: str, /, *, lang: str = "en") -> str:
    """Whole units with the currency: ``1,600 EUR`` in English, ``1.600 €`` in Spanish.

    >>> money_in(1600, "EUR"), money_in(1600, "EUR", lang="es"), money_in(None, "EUR")
    ('1,600 EUR', '1.600\xa0€', '– EUR')
    """
    if lang != "en" and x is not None and math.isfinite(x):
        return i18n.currency(round(x), currency, lang)
    return f"{money(x, exact=True)} {currency}"


def hours_text(hours: float | None, /, *, exact: bool = False, lang: str = "en") -> str:
    """A duration in business hours, rounded to the minute; ``exact`` says whole hours and
    whole minutes as such (as the SLA states a target).

    >>> hours_text(0.0833), hours_text(4.0), hours_text(7.5), hours_text(None)
    ('5 business min', '4 business hours', '7 h 30 min (business)', '–')
    >>> hours_text(1.0, exact=True), hours_text(0.5, exact=True), hours_text(9.2167, exact=True)
    ('1 business hour', '30 business minutes', '9 h 13 min (business)')
    """
    if hours is None or not math.isfinite(hours):
        return "–"
    if lang != "en":
        return _hours_in(hours, exact, lang)
    if exact:
        if float(hours).is_integer():
            return f"{hours:g} business hour" + ("" if hours == 1 else "s")
        if hours < 1 and math.isclose(hours * 60, round(hours * 60), abs_tol=0.01):
            return f"{round(hours * 60)} business minutes"
    minutes = round(hours * 60)
    if minutes < 60:
        return f"{minutes} business min"
    h, m = divmod(minutes, 60)
    return f"{h} business hours" if m == 0 else f"{h} h {m} min (business)"


def _hours_in(hours: float, exact: bool, lang: str) -> str:
    """:func:`hours_text` in another language (the catalog's words, the locale's numbers)."""
    _ = i18n.gettext(lang)
    if exact:
        if float(hours).is_integer():
            n = i18n.decimal(hours, lang)
            return (_("{n} business hour") if hours == 1 else _("{n} business hours")).format(n=n)
        if hours < 1 and math.isclose(hours * 60, round(hours * 60), abs_tol=0.01):
            return _("{n} business minutes").format(n=round(hours * 60))
    minutes = round(hours * 60)
    if minutes < 60:
        return _("{n} business min").format(n=minutes)
    h, m = divmod(minutes, 60)
    if m == 0:
        return _("{n} business hours").format(n=i18n.decimal(h, lang))
    return _("{h} h {m} min (business)").format(h=h, m=m)
