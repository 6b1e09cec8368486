"""Logo checks of bitmaps: size and format sniffing, then PNG and JPEG re-encoding, on files built
here."""

from __future__ import annotations

import dataclasses
import hashlib
import zlib

import pytest
from PIL import Image, ImageFile, PngImagePlugin

from core.images import MAX_BYTES, MAX_PIXELS, SanitisedLogo, sanitise_logo
from tests.image_helpers import (
    encode,
    noise,
    png_chunk,
    png_declaring,
    refused,
    reopen,
    svg,
)

# ---- size and format -------------------------------------------------------------------------


def test_too_large_is_checked_before_anything_else():
    exc = refused(b"GIF89a" + b"\x00" * MAX_BYTES, "logo.gif")
    assert exc.code == "too_large"
    assert str(exc) == exc.message == "the logo is 513 KB; at most 512 KB"
    assert exc.params == {"size": MAX_BYTES + 6, "max": MAX_BYTES, "filename": "logo.gif"}
    assert isinstance(exc, ValueError)


def test_exactly_max_bytes_is_not_too_large():
    data = encode(Image.new("RGB", (8, 8), "red"), "PNG")
    padded = data + b"\x00" * (MAX_BYTES - len(data))  # trailing bytes are dropped anyway
    assert sanitise_logo(padded).data == sanitise_logo(data).data


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (encode(Image.new("RGB", (8, 8), "red"), "GIF"), "gif"),
        (encode(Image.new("RGB", (8, 8), "red"), "WEBP"), "webp"),
        (encode(Image.new("RGB", (8, 8), "red"), "BMP"), "bmp"),
        (encode(Image.new("RGB", (8, 8), "red"), "TIFF"), "tiff"),
        (b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n", "pdf"),
        (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "html"),
        (b"\n  <html><svg></svg></html>", "html"),
        (zlib.compress(svg("<path d='M0 0h1v1z'/>")), None),
        (b'<?xml version="1.0"?><note>svg</note>', None),
        (b"just some text", None),
        (b"", None),
    ],
)
def test_unknown_formats_are_refused(data, detected):
    exc = refused(data, "logo.png")
    assert exc.code == "unknown_format"
    assert exc.params["detected"] == detected
    assert exc.params["filename"] == "logo.png"
    assert "use a PNG, JPEG or SVG image" in exc.message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"<?xml version='1.0'?><!-- <html> -->" + svg("<rect width='1' height='1'/>"), "svg"),
        (b"<!--" + b" long comment " * 1000 + b"-->" + svg("<path d='M0 0h1v1z'/>"), "svg"),
        (b"<!doctype html>\n<!-- <svg> -->\n<html></html>", "unknown_format"),
        (b"<!DOCTYPE note [<!ENTITY a ']>'>]><note/>", "unknown_format"),
    ],
)
def test_root_element_decides_svg_not_the_first_tag_seen(data, expected):
    if expected == "svg":
        assert sanitise_logo(data).extension == "svg"
    else:
        assert refused(data).code == expected


def test_html_renamed_png_is_refused():
    exc = refused(b"<html><img src=x onerror=alert(1)></html>", "logo.png")
    assert exc.code == "unknown_format"
    assert exc.message == "the logo is in HTML format; use a PNG, JPEG or SVG image"


def test_format_comes_from_bytes_not_filename():
    data = encode(Image.new("RGB", (8, 4), "red"), "PNG")
    logo = sanitise_logo(data, "logo.svg")
    assert (logo.content_type, logo.extension) == ("image/png", "png")
    logo = sanitise_logo(encode(Image.new("RGB", (8, 4), "red"), "JPEG"), "logo.png")
    assert (logo.content_type, logo.extension) == ("image/jpeg", "jpg")


def test_result_is_frozen_and_digest_is_sha256_of_data():
    logo = sanitise_logo(encode(Image.new("RGB", (8, 4), "red"), "PNG"))
    assert isinstance(logo, SanitisedLogo)
    assert logo.digest == hashlib.sha256(logo.data).hexdigest() and len(logo.digest) == 64
    with pytest.raises(dataclasses.FrozenInstanceError):
        logo.data = b""  # type: ignore[misc]


# ---- PNG -------------------------------------------------------------------------------------


def test_png_keeps_alpha_and_size():
    image = Image.new("RGBA", (30, 20), (255, 0, 0, 0))
    image.putpixel((5, 5), (0, 128, 0, 128))
    logo = sanitise_logo(encode(image, "PNG"))
    assert (logo.width, logo.height) == (30, 20)
    out = reopen(logo.data)
    assert out.format == "PNG" and out.mode == "RGBA" and out.size == (30, 20)
    assert out.getpixel((0, 0))[3] == 0
    assert out.getpixel((5, 5)) == (0, 128, 0, 128)


def test_palette_png_keeps_its_transparent_index():
    image = Image.new("P", (10, 10), 1)
    image.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    image.putpixel((0, 0), 0)
    logo = sanitise_logo(encode(image, "PNG", transparency=0))
    out = reopen(logo.data)
    assert out.mode == "P" and out.info["transparency"] == 0
    assert out.convert("RGBA").getpixel((0, 0))[3] == 0
    assert out.convert("RGBA").getpixel((1, 1)) == (255, 255, 255, 255)


