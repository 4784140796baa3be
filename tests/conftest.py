# SPDX-License-Identifier: MIT
"""Shared fixtures: real PostgreSQL and a real MQTT broker.

``TEST_DATABASE_URL`` / ``TEST_MQTT_URL`` point at running services (CI sets them to the
machine's PostgreSQL and Mosquitto). When unset, the suite starts the same embedded services
the demo uses, so ``make test`` passes on a machine with nothing running. Each test session
gets its own freshly migrated database; each test that asks for ``db_url`` starts from empty
tables.
"""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

import db
from db.migrate import with_database
from db.timescale import has_timescaledb
from wrenchlight.embedded import EmbeddedBroker, EmbeddedPostgres

# Tables that keep their rows between tests: the migrations' own rows, which no test creates.
KEPT_TABLES = ("alembic_version", "evaluator_shards", "readings_policy")
# Every other table of ours, read from the catalog so that a new revision's tables are emptied
# too. Partitions are emptied with their parent; on TimescaleDB, its chunks and
# materializations live in its own schemas and go with their hypertable or aggregate.
DATA_TABLES_SQL = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND c.relname <> ALL(%s)
ORDER BY c.relname
"""
CONTINUOUS_AGGREGATES_SQL = (
    "SELECT view_name FROM timescaledb_information.continuous_aggregates "
    "WHERE view_schema = 'public' ORDER BY view_name"
)


HYPERTABLES_SQL = (
    "SELECT hypertable_name FROM timescaledb_information.hypertables "
    "WHERE hypertable_schema = 'public'"
)
# The sequences those tables own (serial and identity columns) that have handed out a value
# since they were last restarted: TRUNCATE ... RESTART IDENTITY would restart them. The CASE
# keeps pg_sequence_last_value to sequences: PostgreSQL 18 plans the condition onto the scan of
# pg_class, before the join with pg_sequence, and the function fails on any other relation.
USED_SEQUENCES_SQL = """
SELECT s.oid::regclass::text, q.seqstart FROM pg_class s
JOIN pg_sequence q ON q.seqrelid = s.oid
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
WHERE t.relname = ANY(%s) AND s.relkind = 'S'
  AND CASE WHEN s.relkind = 'S' THEN pg_sequence_last_value(s.oid) END IS NOT NULL
