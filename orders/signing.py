# SPDX-License-Identifier: MIT
"""The platform's Ed25519 key that signs service reports, and the keys it trusts to verify.

The private key comes from the settings (``WRENCHLIGHT_REPORT_SIGNING_KEY``, PEM or the raw 32
bytes in base64) or from a key file, created on first use (mode 0600, created exclusively so
two processes starting together end up with the same key). A key's id is the first 16 hex
digits of the SHA-256 of its raw public key; each signature is stored with it, so the key can
rotate: the old key's public half goes into ``previous_public_keys`` and reports it signed
still verify.

Only those keys are trusted: never a public key read from the database, which whoever could
alter a report could alter too.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def key_id(public: Ed25519PublicKey) -> str:
    """The key's id: 16 hex digits of the SHA-256 of its raw public bytes."""
    return hashlib.sha256(public.public_bytes(*RAW)).hexdigest()[:16]


def public_key_text(public: Ed25519PublicKey) -> str:
    """The raw public key in base64, as ``previous_public_keys`` takes it."""
    return base64.b64encode(public.public_bytes(*RAW)).decode()


def _private_from_text(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the report signing key is not an Ed25519 key")
        return key
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    try:
        return _private_from_text(path.read_text())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: theirs is the key
        return _private_from_text(path.read_text())
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


@dataclass
class Signer:
    """Signs with the current key (``key_text`` when given, else ``key_file``'s, made on first
    use) and verifies with it or one of ``previous_public_keys`` (base64 raw keys)."""

    key_file: Path
    key_text: str | None = None
    previous_public_keys: tuple[str, ...] = ()
    _key: Ed25519PrivateKey | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _private(self) -> Ed25519PrivateKey:
        with self._lock:
            if self._key is None:
                self._key = (
                    _private_from_text(self.key_text)
                    if self.key_text
                    else _load_or_create(self.key_file)
                )
            return self._key

    @property
    def key_id(self) -> str:
        """The current key's id."""
        return key_id(self._private().public_key())

    def sign(self, message: bytes) -> tuple[str, bytes]:
        """The current key's id and its signature of ``message``."""
        private = self._private()
        return key_id(private.public_key()), private.sign(message)

    def trusted(self) -> dict[str, Ed25519PublicKey]:
        """The keys a signature may be made with, by id."""
        keys = [self._private().public_key()] + [
            Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
            for text in self.previous_public_keys
        ]
        return {key_id(k): k for k in keys}

    def verify(self, key: str, signature: bytes, message: bytes) -> bool:
        """Whether ``signature`` over ``message`` was made by the trusted key ``key``."""
        public = self.trusted().get(key)
        if public is None:
            return False
        try:
            public.verify(signature, message)
        except InvalidSignature:
            return False
        return True
