# SPDX-License-Identifier: MIT
import subprocess
import sys
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from psycopg import sql

from telemetry.mqtt_url import MqttUrl


def test_database_is_migrated(conn):
    # readings_1m is a table on plain PostgreSQL, a continuous aggregate (a view) on TimescaleDB.
    for name in ("readings_1m", "vehicles", "service_orders", "dead_letters"):
        assert conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone() == (True,)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() is not None


def test_broker_accepts_mqtt5(mqtt_url):
    url = MqttUrl.parse(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    assert client.connect(url.host, url.port) == mqtt.MQTT_ERR_SUCCESS
    client.disconnect()


def test_db_url_empties_every_table_of_ours_read_from_the_catalog(database_url, request):
    # A table no list names (as a new revision's would be), and no rollup_queue (as on
    # TimescaleDB, which keeps its rollups itself): the fixture empties what there is.
    with psycopg.connect(database_url, autocommit=True) as c:
        c.execute("CREATE TABLE wl_new_revision_table (x int)")
        c.execute("INSERT INTO wl_new_revision_table VALUES (1)")
        c.execute("ALTER TABLE rollup_queue RENAME TO wl_rollup_queue_aside")
    try:
        request.getfixturevalue("db_url")
        with psycopg.connect(database_url, autocommit=True) as c:
            assert c.execute("SELECT count(*) FROM wl_new_revision_table").fetchone() == (0,)
            # The migrations' own rows stay.
            assert c.execute("SELECT count(*) FROM evaluator_shards").fetchone() == (64,)
            assert c.execute("SELECT count(*) FROM readings_policy").fetchone() == (1,)
            assert c.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    finally:
        with psycopg.connect(database_url, autocommit=True) as c:
            c.execute("DROP TABLE IF EXISTS wl_new_revision_table")
            c.execute("ALTER TABLE wl_rollup_queue_aside RENAME TO rollup_queue")


def test_db_url_empties_big_and_small_tables_and_restarts_their_sequences(database_url, request):
    # As TRUNCATE ... RESTART IDENTITY CASCADE did for every table: big tables (truncated) and
    # small ones (deleted, references and all) end empty, and a sequence restarts whether its
    # table held rows (fleets, alerts) or not (a vehicle inserted and rolled back).
    with psycopg.connect(database_url, autocommit=True) as c:
        c.execute(
            "INSERT INTO fleets (name) SELECT 'f' || i FROM generate_series(0, %s) i", (10_001,)
        )
        with c.transaction(force_rollback=True):  # the sequence moves on, no row stays
            c.execute("INSERT INTO vehicles (vin) VALUES ('WLSEX0000000000A1')")
        # Rows of this test's own (earlier tests' may be there too: this test starts from
        # whatever the last one left).
        vehicle = "INSERT INTO vehicles (vin) VALUES ('WLSEX0000000000A3') RETURNING vehicle_id"
        (vehicle_id,) = c.execute(vehicle).fetchone()
        c.execute(
            "INSERT INTO alerts (vehicle_id, kind, severity, message) "
            "VALUES (%s, 'oil_change', 'warning', 'm')",
            (vehicle_id,),
        )
    request.getfixturevalue("db_url")
    with psycopg.connect(database_url, autocommit=True) as c:
        for table in ("fleets", "vehicles", "alerts", "outbox"):
            count = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            assert c.execute(count).fetchone() == (0,), table
        fleet = "INSERT INTO fleets (name) VALUES ('again') RETURNING fleet_id"
        assert c.execute(fleet).fetchone() == (1,)
        vehicle = "INSERT INTO vehicles (vin) VALUES ('WLSEX0000000000A2') RETURNING vehicle_id"
        assert c.execute(vehicle).fetchone() == (1,)


# A child that prints its date, and the date of a child it spawns through multiprocessing (as
# ingest starts its workers and the benches their pools).
PRINT_DATES = """
import multiprocessing, sys
from datetime import UTC, datetime

def main():
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        spawned = pool.apply(datetime.now, (UTC,))
    print(datetime.now(UTC).isoformat(), spawned.isoformat())

if __name__ == "__main__":
    main()
"""


@pytest.mark.child_clock
def test_processes_a_child_clock_test_starts_read_its_date(tmp_path):
    # Under WL_CLOCK_SHIFT_DAYS the test's date is a year ahead; its children's must be too.
    script = tmp_path / "dates.py"
    script.write_text(PRINT_DATES)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    ours = datetime.now(UTC)
    for theirs in map(datetime.fromisoformat, out.stdout.split()):
        assert abs((theirs - ours).total_seconds()) < 60, (theirs, ours)


@pytest.mark.child_clock
def test_a_childs_shifted_clock_ticks_from_its_start(tmp_path):
    # A child that first reads the clock seconds after starting must not run behind: under
    # WL_CLOCK_SHIFT_DAYS time-machine ticks from the first reading unless anchored at start.
    script = tmp_path / "late_reader.py"
    script.write_text("import time\ntime.sleep(4)\nprint(time.time())\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    ours = time.time()
    assert out.returncode == 0, out.stderr
    behind = ours - float(out.stdout)
    assert 0.0 <= behind < 3.0, f"the child's clock is {behind:.1f} s behind the test's"
