"""Logo checks of SVG: whitelisted elements and attributes, references kept inside the document,
no DTD, bounded nesting, on documents written here."""

from __future__ import annotations

import hashlib

import pytest
from defusedxml.ElementTree import fromstring as safe_fromstring

from core.images import (
    MAX_SVG_DEPTH,
    SVG_ATTRIBUTES,
    SVG_ELEMENTS,
    SVG_NS,
    XLINK_HREF,
    sanitise_logo,
)
from tests.image_helpers import refused, svg


def clean_tree(data: bytes):
    """Re-parse sanitised SVG output as strictly as an upload and return its root."""
    root = safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    assert root.tag == f"{{{SVG_NS}}}svg"
    return root


def local(name: str) -> str:
    return name.rpartition("}")[2]


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
