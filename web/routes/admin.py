# SPDX-License-Identifier: MIT
"""The admin's console at ``/admin``: shops' applications, fleets and their managers, users
and API keys, the audit log, dead letters and devices. Admins only; any other role gets a
plain 403 page, someone signed out the sign-in page.

Lists are GET forms (filters in the address, a link to the next page); every step is a POST
with the session's form token (``web.deps.csrf_protect``) that answers with a redirect back to
its list (post/redirect/get), and names what it did for the audit log (``request.state.audit``,
written by the API's audit middleware with who, when, the path and the status).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.audit.log import Filters, Note
from web import admin, shop_application
from web.deps import ConnDep, UserDep, clock
from web.pages import Pages
from web.routes.invitations import invitation_link, mail_invitation
from web.sessions import WebUser

router = APIRouter(prefix="/admin")
BIGINT_MAX = 2**63 - 1
Id = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
After = Annotated[int | None, Query(ge=0, le=BIGINT_MAX)]
Text = Annotated[str | None, Query(max_length=200)]


def _text(value: str | None) -> str | None:
    """A search field as the database can take it: without NULs, None when empty."""
    return value.replace("\x00", "").strip() or None if value else None


Done = Annotated[str | None, Query(max_length=40)]


class NotAdmin(Exception):
    """A signed-in user who is not an admin asked for the console."""


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def admin_user(user: UserDep) -> WebUser:
    """The signed-in admin; NotAdmin for anyone else (the app answers a plain 403)."""
    if not user.principal.is_admin:
        raise NotAdmin
    return user


AdminDep = Annotated[WebUser, Depends(admin_user)]


def forbidden(request: Request, exc: NotAdmin) -> Response:
    """The plain 403 page for a role that is not an admin."""
    return _pages(request).render(request, "admin_forbidden.html", status=403)


def _back(request: Request, path: str, done: str, **params: Any) -> Response:
    root = request.scope.get("root_path", "")
    query = urlencode({"done": done, **params})
    return RedirectResponse(f"{root}/admin{path}?{query}", status_code=303)


def _note(request: Request, object_type: str, object_id: object, detail: str) -> None:
    """What this step did, for its audit row."""
    request.state.audit = Note(object_type, str(object_id), detail)


def _render(request: Request, name: str, *, status: int = 200, **context: Any) -> Response:
    return _pages(request).render(request, name, status=status, **context)


# What a refusal answers: a missing object 404, a form to correct 422, else a conflict 409.
_STATUS = {"no_shop": 404, "no_user": 404, "no_key": 404, "no_fleet": 404}
_STATUS |= {"reason": 422, "fleet_name": 422, "bad_email": 422}


def _status(refused: admin.Refused) -> int:
    return _STATUS.get(refused.why, 409)


@router.get("")
def home(request: Request, conn: ConnDep, user: AdminDep) -> Response:
    """The console's overview: what waits for an admin."""
    counts = admin.overview(conn=conn, now=clock())
    return _render(request, "admin_home.html", here="home", counts=counts)


# --- Shops ------------------------------------------------------------------------------


