"""Object storage: a local folder, and S3 through an S3-compatible server started here."""

from __future__ import annotations

import io

import boto3
import pytest
from moto.server import ThreadedMotoServer

from core.storage import LocalStorage, S3Storage, StorageError, storage_from_url
from tests.support import free_port


def exercise(storage) -> None:
    storage.put("exports/a.csv", b"id;nom\n1;Murat\n", "text/csv")
    storage.put("exports/big.bin", io.BytesIO(b"x" * 3_000_000))
    assert storage.get("exports/a.csv") == b"id;nom\n1;Murat\n"
    assert len(storage.get("exports/big.bin")) == 3_000_000
    assert storage.exists("exports/a.csv") and not storage.exists("exports/none.csv")
    assert storage.list("exports/") == ["exports/a.csv", "exports/big.bin"]
    # a territory's view: keys under its own prefix, invisible to another territory
    murat, mauriac = storage.for_tenant("murat"), storage.for_tenant("mauriac")
    murat.put("logo.png", b"png")
    assert murat.get("logo.png") == b"png"
    assert murat.list() == ["logo.png"]
    assert mauriac.list() == [] and not mauriac.exists("logo.png")
    assert "tenants/murat/logo.png" in storage.list("tenants/")
    storage.delete("exports/a.csv")
    assert not storage.exists("exports/a.csv")
    with pytest.raises(StorageError):
        storage.get("exports/a.csv")
    for bad in ("../etc/passwd", "/abs", "a//b", "a/../b", "é.txt", ""):
        with pytest.raises(StorageError, match="invalid storage key"):
            storage.put(bad, b"x")


def test_local_storage(tmp_path):
    exercise(LocalStorage(tmp_path))
    assert not list(tmp_path.rglob(".tmp-*"))


@pytest.fixture
def s3_server(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "eu-west-3",
    }.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_s3_storage(s3_server):
    boto3.client("s3", endpoint_url=s3_server).create_bucket(
        Bucket="vivrau", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    storage = storage_from_url("s3://vivrau/prod", s3_server)
    assert isinstance(storage, S3Storage) and storage.prefix == "prod/"
    exercise(storage)
    raw = boto3.client("s3", endpoint_url=s3_server).list_objects_v2(Bucket="vivrau")
    assert all(obj["Key"].startswith("prod/") for obj in raw["Contents"])


def test_storage_url_errors():
    with pytest.raises(ValueError, match="file:// or s3://"):
        storage_from_url("ftp://x")
    with pytest.raises(ValueError, match="names no bucket"):
        storage_from_url("s3:///prefix")
