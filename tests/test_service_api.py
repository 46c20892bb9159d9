"""The live service through a real ``leadsla serve`` (Uvicorn subprocess on loopback):
ingestion, idempotency, tokens, reads, and every error path with SPEC.md's error shape."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from service_support import POLICY, Server, make_token, post

HUBSPOT_SECRET = "hs-client-secret-for-tests"
SF_SECRET = "sf-shared-secret-for-tests"
LEAD = {
    "id": "e-lead-1",
    "type": "lead.created",
    "at": "2026-03-02T09:15:00+01:00",
    "lead": {"lead_id": "L-1", "segment": "smb", "owner": "ana", "source": "marketing"},
}
CALL = {
    "id": "e-call-1",
    "type": "activity.logged",
    "at": "2026-03-02T10:00:00+01:00",
    "activity": {"lead_id": "L-1", "kind": "call", "activity_id": "A-1"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    d = tmp_path_factory.mktemp("svc")
    policy = d / "sla.toml"
    policy.write_text(POLICY, encoding="utf-8")
    db_url = f"sqlite:///{d / 'leadsla.db'}"
    tokens = {s: make_token(db_url, s) for s in ("ingest", "read", "admin")}
    srv = Server(
        db_url,
        policy=policy,
        log=d / "server.log",
        args=["--max-body-bytes", "20000"],
        env={"LEADSLA_HUBSPOT_SECRET": HUBSPOT_SECRET, "LEADSLA_SALESFORCE_SECRET": SF_SECRET},
    )
    with srv, httpx.Client(base_url=srv.url, timeout=60) as client:
        yield {
            "srv": srv,
            "client": client,
            "tokens": tokens,
            "db": db_url,
            "dir": d,
            "policy": policy,
        }


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _stats(s: dict[str, Any]) -> dict[str, int]:
    r = s["client"].get("/v1/stats", headers=_auth(s["tokens"]["read"]))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_ingest_is_idempotent_and_acknowledged_after_commit(server: dict[str, Any]) -> None:
    c, tok = server["client"], server["tokens"]["ingest"]
    before = _stats(server)
    r = post(c, tok, [LEAD, CALL])
    assert r.status_code == 202, r.text
    assert r.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    # the same events again (a client retry), one object alone, and NDJSON: all duplicates
    assert post(c, tok, [LEAD, CALL]).json() == {"accepted": 0, "duplicates": 2, "rejected": []}
    assert post(c, tok, LEAD).json()["duplicates"] == 1
    nd = "\n".join(json.dumps(e) for e in (LEAD, CALL)) + "\n"
    r = post(c, tok, nd, headers={"Content-Type": "application/x-ndjson"})
    assert r.json() == {"accepted": 0, "duplicates": 2, "rejected": []}
    after = _stats(server)
    assert after["events"] - before["events"] == 2
    assert after["leads"] - before["leads"] == 1
    assert after["activities"] - before["activities"] == 1
    # committed: a new connection to the file sees both rows
    import sqlalchemy as sa

    eng = sa.create_engine(server["db"])
    with eng.connect() as conn:
        ids = {r[0] for r in conn.execute(sa.text("SELECT id FROM events"))}
    eng.dispose()
    assert {"e-lead-1", "e-call-1"} <= ids


def test_lead_clock_and_reads(server: dict[str, Any]) -> None:
    c, read = server["client"], server["tokens"]["read"]
    post(c, server["tokens"]["ingest"], [LEAD, CALL])
    for _ in range(100):  # the scheduler fires the overdue breach within its 0.1 s round
        r = c.get("/v1/leads/L-1", headers=_auth(read))
        assert r.status_code == 200, r.text
        body = r.json()
        if len(body["transitions"]) == 2:
            break
        time.sleep(0.1)
    fr = body["first_response"]
    # Mon 2 Mar 2026 09:15 Berlin + 4 business hours (09:00-18:00) = 13:15 local = 12:15 UTC
    assert fr["due_at"] == "2026-03-02T12:15:00+00:00"
    assert fr["status"] == "met"
    assert fr["elapsed_business_seconds"] == 45 * 60
    at = body["attempts"]
    assert (at["attempts"], at["required"]) == (1, 4)
    assert at["due_at"] == "2026-03-12T08:15:00+00:00"  # 10 calendar days, same wall time
    # the window ended (10 days after 2 March) with 1 of 4 attempts: the scheduler fired it
    assert [(t["clock"], t["transition"]) for t in body["transitions"]] == [
        ("first_response", "met"),
        ("attempts", "breached"),
    ]
    assert at["status"] == "breached"
    # a second lead, closed won: the attempts clock is met by the closing
    ev = [
        {
            "id": "e-l2",
            "type": "lead.created",
            "at": "2026-03-03T11:00:00Z",
            "lead": {"lead_id": "L-2"},
        },
        {
            "id": "e-l2-x",
            "type": "lead.closed",
            "at": "2026-03-04T11:00:00Z",
            "lead": {"lead_id": "L-2", "status": "won", "revenue": 1200},
        },
    ]
    assert post(c, server["tokens"]["ingest"], ev).json()["accepted"] == 2
    body = c.get("/v1/leads/L-2", headers=_auth(read)).json()
    assert body["lead"]["status"] == "won"
    assert body["lead"]["closed_at"] == "2026-03-04T11:00:00+00:00"
    assert body["attempts"]["status"] == "met"
    assert body["first_response"]["status"] == "breached"  # never contacted, long past due
    # the breach is long past due: the scheduler's next round (0.1 s) records it
    for _ in range(50):
        br = c.get("/v1/breaches", headers=_auth(read)).json()["breaches"]
        if any(b["lead_id"] == "L-2" and b["clock"] == "first_response" for b in br):
            break
        time.sleep(0.1)
    assert any(b["lead_id"] == "L-2" and b["clock"] == "first_response" for b in br)
    pol = c.get("/v1/policies", headers=_auth(read)).json()["policies"]
    assert [p["version"] for p in pol] == [1]
    assert c.get("/healthz").json() == {"status": "ok"}
    assert "leadsla_events_total" in c.get("/metrics", headers=_auth(read)).text
    assert c.get("/openapi.json").status_code == 200


def test_summary_equals_check_on_the_service_database(server: dict[str, Any], run_cli: Any) -> None:
    c = server["client"]
    post(c, server["tokens"]["ingest"], [LEAD, CALL])
    as_of = "2026-03-20T12:00:00+01:00"
    r = c.get("/v1/sla/summary", params={"as_of": as_of}, headers=_auth(server["tokens"]["read"]))
    assert r.status_code == 200, r.text
    live = r.json()
    assert live.pop("policy_version") == 1
    p = run_cli(
        "check", server["db"], "--policy", server["policy"], "--as-of", as_of, "--format", "json"
    )
    assert p.returncode == 0, p.stderr
    assert live == json.loads(p.stdout)
    assert live["leads"]["total"] >= 1


BAD_EVENT = {
    "id": "bad-1",
    "type": "lead.created",
    "at": "2026-03-02T09:15:00+01:00",
    "lead": {"lead_id": "L-bad"},
}


def _with(**changes: Any) -> dict[str, Any]:
    e = json.loads(json.dumps(BAD_EVENT))
    for k, v in changes.items():
        if k.startswith("lead."):
            e["lead"][k[5:]] = v
        elif v is None:
            e.pop(k)
        else:
            e[k] = v
    return e


# (case, method, path, token scope or raw header, body, headers, status, code)
CASES: list[tuple[str, str, str, str | None, Any, dict[str, str], int, str]] = [
    ("malformed JSON", "POST", "/v1/events", "ingest", '{"id": "x", ', {}, 400, "malformed_json"),
    ("empty body", "POST", "/v1/events", "ingest", "", {}, 400, "malformed_json"),
    (
        "wrong type: revenue",
        "POST",
        "/v1/events",
        "ingest",
        _with(**{"lead.revenue": "lots"}),
        {},
        422,
        "invalid_type",
    ),
    (
        "wrong type: lead_id",
        "POST",
        "/v1/events",
        "ingest",
        _with(**{"lead.lead_id": ["L"]}),
        {},
        422,
        "invalid_type",
    ),
    ("event not an object", "POST", "/v1/events", "ingest", [42], {}, 422, "invalid_type"),
    (
        "unknown event type",
        "POST",
        "/v1/events",
        "ingest",
        _with(type="lead.deleted"),
        {},
        422,
        "unknown_event_type",
    ),
    ("missing id", "POST", "/v1/events", "ingest", _with(id=None), {}, 422, "missing_id"),
    (
        "time without zone",
        "POST",
        "/v1/events",
        "ingest",
        _with(at="2026-03-02T09:15:00"),
        {},
        422,
        "time_without_zone",
    ),
    (
        "lead time without zone",
        "POST",
        "/v1/events",
        "ingest",
        _with(**{"lead.mql_at": "2026-03-02 09:15"}),
        {},
        422,
        "time_without_zone",
    ),
    (
        "unknown lead column",
        "POST",
        "/v1/events",
        "ingest",
        _with(**{"lead.colour": "red"}),
        {},
        422,
        "unknown_field",
    ),
    (
        "bad status",
        "POST",
        "/v1/events",
        "ingest",
        _with(**{"lead.status": "maybe"}),
        {},
        422,
        "invalid_value",
    ),
    (
        "activity for an unknown lead",
        "POST",
        "/v1/events",
        "ingest",
        {
            "id": "bad-a",
            "type": "activity.logged",
            "at": "2026-03-02T09:15:00Z",
            "activity": {"lead_id": "nobody", "kind": "call"},
        },
        {},
        422,
        "unknown_lead",
    ),
    (
        "all of a batch rejected",
        "POST",
        "/v1/events",
        "ingest",
        [_with(id=None), _with(type="x")],
        {},
        422,
        "no_event_accepted",
    ),
    (
        "oversize body",
        "POST",
        "/v1/events",
        "ingest",
        [_with(id=f"big-{i}") for i in range(400)],
        {},
        413,
        "body_too_large",
    ),
    ("missing token", "POST", "/v1/events", None, BAD_EVENT, {}, 401, "unauthorized"),
    ("not a bearer", "GET", "/v1/stats", "Basic dXNlcjpwYXNz", None, {}, 401, "unauthorized"),
    (
        "forged token",
        "GET",
        "/v1/stats",
        "Bearer lsla_0123456789ab_" + "A" * 43,
        None,
        {},
        401,
        "unauthorized",
    ),
    ("garbage token", "GET", "/v1/stats", "Bearer hello", None, {}, 401, "unauthorized"),
    ("read token posts events", "POST", "/v1/events", "read", BAD_EVENT, {}, 403, "forbidden"),
    ("ingest token reads", "GET", "/v1/sla/summary", "ingest", None, {}, 403, "forbidden"),
    ("ingest token posts a policy", "POST", "/v1/policies", "ingest", POLICY, {}, 403, "forbidden"),
    ("unknown lead", "GET", "/v1/leads/nobody", "read", None, {}, 404, "unknown_lead"),
    ("unknown path", "GET", "/v1/nothing", "read", None, {}, 404, "not_found"),
    ("bad as_of", "GET", "/v1/sla/summary?as_of=yesterday", "read", None, {}, 400, "invalid_time"),
    (
        "naive as_of",
        "GET",
        "/v1/sla/summary?as_of=2026-03-01T10:00",
        "read",
        None,
        {},
        400,
        "time_without_zone",
    ),
    ("bad limit", "GET", "/v1/breaches?limit=0", "read", None, {}, 422, "invalid_parameter"),
    (
        "unsigned HubSpot hook",
        "POST",
        "/v1/hooks/hubspot",
        None,
        "[]",
        {},
        401,
        "invalid_signature",
    ),
    (
        "HubSpot hook signed with another secret",
        "POST",
        "/v1/hooks/hubspot",
        None,
        "[]",
        {
            "X-HubSpot-Signature-v3": "c2lnbmVkIGJ5IHNvbWVvbmUgZWxzZQ==",
            "X-HubSpot-Request-Timestamp": "NOW",
        },
        401,
        "invalid_signature",
    ),
    (
        "HubSpot hook too old",
        "POST",
        "/v1/hooks/hubspot",
        None,
        "[]",
        {"X-HubSpot-Signature-v3": "x", "X-HubSpot-Request-Timestamp": "1600000000000"},
        401,
        "invalid_signature",
    ),
    (
        "Salesforce hook without secret",
        "POST",
        "/v1/hooks/salesforce",
        None,
        "<x/>",
        {},
        401,
        "invalid_signature",
    ),
    (
        "Salesforce hook wrong secret",
        "POST",
        "/v1/hooks/salesforce?secret=guess",
        None,
        "<x/>",
        {},
        401,
        "invalid_signature",
    ),
    (
        "Salesforce hook not SOAP",
        "POST",
        f"/v1/hooks/salesforce?secret={SF_SECRET}",
        None,
        "<x/>",
        {},
        400,
        "invalid_notification",
    ),
    ("policy not TOML", "POST", "/v1/policies", "admin", "name = [", {}, 422, "invalid_policy"),
    (
        "policy missing keys",
        "POST",
        "/v1/policies",
        "admin",
        'schema = "leadsla.policy/1"\n',
        {},
        422,
        "invalid_policy",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_error_has_the_spec_shape_and_stores_nothing(
    server: dict[str, Any], case: tuple[Any, ...]
) -> None:
    _name, method, path, who, body, headers, status, code = case
    c = server["client"]
    hdrs = {k: str(int(time.time() * 1000)) if v == "NOW" else v for k, v in headers.items()}
    if who in server["tokens"]:
        hdrs |= _auth(server["tokens"][who])
    elif who is not None:
        hdrs["Authorization"] = who
    content = body if isinstance(body, str) or body is None else json.dumps(body)
    before = _stats(server)
    r = c.request(method, path, content=content, headers=hdrs)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["fix"], str) and err["fix"]
    assert set(err) >= {"code", "message", "fix"}
    assert _stats(server) == before  # nothing stored, not even half
    if code == "unauthorized":
        assert r.headers["www-authenticate"] == "Bearer"


def test_a_mixed_batch_keeps_the_good_and_names_the_bad(server: dict[str, Any]) -> None:
    c, tok = server["client"], server["tokens"]["ingest"]
    before = _stats(server)
    batch = [
        {
            "id": "mix-1",
            "type": "lead.created",
            "at": "2026-03-05T10:00:00Z",
            "lead": {"lead_id": "L-mix"},
        },
        {
            "id": "mix-2",
            "type": "activity.logged",
            "at": "2026-03-05T10:00:00Z",
            "activity": {"lead_id": "L-ghost", "kind": "call"},
        },
        {
            "id": "mix-3",
            "type": "lead.updated",
            "at": "2026-03-05T10:00:00+01:00",
            "lead": {"lead_id": "L-mix", "revenue": -5},
        },
    ]
    r = post(c, tok, batch)
    assert r.status_code == 202
    body = r.json()
    assert body["accepted"] == 1
    assert [(x["index"], x["id"], x["error"]["code"]) for x in body["rejected"]] == [
        (1, "mix-2", "unknown_lead"),
        (2, "mix-3", "invalid_value"),
    ]
    assert body["rejected"][1]["error"]["field"] == "lead.revenue"
    assert body["rejected"][1]["error"]["value"] == -5
    after = _stats(server)
    assert (after["events"] - before["events"], after["activities"] - before["activities"]) == (
        1,
        0,
    )
    # the rejected event ids are not burnt: corrected, they are accepted
    fixed = dict(batch[2], lead={"lead_id": "L-mix", "revenue": 5})
    assert post(c, tok, [fixed]).json()["accepted"] == 1


def test_tokens_from_the_cli_and_revocation(server: dict[str, Any], run_cli: Any) -> None:
    p = run_cli("token", "create", "--db", server["db"], "--scope", "read")
    assert p.returncode == 0, p.stderr
    token = p.stdout.strip()
    assert token.startswith("lsla_") and "shown only this once" in p.stderr
    c = server["client"]
    assert c.get("/v1/stats", headers=_auth(token)).status_code == 200
    # stored hashed: the token text is nowhere in the database file or the server log
    db_file = Path(server["db"].removeprefix("sqlite:///"))
    raw = b"".join(f.read_bytes() for f in db_file.parent.glob("leadsla.db*"))
    assert token.encode() not in raw
    # the secret is all after "lsla_<id>_" (it may hold "_" itself: split once past the id)
    assert token.split("_", 2)[2].encode() not in raw
    assert token not in (server["dir"] / "server.log").read_text()
    p = run_cli("token", "revoke", token, "--db", server["db"])
    assert p.returncode == 0, p.stderr
    r = c.get("/v1/stats", headers=_auth(token))
    assert r.status_code == 401 and "revoked" in r.json()["error"]["message"]
    p = run_cli("token", "create", "--db", server["db"], "--scope", "root")
    assert p.returncode == 2 and "root" in p.stderr


def test_policy_versions(server: dict[str, Any]) -> None:
    c, admin = server["client"], server["tokens"]["admin"]
    r = c.post("/v1/policies", content=POLICY, headers=_auth(admin))
    assert r.status_code == 200 and r.json()["new"] is False  # the same text: no new version
    v2 = POLICY.replace("first_response_hours = 4", "first_response_hours = 2")
    r = c.post(
        "/v1/policies",
        content=v2,
        headers=_auth(admin),
        params={"effective_from": "2026-06-01T00:00:00Z"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2
    # a lead whose clock starts after v2 takes effect runs under v2; older ones keep v1
    tok = server["tokens"]["ingest"]
    post(c, tok, [LEAD, CALL])
    post(
        c,
        tok,
        {
            "id": "pv-new",
            "type": "lead.created",
            "at": "2026-06-02T09:00:00+02:00",
            "lead": {"lead_id": "L-v2"},
        },
    )
    body = c.get("/v1/leads/L-v2", headers=_auth(admin)).json()
    assert body["policy_version"] == 2
    assert body["first_response"]["due_at"] == "2026-06-02T09:00:00+00:00"  # 09:00 + 2 h local
    assert c.get("/v1/leads/L-1", headers=_auth(admin)).json()["policy_version"] == 1


def _signed(url: str, body: bytes, secret: str = HUBSPOT_SECRET) -> dict[str, str]:
    from leadsla.service.hooks import hubspot_signature

    ts = str(int(time.time() * 1000))
    return {
        "X-HubSpot-Signature-v3": hubspot_signature(secret, "POST", url, body, ts),
        "X-HubSpot-Request-Timestamp": ts,
        "Content-Type": "application/json",
    }


def test_hubspot_webhook(server: dict[str, Any]) -> None:
    c, srv = server["client"], server["srv"]
    url = srv.url + "/v1/hooks/hubspot"
    t0 = 1772442000000  # 2026-03-02T09:00:00Z
    notes = [
        {
            "eventId": 901,
            "subscriptionType": "contact.creation",
            "objectId": 5501,
            "occurredAt": t0,
            "portalId": 1,
            "attemptNumber": 0,
        },
        {
            "eventId": 902,
            "subscriptionType": "contact.propertyChange",
            "objectId": 5501,
            "propertyName": "lifecyclestage",
            "propertyValue": "marketingqualifiedlead",
            "occurredAt": t0 + 60_000,
        },
        {
            "eventId": 903,
            "subscriptionType": "object.creation",
            "objectTypeId": "0-48",
            "objectId": 777,
            "occurredAt": t0 + 120_000,
        },
        {
            "eventId": 904,
            "subscriptionType": "object.associationChange",
            "fromObjectTypeId": "0-48",
            "fromObjectId": 777,
            "toObjectTypeId": "0-1",
            "toObjectId": 5501,
            "occurredAt": t0 + 125_000,
        },
        {
            "eventId": 905,
            "subscriptionType": "contact.propertyChange",
            "objectId": 5501,
            "propertyName": "hs_lead_status",
            "propertyValue": "UNQUALIFIED",
            "occurredAt": t0 + 86_400_000,
        },
    ]
    body = json.dumps(notes).encode()
    r = c.post(url, content=body, headers=_signed(url, body))
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": 4, "duplicates": 0, "rejected": [], "ignored": 1}
    lead = c.get("/v1/leads/5501", headers=_auth(server["tokens"]["read"])).json()
    assert lead["lead"]["mql_at"] == "2026-03-02T09:01:00+00:00"
    assert (lead["lead"]["status"], lead["lead"]["closed_at"]) == (
        "lost",
        "2026-03-03T09:00:00+00:00",
    )
    assert lead["first_response"]["first_attempt_at"] == "2026-03-02T09:02:05+00:00"
    # HubSpot retries the same notifications (signed afresh): duplicates
    r = c.post(url, content=body, headers=_signed(url, body))
    assert r.json()["duplicates"] == 4
    # the right signature over another body is a forgery
    before = _stats(server)
    forged = json.dumps(notes[:1]).replace("5501", "6601").encode()
    r = c.post(url, content=forged, headers=_signed(url, body))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_signature"
    r = c.post(url, content=body, headers=_signed(url, body, secret="not-the-secret"))
    assert r.status_code == 401
    assert _stats(server) == before


SF_LEAD = """<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D000000000001EAA</OrganizationId>
   <ActionId>04k000000000001AAA</ActionId>
   <SessionId xsi:nil="true"/>
   <Notification>
    <Id>04l000000000001AAA</Id>
    <sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>00Q000000000001AAA</sf:Id>
     <sf:CreatedDate>2026-03-02T14:00:00.000Z</sf:CreatedDate>
     <sf:LastModifiedDate>2026-03-02T14:00:00.000Z</sf:LastModifiedDate>
     <sf:Status>Open - Not Contacted</sf:Status>
     <sf:OwnerId>005000000000001AAA</sf:OwnerId>
     <sf:LeadSource>Web</sf:LeadSource>
     <sf:IsConverted>false</sf:IsConverted>
    </sObject>
   </Notification>
   <Notification>
    <Id>04l000000000002AAA</Id>
    <sObject xsi:type="sf:Task" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>00T000000000001AAA</sf:Id>
     <sf:WhoId>00Q000000000001AAA</sf:WhoId>
     <sf:IsClosed>true</sf:IsClosed>
     <sf:TaskSubtype>Call</sf:TaskSubtype>
     <sf:CallDisposition>Left voicemail</sf:CallDisposition>
     <sf:CompletedDateTime>2026-03-02T15:30:00.000Z</sf:CompletedDateTime>
     <sf:OwnerId>005000000000001AAA</sf:OwnerId>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"""


def test_salesforce_outbound_message(server: dict[str, Any]) -> None:
    c = server["client"]
    r = c.post(
        f"/v1/hooks/salesforce?secret={SF_SECRET}",
        content=SF_LEAD,
        headers={"Content-Type": "text/xml"},
    )
    assert r.status_code == 200, r.text
    assert "<Ack>true</Ack>" in r.text and r.headers["content-type"].startswith("text/xml")
    lead = c.get("/v1/leads/00Q000000000001AAA", headers=_auth(server["tokens"]["read"])).json()
    assert lead["lead"]["created_at"] == "2026-03-02T14:00:00+00:00"
    assert lead["lead"]["campaign"] == "Web" and lead["lead"]["status"] == "open"
    assert lead["first_response"]["first_attempt_at"] == "2026-03-02T15:30:00+00:00"
    assert lead["first_response"]["status"] == "met"
    import sqlalchemy as sa

    eng = sa.create_engine(server["db"])
    with eng.connect() as conn:
        row = conn.execute(
            sa.text("SELECT kind, outcome FROM activities WHERE activity_id = '00T000000000001AAA'")
        ).one()
    eng.dispose()
    assert tuple(row) == ("call", "voicemail")  # through the shipped mapping's outcome values
    # Salesforce re-sends until acknowledged: the same notifications are duplicates, acked
    r = c.post("/v1/hooks/salesforce", content=SF_LEAD, headers={"X-Leadsla-Secret": SF_SECRET})
    assert r.status_code == 200 and "<Ack>true</Ack>" in r.text
    # an entity bomb is refused before parsing
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    r = c.post(f"/v1/hooks/salesforce?secret={SF_SECRET}", content=bomb)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_notification"
