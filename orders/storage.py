# SPDX-License-Identifier: MIT
"""Blob storage for a report's photos and signature: put, get and delete bytes by key.

``BlobStore`` is the small protocol the rest of the code uses; ``LocalStore`` keeps the blobs
as files under a directory (the default, under the data directory), ``S3Store`` in a bucket of
any S3-compatible object storage (AWS S3, MinIO, Ceph, ...) through boto3. Keys are ours
(``orders/<id>/<random>.jpg``), never a name a user typed: ``check_key`` refuses anything
else, so a key can never climb out of the local directory.

Errors::

    StorageError
    └── BlobMissing     no blob under that key
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_.-]*)*$")
KEY_MAX = 200


class StorageError(Exception):
    """The blob storage failed or refused."""


class BlobMissing(StorageError):
    """No blob under the key."""


def check_key(key: str) -> str:
    """``key`` when it is one of ours (lower-case segments, no ``..``), else StorageError."""
    if len(key) > KEY_MAX or not KEY.match(key) or ".." in key:
        raise StorageError(f"not a storage key: {key!r}")
    return key


class BlobStore(Protocol):
    """Bytes by key."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (replacing what was there)."""

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; BlobMissing when there are none."""

    def delete(self, key: str) -> None:
        """Remove ``key``'s blob; nothing when there is none."""


@dataclass(frozen=True)
class LocalStore:
    """Blobs as files under ``root``, written atomically (a temporary file renamed)."""

    root: Path

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".put-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        """The bytes under ``key``."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise BlobMissing(key) from exc

    def delete(self, key: str) -> None:
        """Remove ``key``'s file."""
        self._path(key).unlink(missing_ok=True)


class S3Store:
    """Blobs as objects of ``bucket`` in S3-compatible storage at ``endpoint_url`` (None: AWS).

    boto3 is imported here only, so a deployment on local disk does not need it.
    """

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
        prefix: str = "",
    ) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
        )

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key``."""
        try:
            self._client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
            )
        except Exception as exc:  # botocore's errors are many; ours is one
            raise StorageError(f"S3 put {key}: {exc}") from exc

    def get(self, key: str) -> bytes:
        """The bytes under ``key``."""
        try:
            found = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            data: bytes = found["Body"].read()
        except self._client.exceptions.NoSuchKey as exc:
            raise BlobMissing(key) from exc
        except Exception as exc:
            raise StorageError(f"S3 get {key}: {exc}") from exc
        return data

    def delete(self, key: str) -> None:
        """Remove ``key``'s object (S3 answers a missing one as deleted too)."""
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except Exception as exc:
            raise StorageError(f"S3 delete {key}: {exc}") from exc
