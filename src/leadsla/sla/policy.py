"""The SLA policy file ``sla.toml`` (schema ``leadsla.policy/1``): load, validate, write.

``leadsla agree`` writes it from the data; people may edit it by hand; ``leadsla check``
holds both teams to it. The file (comments are optional)::

    schema = "leadsla.policy/1"
    name = "Marketing–sales SLA 2027"
    currency = "EUR"

    [data]                        # provenance: what the numbers were measured on
    source = "crm/"
    window = ["2025-01-01", "2026-06-30"]
    sha256 = "…64 hex digits…"
    leads = 48210

    [calendar]                    # BusinessCalendar.from_config keys (METHODS.md §5)
    time_zone = "Europe/Berlin"
    hours = "Mon-Fri 09:00-18:00"
    holiday_country = "DE"

    [sales]
    first_response_hours = 4      # business hours from the MQL to the first contact attempt
    attempt_kinds = ["call", "email"]

    [sales.attempts]              # every segment, unless it has its own rule below
    count = 8
    within_days = 14
    day_kind = "calendar"         # or "business"

    [sales.attempts.segments.enterprise]
    count = 12                    # keys left out are taken from [sales.attempts]
    within_days = 21

    [marketing]                   # optional
    period = "month"              # or "quarter"
    mqls = 100                    # MQLs per period, overall
    mql_value_eur = 1600
    influenced_share = 0.6        # a separate commitment, never added to the originated share

    [marketing.segments.smb]
    mqls = 60

Required: ``schema``, ``name``, ``[calendar] time_zone``, ``[sales] first_response_hours`` and
``[sales.attempts] count, within_days``. Everything else has a default or is optional.

:func:`load_policy` checks every key and raises one :class:`PolicyError` (a ``ConfigError``)
listing every problem, each with its key and its fix. :func:`write_policy` checks the policy
the same way, then writes TOML by hand (no TOML writer is a dependency); ``load_policy`` of the
file gives back an equal :class:`Policy`.

>>> p = Policy.from_dict({"schema": SCHEMA, "name": "SLA", "calendar": {"time_zone": "UTC"},
...     "sales": {"first_response_hours": 4, "attempts": {"count": 8, "within_days": 14}}})
>>> p.sales.attempts_for("smb")
AttemptRule(count=8, within_days=14, day_kind='calendar', rule='within')
>>> Policy.from_dict(p.to_dict()) == p
True
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Literal, cast

from leadsla.clock import BusinessCalendar, CalendarConfigError
from leadsla.errors import ConfigError

__all__ = [
    "DAY_KINDS",
    "PERIODS",
    "POLICY_FILE",
    "SCHEMA",
    "AttemptRule",
    "DataProvenance",
    "MarketingPolicy",
    "MarketingSegment",
    "Policy",
    "PolicyError",
    "SalesPolicy",
    "load_policy",
    "policy_to_toml",
    "write_policy",
]

SCHEMA = "leadsla.policy/1"
POLICY_FILE = "sla.toml"
DAY_KINDS = ("calendar", "business")
RULE_KINDS = ("within", "before_closing")
PERIODS = ("month", "quarter")

DayKind = Literal["calendar", "business"]
RuleKind = Literal["within", "before_closing"]
Period = Literal["month", "quarter"]

_KEYS: dict[str, tuple[str, ...]] = {
    # [alerts] is read and checked by the live service (leadsla.service.alerts), which alone
    # sends alerts; the batch tools leave it alone.
    "": (
        "schema",
        "name",
        "currency",
        "description",
        "data",
        "calendar",
        "sales",
        "marketing",
        "alerts",
    ),
    "data": ("source", "window", "sha256", "leads"),
    "sales": ("first_response_hours", "attempt_kinds", "attempts"),
    "sales.attempts": ("count", "within_days", "day_kind", "rule", "segments"),
    "sales.attempts.segments.*": ("count", "within_days", "day_kind", "rule"),
    "marketing": (
        "period",
        "mqls",
        "mql_value_eur",
        "influenced_share",
        "originated_share",
        "quota_eur",
        "segments",
    ),
    "marketing.segments.*": ("mqls", "mql_value_eur"),
}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class PolicyError(ConfigError):
    """A policy file is wrong; ``issues`` lists every problem (key, what is wrong, the fix)."""

    def __init__(self, file: str, issues: Sequence[str]) -> None:
        self.file = file
        self.issues = list(issues)
        if len(self.issues) == 1:
            text = f"{file}, {self.issues[0]}"
        else:
            text = f"{file}: {len(self.issues)} problems in the SLA policy:\n" + "\n".join(
                f"  - {i}" for i in self.issues
            )
        super().__init__(text)


# --------------------------------------------------------------------------- the policy


@dataclass(frozen=True)
class AttemptRule:
    """At least ``count`` contact attempts within ``within_days`` days of the MQL.

    ``day_kind = "calendar"`` counts wall-clock days in the calendar's time zone;
    ``"business"`` counts business days: ``within_days`` × the calendar's mean open hours per
    working day, on the business clock (Mon-Fri 09:00-18:00: 3 business days = 27 business h).
    """

    count: int
    within_days: float
    day_kind: DayKind = "calendar"
    rule: RuleKind = "within"
    """``"within"``: ``count`` attempts within ``within_days`` (a closed lead needs no more).
    ``"before_closing"`` — a minimum effort before disqualification, for an N* the data cannot
    pin down (METHODS.md §7): no unresponsive lead (closed lost without a connected or replied
    contact) is closed before ``count`` attempts; an open lead is never breached for having
    fewer; ``within_days`` is then the team's pace, stated, not checked."""


