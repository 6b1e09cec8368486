"""Logo checks: format sniffing, bitmap re-encoding and SVG whitelisting, on files built here."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import random
import struct
import zlib

import pytest
from defusedxml.ElementTree import fromstring as safe_fromstring
from PIL import Image, PngImagePlugin

from core.images import (
    MAX_BYTES,
    MAX_PIXELS,
    MAX_SVG_DEPTH,
    SVG_ATTRIBUTES,
    SVG_ELEMENTS,
    SVG_NS,
    XLINK_HREF,
    LogoError,
    SanitisedLogo,
    sanitise_logo,
)

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


def clean_tree(data: bytes):
    """Re-parse sanitised SVG output as strictly as an upload and return its root."""
    root = safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    assert root.tag == f"{{{SVG_NS}}}svg"
    return root


def local(name: str) -> str:
    return name.rpartition("}")[2]


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
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    assert refused(data[: len(data) // 2]).code == "corrupt"


# ---- SVG -------------------------------------------------------------------------------------

EVIL_SVG = """<?xml version="1.0" encoding="UTF-8"?>
<?xml-stylesheet href="http://evil.example/sheet.css"?>
<!-- a comment -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
     width="120" height="60px" viewBox="0 0 120 60" version="1.1"
     onload="alert('onload')" inkscape:version="1.3">
  <style>@import url(http://evil.example/a.css); rect { fill: url(http://evil.example/t) }</style>
  <script>alert(document.cookie)</script>
  <script xlink:href="http://evil.example/x.js"/>
  <defs>
    <linearGradient id="grad">
      <stop offset="0" stop-color="#fff"/><stop offset="1" stop-color="#000"/>
    </linearGradient>
    <symbol id="dot"><circle cx="5" cy="5" r="5"/></symbol>
    <mask id="m"><rect width="10" height="10" fill="white"/></mask>
    <clipPath id="c"><rect width="10" height="10"/></clipPath>
  </defs>
  <rect id="bg" width="120" height="60" fill="url(#grad)"
        style="fill:url(http://evil.example/s)" onclick="steal()" OnMouseOver="steal()"/>
  <path d="M0 0L10 10" stroke="url(http://evil.example/p)" fill="java&#x09;script:alert(1)"/>
  <use xlink:href="#dot" x="10"/>
  <use href="http://evil.example/sprite.svg#icon"/>
  <use xlink:href="data:image/svg+xml;base64,PHN2Zz4="/>
  <use href="javascript:alert('use')"/>
  <image href="http://evil.example/track.png" width="1" height="1"/>
  <foreignObject width="10" height="10">
    <div xmlns="http://www.w3.org/1999/xhtml"><iframe src="javascript:alert(1)"/></div>
  </foreignObject>
  <a href="javascript:alert('a')"><text x="0" y="50">click me</text></a>
  <text x="0" y="20" font-family="u\\72l(http://evil.example/f)">Murat <tspan
    fill="red">Cantal</tspan></text>
  <circle cx="5" cy="5" r="4">
    <animate attributeName="href" to="javascript:alert(1)"/>
    <set attributeName="onclick" to="alert(1)"/>
  </circle>
  <g mask="url( '#m' )" clip-path="url(#c)" fill="URL(http://evil.example/g)"/>
</svg>
"""


def test_svg_payloads_are_removed_and_output_reparses():
    logo = sanitise_logo(EVIL_SVG.encode(), "logo.svg")
    assert (logo.content_type, logo.extension) == ("image/svg+xml", "svg")
    assert (logo.width, logo.height) == (120, 60)
    assert logo.data.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert logo.digest == hashlib.sha256(logo.data).hexdigest()
    raw = logo.data.lower()
    for payload in (
        b"evil.example",
        b"<script",
        b"alert",
        b"javascript",
        b"stylesheet",
        b"<style",
        b"foreignobject",
        b"<image",
        b"<a ",
        b"iframe",
        b"onload",
        b"onclick",
        b"onmouseover",
        b"data:",
        b"inkscape",
        b"comment",
        b"\\",
    ):
        assert payload not in raw, payload

    root = clean_tree(logo.data)
    for el in root.iter():
        assert el.tag.startswith(f"{{{SVG_NS}}}") and local(el.tag) in SVG_ELEMENTS
        for name, value in el.attrib.items():
            assert name in SVG_ATTRIBUTES or name == XLINK_HREF or name == "href", name
            assert not local(name).lower().startswith("on") and name != "style"
            if local(name) == "href":
                assert value.startswith("#")
            if "url(" in value.lower():
                assert value.replace(" ", "").replace("'", "") in (
                    "url(#grad)",
                    "url(#m)",
                    "url(#c)",
                )

    found = {el.get("id"): el for el in root.iter() if el.get("id")}
    assert found["bg"].get("fill") == "url(#grad)" and found["bg"].get("style") is None
    assert len(found["grad"]) == 2
    uses = root.findall(f"{{{SVG_NS}}}use")
    assert [use.attrib for use in uses] == [{XLINK_HREF: "#dot", "x": "10"}, {}, {}, {}]
    group = root.find(f"{{{SVG_NS}}}g")
    assert group.attrib == {"mask": "url( '#m' )", "clip-path": "url(#c)"}
    text = root.findall(f"{{{SVG_NS}}}text")
    assert len(text) == 1 and text[0].text == "Murat " and "font-family" not in text[0].attrib
    assert text[0][0].text == "Cantal" and text[0][0].get("fill") == "red"
    assert root.find(f"{{{SVG_NS}}}circle").attrib == {"cx": "5", "cy": "5", "r": "4"}
    assert root.get("viewBox") == "0 0 120 60" and root.get("version") == "1.1"

    assert {
        "<script>",
        "<style>",
        "<foreignObject>",
        "<image>",
        "<a>",
        "<animate>",
        "<set>",
        "onload=",
        "onclick=",
        "OnMouseOver=",
        "style=",
        "href=",
        "xlink:href=",
        "stroke=",
        "fill=",
        "font-family=",
        "{http://www.inkscape.org/namespaces/inkscape}version=",
    } == set(logo.removed)


def test_svg_sanitising_is_stable():
    logo = sanitise_logo(EVIL_SVG.encode())
    again = sanitise_logo(logo.data)
    assert again.data == logo.data and again.removed == ()


def test_clean_svg_is_kept_whole():
    data = svg(
        '<title>Murat</title><g transform="translate(1 2)"><circle cx="5" cy="5" r="5"'
        ' fill="#c00" stroke-width="2"/></g>',
        'width="64" height="32" viewBox="0 0 64 32" preserveAspectRatio="xMidYMid meet"',
    )
    logo = sanitise_logo(data)
    assert logo.removed == ()
    root = clean_tree(logo.data)
    assert root.get("preserveAspectRatio") == "xMidYMid meet"
    assert root.find(f"{{{SVG_NS}}}title").text == "Murat"
    circle = root.find(f"{{{SVG_NS}}}g/{{{SVG_NS}}}circle")
    assert circle.attrib == {"cx": "5", "cy": "5", "r": "5", "fill": "#c00", "stroke-width": "2"}


@pytest.mark.parametrize(
    ("attrs", "size"),
    [
        ('width="64" height="32.4px"', (64, 32)),
        ('width="100%" height="10em"', (None, None)),
        ('viewBox="0 0 10 10"', (None, None)),
        ('width="0" height="-3"', (None, None)),
    ],
)
def test_svg_pixel_size(attrs, size):
    logo = sanitise_logo(svg('<rect width="1" height="1"/>', attrs))
    assert (logo.width, logo.height) == size


def test_svg_with_bom_and_prefixed_root_is_accepted():
    data = (
        b"\xef\xbb\xbf\n  <s:svg xmlns:s='" + SVG_NS.encode() + b"'><s:rect width='1' height='1'/>"
        b"</s:svg>"
    )
    root = clean_tree(sanitise_logo(data).data)
    assert [local(el.tag) for el in root.iter()] == ["svg", "rect"]


def test_text_after_a_dropped_element_is_kept():
    data = svg('<text>Hello <a href="#x">there</a> world<script>x</script>!</text>')
    text = clean_tree(sanitise_logo(data).data).find(f"{{{SVG_NS}}}text")
    assert "".join(text.itertext()) == "Hello  world!"


def test_use_of_something_holding_a_use_is_dropped():
    # Every level doubles the drawing; a few more levels would draw billions of paths.
    data = svg(
        '<defs><g id="a"><path d="M0 0h1v1z"/></g>'
        '<g id="b"><use href="#a"/><use href="#a"/></g>'
        '<g id="c"><use href="#b"/><use href="#b"/></g></defs>'
        '<use href="#c"/><use href="#a"/><use id="self" href="#self"/>'
    )
    logo = sanitise_logo(data)
    assert "nested <use>" in logo.removed
    root = clean_tree(logo.data)
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    uses = list(root.iter(f"{{{SVG_NS}}}use"))
    assert uses and all(
        not any(local(el.tag) == "use" for el in by_id[use.get("href")[1:]].iter()) for use in uses
    )
    # #b and #c hold uses, and #self is one: only the references to #a are left
    assert [use.get("href") for use in uses] == ["#a", "#a", "#a"]


@pytest.mark.parametrize(
    "doc",
    [
        # billion laughs
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;">]><svg xmlns="http://www.w3.org/2000/svg"><text>&c;'
        "</text></svg>",
        # external entity (XXE)
        '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>',
        # even the harmless SVG 1.1 DOCTYPE: no DTD is ever read
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
        '<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>',
    ],
)
def test_svg_with_dtd_is_refused(doc):
    exc = refused(doc.encode(), "logo.svg")
    assert exc.code == "svg_forbidden"
    assert "DOCTYPE" in exc.message and exc.params == {"filename": "logo.svg"}


@pytest.mark.parametrize(
    "data",
    [
        svg("<script>alert(1)</script><foreignObject/>"),
        svg('<defs><path d="M0 0h9v9z"/></defs>'),  # only unrendered content
        svg(""),
    ],
)
def test_svg_with_nothing_drawable_left_is_refused(data):
    exc = refused(data)
    assert exc.code == "svg_empty"
    assert exc.params["removed"] == sorted(exc.params["removed"])


def test_svg_empty_lists_what_was_removed():
    exc = refused(svg("<script>alert(1)</script>", 'onload="x()"'))
    assert exc.params["removed"] == ["<script>", "onload="]


@pytest.mark.parametrize(
    "data",
    [
        svg("<path d='M0 0'>"),  # unclosed
        b"<svg><path d='M0 0h1v1z'/></svg>",  # no SVG namespace
        b'<svg xmlns="http://example.com/not-svg"><path/></svg>',
        b"<svg xmlns='" + SVG_NS.encode() + b"'>\xff\xfe</svg>",  # not UTF-8
    ],
)
def test_malformed_svg_is_corrupt(data):
    exc = refused(data)
    assert exc.code == "corrupt" and exc.params["format"] == "svg"


def test_svg_nesting_is_bounded():
    def nested(depth: int) -> bytes:
        return svg("<g>" * depth + "<path d='M0 0h1v1z'/>" + "</g>" * depth)

    assert sanitise_logo(nested(MAX_SVG_DEPTH - 1)).removed == ()
    exc = refused(nested(MAX_SVG_DEPTH + 1))
    assert exc.code == "too_complex" and exc.params == {"max_depth": MAX_SVG_DEPTH}
    assert refused(nested(20_000)).code == "too_complex"  # far past the recursion limit
