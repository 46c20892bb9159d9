"""The workspace time zone when none is given: inferred from the UTC offsets the data carry.

A timestamp written with its offset (``2026-03-02T09:15:00+01:00``) says which offset its
writer's zone had at that instant. The distinct (offset, hour) pairs of a CRM export form a
pattern — e.g. +01:00 in winter and +02:00 in summer, switching on the last Sundays of March
and October — and only the IANA zones whose rules give exactly those offsets at those
instants fit it (here the Central European ones). One of them is chosen deterministically
(:data:`PREFERRED` first, else the first by name) and the others are named.

Offsets of zero alone (``Z``, ``+00:00`` all year) say nothing about the team: exports
serialised in UTC look like that, so they leave the zone undecided (UTC by default, with a
warning). When zero offsets sit beside non-zero ones and no zone fits them all, the zero ones
are taken for UTC-serialised columns and left out.

>>> guess = infer_zone([(3600, "2026-01-15T09"), (7200, "2026-07-15T09")])
>>> guess.zone
'Europe/Berlin'
>>> "Europe/Paris" in guess.others
True
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: Representatives tried first, in this order, when several zones fit the same offsets.
PREFERRED = (
    "Europe/Berlin", "Europe/London", "Europe/Paris", "Europe/Lisbon", "Europe/Helsinki",
    "Europe/Athens", "Europe/Istanbul", "Europe/Moscow", "America/New_York",
    "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
    "America/Anchorage", "Pacific/Honolulu", "America/Toronto", "America/Halifax",
    "America/Mexico_City", "America/Sao_Paulo", "America/Bogota", "America/Lima",
    "America/Santiago", "America/Argentina/Buenos_Aires", "Africa/Johannesburg",
    "Africa/Lagos", "Africa/Cairo", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata",
    "Asia/Jakarta", "Asia/Singapore", "Asia/Shanghai", "Asia/Manila", "Asia/Tokyo",
    "Asia/Seoul", "Australia/Perth", "Australia/Brisbane", "Australia/Sydney",
    "Australia/Melbourne", "Pacific/Auckland",
)  # fmt: skip
_REGIONS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/",
            "Europe/", "Indian/", "Pacific/")  # fmt: skip

#: DuckDB regular expressions: an ISO 8601 timestamp ending in an offset, and that offset.
ISO_WITH_OFFSET = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?\s*([+-]\d\d(:?\d\d)?|[Zz])$"
OFFSET_AT_END = r"([+-]\d\d(:?\d\d)?|[Zz])$"


@dataclass(frozen=True)
class ZoneGuess:
    """The zone inferred from the data's offsets (``zone`` None: nothing to infer from)."""

    zone: str | None
    others: tuple[str, ...]  # the other zones that fit as well
    offsets: tuple[int, ...]  # distinct offsets seen, in seconds
    observations: int  # distinct (offset, hour) pairs
    dropped_zero: bool = False  # zero offsets left out as UTC-serialised columns
    why: str = ""

    def describe(self) -> str:
        """One sentence on what was seen and chosen."""
        offs = ", ".join(format_offset(o) for o in self.offsets)
        if self.zone is None:
            return self.why
        n = len(self.others)
        more = ""
        if n:
            named = ", ".join(self.others[:5]) + (f" and {n - 5:,} more" if n > 5 else "")
            more = f"; {named} fit as well"
        dropped = " (zero offsets left out as UTC-serialised columns)" if self.dropped_zero else ""
        return (
            f"the timestamps' UTC offsets ({offs}){dropped} over {self.observations:,} distinct "
            f"hours match the rules of {self.zone}{more}"
        )


def format_offset(seconds: int) -> str:
    """``3600`` → ``+01:00``; ``-16200`` → ``-04:30``."""
    sign = "-" if seconds < 0 else "+"
    m = abs(seconds) // 60
    return f"{sign}{m // 60:02d}:{m % 60:02d}"


def parse_offset(text: str) -> int | None:
    """``+01:00``/``+0100``/``+01``/``Z`` → seconds east of UTC (None if not an offset)."""
    t = text.strip()
    if t in ("Z", "z"):
        return 0
    if len(t) < 3 or t[0] not in "+-" or not t[1:3].isdigit():
        return None
    rest = t[3:].lstrip(":")
    if rest and not (len(rest) == 2 and rest.isdigit()):
        return None
    sec = int(t[1:3]) * 3600 + (int(rest) * 60 if rest else 0)
    return -sec if t[0] == "-" else sec