@dataclass(frozen=True)
class SalesPolicy:
    """Sales' side: respond within ``first_response_hours`` business hours, then keep trying.

    ``segments`` maps a segment to its own :class:`AttemptRule` (others use ``attempts``).
    """

    first_response_hours: float
    attempts: AttemptRule
    attempt_kinds: tuple[str, ...] = ("call", "email")
    segments: Mapping[str, AttemptRule] = field(default_factory=dict)

    def attempts_for(self, segment: str | None, /) -> AttemptRule:
        """The attempt rule of ``segment`` (its own, else the default)."""
        if segment is not None and segment in self.segments:
            return self.segments[segment]
        return self.attempts


@dataclass(frozen=True)
class MarketingSegment:
    """Marketing's target for one segment: MQLs per period (and their value, when known)."""

    mqls: int
    mql_value_eur: float | None = None


@dataclass(frozen=True)
class MarketingPolicy:
    """Marketing's side: ``mqls`` MQLs per ``period`` (overall), and per segment.

    ``quota_eur`` and ``originated_share`` record where the target came from
    (``mqls = ⌈quota × originated share ÷ MQL value⌉``, METHODS.md §2); ``influenced_share``
    is a separate commitment, never added to the originated share.
    """

    mqls: int
    period: Period = "month"
    mql_value_eur: float | None = None
    influenced_share: float | None = None
    originated_share: float | None = None
    quota_eur: float | None = None
    segments: Mapping[str, MarketingSegment] = field(default_factory=dict)


@dataclass(frozen=True)
class DataProvenance:
    """What the policy's numbers were measured on (written by ``leadsla agree``)."""

    source: str | None = None
    window: tuple[date, date] | None = None
    sha256: str | None = None
    leads: int | None = None


@dataclass
class _CalendarCache:
    calendar: BusinessCalendar | None = None


