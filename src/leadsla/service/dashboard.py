"""The dashboard at ``/``: server-rendered (Jinja2), no CDN, updates itself within seconds.

Login exchanges an API token (scope read or admin) for a session cookie: HttpOnly,
SameSite=Strict, signed with a secret the service keeps in its database (sessions survive a
restart; revoking the token ends them). Every form carries a CSRF token derived from the
session (the login form's from a nonce cookie); a post without it is refused (403). The read
scope sees every view; only admin posts a new policy.

Views: ``/`` (leads due and at risk sorted by deadline with the business time left; breaches
by rep, segment and campaign; the two-sided ledger — marketing's MQLs and their value against
the period's goal and pace, sales' first-response and attempts compliance; trends by week;
alerts and dead letters), ``/leads/{id}`` (one lead's timeline: activities, clock transitions,
alerts sent), ``/alerts``, ``/policies``. A small inline script polls ``/ui/version`` every
2 s and swaps the page's ``<main>`` when anything changed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import escape
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from leadsla.errors import LeadslaError
from leadsla.i18n import (
    LANGUAGES,
    fmt_business_time,
    fmt_datetime,
    fmt_money,
    fmt_number,
    translations,
)
from leadsla.service import db
from leadsla.service.alerts import check_alerts, outbox, outbox_counts
from leadsla.service.auth import check_token
from leadsla.service.routers.deps import StoreDep
from leadsla.service.store import Store
from leadsla.text import pct

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

SESSION = "leadsla_session"
LOGIN_NONCE = "leadsla_login"
LANG = "leadsla_lang"
SESSION_HOURS = 12
_SECRET = "dashboard.session_secret"


class Forbidden(Exception):
    """A form without a valid CSRF token, or a scope that may not do this."""


# ---------------------------------------------------------------------------- sessions


def _secret(store: Store) -> bytes:
    cached = getattr(store, "_dashboard_secret", None)
    if cached:
        return bytes(cached)
    with store.engine.begin() as conn:
        stmt = store._insert(db.service_state).values(name=_SECRET, value=secrets.token_hex(32))
        conn.execute(stmt.on_conflict_do_nothing())
        value = conn.execute(
            select(db.service_state.c.value).where(db.service_state.c.name == _SECRET)
        ).scalar_one()
    key = bytes.fromhex(value)
    store._dashboard_secret = key  # type: ignore[attr-defined]
    return key


def _mac(store: Store, text: str) -> str:
    return hmac.new(_secret(store), text.encode(), hashlib.sha256).hexdigest()


def _session(store: Store, request: Request) -> tuple[str, set[str]] | None:
    """(cookie, scopes) of a valid session, else None."""
    cookie = request.cookies.get(SESSION, "")
    parts = cookie.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    token_id, exp, sig = parts
    if not hmac.compare_digest(_mac(store, f"{token_id}.{exp}"), sig) or int(exp) < time.time():
        return None
    row = store.token(token_id)
    if row is None or row["revoked_at"] is not None:
        return None
    return cookie, set(row["scopes"].split(","))


def _csrf(store: Store, cookie: str) -> str:
    return _mac(store, "csrf." + cookie)[:40]


def _check_csrf(store: Store, cookie: str, given: str | None) -> None:
    if not given or not hmac.compare_digest(_csrf(store, cookie), given):
        raise Forbidden("the form's CSRF token is missing or wrong; reload the page and retry.")


# ---------------------------------------------------------------------------- rendering


@cache
def _env(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def _lang(request: Request) -> str:
    q = request.query_params.get("lang")
    if q in LANGUAGES:
        return q
    c = request.cookies.get(LANG)
    if c in LANGUAGES:
        return c
    default: str = getattr(request.app.state.config, "lang", "en")
    return default


def _page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = _lang(request)
    store: Store = request.app.state.store
    pv = store.current
    tz = pv.calendar.time_zone if pv else "UTC"
    currency = pv.policy.currency if pv else "EUR"
    helpers = {
        "num": lambda x, d=0: fmt_number(x, lang, d),
        "pct": lambda x: pct(x, lang=lang),
        "money": lambda x: fmt_money(x, currency, lang),
        "when": lambda t: fmt_datetime(_dt(t) if isinstance(t, str) else t, tz, lang),
        "left": lambda s: fmt_business_time(s, lang),
        "q": quote,
    }
    html = (
        _env(lang)
        .get_template(template)
        .render(lang=lang, path=request.url.path, tz=tz, **helpers, **ctx)
    )
    resp = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        resp.set_cookie(LANG, lang, httponly=True, samesite="strict", max_age=365 * 86400)
    resp.headers["Content-Security-Policy"] = (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' "
        "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    return resp


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


def _version(store: Store) -> str:
    with store.engine.connect() as conn:
        e = conn.execute(select(func.count()).select_from(db.events)).scalar()
        t = conn.execute(select(func.max(db.transitions.c.id))).scalar()
        o = conn.execute(select(func.max(db.outbox.c.id))).scalar()
        d = conn.execute(select(func.count()).where(db.outbox.c.delivered_at.is_not(None))).scalar()
        p = len(store.policies)
    return f"{e}.{t}.{o}.{d}.{p}"


# ---------------------------------------------------------------------------- data


def overview(store: Store, now: datetime, /) -> dict[str, Any]:
    """Everything the overview shows, from the live tables (no second SLA implementation:
    the clocks' states are the ones the service's shared SLA core wrote)."""
    S, L = db.lead_sla, db.leads
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                S.c.lead_id, S.c.first_response, S.c.attempts, S.c.due_at, S.c.window_end,
                S.c.start_at, S.c.calendar_version, S.c.attempts_in_window, S.c.required,
                L.c.owner, L.c.segment, L.c.campaign, L.c.status,
            ).join(L, L.c.lead_id == S.c.lead_id)
        ).all()  # fmt: skip
    live = ("pending", "warning")
    due: list[dict[str, Any]] = []
    by: dict[str, Counter[str]] = {"owner": Counter(), "segment": Counter(), "campaign": Counter()}
    fr: Counter[str] = Counter()
    at: Counter[str] = Counter()
    weeks: dict[str, Counter[str]] = defaultdict(Counter)
    pv = store.current
    tz = pv.calendar.zone if pv else UTC
    for r in rows:
        fr[r.first_response] += 1
        at[r.attempts] += 1
        if "breached" in (r.first_response, r.attempts):
            for k in by:
                by[k][getattr(r, k) or "(none)"] += 1
        week = r.start_at.astimezone(tz).strftime("%G-W%V")
        weeks[week]["leads"] += 1
        weeks[week][f"fr_{r.first_response}"] += 1
        weeks[week][f"at_{r.attempts}"] += 1
        if r.status != "open":
            continue
        for clock, status, deadline in (
            ("first_response", r.first_response, r.due_at),
            ("attempts", r.attempts, r.window_end),
        ):
            if status in live:
                due.append(
                    {
                        "lead_id": r.lead_id,
                        "clock": clock,
                        "status": status,
                        "due_at": deadline,
                        "calendar_version": r.calendar_version,
                        "owner": r.owner,
                        "segment": r.segment,
                        "campaign": r.campaign,
                        "progress": f"{r.attempts_in_window}/{r.required}"
                        if clock == "attempts"
                        else "",
                    }
                )
    due.sort(key=lambda d: (d["due_at"], d["lead_id"], d["clock"]))
    due = due[:100]
    for d in due:
        cal = store.policy(d["calendar_version"]).calendar
        span = float(cal.elapsed(now, d["due_at"])) if d["due_at"] > now else 0.0
        d["left_s"] = span
    marketing = _marketing(store, now)

    def share(c: Counter[str]) -> float | None:
        decided = c["met"] + c["breached"]
        return c["met"] / decided if decided else None

    trend = []
    for week in sorted(weeks)[-12:]:
        w = weeks[week]
        decided = w["fr_met"] + w["fr_breached"]
        trend.append(
            {
                "week": week,
                "leads": w["leads"],
                "fr_met_share": w["fr_met"] / decided if decided else None,
                "breached": w["fr_breached"] + w["at_breached"],
            }
        )
    return {
        "due": due,
        "at_risk": sum(1 for d in due if d["status"] == "warning"),
        "breaches_by": {k: v.most_common(10) for k, v in by.items()},
        "first_response": dict(fr),
        "first_response_share": share(fr),
        "attempts": dict(at),
        "attempts_share": share(at),
        "marketing": marketing,
        "trend": trend,
        "alerts": outbox_counts(store),
        "leads": len(rows),
    }


_MKT_CACHE: dict[str, tuple[str, float, dict[str, Any] | None]] = {}


def _marketing(store: Store, now: datetime) -> dict[str, Any] | None:
    """Marketing's side from the SLA summary (``leadsla check`` on the service's database):
    recomputed when the data changed (at most every 4 s, so a page shows it within the 5 s
    the dashboard promises) and at least every 60 s."""
    version = _version(store)
    hit = _MKT_CACHE.get(store.url)
    age = time.monotonic() - hit[1] if hit else None
    if hit and age is not None and ((hit[0] == version and age < 60) or age < 4):
        return hit[2]
    from leadsla.service.summary import summary

    pv = store.current
    value: dict[str, Any] | None = None
    if pv is not None and pv.policy.marketing is not None:
        try:
            value = summary(store, now).get("marketing")
        except LeadslaError:
            value = None
    _MKT_CACHE[store.url] = (version, time.monotonic(), value)
    return value


def timeline(store: Store, lead_id: str, now: datetime, /) -> dict[str, Any] | None:
    info = store.lead(lead_id, now=now)
    if info is None:
        return None
    A = db.activities
    with store.engine.connect() as conn:
        acts = conn.execute(select(A).where(A.c.lead_id == lead_id).order_by(A.c.at)).all()
    items: list[dict[str, Any]] = []
    lead = info["lead"]
    items.append({"at": _dt(lead["created_at"]), "kind": "created", "text": lead.get("segment")})
    if lead.get("mql_at"):
        items.append({"at": _dt(lead["mql_at"]), "kind": "mql", "text": ""})
    for a in acts:
        items.append(
            {"at": a.at, "kind": a.kind, "text": " ".join(filter(None, (a.rep, a.outcome)))}
        )
    for t in info["transitions"]:
        items.append({"at": _dt(t["fired_at"]), "kind": "transition",
                      "text": f"{t['clock']}: {t['from']} → {t['to']}"})  # fmt: skip
    for o in outbox(store, lead_id=lead_id):
        items.append({"at": _dt(o["created_at"]), "kind": "alert",
                      "text": f"{o['channel']}: {o['title']} ({o['state']})"})  # fmt: skip
    if lead.get("closed_at"):
        items.append({"at": _dt(lead["closed_at"]), "kind": lead["status"], "text": ""})
    items.sort(key=lambda x: x["at"])
    return {"info": info, "items": items}


def _dt(v: Any) -> datetime:
    return v if isinstance(v, datetime) else datetime.fromisoformat(v)


# ---------------------------------------------------------------------------- routes


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, store: StoreDep, next: str = "/") -> Response:
    nonce = secrets.token_urlsafe(24)
    resp = _page(request, "login.html", csrf=_mac(store, "login." + nonce)[:40], next=next,
                 error=None)  # fmt: skip
    resp.set_cookie(LOGIN_NONCE, nonce, httponly=True, samesite="strict", max_age=3600)
    return resp


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    store: StoreDep,
    token: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    nonce = request.cookies.get(LOGIN_NONCE, "")
    if not nonce or not hmac.compare_digest(_mac(store, "login." + nonce)[:40], csrf):
        raise Forbidden("the login form's CSRF token is missing or wrong; reload and retry.")
    try:
        scopes = check_token(store, f"Bearer {token.strip()}")
    except Exception:
        return _page(request, "login.html", 401, csrf=csrf, next=next, error="invalid")
    if not scopes & {"read", "admin"}:
        return _page(request, "login.html", 403, csrf=csrf, next=next, error="scope")
    token_id = token.strip().split("_")[1]
    exp = int(time.time()) + SESSION_HOURS * 3600
    cookie = f"{token_id}.{exp}.{_mac(store, f'{token_id}.{exp}')}"
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(
        SESSION, cookie, httponly=True, samesite="strict", max_age=SESSION_HOURS * 3600,
        secure=request.url.scheme == "https",
    )  # fmt: skip
    resp.delete_cookie(LOGIN_NONCE)
    return resp


@router.post("/logout")
def logout(request: Request, store: StoreDep, csrf: Annotated[str, Form()] = "") -> Response:
    s = _session(store, request)
    if s is None:
        return _login_redirect(request)
    _check_csrf(store, s[0], csrf)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION)
    return resp


@router.get("/ui/version")
def ui_version(request: Request, store: StoreDep) -> Response:
    if _session(store, request) is None:
        return JSONResponse({"login": True}, status_code=401)
    return JSONResponse({"version": _version(store)}, headers={"Cache-Control": "no-store"})


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, store: StoreDep) -> Response:
    s = _session(store, request)
    if s is None:
        return _login_redirect(request)
    now = datetime.now(UTC)
    data = await run_in_threadpool(overview, store, now)
    return _page(request, "overview.html", csrf=_csrf(store, s[0]), scopes=s[1], now=now,
                 pv=store.current, **data)  # fmt: skip


@router.get("/leads/{lead_id}", response_class=HTMLResponse)
async def lead_page(request: Request, store: StoreDep, lead_id: str) -> Response:
    s = _session(store, request)
    if s is None:
        return _login_redirect(request)
    now = datetime.now(UTC)
    data = await run_in_threadpool(timeline, store, lead_id, now)
    if data is None:
        return _page(request, "missing.html", 404, csrf=_csrf(store, s[0]), scopes=s[1],
                     lead_id=lead_id)  # fmt: skip
    return _page(request, "lead.html", csrf=_csrf(store, s[0]), scopes=s[1], lead_id=lead_id,
                 **data)  # fmt: skip


@router.get("/alerts", response_class=HTMLResponse)
async def alerts_page(request: Request, store: StoreDep, state: str | None = None) -> Response:
    s = _session(store, request)
    if s is None:
        return _login_redirect(request)
    st = state if state in ("pending", "delivered", "dead") else None
    rows = await run_in_threadpool(outbox, store, state=st, limit=300)
    return _page(request, "alerts.html", csrf=_csrf(store, s[0]), scopes=s[1], rows=rows,
                 state=st, counts=outbox_counts(store))  # fmt: skip


@router.get("/policies", response_class=HTMLResponse)
def policies_page(request: Request, store: StoreDep) -> Response:
    s = _session(store, request)
    if s is None:
        return _login_redirect(request)
    return _page(request, "policies.html", csrf=_csrf(store, s[0]), scopes=s[1],
                 policies=list(reversed(store.policies)), error=None)  # fmt: skip


@router.post("/policies", response_class=HTMLResponse)
async def policies_post(
    request: Request,
    store: StoreDep,
    toml: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    s = _session(store, request)
    if s is None:
        return _login_redirect(request)
    _check_csrf(store, s[0], csrf)
    if "admin" not in s[1]:
        raise Forbidden("only an admin token may change the policy.")
    try:
        check_alerts(toml, where="posted policy")
        await run_in_threadpool(store.add_policy, toml)
    except LeadslaError as e:
        return _page(request, "policies.html", 422, csrf=_csrf(store, s[0]), scopes=s[1],
                     policies=list(reversed(store.policies)), error=str(e))  # fmt: skip
    return RedirectResponse("/policies", status_code=303)


def install(app: Any) -> None:
    """Register the dashboard's routes and its 403 page."""
    app.include_router(router)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        body = f"<!doctype html><title>403</title><h1>403</h1><p>{escape(str(exc))}</p>"
        return HTMLResponse(body, status_code=403)
