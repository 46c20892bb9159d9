"""Grouping: the one reading of ``--by`` for every analysis (value, plan, attempts, speed).

``by`` is ``"campaign,segment"`` or a sequence of names; names are case-insensitive, blanks
are skipped, ``type`` (or ``campaign type``) means the campaign's type joined from the
campaigns table where an analysis offers it. A name that is not a text column of the leads —
or is an identifier, a time, the revenue or the outcome itself — is a ``ConfigError`` naming
the columns to choose from; a name given twice is one too.

>>> parse_by("Segment, owner", ["lead_id", "segment", "owner", "created_at"])
('segment', 'owner')
>>> parse_by("type", ["segment"], virtual=(CAMPAIGN_TYPE,))
('campaign_type',)
>>> parse_by("created_at", ["segment", "created_at"])
Traceback (most recent call last):
...
leadsla.errors.ConfigError: cannot group by "created_at": choose among segment.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from leadsla.errors import ConfigError

__all__ = ["CAMPAIGN_TYPE", "NOT_GROUPS", "parse_by", "seed_for"]

#: the campaign's type, from the campaigns table (value and plan join it)
CAMPAIGN_TYPE = "campaign_type"
#: lead columns that are no lead type: identifiers, times, the revenue and the outcome
NOT_GROUPS = frozenset(
    {"lead_id", "created_at", "closed_at", "mql_at", "revenue", "attempts", "status"}
)
_ALIASES = {"type": CAMPAIGN_TYPE, "campaign type": CAMPAIGN_TYPE, "campaign-type": CAMPAIGN_TYPE}


def parse_by(
    by: str | Sequence[str] | None,
    columns: Sequence[str],
    /,
    *,
    virtual: Sequence[str] = (),
    what: str = "group",
    most: int | None = None,
) -> tuple[str, ...]:
    """The grouping columns named by ``by``, checked against ``columns`` (plus ``virtual``,
    the derived groupings the analysis offers). ``what`` names the action in errors
    ("group attempts"); ``most`` caps how many may be given (speed: one)."""
    if by is None:
        return ()
    parts = [b.strip() for b in (by.split(",") if isinstance(by, str) else by)]
    allowed = [c for c in columns if c not in NOT_GROUPS] + [v for v in virtual]
    out: list[str] = []
    for b in parts:
        if not b:
            continue
        name = _ALIASES.get(b.lower(), b.lower())
        if name not in allowed:
            ok = ", ".join(sorted(set(allowed)))
            raise ConfigError(f'cannot {what} by "{b}": choose among {ok}.')
        if name in out:
            raise ConfigError(f'"{b}" appears twice in the grouping.')
        out.append(name)
    if most is not None and len(out) > most:
        raise ConfigError(
            f"cannot {what} by {', '.join(out)}: give at most {most} column"
            f"{'s' if most > 1 else ''}."
        )
    return tuple(out)


def seed_for(seed: int, label: str) -> int:
    """A group's random seed from the run's seed and the group's label: independent of the
    order of the groups, the same in every analysis (value's intervals, attempts' bootstrap).

    >>> seed_for(0, "smb") == seed_for(0, "smb") != seed_for(1, "smb")
    True
    """
    return int(np.random.SeedSequence([seed, zlib.crc32(label.encode())]).generate_state(1)[0])
