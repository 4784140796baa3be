# SPDX-License-Identifier: MIT
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from telemetry.mqtt_url import MqttUrl


def test_database_is_migrated(conn):
    tables = {
        r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
    }
    assert {"readings_1m", "vehicles", "service_orders", "dead_letters"} <= tables
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() is not None


def test_broker_accepts_mqtt5(mqtt_url):
    url = MqttUrl.parse(mqtt_url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    assert client.connect(url.host, url.port) == mqtt.MQTT_ERR_SUCCESS
    client.disconnect()
