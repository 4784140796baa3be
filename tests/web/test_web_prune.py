# SPDX-License-Identifier: MIT
"""Finished sessions and sign-in links are deleted: a day after they ended, a bounded batch at
each sign-in (never waiting on a row someone holds), all of them by ``wrenchlight admin
prune-sessions``. Times are the tests' clock (``web.deps.clock``), the one the app writes by."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg
from test_web_sessions import csrf_of, sign_in
from typer.testing import CliRunner
from web_helpers import make_owner

from web import links, sessions
from web.deps import clock
from web.routes import auth
from wrenchlight.cli import build_app

DAY = timedelta(days=1)
TTL = timedelta(days=14)
GRACE = sessions.PRUNE_GRACE


def session_ending(conn, user_id: int, ends_in: timedelta) -> int:
    """A session of ``user_id`` that ends ``ends_in`` from now (negative: ended); its id."""
    now = clock()
    token, _ = sessions.start(conn=conn, user_id=user_id, now=now + ends_in - TTL, ttl=TTL)
    found = sessions.find(conn=conn, token=token, now=now + ends_in - TTL)
    assert found is not None
    return found.session_id


def session_ids(conn) -> set[int]:
    return {r[0] for r in conn.execute("SELECT session_id FROM web_sessions").fetchall()}


def link_rows(conn) -> int:
    return conn.execute("SELECT count(*) FROM web_signin_links").fetchone()[0]


def test_sessions_are_deleted_a_day_after_they_ended(conn, owner):
    live = session_ending(conn, owner.user_id, DAY)
    just_ended = session_ending(conn, owner.user_id, -GRACE + timedelta(minutes=5))
    long_gone = session_ending(conn, owner.user_id, -GRACE - timedelta(minutes=5))
    assert sessions.prune(conn=conn, now=clock(), limit=100) == 1
    assert session_ids(conn) == {live, just_ended} and long_gone not in session_ids(conn)


def test_links_are_deleted_a_day_after_use_or_expiry(conn, owner):
    now = clock()
    links.issue(conn=conn, email=owner.email, now=now, ttl=timedelta(minutes=15))  # unused
    used_today, _ = links.issue(conn=conn, email=owner.email, now=now, ttl=timedelta(minutes=15))
    assert links.redeem(conn=conn, token=used_today, now=now) == owner.user_id
    old = now - GRACE - timedelta(hours=1)
    used_long_ago, _ = links.issue(conn=conn, email=owner.email, now=old, ttl=timedelta(days=30))
    assert links.redeem(conn=conn, token=used_long_ago, now=old) == owner.user_id
    links.issue(conn=conn, email=owner.email, now=old, ttl=timedelta(minutes=15))  # expired
    assert links.prune(conn=conn, now=now, limit=100) == 2
    assert link_rows(conn) == 2


def test_a_prune_is_bounded(conn, owner):
    for _ in range(5):
        session_ending(conn, owner.user_id, -GRACE - DAY)
    assert sessions.prune(conn=conn, now=clock(), limit=2) == 2
    assert len(session_ids(conn)) == 3


def test_a_prune_skips_rows_held_by_others_instead_of_waiting(conn, db_url, owner):
    held = session_ending(conn, owner.user_id, -GRACE - DAY)
    free = session_ending(conn, owner.user_id, -GRACE - DAY)
    with psycopg.connect(db_url) as holder, psycopg.connect(db_url, autocommit=True) as pruner:
        holder.execute("SELECT 1 FROM web_sessions WHERE session_id = %s FOR UPDATE", (held,))
        # Were the prune to wait for the lock, this would fail it instead of hanging the test.
        pruner.execute("SET lock_timeout = '5s'")
        assert sessions.prune(conn=pruner, now=clock(), limit=100) == 1
        holder.rollback()
    assert session_ids(conn) == {held} and free not in session_ids(conn)


def test_signing_in_removes_a_bounded_batch(client, owner, conn, monkeypatch):
    monkeypatch.setattr(auth, "PRUNE_AT_SIGNIN", 2)
    someone = make_owner(conn, "someone")
    for _ in range(3):
        session_ending(conn, someone.user_id, -GRACE - DAY)
    live = session_ending(conn, someone.user_id, DAY)
    assert sign_in(client, owner.email).status_code == 303
    left = session_ids(conn)
    assert live in left and len(left) == 3  # one old row of three, the live one, the new one
    client.cookies.clear()  # another browser
    assert sign_in(client, owner.email).status_code == 303
    assert len(session_ids(conn)) == 3  # the last old row gone, a second new session


def test_signing_in_by_link_prunes_too(client, owner, conn):
    old = clock() - GRACE - DAY
    token, _ = links.issue(conn=conn, email=owner.email, now=old, ttl=timedelta(minutes=15))
    fresh, _ = links.issue(conn=conn, email=owner.email, now=clock(), ttl=timedelta(minutes=15))
    page = client.get(f"/app/signin/link?token={fresh}")
    used = client.post(
        "/app/signin/link/use", data={"token": fresh, "csrf_token": csrf_of(page.text)}
    )
    assert used.status_code == 303
    assert link_rows(conn) == 1  # the old one gone; the one just used kept through the grace
    assert links.redeem(conn=conn, token=token, now=clock()) is None


def run_cli(db_url: str, *args: str):
    return CliRunner().invoke(
        build_app(),
        ["admin", "prune-sessions", *args],
        env={"WRENCHLIGHT_DATABASE_URL": db_url},
    )


def test_the_command_removes_every_finished_row_in_batches(db_url, conn, owner):
    for _ in range(5):
        session_ending(conn, owner.user_id, -GRACE - DAY)
    live = session_ending(conn, owner.user_id, DAY)
    old = clock() - GRACE - DAY
    for _ in range(3):
        links.issue(conn=conn, email=owner.email, now=old, ttl=timedelta(minutes=15))
    result = run_cli(db_url, "--batch", "2", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["sessions"], doc["links"]) == (5, 3)
    assert session_ids(conn) == {live} and link_rows(conn) == 0
    again = run_cli(db_url)
    assert again.exit_code == 0 and again.stdout.startswith("removed 0 sessions and 0 sign-in")


def test_the_command_explains_itself(db_url):
    result = run_cli(db_url, "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "a day after it expired" in text and "cron" in text and "--json" in text
