"""The language of a rendered page: its messages (the Babel catalog) and its number, money and
date formats. English keeps the forms the documents have always had (``1,600 EUR``,
``2025-03-01 12:00``); Spanish takes Babel's (``1.600 €``, ``1 mar 2025, 12:00``).

>>> es = Lang("es")
>>> es._("The agreement"), es.n(16000), es.cur(1600, "EUR"), es.pct(0.075)
('El acuerdo', '16.000', '1.600\\xa0€', '7,5\\xa0%')
>>> en = Lang()
>>> en._("The agreement"), en.n(16000), en.cur(1600, "EUR"), en.pct(0.075)
('The agreement', '16,000', '1,600 EUR', '7.5%')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from leadsla import i18n
from leadsla.text import money, money_in, number, pct


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it here (Babel extracts ``N_``)."""
    return message


#: Words that arrive as data (the quota's period, the rules' names) and are shown translated.
WORDS = (N_("month"), N_("quarter"), N_("yes"), N_("no"))

#: The analyses' fixed labels (speed buckets, effect thresholds, first-response targets), which
#: the documents show translated (tests/test_i18n_documents.py holds them to the analysis).
LABELS = (
    N_("<5 min"), N_("5–30 min"), N_("30–60 min"), N_("1–4 business hours"),
    N_("4 h–end of business day"), N_("1–3 business days"), N_("≥3 business days"),
    N_("never"), N_("5 min"), N_("30 min"), N_("1 business hour"), N_("4 business hours"),
    N_("one business day"), N_("within 5 minutes"), N_("within 15 minutes"),
    N_("within 30 minutes"), N_("within 1 business hour"), N_("within 2 business hours"),
    N_("within 4 business hours"), N_("same business day"), N_("next business day by 12:00"),
    N_("on the same business day"), N_("by 12:00 on the next business day"),
)  # fmt: skip

#: Labels with a number in them: the pattern and the message it becomes.
PATTERNS = (
    (re.compile(r"within (?P<n>\d+) minutes"), N_("within {n} minutes")),
    (re.compile(r"within (?P<n>\d+) business hours?"), N_("within {n} business hours")),
    (re.compile(r"within (?P<n>\d+) business days?"), N_("within {n} business days")),
    (re.compile(r"within (?P<n>\d+) business min(?:utes)?"), N_("within {n} business minutes")),
    (re.compile(r"within (?P<h>\d+) h (?P<m>\d+) min \(business\)"),
     N_("within {h} h {m} min (business)")),
)  # fmt: skip


@dataclass(frozen=True)
class Lang:
    """``Lang("es")._("Sales")`` → ``"Ventas"``; ``.n``, ``.pct``, ``.cur`` format in the locale."""

    code: str = "en"
    _: Callable[[str], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_", i18n.gettext(self.code))

    @property
    def en(self) -> bool:
        return self.code == "en"

    def n(self, x: float | int, digits: int = 0) -> str:
        """A count or an amount with separators (``16,000``; ``16.000``)."""
        if self.en:
            return f"{x:,}" if isinstance(x, int) else f"{x:,.{digits}f}"
        return i18n.decimal(x, self.code, digits)

    def g(self, x: float) -> str:
        """A number written short (Python's ``g``: ``6``, ``7.5``)."""
        return f"{x:g}" if self.en else i18n.significant(x, self.code, 6)

    def pct(self, x: float | None, *, fine: bool = False) -> str:
        return pct(x, fine=fine, lang=self.code)

    def eur(self, x: float | None) -> str:
        """Whole money, no currency (the SLA states exact amounts)."""
        return money(x, exact=True, lang=self.code)

    def cur(self, x: float | None, currency: str) -> str:
        """Whole money with the currency."""
        return money_in(x, currency, lang=self.code)

    def num(self, x: Any) -> str:
        """Any cell value (:func:`leadsla.text.number`)."""
        return number(x, lang=self.code)

    def ratio(self, x: float, digits: int = 2) -> str:
        return f"{x:.{digits}f}" if self.en else i18n.decimal(x, self.code, digits)

    def day(self, d: date) -> str:
        """A date: ISO in English (``2025-03-01``), the locale's form otherwise."""
        return str(d) if self.en else i18n.fmt_date(d, self.code)

    def when(self, t: datetime, *, zone: bool = False) -> str:
        """A local time: ``2025-03-01 12:00`` (with ``zone`` `` CET``), or the locale's form."""
        if self.en:
            return f"{t:%Y-%m-%d %H:%M %Z}" if zone else f"{t:%Y-%m-%d %H:%M}"
        return i18n.fmt_date(t, self.code, time=True, zone=zone)

    def phrase(self, text: str) -> str:
        """An analysis label (:data:`LABELS`, :data:`PATTERNS`) in the language; any other
        text as it is (``"within 2 business days"`` → ``"en 2 días hábiles"``)."""
        if self.en or not text:  # gettext("") is the catalog's header
            return text
        translated = self._(text)  # a label, or a fixed sentence of an analysis in the catalog
        if translated != text:
            return translated
        for rx, message in PATTERNS:
            m = rx.fullmatch(text)
            if m:
                return self._(message).format(**m.groupdict())
        return text

    def word(self, w: str) -> str:
        """A data word listed in :data:`WORDS` (``month`` → ``mes``); others unchanged."""
        return self._(w) if w in WORDS else w
