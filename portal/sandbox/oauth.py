"""The sandbox's authorisation server: code + PKCE for native apps, rotating refresh tokens.

RFC 6749 (OAuth 2.0), RFC 7636 (PKCE, S256 only), RFC 8252 (loopback redirects for native
apps), RFC 8414 (metadata) and RFC 7009 (revocation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta
from html import escape
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, Request, Security
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal.sandbox.client_certs import certificate_organisation
from portal.sandbox.mtls import CERTIFICATE_MISMATCH, peer_certificate
from portal.sandbox.problems import ProblemError, oauth_error
from portal.sandbox.store import (
    PLAIN_TEXT,
    AuthorizationCode,
    Token,
    User,
    check_user,
    digest,
    first_to_set,
    new_id,
    now,
)

CLIENT_ID = "aic-partner-portal"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SCOPE = "partner"
CALLBACK_PATH = "/callback"
CODE_TTL = timedelta(minutes=2)
ACCESS_TTL = timedelta(minutes=10)
REFRESH_TTL = timedelta(days=30)

router = APIRouter(tags=["oauth"])

# Resources name this scheme in the OpenAPI document; its absence or a bad token is our own 401.
BEARER = HTTPBearer(
    scheme_name="bearer", description="An access token from /oauth/token.", auto_error=False
)
Email = Annotated[str, Form(max_length=320, pattern=PLAIN_TEXT)]
PKCE_CHALLENGE = r"^[A-Za-z0-9_-]{43}$"  # base64url of a SHA-256, unpadded (RFC 7636 §4.2)


def html(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    """An OpenAPI response entry for a page the browser shows."""
    return {status: {"description": description, "content": {"text/html": {}}}}


BACK_TO_THE_APP: dict[int | str, dict[str, Any]] = {
    303: {"description": "Back to the app's loopback redirect, with a code or error"}
}


def session(request: Request) -> Any:
    """One database session per request: committed when the endpoint returns, rolled back when
    it fails, except for a failure that must keep what it did (revoking a stolen token family)."""
    with request.app.state.sessions() as db:
        try:
            yield db
        except ProblemError as exc:
            if exc.keep_changes:
                db.commit()
            raise
        db.commit()


# "function": commit before the response leaves, or the client could use a code not yet stored.
Db = Annotated[Session, Depends(session, scope="function")]


class Metadata(BaseModel):
    """RFC 8414 authorisation server metadata."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    device_authorization_endpoint: str
    response_types_supported: list[str]
    grant_types_supported: list[str]
    code_challenge_methods_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]


class TokenResponse(BaseModel):
    """RFC 6749 §5.1 successful token response."""

    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    scope: str


@router.get("/.well-known/oauth-authorization-server")
def metadata(request: Request) -> Metadata:
    """Where the endpoints are and what they accept."""
    base = str(request.base_url).rstrip("/")
    return Metadata(
        issuer=base,
        authorization_endpoint=f"{base}/oauth/authorize",
        token_endpoint=f"{base}/oauth/token",
        revocation_endpoint=f"{base}/oauth/revoke",
        device_authorization_endpoint=f"{base}/oauth/device_authorization",
        response_types_supported=["code"],
        grant_types_supported=["authorization_code", "refresh_token", DEVICE_GRANT],
        code_challenge_methods_supported=["S256"],
        token_endpoint_auth_methods_supported=["none"],
        scopes_supported=[SCOPE],
    )


