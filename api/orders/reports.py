# SPDX-License-Identifier: MIT
"""A completed order's verifiable report: who may see its evidence, its PDF, and the public
check of its code.

``GET /service-orders/{id}/report.pdf`` is the signed report as a PDF for whoever may see the
report's evidence (``may_see_evidence``: the car's owner, its fleet's manager, the shop that
did the work, an admin; a shop merely offered the order sees none of it). ``GET
/reports/verify/{code}`` needs no caller: anyone holding the code (printed on the PDF, in its
QR code) learns whether the report is unaltered and what it says, never its photos.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from api.auth.principal import Principal
from api.deps import ConnDep, OrderIdDep, PrincipalDep, valid_order_id
from api.orders.report_pdf import report_pdf
from api.problems import ProblemError, not_found, problem_response
from db.rows import scalar
from orders import attest
from orders.evidence import Evidence

router = APIRouter(prefix="/service-orders", tags=["service orders"])
# The statuses of an order a shop won, from acceptance to its report.
WON = ("accepted", "scheduled", "checked_in", "in_service", "completed")
public_router = APIRouter(prefix="/reports", tags=["service orders"])


def evidence_of(app_state: Any) -> Evidence:
    """The app's evidence configuration (storage, signer, limits, public address)."""
    found: Evidence = app_state.evidence
    return found


def may_see_evidence(conn: psycopg.Connection, principal: Principal, order_id: int) -> bool:
    """Whether ``principal`` may see the order's report evidence: the order is visible to them
    (``api.access.orders``) and, for shop staff, their shop did the work."""
    try:
        valid_order_id(order_id, conn, principal)
    except ProblemError:
        return False
    if principal.role != "shop_staff":
        return True
    # Before acceptance an order's shop_id is only its best-ranked shop: not one that won it.
    won = scalar(
        conn,
        "SELECT shop_id FROM service_orders WHERE order_id = %s AND status = ANY(%s)",
        (order_id, list(WON)),
    )
    return won is not None and won == principal.shop_id


def pdf_of(
    conn: psycopg.Connection, evidence: Evidence, *, order_id: int, now: datetime
) -> bytes | None:
    """The order's signed report as a PDF, or None when it has none."""
    signed = attest.signature_of(conn, order_id=order_id)
    if signed is None:
        return None
    verdict = attest.verify(conn, evidence, code=signed.code)
    if verdict is None:
        return None
    return report_pdf(verdict, evidence.verify_url(signed.code), checked_at=now)


def pdf_response(data: bytes, order_id: int) -> Response:
    """A PDF download named after its order."""
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="report-{order_id}.pdf"'},
    )


PDF_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}}
PDF_RESPONSES |= problem_response(404)


@router.get(
    "/{order_id}/report.pdf",
    response_class=Response,
    responses=PDF_RESPONSES,
)
def order_report_pdf(
    request: Request, conn: ConnDep, principal: PrincipalDep, order_id: OrderIdDep
) -> Response:
    """The completed order's signed report as a PDF, with the QR code of its verify page."""
    evidence = evidence_of(request.app.state)
    if not may_see_evidence(conn, principal, order_id):
        raise not_found("order", order_id)
    data = pdf_of(conn, evidence, order_id=order_id, now=datetime.now(UTC))
    if data is None:
        raise not_found("report", order_id)
    return pdf_response(data, order_id)


class VerifiedReport(BaseModel):
    """What checking a report's code found: ``valid`` only when its signature holds over the
    report as stored now; ``report`` is the signed document as stored now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "7K3M-Q9XD-2HRT",
                    "valid": True,
                    "issued_by": "Oak Park Auto Service",
                    "issued_at": "2026-12-07T10:15:00Z",
                    "key_id": "3f9a0c1d22e4b5a6",
                    "verify_url": "https://wrenchlight.example/app/verify/7K3M-Q9XD-2HRT",
                    "report": {"order": 55, "vin": "WVWZZZ1KZAW000001"},
                }
            ]
        }
    )

    code: str
    valid: bool
    issued_by: str
    issued_at: datetime
    key_id: str
    verify_url: str
    report: dict[str, Any] | None


@public_router.get("/verify/{code}", response_model=VerifiedReport, responses=problem_response(404))
def verify_report(
    request: Request,
    conn: ConnDep,
    code: Annotated[str, Path(min_length=1, max_length=40, description="Verification code")],
) -> VerifiedReport:
    """Whether the report with this code is unaltered, and what it says (no sign-in)."""
    evidence = evidence_of(request.app.state)
    verdict = attest.verify(conn, evidence, code=code)
    if verdict is None:
        raise not_found("report", code)
    signed = verdict.signed
    return VerifiedReport(
        code=signed.code,
        valid=verdict.valid,
        issued_by=signed.shop_name,
        issued_at=signed.signed_at,
        key_id=signed.key_id,
        verify_url=evidence.verify_url(signed.code),
        report=verdict.document,
    )
