# SPDX-License-Identifier: MIT
"""A verifiable service report: the platform signs the report's canonical document with its
Ed25519 key (``orders.signing``) when the job completes, and anyone holding the report's short
code can check it later.

The canonical document is JSON with sorted keys and no spaces, built from the stored rows
alone: the shop (id, and its name as it was at signing), the order, the car's VIN, the
odometer, the pads per axle, the oil, the parts with their part and batch numbers, the labour,
the technician, the work, the cost, the completion time, and the SHA-256 of each photo and of
the signature, each hashed from the bytes the storage holds. Verifying builds the document
again from what is stored now and checks the signature over it: a changed field, a photo
swapped in the storage or in its row, a photo added or removed, all make it fail.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from db.rows import a_dict, record
from orders import evidence as files
from orders import feedback
from orders.errors import OrderNotFound
from orders.evidence import CleanImage, Evidence
from orders.feedback import WorkReport
from orders.storage import BlobMissing, StorageError

VERSION = 1
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O, U
CODE_GROUPS = 3  # XXXX-XXXX-XXXX: 60 random bits


def new_code() -> str:
    """A fresh verification code, ``XXXX-XXXX-XXXX``."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(4 * CODE_GROUPS))
    return "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


def normal_code(text: str) -> str | None:
    """A typed code in its stored form (capitals, dashes), or None when it cannot be one."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    if len(raw) != 4 * CODE_GROUPS or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _figure(value: Any) -> str | None:
    """A stored number as text: exact, and the same each time it is read."""
    return None if value is None else repr(float(value))


def _blob_sha(evidence: Evidence, key: str) -> str:
    try:
        return hashlib.sha256(evidence.store.get(key)).hexdigest()
    except BlobMissing:
        return "missing"


def document(
    conn: psycopg.Connection, evidence: Evidence, *, order_id: int, shop_name: str, vin: str
) -> dict[str, Any] | None:
    """The report's canonical document as stored now (None without a report)."""
    row = a_dict(
        conn,
        "SELECT order_id, shop_id, work_done, parts, cost, currency, odometer_km, oil_changed, "
        "pad_front_mm, pad_rear_mm, labour_h, technician, reported_at "
        "FROM service_reports WHERE order_id = %s",
        (order_id,),
    )
    if row is None:
        return None
    photos = []
    signature = None
    for found in files.files_of(conn, order_id=order_id):
        digest = _blob_sha(evidence, found.storage_key)
        if found.kind == "signature":
            signature = digest
        else:
            photos.append({"kind": found.kind, "sha256": digest})
    return {
        "version": VERSION,
        "shop": {"id": row["shop_id"], "name": shop_name},
        "order": row["order_id"],
        "vin": vin,
        "odometer_km": _figure(row["odometer_km"]),
        "pads_mm": {"front": _figure(row["pad_front_mm"]), "rear": _figure(row["pad_rear_mm"])},
        "oil_changed": row["oil_changed"],
        "parts": row["parts"],
        "labour_h": _figure(row["labour_h"]),
        "technician": row["technician"],
        "work_done": row["work_done"],
        "cost": str(row["cost"]),
        "currency": row["currency"],
        "completed_at": row["reported_at"].astimezone(UTC).isoformat(),
        "photos": photos,
        "signature_sha256": signature,
    }


def canonical(doc: dict[str, Any]) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_report(
    conn: psycopg.Connection, evidence: Evidence, *, order_id: int, now: datetime
) -> str:
    """Sign the completed report of ``order_id`` (in the caller's transaction); its code."""
    names = a_dict(
        conn,
        "SELECT s.name AS shop_name, v.vin FROM service_reports r "
        "JOIN shops s ON s.shop_id = r.shop_id JOIN service_orders o ON o.order_id = r.order_id "
        "JOIN vehicles v ON v.vehicle_id = o.vehicle_id WHERE r.order_id = %s",
        (order_id,),
    )
    if names is None:
        raise OrderNotFound(order_id)
    doc = document(
        conn, evidence, order_id=order_id, shop_name=names["shop_name"], vin=names["vin"]
    )
    assert doc is not None
    key_id, signature = evidence.signer.sign(canonical(doc))
    code = new_code()
    conn.execute(
        "INSERT INTO report_signatures (order_id, code, key_id, shop_name, vin, signature, "
        "signed_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (order_id, code, key_id, names["shop_name"], names["vin"], signature, now),
    )
    return code


def complete_signed(
    *,
    conn: psycopg.Connection,
    evidence: Evidence,
    order_id: int,
    now: datetime,
    report: WorkReport,
    actor: str,
    signature: CleanImage | None = None,
) -> str:
    """Complete the job with its report (``feedback.complete``), keep the technician's
    signature, and sign the whole: one transaction; the signature's blob goes again if it
    fails. The verification code."""
    kept: files.ReportFile | None = None
    try:
        with conn.transaction():
            feedback.complete(conn=conn, order_id=order_id, now=now, report=report, actor=actor)
            if signature is not None:
                kept = files.add_signature(
                    conn=conn,
                    evidence=evidence,
                    order_id=order_id,
                    image=signature,
                    now=now,
                    actor=actor,
                )
            return sign_report(conn, evidence, order_id=order_id, now=now)
    except BaseException:
        if kept is not None:
            evidence.store.delete(kept.storage_key)
        raise


@dataclass(frozen=True)
class Signed:
    """A report's signature row."""

    order_id: int
    code: str
    key_id: str
    shop_name: str
    vin: str
    signature: bytes
    signed_at: datetime


@dataclass(frozen=True)
class Verdict:
    """What checking a report found: ``valid`` only when the signature holds over the
    document built from what is stored now."""

    signed: Signed
    valid: bool
    document: dict[str, Any] | None


def signature_of(conn: psycopg.Connection, *, order_id: int) -> Signed | None:
    """The order's report signature, or None (not completed, or completed unsigned)."""
    return record(
        conn,
        Signed,
        "SELECT order_id, code, key_id, shop_name, vin, signature, signed_at "
        "FROM report_signatures WHERE order_id = %s",
        (order_id,),
    )


def verify(conn: psycopg.Connection, evidence: Evidence, *, code: str) -> Verdict | None:
    """Check the report with ``code`` against what is stored now; None for an unknown code."""
    wanted = normal_code(code)
    if wanted is None:
        return None
    signed = record(
        conn,
        Signed,
        "SELECT order_id, code, key_id, shop_name, vin, signature, signed_at "
        "FROM report_signatures WHERE code = %s",
        (wanted,),
    )
    if signed is None:
        return None
    try:
        doc = document(
            conn, evidence, order_id=signed.order_id, shop_name=signed.shop_name, vin=signed.vin
        )
    except StorageError:
        doc = None
    valid = doc is not None and evidence.signer.verify(
        signed.key_id, bytes(signed.signature), canonical(doc)
    )
    return Verdict(signed=signed, valid=valid, document=doc)
