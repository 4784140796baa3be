# SPDX-License-Identifier: MIT
"""A report's evidence: the blob storage (local disk, and S3 against moto's server), photos
judged by their content and cleaned of their metadata, and the platform's signature, which
fails when a stored field or a photo is changed (real PostgreSQL)."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
from PIL import Image
from placement_helpers import MIN, T0, berlin_shops, open_order, policy
from report_images import FAKE_JPEG, GPS_IFD, gif, jpeg_with_gps, png

from orders import attest
from orders import evidence as files
from orders.evidence import Evidence, EvidenceRefused
from orders.feedback import WorkReport, check_in, start_service
from orders.placement import propose, schedule
from orders.signing import Signer, public_key_text
from orders.storage import BlobMissing, LocalStore, S3Store, StorageError

HOUR = timedelta(hours=1)


@pytest.fixture
def evidence(tmp_path) -> Evidence:
    return Evidence(
        store=LocalStore(tmp_path / "files"),
        signer=Signer(tmp_path / "key.pem"),
        photo_max_bytes=200_000,
        photo_max_count=3,
        base_url="https://wl.example",
    )


def _in_service(conn):
    shops = berlin_shops(conn)
    _, order_id = open_order(conn, odometer_km=79_437.9)
    propose(conn=conn, order_id=order_id, now=T0, policy=policy(mode="auto"), consent="auto_book")
    schedule(conn=conn, order_id=order_id, now=T0 + MIN, actor=f"shop:{shops['A']}")
    check_in(conn=conn, order_id=order_id, now=T0 + 2 * HOUR, actor="shop")
    start_service(conn=conn, order_id=order_id, now=T0 + 2 * HOUR + MIN, actor="shop")
    return order_id


REPORT = WorkReport.model_validate(
    {
        "work_done": "Oil changed; pads measured",
        "cost": "142.50",
        "odometer_km": 79_440.0,
        "oil_changed": True,
        "pad_front_mm": 7.5,
        "pad_rear_mm": 8.1,
        "labour_h": 0.8,
        "technician": "Jana Weber",
        "parts": [{"part": "engine oil", "part_number": "OIL-5W30", "batch": "L2311-07"}],
    }
)


def _completed(conn, evidence):
    order_id = _in_service(conn)
    files.add_photos(
        conn=conn,
        evidence=evidence,
        order_id=order_id,
        kind="before",
        photos=[jpeg_with_gps()],
        now=T0 + 2 * HOUR,
        actor="shop",
    )
    files.add_photos(
        conn=conn,
        evidence=evidence,
        order_id=order_id,
        kind="after",
        photos=[png()],
        now=T0 + 3 * HOUR,
        actor="shop",
    )
    code = attest.complete_signed(
        conn=conn,
        evidence=evidence,
        order_id=order_id,
        now=T0 + 3 * HOUR,
        report=REPORT,
        actor="shop",
        signature=files.typed_signature("Jana Weber"),
    )
    return order_id, code


# -- storage ------------------------------------------------------------------------------


def _round_trip(store) -> None:
    store.put("orders/1/before-abc.jpg", b"first", "image/jpeg")
    store.put("orders/1/before-abc.jpg", b"second", "image/jpeg")
    assert store.get("orders/1/before-abc.jpg") == b"second"
    store.delete("orders/1/before-abc.jpg")
    with pytest.raises(BlobMissing):
        store.get("orders/1/before-abc.jpg")
    store.delete("orders/1/before-abc.jpg")  # deleting what is gone is no error
    for bad in ("../escape", "/etc/passwd", "Orders/1", "orders/../x", ""):
        with pytest.raises(StorageError):
            store.put(bad, b"x", "image/jpeg")


def test_local_storage_puts_gets_and_deletes_by_key(tmp_path):
    store = LocalStore(tmp_path / "files")
    _round_trip(store)
    assert not list((tmp_path / "files").rglob("*.jpg"))
    assert not (tmp_path / "escape").exists()


@pytest.fixture
def s3_server():
    """moto's standalone S3 server on a free port: a fake S3, since no real S3 or MinIO can
    run on the test machines; it speaks S3's HTTP API, so boto3 goes through its real client
    (signing, HTTP, error parsing) against it."""
    from moto.server import ThreadedMotoServer

    from wrenchlight.embedded import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_s3_storage_puts_gets_and_deletes_by_key(s3_server):
    """Against moto's S3 server (a fake S3: no real S3/MinIO runs here)."""
    import boto3

    keys = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    raw = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1", **keys)
    raw.create_bucket(Bucket="reports")
    store = S3Store(bucket="reports", endpoint_url=s3_server, access_key="test", secret_key="test")
    _round_trip(store)
    store.put("orders/2/after-x.png", b"kept", "image/png")
    head = raw.head_object(Bucket="reports", Key="orders/2/after-x.png")
    assert head["ContentType"] == "image/png"
    listed = raw.list_objects_v2(Bucket="reports").get("Contents", [])
    assert [o["Key"] for o in listed] == ["orders/2/after-x.png"]


