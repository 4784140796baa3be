# SPDX-License-Identifier: MIT
"""A report's evidence: photos uploaded on the job card, served to those who may see them;
the report's PDF; and the public page that verifies a report by its code.

- ``POST /shop/jobs/{id}/photos`` (multipart: ``kind`` before or after, ``photos``): each file
  is checked by its content (``orders.evidence.clean_photo``); a refused one is named next to
  the field (422) and nothing of it is stored. ``POST /shop/jobs/{id}/photos/{file}/delete``
  takes one off while the car is at the shop.
- ``GET /orders/{id}/files/{file}``: a photo or the signature, for the owner, the fleet's
  manager, the shop that did the work and admins; anyone else the order's 404.
- ``GET /orders/{id}/report.pdf``: the signed report, to the same people.
- ``GET /verify/{code}`` and ``/verify/{code}/report.pdf``: no sign-in; the report and whether
  its signature holds over what is stored now.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from api.orders.report_pdf import report_pdf
from api.orders.reports import may_see_evidence, pdf_of, pdf_response
from orders import evidence as files
from orders.errors import OrderNotFound
from orders.storage import BlobMissing
from web import reports as gather
from web.deps import ConnDep, OptionalUserDep, UserDep, clock
from web.pages import Pages
from web.routes.jobs import Id, card_or_refusal, refusal_of
from web.sessions import WebUser

router = APIRouter()
Code = Annotated[str, Path(min_length=1, max_length=40)]
FILES_PER_UPLOAD = 12  # file parts read from one upload form


def _pages(request: Request) -> Pages:
    found: Pages = request.app.state.pages
    return found


def _redirect(request: Request, order_id: int, done: str) -> Response:
    root = str(request.scope.get("root_path", ""))
    return RedirectResponse(f"{root}/shop/jobs/{order_id}?done={done}#photos", status_code=303)


@router.post("/shop/jobs/{order_id}/photos")
async def upload_photos(request: Request, conn: ConnDep, user: UserDep, order_id: Id) -> Response:
    """Keep the photos sent; refused, the card says why next to the field and keeps nothing
    of the refused ones."""
    form = await request.form(max_files=FILES_PER_UPLOAD + 1)
    try:
        refused = refusal_of(request, conn, user, order_id)
        if refused is not None:
            return refused
        return await _kept_or_refused(request, conn, user, order_id, form)
    finally:
        await form.close()  # the spooled files go now, kept, refused or not looked at


async def _kept_or_refused(
    request: Request, conn: ConnDep, user: WebUser, order_id: int, form: FormData
) -> Response:
    kind = form.get("kind")
    if kind not in files.KINDS:
        kind = "before"
    sent = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
    ev = gather.evidence(request)
    why = None
    if not sent:
        why = "empty"
    elif len(sent) > FILES_PER_UPLOAD:
        why = "too_many"
    if why is None:
        # Read a byte past the limit at most: a larger file is refused without being held.
        photos = []
        for upload in sent:
            photos.append(await upload.read(ev.photo_max_bytes + 1))
        try:
            files.add_photos(
                conn=conn,
                evidence=ev,
                order_id=order_id,
                kind=kind,  # type: ignore[arg-type]  # checked against KINDS above
                photos=photos,
                now=clock(),
                actor=user.principal.subject,
            )
        except files.EvidenceRefused as refusal:
            why = refusal.why
        except OrderNotFound:
            why = "closed"
    if why is not None:
        return card_or_refusal(
            request,
            conn,
            user,
            order_id,
            status=422,
            photo_error={"kind": kind, "why": why},
        )
    return _redirect(request, order_id, "photos")


@router.post("/shop/jobs/{order_id}/photos/{file_id}/delete")
def delete_photo(
    request: Request, conn: ConnDep, user: UserDep, order_id: Id, file_id: Id
) -> Response:
    """Take a photo off the report before the job is complete."""
    refused = refusal_of(request, conn, user, order_id)
    if refused is not None:
        return refused
    try:
        files.remove_photo(
            conn=conn, evidence=gather.evidence(request), order_id=order_id, file_id=file_id
        )
    except files.EvidenceRefused as refusal:
        return card_or_refusal(
            request, conn, user, order_id, status=409, photo_error={"kind": "", "why": refusal.why}
        )
    return _redirect(request, order_id, "photo_removed")


def _missing(request: Request, order_id: int) -> Response:
    return _pages(request).render(request, "order_missing.html", status=404, order_id=order_id)


@router.get("/orders/{order_id}/files/{file_id}")
def report_file(
    request: Request, conn: ConnDep, user: UserDep, order_id: Id, file_id: Id
) -> Response:
    """A photo or the signature of the order's report, to those who may see it."""
    if not may_see_evidence(conn, user.principal, order_id):
        return _missing(request, order_id)
    found = files.file_of(conn, order_id=order_id, file_id=file_id)
    if found is None:
        return _missing(request, order_id)
    try:
        data = gather.evidence(request).store.get(found.storage_key)
    except BlobMissing:  # lost from the storage: its check says the report is altered
        return _missing(request, order_id)
    return Response(
        data,
        media_type=found.content_type,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/orders/{order_id}/report.pdf")
def order_report_pdf(request: Request, conn: ConnDep, user: UserDep, order_id: Id) -> Response:
    """The signed report as a PDF, to those who may see its evidence."""
    if not may_see_evidence(conn, user.principal, order_id):
        return _missing(request, order_id)
    data = pdf_of(conn, gather.evidence(request), order_id=order_id, now=datetime.now(UTC))
    if data is None:
        return _missing(request, order_id)
    return pdf_response(data, order_id)


def _unknown(request: Request, code: str) -> Response:
    return _pages(request).render(request, "verify_missing.html", status=404, code=code)


@router.get("/verify/{code}")
def verify_page(request: Request, conn: ConnDep, user: OptionalUserDep, code: Code) -> Response:
    """Whether the report with this code is unaltered, and what it says (no sign-in)."""
    ev = gather.evidence(request)
    found = gather.verdict(conn, ev, code)
    if found is None:
        return _unknown(request, code)
    doc = found.document or {}
    return _pages(request).render(
        request,
        "verify.html",
        verdict=found,
        doc=doc,
        completed=datetime.fromisoformat(doc["completed_at"]) if doc else None,
        verify_url=ev.verify_url(found.signed.code),
    )


@router.get("/verify/{code}/report.pdf")
def verify_pdf(request: Request, conn: ConnDep, user: OptionalUserDep, code: Code) -> Response:
    """The report with this code as a PDF (no sign-in)."""
    ev = gather.evidence(request)
    found = gather.verdict(conn, ev, code)
    if found is None:
        return _unknown(request, code)
    data = report_pdf(found, ev.verify_url(found.signed.code), checked_at=clock())
    return pdf_response(data, found.signed.order_id)
