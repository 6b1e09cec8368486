"""Check and sanitise uploaded images before they are stored: a territory's logo (PNG, JPEG or
SVG) and listing photos (PNG, JPEG or WebP, re-encoded as JPEG in a thumbnail and a large size)."""

from __future__ import annotations

import hashlib
import io
import math
import re
from dataclasses import dataclass

# Only builds and serialises trees; every parse goes through defusedxml.
from xml.etree.ElementTree import Element, ParseError, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring

MAX_BYTES = 512 * 1024
MAX_PIXELS = 2000  # largest accepted width or height, in pixels
MAX_SVG_DEPTH = 100  # deeper trees would blow the recursion limit when walked or serialised
LOGO_FORMATS = ("png", "jpeg", "svg")

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XLINK_HREF = f"{{{XLINK_NS}}}href"
XML_NS = "http://www.w3.org/XML/1998/namespace"

SVG_ELEMENTS = frozenset(
    "svg g path rect circle ellipse line polyline polygon text tspan defs linearGradient"
    " radialGradient stop title desc clipPath mask use symbol".split()
)
SVG_ATTRIBUTES = frozenset(
    "id class viewBox width height x y x1 y1 x2 y2 cx cy r rx ry d points fill stroke"
    " stroke-width stroke-linecap stroke-linejoin opacity fill-opacity stroke-opacity fill-rule"
    " clip-rule transform offset stop-color stop-opacity gradientUnits gradientTransform"
    " font-family font-size font-weight text-anchor clip-path mask preserveAspectRatio version"
    " xmlns".split()
)
_DRAWABLE = frozenset("path rect circle ellipse line polyline polygon text use".split())
# Content under these is only drawn when referenced, so it does not make a logo visible.
_NOT_RENDERED = frozenset("defs symbol clipPath mask linearGradient radialGradient".split())

_PNG_MODES = frozenset({"1", "L", "LA", "I;16", "P", "RGB", "RGBA"})
_LOCAL_REF = re.compile(r"#[A-Za-z_][\w.:-]*")
_LOCAL_URL = re.compile(r"url\(\s*(['\"]?)#[A-Za-z_][\w.:-]*\1\s*\)", re.IGNORECASE)
_IGNORED_IN_SCHEMES = re.compile(r"[\x00-\x20]")  # browsers ignore these inside "javascript:"
# What may precede an XML root element: declaration, processing instructions, comments, DOCTYPE.
_PROLOG_ITEM = re.compile(
    rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!(?i:DOCTYPE)[^\[>]*(?:\[.*?\])?\s*>)", re.S
)
_ROOT_TAG = re.compile(rb"\s*<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_PX_LENGTH = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:px)?\s*")

# Named only to word the refusal; anything not PNG, JPEG or SVG is refused.
_REFUSED_SIGNATURES = (
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF-", "pdf"),
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
    (b"\x00\x00\x01\x00", "ico"),
)


class ImageError(ValueError):
    """A refused image: `code` and `params` let a UI word the reason in its own language.

    Codes: too_large, unknown_format, corrupt, too_many_pixels, svg_forbidden (DOCTYPE or
    entities), svg_empty (nothing drawable once cleaned), too_complex (SVG nested too deep).
    """

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params: dict[str, object] = params


#: The logo's name for the same refusal (one class: a photo and a logo fail the same ways).
LogoError = ImageError


@dataclass(frozen=True)
class SanitisedLogo:
    """A logo that is safe to store and serve with its `content_type`."""

    data: bytes
    content_type: str  # image/png, image/jpeg or image/svg+xml
    extension: str  # png, jpg or svg
    width: int | None  # None for an SVG without pixel width/height
    height: int | None
    digest: str  # sha256 hex of `data`
    removed: tuple[str, ...] = ()  # SVG only: what was cleaned out, e.g. "<script>", "onload="


def sanitise_logo(data: bytes, filename: str | None = None) -> SanitisedLogo:
    """Return a re-encoded, metadata-free PNG/JPEG or a whitelisted SVG, or raise LogoError.

    The format comes from the bytes only; `filename` is just echoed in the error's params.
    """
    try:
        if len(data) > MAX_BYTES:
            raise ImageError(
                "too_large",
                f"the logo is {_kb(len(data))} KB; at most {_kb(MAX_BYTES)} KB",
                size=len(data),
                max=MAX_BYTES,
            )
        kind = _detect(data)
        if kind == "svg":
            return _sanitise_svg(data)
        return _sanitise_bitmap(data, kind)
    except ImageError as exc:
        if filename:
            exc.params.setdefault("filename", filename)
        raise


