"""Property test of the normed-file reader: random and corrupted CSV and XLSX bytes always end
in a result or a NormedFileError (a report), never another exception, each within 2 s of CPU
(the process's own time: other processes sharing the machine do not count) and 200 MB
(tracemalloc's peak while reading)."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.listings.normed import NormedFile, NormedFileError, read_normed
from ingest.listings.templates_xlsx import workbook
from tests.listing_import_helpers import csv_file, house

SECONDS = 2.0
PEAK_BYTES = 200 * 2**20
SEED_CSV = csv_file([house("P-1"), house("P-2", description="Deux\nlignes", price="1 234,5")])
SEED_XLSX = workbook("real_estate", example=True)
PARTS = (
    "[Content_Types].xml",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/worksheets/sheet1.xml",
    "xl/sharedStrings.xml",
    "xl/styles.xml",
)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


SEED_MEMBERS = _members(SEED_XLSX)


@st.composite
def corrupted(draw, seed: bytes) -> bytes:
    """The seed truncated, with bytes flipped, or with bytes inserted."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(("truncate", "flip", "insert")))
        if action == "truncate":
            del data[where:]
        elif action == "flip" and data:
            data[where] ^= draw(st.integers(1, 255))
        else:
            data[where:where] = draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


@st.composite
def zips(draw) -> bytes:
    """A zip of workbook-like members: each the seed's own, corrupted, random or missing."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in draw(st.lists(st.sampled_from(PARTS), unique=True, min_size=1)):
            seed = SEED_MEMBERS.get(name, b"<x/>")
            body = draw(st.one_of(st.just(seed), corrupted(seed), st.binary(max_size=512)))
            archive.writestr(name, body)
    return out.getvalue()


FILES = st.one_of(
    st.binary(max_size=2048),
    st.binary(max_size=512).map(lambda b: b"PK\x03\x04" + b),
    corrupted(SEED_CSV),
    corrupted(SEED_XLSX),
    zips(),
)


@pytest.fixture(scope="module", autouse=True)
def warm():
    """Imports (frictionless takes a while, slower still under tracemalloc) are not reading."""
    read_normed("real_estate", SEED_CSV)
    read_normed("real_estate", SEED_XLSX, "modele.xlsx")


@settings(
    max_examples=120,
    deadline=None,  # timed below, with a bound of our own
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
@given(data=FILES, kind=st.sampled_from(("real_estate", "job")))
def test_any_bytes_give_a_report(data, kind):
    tracemalloc.start()
    started = time.process_time()
    try:
        result = read_normed(kind, data, "fichier.xlsx" if data[:2] == b"PK" else "fichier.csv")
    except NormedFileError as refused:
        assert refused.code
    else:
        assert isinstance(result, NormedFile)
    finally:
        elapsed = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert elapsed < SECONDS and peak < PEAK_BYTES, (elapsed, peak)