@dataclass(frozen=True)
class Policy:
    """An SLA policy (schema ``leadsla.policy/1``).

    ``calendar`` is the table :meth:`BusinessCalendar.from_config` takes; ``base_dir`` is the
    folder a relative ``holiday_ics`` path is read from (the policy file's folder). Build one
    with :meth:`from_dict` or :func:`load_policy`, which check every value; constructing the
    dataclass directly checks nothing until :func:`write_policy` or :meth:`validated`.
    """

    name: str
    calendar: Mapping[str, Any]
    sales: SalesPolicy
    marketing: MarketingPolicy | None = None
    currency: str = "EUR"
    description: str | None = None
    data: DataProvenance | None = None
    schema: str = SCHEMA
    base_dir: Path | None = field(default=None, compare=False, repr=False)
    _cache: _CalendarCache = field(
        default_factory=_CalendarCache, init=False, repr=False, compare=False
    )

    @property
    def time_zone(self) -> str:
        return str(self.calendar.get("time_zone", "UTC"))

    def business_calendar(self) -> BusinessCalendar:
        """The calendar of the policy (built once, then reused with its cached table)."""
        if self._cache.calendar is None:
            self._cache.calendar = BusinessCalendar.from_config(
                _resolve_ics(self.calendar, self.base_dir), source="calendar"
            )
        return self._cache.calendar

    # ------------------------------------------------------------------ dict form

    def to_dict(self) -> dict[str, Any]:
        """The policy as the TOML document's table (``None`` values left out)."""
        out: dict[str, Any] = {"schema": self.schema, "name": self.name}
        out["currency"] = self.currency
        if self.description is not None:
            out["description"] = self.description
        if self.data is not None:
            d = self.data
            prov: dict[str, Any] = {}
            if d.source is not None:
                prov["source"] = d.source
            if d.window is not None:
                prov["window"] = [d.window[0].isoformat(), d.window[1].isoformat()]
            if d.sha256 is not None:
                prov["sha256"] = d.sha256
            if d.leads is not None:
                prov["leads"] = d.leads
            out["data"] = prov
        out["calendar"] = _plain(self.calendar)
        s = self.sales
        attempts = _rule_dict(s.attempts)
        if s.segments:
            attempts["segments"] = {k: _rule_dict(r) for k, r in s.segments.items()}
        out["sales"] = {
            "first_response_hours": s.first_response_hours,
            "attempt_kinds": list(s.attempt_kinds),
            "attempts": attempts,
        }
        if self.marketing is not None:
            m = self.marketing
            mk: dict[str, Any] = {"period": m.period, "mqls": m.mqls}
            for key in ("mql_value_eur", "influenced_share", "originated_share", "quota_eur"):
                if getattr(m, key) is not None:
                    mk[key] = getattr(m, key)
            if m.segments:
                mk["segments"] = {
                    k: {"mqls": v.mqls}
                    | ({} if v.mql_value_eur is None else {"mql_value_eur": v.mql_value_eur})
                    for k, v in m.segments.items()
                }
            out["marketing"] = mk
        return out

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], /, *, file: str = POLICY_FILE, base_dir: Path | None = None
    ) -> Policy:
        """Check every key of a policy table and build the policy; one :class:`PolicyError`
        lists every problem."""
        return _Reader(file, base_dir).policy(data)

    def validated(self, *, file: str = POLICY_FILE) -> Policy:
        """This policy, checked (raises :class:`PolicyError` listing every problem)."""
        return Policy.from_dict(self.to_dict(), file=file, base_dir=self.base_dir)


def _rule_dict(r: AttemptRule) -> dict[str, Any]:
    out: dict[str, Any] = {"count": r.count, "within_days": r.within_days, "day_kind": r.day_kind}
    if r.rule != "within":
        out["rule"] = r.rule
    return out


