"""Object storage behind one small interface: a local folder, or S3 (any S3-compatible server)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from flask import current_app

_KEY_RE = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


class StorageError(RuntimeError):
    """A key that cannot be stored or read."""


def check_key(key: str) -> str:
    if not _KEY_RE.match(key) or any(part in (".", "..") for part in key.split("/")):
        raise StorageError(f"invalid storage key {key!r}")
    return key


class Storage:
    """put / get / open / exists / delete / list by key; keys are `a/b/c.ext` paths."""

    def put(self, key: str, data: bytes | BinaryIO, content_type: str | None = None) -> str:
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        with self.open(key) as fh:
            return fh.read()

    def open(self, key: str) -> BinaryIO:
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def list(self, prefix: str = "") -> list[str]:
        raise NotImplementedError

    def for_tenant(self, slug: str) -> PrefixedStorage:
        """The same storage, with every key under `tenants/<slug>/`."""
        return PrefixedStorage(self, f"tenants/{slug}/")


class LocalStorage(Storage):
    """Files under a root folder; writes are atomic (temporary file, then rename)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key, data, content_type=None):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                if isinstance(data, bytes | bytearray):
                    fh.write(data)
                else:
                    while chunk := data.read(1 << 20):
                        fh.write(chunk)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def open(self, key):
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise StorageError(f"no stored object {key!r}") from None

    def exists(self, key):
        return self._path(key).is_file()

    def delete(self, key):
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix=""):
        base = self.root
        if not base.exists():
            return []
        keys = (
            p.relative_to(base).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )
        return sorted(k for k in keys if k.startswith(prefix))


class S3Storage(Storage):
    """A bucket (and key prefix) of S3 or an S3-compatible server."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client=None):
        import boto3  # noqa: PLC0415 - half a second to import: only when S3 is configured

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url or None)

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key, data, content_type=None):
        extra = {"ContentType": content_type} if content_type else {}
        if isinstance(data, bytes | bytearray):
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=bytes(data), **extra
            )
        else:
            self.client.upload_fileobj(data, self.bucket, self._key(key), ExtraArgs=extra or None)
        return key

    def open(self, key):
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except self.client.exceptions.NoSuchKey:
            raise StorageError(f"no stored object {key!r}") from None

    def exists(self, key):
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def delete(self, key):
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, prefix=""):
        keys = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            keys += [obj["Key"][len(self.prefix) :] for obj in page.get("Contents", [])]
        return sorted(keys)


class PrefixedStorage(Storage):
    """A view of another storage whose keys all live under one prefix (a territory's)."""

    def __init__(self, inner: Storage, prefix: str):
        self.inner, self.prefix = inner, prefix

    def put(self, key, data, content_type=None):
        self.inner.put(self.prefix + check_key(key), data, content_type)
        return key

    def open(self, key):
        return self.inner.open(self.prefix + check_key(key))

    def exists(self, key):
        return self.inner.exists(self.prefix + check_key(key))

    def delete(self, key):
        self.inner.delete(self.prefix + check_key(key))

    def list(self, prefix=""):
        return [k[len(self.prefix) :] for k in self.inner.list(self.prefix + prefix)]


def storage_from_url(url: str, endpoint_url: str | None = None) -> Storage:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalStorage(parts.path)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"STORAGE_URL {url!r} names no bucket")
        return S3Storage(parts.netloc, parts.path, endpoint_url)
    raise ValueError(f"STORAGE_URL must start with file:// or s3://, not {url!r}")


def get_storage() -> Storage:
    """The application's storage, built once per process."""
    app = current_app._get_current_object()
    storage = app.extensions.get("storage")
    if storage is None:
        storage = storage_from_url(app.config["STORAGE_URL"], app.config["S3_ENDPOINT_URL"])
        app.extensions["storage"] = storage
    return storage