def _kb(size: int) -> int:
    # Rounded up, so that one byte too many never reads as "512 KB; at most 512 KB".
    return math.ceil(size / 1024)


def _detect(data: bytes, what: str = "logo", accepted: tuple[str, ...] = LOGO_FORMATS) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    root = _root_tag(data.removeprefix(b"\xef\xbb\xbf"))
    if root == b"svg" and "svg" in accepted:
        return "svg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and "webp" in accepted:
        return "webp"
    if root == b"svg":
        detected = "svg"
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        detected = "webp"
    elif data[4:8] == b"ftyp":
        detected = "heic/avif"
    elif root and root.lower() == b"html":
        detected = "html"
    else:
        detected = next((name for sig, name in _REFUSED_SIGNATURES if data.startswith(sig)), None)
    shape = f"in {detected.upper()} format" if detected else "not an image we can read"
    names = [name.upper() for name in accepted]
    listed = ", ".join(names[:-1]) + " or " + names[-1]
    raise ImageError(
        "unknown_format",
        f"the {what} is {shape}; use a {listed} image",
        detected=detected,
    )


def _root_tag(text: bytes) -> bytes | None:
    """The root element's local name, if `text` looks like XML or HTML."""
    pos = 0
    while item := _PROLOG_ITEM.match(text, pos):
        pos = item.end()
    tag = _ROOT_TAG.match(text, pos)
    return tag.group(1) if tag else None


def _check_pixels(width: int, height: int, what: str = "logo", most: int = MAX_PIXELS) -> None:
    if width > most or height > most:
        raise ImageError(
            "too_many_pixels",
            f"the {what} is {width}x{height} px; at most {most}x{most} px",
            width=width,
            height=height,
            max=most,
        )


def _sanitise_bitmap(data: bytes, kind: str) -> SanitisedLogo:
    image = _decode(data, kind, "logo", MAX_PIXELS)
    # Re-encoding from pixels is what drops EXIF/XMP/ICC/text chunks and appended payloads;
    # Pillow still reads a few keys (comment, icc_profile) from .info, so it is emptied.
    out = io.BytesIO()
    if kind == "png":
        if image.mode not in _PNG_MODES:
            image = image.convert("RGBA")
        transparency = image.info.get("transparency")
        image.info = {} if transparency is None else {"transparency": transparency}
        image.save(out, format="PNG", optimize=True)
        content_type, extension = "image/png", "png"
    else:
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.info = {}
        # 4:4:4 chroma keeps the sharp coloured edges logos are made of.
        image.save(out, format="JPEG", quality=90, subsampling=0, optimize=True)
        content_type, extension = "image/jpeg", "jpg"
    clean = out.getvalue()
    return SanitisedLogo(
        data=clean,
        content_type=content_type,
        extension=extension,
        width=image.width,
        height=image.height,
        digest=hashlib.sha256(clean).hexdigest(),
    )


def _decode(data: bytes, kind: str, what: str, most: int):
    """The decoded, upright Pillow image of a PNG, JPEG or WebP, or ImageError."""
    from PIL import Image, ImageOps  # noqa: PLC0415 - heavy: imported when an image is sent

    pil_format = kind.upper()
    try:
        # A truncated JPEG has no end-of-image marker after its last scan. Checked here rather
        # than left to Pillow: a library that sets ImageFile.LOAD_TRUNCATED_IMAGES process-wide
        # (weasyprint does) would otherwise make a half file load as grey.
        if kind == "jpeg" and data.find(b"\xff\xd9", data.rfind(b"\xff\xda")) == -1:
            raise ValueError("no end-of-image marker after the last scan")
        # The declared size is known before any pixel is decoded: refuse bombs there.
        with Image.open(io.BytesIO(data), formats=[pil_format]) as probe:
            _check_pixels(*probe.size, what=what, most=most)
            probe.verify()
        # verify() leaves the image unusable, hence the second open.
        with Image.open(io.BytesIO(data), formats=[pil_format]) as opened:
            opened.load()
            # Orientation lives in the EXIF that is about to be dropped: apply it first.
            image = ImageOps.exif_transpose(opened)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Raised before the size can be read; the warning only arrives here when warnings are
        # errors, otherwise _check_pixels refuses the same file.
        raise ImageError(
            "too_many_pixels",
            f"the {what} declares far more pixels than {most}x{most}",
            max=most,
        ) from exc
    except Exception as exc:  # a hostile file can make a decoder raise almost anything
        raise ImageError(
            "corrupt",
            f"the {pil_format} file is damaged and cannot be read",
            format=kind,
        ) from exc
    return image


