"""One typed settings object, read from ``leadsla.toml`` beside the data and overridable by flags.

Units are in the names: ``hourly_cost_eur``, ``stale_after_days``, ``first_response_hours``.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from leadsla.errors import ConfigError

SETTINGS_FILE = "leadsla.toml"


@dataclass(frozen=True)
class Settings:
    """Workspace settings (SPEC.md "Settings")."""

    currency: str = "EUR"
    #: None: not given (the workspace infers it from the data's offsets, else UTC)
    time_zone: str | None = None
    encoding: str = "utf-8"
    delimiter: str | None = None
    decimal: str | None = None  # "." or ","; None: decided per column from its values
    date_order: str | None = None  # "day-first" / "month-first"; None: from the values
    null_values: tuple[str, ...] = ("", "NA", "N/A", "#N/A", "null", "-")
    sheet: str | None = None  # a spreadsheet's sheet; None: the first with data
    mapping: str | None = None  # a mapping file beside the data (or a shipped name)
    as_of: datetime | None = None
    attempt_kinds: tuple[str, ...] = ("call", "email")
    hourly_cost_eur: float = 60.0
    attempts_per_hour: float = 6.0
    margin: float | None = None
    stale_after_days: int = 90
    maturity_quantile: float = 0.9
    business_hours: dict[str, Any] = field(default_factory=dict)
    quota_eur: float | None = None
    quota_period: str = "month"
    quota_by_segment: dict[str, float] = field(default_factory=dict)
    originated_share: float | None = None
    influenced_share: float | None = None
    seed: int = 0
    spark: dict[str, str] = field(default_factory=dict)  # spark.* settings of pyspark:// sources
    memory_limit: str | None = "600MB"  # the engine's (DuckDB): larger data spills to disk

    @property
    def cost_per_attempt_eur(self) -> float:
        """Cost of one contact attempt = rep hourly cost ÷ attempts per hour (60 € ÷ 6 = 10 €)."""
        return self.hourly_cost_eur / self.attempts_per_hour

    def replace(self, **changes: Any) -> Settings:
        """A copy with the given fields changed; ``None`` values leave a field as it is."""
        given = {k: v for k, v in changes.items() if v is not None}
        return _checked(dataclasses.replace(self, **given))


def _checked(s: Settings) -> Settings:
    try:
        if s.time_zone is not None:
            ZoneInfo(s.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f'time_zone "{s.time_zone}" is not an IANA time zone. '
            'Use a name such as "Europe/Berlin" or "America/New_York".'
        ) from None
    if s.decimal not in (None, ".", ","):
        raise ConfigError(f'decimal "{s.decimal}" must be "." or ",".')
    if s.date_order not in (None, "day-first", "month-first"):
        raise ConfigError(f'date_order "{s.date_order}" must be "day-first" or "month-first".')
    if not math.isfinite(s.attempts_per_hour) or s.attempts_per_hour <= 0:
        raise ConfigError(
            f"attempts_per_hour ({s.attempts_per_hour:g}) must be a finite number above 0 "
            "(calls a rep makes in an hour, e.g. 6)."
        )
    if not math.isfinite(s.hourly_cost_eur) or s.hourly_cost_eur <= 0:
        raise ConfigError(
            f"hourly_cost_eur ({s.hourly_cost_eur:g}) must be above 0: at no cost every attempt "
            "pays and the number of attempts has no optimum. Give the rep's cost per hour "
            "(e.g. --hourly-cost 60, or hourly_cost_eur = 60 in leadsla.toml)."
        )
    if s.cost_per_attempt_eur <= 0:
        raise ConfigError(
            f"hourly_cost_eur {s.hourly_cost_eur:g} ÷ attempts_per_hour "
            f"{s.attempts_per_hour:g} gives a cost per attempt of 0: lower attempts_per_hour "
            "(calls a rep makes in an hour, e.g. 6)."
        )
    if s.originated_share is not None and not 0 <= s.originated_share <= 1:
        raise ConfigError(f"originated_share {s.originated_share} must be between 0 and 1.")
    if s.margin is not None and not 0 < s.margin <= 1:
        raise ConfigError(f"margin {s.margin} must be above 0 and at most 1.")
    return s


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}


#: The kind each setting read from leadsla.toml must have (TOML types).
_KINDS: dict[str, tuple[type, ...]] = {
    "number": (int, float),
    "integer": (int,),
    "text": (str,),
    "list": (list, tuple),
    "table": (dict,),
    "instant": (str, datetime),
}
_KIND_OF = {
    "hourly_cost_eur": "number", "attempts_per_hour": "number", "margin": "number",
    "maturity_quantile": "number", "quota_eur": "number", "originated_share": "number",
    "influenced_share": "number", "stale_after_days": "integer", "seed": "integer",
    "attempt_kinds": "list", "null_values": "list", "business_hours": "table",
    "quota_by_segment": "table", "as_of": "instant",
}  # fmt: skip


def _check_type(key: str, val: Any, where: str) -> None:
    """A setting of the wrong TOML type is a ConfigError naming it (not a TypeError later)."""
    kind = _KIND_OF.get(key, "text")
    if isinstance(val, bool) or not isinstance(val, _KINDS[kind]):
        example = {"number": "60", "integer": "90", "text": '"EUR"', "list": '["call", "email"]',
                   "table": "{ enterprise = 250000 }",
                   "instant": "2026-06-30T18:00:00+02:00"}[kind]  # fmt: skip
        raise ConfigError(
            f"{where}setting {key} = {val!r} must be a {kind} (e.g. {key} = {example})."
        )


def load_settings(path: str | Path | None = None, /, **overrides: Any) -> Settings:
    """Read ``leadsla.toml`` (a file, or a folder holding one); flags in ``overrides`` win."""
    values: dict[str, Any] = {}
    file = Path(".")
    if path is not None:
        p = Path(path)
        file = p / SETTINGS_FILE if p.is_dir() else p
        if file.is_file() and file.suffix == ".toml":
            try:
                values = tomllib.loads(file.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as e:
                raise ConfigError(f"{file}: not valid TOML ({e}).") from None
            unknown = sorted(set(values) - set(_FIELDS))
            if unknown:
                known = ", ".join(sorted(_FIELDS))
                raise ConfigError(
                    f"{file}: unknown setting(s) {', '.join(unknown)}. Known: {known}."
                )
    where = f"{file}: " if path is not None and file.is_file() else ""
    for key, val in values.items():
        _check_type(key, val, where)
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("attempt_kinds", "null_values"):
        if key in values:
            values[key] = tuple(str(x) for x in values[key])
    if isinstance(values.get("as_of"), str):
        try:
            values["as_of"] = datetime.fromisoformat(values["as_of"])
        except ValueError:
            raise ConfigError(
                f'as_of "{values["as_of"]}" is not an ISO 8601 instant. Write it like '
                "2026-06-30T18:00:00+02:00 (or 2026-06-30, read in the workspace time zone)."
            ) from None
    return _checked(Settings(**values))