def _plain(value: Any) -> Any:
    """Mappings and sequences as plain dicts and lists (for the TOML writer)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _resolve_ics(calendar: Mapping[str, Any], base_dir: Path | None) -> dict[str, Any]:
    cal = dict(calendar)
    ics = cal.get("holiday_ics")
    if base_dir is not None and isinstance(ics, str) and not Path(ics).is_absolute():
        cal["holiday_ics"] = str(base_dir / ics)
    return cal


# --------------------------------------------------------------------------- reading


def load_policy(path: str | os.PathLike[str], /) -> Policy:
    """Read and check ``sla.toml`` (or a folder holding one); every problem is listed at once.

    >>> policy = load_policy("sla.toml")  # doctest: +SKIP
    >>> policy.sales.first_response_hours  # doctest: +SKIP
    4
    """
    p = Path(path)
    if p.is_dir():
        p = p / POLICY_FILE
    if not p.is_file():
        raise ConfigError(
            f"{p}: no such policy file. Write one with `leadsla agree SOURCE --out DIR`, or give "
            f"the path of an existing {POLICY_FILE}."
        )
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not UTF-8 text ({e}). Save the policy file as UTF-8.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"{p}: not valid TOML ({e}). Fix the syntax at that place; strings need double "
            'quotes, e.g. name = "SLA 2027".'
        ) from None
    return Policy.from_dict(data, file=str(p), base_dir=p.parent)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _show(v: Any) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if not isinstance(v, dict) else "a table"


class _Reader:
    """Reads a policy table, collecting every problem before failing once."""

    def __init__(self, file: str, base_dir: Path | None) -> None:
        self.file = file
        self.base_dir = base_dir
        self.issues: list[str] = []

    def add(self, text: str) -> None:
        self.issues.append(text)

    # ----------------------------------------------------------------- helpers

    def table(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool) -> Any:
        """``parent[key]`` when it is a table, else {} (or None when absent and optional)."""
        if key not in parent:
            if required:
                self.add(f"[{path}] is missing. Add the section (see the example in SPEC.md).")
                return {}
            return None
        value = parent[key]
        if not isinstance(value, Mapping):
            self.add(
                f"{path}: {_show(value)} is not a table. Write it as a section [{path}] with "
                "keys under it."
            )
            return {}
        return value

    def unknown(self, table: Mapping[str, Any], where: str, known_for: str) -> None:
        known = _KEYS[known_for]
        for key in table:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f' Did you mean "{close[0]}"?' if close else ""
            section = f"[{where}]" if where else "the top level"
            self.add(
                f"{_join(where, key)}: unknown key.{hint} Keys in {section}: {', '.join(known)}."
            )

    def number(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        *,
        example: str,
        integer: bool = False,
        required: bool = False,
        at_most: float | None = None,
        default: Any = None,
    ) -> Any:
        """A number above 0 (a whole number when ``integer``); ``default`` when absent."""
        path = _join(where, key)
        if key not in table:
            if required:
                self.add(f"{path} is missing. Add e.g. {example} under [{where}].")
            return default
        v = table[key]
        if not _is_number(v) or (isinstance(v, float) and not math.isfinite(v)):
            kind = "a whole number" if integer else "a number"
            self.add(f"{path}: {_show(v)} is not {kind}. Write e.g. {example}.")
            return default
        if integer and not isinstance(v, int):
            self.add(
                f"{path}: {v!r} is not a whole number. Write a whole number without a decimal "
                f"point, e.g. {example}."
            )
            return default
        if v <= 0:
            self.add(f"{path}: {v!r} must be above 0. Write e.g. {example}.")
            return default
        if at_most is not None and v > at_most:
            self.add(
                f"{path}: {v!r} is above {at_most:g}. A share is a fraction between 0 and 1, "
                f"e.g. {example} for {float(example.split('=')[1]):.0%}."
            )
            return default
        return v

    def text(
        self,
        table: Mapping[str, Any],
        key: str,
        where: str,
        *,
        example: str,
        required: bool = False,
        default: str | None = None,
    ) -> str | None:
        path = _join(where, key)
        if key not in table:
            if required:
                self.add(f"{path} is missing. Add e.g. {example}.")
            return default
        v = table[key]
        if not isinstance(v, str) or not v.strip():
            self.add(f"{path}: {_show(v)} is not a non-empty text. Write e.g. {example}.")
            return default
        return v

    def choice(
        self, table: Mapping[str, Any], key: str, where: str, choices: tuple[str, ...], default: str
    ) -> str:
        path = _join(where, key)
        if key not in table:
            return default
        v = table[key]
        if v in choices:
            return cast(str, v)
        close = difflib.get_close_matches(str(v), choices, n=1, cutoff=0.5)
        hint = f' Did you mean "{close[0]}"?' if close else ""
        options = " or ".join(f'"{c}"' for c in choices)
        self.add(f"{path}: {_show(v)} is not allowed.{hint} Write {options}.")
        return default

    # ----------------------------------------------------------------- sections

    def policy(self, data: Mapping[str, Any]) -> Policy:
        if not isinstance(data, Mapping):
            raise PolicyError(self.file, ["the policy must be a TOML table of keys."])
        self.unknown(data, "", "")
        schema = data.get("schema")
        if schema is None:
            self.add(f'schema is missing. Add schema = "{SCHEMA}" as the first line.')
        elif schema != SCHEMA:
            if isinstance(schema, str) and schema.startswith("leadsla.policy/"):
                self.add(
                    f'schema: "{schema}" is not a version this leadsla reads (it reads '
                    f'"{SCHEMA}"). Upgrade leadsla, or write the policy again with '
                    "`leadsla agree`."
                )
            else:
                self.add(
                    f"schema: {_show(schema)} is not a leadsla policy schema. Write "
                    f'schema = "{SCHEMA}".'
                )
        name = self.text(
            data, "name", "", example='name = "Marketing–sales SLA 2027"', required=True
        )
        currency = self.text(data, "currency", "", example='currency = "EUR"', default="EUR")
        if "currency" in data and currency is not None and not _CURRENCY.match(currency):
            self.add(
                f'currency: "{currency}" is not an ISO 4217 code. Write three capital letters, '
                'e.g. currency = "EUR".'
            )
        description = self.text(data, "description", "", example='description = "…"')
        prov = self.data_section(data)
        calendar = self.calendar_section(data)
        sales = self.sales_section(data)
        marketing = self.marketing_section(data)
        if self.issues:
            raise PolicyError(self.file, self.issues)
        assert name is not None and sales is not None and currency is not None
        return Policy(
            name=name,
            calendar=calendar,
            sales=sales,
            marketing=marketing,
            currency=currency,
            description=description,
            data=prov,
            schema=SCHEMA,
            base_dir=self.base_dir,
        )

    def data_section(self, data: Mapping[str, Any]) -> DataProvenance | None:
        t = self.table(data, "data", "data", required=False)
        if t is None:
            return None
        self.unknown(t, "data", "data")
        source = self.text(t, "source", "data", example='source = "crm/"')
        window: tuple[date, date] | None = None
        if "window" in t:
            w = t["window"]
            ok = isinstance(w, list) and len(w) == 2
            days = [_as_date(x) for x in w] if ok else []
            if not ok or any(d is None for d in days):
                self.add(
                    f"data.window: {_show(w)} is not two dates. Write "
                    'window = ["2025-01-01", "2026-06-30"] (first and last day of the data).'
                )
            else:
                first, last = cast(date, days[0]), cast(date, days[1])
                if last < first:
                    self.add(
                        f"data.window: the last day {last} is before the first day {first}. "
                        "Write the earlier date first."
                    )
                window = (first, last)
        sha = self.text(t, "sha256", "data", example='sha256 = "<64 hex digits>"')
        if sha is not None and not _SHA256.match(sha):
            self.add(
                f'data.sha256: "{sha}" is not a SHA-256 digest. Write the 64 lower-case hex '
                "digits `leadsla agree` printed, or remove the key."
            )
        leads = self.number(t, "leads", "data", example="leads = 48210", integer=True)
        return DataProvenance(source=source, window=window, sha256=sha, leads=leads)

    def calendar_section(self, data: Mapping[str, Any]) -> dict[str, Any]:
        t = self.table(data, "calendar", "calendar", required=True)
        if t is None:
            return {}
        cal = _plain(t)
        if "time_zone" not in t:
            self.add(
                'calendar.time_zone is missing. Add e.g. time_zone = "Europe/Berlin" (the IANA '
                "zone of the business hours) under [calendar]."
            )
        try:
            BusinessCalendar.from_config(_resolve_ics(cal, self.base_dir), source="calendar")
        except CalendarConfigError as e:
            for issue in e.issues:
                self.add(issue if issue.startswith("calendar") else f"calendar: {issue}")
        return cast(dict[str, Any], cal)

    def rule(
        self, t: Mapping[str, Any], where: str, known_for: str, default: AttemptRule | None
    ) -> AttemptRule | None:
        self.unknown(t, where, known_for)
        required = default is None
        count = self.number(
            t,
            "count",
            where,
            example="count = 8",
            integer=True,
            required=required,
            default=None if default is None else default.count,
        )
        days = self.number(
            t,
            "within_days",
            where,
            example="within_days = 14",
            required=required,
            default=None if default is None else default.within_days,
        )
        kind = self.choice(
            t, "day_kind", where, DAY_KINDS, "calendar" if default is None else default.day_kind
        )
        rule = self.choice(
            t, "rule", where, RULE_KINDS, "within" if default is None else default.rule
        )
        if count is None or days is None:
            return None
        return AttemptRule(
            count=count,
            within_days=days,
            day_kind=cast(DayKind, kind),
            rule=cast(RuleKind, rule),
        )

    def sales_section(self, data: Mapping[str, Any]) -> SalesPolicy | None:
        t = self.table(data, "sales", "sales", required=True)
        if t is None:
            return None
        self.unknown(t, "sales", "sales")
        hours = self.number(
            t, "first_response_hours", "sales", example="first_response_hours = 4", required=True
        )
        kinds: tuple[str, ...] = ("call", "email")
        if "attempt_kinds" in t:
            k = t["attempt_kinds"]
            if (
                not isinstance(k, list)
                or not k
                or not all(isinstance(x, str) and x.strip() for x in k)
            ):
                self.add(
                    f"sales.attempt_kinds: {_show(k)} is not a list of activity kinds. Write "
                    'e.g. attempt_kinds = ["call", "email"].'
                )
            elif len(set(k)) != len(k):
                dup = sorted({x for x in k if k.count(x) > 1})
                self.add(
                    f"sales.attempt_kinds: {', '.join(dup)} listed twice. List each kind once."
                )
            else:
                kinds = tuple(k)
        a = self.table(t, "attempts", "sales.attempts", required=True)
        if a is None:  # pragma: no cover - required
            return None
        default = self.rule(a, "sales.attempts", "sales.attempts", None)
        segments: dict[str, AttemptRule] = {}
        segs = self.table(a, "segments", "sales.attempts.segments", required=False)
        for seg, st in (segs or {}).items():
            where = f"sales.attempts.segments.{_key(seg)}"
            if not isinstance(st, Mapping):
                self.add(
                    f"{where}: {_show(st)} is not a table. Write [{where}] with count, "
                    "within_days and day_kind under it."
                )
                continue
            # keys left out come from [sales.attempts]; a broken default must not hide them
            r = self.rule(st, where, "sales.attempts.segments.*", default or AttemptRule(1, 1.0))
            if r is not None and default is not None:
                segments[str(seg)] = r
        if hours is None or default is None:
            return None
        return SalesPolicy(
            first_response_hours=hours, attempts=default, attempt_kinds=kinds, segments=segments
        )

    def marketing_section(self, data: Mapping[str, Any]) -> MarketingPolicy | None:
        t = self.table(data, "marketing", "marketing", required=False)
        if t is None:
            return None
        w = "marketing"
        self.unknown(t, w, w)
        period = self.choice(t, "period", w, PERIODS, "month")
        mqls = self.number(t, "mqls", w, example="mqls = 100", integer=True, required=True)
        value = self.number(t, "mql_value_eur", w, example="mql_value_eur = 1600")
        influenced = self.number(
            t, "influenced_share", w, example="influenced_share = 0.6", at_most=1
        )
        originated = self.number(
            t, "originated_share", w, example="originated_share = 0.4", at_most=1
        )
        quota = self.number(t, "quota_eur", w, example="quota_eur = 400000")
        segments: dict[str, MarketingSegment] = {}
        segs = self.table(t, "segments", "marketing.segments", required=False)
        for seg, st in (segs or {}).items():
            where = f"marketing.segments.{_key(seg)}"
            if not isinstance(st, Mapping):
                self.add(
                    f"{where}: {_show(st)} is not a table. Write [{where}] with mqls = … under it."
                )
                continue
            self.unknown(st, where, "marketing.segments.*")
            n = self.number(st, "mqls", where, example="mqls = 60", integer=True, required=True)
            v = self.number(st, "mql_value_eur", where, example="mql_value_eur = 900")
            if n is not None:
                segments[str(seg)] = MarketingSegment(mqls=n, mql_value_eur=v)
        if mqls is None:
            return None
        return MarketingPolicy(
            mqls=mqls,
            period=cast(Period, period),
            mql_value_eur=value,
            influenced_share=influenced,
            originated_share=originated,
            quota_eur=quota,
            segments=segments,
        )


def _join(where: str, key: Any) -> str:
    return f"{where}.{_key(key)}" if where else _key(key)


def _as_date(x: Any) -> date | None:
    if isinstance(x, datetime):
        return None
    if isinstance(x, date):
        return x
    if isinstance(x, str):
        try:
            return date.fromisoformat(x)
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------- writing

_COMMENTS = {
    "data": "provenance: what the numbers were measured on",
    "calendar": "business hours (leadsla.clock.BusinessCalendar.from_config keys)",
    "sales.first_response_hours": "business hours from the MQL to the first contact attempt",
    "sales.attempt_kinds": "activity kinds that count as contact attempts",
    "sales.attempts": "every segment, unless it has its own rule below",
    "sales.attempts.day_kind": '"calendar" or "business" days',
    "sales.attempts.rule": '"within": count attempts within within_days; "before_closing": '
    "no unresponsive lead is closed before count attempts (within_days: the team's pace)",
    "marketing.period": '"month" or "quarter"',
    "marketing.mqls": "MQLs per period, overall",
    "marketing.influenced_share": "separate commitment, never added to the originated share",
}
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: Any) -> str:
    k = str(k)
    return k if _BARE.match(k) else _string(k)


def _string(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _value(v: Any, where: str) -> str:
    """One TOML value (inline form)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, Mapping):
        inner = ", ".join(f"{_key(k)} = {_value(x, where)}" for k, x in v.items())
        return "{ " + inner + " }" if inner else "{}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x, where) for x in v) + "]"
    raise ConfigError(f"{where}: {v!r} cannot be written to TOML.")


