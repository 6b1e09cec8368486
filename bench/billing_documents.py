"""Invoice documents benchmark: Factur-X PDF per invoice (target ≤ 1 s), against plain weasyprint.

For N invoices of 1 to 12 lines, times `render_pdf` (HTML → PDF/A-3b → CII XML checked against
the XSD and embedded by factur-x → information dictionary aligned with the XMP), the whole
`store` work (that PDF, the UBL XML checked against its XSD, both written to a local storage),
and the baseline: weasyprint drawing the same HTML as a plain PDF, alternately with it. No
database is needed: the invoices are built in memory.

    .venv/bin/python -m bench.billing_documents
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal

from weasyprint import HTML

from bench.harness import Bench
from billing.documents.cii import cii_xml
from billing.documents.drawing import TEMPLATES
from billing.documents.model import InvoiceDocument, Line, Party, vat_groups
from billing.documents.pdf import invoice_html, render_pdf
from billing.documents.schemas import check_cii, check_ubl
from billing.documents.store import storage_keys
from billing.documents.ubl import ubl_xml
from core.storage import LocalStorage

N = int(os.environ.get("BENCH_INVOICES", "40"))
TARGET_S = 1.0

SELLER = Party(
    name="VivroVert SAS",
    address_line1="12 rue des Tilleuls",
    postcode="15000",
    city="Aurillac",
    siret="73282932000074",
    vat_number="FR44732829320",
    legal_form="SAS",
    share_capital="10 000 €",
    registration="RCS Aurillac 732 829 320",
    email="facturation@vivrovert.example",
    iban="FR76 3000 6000 0112 3456 7890 189",
    bic="AGRIFRPP",
)
LABELS = ("Abonnement de base", "Option 1", "Option 2", "Option 3")


def invoice(i: int) -> InvoiceDocument:
    issue = date(2027, 1, 1) + timedelta(days=i % 360)
    start = issue.replace(day=1)
    end = start + timedelta(days=89)
    lines = tuple(
        Line(
            label=f"{LABELS[k % 4]} – membre {k // 4 + 1}",
            quantity=Decimal(3),
            unit_cents=25000 + 1000 * k + i,
            amount_cents=3 * (25000 + 1000 * k + i),
            vat_rate_bp=2000,
            period_start=start,
            period_end=end,
        )
        for k in range(1 + i % 12)
    )
    ht = sum(line.amount_cents for line in lines)
    vat = sum(g.vat_cents for g in vat_groups(lines))
    return InvoiceDocument(
        number=f"VV-2027-{i + 1:05d}",
        credit_note=False,
        issue_date=issue,
        due_date=issue + timedelta(days=30),
        seller=SELLER,
        buyer=Party(
            name=f"Communauté de communes n° {i}",
            address_line1="1 place de la Mairie",
            postcode="15100",
            city="Saint-Flour",
            siret="21150187000019",
        ),
        lines=lines,
        total_ht_cents=ht,
        total_vat_cents=vat,
        total_ttc_cents=ht + vat,
        period_start=start,
        period_end=end,
        engagement_number=f"EJ-{i:06d}",
        service_code="SERV-FIN",
        title="Abonnement VivrauBassindeVie",
    )


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main() -> None:
    with Bench("billing_documents") as bench:
        invoices = [invoice(i) for i in range(N)]
        # Fonts, templates and schemas load once per process; not what one invoice costs.
        render_pdf(invoices[0])
        check_ubl(ubl_xml(invoices[0]))

        def plain(doc):
            html = invoice_html(doc)
            return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()

        with tempfile.TemporaryDirectory() as folder:
            storage = LocalStorage(folder)

            def store(doc):
                pdf_key, ubl_key = storage_keys(doc.number)
                ubl = ubl_xml(doc)
                check_ubl(ubl)
                storage.put(pdf_key, render_pdf(doc), "application/pdf")
                storage.put(ubl_key, ubl, "application/xml")

            baseline, facturx, stored, cii, sizes = [], [], [], [], []
            for k, doc in enumerate(invoices):  # alternate which goes first, as interleave does
                if k % 2:
                    facturx.append(timed(render_pdf, doc))
                    baseline.append(timed(plain, doc))
                else:
                    baseline.append(timed(plain, doc))
                    facturx.append(timed(render_pdf, doc))
                stored.append(timed(store, doc))
                cii.append(timed(lambda d: check_cii(cii_xml(d)), doc))
                sizes.append(len(render_pdf(doc)) / 1024)
        plain_name = "weasyprint drawing the same HTML as a plain PDF"
        note = f"{N} invoices of 1 to 12 lines, one run each"
        bench.figure("Factur-X PDF/A-3 (EN 16931) per invoice", facturx, "s", at_most=TARGET_S,
                     baseline=baseline, baseline_name=plain_name, note=note)  # fmt: skip
        bench.figure("stored: Factur-X PDF + UBL, both checked, written", stored, "s",
                     baseline=baseline, baseline_name=plain_name, note=note)  # fmt: skip
        bench.figure("of which the CII XML and its XSD check", cii, "s", note=note)
        bench.figure("Factur-X PDF size", sizes, "KiB", note=note)


if __name__ == "__main__":
    main()