def candidate_zones() -> list[str]:
    """Canonical-looking IANA zones (Region/City), sorted."""
    return sorted(z for z in zoneinfo.available_timezones() if z.startswith(_REGIONS))


def _offsets_in(zone: str, instants: pd.DatetimeIndex) -> np.ndarray:
    local = instants.tz_convert(zone).tz_localize(None)
    return np.asarray((local - instants.tz_localize(None)).total_seconds(), dtype=np.int64)


def _fitting(instants: pd.DatetimeIndex, offsets: np.ndarray, zones: list[str]) -> list[str]:
    # a cheap pass on the first and last instant of every offset first, then all of them
    change = np.flatnonzero(np.diff(offsets) != 0)
    ends = np.unique(np.concatenate([[0, len(offsets) - 1], change, change + 1]))
    probes = [(instants[i].to_pydatetime(), int(offsets[i])) for i in ends]
    out = []
    for z in zones:
        tz = zoneinfo.ZoneInfo(z)
        if any(_utcoffset(at, tz) != off for at, off in probes):
            continue
        if np.array_equal(_offsets_in(z, instants), offsets):
            out.append(z)
    return out


def _utcoffset(at: datetime, tz: zoneinfo.ZoneInfo) -> int:
    d = at.astimezone(tz).utcoffset()
    return int(d.total_seconds()) if d is not None else 0


def infer_zone(pairs: Iterable[tuple[int, str]], /) -> ZoneGuess:
    """The zone whose rules give each ``(offset seconds, local "YYYY-MM-DDTHH")`` pair.

    The pairs are the distinct offsets and local hours of the timestamps written with an
    offset. Returns ``zone=None`` when there are none, when all are zero, or when no zone fits.
    """
    rows: dict[datetime, set[int]] = {}
    for off, local in pairs:
        try:
            at = datetime.strptime(local[:10] + " " + local[11:13], "%Y-%m-%d %H")
        except ValueError:
            continue
        rows.setdefault(at - timedelta(seconds=off), set()).add(off)
    if not rows:
        return ZoneGuess(None, (), (), 0, why="no timestamp carries a UTC offset")
    seen = tuple(sorted({o for offs in rows.values() for o in offs}))
    if seen == (0,):
        return ZoneGuess(
            None, (), seen, len(rows),
            why="every timestamp is written in UTC (Z or +00:00), which says nothing of the "
            "team's own time zone",
        )  # fmt: skip
    zones = candidate_zones()
    guess = _match(rows, zones, seen, dropped_zero=False)
    if guess.zone is None and 0 in seen:
        nonzero = {at: {o for o in offs if o} for at, offs in rows.items()}
        guess = _match({at: o for at, o in nonzero.items() if o}, zones, seen, dropped_zero=True)
    return guess


def _match(
    rows: dict[datetime, set[int]], zones: list[str], seen: tuple[int, ...], *, dropped_zero: bool
) -> ZoneGuess:
    offs = tuple(sorted({o for v in rows.values() for o in v}))
    if any(len(v) > 1 for v in rows.values()):
        fit: list[str] = []
    else:
        import pandas as pd  # only here: the zone guess of a file with offsets

        ordered = sorted(rows)
        instants = pd.DatetimeIndex(ordered).tz_localize("UTC")
        offsets = np.array([next(iter(rows[t])) for t in ordered], dtype=np.int64)
        fit = _fitting(instants, offsets, zones)
    if not fit:
        text = ", ".join(format_offset(o) for o in seen)
        return ZoneGuess(
            None, (), seen, len(rows),
            why=f"the timestamps' UTC offsets ({text}) fit no single time zone's rules (the "
            "export mixes zones)",
        )  # fmt: skip
    chosen = next((z for z in PREFERRED if z in fit), fit[0])
    rank = {z: i for i, z in enumerate(PREFERRED)}  # the well-known ones named first
    others = tuple(sorted((z for z in fit if z != chosen), key=lambda z: (rank.get(z, 99), z)))
    return ZoneGuess(chosen, others, offs, len(rows), dropped_zero=dropped_zero)