def test_s3_storage_says_when_the_bucket_is_missing(s3_server):
    """Against moto's S3 server (a fake S3)."""
    store = S3Store(bucket="nope", endpoint_url=s3_server, access_key="t", secret_key="t")
    with pytest.raises(StorageError):
        store.put("orders/1/a.jpg", b"x", "image/jpeg")


def test_the_settings_choose_s3_storage_and_the_key_file(s3_server, tmp_path):
    """Against moto's S3 server (a fake S3: no real S3/MinIO runs here)."""
    import boto3

    from wrenchlight.api_config import evidence_config
    from wrenchlight.settings import Settings

    boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
    ).create_bucket(Bucket="wl-photos")
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        storage="s3",
        s3_endpoint_url=s3_server,
        s3_bucket="wl-photos",
        s3_access_key="k",
        s3_secret_key="s",
        photo_max_mb=2,
        web_base_url="https://wl.example",
    )
    configured = evidence_config(settings)
    assert isinstance(configured.store, S3Store)
    configured.store.put("orders/9/a.jpg", b"x", "image/jpeg")
    assert configured.store.get("orders/9/a.jpg") == b"x"
    assert configured.photo_max_bytes == 2 * 1024 * 1024
    assert configured.verify_url("AB12-CD34-EF56") == "https://wl.example/app/verify/AB12-CD34-EF56"
    configured.signer.sign(b"first use")
    assert (tmp_path / "report-signing.pem").is_file()
    local = evidence_config(Settings(_env_file=None, data_dir=tmp_path))
    assert isinstance(local.store, LocalStore) and local.store.root == tmp_path / "files"
    assert local.signer.key_id == configured.signer.key_id  # the same key file


# -- photos -------------------------------------------------------------------------------


def test_a_photo_is_kept_without_its_exif_and_gps():
    original = Image.open(io.BytesIO(jpeg_with_gps()))
    assert original.getexif().get_ifd(GPS_IFD)  # the fixture does carry a position
    clean = files.clean_photo(jpeg_with_gps(), max_bytes=1_000_000)
    kept = Image.open(io.BytesIO(clean.data))
    assert kept.format == "JPEG" and kept.size == (64, 48)
    assert not kept.getexif()
    assert b"TestCam" not in clean.data and b"Exif" not in clean.data


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (FAKE_JPEG, "not_image"),
        (b"%PDF-1.7 a document named photo.jpg", "not_image"),
        (gif(), "not_image"),
        (jpeg_with_gps()[:200], "not_image"),  # a photo cut short
        (b"", "empty"),
        (jpeg_with_gps(size=(1200, 1200), colour="green") + b"\0" * 300_000, "too_large"),
    ],
)
def test_what_is_not_a_photo_is_refused_by_its_content(data, why):
    with pytest.raises(EvidenceRefused) as refused:
        files.clean_photo(data, max_bytes=300_000)
    assert refused.value.why == why


def test_a_refused_photo_stores_nothing(conn, evidence, tmp_path):
    order_id = _in_service(conn)
    with pytest.raises(EvidenceRefused):
        files.add_photos(
            conn=conn,
            evidence=evidence,
            order_id=order_id,
            kind="before",
            photos=[png(), FAKE_JPEG],  # the good one goes with the bad: all or none
            now=T0,
            actor="shop",
        )
    assert files.files_of(conn, order_id=order_id) == []
    assert not [p for p in (tmp_path / "files").rglob("*") if p.is_file()]


def test_a_job_has_at_most_its_count_of_photos(conn, evidence):
    order_id = _in_service(conn)
    args = {"conn": conn, "evidence": evidence, "order_id": order_id, "now": T0, "actor": "s"}
    files.add_photos(kind="before", photos=[png(), png()], **args)
    with pytest.raises(EvidenceRefused) as refused:
        files.add_photos(kind="after", photos=[png(), png()], **args)
    assert refused.value.why == "too_many"
    assert len(files.files_of(conn, order_id=order_id)) == 2


