"""Alerts: transitions and checks become outbox rows; a worker delivers them at least once.

The policy's ``[alerts]`` table says who hears what::

    [alerts]
    dashboard_url = "https://sla.example.com"    # links in the alert text (else --public-url)
    escalate_after_hours = 2                      # business hours in breach, then the manager
    pace_check_at = "09:30"                       # local time, business days: marketing's pace
    max_attempts = 8                              # then the alert is a dead letter
    retry_base_seconds = 30                       # backoff: 30 s, 60 s, 120 s, … (at most 1 h)

    [[alerts.channels]]
    name = "sales"
    url = "https://hooks.example.com/leadsla"     # http(s): a signed JSON webhook (ours)
    format = "slack"                              # "json" (default) or Slack's {"text", "blocks"}
    secret_env = "LEADSLA_WEBHOOK_SECRET"         # the HMAC key, read from this variable
    events = ["warning", "breach"]

    [[alerts.channels]]
    name = "managers"
    url = "mailto://smtp.example.com?from=sla@example.com&to=heads@example.com"  # any Apprise URL
    events = ["escalation", "pace"]

    [alerts.managers]                             # escalation: the rep's manager's channel
    ana = "managers"
    "*" = "managers"

Every alert is one ``outbox`` row per channel, written in the same transaction as the step
that decided it (the planner's cursor over ``transitions``, the escalation scan, the daily
pace check), unique on its dedup key: a crash before the commit redoes the step, a crash
after it leaves the row for the worker. The worker sends, then marks the row delivered; a crash
in between sends it again — at least once — and receivers drop repeats by the
``X-Leadsla-Dedup-Key`` header (also sent as ``Idempotency-Key``). Failures back off
exponentially; after ``max_attempts`` the row is a dead letter, shown by ``GET /v1/alerts``
and the dashboard.

Webhooks are signed: ``X-Leadsla-Timestamp: T`` (Unix seconds) and
``X-Leadsla-Signature: v1=HEX``, HEX = HMAC-SHA256(secret, f"{T}.{body}"); a receiver
recomputes it and refuses stale timestamps (see :func:`verify_signature`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import time as _time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select, update

from leadsla.errors import ConfigError
from leadsla.service import db
from leadsla.service.store import PolicyVersion, Store

__all__ = [
    "KINDS",
    "AlertRules",
    "Channel",
    "check_alerts",
    "deliver_due",
    "escalate",
    "outbox",
    "pace_check",
    "plan_transitions",
    "rules_of",
    "run_alerts",
    "sign",
    "verify_signature",
]

log = logging.getLogger("leadsla.service")

KINDS = ("warning", "breach", "escalation", "pace")
_CHANNEL_KEYS = ("name", "url", "events", "format", "secret_env")
_ALERT_KEYS = (
    "channels",
    "managers",
    "dashboard_url",
    "escalate_after_hours",
    "pace_check_at",
    "max_attempts",
    "retry_base_seconds",
)
_CURSOR = "alerts.transition_cursor"
_PACE = "alerts.pace_checked"


@dataclass(frozen=True)
class Channel:
    """Where alerts go: a signed http(s) webhook of ours, or any Apprise URL."""

    name: str
    url: str = field(repr=False)
    events: tuple[str, ...] = ("warning", "breach", "escalation", "pace")
    format: str = "json"
    secret_env: str | None = None

    @property
    def webhook(self) -> bool:
        return self.url.startswith(("http://", "https://"))

    def secret(self) -> bytes:
        value = os.environ.get(self.secret_env or "", "")
        if not value:
            raise ConfigError(
                f"alert channel {self.name}: the environment variable {self.secret_env} holding "
                "its signing secret is not set. Set it before starting leadsla serve."
            )
        return value.encode()


@dataclass(frozen=True)
class AlertRules:
    """The policy's ``[alerts]`` table, checked (every problem in one ConfigError)."""

    channels: tuple[Channel, ...] = ()
    managers: Mapping[str, str] = field(default_factory=dict)
    dashboard_url: str | None = None
    escalate_after_hours: float | None = None
    pace_check_at: dtime | None = None
    max_attempts: int = 8
    retry_base_seconds: float = 30.0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, /, *, where: str = "alerts") -> AlertRules:
        if not data:
            return cls()
        problems: list[str] = []
        for key in data:
            if key not in _ALERT_KEYS:
                problems.append(f"{where}.{key}: unknown key. Keys: {', '.join(_ALERT_KEYS)}.")
        channels: list[Channel] = []
        raw = data.get("channels", [])
        if not isinstance(raw, list):
            problems.append(f"{where}.channels: write [[alerts.channels]] tables.")
            raw = []
        for i, ch in enumerate(raw):
            w = f"{where}.channels[{i}]"
            if not isinstance(ch, dict):
                problems.append(f"{w}: a table with name, url and events.")
                continue
            for key in ch:
                if key not in _CHANNEL_KEYS:
                    problems.append(f"{w}.{key}: unknown key. Keys: {', '.join(_CHANNEL_KEYS)}.")
            name, url = ch.get("name"), ch.get("url")
            if not isinstance(name, str) or not name:
                problems.append(f'{w}.name: give the channel a name, e.g. name = "sales".')
                continue
            if not isinstance(url, str) or "://" not in url:
                problems.append(
                    f"{w}.url: give an Apprise URL (slack://…, msteams://…, mailto://…) or an "
                    "http(s) URL for a signed webhook."
                )
                continue
            events = ch.get("events", list(KINDS))
            bad = [e for e in events if e not in KINDS] if isinstance(events, list) else [events]
            if bad:
                problems.append(f"{w}.events: {bad[0]!r} is not one of {', '.join(KINDS)}.")
                continue
            fmt = ch.get("format", "json")
            if fmt not in ("json", "slack"):
                problems.append(f'{w}.format: {fmt!r}; write "json" or "slack".')
                continue
            secret_env = ch.get("secret_env")
            c = Channel(name, url, tuple(events), fmt, secret_env)
            if c.webhook and not secret_env:
                problems.append(
                    f"{w}.secret_env: a webhook is signed; name the environment variable that "
                    'holds its secret, e.g. secret_env = "LEADSLA_WEBHOOK_SECRET".'
                )
                continue
            if not c.webhook:
                import apprise

                if not apprise.Apprise().add(url):
                    problems.append(
                        f"{w}.url: Apprise does not know this URL (scheme "
                        f"{url.split('://', 1)[0]!r}). See Apprise's list of services."
                    )
                    continue
            channels.append(c)
        names = {c.name for c in channels}
        if len(names) < len(channels):
            problems.append(f"{where}.channels: two channels share a name; names must differ.")
        managers = data.get("managers", {})
        if not isinstance(managers, dict):
            problems.append(f'{where}.managers: a table rep = "channel name".')
            managers = {}
        for rep, ch_name in managers.items():
            if ch_name not in names:
                problems.append(
                    f"{where}.managers.{rep}: {ch_name!r} is not a channel name "
                    f"({', '.join(sorted(names)) or 'no channels'})."
                )
        esc = data.get("escalate_after_hours")
        if esc is not None and (not isinstance(esc, int | float) or esc < 0):
            problems.append(f"{where}.escalate_after_hours: {esc!r}; give business hours ≥ 0.")
        pace: dtime | None = None
        if "pace_check_at" in data:
            m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(data["pace_check_at"]))
            if not m or int(m[1]) > 23 or int(m[2]) > 59:
                problems.append(
                    f"{where}.pace_check_at: {data['pace_check_at']!r}; "
                    'write "HH:MM", e.g. "09:30".'
                )
            else:
                pace = dtime(int(m[1]), int(m[2]))
        max_attempts = data.get("max_attempts", 8)
        if not isinstance(max_attempts, int) or max_attempts < 1:
            problems.append(f"{where}.max_attempts: {max_attempts!r}; give a whole number ≥ 1.")
        base = data.get("retry_base_seconds", 30.0)
        if not isinstance(base, int | float) or base <= 0:
            problems.append(f"{where}.retry_base_seconds: {base!r}; give seconds > 0.")
        if problems:
            raise ConfigError("the policy's alerts are not usable:\n" + "\n".join(problems))
        return cls(
            channels=tuple(channels),
            managers=dict(managers),
            dashboard_url=data.get("dashboard_url"),
            escalate_after_hours=None if esc is None else float(esc),
            pace_check_at=pace,
            max_attempts=int(max_attempts),
            retry_base_seconds=float(base),
        )

    def channel(self, name: str) -> Channel | None:
        return next((c for c in self.channels if c.name == name), None)

    def for_kind(self, kind: str) -> list[Channel]:
        return [c for c in self.channels if kind in c.events]


