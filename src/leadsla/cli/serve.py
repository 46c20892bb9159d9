"""``leadsla serve``: the live SLA service (FastAPI on Uvicorn), and ``leadsla token``."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from leadsla.cli.common import err
from leadsla.errors import UsageError
from leadsla.service.config import DEFAULT_DB

token_app = typer.Typer(
    help="Make and revoke API tokens of the live service.", no_args_is_help=True
)

DbOpt = Annotated[
    str,
    typer.Option(
        "--db",
        help="The service's database: sqlite:///FILE (created on first start) or "
        "postgresql://user@host:port/dbname.",
        envvar="LEADSLA_DB",
    ),
]


def _safe_url(url: str) -> str:
    """The URL without its password."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


class _Redact(logging.Filter):
    """Shared secrets in webhook URLs never reach the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.args = tuple(
            re.sub(r"(secret|token)=[^&\s]*", r"\1=***", a) if isinstance(a, str) else a
            for a in (record.args or ())
        )
        return True


def _warn_at(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise UsageError(
            f'--warn-at "{text}" is not a list of shares, e.g. 0.5,0.75,0.9.'
        ) from None


def serve(
    db: DbOpt = DEFAULT_DB,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            "-p",
            help="The SLA policy (sla.toml); recorded as a new version when it changed.",
        ),
    ] = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on (default loopback only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    warn_at: Annotated[
        str,
        typer.Option("--warn-at", help="Warnings at these shares of each clock's time."),
    ] = "0.5,0.75,0.9",
    max_body_bytes: Annotated[
        int, typer.Option("--max-body-bytes", help="Largest request body accepted (413 above).")
    ] = 10_000_000,
    hubspot_secret_env: Annotated[
        str,
        typer.Option(
            "--hubspot-secret-env",
            help="Environment variable holding the HubSpot app's client secret (enables "
            "/v1/hooks/hubspot).",
        ),
    ] = "LEADSLA_HUBSPOT_SECRET",
    salesforce_secret_env: Annotated[
        str,
        typer.Option(
            "--salesforce-secret-env",
            help="Environment variable holding the shared secret of Salesforce outbound "
            "messages (enables /v1/hooks/salesforce).",
        ),
    ] = "LEADSLA_SALESFORCE_SECRET",
    salesforce_org_id: Annotated[
        str | None,
        typer.Option(
            "--salesforce-org-id", help="Accept Salesforce outbound messages of this org only."
        ),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="The dashboard's default language: en or es.")
    ] = "en",
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="The URL the CRMs call (behind a proxy), for HubSpot signatures; default "
            "the request's own URL.",
        ),
    ] = None,
) -> None:
    """Run the live SLA service: events in, clocks running, breaches out (API at /docs)."""
    import uvicorn

    from leadsla.service import ServiceConfig, create_app

    if policy is not None and not policy.is_file():
        raise UsageError(f"--policy {policy}: no such file. Write one with `leadsla agree`.")
    if lang not in ("en", "es"):
        raise UsageError(f"--lang {lang}: the dashboard speaks en and es; pick one of them.")
    config = ServiceConfig(
        db_url=db,
        policy_path=policy,
        max_body_bytes=max_body_bytes,
        warn_at=_warn_at(warn_at),
        hubspot_secret=os.environ.get(hubspot_secret_env) or None,
        salesforce_secret=os.environ.get(salesforce_secret_env) or None,
        salesforce_org_id=salesforce_org_id,
        public_url=public_url,
        lang=lang,
    )
    logging.getLogger("uvicorn.access").addFilter(_Redact())
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    err.print(
        f"leadsla serve: listening on http://{host}:{port} (API at /docs), database "
        f"{escape(_safe_url(db))}.\nA token: leadsla token create --db {escape(_safe_url(db))} "
        "--scope ingest|read|admin",
        highlight=False,
    )
    uvicorn.run(create_app(config), host=host, port=port, log_level="info")


@token_app.command("create")
def token_create(
    db: DbOpt = DEFAULT_DB,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="ingest, read or admin (repeatable; admin has all)."),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="What the token is for.")] = None,
) -> None:
    """Make a token and print it once (only its hash is stored)."""
    from leadsla.service.auth import create_token
    from leadsla.service.store import Store

    with Store(db) as store:
        token = create_token(store, scope or [], note=note)
    print(token)
    err.print(
        "Keep it now: it is shown only this once. Send it as 'Authorization: Bearer TOKEN'; "
        "revoke it with `leadsla token revoke`.",
        highlight=False,
    )


@token_app.command("revoke")
def token_revoke(
    token: Annotated[str, typer.Argument(help="The token, or its id (the 12 hex digits).")],
    db: DbOpt = DEFAULT_DB,
) -> None:
    """Revoke a token: requests with it get 401 from then on."""
    from leadsla.service.auth import revoke_token
    from leadsla.service.store import Store

    with Store(db) as store:
        if not revoke_token(store, token):
            raise UsageError("no such token, or it was revoked already.")
    err.print("Revoked.", highlight=False)
