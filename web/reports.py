# SPDX-License-Identifier: MIT
"""A report's evidence on the pages: the photos before and after the work and the signature
(``orders.evidence``), the platform's signature and its verify page (``orders.attest``).

Who may see the photos, the signature and the PDF is the API's rule
(``api.orders.reports.may_see_evidence``: the car's owner, its fleet's manager, the shop that
did the work, an admin); anyone else gets the same 404 as for a missing order. The verify page
is public: it shows what the report says and whether it is unaltered, never the photos.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from fastapi import Request

from api.auth.principal import Principal
from api.orders.reports import evidence_of, may_see_evidence
from orders import attest
from orders import evidence as files
from orders.attest import Signed, Verdict
from orders.evidence import Evidence, ReportFile

REFUSALS = ("too_large", "not_image", "too_many", "empty", "closed")


@dataclass(frozen=True)
class Proof:
    """A report's evidence as a page shows it: its photos, its signature image, its
    platform signature (None before completion) and the verify page's address."""

    order_id: int
    photos: list[ReportFile]
    signature: ReportFile | None
    signed: Signed | None
    verify_url: str | None
    max_count: int
    max_mb: float

    def of_kind(self, kind: str) -> list[ReportFile]:
        """The photos taken before, or after, the work."""
        return [p for p in self.photos if p.kind == kind]

    @property
    def room(self) -> int:
        """How many more photos the job may have."""
        return max(0, self.max_count - len(self.photos))


def evidence(request: Request) -> Evidence:
    """The API app's evidence configuration (the web app borrows it)."""
    return evidence_of(request.app.state.api.state)


def proof_of(
    conn: psycopg.Connection, ev: Evidence, principal: Principal, order_id: int
) -> Proof | None:
    """The order's evidence, when ``principal`` may see it."""
    if not may_see_evidence(conn, principal, order_id):
        return None
    found = files.files_of(conn, order_id=order_id)
    signed = attest.signature_of(conn, order_id=order_id)
    return Proof(
        order_id=order_id,
        photos=[f for f in found if f.kind != "signature"],
        signature=next((f for f in found if f.kind == "signature"), None),
        signed=signed,
        verify_url=ev.verify_url(signed.code) if signed else None,
        max_count=ev.photo_max_count,
        max_mb=ev.photo_max_bytes / (1024 * 1024),
    )


def verdict(conn: psycopg.Connection, ev: Evidence, code: str) -> Verdict | None:
    """What checking the report with ``code`` finds now, or None for an unknown code."""
    return attest.verify(conn, ev, code=code)