def loopback_redirect(uri: str) -> bool:
    """RFC 8252 §7.3: http on a loopback IP literal, any port, the registered path."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and parts.hostname in {"127.0.0.1", "::1"}
        and port is not None
        and parts.path == CALLBACK_PATH
        and not parts.fragment
    )


@router.get(
    "/oauth/authorize",
    response_class=HTMLResponse,
    responses={**BACK_TO_THE_APP, **html(400, "The sign-in link is not valid")},
)
def authorizepage(
    response_type: str,
    client_id: str,
    redirect_uri: str,
    code_challenge: str,
    code_challenge_method: str,
    state: str = "",
    scope: str = SCOPE,
) -> Any:
    """The sign-in page the system browser shows."""
    if client_id != CLIENT_ID or not loopback_redirect(redirect_uri):
        return page("This sign-in link is not valid: unknown app or redirect address.", 400)
    if response_type != "code" or code_challenge_method != "S256" or len(code_challenge) != 43:
        return _redirect(redirect_uri, state, error="invalid_request")
    if scope != SCOPE:
        return _redirect(redirect_uri, state, error="invalid_scope")
    return _sign_in_form(redirect_uri, code_challenge, state, scope, problem=None)


@router.post(
    "/oauth/authorize",
    response_class=HTMLResponse,
    responses={
        **BACK_TO_THE_APP,
        **html(400, "The sign-in link is not valid"),
        **html(401, "The form again: wrong e-mail or password"),
    },
)
def authorize(
    db: Db,
    email: Email,
    password: Annotated[str, Form()],
    client_id: Annotated[str, Form()],
    redirect_uri: Annotated[str, Form(max_length=2000, pattern=PLAIN_TEXT)],
    code_challenge: Annotated[str, Form(pattern=PKCE_CHALLENGE)],
    state: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = SCOPE,
) -> Any:
    """Check the credentials and send the browser back to the app with a one-time code."""
    if client_id != CLIENT_ID or not loopback_redirect(redirect_uri):
        return page("This sign-in link is not valid: unknown app or redirect address.", 400)
    if scope != SCOPE:
        return _redirect(redirect_uri, state, error="invalid_scope")
    user = db.scalars(select(User).where(User.email == email.strip().lower())).first()
    if not check_user(user, password) or user is None:
        return _sign_in_form(
            redirect_uri, code_challenge, state, scope, problem="Wrong e-mail or password."
        )
    code = secrets.token_urlsafe(32)
    db.add(
        AuthorizationCode(
            code_hash=digest(code),
            client_id=client_id,
            user_id=user.id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            scope=scope,
            expires_at=now() + CODE_TTL,
        )
    )
    return _redirect(redirect_uri, state, code=code)


@router.post("/oauth/token")
def token(
    db: Db,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str, Form()],
    code: Annotated[str | None, Form()] = None,
    redirect_uri: Annotated[str | None, Form()] = None,
    code_verifier: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
    device_code: Annotated[str | None, Form()] = None,
) -> TokenResponse:
    """Trade a code (with its PKCE verifier), a device code or a refresh token for tokens."""
    if client_id != CLIENT_ID:
        raise oauth_error("invalid_client", "Unknown client.", status=401)
    if grant_type == "authorization_code":
        return _redeem_code(db, code, redirect_uri, code_verifier)
    if grant_type == "refresh_token":
        return _rotate(db, refresh_token)
    if grant_type == DEVICE_GRANT:
        from portal.sandbox.device import redeem_device_code

        return redeem_device_code(db, device_code)
    raise oauth_error("unsupported_grant_type", f"Grant type {grant_type!r} is not supported.")


@router.post("/oauth/revoke")
def revoke(db: Db, token: Annotated[str, Form()]) -> dict[str, str]:
    """RFC 7009: a refresh token revokes its whole sign-in; unknown tokens are not an error."""
    found = db.get(Token, digest(token))
    if found is not None:
        if found.kind == "refresh":
            _revoke_family(db, found.family_id)
        else:
            found.revoked = True
    return {}


def bearer_user(
    request: Request,
    db: Db,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
) -> User:
    """The user whose live access token came in the Authorization header, else a 401.

    Over mTLS the token must belong to the organisation of the client certificate: a token
    copied to another organisation's machine is refused there (403).
    """
    if credentials is None:
        raise ProblemError(
            401,
            "Sign in first: this needs an access token.",
            headers={"WWW-Authenticate": 'Bearer realm="marketplace"'},
        )
    found = db.get(Token, digest(credentials.credentials))
    if found is None or found.kind != "access" or found.revoked or found.expires_at <= now():
        raise ProblemError(
            401,
            "The access token is not valid (expired, revoked or unknown).",
            headers={"WWW-Authenticate": 'Bearer realm="marketplace", error="invalid_token"'},
        )
    certificate = peer_certificate(request)
    if certificate is not None and (
        certificate_organisation(certificate) != found.user.organisation_id
    ):
        raise ProblemError(
            403,
            "The access token belongs to another organisation than the client certificate.",
            extra={"type": CERTIFICATE_MISMATCH},
        )
    return found.user


def _redeem_code(
    db: Session, code: str | None, redirect_uri: str | None, verifier: str | None
) -> TokenResponse:
    if not code or not redirect_uri or not verifier:
        raise oauth_error("invalid_request", "code, redirect_uri and code_verifier are required.")
    grant = db.get(AuthorizationCode, digest(code), with_for_update=True)  # redeem one at a time
    if grant is None:
        raise oauth_error("invalid_grant", "The code is unknown.")
    if not first_to_set(db, grant, AuthorizationCode.used):
        if grant.family_id:  # RFC 6749 §4.1.2: a code used twice revokes what it gave
            _revoke_family(db, grant.family_id)
        raise oauth_error("invalid_grant", "The code was already used.", keep_changes=True)
    if grant.expires_at <= now():
        raise oauth_error("invalid_grant", "The code has expired.", keep_changes=True)
    if grant.redirect_uri != redirect_uri:
        raise oauth_error("invalid_grant", "redirect_uri differs from the sign-in request.")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    if not hmac.compare_digest(challenge.decode(), grant.code_challenge):
        raise oauth_error("invalid_grant", "The code_verifier does not match the challenge.")
    grant.family_id = new_id()
    return issue_tokens(db, grant.family_id, grant.user_id, grant.client_id, grant.scope)


def _rotate(db: Session, refresh_token: str | None) -> TokenResponse:
    if not refresh_token:
        raise oauth_error("invalid_request", "refresh_token is required.")
    old = db.get(Token, digest(refresh_token), with_for_update=True)  # rotate one at a time
    if old is None or old.kind != "refresh":
        raise oauth_error("invalid_grant", "The refresh token is unknown.")
    if old.revoked or not first_to_set(db, old, Token.rotated):
        _revoke_family(db, old.family_id)  # reuse of a rotated token: assume it was stolen
        raise oauth_error(
            "invalid_grant", "The refresh token was already used or revoked.", keep_changes=True
        )
    if old.expires_at <= now():  # refused without keeping the rotation
        raise oauth_error("invalid_grant", "The refresh token has expired.")
    return issue_tokens(db, old.family_id, old.user_id, old.client_id, old.scope)


def issue_tokens(
    db: Session, family: str, user_id: str, client_id: str, scope: str
) -> TokenResponse:
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    issued = now()
    for value, kind, ttl in ((access, "access", ACCESS_TTL), (refresh, "refresh", REFRESH_TTL)):
        db.add(
            Token(
                token_hash=digest(value),
                kind=kind,
                family_id=family,
                user_id=user_id,
                client_id=client_id,
                scope=scope,
                expires_at=issued + ttl,
            )
        )
    return TokenResponse(
        access_token=access,
        token_type="Bearer",
        expires_in=int(ACCESS_TTL.total_seconds()),
        refresh_token=refresh,
        scope=scope,
    )


def _revoke_family(db: Session, family: str) -> None:
    db.execute(update(Token).where(Token.family_id == family).values(revoked=True))


def _redirect(redirect_uri: str, state: str, **params: str) -> RedirectResponse:
    query = urlencode({**params, **({"state": state} if state else {})})
    return RedirectResponse(f"{redirect_uri}?{query}", status_code=303)


def _sign_in_form(
    redirect_uri: str, challenge: str, state: str, scope: str, *, problem: str | None
) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in (
            ("client_id", CLIENT_ID),
            ("redirect_uri", redirect_uri),
            ("code_challenge", challenge),
            ("state", state),
            ("scope", scope),
        )
    )
    alert = f'<p role="alert" class="problem">{escape(problem)}</p>' if problem else ""
    body = (
        "<h1>Sign in to the AIC-Platform sandbox marketplace</h1>"
        "<p>AIC Partner Portal asks to act for your partner organisation.</p>"
        f'{alert}<form method="post" action="/oauth/authorize">{hidden}'
        '<label>E-mail <input name="email" type="email" autocomplete="username" required></label>'
        '<label>Password <input name="password" type="password" autocomplete="current-password"'
        ' required></label><button type="submit">Sign in</button></form>'
    )
    return page(body, 401 if problem else 200, raw=True)


def page(content: str, status: int, *, raw: bool = False) -> HTMLResponse:
    body = content if raw else f"<h1>Sign-in failed</h1><p>{escape(content)}</p>"
    return HTMLResponse(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>AIC-Platform sandbox sign-in</title><style>body{font-family:sans-serif;"
        "max-width:28rem;margin:3rem auto}label{display:block;margin:.8rem 0}"
        "input{width:100%}.problem{color:#b00020}</style></head>"
        f"<body>{body}</body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )
