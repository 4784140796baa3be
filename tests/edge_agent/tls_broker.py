# SPDX-License-Identifier: MIT
"""A private Mosquitto with TLS, passwords and per-device access rules, for tests.

Certificates come from ``cryptography``: a CA, a server certificate for 127.0.0.1/localhost,
and a device client certificate. Needs the ``mosquitto`` and ``mosquitto_passwd`` binaries.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MOSQUITTO = shutil.which("mosquitto") or (
    "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
)
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd")


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _cert(
    subject: str, key, issuer_cert, issuer_key, *, ca: bool = False, san: list | None = None
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_cert.subject if issuer_cert else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Years either side: OpenSSL checks validity on the real clock, while a run with
        # WL_CLOCK_SHIFT_DAYS moves the clock this certificate is dated by.
        .not_valid_before(now - dt.timedelta(days=3 * 365))
        .not_valid_after(now + dt.timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def make_ca(
    directory: Path, name: str
) -> tuple[Path, x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed CA written to ``directory/name.pem``."""
    key = _key()
    cert = _cert(f"{name} CA", key, None, None, ca=True)
    path = directory / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, cert, key


def issue(
    directory: Path, name: str, ca_cert, ca_key, *, server: bool = False
) -> tuple[Path, Path]:
    """A certificate and key signed by the CA; server ones are valid for 127.0.0.1/localhost."""
    key = _key()
    san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = _cert(name, key, ca_cert, ca_key, san=san if server else None)
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, key_path)
    return cert_path, key_path


@dataclass
class TlsBroker:
    """A running private broker; ``stop()`` ends it."""

    port: int
    cert_port: int  # a second listener where the client certificate's CN is the user name
    ca_file: Path
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        self.process.communicate(timeout=10)


def start_tls_broker(directory: Path, users: dict[str, str]) -> tuple[TlsBroker, tuple]:
    """Start Mosquitto on a free port with TLS, these users, and 'each device its own tree'."""
    ca_path, ca_cert, ca_key = make_ca(directory, "test")
    server_crt, server_key = issue(directory, "broker", ca_cert, ca_key, server=True)
    passwd = directory / "passwd"
    passwd.touch()
    for user, password in users.items():
        subprocess.run(
            [MOSQUITTO_PASSWD, "-b", str(passwd), user, password], check=True, capture_output=True
        )
    acl = directory / "acl"
    # %u is the user name: a device may only touch its own topic tree; the watcher reads all.
    acl.write_text("pattern readwrite wl/v1/%u/#\nuser watcher\ntopic read wl/v1/#\n")
    port, cert_port = _free_port(), _free_port()
    tls = f"cafile {ca_path}\ncertfile {server_crt}\nkeyfile {server_key}\n"
    conf = directory / "mosquitto.conf"
    conf.write_text(
        "per_listener_settings true\n"
        f"listener {port} 127.0.0.1\n{tls}"
        f"allow_anonymous false\npassword_file {passwd}\nacl_file {acl}\n"
        f"listener {cert_port} 127.0.0.1\n{tls}"
        "require_certificate true\nuse_identity_as_username true\n"
        f"allow_anonymous false\nacl_file {acl}\n"
        "persistence false\n" + ("user root\n" if os.geteuid() == 0 else "")
        # Started as root, mosquitto would switch to its own user, which cannot read the
        # test's private temporary directory.
    )
    process = subprocess.Popen(
        [MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s, socket.socket() as s2:
            if (
                s.connect_ex(("127.0.0.1", port)) == 0
                and s2.connect_ex(("127.0.0.1", cert_port)) == 0
            ):
                break
        if process.poll() is not None:
            raise RuntimeError(f"mosquitto exited: {process.stderr.read().decode()}")
        time.sleep(0.05)
    return TlsBroker(port, cert_port, ca_path, process), (ca_cert, ca_key)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