def _line(key: Any, v: Any, path: str) -> str:
    line = f"{_key(key)} = {_value(v, path)}"
    note = _COMMENTS.get(path)
    return f"{line:<40} # {note}" if note else line


def _dump(table: Mapping[str, Any], path: str, lines: list[str]) -> None:
    """Scalars and arrays of ``table`` as ``key = value``, then each sub-table as a section."""
    subs = [(k, v) for k, v in table.items() if isinstance(v, Mapping) and v]
    for k, v in table.items():
        if not (isinstance(v, Mapping) and v):
            lines.append(_line(k, v, _join(path, k)))
    for k, v in subs:
        sub = _join(path, k)
        if lines:
            lines.append("")
        if all(isinstance(x, Mapping) and x for x in v.values()):
            lines.pop()  # only sub-tables: their headers define this one (TOML super-table)
        else:
            head = f"[{sub}]"
            note = _COMMENTS.get(sub)
            lines.append(f"{head:<40} # {note}" if note else head)
        _dump(v, sub, lines)


def policy_to_toml(policy: Policy, /) -> str:
    """The policy as TOML text (the file :func:`write_policy` writes)."""
    lines = [
        f"# SLA policy ({SCHEMA}). Edit by hand if you like: `leadsla check` validates it.",
    ]
    _dump(policy.to_dict(), "", lines)
    return "\n".join(lines) + "\n"


def write_policy(policy: Policy, path: str | os.PathLike[str], /) -> Path:
    """Check ``policy`` and write it to ``path`` (a ``.toml`` file, or a folder: ``sla.toml``).

    Raises :class:`PolicyError` listing every problem, before writing anything. Returns the
    path written; :func:`load_policy` of it gives back an equal policy.
    """
    p = Path(path)
    if p.is_dir():
        p = p / POLICY_FILE
    text = policy_to_toml(policy)
    Policy.from_dict(tomllib.loads(text), file=str(p), base_dir=policy.base_dir)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p