_RULES: dict[str, AlertRules] = {}


def check_alerts(text: str, /, *, where: str = "policy") -> AlertRules:
    """The ``[alerts]`` of a policy text, checked (ConfigError listing every problem)."""
    try:
        data = tomllib.loads(text).get("alerts")
    except tomllib.TOMLDecodeError:
        return AlertRules()  # the policy parser reports the syntax error itself
    return AlertRules.from_dict(data, where=f"{where}: alerts")


def rules_of(pv: PolicyVersion | None, /) -> AlertRules:
    """The alert rules of one policy version (parsed once per policy text)."""
    if pv is None:
        return AlertRules()
    if pv.sha256 not in _RULES:
        data = tomllib.loads(pv.toml).get("alerts")
        _RULES[pv.sha256] = AlertRules.from_dict(data, where=f"policy v{pv.version} alerts")
    return _RULES[pv.sha256]


# ---------------------------------------------------------------------------- the outbox


def _state(conn: Any, name: str) -> str | None:
    row = conn.execute(
        select(db.service_state.c.value).where(db.service_state.c.name == name)
    ).first()
    return None if row is None else str(row.value)


def _set_state(store: Store, conn: Any, name: str, value: str) -> None:
    stmt = store._insert(db.service_state).values(name=name, value=value)
    conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"value": value}))


