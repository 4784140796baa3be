# SPDX-License-Identifier: MIT
"""Every write leaves an audit row: who, what, when; refused writes too, reads never."""

from __future__ import annotations

from api_helpers import make_caller


def _rows(conn):
    return conn.execute(
        "SELECT user_id, key_id, method, route, path, status, object_type, object_id "
        "FROM audit_log ORDER BY id"
    ).fetchall()


def test_writes_are_audited_with_who_what_and_status(conn, client):
    owner = make_caller(conn, "owner")
    intruder = make_caller(conn, "owner")
    created = client.post("/auth/keys", json={"name": "x"}, headers=owner.headers).json()
    client.get("/auth/keys", headers=owner.headers)  # a read: not audited
    with_key = {"X-API-Key": created["key"]}
    client.delete(f"/auth/keys/{created['key_id']}", headers=intruder.headers)
    client.delete(f"/auth/keys/{created['key_id']}", headers=with_key)
    client.post("/auth/keys", json={"name": "anon"})
    key = created["key_id"]
    revoke = ("DELETE", "/auth/keys/{key_id}", f"/auth/keys/{key}")
    assert _rows(conn) == [
        (owner.user_id, None, "POST", "/auth/keys", "/auth/keys", 201, None, None),
        (intruder.user_id, None, *revoke, 404, "key", str(key)),
        (owner.user_id, key, *revoke, 200, "key", str(key)),
        (None, None, "POST", "/auth/keys", "/auth/keys", 401, None, None),
    ]
    recent = "SELECT count(*) FROM audit_log WHERE at > now() - interval '1 minute'"
    assert conn.execute(recent).fetchone()[0] == 4


def test_only_admins_read_the_log_newest_first_in_pages(conn, client, admin):
    owner = make_caller(conn, "owner")
    for name in ("a", "b", "c"):
        client.post("/auth/keys", json={"name": name}, headers=owner.headers)
    refused = client.get("/audit-log", headers=owner.headers)
    assert refused.status_code == 403 and refused.json()["type"] == "/problems/forbidden"
    first = client.get("/audit-log", params={"limit": 2}, headers=admin.headers).json()
    rest = client.get(
        "/audit-log", params={"cursor": first["next_cursor"]}, headers=admin.headers
    ).json()
    entries = first["items"] + rest["items"]
    assert [e["route"] for e in entries] == ["/auth/keys"] * 3
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    assert {e["user_id"] for e in entries} == {owner.user_id} and rest["next_cursor"] is None
