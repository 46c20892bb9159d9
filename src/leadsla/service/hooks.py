"""CRM webhooks turned into leadsla events (the receivers are in ``routers/hooks.py``).

**HubSpot webhooks v3** (a JSON array of notifications). The request is genuine when
``X-HubSpot-Signature-v3`` equals base64(HMAC-SHA256(app client secret, method + URI + body +
``X-HubSpot-Request-Timestamp``)) and the timestamp is at most 5 minutes old. Mapped like the
shipped ``hubspot`` mapping (``lead_id`` = the contact's record id):

- ``contact.creation`` → ``lead.created`` (``created_at`` = ``occurredAt``);
- ``contact.propertyChange`` of ``lifecyclestage``: ``marketingqualifiedlead`` → ``mql_at``,
  ``customer`` → closed won; of ``hs_lead_status``: ``UNQUALIFIED`` → closed lost; of
  ``hubspot_owner_id`` → ``owner``; other properties are acknowledged and ignored;
- calls and emails: HubSpot's notifications of a call (object type ``0-48``) or an email
  (``0-49``) carry no contact, so the *association* notification links them:
  ``object.associationChange`` / ``contact.associationChange`` between a contact (``0-1``)
  and a call or email → ``activity.logged`` (kind ``call``/``email``, ``at`` = ``occurredAt``);
  creations of calls and emails alone are acknowledged and ignored.

Event ids are ``hubspot-<eventId>``: HubSpot's retries of a notification are duplicates.

**Salesforce outbound messages** (SOAP, ``notifications`` of ``Lead`` and ``Task`` sObjects),
answered with the SOAP ``<Ack>true</Ack>``. Genuine when the shared secret (query parameter
``secret``, set in the outbound message's endpoint URL, or header ``X-Leadsla-Secret``)
matches, and, when configured, ``OrganizationId`` is the org's. Mapped like the shipped
``salesforce`` mapping: Lead ``Id``/``CreatedDate``/``OwnerId``/``LeadSource``/``Status``
(through the mapping's status values: ``Closed - Not Converted`` → lost …;
``IsConverted`` true keeps it open, as the mapping does without the opportunity);
a completed Task (``IsClosed`` true) with a ``WhoId`` → ``activity.logged`` (kind from
``TaskSubtype``/``Type`` through the mapping's kind values, outcome from ``CallDisposition``
through its outcome values). Event ids are ``salesforce-<Notification Id>``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import unquote

__all__ = [
    "SOAP_ACK",
    "HookError",
    "hubspot_events",
    "hubspot_signature",
    "salesforce_events",
]

SOAP_ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    "<soapenv:Body>"
    '<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
    "<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"
)
_OUTBOUND = "{http://soap.sforce.com/2005/09/outbound}"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
HUBSPOT_KINDS = {"0-48": "call", "0-49": "email"}


class HookError(Exception):
    """A webhook body that cannot be read (400) with its fix."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


# --------------------------------------------------------------------------- HubSpot


def hubspot_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """HubSpot v3: base64(HMAC-SHA256(secret, method + decoded URI + body + timestamp))."""
    source = method.upper().encode() + _decode_uri(uri).encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), source, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _decode_uri(uri: str) -> str:
    """HubSpot signs the URI with these escapes decoded (its documentation's list)."""
    for enc in ("%3A", "%2F", "%3F", "%40", "%21", "%24", "%27", "%28", "%29", "%2A", "%2C", "%3B"):
        uri = uri.replace(enc, unquote(enc)).replace(enc.lower(), unquote(enc))
    return uri


