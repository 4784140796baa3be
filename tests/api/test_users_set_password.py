# SPDX-License-Identifier: MIT
"""``set_password``: a user's new password works and the old one stops working."""

from __future__ import annotations

import pytest

from api.auth.users import UserError, authenticate, create_user, set_password


def test_a_new_password_replaces_the_old_one(conn):
    user_id = create_user(conn=conn, email="Dana@Example.com", role="owner", password="old secret")
    other = create_user(conn=conn, email="eli@example.com", role="owner", password="old secret")
    # The email matches in any capitalisation, as at login.
    assert set_password(conn=conn, email="dana@example.COM", password="new secret") == user_id
    assert authenticate(conn=conn, email="dana@example.com", password="new secret") == user_id
    assert authenticate(conn=conn, email="dana@example.com", password="old secret") is None
    # Nobody else's password changed.
    assert authenticate(conn=conn, email="eli@example.com", password="old secret") == other


def test_a_user_with_api_keys_only_gets_a_first_password(conn):
    user_id = create_user(conn=conn, email="admin@example.com", role="admin")
    assert authenticate(conn=conn, email="admin@example.com", password="a password") is None
    set_password(conn=conn, email="admin@example.com", password="a password")
    assert authenticate(conn=conn, email="admin@example.com", password="a password") == user_id


def test_an_unknown_email_or_a_short_password_is_refused_with_what_to_do(conn):
    with pytest.raises(UserError, match="create-user"):
        set_password(conn=conn, email="nobody@example.com", password="long enough")
    create_user(conn=conn, email="fay@example.com", role="owner", password="old secret")
    with pytest.raises(UserError, match="at least 8"):
        set_password(conn=conn, email="fay@example.com", password="short")
    assert authenticate(conn=conn, email="fay@example.com", password="old secret") is not None
