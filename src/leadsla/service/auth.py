"""Bearer tokens: made once, stored hashed, with scopes, revocable.

A token reads ``lsla_<id>_<secret>``: ``id`` (12 hex digits) finds the row, the SHA-256 of
the 32-byte random ``secret`` is compared with :func:`hmac.compare_digest`. The token is shown
once, at creation; the database holds only its hash. Scopes: ``ingest`` (post events),
``read`` (every GET), ``admin`` (post policies; includes the other two).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request

from leadsla.errors import UsageError
from leadsla.service.errors import ApiError
from leadsla.service.store import Store

__all__ = ["SCOPES", "create_token", "require", "revoke_token"]

SCOPES = ("ingest", "read", "admin")
_TOKEN = re.compile(r"^lsla_([0-9a-f]{12})_([A-Za-z0-9_-]{20,})$")
_FIX = (
    "Send Authorization: Bearer TOKEN; make a token with "
    "`leadsla token create --db URL --scope SCOPE`."
)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(store: Store, scopes: Sequence[str], *, note: str | None = None) -> str:
    """A new token with ``scopes``; returns the token text (the only time it is visible)."""
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise UsageError(f"scope {bad[0] if bad else '(none)'} is not one of {', '.join(SCOPES)}.")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    store.add_token(token_id, _digest(secret), sorted(set(scopes)), note)
    return f"lsla_{token_id}_{secret}"


def revoke_token(store: Store, token_or_id: str) -> bool:
    """Revoke a token given by its text or its id (the 12 hex digits); False if unknown."""
    m = _TOKEN.match(token_or_id.strip())
    token_id = m.group(1) if m else token_or_id.strip()
    return store.revoke_token(token_id)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, _FIX, headers={"WWW-Authenticate": "Bearer"})


def check_token(store: Store, header: str | None) -> set[str]:
    """The scopes of the bearer token in ``header`` (raises 401 when missing or wrong)."""
    if not header:
        raise _unauthorized("no Authorization header.")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise _unauthorized("the Authorization header is not 'Bearer TOKEN'.")
    m = _TOKEN.match(value.strip())
    if m is None:
        raise _unauthorized("the token is not a leadsla token.")
    row = store.token(m.group(1))
    expected = row["sha256"] if row else _digest("no such token")
    ok = hmac.compare_digest(_digest(m.group(2)), expected)
    if row is None or not ok:
        raise _unauthorized("the token is not valid.")
    if row["revoked_at"] is not None:
        raise _unauthorized("the token has been revoked.")
    return set(row["scopes"].split(","))


def require(scope: str) -> Callable[..., Any]:
    """A dependency: the request's token must have ``scope`` (``admin`` has every scope)."""

    def dependency(request: Request) -> set[str]:
        store: Store = request.app.state.store
        scopes = check_token(store, request.headers.get("authorization"))
        if scope not in scopes and "admin" not in scopes:
            raise ApiError(
                403,
                "forbidden",
                f"this token has scope {', '.join(sorted(scopes))}; this needs {scope}.",
                f"Use a token with scope {scope} (`leadsla token create --scope {scope}`).",
            )
        return scopes

    return dependency


Ingest = Annotated[set[str], Depends(require("ingest"))]
Read = Annotated[set[str], Depends(require("read"))]
Admin = Annotated[set[str], Depends(require("admin"))]
