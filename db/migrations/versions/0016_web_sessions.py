# SPDX-License-Identifier: MIT
"""The web app's sessions, one-time sign-in links, and each user's display preferences.

- ``web_sessions``: one row per signed-in browser. The cookie carries a random token; the row
  keeps only its SHA-256, so a read of the table signs nobody in. ``csrf_token`` is the
  session's form token (web/csrf.py). "Sign out everywhere" deletes a user's rows.
- ``web_signin_links``: one-time links sent by email, hashed like the sessions, single use
  (``used_at``) and short-lived (``expires_at``).
- ``users.units``: metric (km, °C) or imperial (mi, °F); ``users.language``: the language the
  user chose in the app (null: the browser's).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE web_sessions (
    session_id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE TABLE web_signin_links (
    link_id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX web_signin_links_user ON web_signin_links (user_id);
ALTER TABLE users
    ADD COLUMN units text NOT NULL DEFAULT 'metric' CHECK (units IN ('metric', 'imperial')),
    ADD COLUMN language text CHECK (language IN ('en', 'zh_Hans'));
"""

DOWNGRADE = """
ALTER TABLE users DROP COLUMN IF EXISTS language, DROP COLUMN IF EXISTS units;
DROP TABLE IF EXISTS web_signin_links;
DROP TABLE IF EXISTS web_sessions;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
