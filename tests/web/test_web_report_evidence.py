# SPDX-License-Identifier: MIT
"""A report's evidence over HTTP: photos uploaded on the job card, refused in plain words next
to their field with nothing stored (no row, no file) when too large, not a photo, or one too
many; the signed report's PDF and its public check (page and JSON), altered once a stored
field changes; who may see the photos (the owner, the shop that did the work, the fleet
manager, an admin) and who gets the order's 404 (another shop, another owner)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fleet_helpers import manager, new_fleet
from report_images import FAKE_JPEG, gif, jpeg_with_gps, png
from shop_helpers import shop_staff
from test_web_sessions import sign_in
from test_web_shop_jobs import in_service, report_form, shop_of
from web_helpers import make_owner

VIN = "WLRPT000000000001"


def _stored(client) -> list[Path]:
    root = client.app.state.evidence.store.root
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _rows(conn, order_id: int) -> int:
    return conn.execute(
        "SELECT count(*) FROM report_files WHERE order_id = %s", (order_id,)
    ).fetchone()[0]


def _upload(client, order_id, token, kind, *photos):
    return client.post(
        f"/app/shop/jobs/{order_id}/photos",
        data={"csrf_token": token, "kind": kind},
        files=[("photos", (name, data, ctype)) for name, data, ctype in photos],
    )


@pytest.mark.parametrize(
    ("photo", "words"),
    [
        (("big.jpg", b"\xff\xd8" + b"\0" * (9 * 1024 * 1024), "image/jpeg"), "larger than 8 MB"),
        (("car.jpg", FAKE_JPEG, "image/jpeg"), "not a photo that can be read"),
        (("notes.png", b"just text, called a PNG", "image/png"), "not a photo that can be read"),
        (("anim.gif", gif(), "image/gif"), "not a photo that can be read"),
    ],
)
def test_a_refused_upload_is_said_next_to_its_field_and_stores_nothing(
    client, owner, conn, photo, words
):
    order_id, token = in_service(client, conn, owner, VIN)
    # A real photo sent with the bad one is not kept either: all or none.
    sent = _upload(client, order_id, token, "after", ("ok.png", png(), "image/png"), photo)
    assert sent.status_code == 422
    assert 'id="photos-after-error"' in sent.text and words in sent.text
    assert 'aria-describedby="photos-after-error"' in sent.text
    assert _rows(conn, order_id) == 0 and _stored(client) == []


def test_no_file_chosen_is_said_and_too_many_photos_are_refused(client, owner, conn):
    order_id, token = in_service(client, conn, owner, VIN)
    empty = client.post(
        f"/app/shop/jobs/{order_id}/photos",
        data={"csrf_token": token, "kind": "before"},
        files=[("photos", ("", b"", "application/octet-stream"))],
    )
    assert empty.status_code == 422 and "Choose one or more photos first." in empty.text
    many = [(f"p{i}.png", png(), "image/png") for i in range(12)]
    assert _upload(client, order_id, token, "before", *many).status_code == 303
    more = _upload(client, order_id, token, "after", ("one.png", png(), "image/png"))
    assert more.status_code == 422 and "at most 12 photos" in more.text
    assert _rows(conn, order_id) == 12 and len(_stored(client)) == 12


def test_an_upload_without_the_form_token_stores_nothing(client, owner, conn):
    order_id, _ = in_service(client, conn, owner, VIN)
    forged = _upload(client, order_id, "forged", "before", ("a.jpg", jpeg_with_gps(), "x"))
    assert forged.status_code == 403
    assert _rows(conn, order_id) == 0 and _stored(client) == []


def _completed_with_photos(client, conn, owner) -> tuple[int, str, list[int]]:
    order_id, token = in_service(client, conn, owner, VIN)
    kept = _upload(client, order_id, token, "before", ("a.jpg", jpeg_with_gps(), "image/jpeg"))
    assert kept.status_code == 303
    assert kept.headers["location"] == f"/app/shop/jobs/{order_id}?done=photos#photos"
    assert (
        _upload(client, order_id, token, "after", ("b.png", png(), "image/png")).status_code == 303
    )
    done = client.post(f"/app/shop/jobs/{order_id}/complete", data=report_form(token))
    assert done.status_code == 303, done.text
    code = conn.execute(
        "SELECT code FROM report_signatures WHERE order_id = %s", (order_id,)
    ).fetchone()[0]
    files = [
        r[0]
        for r in conn.execute(
            "SELECT file_id FROM report_files WHERE order_id = %s ORDER BY file_id", (order_id,)
        )
    ]
    return order_id, code, files


def test_the_completed_report_is_signed_and_checks_until_a_field_is_altered(client, owner, conn):
    order_id, code, files = _completed_with_photos(client, conn, owner)
    assert len(files) == 3  # before, after, and the typed name as the signature
    card = client.get(f"/app/shop/jobs/{order_id}").text
    assert f"Code {code}" in card and f"/app/verify/{code}" in card
    pdf = client.get(f"/app/orders/{order_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    client.cookies.clear()  # the public check needs no sign-in
    page = client.get(f"/app/verify/{code}")
    assert page.status_code == 200
    assert "unaltered" in page.text and "Jana Weber" in page.text and "L2311-07" in page.text
    assert "/files/" not in page.text  # the photos stay with those who may see them
    assert client.get(f"/verify/{code}").status_code == 404  # the API's is under /reports
    checked = client.get(f"/reports/verify/{code}").json()
    assert checked["valid"] is True and checked["report"]["vin"] == VIN
    assert checked["verify_url"] == f"http://testserver/app/verify/{code}"
    public_pdf = client.get(f"/app/verify/{code}/report.pdf")
    assert public_pdf.status_code == 200 and public_pdf.content.startswith(b"%PDF")
    conn.execute("UPDATE service_reports SET pad_rear_mm = 9.0 WHERE order_id = %s", (order_id,))
    altered = client.get(f"/app/verify/{code}")
    assert "This report was altered and is not valid" in altered.text
    assert "unaltered" not in altered.text
    assert client.get(f"/reports/verify/{code}").json()["valid"] is False
    assert client.get("/app/verify/AAAA-BBBB-CCCC").status_code == 404
    assert client.get("/reports/verify/nonsense").status_code == 404


def test_who_may_see_the_photos(client, owner, conn):
    order_id, code, files = _completed_with_photos(client, conn, owner)
    photo = f"/app/orders/{order_id}/files/{files[0]}"
    shown = client.get(photo)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert b"Exif" not in shown.content
    # The owner sees the report with its photos, signature and verify link.
    client.cookies.clear()
    sign_in(client, owner.email)
    page = client.get(f"/app/orders/{order_id}").text
    assert photo in page and f"/app/verify/{code}" in page and "Signature of Jana Weber" in page
    assert client.get(photo).status_code == 200
    assert client.get(f"/app/orders/{order_id}/report.pdf").status_code == 200
    # The car's fleet manager sees them too.
    fleet_id = new_fleet(conn)
    conn.execute("UPDATE vehicles SET fleet_id = %s WHERE vin = %s", (fleet_id, VIN))
    client.cookies.clear()
    sign_in(client, manager(conn, fleet_id).email)
    assert client.get(photo).status_code == 200
    # Another shop's staff, and another owner: the order's 404, photo and PDF alike.
    other_shop = conn.execute(
        "SELECT shop_id FROM shops WHERE shop_id <> %s ORDER BY shop_id LIMIT 1",
        (shop_of(conn, order_id),),
    ).fetchone()[0]
    for person in (shop_staff(conn, other_shop, "rival"), make_owner(conn, "stranger")):
        client.cookies.clear()
        sign_in(client, person.email)
        assert client.get(photo).status_code == 404
        assert client.get(f"/app/orders/{order_id}/report.pdf").status_code == 404
        assert client.get(f"/app/orders/{order_id}/files/{files[2]}").status_code == 404
    client.cookies.clear()
    assert client.get(photo).status_code == 303  # signed out: to the sign-in page


def test_a_drawn_signature_that_is_not_a_png_is_refused_next_to_the_pad(client, owner, conn):
    order_id, token = in_service(client, conn, owner, VIN)
    sent = client.post(
        f"/app/shop/jobs/{order_id}/complete",
        data=report_form(token, signature="data:image/png;base64,bm90IGEgcG5n"),
    )
    assert sent.status_code == 422 and 'id="signature-error"' in sent.text
    assert _rows(conn, order_id) == 0 and _stored(client) == []
    assert (
        conn.execute(
            "SELECT count(*) FROM report_signatures WHERE order_id = %s", (order_id,)
        ).fetchone()[0]
        == 0
    )


def test_the_api_gives_the_report_pdf_to_those_who_may_see_it(client, owner, conn):
    order_id, _, _ = _completed_with_photos(client, conn, owner)
    token = client.post(
        "/auth/token", data={"username": owner.email, "password": "correct horse battery staple"}
    ).json()["access_token"]
    pdf = client.get(
        f"/service-orders/{order_id}/report.pdf", headers={"Authorization": f"Bearer {token}"}
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    stranger = make_owner(conn, "stranger")
    other = client.post(
        "/auth/token", data={"username": stranger.email, "password": "correct horse battery staple"}
    ).json()["access_token"]
    refused = client.get(
        f"/service-orders/{order_id}/report.pdf", headers={"Authorization": f"Bearer {other}"}
    )
    assert refused.status_code == 404
    assert client.get(f"/service-orders/{order_id}/report.pdf").status_code == 401
