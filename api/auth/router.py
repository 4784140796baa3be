# SPDX-License-Identifier: MIT
"""Routes of the auth domain: the OAuth2 password flow, the caller, their API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.auth import keys
from api.auth.schemas import KeyCreate, KeyOut, Me, NewKeyOut, Token
from api.auth.tokens import issue_access_token
from api.auth.users import authenticate
from api.deps import ConnDep, KeyIdDep, PrincipalDep, login_rate_limited
from api.problems import ProblemError, not_found, problem_response

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