def test_png_metadata_and_appended_payload_are_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret-text-chunk")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret-xmp</x:xmpmeta>")
    exif = Image.Exif()
    exif[0x010F] = "secret-camera"
    payload = b"<html><script>alert('polyglot')</script></html>"
    data = encode(Image.new("RGB", (12, 7), "blue"), "PNG", pnginfo=info, exif=exif) + payload
    assert b"secret-text-chunk" in data and b"secret-camera" in data
    logo = sanitise_logo(data, "logo.png")
    for secret in (b"secret-text-chunk", b"secret-xmp", b"secret-camera", b"<script", b"html"):
        assert secret not in logo.data
    assert logo.data.endswith(png_chunk(b"IEND", b""))
    out = reopen(logo.data)
    assert out.size == (12, 7)
    assert not set(out.info) & {"Comment", "XML:com.adobe.xmp", "exif", "xmp"}
    assert not out.getexif()


def test_png_sanitising_is_stable():
    logo = sanitise_logo(encode(noise((40, 30)), "PNG"))
    again = sanitise_logo(logo.data)
    assert again.data == logo.data and again.digest == logo.digest


@pytest.mark.parametrize("size", [(MAX_PIXELS + 1, 10), (10, MAX_PIXELS + 1), (3000, 3000)])
def test_png_over_max_pixels_is_refused(size):
    exc = refused(encode(Image.new("L", size), "PNG"))
    assert exc.code == "too_many_pixels"
    assert exc.params == {"width": size[0], "height": size[1], "max": MAX_PIXELS}
    assert exc.message == f"the logo is {size[0]}x{size[1]} px; at most 2000x2000 px"


def test_png_at_max_pixels_is_accepted():
    logo = sanitise_logo(encode(Image.new("L", (MAX_PIXELS, 1)), "PNG"))
    assert (logo.width, logo.height) == (MAX_PIXELS, 1)


def test_decompression_bomb_is_refused_before_decoding():
    exc = refused(png_declaring(100_000, 100_000))  # over twice Pillow's limit: an error
    assert exc.code == "too_many_pixels"


def test_decompression_bomb_warning_is_refused_either_way():
    data = png_declaring(10_000, 10_000)  # over Pillow's limit but under twice: a warning
    assert refused(data).code == "too_many_pixels"  # warnings are errors in this test suite
    with pytest.warns(Image.DecompressionBombWarning):  # ...and when they are only warnings
        assert refused(data).code == "too_many_pixels"


def test_declared_size_is_refused_without_pixel_data():
    exc = refused(png_declaring(MAX_PIXELS + 1, 1))
    assert (exc.code, exc.params["width"]) == ("too_many_pixels", MAX_PIXELS + 1)


def test_truncated_png_is_corrupt():
    data = encode(noise((64, 64)), "PNG")
    exc = refused(data[: len(data) // 2])
    assert exc.code == "corrupt" and exc.params["format"] == "png"
    assert exc.message == "the PNG file is damaged and cannot be read"


def test_png_with_bad_crc_is_corrupt():
    data = bytearray(encode(noise((16, 16)), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF
    assert refused(bytes(data)).code == "corrupt"


def test_png_signature_alone_is_corrupt():
    assert refused(b"\x89PNG\r\n\x1a\n<html></html>").code == "corrupt"


# ---- JPEG ------------------------------------------------------------------------------------


def two_halves(size: tuple[int, int]) -> Image.Image:
    """Red on the left half, blue on the right."""
    image = Image.new("RGB", size, "blue")
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    return image


def close(pixel, colour, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_jpeg_exif_is_applied_then_stripped():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "secret-camera"
    exif[0x8825] = {2: (45.0, 2.0, 0.0)}  # GPS latitude
    data = encode(
        two_halves((40, 20)),
        "JPEG",
        exif=exif,
        comment=b"secret-comment",
        xmp=b"<x:xmpmeta>secret-xmp</x:xmpmeta>",
    )
    data += b"<script>appended</script>"
    assert reopen(data).getexif()[0x0112] == 6
    logo = sanitise_logo(data, "photo.jpg")
    assert (logo.content_type, logo.extension) == ("image/jpeg", "jpg")
    assert (logo.width, logo.height) == (20, 40)
    for secret in (b"secret-camera", b"secret-comment", b"secret-xmp", b"Exif", b"<script"):
        assert secret not in logo.data
    out = reopen(logo.data)
    assert out.format == "JPEG" and out.mode == "RGB" and out.size == (20, 40)
    assert not out.getexif()
    assert not set(out.info) & {"exif", "comment", "xmp", "icc_profile"}
    # turned clockwise: the left (red) half is now on top
    assert close(out.getpixel((10, 5)), (255, 0, 0))
    assert close(out.getpixel((10, 35)), (0, 0, 255))


def test_cmyk_jpeg_becomes_rgb():
    logo = sanitise_logo(encode(Image.new("CMYK", (16, 8), (0, 255, 255, 0)), "JPEG"))
    out = reopen(logo.data)
    assert out.mode == "RGB" and out.size == (16, 8)
    assert close(out.getpixel((8, 4)), (255, 0, 0))


def test_greyscale_jpeg_stays_greyscale():
    out = reopen(sanitise_logo(encode(Image.new("L", (9, 9), 200), "JPEG")).data)
    assert out.mode == "L" and close((out.getpixel((4, 4)),), (200,), 3)


def test_jpeg_over_max_pixels_is_refused():
    exc = refused(encode(Image.new("RGB", (10, MAX_PIXELS + 1)), "JPEG"))
    assert exc.code == "too_many_pixels"


def test_truncated_jpeg_is_corrupt(monkeypatch):
    data = encode(noise((64, 64)), "JPEG", quality=95)
    exc = refused(data[: len(data) // 2])
    assert exc.code == "corrupt" and exc.params["format"] == "jpeg"
    # Even when another library tells Pillow to accept truncated files process-wide.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert refused(data[: len(data) // 2]).code == "corrupt"