def _enqueue(store: Store, conn: Any, rows: Sequence[dict[str, Any]]) -> int:
    if not rows:
        return 0
    res = conn.execute(store._insert(db.outbox).on_conflict_do_nothing(), list(rows))
    return int(res.rowcount or 0)


def _row(
    key: str, kind: str, ch: Channel, lead_id: str | None, title: str, body: str,
    payload: dict[str, Any], now: datetime,
) -> dict[str, Any]:  # fmt: skip
    return {
        "dedup_key": f"{key}:{ch.name}",
        "kind": kind,
        "channel": ch.name,
        "lead_id": lead_id,
        "title": title,
        "body": body,
        "payload": json.dumps(payload, default=str),
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now,
    }


def _local(t: datetime, tz: str) -> str:
    return t.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M %Z")


def _link(rules: AlertRules, public_url: str | None, lead_id: str) -> str | None:
    base = rules.dashboard_url or public_url
    return f"{base.rstrip('/')}/leads/{lead_id}" if base else None


_CLOCK_TEXT = {"first_response": "first response", "attempts": "follow-up attempts"}


def _describe(
    kind: str, t: Mapping[str, Any], lead: Mapping[str, Any], pv: PolicyVersion, link: str | None
) -> tuple[str, str]:
    """Title and text of a lead alert: which lead, what is due, by when (local time), a link."""
    due = t["due_at"] if isinstance(t["due_at"], datetime) else datetime.fromisoformat(t["due_at"])
    what = _CLOCK_TEXT.get(t["clock"], t["clock"])
    who = ", ".join(f"{k} {lead[k]}" for k in ("segment", "campaign", "owner") if lead.get(k))
    lid = t["lead_id"]
    when = _local(due, pv.calendar.time_zone)
    if kind == "warning":
        share = t["transition"].removeprefix("warning_")
        title = f"Lead {lid}: {what} due {when}"
        text = f"Lead {lid} ({who}): {what} is due by {when}; {share}% of its time is used."
    elif kind == "breach":
        title = f"Lead {lid}: {what} breached"
        text = f"Lead {lid} ({who}): {what} was due by {when} and is now in breach."
    else:
        title = f"Escalation: lead {lid} still in breach"
        text = (
            f"Lead {lid} ({who}): {what} was due by {when} and is still not done; "
            "escalated to the rep's manager."
        )
    if link:
        text += f" Open: {link}"
    return title, text


def _leads(conn: Any, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    L = db.leads
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(ids), 500):
        part = list(ids[i : i + 500])
        for r in conn.execute(
            select(L.c.lead_id, L.c.segment, L.c.campaign, L.c.owner, L.c.status).where(
                L.c.lead_id.in_(part)
            )
        ):
            out[r.lead_id] = dict(r._mapping)
    return out


