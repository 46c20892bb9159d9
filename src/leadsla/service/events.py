"""Events: the body of ``POST /v1/events`` read and checked, one event at a time.

An event (SPEC.md)::

    {"id": "evt-1", "type": "lead.created", "at": "2026-03-02T09:15:00+01:00",
     "lead": {"lead_id": "L-1", "segment": "smb", "owner": "ana", ...}}
    {"id": "evt-2", "type": "activity.logged", "at": "2026-03-02T10:00:00+01:00",
     "activity": {"lead_id": "L-1", "at": "2026-03-02T10:00:00+01:00", "kind": "call"}}

Types: ``lead.created`` / ``lead.updated`` (upsert the lead: the fields given replace the
stored ones), ``lead.closed`` (``status`` won or lost; ``closed_at`` defaults to the event's
``at``), ``activity.logged``. Every time needs its UTC offset (``Z`` or ``+01:00``): a time
without one is rejected, never guessed. A rejected event is reported with its index, its id,
the field, the value and the fix; it is not stored at all.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ACTIVITY_FIELDS",
    "EVENT_TYPES",
    "LEAD_FIELDS",
    "BodyError",
    "Event",
    "EventError",
    "parse_body",
    "parse_event",
    "parse_time",
]

EVENT_TYPES = ("lead.created", "lead.updated", "lead.closed", "activity.logged")
LEAD_TEXT = ("segment", "campaign", "source", "owner")
LEAD_TIMES = ("created_at", "closed_at", "mql_at")
LEAD_FIELDS = ("lead_id", *LEAD_TEXT, "status", *LEAD_TIMES, "revenue")
ACTIVITY_FIELDS = ("activity_id", "lead_id", "at", "kind", "rep", "outcome")
STATUSES = ("open", "won", "lost")
MAX_TEXT = 200


@dataclass(frozen=True)
class EventError(Exception):
    """Why one event is rejected: a code, the field and value, a message and the fix."""

    code: str
    message: str
    fix: str
    field: str | None = None
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "fix": self.fix}
        if self.field is not None:
            out["field"] = self.field
            out["value"] = self.value
        return out


class BodyError(Exception):
    """The body as a whole cannot be read (malformed JSON, not events at all)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


@dataclass
class Event:
    """A checked event: times are aware UTC datetimes, ``fields`` the lead or activity."""

    id: str
    type: str
    at: datetime
    fields: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def lead_id(self) -> str:
        return str(self.fields["lead_id"])


def parse_time(value: Any, where: str) -> datetime:
    """An ISO 8601 instant with its offset, as aware UTC; anything else an :class:`EventError`."""
    if not isinstance(value, str):
        raise EventError(
            "invalid_time",
            f"{where} must be an ISO 8601 text, got {type(value).__name__}.",
            'Send it as text with its offset, e.g. "2026-03-02T09:15:00+01:00".',
            where,
            value,
        )
    text = value.strip()
    try:
        t = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise EventError(
            "invalid_time",
            f'{where} "{value}" is not an ISO 8601 time.',
            'Use ISO 8601 with an offset, e.g. "2026-03-02T09:15:00+01:00" or '
            '"2026-03-02T08:15:00Z".',
            where,
            value,
        ) from None
    if t.tzinfo is None or t.utcoffset() is None:
        raise EventError(
            "time_without_zone",
            f'{where} "{value}" has no UTC offset, so the instant is ambiguous.',
            'Add the offset the time was taken in, e.g. "2026-03-02T09:15:00+01:00", or '
            'send UTC with "Z".',
            where,
            value,
        )
    return t.astimezone(UTC)


