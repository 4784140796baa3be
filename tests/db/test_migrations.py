# SPDX-License-Identifier: MIT
"""The migrations on real servers: TimescaleDB available but not loadable falls back to plain
PostgreSQL with a log line, and every revision goes down to base and up to head again, on
the storage path the server gives (``WL_EXPECT_TIMESCALEDB=1`` or ``0`` requires one: a run
against a real TimescaleDB then fails rather than pass on the plain fallback)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.script import ScriptDirectory
from psycopg import sql

import db
from db.migrate import MIGRATIONS, with_database
from db.timescale import has_timescaledb
from wrenchlight.embedded import EmbeddedPostgres

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()
# "1": the suite's server must install TimescaleDB (a TimescaleDB run, see db/README.md);
# "0": it must take the plain-PostgreSQL path (CI's PostgreSQL 15, the embedded 18).
EXPECT_TIMESCALEDB = os.environ.get("WL_EXPECT_TIMESCALEDB", "")

# Install scripts of a fake TimescaleDB that pg_available_extensions lists but that cannot be
# installed: its library is missing (an ERROR), or its backend dies the way TimescaleDB's does
# without shared_preload_libraries (a FATAL that closes the connection).
UNLOADABLE = {
    "library missing": (
        "CREATE FUNCTION wl_fake_timescaledb() RETURNS void "
        "AS 'MODULE_PATHNAME', 'wl_fake' LANGUAGE C;"
    ),
    "connection closed": "SELECT pg_terminate_backend(pg_backend_pid());",
}
CONTROL = """\
comment = 'a TimescaleDB that cannot be loaded (Wrenchlight test)'
default_version = '2.99.0'
module_pathname = '$libdir/timescaledb-not-there'
relocatable = false
superuser = true
"""


@pytest.fixture(scope="module")
def pg18() -> Iterator[str]:
    """An embedded PostgreSQL 18 of this module's own (extension_control_path is 18's)."""
    # The server runs as another user when the tests run as root: a world-readable directory.
    home = Path(tempfile.mkdtemp(prefix="wl-pg18-"))
    home.chmod(0o755)
    server = EmbeddedPostgres(home / "data")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def fake_timescaledb(request) -> Iterator[Path]:
    """A directory holding extension/timescaledb.control and its failing install script."""
    root = Path(tempfile.mkdtemp(prefix="wl-fake-ts-"))
    ext = root / "extension"
    ext.mkdir()
    for path in (root, ext):
        path.chmod(0o755)
    (ext / "timescaledb.control").write_text(CONTROL)
    (ext / "timescaledb--2.99.0.sql").write_text(UNLOADABLE[request.param] + "\n")
    yield root
    shutil.rmtree(root)


def _new_database(server_url: str) -> str:
    name = f"wl_mig_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as c:
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(server_url, name)


def _drop_database(server_url: str, url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server_url, autocommit=True) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.parametrize("fake_timescaledb", sorted(UNLOADABLE), indirect=True)
def test_timescaledb_available_but_not_loadable_falls_back_to_plain_postgres(
    pg18, fake_timescaledb, caplog
):
    url = _new_database(pg18)
    try:
        # Only this database sees the fake: the server's own extension directory is shared.
        with psycopg.connect(url, autocommit=True) as c:
            c.execute(
                sql.SQL("ALTER DATABASE {} SET extension_control_path = {}").format(
                    sql.Identifier(c.info.dbname), sql.Literal(f"{fake_timescaledb}:$system")
                )
            )
        with psycopg.connect(url, autocommit=True) as c:
            assert c.execute(db.timescale.AVAILABLE_SQL).fetchone() == (1,)
        with caplog.at_level(logging.WARNING, logger="db.timescale"):
            db.upgrade(url)
        assert db.current_revision(url) == HEAD
        with psycopg.connect(url, autocommit=True) as c:
            assert c.execute(db.timescale.CHECK_SQL).fetchone() is None
            # The plain path: readings partitioned by range, rollups kept through the queue.
            assert c.execute(
                "SELECT relkind FROM pg_class WHERE oid = 'readings'::regclass"
            ).fetchone() == ("p",)
            assert c.execute("SELECT to_regclass('rollup_queue') IS NOT NULL").fetchone() == (True,)
        [line] = [r.getMessage() for r in caplog.records if r.name == "db.timescale"]
        assert "plain PostgreSQL" in line and "\n" not in line
        assert "shared_preload_libraries = 'timescaledb'" in line and "restart" in line
    finally:
        _drop_database(pg18, url)


def storage_path(conn: psycopg.Connection) -> str:
    """``timescaledb`` or ``plain``, after checking that the storage objects are that path's:
    a hypertable with continuous aggregates, or a partitioned table with rollup tables kept
    through ``rollup_queue``."""
    if has_timescaledb(conn):
        assert conn.execute(
            "SELECT 1 FROM timescaledb_information.hypertables "
            "WHERE hypertable_schema = 'public' AND hypertable_name = 'readings'"
        ).fetchone() == (1,)
        aggregates = conn.execute(
            "SELECT view_name FROM timescaledb_information.continuous_aggregates "
            "WHERE view_schema = 'public' ORDER BY view_name"
        ).fetchall()
        assert aggregates == [("readings_1h",), ("readings_1m",)]
        assert conn.execute("SELECT to_regclass('rollup_queue')").fetchone() == (None,)
        return "timescaledb"
    kinds = conn.execute(
        "SELECT relname, relkind FROM pg_class "
        "WHERE relname IN ('readings', 'readings_1m', 'readings_1h', 'rollup_queue') "
        "AND relnamespace = 'public'::regnamespace ORDER BY relname"
    ).fetchall()
    assert kinds == [
        ("readings", "p"),
        ("readings_1h", "r"),
        ("readings_1m", "r"),
        ("rollup_queue", "r"),
    ]
    return "plain"


def expected_path() -> str | None:
    """The path ``WL_EXPECT_TIMESCALEDB`` requires, None when it is unset."""
    if EXPECT_TIMESCALEDB not in ("", "0", "1"):
        raise pytest.UsageError(f"WL_EXPECT_TIMESCALEDB={EXPECT_TIMESCALEDB!r}: use 1 or 0")
    return {"1": "timescaledb", "0": "plain"}.get(EXPECT_TIMESCALEDB)


def test_the_suite_runs_on_the_storage_path_it_expects(database_url):
    """The path the suite's own database took, required by ``WL_EXPECT_TIMESCALEDB`` (or
    reported as a skip, shown in the summary, when nothing is required)."""
    with psycopg.connect(database_url, autocommit=True) as c:
        path = storage_path(c)
        version = c.execute("SHOW server_version").fetchone()
        preload = c.execute("SHOW shared_preload_libraries").fetchone()
    expected = expected_path()
    where = f"PostgreSQL {version[0] if version else '?'}, path {path}"
    if expected is None:
        pytest.skip(f"storage path: {where} (WL_EXPECT_TIMESCALEDB=1 or 0 requires one)")
    assert path == expected, (
        f"{where}, but WL_EXPECT_TIMESCALEDB={EXPECT_TIMESCALEDB} requires {expected}; "
        f"shared_preload_libraries = {preload[0] if preload else '?'!r} (TimescaleDB needs "
        "'timescaledb' there and a restart: db/README.md)"
    )


def test_every_revision_goes_down_to_base_and_up_to_head_again(postgres_server_url):
    url = _new_database(postgres_server_url)
    try:
        db.upgrade(url)
        with psycopg.connect(url, autocommit=True) as c:
            path = storage_path(c)
        # A TimescaleDB run proves the TimescaleDB branch of every revision, not the fallback.
        expected = expected_path()
        assert expected in (None, path), f"migrated on the {path} path, {expected} required"
        db.downgrade(url, "base")
        assert db.current_revision(url) is None
        with psycopg.connect(url, autocommit=True) as c:
            left = c.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') "
                "AND c.relname <> 'alembic_version'"
            ).fetchall()
            assert left == []
        db.upgrade(url)
        assert db.current_revision(url) == HEAD
        with psycopg.connect(url, autocommit=True) as c:
            assert storage_path(c) == path  # back up the same path
    finally:
        _drop_database(postgres_server_url, url)
