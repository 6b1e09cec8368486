"""Outbound mail through a real SMTP server started by the tests; SMTP down loses nothing."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from core.db import utcnow
from core.extensions import db
from core.jobs import get_queue, job
from core.mail import OutboxMail, deliver_outbox, deliver_pending, queue_mail
from core.tenancy import tenant_scope
from tests.support import Inbox, InProcessWorker, free_port


@pytest.fixture
def outbox(ctx):
    yield
    db.session.rollback()
    db.session.execute(OutboxMail.__table__.delete())
    db.session.commit()


def test_mail_queued_in_a_territory_is_sent(ctx, outbox, smtp, make_tenant):
    town = make_tenant(name="Murat")
    with tenant_scope(town):
        mail = queue_mail(
            "habitant@example.org", "Bienvenue à Murat", "Bonjour,\nÀ bientôt.", "<p>Bonjour</p>"
        )
        db.session.commit()
    assert mail.tenant_id == town.id
    assert deliver_outbox() == 1
    assert len(smtp.messages) == 1
    envelope = smtp.messages[0]
    assert envelope.rcpt_tos == ["habitant@example.org"]
    content = envelope.content.decode()
    assert "Subject: =?utf-8?" in content or "Bienvenue" in content
    assert mail.message_id in content
    sent = db.session.get(OutboxMail, mail.id)
    assert sent.status == "sent" and sent.sent_at is not None
    assert deliver_outbox() == 0  # nothing is sent twice


def test_a_reply_to_reaches_the_recipient_in_its_header(ctx, outbox, smtp):
    mail = queue_mail(
        "annonceur@example.org", "Votre annonce", "Bonjour", reply_to="camille@example.org"
    )
    db.session.commit()
    assert mail.reply_to == "camille@example.org"
    assert deliver_outbox() == 1
    [received] = smtp.mails_to("annonceur@example.org")
    assert received["Reply-To"] == "camille@example.org"
    assert "camille" not in received["From"]


@pytest.mark.parametrize(
    "reply_to",
    [
        "pas-une-adresse",
        "a@b.fr\nBcc: c@d.fr",
        "a@b.fr, c@d.fr",
        "Camille <a@b.fr>",
        "x" * 320 + "@b.fr",
    ],
)
def test_a_bad_reply_to_is_refused(ctx, outbox, reply_to):
    with pytest.raises(ValueError, match="reply-to"):
        queue_mail("a@example.org", "Sujet", "corps", reply_to=reply_to)
    assert db.session.execute(select(OutboxMail)).first() is None


def test_smtp_down_keeps_the_mail_until_it_is_back(app, ctx, outbox):
    port = free_port()  # nothing listens there yet
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    mail = queue_mail("coordinateur@example.org", "Rapport", "Le rapport du mois.")
    db.session.commit()
    assert deliver_pending() == (0, 1)
    db.session.refresh(mail)
    assert (mail.status, mail.attempts) == ("pending", 1)
    assert "Connection refused" in mail.last_error or "Errno" in mail.last_error
    assert mail.next_attempt_at > utcnow()
    assert deliver_pending() == (0, 0)  # backing off: not due yet

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        db.session.execute(update(OutboxMail).values(next_attempt_at=utcnow()))
        db.session.commit()
        assert deliver_pending() == (1, 0)
    finally:
        controller.stop()
        app.config["SMTP_URL"] = "smtp://127.0.0.1:9"
    assert [e.rcpt_tos for e in inbox.messages] == [["coordinateur@example.org"]]
    db.session.refresh(mail)
    assert (mail.status, mail.attempts, mail.last_error) == ("sent", 2, None)


def test_rolled_back_transaction_sends_nothing(ctx, outbox, smtp):
    queue_mail("x@example.org", "Annulé", "corps")
    db.session.rollback()
    assert deliver_outbox() == 0 and smtp.messages == []


@pytest.mark.parametrize(
    ("to", "subject"),
    [("pas-une-adresse", "ok"), ("a@b.fr\nBcc: c@d.fr", "ok"), ("a@b.fr", "ligne\ncoupée")],
)
def test_bad_addresses_and_header_injection_are_refused(ctx, outbox, to, subject):
    with pytest.raises(ValueError):
        queue_mail(to, subject, "corps")
    assert db.session.execute(select(OutboxMail)).first() is None


def test_outbox_job_runs_through_the_worker(app, outbox, smtp, redis_conn):
    with app.app_context():
        queue_mail("a@example.org", "Par le worker", "corps")
        db.session.commit()
        sender = job()(deliver_outbox)
        queued = sender.enqueue(tenant=None)
        InProcessWorker([get_queue()], connection=redis_conn).work(burst=True)
        queued.refresh()
        assert queued.return_value() == 1
    assert len(smtp.messages) == 1
