"""What the logo checks' tests share: images encoded here, PNG chunks written by hand, SVG
documents, and the refusal a bad file gets."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image

from core.images import SVG_NS, LogoError, sanitise_logo

SVG_OPEN = f'<svg xmlns="{SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink">'


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def noise(size: tuple[int, int]) -> Image.Image:
    rng = random.Random(42)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def refused(data: bytes, filename: str | None = None) -> LogoError:
    with pytest.raises(LogoError) as caught:
        sanitise_logo(data, filename)
    return caught.value


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def svg(body: str, root_attrs: str = "") -> bytes:
    return (SVG_OPEN.replace(">", f" {root_attrs}>", 1) + body + "</svg>").encode()
