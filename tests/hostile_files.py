"""Hostile spreadsheets: a few kilobytes each, claiming rows, columns, strings or bytes by the
million (the tests refuse them, bench/ingest.py times their refusal)."""

from __future__ import annotations

import io
import zipfile

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="annonces" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>'
)
SHEET_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>external_id</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>title</t></is></c></row>'
)


def workbook(sheet_body, strings=None, *, prolog: str = "", dimension: str = "") -> bytes:
    """A minimal XLSX whose first sheet holds `sheet_body` (text, or an iterable of chunks
    written as they come: a million rows never sit in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            head = SHEET_OPEN if not prolog else SHEET_OPEN.replace("?>", "?>" + prolog, 1)
            sheet.write(head.encode())
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>")
            for chunk in [sheet_body] if isinstance(sheet_body, str) else sheet_body:
                sheet.write(chunk.encode())
            sheet.write(b"</sheetData></worksheet>")
        if strings is not None:
            with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                part.write(
                    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                )
                for chunk in strings:
                    part.write(chunk.encode())
                part.write(b"</sst>")
    return out.getvalue()


def _repeat(text: str, times: int, batch: int = 10_000):
    whole, rest = divmod(times, batch)
    for _ in range(whole):
        yield text * batch
    yield text * rest


def huge_dimension() -> bytes:
    """Two real rows, a declared dimension of 1 048 576 rows × 16 384 columns."""
    return workbook(HEADER_ROW, dimension="A1:XFD1048576")


def sparse_rows() -> bytes:
    """A header, then one row at the very bottom of the sheet: a million rows, nearly all
    blank."""
    return workbook(HEADER_ROW + '<row r="1048576"><c r="A1048576"><v>1</v></c></row>')


def blank_rows(count: int = 1_000_000) -> bytes:
    """A million empty `<row/>` elements, numbered by their order."""
    return workbook(_repeat("<row/>", count))


def wide_row(count: int = 1_000_000) -> bytes:
    """One row of a million empty cells."""
    return workbook(["<row>", *_repeat("<c/>", count), "</row>"])


def many_strings(count: int = 3_000_000) -> bytes:
    """Millions of one-letter shared strings, the last one used by a cell."""
    row = f'<row r="2"><c r="A2" t="s"><v>{count - 1}</v></c></row>'
    return workbook(HEADER_ROW + row, _repeat("<si><t>a</t></si>", count))


def doctype() -> bytes:
    """A sheet with a DOCTYPE and an entity (the road to XXE and billion laughs)."""
    return workbook(HEADER_ROW, prolog='<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">]>')


def zip_bomb(megabytes: int = 1024) -> bytes:
    """A member inflating to `megabytes` of blanks inside the sheet data (about 1 MB zipped
    per GB)."""
    return workbook(_repeat(" " * 2**20, megabytes, batch=1))


HOSTILE = {
    "huge declared dimension": huge_dimension,
    "a row at 1 048 576": sparse_rows,
    "a million blank rows": blank_rows,
    "a million cells in one row": wide_row,
    "three million shared strings": many_strings,
    "DOCTYPE": doctype,
    "zip bomb (1 GB member)": zip_bomb,
}