def _text(value: Any, where: str, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise EventError(
                "missing_field",
                f"{where} is missing.",
                f"Give {where} as a non-empty text.",
                where,
                None,
            )
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EventError(
            "invalid_type",
            f"{where} must be a text, got {type(value).__name__}.",
            f"Send {where} as a JSON string.",
            where,
            value,
        )
    text = str(value).strip()
    if required and not text:
        raise EventError(
            "missing_field",
            f"{where} is empty.",
            f"Give {where} as a non-empty text.",
            where,
            value,
        )
    if len(text) > MAX_TEXT:
        raise EventError(
            "too_long",
            f"{where} has {len(text)} characters; at most {MAX_TEXT} are kept.",
            f"Shorten {where}.",
            where,
            text[:40] + "…",
        )
    return text or None


def _object(raw: dict[str, Any], key: str, allowed: tuple[str, ...], etype: str) -> dict[str, Any]:
    obj = raw.get(key)
    if obj is None:
        raise EventError(
            "missing_field",
            f'a {etype} event needs a "{key}" object.',
            f'Add "{key}": {{...}} with the canonical {key} columns (SPEC.md).',
            key,
            None,
        )
    if not isinstance(obj, dict):
        raise EventError(
            "invalid_type",
            f'"{key}" must be an object, got {type(obj).__name__}.',
            f'Send "{key}" as a JSON object.',
            key,
            obj,
        )
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise EventError(
            "unknown_field",
            f"{key}.{unknown[0]} is not a canonical {key} column.",
            f"Use only {', '.join(allowed)} (SPEC.md); rename or drop {unknown[0]}.",
            f"{key}.{unknown[0]}",
            obj[unknown[0]],
        )
    return obj


def _lead(raw: dict[str, Any], etype: str, at: datetime) -> dict[str, Any]:
    obj = _object(raw, "lead", LEAD_FIELDS, etype)
    out: dict[str, Any] = {"lead_id": _text(obj.get("lead_id"), "lead.lead_id", required=True)}
    for k in LEAD_TEXT:
        if k in obj:
            out[k] = _text(obj[k], f"lead.{k}")
    for k in LEAD_TIMES:
        if k in obj:
            out[k] = None if obj[k] is None else parse_time(obj[k], f"lead.{k}")
    if "status" in obj:
        status = obj["status"]
        if not isinstance(status, str) or status.strip().lower() not in STATUSES:
            raise EventError(
                "invalid_value",
                f'lead.status "{status}" is not open, won or lost.',
                "Send open, won or lost (map your CRM's stages onto them).",
                "lead.status",
                status,
            )
        out["status"] = status.strip().lower()
    if "revenue" in obj and obj["revenue"] is not None:
        rev = obj["revenue"]
        if isinstance(rev, bool) or not isinstance(rev, int | float) or not math.isfinite(rev):
            raise EventError(
                "invalid_type",
                f"lead.revenue must be a number, got {type(rev).__name__}.",
                "Send the revenue as a JSON number in the workspace currency, e.g. 12500.0.",
                "lead.revenue",
                rev,
            )
        if rev < 0:
            raise EventError(
                "invalid_value",
                f"lead.revenue {rev} is negative.",
                "Revenue is ≥ 0 (a refund is not a negative deal).",
                "lead.revenue",
                rev,
            )
        out["revenue"] = float(rev)
    elif "revenue" in obj:
        out["revenue"] = None
    if etype == "lead.closed":
        status = out.get("status")
        if status not in ("won", "lost"):
            raise EventError(
                "invalid_value",
                "a lead.closed event needs lead.status won or lost"
                + (f', got "{status}".' if status else "."),
                'Add "status": "won" or "lost" to the lead.',
                "lead.status",
                status,
            )
        if out.get("closed_at") is None:
            out["closed_at"] = at
    return out


def _activity(raw: dict[str, Any], at: datetime) -> dict[str, Any]:
    obj = _object(raw, "activity", ACTIVITY_FIELDS, "activity.logged")
    out: dict[str, Any] = {
        "lead_id": _text(obj.get("lead_id"), "activity.lead_id", required=True),
        "kind": (_text(obj.get("kind"), "activity.kind", required=True) or "").lower(),
        "at": at if obj.get("at") is None else parse_time(obj["at"], "activity.at"),
    }
    for k in ("activity_id", "rep", "outcome"):
        out[k] = _text(obj.get(k), f"activity.{k}")
    return out


def parse_event(raw: Any) -> Event:
    """One event object checked; raises :class:`EventError` on the first problem."""
    if not isinstance(raw, dict):
        raise EventError(
            "invalid_type",
            f"an event must be a JSON object, got {type(raw).__name__}.",
            'Send {"id": …, "type": …, "at": …, "lead"/"activity": {…}}.',
            None,
            None,
        )
    eid = raw.get("id")
    if eid is None or (isinstance(eid, str) and not eid.strip()):
        raise EventError(
            "missing_id",
            "the event has no id.",
            'Give every event a unique "id" (the CRM\'s event id, or a UUID): it makes '
            "retries safe.",
            "id",
            eid,
        )
    event_id = _text(eid, "id", required=True)
    assert event_id is not None
    etype = raw.get("type")
    if etype not in EVENT_TYPES:
        raise EventError(
            "unknown_event_type",
            f'event type "{etype}" is not known.',
            f"Use one of {', '.join(EVENT_TYPES)}.",
            "type",
            etype,
        )
    if raw.get("at") is None:
        raise EventError(
            "missing_field",
            "the event has no at (when it happened).",
            'Add "at" as ISO 8601 with its offset, e.g. "2026-03-02T09:15:00+01:00".',
            "at",
            None,
        )
    at = parse_time(raw["at"], "at")
    unknown = sorted(set(raw) - {"id", "type", "at", "lead", "activity"})
    if unknown:
        raise EventError(
            "unknown_field",
            f'"{unknown[0]}" is not an event field.',
            "An event has id, type, at and lead (lead events) or activity (activity.logged).",
            unknown[0],
            raw[unknown[0]],
        )
    if etype == "activity.logged":
        fields = _activity(raw, at)
    else:
        fields = _lead(raw, etype, at)
    return Event(event_id, etype, at, fields, raw)


def parse_body(body: bytes, content_type: str | None) -> list[Any]:
    """The events of a body: one JSON object, a JSON array, or NDJSON (one per line).

    NDJSON is read when the content type says so (``application/x-ndjson``,
    ``application/jsonl``) or when the body is several JSON values on separate lines; a line
    that is not JSON becomes a :class:`EventError` in its place (the others still count).
    """
    ctype = (content_type or "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BodyError(
            f"the body is not UTF-8 (byte {e.start}).", "Send the events as UTF-8 JSON."
        ) from None
    if not text.strip():
        raise BodyError("the body is empty.", "Send one event object, an array, or NDJSON.")
    if ctype not in ("application/x-ndjson", "application/jsonl", "application/ndjson"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            if e.msg != "Extra data":
                raise BodyError(
                    f"the body is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}.",
                    "Send one event object, a JSON array of them, or NDJSON (one per line, "
                    "Content-Type application/x-ndjson).",
                ) from None
        else:
            if isinstance(data, list):
                return data
            return [data]
    out: list[Any] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            out.append(
                EventError(
                    "malformed_json",
                    f"NDJSON line {n} is not valid JSON: {e.msg} at column {e.colno}.",
                    "Put exactly one JSON event object on each line.",
                    None,
                    None,
                )
            )
    return out
