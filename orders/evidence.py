# SPDX-License-Identifier: MIT
"""A service report's evidence: photos before and after the work, and the technician's
signature, checked, cleaned and kept in the blob storage with a row each in ``report_files``.

A photo is judged by its content, never by its name or the type its sender claims: Pillow must
decode it fully as a JPEG, PNG or WebP image of a sane size, else it is refused. It is then
re-encoded (JPEG; turned upright by its EXIF orientation first), which drops its EXIF metadata,
the GPS position of where it was taken included. A refusal stores nothing: no blob, no row.

Photos are added and removed while the car is at the shop (checked in or in service); once the
report is complete they are part of what is signed (``orders.attest``) and stay as they are.

Errors::

    OrdersError
    └── EvidenceRefused   ``why``: too_large, not_image, too_many, empty, closed
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import psycopg
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from db.rows import a_dict, record, records, scalar
from orders.errors import OrderNotFound, OrdersError
from orders.signing import Signer
from orders.storage import BlobStore

Kind = Literal["before", "after"]
KINDS: tuple[Kind, ...] = ("before", "after")
OPEN_STATUSES = ("checked_in", "in_service")
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PIXELS = 50_000_000  # a 50-megapixel camera's photo; more is a decompression bomb
LONG_SIDE_PX = 4096  # kept photos are at most this wide or high: enough to read a batch label
JPEG_QUALITY = 88
SIGNATURE_MAX_BYTES = 512 * 1024
SIGNATURE_MAX_PX = (2000, 1000)


class EvidenceRefused(OrdersError):
    """A photo or signature not taken; ``why`` says which case for the page."""

    def __init__(self, why: str, detail: str = "") -> None:
        super().__init__(detail or why)
        self.why = why


@dataclass(frozen=True)
class Evidence:
    """Where evidence goes and its limits, built once from the settings: the blob storage,
    the report signer, a photo's size and a job's number of photos, and the address people
    reach the web app at (for the verify links; never a request's Host header)."""

    store: BlobStore
    signer: Signer
    photo_max_bytes: int = 8 * 1024 * 1024
    photo_max_count: int = 12
    base_url: str = "http://127.0.0.1:8000"

    def verify_url(self, code: str) -> str:
        """The public verify page of the report with ``code``."""
        return f"{self.base_url.rstrip('/')}/app/verify/{code}"


@dataclass(frozen=True)
class ReportFile:
    """A photo or signature of an order's report."""

    file_id: int
    order_id: int
    kind: str
    storage_key: str
    sha256: bytes
    content_type: str
    size_bytes: int
    width_px: int
    height_px: int
    uploaded_at: datetime


@dataclass(frozen=True)
class CleanImage:
    """An image after checking and re-encoding."""

    data: bytes
    content_type: str
    width_px: int
    height_px: int


def _decoded(data: bytes) -> Image.Image:
    """The image in ``data``, fully decoded; EvidenceRefused('not_image') otherwise."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ACCEPTED_FORMATS:
                raise EvidenceRefused("not_image", f"format {probe.format}")
            if probe.width * probe.height > MAX_PIXELS:
                raise EvidenceRefused("too_large", "too many pixels")
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except EvidenceRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise EvidenceRefused("not_image", str(exc)) from exc
    except Image.DecompressionBombError as exc:
        raise EvidenceRefused("too_large", str(exc)) from exc
    return image


def clean_photo(data: bytes, *, max_bytes: int) -> CleanImage:
    """``data`` as a photo to keep: checked by content and size, upright, re-encoded as JPEG
    without its metadata (EXIF, GPS)."""
    if not data:
        raise EvidenceRefused("empty")
    if len(data) > max_bytes:
        raise EvidenceRefused("too_large")
    image = ImageOps.exif_transpose(_decoded(data))
    image = image.convert("RGB")
    image.thumbnail((LONG_SIDE_PX, LONG_SIDE_PX))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)  # no exif= : none is written
    return CleanImage(out.getvalue(), "image/jpeg", image.width, image.height)


def drawn_signature(data_url: str) -> CleanImage:
    """A signature drawn on the job card's pad (a ``data:image/png;base64,`` URL), checked and
    re-encoded as PNG."""
    head, _, body = data_url.partition(",")
    if head != "data:image/png;base64" or not body:
        raise EvidenceRefused("not_image", "not a PNG data URL")
    if len(body) > SIGNATURE_MAX_BYTES * 4 // 3 + 4:
        raise EvidenceRefused("too_large")
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EvidenceRefused("not_image", "bad base64") from exc
    image = _decoded(data)
    if image.format != "PNG" or not (
        image.width <= SIGNATURE_MAX_PX[0] and image.height <= SIGNATURE_MAX_PX[1]
    ):
        raise EvidenceRefused("not_image", "not a signature-sized PNG")
    out = io.BytesIO()
    image.convert("RGBA").save(out, "PNG", optimize=True)
    return CleanImage(out.getvalue(), "image/png", image.width, image.height)


def typed_signature(name: str) -> CleanImage:
    """The technician's typed name as the signature's image, when nothing was drawn (the
    keyboard's way to sign)."""
    font = ImageFont.load_default(size=36)
    left, top, right, bottom = font.getbbox(name)
    width, height = max(1, int(right - left) + 40), max(1, int(bottom - top) + 40)
    image = Image.new("RGBA", (min(width, SIGNATURE_MAX_PX[0]), height), (255, 255, 255, 0))
    ImageDraw.Draw(image).text((20 - left, 20 - top), name, fill=(20, 30, 60, 255), font=font)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return CleanImage(out.getvalue(), "image/png", image.width, image.height)


def files_of(conn: psycopg.Connection, *, order_id: int) -> list[ReportFile]:
    """The order's photos (before, then after, in upload order) and its signature, last."""
    return records(
        conn,
        ReportFile,
        "SELECT file_id, order_id, kind, storage_key, sha256, content_type, size_bytes, width_px, "
        "height_px, uploaded_at FROM report_files WHERE order_id = %s "
        "ORDER BY array_position(ARRAY['before', 'after', 'signature'], kind), file_id",
        (order_id,),
    )


def file_of(conn: psycopg.Connection, *, order_id: int, file_id: int) -> ReportFile | None:
    """One photo or signature of the order, or None."""
    return record(
        conn,
        ReportFile,
        "SELECT file_id, order_id, kind, storage_key, sha256, content_type, size_bytes, width_px, "
        "height_px, uploaded_at FROM report_files WHERE order_id = %s AND file_id = %s",
        (order_id, file_id),
    )


def _store(
    conn: psycopg.Connection,
    evidence: Evidence,
    *,
    order_id: int,
    kind: str,
    image: CleanImage,
    now: datetime,
    actor: str,
) -> ReportFile:
    """Put the blob, then its row; the blob goes again if the row cannot be written."""
    suffix = "png" if image.content_type == "image/png" else "jpg"
    key = f"orders/{order_id}/{kind}-{secrets.token_hex(16)}.{suffix}"
    evidence.store.put(key, image.data, image.content_type)
    try:
        found = record(
            conn,
            ReportFile,
            "INSERT INTO report_files (order_id, kind, storage_key, sha256, content_type, "
            "size_bytes, width_px, height_px, uploaded_at, uploaded_by) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING file_id, order_id, kind, storage_key, sha256, content_type, size_bytes, "
            "width_px, height_px, uploaded_at",
            (
                order_id,
                kind,
                key,
                hashlib.sha256(image.data).digest(),
                image.content_type,
                len(image.data),
                image.width_px,
                image.height_px,
                now,
                actor,
            ),
        )
    except BaseException:
        evidence.store.delete(key)
        raise
    assert found is not None
    return found


def _lock_open_order(conn: psycopg.Connection, order_id: int) -> None:
    row = a_dict(
        conn, "SELECT status FROM service_orders WHERE order_id = %s FOR UPDATE", (order_id,)
    )
    if row is None:
        raise OrderNotFound(order_id)
    if row["status"] not in OPEN_STATUSES:
        raise EvidenceRefused("closed", f"order {order_id} is {row['status']}")


def add_photos(
    *,
    conn: psycopg.Connection,
    evidence: Evidence,
    order_id: int,
    kind: Kind,
    photos: list[bytes],
    now: datetime,
    actor: str,
) -> list[ReportFile]:
    """Check, clean and keep photos of the car at the shop, all or none: EvidenceRefused for
    any of them stores nothing."""
    if kind not in KINDS:
        raise EvidenceRefused("not_image", f"kind {kind!r}")
    if not photos:
        raise EvidenceRefused("empty")
    images = [clean_photo(data, max_bytes=evidence.photo_max_bytes) for data in photos]
    kept: list[ReportFile] = []
    try:
        with conn.transaction():
            _lock_open_order(conn, order_id)
            count = scalar(
                conn,
                "SELECT count(*) FROM report_files WHERE order_id = %s AND kind <> 'signature'",
                (order_id,),
            )
            if count + len(images) > evidence.photo_max_count:
                raise EvidenceRefused("too_many")
            for image in images:
                kept.append(
                    _store(
                        conn,
                        evidence,
                        order_id=order_id,
                        kind=kind,
                        image=image,
                        now=now,
                        actor=actor,
                    )
                )
    except BaseException:
        for found in kept:  # the rows went with the transaction; their blobs go too
            evidence.store.delete(found.storage_key)
        raise
    return kept


def remove_photo(
    *, conn: psycopg.Connection, evidence: Evidence, order_id: int, file_id: int
) -> bool:
    """Take a photo off the report before it is complete; False when there was none."""
    with conn.transaction():
        _lock_open_order(conn, order_id)
        key = scalar(
            conn,
            "DELETE FROM report_files WHERE order_id = %s AND file_id = %s "
            "AND kind <> 'signature' RETURNING storage_key",
            (order_id, file_id),
        )
    if key is None:
        return False
    evidence.store.delete(key)
    return True


def add_signature(
    *,
    conn: psycopg.Connection,
    evidence: Evidence,
    order_id: int,
    image: CleanImage,
    now: datetime,
    actor: str,
) -> ReportFile:
    """Keep the technician's signature (inside the completion's transaction)."""
    return _store(
        conn, evidence, order_id=order_id, kind="signature", image=image, now=now, actor=actor
    )
