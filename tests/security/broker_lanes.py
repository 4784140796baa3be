# SPDX-License-Identifier: MIT
"""A private Mosquitto running the configuration ``admin broker-config`` writes, and MQTT
probes that report exactly what the broker answered (CONNACK, SUBACK, PUBACK reason codes)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from private_servers import MOSQUITTO, _listening, _stop, _wait, free_port

from wrenchlight.cli.broker import Mode, write_config


class ConfiguredMosquitto:
    """Mosquitto on a free port with the generated least-privilege configuration."""

    def __init__(
        self, devices: list[tuple[str, str]], *, mode: Mode | Literal["legacy"] = "dynsec"
    ) -> None:
        if MOSQUITTO is None:
            raise FileNotFoundError("no mosquitto binary")
        self.directory = Path(tempfile.mkdtemp(prefix="wl-lanes-"))
        self.port = free_port()
        self.mode = mode
        self.services = write_config(
            self.directory,
            devices,
            mode="file" if mode == "legacy" else mode,
            host="127.0.0.1",
            port=self.port,
        )
        if mode == "legacy":
            # The access list api/README.md gave before issue 15.
            (self.directory / "acl").write_text(
                "user wl~ingest\ntopic read wl/v1/#\n\npattern readwrite wl/v1/%u/#\n"
            )
        self.log = self.directory / "mosquitto.log"
        with (self.directory / "mosquitto.conf").open("a") as conf:
            conf.write(f"log_dest file {self.log}\nlog_type error\nlog_type warning\n")
            conf.write("log_type notice\nlog_type information\n")
            if os.geteuid() == 0:
                # Started as root, mosquitto would switch to its own user, which cannot write
                # the plugin's file and the persistence into our temporary directory.
                conf.write("user root\n")
        self.process: subprocess.Popen | None = None

    def url(self, user: str, password: str) -> str:
        return f"mqtt://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}"

    def service_url(self, user: str) -> str:
        return self.url(user, self.services[user])

    def start(self) -> ConfiguredMosquitto:
        assert MOSQUITTO is not None
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.directory / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait(lambda: _listening(self.port), self.process, self.log, "mosquitto")
        return self

    def reload(self) -> None:
        """SIGHUP: the file mode's password and access files are read again. Returns once
        mosquitto has logged the reload: its one loop applies it before the next packet."""
        assert self.process is not None
        before = self._reloads()
        self.process.send_signal(1)
        _wait(lambda: self._reloads() > before, self.process, self.log, "mosquitto's reload")

    def _reloads(self) -> int:
        """How many times mosquitto has logged reloading its configuration."""
        try:
            return self.log.read_text(errors="replace").count("Reloading config.")
        except FileNotFoundError:
            return 0

    def close(self) -> None:
        import signal

        _stop(self.process, signal.SIGTERM)
        shutil.rmtree(self.directory, ignore_errors=True)


class Probe:
    """One MQTT 5 client whose every broker answer is kept."""

    def __init__(
        self,
        port: int,
        *,
        username: str,
        password: str,
        client_id: str,
        clean_start: bool = True,
        session_expiry_s: int = 0,
    ) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=5)
        self.client.username_pw_set(username, password)
        self.connack: Any = None
        self.session_present: bool | None = None
        self.disconnected = threading.Event()
        self.disconnect_reason: Any = None
        self.connected = threading.Event()
        self.subacks: dict[int, list[Any]] = {}
        self.pubacks: dict[int, Any] = {}
        self.messages: list[tuple[str, bytes]] = []
        self._event = threading.Condition()
        c = self.client
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_subscribe = self._on_subscribe
        c.on_publish = self._on_publish
        c.on_message = lambda cl, ud, m: self.messages.append((m.topic, bytes(m.payload)))
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = session_expiry_s
        c.reconnect_delay_set(60, 120)  # a probe is refused or kicked once; it does not retry
        c.connect("127.0.0.1", port, keepalive=30, clean_start=clean_start, properties=props)
        c.loop_start()
        self._until(lambda: self.connack is not None, "CONNACK")

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        with self._event:
            self.connack = reason
            self.session_present = bool(flags.session_present)
            if not reason.is_failure:
                self.connected.set()
            self._event.notify_all()

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        self.disconnect_reason = reason
        self.disconnected.set()

    def _on_subscribe(self, client, userdata, mid, reasons, properties) -> None:
        with self._event:
            self.subacks[mid] = list(reasons)
            self._event.notify_all()

    def _on_publish(self, client, userdata, mid, reason, properties) -> None:
        with self._event:
            self.pubacks[mid] = reason
            self._event.notify_all()

    def _until(self, ready, what: str, timeout_s: float = 10.0) -> None:
        with self._event:
            if not self._event.wait_for(ready, timeout_s):
                raise TimeoutError(f"no {what} within {timeout_s} s")

    @property
    def refused(self) -> bool:
        return self.connack is not None and self.connack.is_failure

    def subscribe(self, topic_filter: str) -> Any:
        """The SUBACK reason code for one filter at QoS 1."""
        _, mid = self.client.subscribe(topic_filter, qos=1)
        self._until(lambda: mid in self.subacks, f"SUBACK for {topic_filter}")
        return self.subacks[mid][0]

    def publish(self, topic: str, payload: bytes = b"{}") -> Any:
        """The PUBACK reason code of one QoS 1 publish."""
        info = self.client.publish(topic, payload, qos=1)
        self._until(lambda: info.mid in self.pubacks, f"PUBACK for {topic}")
        return self.pubacks[info.mid]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
