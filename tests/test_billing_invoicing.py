"""Invoices: the run (idempotent), numbering without gaps under concurrency, immutability,
credit notes, payments, overdue and reminders, late interest, refused inputs."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from billing import contracts
from billing.invoicing import InvoicingError, billing_run
from billing.invoicing.credit_notes import void
from billing.invoicing.drafts import add_line, create_draft
from billing.invoicing.numbering import finalise
from billing.invoicing.payments import balance_cents, record_payment
from billing.invoicing.reminders import late_interest, send_due_reminders, send_reminder
from billing.models import Invoice, InvoiceKind, InvoiceStatus
from billing.queries import is_overdue
from billing.schedule import add_months
from core.extensions import db
from core.mail import OutboxMail

START = date(2027, 1, 15)


@pytest.fixture(autouse=True)
def english(app, ctx):
    """Messages are checked in English, the msgids (the French catalogue covers them too)."""
    with app.test_request_context(), force_locale("en"):
        yield


SIRET = "21150187900020"  # a valid SIRET (its SIREN too)


def customer(**overrides):
    values = dict(
        tenant_id=None,
        legal_name="Commune de Saint-Flour",
        siret=SIRET,
        address_line1="Place d'Armes",
        postcode="15100",
        city="Saint-Flour",
        billing_email="compta@saint-flour.example",
        service_code="SERV-01",
        engagement_number="EJ-2027-42",
    )
    values.update(overrides)
    return contracts.create_customer(**values)


def contract(cust=None, **overrides):
    spec = dict(
        customer_id=(cust or customer()).id,
        kind="commune",
        start_on=START,
        end_on=add_months(START, 60),
        go_live_on=date(2027, 3, 1),
        options={"option2": None},
    )
    spec.update(overrides)
    return contracts.create_contract(**spec)


def run(on, **kwargs):
    return billing_run.run(on, contract_ids=kwargs.pop("ids", None), **kwargs)


def test_run_issues_what_is_due_once(ctx):
    c = contract()
    first = run(date(2027, 3, 10), ids=[c.id])
    assert [i.schedule_key for i in first] == ["y1-signature", "y1-go-live"]
    assert [i.total_ht_cents for i in first] == [576000, 960000]
    assert [i.total_ttc_cents for i in first] == [691200, 1152000]
    assert all(i.status == InvoiceStatus.finalised for i in first)
    assert all(i.issue_date == date(2027, 3, 10) for i in first)
    assert all(i.due_date == date(2027, 4, 9) for i in first)
    n1, n2 = (int(i.number.rsplit("-", 1)[1]) for i in first)
    assert first[0].number.startswith("VV-2027-") and n2 == n1 + 1
    assert run(date(2027, 3, 10), ids=[c.id]) == []  # twice: nothing more
    assert run(date(2027, 3, 11), ids=[c.id]) == []
    third = run(date(2028, 1, 15), ids=[c.id])
    assert [(i.schedule_key, i.total_ht_cents) for i in third] == [
        ("y1-balance", 384000),
        ("y2-q1", 480000),
    ]
    snapshot = first[0]
    assert snapshot.buyer["siret"] == SIRET and snapshot.seller["siren"] == "900000001"
    assert (snapshot.engagement_number, snapshot.service_code) == ("EJ-2027-42", "SERV-01")


def test_draft_run_and_manual_finalise(ctx):
    c = contract()
    (draft,) = run(START, ids=[c.id], draft=True)
    assert draft.number is None and draft.status == InvoiceStatus.draft
    assert run(START, ids=[c.id], draft=True) == []
    finalise(draft, START, store=False)
    assert draft.number.startswith("VV-2027-")
    late = create_draft(draft.customer, "Accompagnement")
    add_line(late, "Journée", 2, 50000)
    assert late.total_ttc_cents == 120000
    with pytest.raises(InvoicingError, match="go forward together"):
        finalise(late, date(2027, 1, 10), store=False)
    assert late.number is None


def test_finalised_invoice_cannot_be_edited(ctx):
    c = contract()
    (inv,) = run(START, ids=[c.id])
    with pytest.raises(InvoicingError, match="cannot be changed"):
        add_line(inv, "Extra", 1, 1000)
    with pytest.raises(InvoicingError, match="cannot be changed"):
        finalise(inv, START, store=False)
    # The database refuses it too, whatever the code does.
    db.session.execute(text("SAVEPOINT guard"))
    with pytest.raises(DBAPIError, match="cannot be modified"):
        db.session.execute(
            text(
                "UPDATE billing_invoices SET total_ht_cents = 1, total_ttc_cents = 1, "
                "total_vat_cents = 0 WHERE id = :id"
            ),
            {"id": inv.id},
        )
    db.session.execute(text("ROLLBACK TO SAVEPOINT guard"))
    with pytest.raises(DBAPIError, match="cannot be changed"):
        db.session.execute(
            text("UPDATE billing_invoice_lines SET amount_cents = 1 WHERE invoice_id = :id"),
            {"id": inv.id},
        )
    db.session.execute(text("ROLLBACK TO SAVEPOINT guard"))
    with pytest.raises(DBAPIError, match="cannot be deleted"):
        db.session.execute(text("DELETE FROM billing_invoices WHERE id = :id"), {"id": inv.id})
    db.session.execute(text("ROLLBACK TO SAVEPOINT guard"))


def test_void_makes_a_credit_note_and_frees_the_instalment(ctx):
    c = contract()
    (inv,) = run(START, ids=[c.id])
    number = inv.number
    note = void(inv, date(2027, 1, 20), store=False)
    assert inv.status == InvoiceStatus.void and inv.number == number
    assert note.kind == InvoiceKind.credit_note and note.credits_invoice_id == inv.id
    assert note.number.startswith("AV-2027-")
    assert note.total_ttc_cents == inv.total_ttc_cents
    with pytest.raises(InvoicingError, match="already void"):
        void(inv, date(2027, 1, 20))
    with pytest.raises(InvoicingError, match="credit note cannot be voided"):
        void(note, date(2027, 1, 20))
    # Corrected contract (option 2 from February), re-issued by the next run.
    c.options[0].start_on = date(2027, 2, 15)
    db.session.flush()
    (again,) = run(date(2027, 1, 21), ids=[c.id])
    assert again.schedule_key == "y1-signature" and again.number != number
    assert again.total_ht_cents < inv.total_ht_cents


def test_partial_payments_then_paid(ctx):
    c = contract()
    (inv,) = run(START, ids=[c.id])
    assert inv.total_ttc_cents == 691200
    with pytest.raises(InvoicingError, match="positive"):
        record_payment(inv, date(2027, 2, 1), -100)
    with pytest.raises(InvoicingError, match="more than"):
        record_payment(inv, date(2027, 2, 1), 691201)
    record_payment(inv, date(2027, 2, 1), 400000, "VIR 1")
    assert inv.status == InvoiceStatus.finalised and balance_cents(inv) == 291200
    record_payment(inv, date(2027, 2, 3), 291200, "VIR 2")
    assert inv.status == InvoiceStatus.paid and inv.paid_on == date(2027, 2, 3)
    with pytest.raises(InvoicingError, match="paid in full"):
        record_payment(inv, date(2027, 2, 4), 1)
    with pytest.raises(InvoicingError, match="payments recorded"):
        void(inv, date(2027, 2, 5))


def test_overdue_reminder_and_interest(ctx):
    c = contract()
    (inv,) = run(START, ids=[c.id])
    due = inv.due_date
    assert due == date(2027, 2, 14)
    assert not is_overdue(inv, due)
    assert is_overdue(inv, date(2027, 2, 15))
    with pytest.raises(InvoicingError, match="overdue"):
        send_reminder(inv, due)
    assert send_due_reminders(date(2027, 2, 20)) >= 1
    mail = (
        db.session.execute(
            select(OutboxMail).where(OutboxMail.to_addr == "compta@saint-flour.example")
        )
        .scalars()
        .one()
    )
    body = mail.body_text.replace("\u202f", " ").replace("\xa0", " ")
    assert inv.number in mail.subject and "6 912,00 €" in body
    assert inv.reminder_count == 1
    # Not again within 15 days; again after.
    before = db.session.execute(select(OutboxMail.id)).all()
    send_due_reminders(date(2027, 3, 1))
    assert inv.reminder_count == 1
    send_due_reminders(date(2027, 3, 7))
    assert inv.reminder_count == 2
    assert len(db.session.execute(select(OutboxMail.id)).all()) > len(before)
    # Interest: 6 912 € × (2.15 % + 8 %) × 30 / 365 = 57.66 €, then half paid for 10 more days.
    late = late_interest(inv, date(2027, 3, 16))
    assert (late.days, late.rate_bp, late.interest_cents, late.indemnity_cents) == (
        30,
        1015,
        5766,
        4000,
    )
    record_payment(inv, date(2027, 3, 17), 345600)
    db.session.refresh(inv, ["payments"])
    late = late_interest(inv, date(2027, 3, 26))
    expected = round(691200 * 1015 * 30 / 3650000 + 345600 * 1015 * 10 / 3650000)
    assert late.days == 40 and abs(late.interest_cents - expected) <= 1
    assert late_interest(inv, due).interest_cents == 0


def test_bad_inputs_are_refused_and_change_nothing(ctx):
    with pytest.raises(contracts.BillingInputError, match="checksum") as err:
        customer(siret="21150187900021")
    assert err.value.field == "siret"
    with pytest.raises(contracts.BillingInputError, match="14 digits"):
        customer(siret="1234")
    with pytest.raises(contracts.BillingInputError, match="e-mail"):
        customer(billing_email="compta")
    cust = customer()
    with pytest.raises(contracts.BillingInputError, match="at most 5 years"):
        contract(cust, end_on=add_months(START, 60) + (date(2000, 1, 2) - date(2000, 1, 1)))
    with pytest.raises(contracts.BillingInputError, match="before the contract"):
        contract(cust, options={"option1": date(2027, 1, 1)})
    with pytest.raises(contracts.BillingInputError, match="signed by the umbrella's territory"):
        contract(cust, kind="umbrella")  # the customer is a commune's
    c = contract(cust)
    with pytest.raises(contracts.BillingInputError, match="before the contract"):
        contracts.add_option(c, "option3", date(2026, 12, 1))
    with pytest.raises(contracts.BillingInputError, match="options are 1, 2 and 3"):
        contracts.add_option(c, "option9", date(2027, 6, 1))
    draft = create_draft(cust, "Prestation")
    with pytest.raises(InvoicingError, match="cannot be negative"):
        add_line(draft, "Remise", 1, -500)
    with pytest.raises(InvoicingError, match="without lines"):
        finalise(draft, START, store=False)
    assert draft.number is None and not draft.lines


def test_termination_true_up_is_invoiced(ctx):
    c = contract()
    contracts.terminate(c, add_months(START, 8))
    created = run(add_months(START, 8), ids=[c.id])
    keys = {i.schedule_key for i in created}
    assert keys == {"y1-signature", "y1-go-live", "y1-balance", "true-up-2027-09-15"}
    assert sum(i.total_ht_cents for i in created) == 12 * 160000
    assert all(i.issue_date <= c.terminated_on for i in created)


def test_run_command(ctx, runner):
    # Far in the future: what this test commits is never due for the other tests' runs.
    start = date(2091, 1, 15)
    c = contract(start_on=start, end_on=add_months(start, 24), go_live_on=date(2091, 3, 1))
    db.session.commit()
    try:
        result = runner.invoke(args=["billing", "run", "--date", "2091-01-15", "--no-reminders"])
        assert result.exit_code == 0, result.output
        assert "1 invoice(s) finalised on 2091-01-15" in result.output
        again = runner.invoke(args=["billing", "run", "--date", "2091-01-15", "--no-reminders"])
        assert "0 invoice(s)" in again.output
        result = runner.invoke(args=["billing", "interest", "VV-2091-99999"])
        assert result.exit_code == 1 and "no invoice numbered" in result.output
    finally:
        db.session.rollback()
        keys = (
            db.session.execute(select(Invoice.schedule_key).where(Invoice.contract_id == c.id))
            .scalars()
            .all()
        )
        assert keys == ["y1-signature"]


def test_concurrent_finalisations_leave_no_gap(app):
    day = date(2090, 6, 1)
    with app.app_context():
        cust = customer()
        ids = []
        for n in range(12):
            inv = create_draft(cust, f"Prestation {n}")
            add_line(inv, "Accompagnement", 1, 10000 + n)
            ids.append(inv.id)
        db.session.commit()
    errors = []
    barrier = threading.Barrier(6)

    def worker(chunk):
        with app.app_context():
            try:
                barrier.wait()
                for invoice_id in chunk:
                    invoice = db.session.get(Invoice, invoice_id)
                    finalise(invoice, day, store=False)
                    db.session.commit()
                # A failing finalisation gives its number back.
                invoice = create_draft(db.session.get(Invoice, chunk[0]).customer, "x")
                add_line(invoice, "x", 1, 100)
                finalise(invoice, day, store=False)
                db.session.rollback()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(ids[k::6],)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with app.app_context():
        numbers = sorted(
            int(n.rsplit("-", 1)[1])
            for n in db.session.execute(select(Invoice.number).where(Invoice.id.in_(ids))).scalars()
        )
        assert len(set(numbers)) == 12
        assert numbers == list(range(numbers[0], numbers[0] + 12))
        last = db.session.execute(
            text(
                "SELECT last_number FROM billing_invoice_sequences "
                "WHERE prefix = 'VV' AND year = 2090"
            )
        ).scalar_one()
        assert last == numbers[-1]
