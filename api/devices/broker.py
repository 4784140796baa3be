# SPDX-License-Identifier: MIT
"""The broker's view of devices: names, lanes, and live changes through Mosquitto's
dynamic-security plugin.

Lanes (docs/security.md): a device publishes only ``wl/v1/<its id>/{telemetry,dtc,status}``,
receives only ``wl/v1/<its id>/{config,alerts}``, subscribes to nothing else (no wildcard, no
``$share``), and connects only with the client id ``edge-<its id>``, so it can take over no
other session. Service users are spelled ``wl~<name>``: ``~`` is outside device ids'
alphabet, so no device can be registered under a service's name; bare service words
(``ingest``, ``api``, ...) are refused too, for brokers configured by hand.

With the plugin, the API applies every credential change on the broker before it answers
(``BrokerControl``): a rotated or revoked password stops working at once and the device's
open connection is closed. Errors: ``BrokerControlError`` (broker unreachable, or a command
refused), which the routes turn into 503 and a rolled-back change.

``DeviceBroker`` says how this deployment's broker learns of credential changes
(``WRENCHLIGHT_BROKER_MODE``): ``dynsec`` through ``BrokerControl`` at once, ``file`` only
when an operator rebuilds the password file and signals the broker (``OPERATOR_STEP``; the
API says so in its answers), ``none`` never (a broker that checks no device passwords, such
as the demo's embedded one).
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from telemetry import topics
from telemetry.mqtt_url import MqttUrl

INGEST_USER = "wl~ingest"
API_USER = "wl~api"
SERVICE_USERS = (INGEST_USER, API_USER)
# Words a device id may not be, in any case: service names of this and earlier releases and
# of brokers set up by hand (``ingest`` is how finding 9 of issue 15 got in).
RESERVED_DEVICE_IDS = frozenset({"ingest", "api", "admin", "root", "mosquitto", "wl", "service"})
# No device id may start with these either: our service users and client ids live there.
RESERVED_PREFIXES = ("wl-", "wl~", "wl_", "wl.", "$")
UPLINK_KINDS: tuple[topics.Kind, ...] = ("telemetry", "dtc", "status")
DOWNLINK_KINDS: tuple[topics.Kind, ...] = ("config", "alerts")
CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
CONTROL_RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"

BrokerMode = Literal["dynsec", "file", "none"]
BROKER_MODES: tuple[BrokerMode, ...] = ("dynsec", "file", "none")
# What an operator of a file-mode broker runs after a device credential changed.
OPERATOR_STEP = (
    "rebuild the broker's password file (wrenchlight admin broker-config --mode file --out "
    "DIR, or wrenchlight admin mqtt-passwd --out FILE) and signal the broker "
    "(kill -HUP <mosquitto's pid>); until then the broker still accepts the old password"
)


class BrokerControlError(RuntimeError):
    """The broker did not apply a credential change (unreachable, or a command refused)."""


def is_reserved(device_id: str) -> bool:
    """True when ``device_id`` is, or looks like, a service's name."""
    name = device_id.lower()
    return name in RESERVED_DEVICE_IDS or name.startswith(RESERVED_PREFIXES)


def device_client_id(device_id: str) -> str:
    """The only MQTT client id the device may connect with (the edge agent's)."""
    return f"edge-{device_id}"


def device_role_name(device_id: str) -> str:
    """The device's own dynamic-security role (``:`` cannot occur in a device id)."""
    return f"device:{device_id}"


def device_acls(device_id: str) -> list[dict[str, Any]]:
    """The device's lanes, literal topics only (Mosquitto 2.0's plugin substitutes no %u)."""
    acls = [
        {"acltype": "publishClientSend", "topic": topics.topic(device_id, k), "allow": True}
        for k in UPLINK_KINDS
    ]
    for kind in DOWNLINK_KINDS:
        topic = topics.topic(device_id, kind)
        acls.append({"acltype": "publishClientReceive", "topic": topic, "allow": True})
        acls.append({"acltype": "subscribeLiteral", "topic": topic, "allow": True})
    return acls


def dynsec_password(secret_hash: str) -> dict[str, Any]:
    """A stored ``$7$`` hash as the plugin's password fields (the same PBKDF2-SHA512)."""
    _, kind, iterations, salt, digest = secret_hash.split("$")
    if kind != "7":
        raise ValueError("not a Mosquitto $7$ hash")
    return {"password": digest, "salt": salt, "iterations": int(iterations)}


def device_client(device_id: str, secret_hash: str) -> dict[str, Any]:
    """The device as a client entry of the plugin's JSON file."""
    return {
        "username": device_id,
        "clientid": device_client_id(device_id),
        **dynsec_password(secret_hash),
        "roles": [{"rolename": device_role_name(device_id)}],
    }


def issue_commands(device_id: str, password: str) -> list[dict[str, Any]]:
    """Plugin commands that make the device's current password, and only it, work."""
    role = device_role_name(device_id)
    return [
        # Start from nothing: a half-made earlier attempt, or an old password, must not linger.
        {"command": "deleteClient", "username": device_id},
        {"command": "deleteRole", "rolename": role},
        {"command": "createRole", "rolename": role, "acls": device_acls(device_id)},
        {
            "command": "createClient",
            "username": device_id,
            "password": password,
            "clientid": device_client_id(device_id),
            "roles": [{"rolename": role}],
        },
    ]