def _shops_page(
    request: Request,
    conn: ConnDep,
    state: str,
    after: int | None,
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    state = state if state in admin.SHOP_STATES else "pending"
    page = admin.shops(conn=conn, state=state, after=after)
    return _render(
        request,
        "admin_shops.html",
        status=status,
        here="shops",
        state=state,
        states=admin.SHOP_STATES,
        page=page,
        **context,
    )


@router.get("/shops")
def shops(
    request: Request,
    conn: ConnDep,
    user: AdminDep,
    state: Annotated[str, Query(max_length=20)] = "pending",
    after: After = None,
    done: Done = None,
) -> Response:
    """Shops by state: the applications waiting, then verified and rejected ones."""
    return _shops_page(request, conn, state, after, done=done)


def _tell(request: Request, conn: ConnDep, shop_id: int, decision: str) -> bool | None:
    """Mail the decision to the shop's staff (``web.shop_application.tell``)."""
    return shop_application.tell(
        conn=conn,
        pages=_pages(request),
        config=request.app.state.config,
        shop_id=shop_id,
        decision=decision,
    )


def _mailed(mailed: bool | None) -> str:
    """What the audit row says of an invitation's mail."""
    return {True: "mailed", False: "mail refused", None: "no mail configured"}[mailed]


def _told(told: bool | None) -> str:
    """What the audit row says of the mail to the shop's staff."""
    return {True: "; staff mailed", False: "; mail to staff refused", None: ""}[told]


@router.post("/shops/{shop_id}/verify")
def verify_shop(request: Request, conn: ConnDep, user: AdminDep, shop_id: Id) -> Response:
    """Verify a shop: from now on it is offered orders; its staff are told by mail."""
    news = shop_application.standing(conn=conn, shop_id=shop_id) is not None
    try:
        name = admin.verify_shop(conn=conn, admin=user.principal, shop_id=shop_id, now=clock())
    except admin.Refused as refused:
        status = _status(refused)
        return _shops_page(request, conn, "pending", None, status=status, refusal=refused.why)
    told = _tell(request, conn, shop_id, "verified") if news else None
    _note(request, "shop", shop_id, f"verified shop {shop_id} ({name}){_told(told)}")
    return _back(request, "/shops", "verified" if told is not False else "verified_unmailed")


@router.post("/shops/{shop_id}/reject")
def reject_shop(
    request: Request,
    conn: ConnDep,
    user: AdminDep,
    shop_id: Id,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Reject a shop's application with a reason."""
    try:
        name = admin.reject_shop(
            conn=conn, admin=user.principal, shop_id=shop_id, reason=reason, now=clock()
        )
    except admin.Refused as refused:
        return _shops_page(
            request, conn, "pending", None, status=_status(refused), refusal=refused.why
        )
    told = _tell(request, conn, shop_id, "rejected")
    _note(
        request, "shop", shop_id, f"rejected shop {shop_id} ({name}): {reason.strip()}{_told(told)}"
    )
    done = "rejected" if told is not False else "rejected_unmailed"
    return _back(request, "/shops", done, state="rejected")


@router.post("/shops/{shop_id}/staff")
def invite_staff(
    request: Request,
    conn: ConnDep,
    user: AdminDep,
    shop_id: Id,
    email: Annotated[str, Form(max_length=254)] = "",
    shop_role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Invite someone into a shop's staff as manager or technician (empty: manager while the
    shop has none, else technician): mailed a link to choose their password."""
    try:
        invited, name = admin.invite_staff(
            conn=conn,
            admin=user.principal,
            shop_id=shop_id,
            email=email,
            now=clock(),
            shop_role="manager"
            if shop_role == "manager"
            else "technician"
            if shop_role == "technician"
            else None,
        )
    except admin.Refused as refused:
        return _shops_page(
            request, conn, "verified", None, status=_status(refused), refusal=refused.why
        )
    mailed = mail_invitation(request, invited, shop_name=name)
    what = f"invited {invited.email} to the staff of shop {shop_id} ({_mailed(mailed)})"
    _note(request, "shop", shop_id, what)
    # The link is shown this once (the mail may not arrive), so this answer is the page.
    return _shops_page(
        request,
        conn,
        "verified",
        None,
        invitation=invited,
        invited_to=name,
        mailed=mailed,
        invitation_url=invitation_link(request, invited.token),
    )


# --- Fleets -----------------------------------------------------------------------------


def _fleets_page(
    request: Request, conn: ConnDep, user: WebUser, after: int | None, **context: Any
) -> Response:
    status = context.pop("status", 200)
    page = admin.fleets(conn=conn, admin=user.principal, after=after)
    return _render(request, "admin_fleets.html", status=status, here="fleets", page=page, **context)


@router.get("/fleets")
def fleets(
    request: Request, conn: ConnDep, user: AdminDep, after: After = None, done: Done = None
) -> Response:
    """Fleets with their size and managers; a form to make one."""
    return _fleets_page(request, conn, user, after, done=done)


@router.post("/fleets")
def create_fleet(
    request: Request, conn: ConnDep, user: AdminDep, name: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    """A new fleet."""
    try:
        fleet = admin.create_fleet(conn=conn, name=name)
    except admin.Refused as refused:
        return _fleets_page(request, conn, user, None, status=_status(refused), refusal=refused.why)
    _note(request, "fleet", fleet.fleet_id, f"created fleet {fleet.fleet_id} ({fleet.name})")
    return _back(request, "/fleets", "fleet_created")


@router.post("/fleets/{fleet_id}/manager")
def assign_manager(
    request: Request,
    conn: ConnDep,
    user: AdminDep,
    fleet_id: Id,
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """Make someone the fleet's manager: an existing manager moves, a newcomer is invited."""
    try:
        invited = admin.assign_manager(
            conn=conn, admin=user.principal, fleet_id=fleet_id, email=email, now=clock()
        )
    except admin.Refused as refused:
        return _fleets_page(request, conn, user, None, status=_status(refused), refusal=refused.why)
    if invited is None:
        _note(request, "fleet", fleet_id, f"made {email.strip()} manager of fleet {fleet_id}")
        return _back(request, "/fleets", "manager_moved")
    fleet_name = admin.fleet_name(conn=conn, fleet_id=fleet_id)
    mailed = mail_invitation(request, invited, fleet_name=fleet_name)
    what = f"invited {invited.email} to manage fleet {fleet_id} ({_mailed(mailed)})"
    _note(request, "fleet", fleet_id, what)
    # The link is shown this once (the mail may not arrive), so this answer is the page.
    return _fleets_page(
        request,
        conn,
        user,
        None,
        invitation=invited,
        mailed=mailed,
        invitation_url=invitation_link(request, invited.token),
    )


# --- Users and keys ---------------------------------------------------------------------


@router.get("/users")
def users(
    request: Request,
    conn: ConnDep,
    user: AdminDep,
    q: Text = None,
    role: Text = None,
    state: Text = None,
    after: After = None,
    done: Done = None,
) -> Response:
    """Users, searched by email, filtered by role and whether they are disabled."""
    role = role if role in admin.ROLES else None
    disabled = {"disabled": True, "enabled": False}.get(state or "")
    page = admin.user_list(
        conn=conn, q=_text(q), role=role, disabled=disabled, after=after, now=clock()
    )
    params = {"q": q or "", "role": role or "", "state": state or ""}
    return _render(
        request,
        "admin_users.html",
        here="users",
        page=page,
        params=params,
        roles=admin.ROLES,
        done=done,
    )


def _user_page(
    request: Request, conn: ConnDep, user_id: int, *, status: int = 200, **context: Any
) -> Response:
    found = admin.one_user(conn=conn, user_id=user_id, now=clock())
    if found is None:
        return _render(request, "admin_missing.html", status=404, here="users")
    person, their_keys = found
    return _render(
        request,
        "admin_user.html",
        status=status,
        here="users",
        person=person,
        keys=their_keys,
        **context,
    )


@router.get("/users/{user_id}")
def one_user(
    request: Request, conn: ConnDep, user: AdminDep, user_id: Id, done: Done = None
) -> Response:
    """A user, their sessions and their API keys."""
    return _user_page(request, conn, user_id, done=done)


def _set_disabled(
    request: Request, conn: ConnDep, user: WebUser, user_id: int, disabled: bool
) -> Response:
    try:
        ended = admin.set_disabled(
            conn=conn, admin=user.principal, user_id=user_id, disabled=disabled
        )
    except admin.Refused as refused:
        if refused.why == "no_user":
            return _render(request, "admin_missing.html", status=404, here="users")
        return _user_page(request, conn, user_id, status=409, refusal=refused.why)
    what = f"disabled user {user_id}; web sessions ended: {ended}" if disabled else None
    _note(request, "user", user_id, what or f"enabled user {user_id}")
    return _back(request, f"/users/{user_id}", "disabled" if disabled else "enabled")


@router.post("/users/{user_id}/disable")
def disable_user(request: Request, conn: ConnDep, user: AdminDep, user_id: Id) -> Response:
    """Disable a user: signed out everywhere, keys and tokens refused, streams ended."""
    return _set_disabled(request, conn, user, user_id, True)


@router.post("/users/{user_id}/enable")
def enable_user(request: Request, conn: ConnDep, user: AdminDep, user_id: Id) -> Response:
    """Enable a disabled user again (they sign in anew; their keys work again)."""
    return _set_disabled(request, conn, user, user_id, False)


@router.post("/keys/{key_id}/revoke")
def revoke_key(request: Request, conn: ConnDep, user: AdminDep, key_id: Id) -> Response:
    """Revoke an API key."""
    try:
        key = admin.revoke_key(conn=conn, key_id=key_id)
    except admin.Refused:
        return _render(request, "admin_missing.html", status=404, here="users")
    _note(request, "key", key_id, f"revoked key {key.prefix} of user {key.user_id}")
    return _back(request, f"/users/{key.user_id}", "revoked")


# --- Audit log, dead letters, devices ---------------------------------------------------


@router.get("/audit")
def audit(
    request: Request,
    conn: ConnDep,
    user: AdminDep,
    who: Text = None,
    object_type: Text = None,
    text: Text = None,
    outcome: Text = None,
    after: After = None,
) -> Response:
    """The audit log, newest first, filtered."""
    refused = {"refused": True, "done": False}.get(outcome or "")
    filters = Filters(
        who=_text(who), object_type=_text(object_type), text=_text(text), refused=refused
    )
    page = admin.audit(conn=conn, filters=filters, after=after)
    params = {"who": who or "", "object_type": object_type or "", "text": text or ""}
    params["outcome"] = outcome or ""
    return _render(request, "admin_audit.html", here="audit", page=page, params=params)


@router.get("/dead-letters")
def dead_letters(
    request: Request, conn: ConnDep, user: AdminDep, device: Text = None, after: After = None
) -> Response:
    """Messages ingest refused, newest first."""
    page = admin.dead_letters(conn=conn, device=_text(device), after=after)
    return _render(
        request, "admin_dead_letters.html", here="dead_letters", page=page, device=device or ""
    )


@router.get("/devices")
def devices(
    request: Request,
    conn: ConnDep,
    user: AdminDep,
    q: Text = None,
    offline_hours: Annotated[str | None, Query(max_length=10)] = None,
    after: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Devices with when they were last heard of; ``offline_hours``: silent that long."""
    now = clock()
    # The form sends an empty field when no silence is asked for: that, or no number, is none.
    hours = int(offline_hours) if offline_hours and offline_hours.isdigit() else None
    hours = min(hours, admin.MAX_SILENCE_H) if hours else None
    rows, next_after = admin.devices(
        conn=conn, q=_text(q), offline_hours=hours, after=_text(after), now=now
    )
    params = {"q": q or "", "offline_hours": hours or ""}
    return _render(
        request,
        "admin_devices.html",
        here="devices",
        rows=rows,
        next_after=next_after,
        params=params,
        now=now,
    )
