# SPDX-License-Identifier: MIT
"""A signed service report as a PDF (fpdf2), with a QR code (segno) of its verify page.

The PDF shows the document that was signed, as it is stored now, and what verifying it found
at the moment the PDF was made; the QR code and the printed address lead to the public verify
page, which checks it again whenever someone looks. Text goes in DejaVu Sans when the system
has it (any script the shop types), else in the PDF's core Helvetica (Latin-1; other
characters become "?").
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF

from orders.attest import Verdict

FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


class _Doc:
    def __init__(self) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.add_page()
        self.unicode = FONT_FILE.is_file()
        if self.unicode:
            self.pdf.add_font("body", "", str(FONT_FILE))
            self.family = "body"
        else:
            self.family = "helvetica"

    def text(self, words: str) -> str:
        return words if self.unicode else words.encode("latin-1", "replace").decode("latin-1")

    def line(self, words: str, size: int = 10, height: float = 6) -> None:
        self.pdf.set_font(self.family, size=size)
        self.pdf.multi_cell(0, height, self.text(words), new_x="LMARGIN", new_y="NEXT")

    def fact(self, name: str, value: str) -> None:
        self.pdf.set_font(self.family, size=10)
        self.pdf.cell(45, 6, self.text(name))
        self.pdf.multi_cell(0, 6, self.text(value), new_x="LMARGIN", new_y="NEXT")


def _mm(value: str | None) -> str:
    return "-" if value is None else f"{float(value):.1f} mm"


def _part(p: dict[str, Any]) -> str:
    words = [str(p.get("part") or p.get("description") or p.get("code") or "part")]
    if p.get("quantity") is not None:
        words.append(f"{p['quantity']} {p.get('unit') or ''}".strip())
    if p.get("part_number"):
        words.append(f"part number {p['part_number']}")
    if p.get("batch"):
        words.append(f"batch {p['batch']}")
    return ", ".join(words)


def report_pdf(verdict: Verdict, verify_url: str, *, checked_at: datetime) -> bytes:
    """The report of ``verdict`` as a PDF with the QR code of ``verify_url``."""
    out = _Doc()
    doc = verdict.document or {}
    signed = verdict.signed
    out.line("Service report", size=18, height=10)
    if verdict.valid:
        out.line(
            f"Issued by {signed.shop_name} on {signed.signed_at:%Y-%m-%d}; signature valid, "
            f"unaltered (checked {checked_at:%Y-%m-%d %H:%M} UTC).",
        )
    else:
        out.line("ALTERED: this report does not match its signature and is not valid.", size=12)
    out.pdf.ln(2)
    out.fact("Shop", signed.shop_name)
    out.fact("Order", str(signed.order_id))
    out.fact("VIN", signed.vin)
    out.fact("Completed", str(doc.get("completed_at", "-")))
    odometer = doc.get("odometer_km")
    out.fact("Odometer", "-" if odometer is None else f"{float(odometer):,.0f} km")
    pads = doc.get("pads_mm") or {}
    out.fact("Brake pads", f"front {_mm(pads.get('front'))}, rear {_mm(pads.get('rear'))}")
    out.fact("Oil changed", "yes" if doc.get("oil_changed") else "no")
    labour = doc.get("labour_h")
    out.fact("Labour", "-" if labour is None else f"{float(labour):.1f} h")
    out.fact("Technician", str(doc.get("technician") or "-"))
    out.fact("Cost", f"{doc.get('cost', '-')} {doc.get('currency', '')}")
    out.fact("Work done", str(doc.get("work_done", "-")))
    for p in doc.get("parts") or []:
        out.fact("Part", _part(p))
    for photo in doc.get("photos") or []:
        out.fact(f"Photo {photo['kind']}", f"SHA-256 {photo['sha256']}")
    if doc.get("signature_sha256"):
        out.fact("Signature", f"SHA-256 {doc['signature_sha256']}")
    out.pdf.ln(4)
    out.fact("Verification code", signed.code)
    out.fact("Signing key", signed.key_id)
    out.fact("Check it at", verify_url)
    qr = io.BytesIO()
    segno.make(verify_url, error="m").save(qr, kind="png", scale=6, border=2)
    qr.seek(0)
    out.pdf.image(qr, w=40, h=40)
    return bytes(out.pdf.output())