def _ms(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise HookError(
            f"{where} is not a time in epoch milliseconds: {value!r}.",
            "Send HubSpot's notification unchanged.",
        )
    return datetime.fromtimestamp(value / 1000, tz=UTC).isoformat()


def hubspot_events(payload: Any) -> tuple[list[dict[str, Any]], int]:
    """HubSpot notifications → (leadsla events, notifications ignored)."""
    if not isinstance(payload, list):
        payload = [payload]
    out: list[dict[str, Any]] = []
    ignored = 0
    for i, n in enumerate(payload):
        if not isinstance(n, dict) or "eventId" not in n or "subscriptionType" not in n:
            raise HookError(
                f"notification {i} is not a HubSpot webhook notification (no eventId or "
                "subscriptionType).",
                "Point only HubSpot's webhook subscriptions at this endpoint.",
            )
        kind = str(n["subscriptionType"])
        at = _ms(n.get("occurredAt"), f"notification {i} occurredAt")
        base = {"id": f"hubspot-{n['eventId']}", "at": at}
        obj = str(n.get("objectId", ""))
        if kind == "contact.creation":
            out.append(base | {"type": "lead.created", "lead": {"lead_id": obj, "created_at": at}})
        elif kind == "contact.propertyChange":
            lead = _hubspot_property(obj, str(n.get("propertyName")), n.get("propertyValue"), at)
            if lead is None:
                ignored += 1
                continue
            etype = "lead.closed" if lead.get("status") in ("won", "lost") else "lead.updated"
            out.append(base | {"type": etype, "lead": lead})
        elif kind in ("object.associationChange", "contact.associationChange"):
            act = _hubspot_association(n, at)
            if act is None:
                ignored += 1
                continue
            out.append(base | {"type": "activity.logged", "activity": act})
        else:
            ignored += 1
    return out, ignored


def _hubspot_property(obj: str, name: str, value: Any, at: str) -> dict[str, Any] | None:
    v = "" if value is None else str(value).strip()
    if name == "lifecyclestage":
        if v.lower() == "marketingqualifiedlead":
            return {"lead_id": obj, "mql_at": at}
        if v.lower() == "customer":
            return {"lead_id": obj, "status": "won", "closed_at": at}
        return None
    if name == "hs_lead_status" and v.upper() == "UNQUALIFIED":
        return {"lead_id": obj, "status": "lost", "closed_at": at}
    if name == "hubspot_owner_id":
        return {"lead_id": obj, "owner": v or None}
    return None


def _hubspot_association(n: dict[str, Any], at: str) -> dict[str, Any] | None:
    if n.get("associationRemoved"):
        return None
    a_type, b_type = str(n.get("fromObjectTypeId", "")), str(n.get("toObjectTypeId", ""))
    a_id, b_id = str(n.get("fromObjectId", "")), str(n.get("toObjectId", ""))
    if not a_type and "associationType" in n:  # contact.associationChange, legacy names
        assoc = str(n["associationType"]).upper()
        a_type = "0-1" if assoc.startswith("CONTACT_TO_") else ""
        b_type = {"CONTACT_TO_CALL": "0-48", "CONTACT_TO_EMAIL": "0-49"}.get(assoc, "")
    if b_type == "0-1":
        a_type, b_type, a_id, b_id = b_type, a_type, b_id, a_id
    if a_type != "0-1" or b_type not in HUBSPOT_KINDS or not a_id or not b_id:
        return None
    kind = HUBSPOT_KINDS[b_type]
    return {"activity_id": f"hubspot-{kind}-{b_id}-{a_id}", "lead_id": a_id, "at": at, "kind": kind}


# --------------------------------------------------------------------------- Salesforce


@cache
def _salesforce_values() -> dict[str, dict[str, str]]:
    """The shipped salesforce mapping's value translations (status, kind, outcome)."""
    from leadsla.io.mapping import load_mapping

    m = load_mapping("salesforce")
    out: dict[str, dict[str, str]] = {}
    for table, col in (("leads", "status"), ("activities", "kind"), ("activities", "outcome")):
        for rule in m.tables.get(table, ()):
            if col in rule.columns:
                out[col] = dict(rule.columns[col].values)
    return out


def _sf_time(text: str | None, where: str) -> str | None:
    if not text:
        return None
    t = text.strip()
    try:
        parsed = datetime.fromisoformat(t[:-1] + "+00:00" if t.endswith("Z") else t)
    except ValueError:
        raise HookError(
            f"{where} {t!r} is not a Salesforce dateTime.", "Send it unchanged."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # Salesforce dateTimes are UTC
    return parsed.isoformat()


def salesforce_events(body: bytes) -> tuple[str | None, list[dict[str, Any]], int]:
    """An outbound message → (OrganizationId, leadsla events, notifications ignored)."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise HookError("the body declares a DOCTYPE or entities.", "Send the SOAP message as is.")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise HookError(f"the body is not XML ({e}).", "Send the SOAP outbound message.") from None
    notes = root.find(f".//{_OUTBOUND}notifications")
    if notes is None:
        raise HookError(
            "no outbound-message notifications in the SOAP body.",
            "Point only Salesforce outbound messages (Lead, Task) at this endpoint.",
        )
    org = (notes.findtext(f"{_OUTBOUND}OrganizationId") or "").strip() or None
    values = _salesforce_values()
    out: list[dict[str, Any]] = []
    ignored = 0
    for note in notes.findall(f"{_OUTBOUND}Notification"):
        nid = (note.findtext(f"{_OUTBOUND}Id") or "").strip()
        sobj = note.find(f"{_OUTBOUND}sObject")
        if not nid or sobj is None:
            raise HookError("a Notification without Id or sObject.", "Send the message as is.")
        fields = {el.tag.split("}")[-1]: (el.text or "").strip() for el in sobj}
        stype = (sobj.get(_XSI_TYPE) or "").split(":")[-1]
        if stype == "Lead":
            out.append(_sf_lead(nid, fields, values))
        elif stype == "Task":
            ev = _sf_task(nid, fields, values)
            if ev is None:
                ignored += 1
            else:
                out.append(ev)
        else:
            ignored += 1
    return org, out, ignored


def _sf_lead(nid: str, f: dict[str, str], values: dict[str, dict[str, str]]) -> dict[str, Any]:
    created = _sf_time(f.get("CreatedDate"), "Lead CreatedDate")
    at = _sf_time(f.get("LastModifiedDate"), "Lead LastModifiedDate") or created
    if at is None:
        raise HookError(
            "a Lead notification without CreatedDate or LastModifiedDate.",
            "Add CreatedDate and LastModifiedDate to the outbound message's fields.",
        )
    lead: dict[str, Any] = {"lead_id": f.get("Id", "")}
    if created:
        lead["created_at"] = created
    if f.get("OwnerId") and not f["OwnerId"].startswith("00G"):
        lead["owner"] = f["OwnerId"]
    if f.get("LeadSource"):
        lead["campaign"] = f["LeadSource"]
    status = values.get("status", {}).get(f.get("Status", "").lower())
    if f.get("IsConverted", "").lower() == "true":
        status = "open"  # converted: its opportunity decides (not in the message)
    etype = "lead.updated"
    if status in ("won", "lost"):
        lead |= {"status": status, "closed_at": at}
        etype = "lead.closed"
    return {"id": f"salesforce-{nid}", "type": etype, "at": at, "lead": lead}


def _sf_task(
    nid: str, f: dict[str, str], values: dict[str, dict[str, str]]
) -> dict[str, Any] | None:
    if f.get("IsClosed", "").lower() != "true" or not f.get("WhoId"):
        return None  # a planned task, or one on no lead: not a contact attempt (as the mapping)
    at = _sf_time(f.get("CompletedDateTime") or f.get("CreatedDate"), "Task CompletedDateTime")
    if at is None:
        raise HookError(
            "a Task notification without CompletedDateTime or CreatedDate.",
            "Add CompletedDateTime and CreatedDate to the outbound message's fields.",
        )
    raw_kind = (f.get("TaskSubtype") or f.get("Type") or "task").strip().lower()
    kind = values.get("kind", {}).get(raw_kind, raw_kind)
    if kind == "call" and f.get("CallType", "").lower() == "inbound":
        kind = "inbound_call"
    outcome = None
    if kind == "email":
        outcome = "sent"
    elif f.get("CallDisposition"):
        d = f["CallDisposition"].strip()
        outcome = "connected" if d.lower().startswith("connected") else d
        outcome = values.get("outcome", {}).get(outcome.lower(), outcome)
    act = {
        "activity_id": f.get("Id") or None,
        "lead_id": f["WhoId"],
        "at": at,
        "kind": kind,
        "rep": f.get("OwnerId") or None,
        "outcome": outcome,
    }
    return {"id": f"salesforce-{nid}", "type": "activity.logged", "at": at, "activity": act}