def test_photos_are_frozen_once_the_report_is_signed(conn, evidence):
    order_id, _ = _completed(conn, evidence)
    with pytest.raises(EvidenceRefused) as refused:
        files.add_photos(
            conn=conn,
            evidence=evidence,
            order_id=order_id,
            kind="after",
            photos=[png()],
            now=T0 + 4 * HOUR,
            actor="shop",
        )
    assert refused.value.why == "closed"


def test_a_drawn_signature_must_be_a_png():
    drawn = "data:image/png;base64," + base64.b64encode(png((300, 100))).decode()
    assert files.drawn_signature(drawn).content_type == "image/png"
    jpeg = "data:image/png;base64," + base64.b64encode(jpeg_with_gps()).decode()
    for bad in ("data:image/png;base64,AAAA", "javascript:alert(1)", jpeg):
        with pytest.raises(EvidenceRefused):
            files.drawn_signature(bad)


# -- signing ------------------------------------------------------------------------------


def test_a_completed_report_verifies_unaltered(conn, evidence):
    order_id, code = _completed(conn, evidence)
    verdict = attest.verify(conn, evidence, code=code.lower().replace("-", ""))
    assert verdict is not None and verdict.valid
    doc = verdict.document
    assert doc["order"] == order_id and doc["technician"] == "Jana Weber"
    assert doc["parts"][0]["batch"] == "L2311-07"
    assert [p["kind"] for p in doc["photos"]] == ["before", "after"]
    assert len(doc["signature_sha256"]) == 64
    assert attest.verify(conn, evidence, code="0000-0000-0000") is None


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE service_reports SET pad_front_mm = 9.5 WHERE order_id = %(o)s",
        "UPDATE service_reports SET odometer_km = odometer_km + 0.01 WHERE order_id = %(o)s",
        "UPDATE service_reports SET parts = jsonb_set(parts, '{0,batch}', '\"X1\"') "
        "WHERE order_id = %(o)s",
        "UPDATE service_reports SET technician = 'Someone Else' WHERE order_id = %(o)s",
        "UPDATE report_signatures SET shop_name = 'Better Shop' WHERE order_id = %(o)s",
        "DELETE FROM report_files WHERE order_id = %(o)s AND kind = 'after'",
    ],
)
def test_a_stored_field_changed_makes_the_report_invalid(conn, evidence, tamper):
    order_id, code = _completed(conn, evidence)
    conn.execute(tamper, {"o": order_id})
    verdict = attest.verify(conn, evidence, code=code)
    assert verdict is not None and not verdict.valid


def test_a_photo_swapped_in_the_storage_makes_the_report_invalid(conn, evidence):
    order_id, code = _completed(conn, evidence)
    before = files.files_of(conn, order_id=order_id)[0]
    evidence.store.put(before.storage_key, files.clean_photo(png(), max_bytes=10**6).data, "x")
    verdict = attest.verify(conn, evidence, code=code)
    assert verdict is not None and not verdict.valid


def test_a_photo_row_pointed_at_another_photo_makes_the_report_invalid(conn, evidence):
    order_id, code = _completed(conn, evidence)
    found = files.files_of(conn, order_id=order_id)
    conn.execute(
        "UPDATE report_files SET storage_key = %s WHERE file_id = %s",
        (found[1].storage_key + ".x", found[0].file_id),
    )
    evidence.store.put(found[1].storage_key + ".x", evidence.store.get(found[1].storage_key), "x")
    assert not attest.verify(conn, evidence, code=code).valid


def test_a_rotated_key_still_verifies_its_reports_and_a_stranger_key_does_not(
    conn, evidence, tmp_path
):
    _, code = _completed(conn, evidence)
    old_public = public_key_text(evidence.signer._private().public_key())
    rotated = Evidence(
        store=evidence.store, signer=Signer(tmp_path / "new.pem", None, (old_public,))
    )
    assert attest.verify(conn, rotated, code=code).valid
    stranger = Evidence(store=evidence.store, signer=Signer(tmp_path / "other.pem"))
    assert not attest.verify(conn, stranger, code=code).valid


def test_the_key_file_is_made_once_and_private(tmp_path):
    first = Signer(tmp_path / "k.pem")
    key = first.key_id
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    assert Signer(tmp_path / "k.pem").key_id == key