"""
# A table holding more rows than this is truncated; fewer are deleted (see empty_data_tables).
DELETE_AT_MOST = 10_000


def data_tables(conn: psycopg.Connection) -> list[str]:
    """The tables ``db_url`` empties: every table of ours but the kept ones."""
    return [r[0] for r in conn.execute(DATA_TABLES_SQL, (list(KEPT_TABLES),))]


def empty_data_tables(conn: psycopg.Connection) -> None:
    """Leave every data table empty and its sequences restarted, as one
    ``TRUNCATE <all of them> RESTART IDENTITY CASCADE`` would, in a tenth of its time.

    That TRUNCATE, before every test, was a large share of the suite: it gives each of the
    forty tables a new file, and truncating even one table referenced by foreign keys
    cascades to all the tables that reference it. Most tests leave a few rows in a few
    tables, so those are deleted instead, in one transaction with the foreign-key triggers
    off (``session_replication_role``: every table ends empty, so no reference dangles). Big
    tables, and hypertables (whose compressed chunks may refuse a DELETE), are truncated; so
    is everything when the role may not switch the triggers off.
    """
    tables = data_tables(conn)
    probe = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, count(*) FROM (SELECT FROM {} LIMIT {}) AS t").format(
            sql.Literal(name), sql.Identifier(name), sql.Literal(DELETE_AT_MOST + 1)
        )
        for name in tables
    )
    filled = {name: rows for name, rows in conn.execute(probe) if rows}
    whole = {r[0] for r in conn.execute(HYPERTABLES_SQL)} if has_timescaledb(conn) else set()
    big = [t for t, rows in filled.items() if rows > DELETE_AT_MOST or t in whole]
    small = [t for t in filled if t not in big]
    try:
        with conn.transaction():
            if small:
                conn.execute("SET LOCAL session_replication_role = replica")
            for name in small:
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(name)))
    except psycopg.errors.InsufficientPrivilege:
        big += small
    if big:
        names = sql.SQL(", ").join(map(sql.Identifier, big))
        conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(names))
    # Sequences advance without rows too (rolled-back inserts, deleted rows): restart each
    # one used, whether or not its table held rows now.
    for sequence, start in conn.execute(USED_SEQUENCES_SQL, (tables,)).fetchall():
        conn.execute("SELECT setval(%s, %s, false)", (sequence, start))


def pytest_configure(config: pytest.Config) -> None:
    """``WL_CLOCK_SHIFT_DAYS=N``: the suite runs with this process's clock N days ahead.

    time-machine moves what Python reads as the date (``datetime.now``, ``time.time``) and
    lets it tick, while sleeps, timeouts and ``time.monotonic`` stay real and the database's
    ``now()`` stays today: exactly the mix a flow with two clocks would get wrong. (libfaketime
    moves the C library's clocks instead, which bends timed waits and the servers the tests
    start, so it proves less.) Processes the tests start keep the real clock, except those of a
    test marked ``child_clock``, which start with the same shift (the ``child_clock`` fixture).
    """
    shift = os.environ.get("WL_CLOCK_SHIFT_DAYS")
    if not shift:
        return
    import time_machine

    traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=float(shift)), tick=True)
    traveller.start()
    time.time()  # ticking starts at the first reading (see tests/clockshift/sitecustomize.py)
    config.add_cleanup(traveller.stop)


@pytest.hookimpl(trylast=True)  # after pytest-random-order has shuffled
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, start the long tests first on every worker."""
    module_fixtures_together(items)
    long_first(items, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))


# Its sitecustomize applies WL_CLOCK_SHIFT_DAYS in every Python process that has it on its path.
CLOCK_SHIFT_DIR = Path(__file__).resolve().parent / "clockshift"


@pytest.fixture(autouse=True)
def child_clock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under ``WL_CLOCK_SHIFT_DAYS``, a test marked ``child_clock`` starts its processes on its
    own clock: tests/clockshift goes first on ``PYTHONPATH``, so every Python process the test
    starts (and each one those start: ingest's workers, multiprocessing pools) applies the same
    shift before its entry point runs. Otherwise the shift would split the flow's clock between
    the test and the process, which no deployment does."""
    if not os.environ.get("WL_CLOCK_SHIFT_DAYS"):
        return
    if request.node.get_closest_marker("child_clock") is None:
        return
    path = [str(CLOCK_SHIFT_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))


def module_fixtures_together(items: list[pytest.Item]) -> None:
    """Keep a module's tests that share a module- or class-scoped fixture back to back, at the
    place the shuffle gave the first of them, in their shuffled order (grouped by the
    fixture's parameter, if it has one).

    A global shuffle would otherwise tear such a fixture down and build it again for almost
    every test (a python-OBD connection per transport, an embedded PostgreSQL 18); every other
    test keeps its shuffled place.
    """
    shared = {"module", "class", "package"}

    def sharing(item: pytest.Item) -> bool:
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs.values() if info else ()
        return any(d[-1].scope in shared for d in defs if d)

    def shared_params(item: pytest.Item) -> str:
        # A parametrized module fixture is built once per parameter: one run per parameter.
        callspec = getattr(item, "callspec", None)
        if callspec is None:
            return ""
        defs = item._fixtureinfo.name2fixturedefs
        names = {n for n, d in defs.items() if d and d[-1].scope in shared}
        return repr(sorted((k, str(v)) for k, v in callspec.params.items() if k in names))

    blocks: dict[str, list[pytest.Item]] = {}
    for item in items:
        if sharing(item):
            blocks.setdefault(item.nodeid.split("::")[0], []).append(item)
    ordered: list[pytest.Item] = []
    for item in items:
        block = blocks.get(item.nodeid.split("::")[0]) if sharing(item) else None
        if block is None:
            ordered.append(item)
        elif block[0] is item:
            ordered += sorted(block, key=shared_params)
    assert len(ordered) == len(items)
    items[:] = ordered


def long_first(items: list[pytest.Item], workers: int) -> None:
    """Reorder ``items`` so that each worker's share starts with its part of the long tests
    (marked ``slow`` or ``e2e``), a module's together.

    xdist's ``worksteal`` hands worker k the k-th contiguous slice of the list and later
    moves tests from the end of a busy worker's queue to an idle one; a long test left near
    the end would run alone while the other worker idles. A module's long tests stay on one
    worker, one after the other, so a module-scoped fixture (the e2e stories' demo) starts
    once rather than once per test, as a global shuffle would otherwise make it. Each module
    goes to the worker with the fewest long tests so far. The relative order within the long
    and the other tests stays the shuffled one; every worker computes the same order, as
    xdist requires.
    """
    if workers < 2:
        return
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        if item.get_closest_marker("slow") or item.get_closest_marker("e2e"):
            modules.setdefault(item.nodeid.split("::")[0], []).append(item)
    if not modules:
        return
    dealt: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for module in modules.values():
        min(dealt, key=len).extend(module)
    ids = {id(i) for module in modules.values() for i in module}
    rest = iter([i for i in items if id(i) not in ids])
    ordered: list[pytest.Item] = []
    remaining = len(items)
    for k in range(workers):
        share = remaining // (workers - k)  # worksteal's first split
        remaining -= share
        ordered += dealt[k] + list(itertools.islice(rest, max(0, share - len(dealt[k]))))
    ordered += list(rest)
    assert len(ordered) == len(items)
    items[:] = ordered


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database (given, or embedded)."""
    given = os.environ.get("TEST_DATABASE_URL")
    if given:
        yield given
        return
    server = EmbeddedPostgres(Path(tmp_path_factory.mktemp("pg")) / "data")
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A database of our own on that server, migrated to head, dropped at the end."""
    name = f"wl_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(postgres_server_url, name)
    db.upgrade(url)
    yield url
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def scratch_database(postgres_server_url: str) -> Iterator[str]:
    """An empty database of its own, no migrations run, dropped after the test: for tests that
    take revisions down and up."""
    name = f"wl_mig_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield with_database(postgres_server_url, name)
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def db_url(database_url: str) -> str:
    """The test database with every data table emptied."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        empty_data_tables(conn)
        if has_timescaledb(conn):
            # Continuous aggregates are views: TimescaleDB empties their materialization.
            aggregates = [r[0] for r in conn.execute(CONTINUOUS_AGGREGATES_SQL)]
            if aggregates:
                names = sql.SQL(", ").join(map(sql.Identifier, aggregates))
                conn.execute(sql.SQL("TRUNCATE {}").format(names))
        # The 64 shard rows stay; a test that died holding leases must not make the next wait
        # out its lease.
        conn.execute(
            "UPDATE evaluator_shards SET owner = NULL, expires_at = '-infinity', heartbeat = NULL"
        )
        conn.execute("DELETE FROM evaluators")
    return database_url


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    """A connection to the emptied test database (autocommit)."""
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="session")
def mqtt_url() -> Iterator[str]:
    """URL of an MQTT 5 broker (given, or embedded)."""
    given = os.environ.get("TEST_MQTT_URL")
    if given:
        yield given
        return
    broker = EmbeddedBroker()
    yield broker.start()
    broker.stop()


@pytest.fixture
def unique_id() -> str:
    """A short id unique to this test, for device ids and topics that must not collide."""
    return f"t{uuid.uuid4().hex[:12]}"