def plan_transitions(store: Store, /, *, public_url: str | None = None, limit: int = 2000) -> int:
    """Outbox rows for transitions fired since the cursor (warnings and breaches); returns how
    many rows were added. The rows and the cursor's move commit together."""
    T = db.transitions
    with store.engine.begin() as conn:
        cursor = int(_state(conn, _CURSOR) or 0)
        trs = conn.execute(select(T).where(T.c.id > cursor).order_by(T.c.id).limit(limit)).all()
        if not trs:
            return 0
        # only transitions some channel hears are described (and their leads read)
        heard: list[tuple[Any, str, AlertRules, list[Channel]]] = []
        for t in trs:
            if t.transition == "breached":
                kind = "breach"
            elif t.transition.startswith("warning_"):
                kind = "warning"
            else:
                continue  # met: nobody needs to hear it
            rules = rules_of(store.policy(t.policy_version))
            channels = rules.for_kind(kind)
            if channels:
                heard.append((t, kind, rules, channels))
        leads = _leads(conn, sorted({t.lead_id for t, *_ in heard}))
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = []
        for t, kind, rules, channels in heard:
            pv = store.policy(t.policy_version)
            lead = leads.get(t.lead_id, {})
            link = _link(rules, public_url, t.lead_id)
            m = dict(t._mapping)
            title, text = _describe(kind, m, lead, pv, link)
            payload = {
                "kind": kind,
                "lead_id": t.lead_id,
                "clock": t.clock,
                "transition": t.transition,
                "due_at": t.due_at.isoformat(),
                "due_local": _local(t.due_at, pv.calendar.time_zone),
                "owner": lead.get("owner"),
                "segment": lead.get("segment"),
                "campaign": lead.get("campaign"),
                "link": link,
            }
            for ch in channels:
                rows.append(_row(f"t{t.id}", kind, ch, t.lead_id, title, text, payload, now))
        added = _enqueue(store, conn, rows)
        _set_state(store, conn, _CURSOR, str(trs[-1].id))
    return added


def escalate(store: Store, /, *, now: datetime | None = None, public_url: str | None = None) -> int:
    """Outbox rows for breaches still open after the policy's ``escalate_after_hours`` of
    business time: to the channel of the rep's manager (``[alerts.managers]``)."""
    if all(rules_of(pv).escalate_after_hours is None for pv in store.policies):
        return 0  # no version escalates: nothing to look up
    now = now or datetime.now(UTC)
    T, S, L = db.transitions, db.lead_sla, db.leads
    rows: list[dict[str, Any]] = []
    with store.engine.begin() as conn:
        standing = conn.execute(
            select(T, S.c.first_attempt_at, S.c.attempts_in_window, S.c.required, L.c.status)
            .join(S, S.c.lead_id == T.c.lead_id)
            .join(L, L.c.lead_id == T.c.lead_id)
            .where(T.c.transition == "breached")
            .where(L.c.status == "open")
            .where(
                ((T.c.clock == "first_response") & S.c.first_attempt_at.is_(None))
                | ((T.c.clock == "attempts") & (S.c.attempts_in_window < S.c.required))
            )
        ).all()
        if not standing:
            return 0
        done = {
            r.dedup_key.split(":")[1] + ":" + r.dedup_key.split(":")[2]
            for r in conn.execute(
                select(db.outbox.c.dedup_key).where(db.outbox.c.kind == "escalation")
            )
        }
        leads = _leads(conn, sorted({t.lead_id for t in standing}))
        for t in standing:
            if f"{t.lead_id}:{t.clock}" in done:
                continue
            pv = store.policy(t.policy_version)
            rules = rules_of(pv)
            if rules.escalate_after_hours is None:
                continue
            if now <= t.due_at:
                continue
            in_breach = float(pv.calendar.elapsed(t.due_at, now))
            if in_breach < rules.escalate_after_hours * 3600:
                continue
            lead = leads.get(t.lead_id, {})
            name = rules.managers.get(lead.get("owner") or "") or rules.managers.get("*")
            ch = rules.channel(name) if name else None
            if ch is None:
                continue
            link = _link(rules, public_url, t.lead_id)
            title, text = _describe("escalation", dict(t._mapping), lead, pv, link)
            payload = {
                "kind": "escalation",
                "lead_id": t.lead_id,
                "clock": t.clock,
                "due_at": t.due_at.isoformat(),
                "business_hours_in_breach": round(in_breach / 3600, 2),
                "owner": lead.get("owner"),
                "link": link,
            }
            key = f"esc:{t.lead_id}:{t.clock}"
            rows.append(_row(key, "escalation", ch, t.lead_id, title, text, payload, now))
        return _enqueue(store, conn, rows)