def revoke_commands(device_id: str) -> list[dict[str, Any]]:
    """Plugin commands that remove the device (its open connection is closed)."""
    return [
        {"command": "deleteClient", "username": device_id},
        {"command": "deleteRole", "rolename": device_role_name(device_id)},
    ]


def _harmless(response: dict[str, Any]) -> bool:
    # Deleting what is not there is how issue_commands starts clean.
    return (
        str(response.get("command", "")).startswith("delete")
        and "not found" in str(response.get("error", "")).lower()
    )


class BrokerControl:
    """Sends dynamic-security commands as the API's service user and waits for the answers."""

    def __init__(self, mqtt_url: str, *, timeout_s: float = 10.0) -> None:
        self.url = MqttUrl.parse(mqtt_url)
        self.timeout_s = timeout_s

    def execute(self, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run ``commands`` in order; BrokerControlError unless each succeeded."""
        correlation = uuid.uuid4().hex
        done = threading.Event()
        answer: dict[str, Any] = {}
        failure: list[str] = []
        # A fresh id per call: the control lane keeps no session to take over.
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"wl-api-{secrets.token_hex(12)}",
            protocol=mqtt.MQTTv5,
        )
        if self.url.username:
            client.username_pw_set(self.url.username, self.url.password)
        if self.url.tls:
            client.tls_set()
        subscribed = threading.Event()

        def on_connect(c, userdata, flags, reason, properties) -> None:
            if reason.is_failure:
                failure.append(f"broker refused the control connection: {reason}")
                done.set()
                return
            c.subscribe(CONTROL_RESPONSE_TOPIC, qos=1)

        def on_subscribe(c, userdata, mid, reasons, properties) -> None:
            if any(r.is_failure for r in reasons):
                failure.append(f"broker refused {CONTROL_RESPONSE_TOPIC}: {reasons}")
                done.set()
                return
            subscribed.set()

        def on_message(c, userdata, msg: mqtt.MQTTMessage) -> None:
            try:
                doc = json.loads(msg.payload)
            except ValueError:
                return
            responses = doc.get("responses", [])
            if responses and all(r.get("correlationData") == correlation for r in responses):
                answer["responses"] = responses
                done.set()

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        try:
            client.connect(self.url.host, self.url.port, keepalive=30, clean_start=True)
        except OSError as e:
            raise BrokerControlError(f"broker {self.url} unreachable: {e}") from e
        client.loop_start()
        try:
            if not subscribed.wait(self.timeout_s) and not failure:
                failure.append(f"no control subscription at {self.url} within {self.timeout_s} s")
            if not failure:
                tagged = [{**cmd, "correlationData": correlation} for cmd in commands]
                client.publish(CONTROL_TOPIC, json.dumps({"commands": tagged}), qos=1)
                if not done.wait(self.timeout_s):
                    failure.append(f"no answer from {self.url} within {self.timeout_s} s")
        finally:
            client.disconnect()
            client.loop_stop()
        if failure:
            raise BrokerControlError(failure[0])
        responses: list[dict[str, Any]] = answer["responses"]
        errors = [
            f"{r.get('command')}: {r['error']}"
            for r in responses
            if r.get("error") and not _harmless(r)
        ]
        if errors:
            raise BrokerControlError("; ".join(errors))
        return responses


@dataclass(frozen=True)
class DeviceBroker:
    """How device credential changes reach this deployment's broker (see the module)."""

    mode: BrokerMode = "none"
    control: BrokerControl | None = None

    def __post_init__(self) -> None:
        if self.mode not in BROKER_MODES:
            raise ValueError(f"broker mode {self.mode!r} is not one of {', '.join(BROKER_MODES)}")
        if self.mode == "dynsec" and self.control is None:
            raise ValueError(
                "WRENCHLIGHT_BROKER_MODE=dynsec needs WRENCHLIGHT_MQTT_CONTROL_URL (the wl~api "
                "user's URL in the api.env that wrenchlight admin broker-config wrote); without "
                "it rotated and revoked device passwords would keep working on the broker"
            )
        if self.mode != "dynsec" and self.control is not None:
            raise ValueError(
                f"WRENCHLIGHT_MQTT_CONTROL_URL is set but WRENCHLIGHT_BROKER_MODE is "
                f"{self.mode}: set the mode to dynsec, or unset the URL"
            )

    @property
    def live(self) -> bool:
        """True when every change reaches the broker before the API answers."""
        return self.mode == "dynsec"

    def warning(self) -> str | None:
        """What an operator should hear at startup when changes do not reach the broker."""
        if self.mode == "file":
            return (
                "WRENCHLIGHT_BROKER_MODE=file: device credentials issued, rotated or revoked "
                f"through the API reach the broker only when an operator acts: {OPERATOR_STEP}"
            )
        if self.mode == "none":
            return (
                "WRENCHLIGHT_BROKER_MODE=none: device credentials issued, rotated or revoked "
                "through the API never reach the broker; fine for a broker that checks no "
                "device passwords (the demo's), never for one devices on the internet reach"
            )
        return None