# --- listing photos ------------------------------------------------------------------------------

PHOTO_FORMATS = ("png", "jpeg", "webp")
MAX_PHOTO_BYTES = 7 * 1024 * 1024  # a phone's photo is 3-6 MB; under MAX_CONTENT_LENGTH (8 MB)
MAX_PHOTO_PIXELS = 12000  # largest accepted width or height of a photo
#: The sizes a photo is stored in once (longest side, pixels); a smaller photo is not enlarged.
PHOTO_SIZES = {"thumb": 480, "large": 1600}


@dataclass(frozen=True)
class Rendition:
    data: bytes  # a metadata-free JPEG
    width: int
    height: int


@dataclass(frozen=True)
class PreparedPhoto:
    """A listing photo re-encoded in every size of PHOTO_SIZES; `digest` names the original."""

    renditions: dict[str, Rendition]
    width: int
    height: int
    digest: str  # sha256 hex of the bytes received: the same photo twice is stored once


def prepare_photo(data: bytes, filename: str | None = None) -> PreparedPhoto:
    """Check a photo (format from its bytes, size, pixels, bombs) and make its renditions, or
    raise ImageError with the same codes as a logo's."""
    try:
        if len(data) > MAX_PHOTO_BYTES:
            raise ImageError(
                "too_large",
                f"the photo is {_kb(len(data))} KB; at most {_kb(MAX_PHOTO_BYTES)} KB",
                size=len(data),
                max=MAX_PHOTO_BYTES,
            )
        kind = _detect(data, "photo", PHOTO_FORMATS)
        image = _decode(data, kind, "photo", MAX_PHOTO_PIXELS)
    except ImageError as exc:
        if filename:
            exc.params.setdefault("filename", filename)
        raise
    from PIL import Image  # noqa: PLC0415 - heavy: imported when a photo is sent

    if image.mode in ("RGBA", "LA", "P", "PA"):
        # JPEG has no transparency: flatten on white, as a page would show it.
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    elif image.mode != "RGB":
        image = image.convert("RGB")
    renditions = {}
    for name, side in PHOTO_SIZES.items():
        copy = image.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS)
        copy.info = {}  # no EXIF, ICC or comment carried over
        out = io.BytesIO()
        copy.save(out, format="JPEG", quality=82, optimize=True, progressive=True)
        renditions[name] = Rendition(out.getvalue(), copy.width, copy.height)
    return PreparedPhoto(
        renditions=renditions,
        width=image.width,
        height=image.height,
        digest=hashlib.sha256(data).hexdigest(),
    )


# SVG policy: unsafe or unknown content is removed, not refused, because editors routinely add
# harmless metadata (Inkscape, Illustrator); the caller gets the list in `removed`. The file is
# refused only when it cannot be parsed safely (DTD, entities, malformed XML, too deep) or when
# nothing drawable is left.


def _sanitise_svg(data: bytes) -> SanitisedLogo:
    try:
        root = safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ImageError(
            "svg_forbidden",
            "the SVG declares a DOCTYPE or entities, which are not accepted; "
            "export it again without a DOCTYPE",
        ) from exc
    except ParseError as exc:
        raise ImageError("corrupt", "the SVG file is not well-formed XML", format="svg") from exc
    if root.tag != f"{{{SVG_NS}}}svg":
        raise ImageError(
            "corrupt",
            f'the SVG root element is not <svg xmlns="{SVG_NS}">',
            format="svg",
        )

    removed: set[str] = set()
    clean = _copy_element(root, 0, removed)
    assert clean is not None  # the root was checked above
    _drop_nested_uses(clean, removed)
    if not _has_drawable(clean):
        raise ImageError(
            "svg_empty",
            "nothing drawable is left in the SVG once unsafe content is removed",
            removed=sorted(removed),
        )

    # Plain tag names plus literal xmlns attributes: no global ElementTree prefix registry.
    clean.set("xmlns", SVG_NS)
    if any(XLINK_HREF in el.attrib for el in clean.iter()):
        clean.set("xmlns:xlink", XLINK_NS)
    for el in clean.iter():
        if XLINK_HREF in el.attrib:
            el.set("xlink:href", el.attrib.pop(XLINK_HREF))
    out = tostring(clean, encoding="utf-8", xml_declaration=True)
    return SanitisedLogo(
        data=out,
        content_type="image/svg+xml",
        extension="svg",
        width=_px(clean.get("width")),
        height=_px(clean.get("height")),
        digest=hashlib.sha256(out).hexdigest(),
        removed=tuple(sorted(removed)),
    )


