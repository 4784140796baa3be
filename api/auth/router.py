# SPDX-License-Identifier: MIT
"""Routes of the auth domain: the OAuth2 password flow, the caller, their API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import invitations, keys
from api.auth.principal import Principal
from api.auth.schemas import (
    AccountOut,
    InvitationAccept,
    InvitationCreate,
    InvitationOut,
    KeyCreate,
    KeyOut,
    Me,
    NewKeyOut,
    Token,
)
from api.auth.tokens import issue_access_token
from api.auth.users import UserError, authenticate
from api.deps import ConnDep, KeyIdDep, PrincipalDep, login_rate_limited, require_roles
from api.orders.actions import now
from api.problems import ProblemError, not_found, problem_response
from api.shops import onboarding
from api.shops.schemas import ShopApplication, ShopApplied
from db.rows import record

# Public: the token endpoint is how a caller gets credentials in the first place.
public_router = APIRouter(prefix="/auth", tags=["auth"])
router = APIRouter(prefix="/auth", tags=["auth"])


@public_router.post(
    "/token",
    response_model=Token,
    responses=problem_response(401) | problem_response(429),
    dependencies=[Depends(login_rate_limited)],
)
def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    conn: ConnDep,
) -> Token:
    """OAuth2 password flow: email as `username` and password for a short-lived access token."""
    user_id = authenticate(conn=conn, email=form.username, password=form.password)
    if user_id is None:
        raise ProblemError(
            401,
            "invalid-credentials",
            "Invalid credentials",
            "Email or password is wrong.",
            {"WWW-Authenticate": "Bearer"},
        )
    config = request.app.state.auth
    return Token(
        access_token=issue_access_token(config, user_id),
        expires_in=int(config.access_token_ttl.total_seconds()),
    )


@router.get("/me", response_model=Me)
def me(principal: PrincipalDep) -> Me:
    """Who the credentials belong to: user, role and tenancy."""
    return Me(
        user_id=principal.user_id,
        role=principal.role,
        fleet_id=principal.fleet_id,
        shop_id=principal.shop_id,
        key_id=principal.key_id,
    )


@router.get("/keys", response_model=list[KeyOut])
def list_my_keys(principal: PrincipalDep, conn: ConnDep) -> list[KeyOut]:
    """The caller's API keys, revoked ones included, never their secrets."""
    return [
        KeyOut.model_validate(k, from_attributes=True)
        for k in keys.list_keys(conn=conn, user_id=principal.user_id)
    ]


@router.post("/keys", response_model=NewKeyOut, status_code=201)
def create_my_key(body: KeyCreate, principal: PrincipalDep, conn: ConnDep) -> NewKeyOut:
    """A new API key for the caller; its secret is in this response only."""
    new = keys.create_key(conn=conn, user_id=principal.user_id, name=body.name)
    return NewKeyOut(key_id=new.key_id, prefix=new.prefix, name=body.name, key=new.key)


@router.delete("/keys/{key_id}", response_model=KeyOut, responses=problem_response(404))
def revoke_my_key(key_id: KeyIdDep, conn: ConnDep) -> KeyOut:
    """Revoke one of the caller's keys; it stops working at once."""
    keys.revoke_key(conn=conn, key_id=key_id)
    info = keys.get_key(conn=conn, key_id=key_id)
    if info is None:
        raise not_found("key", key_id)
    return KeyOut.model_validate(info, from_attributes=True)


@router.post(
    "/invitations",
    response_model=InvitationOut,
    status_code=201,
    responses=problem_response(403) | problem_response(404) | problem_response(409),
)
def create_invitation(
    request: Request,
    body: InvitationCreate,
    principal: Annotated[Principal, Depends(require_roles())],
    conn: ConnDep,
) -> InvitationOut:
    """Admins: invite a person into a role (a fleet manager into a fleet, staff into a shop);
    hand them `token`, which they redeem once at `accept_url` before `expires_at`."""
    try:
        new = invitations.invite(
            conn=conn,
            email=body.email,
            role=body.role,
            fleet_id=body.fleet_id,
            shop_id=body.shop_id,
            shop_role=body.shop_role,
            created_by=principal.user_id,
            now=now(),
        )
    except UserError as exc:
        missing = "does not exist" in str(exc)
        raise ProblemError(
            404 if missing else 409,
            "tenant-not-found" if missing else "cannot-invite",
            "Fleet or shop not found" if missing else "Cannot invite",
            str(exc),
        ) from exc
    return InvitationOut(
        invitation_id=new.invitation_id,
        email=new.email,
        role=new.role,
        fleet_id=new.fleet_id,
        shop_id=new.shop_id,
        shop_role=new.shop_role,
        expires_at=new.expires_at,
        token=new.token,
        accept_url=str(request.url_for("accept_invitation")),
    )


@public_router.post(
    "/invitations/accept",
    response_model=AccountOut,
    status_code=201,
    responses=problem_response(404)
    | problem_response(409)
    | problem_response(410)
    | problem_response(429),
    dependencies=[Depends(login_rate_limited)],
)
def accept_invitation(body: InvitationAccept, conn: ConnDep) -> AccountOut:
    """Redeem an invitation's token with the password you choose; then sign in at
    `/auth/token`. The token travels in the body, never the URL, so no log keeps it."""
    user_id = invitations.accept(conn=conn, token=body.token, password=body.password, now=now())
    account = record(
        conn,
        AccountOut,
        "SELECT user_id, email, role, fleet_id, shop_id FROM users WHERE user_id = %s",
        (user_id,),
    )
    assert account is not None
    return account


@public_router.post(
    "/shop-applications",
    response_model=ShopApplied,
    status_code=201,
    responses=problem_response(409) | problem_response(429),
    dependencies=[Depends(login_rate_limited)],
)
def apply_as_shop(body: ShopApplication, conn: ConnDep) -> ShopApplied:
    """A shop applies to join: its profile and the applicant's email and password. The shop
    gets no orders until an admin verifies it; the applicant may sign in meanwhile."""
    shop, user_id = onboarding.apply(conn=conn, body=body)
    return ShopApplied(shop=shop, user_id=user_id)