def pace_check(
    store: Store, /, *, now: datetime | None = None, public_url: str | None = None
) -> int:
    """Once a business day, at ``pace_check_at`` local time: is marketing behind the pace of
    its MQL goal for the period? One alert a day to the ``pace`` channels when it is."""
    now = now or datetime.now(UTC)
    pv = store.current
    rules = rules_of(pv)
    if pv is None or rules.pace_check_at is None or not rules.for_kind("pace"):
        return 0
    local = now.astimezone(ZoneInfo(pv.calendar.time_zone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if local.time() < rules.pace_check_at:
        return 0
    if float(pv.calendar.elapsed(midnight, midnight + timedelta(days=1))) <= 0:
        return 0  # no business hours today
    day = local.date().isoformat()
    with store.engine.connect() as conn:
        if _state(conn, _PACE) == day:
            return 0
    from leadsla.service.summary import summary

    m = summary(store, now).get("marketing") or {}
    target, delivered, pace = m.get("target"), m.get("delivered"), m.get("pace")
    behind = pace is not None and delivered is not None and pace < 1
    expected = delivered / pace if behind and pace else float(target or 0)
    with store.engine.begin() as conn:
        if _state(conn, _PACE) == day:
            return 0
        added = 0
        if behind:
            title = f"Marketing behind pace: {delivered} of {target} MQLs"
            text = (
                f"Marketing has delivered {delivered} MQLs this period; the pace to reach the "
                f"goal of {target} asks for {expected:.0f} by today ({local:%a %d %b %Y})."
            )
            base = rules.dashboard_url or public_url
            if base:
                text += f" Open: {base.rstrip('/')}/"
            payload = {"kind": "pace", "date": day, **{k: m.get(k) for k in m}}
            rows = [
                _row(f"pace:{day}", "pace", ch, None, title, text, payload, now)
                for ch in rules.for_kind("pace")
            ]
            added = _enqueue(store, conn, rows)
        _set_state(store, conn, _PACE, day)
    return added


# ---------------------------------------------------------------------------- delivery


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """``v1=`` + HMAC-SHA256(secret, f"{timestamp}.{body}") in hex.

    >>> s = sign(b"secret", 1767225600, b'{"kind": "breach"}')
    >>> s.startswith("v1="), len(s)
    (True, 67)
    """
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify_signature(
    secret: bytes, headers: Mapping[str, str], body: bytes, *, max_age_s: float = 300
) -> bool:
    """A receiver's check of a leadsla webhook: the signature matches and is fresh."""
    ts = headers.get("x-leadsla-timestamp") or headers.get("X-Leadsla-Timestamp") or ""
    sig = headers.get("x-leadsla-signature") or headers.get("X-Leadsla-Signature") or ""
    if not ts.isdigit() or abs(_time.time() - int(ts)) > max_age_s:
        return False
    return hmac.compare_digest(sign(secret, int(ts), body), sig)


def _slack(title: str, text: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
    ]
    if payload.get("link"):
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the lead"},
                        "url": payload["link"],
                    }
                ],
            }
        )
    return {"text": text, "blocks": blocks}


class DeliveryError(Exception):
    """A channel refused or could not be reached (retried with backoff)."""


def _send(ch: Channel, row: Any) -> None:
    payload = json.loads(row.payload)
    if ch.webhook:
        import httpx

        doc = (
            _slack(row.title, row.body, payload)
            if ch.format == "slack"
            else {"title": row.title, "text": row.body, "dedup_key": row.dedup_key, **payload}
        )
        body = json.dumps(doc).encode()
        ts = int(_time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "leadsla-alerts",
            "X-Leadsla-Timestamp": str(ts),
            "X-Leadsla-Signature": sign(ch.secret(), ts, body),
            "X-Leadsla-Dedup-Key": row.dedup_key,
            "Idempotency-Key": row.dedup_key,
        }
        try:
            r = httpx.post(ch.url, content=body, headers=headers, timeout=10.0)
        except httpx.HTTPError as e:
            raise DeliveryError(f"{type(e).__name__}: could not reach the webhook") from None
        if r.status_code >= 300:
            raise DeliveryError(f"the webhook answered HTTP {r.status_code}")
        return
    import apprise

    a = apprise.Apprise()
    a.add(ch.url)
    if not a.notify(title=row.title, body=row.body):
        raise DeliveryError("Apprise could not deliver (see the service log)")


def deliver_due(store: Store, /, *, now: datetime | None = None, limit: int = 100) -> int:
    """Send the outbox rows whose time has come; returns how many were delivered."""
    now = now or datetime.now(UTC)
    O = db.outbox  # noqa: E741
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(O)
            .where(and_(O.c.delivered_at.is_(None), O.c.dead_at.is_(None)))
            .where(O.c.next_attempt_at <= now)
            .order_by(O.c.next_attempt_at, O.c.id)
            .limit(limit)
        ).all()
    delivered = 0
    for row in rows:
        pv = store.current
        rules = rules_of(pv)
        ch = rules.channel(row.channel)
        if ch is None:  # the channel is no longer in the policy: try the versions that had it
            ch = next(
                (c for p in reversed(store.policies) if (c := rules_of(p).channel(row.channel))),
                None,
            )
        error: str | None = None
        if ch is None:
            error = f"no channel named {row.channel} in any policy version"
        else:
            try:
                _send(ch, row)
            except (DeliveryError, ConfigError) as e:
                error = str(e)
            except Exception as e:  # an Apprise plugin failing in its own way
                error = f"{type(e).__name__}"
        done = datetime.now(UTC)
        with store.engine.begin() as conn:
            if error is None:
                conn.execute(update(O).where(O.c.id == row.id).values(delivered_at=done))
                store.counters["alerts_delivered"] += 1
                delivered += 1
                continue
            attempts = row.attempts + 1
            store.counters["alerts_failed_attempts"] += 1
            values: dict[str, Any] = {"attempts": attempts, "last_error": error[:500]}
            if attempts >= rules.max_attempts or ch is None:
                values["dead_at"] = done
                store.counters["alerts_dead"] += 1
                log.warning("alert %s to %s is a dead letter: %s", row.id, row.channel, error)
            else:
                delay = min(rules.retry_base_seconds * 2 ** (attempts - 1), 3600.0)
                values["next_attempt_at"] = done + timedelta(seconds=delay)
            conn.execute(update(O).where(O.c.id == row.id).values(**values))
    return delivered


def outbox(
    store: Store, /, *, state: str | None = None, lead_id: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """Alerts, newest first: ``state`` pending, delivered or dead (all when None)."""
    O = db.outbox  # noqa: E741
    q = select(O).order_by(O.c.id.desc()).limit(limit)
    if state == "pending":
        q = q.where(O.c.delivered_at.is_(None), O.c.dead_at.is_(None))
    elif state == "delivered":
        q = q.where(O.c.delivered_at.is_not(None))
    elif state == "dead":
        q = q.where(O.c.dead_at.is_not(None))
    if lead_id is not None:
        q = q.where(O.c.lead_id == lead_id)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["payload"] = json.loads(d["payload"])
        d["state"] = "delivered" if d["delivered_at"] else "dead" if d["dead_at"] else "pending"
        for k in ("created_at", "next_attempt_at", "delivered_at", "dead_at"):
            d[k] = d[k].isoformat() if d[k] else None
        out.append(d)
    return out


def outbox_counts(store: Store, /) -> dict[str, int]:
    O = db.outbox  # noqa: E741
    with store.engine.connect() as conn:
        pending = conn.execute(
            select(func.count()).where(O.c.delivered_at.is_(None), O.c.dead_at.is_(None))
        ).scalar()
        dead = conn.execute(select(func.count()).where(O.c.dead_at.is_not(None))).scalar()
        done = conn.execute(select(func.count()).where(O.c.delivered_at.is_not(None))).scalar()
    return {"pending": int(pending or 0), "delivered": int(done or 0), "dead": int(dead or 0)}


async def run_alerts(
    store: Store, stop: asyncio.Event, *, interval: float = 0.5, public_url: str | None = None
) -> None:
    """Plan and deliver alerts until ``stop`` is set (a task of the app's lifespan)."""
    last_scan = 0.0
    while not stop.is_set():
        try:
            await asyncio.to_thread(plan_transitions, store, public_url=public_url)
            if _time.monotonic() - last_scan > 10 * interval:
                last_scan = _time.monotonic()
                await asyncio.to_thread(escalate, store, public_url=public_url)
                await asyncio.to_thread(pace_check, store, public_url=public_url)
            await asyncio.to_thread(deliver_due, store)
        except Exception as exc:  # keep alerting alive; the next round retries
            log.error("alert round failed: %s", type(exc).__name__, exc_info=exc)
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