def _shown(name: str) -> str:
    # How a dropped name is listed in `removed`: the prefix for the usual namespaces, else Clark.
    ns, local = _local(name)
    prefix = {None: "", SVG_NS: "", XLINK_NS: "xlink:", XML_NS: "xml:"}.get(ns)
    return name if prefix is None else prefix + local


def _local(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return None, name


def _copy_element(src: Element, depth: int, removed: set[str]) -> Element | None:
    """A whitelisted copy of `src`, or None when the element itself is not allowed."""
    if depth > MAX_SVG_DEPTH:
        raise ImageError(
            "too_complex",
            f"the SVG nests elements more than {MAX_SVG_DEPTH} levels deep",
            max_depth=MAX_SVG_DEPTH,
        )
    ns, tag = _local(src.tag)
    if ns != SVG_NS or tag not in SVG_ELEMENTS:
        removed.add(f"<{_shown(src.tag)}>")
        return None
    out = Element(tag)
    for name, value in src.attrib.items():
        kept = _clean_attribute(name, value)
        if kept is None:
            removed.add(f"{_shown(name)}=")
        else:
            out.set(kept, value)
    out.text = src.text
    last: Element | None = None
    for child in src:
        copy = _copy_element(child, depth + 1, removed)
        if copy is not None:
            copy.tail = child.tail
            out.append(copy)
            last = copy
        elif child.tail:  # text after a dropped element still belongs to its parent
            if last is None:
                out.text = (out.text or "") + child.tail
            else:
                last.tail = (last.tail or "") + child.tail
    return out


def _clean_attribute(name: str, value: str) -> str | None:
    """The attribute's name in the clean tree, or None to drop it."""
    ns, local = _local(name)
    if local == "href" and ns in (None, XLINK_NS):
        # Only same-document references: no URL, data: or javascript: can be fetched or run.
        return name if _LOCAL_REF.fullmatch(value.strip()) else None
    if ns is not None or local not in SVG_ATTRIBUTES:
        return None
    squeezed = _IGNORED_IN_SCHEMES.sub("", value).lower()
    if "javascript:" in squeezed or "\\" in value:  # backslash: CSS escapes could hide url(
        return None
    if "url(" in squeezed and not _LOCAL_URL.fullmatch(value.strip()):
        return None
    return name


def _href(el: Element) -> str | None:
    return el.get("href") or el.get(XLINK_HREF)


def _drop_nested_uses(root: Element, removed: set[str]) -> None:
    # A <use> of something that itself holds a <use> multiplies: a few hundred bytes can make a
    # renderer draw billions of shapes. Logos never need it, so only flat references survive.
    # Decided before removing any, so the outcome does not depend on document order.
    holds_use = {
        el.get("id")
        for el in root.iter()
        if el.get("id") and any(d.tag == "use" for d in el.iter())
    }
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag == "use" and (_href(child) or "")[1:] in holds_use:
                parent.remove(child)  # its tail is whitespace: <use> cannot sit inside <text>
                removed.add("nested <use>")


def _has_drawable(el: Element) -> bool:
    if el.tag in _DRAWABLE:
        return True
    return any(_has_drawable(child) for child in el if child.tag not in _NOT_RENDERED)


def _px(value: str | None) -> int | None:
    # Only plain or px lengths are pixels; "10em" or "100%" depend on where the logo is shown.
    match = _PX_LENGTH.fullmatch(value) if value else None
    size = round(float(match.group(1))) if match else 0
    return size or None
