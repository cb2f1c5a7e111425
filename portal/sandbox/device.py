"""RFC 8628 device authorisation: sign in on another device when no browser reaches the loopback."""

from __future__ import annotations

import secrets
from datetime import timedelta
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.sandbox.oauth import (
    CLIENT_ID,
    SCOPE,
    Db,
    Email,
    TokenResponse,
    html,
    issue_tokens,
    page,
)
from portal.sandbox.problems import oauth_error
from portal.sandbox.store import (
    PLAIN_TEXT,
    DeviceGrant,
    User,
    check_user,
    digest,
    first_to_set,
    new_id,
    now,
)

DEVICE_TTL = timedelta(minutes=10)
POLL_INTERVAL_S = 1  # the sandbox polls fast; a production server would say 5
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels, no look-alikes (RFC 8628 §6.1)

router = APIRouter(tags=["oauth"])


class DeviceAuthorization(BaseModel):
    """RFC 8628 §3.2 response."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


@router.post("/oauth/device_authorization")
def device_authorization(
    request: Request,
    db: Db,
    client_id: Annotated[str, Form()],
    scope: Annotated[str, Form()] = SCOPE,
) -> DeviceAuthorization:
    """Start a device sign-in: a secret code for the app, a short code for the person."""
    if client_id != CLIENT_ID:
        raise oauth_error("invalid_client", "Unknown client.", status=401)
    if scope != SCOPE:
        raise oauth_error("invalid_scope", f"Scope {scope!r} is not offered.")
    device_code = secrets.token_urlsafe(32)
    letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
    user_code = f"{letters[:4]}-{letters[4:]}"
    db.add(
        DeviceGrant(
            device_code_hash=digest(device_code),
            user_code=user_code,
            client_id=client_id,
            scope=scope,
            expires_at=now() + DEVICE_TTL,
        )
    )
    base = str(request.base_url).rstrip("/")
    return DeviceAuthorization(
        device_code=device_code,
        user_code=user_code,
        verification_uri=f"{base}/device",
        verification_uri_complete=f"{base}/device?user_code={user_code}",
        expires_in=int(DEVICE_TTL.total_seconds()),
        interval=POLL_INTERVAL_S,
    )


@router.get("/device", response_class=HTMLResponse)
def device_page(user_code: str = "") -> HTMLResponse:
    """Where the person enters the code and signs in."""
    return _form(user_code, problem=None)


@router.post(
    "/device",
    response_class=HTMLResponse,
    responses=html(401, "The form again: unknown code, or wrong e-mail or password"),
)
def approve_device(
    db: Db,
    user_code: Annotated[str, Form(max_length=32, pattern=PLAIN_TEXT)],
    email: Email,
    password: Annotated[str, Form()],
) -> HTMLResponse:
    """Check the code and the credentials; the waiting app then gets its tokens."""
    code = user_code.strip().upper().replace(" ", "")
    if len(code) == 8:
        code = f"{code[:4]}-{code[4:]}"
    grant = db.scalars(select(DeviceGrant).where(DeviceGrant.user_code == code)).first()
    if grant is None or grant.expires_at <= now() or grant.used or grant.user_id:
        return _form(user_code, problem="This code is unknown or has expired.")
    user = db.scalars(select(User).where(User.email == email.strip().lower())).first()
    if not check_user(user, password) or user is None:
        return _form(user_code, problem="Wrong e-mail or password.")
    grant.user_id = user.id
    return page(
        "<h1>Device signed in</h1><p>You can go back to AIC Partner Portal on your device.</p>",
        200,
        raw=True,
    )


def redeem_device_code(db: Session, device_code: str | None) -> TokenResponse:
    """The token endpoint's device grant: pending, too fast, expired, or the tokens (once)."""
    if not device_code:
        raise oauth_error("invalid_request", "device_code is required.")
    grant = db.get(DeviceGrant, digest(device_code), with_for_update=True)  # one poll at a time
    if grant is None or grant.used:
        raise oauth_error("invalid_grant", "The device code is unknown or was already used.")
    if grant.expires_at <= now():
        raise oauth_error("expired_token", "The device code has expired: start again.")
    polled, grant.last_poll = grant.last_poll, now()
    if grant.user_id is None:
        if polled is not None and (grant.last_poll - polled).total_seconds() < POLL_INTERVAL_S:
            raise oauth_error("slow_down", "Polling too fast.", keep_changes=True)
        raise oauth_error("authorization_pending", "Not approved yet.", keep_changes=True)
    if not first_to_set(db, grant, DeviceGrant.used):
        raise oauth_error("invalid_grant", "The device code is unknown or was already used.")
    return issue_tokens(db, new_id(), grant.user_id, grant.client_id, grant.scope)


def _form(user_code: str, *, problem: str | None) -> Any:
    alert = f'<p role="alert" class="problem">{escape(problem)}</p>' if problem else ""
    return page(
        "<h1>Sign in a device to the AIC-Platform sandbox</h1>"
        f"<p>Enter the code your device shows.</p>{alert}"
        '<form method="post" action="/device">'
        f'<label>Code <input name="user_code" value="{escape(user_code)}" required></label>'
        '<label>E-mail <input name="email" type="email" autocomplete="username" required></label>'
        '<label>Password <input name="password" type="password" '
        'autocomplete="current-password" required></label>'
        '<button type="submit">Sign in</button></form>',
        401 if problem else 200,
        raw=True,
    )
