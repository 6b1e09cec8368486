"""Outbound mail: an outbox table written in the caller's transaction, sent by a worker job.

A mail is accepted once its row is committed; delivery failures only postpone it (with a
capped back-off), so no accepted mail is ever lost while SMTP is down.
"""

from __future__ import annotations

import logging
import re
import signal
import smtplib
import ssl
import threading
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import ForeignKey, Index, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column

from core.commit import after_commit_point
from core.db import PublicBase, utcnow
from core.extensions import db
from core.jobs import job
from core.tenancy import current_tenant

log = logging.getLogger("vivrau.mail")
MAX_BACKOFF = timedelta(hours=1)
BATCH = 100


class OutboxMail(PublicBase):
    """A mail waiting to be sent (status `pending`) or sent (`sent`)."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("ix_mail_outbox_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    to_addr: Mapped[str] = mapped_column(String(320))
    #: Where the recipient's "Reply" goes (a visitor writing to an advertiser); never the From,
    #: which stays the platform's own address so that the mail passes the domain's DMARC policy.
    reply_to: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    sent_at: Mapped[datetime | None]


#: One plain address (no display name, no list): what a header may safely carry.
_ADDRESS = re.compile(r"^[^@\s,;<>\"()]+@[^@\s,;<>\"()]+\.[^@\s,;<>\"()]+$")


def valid_address(address: str) -> bool:
    """One plain e-mail address that cannot smuggle a header or a second recipient."""
    return len(address) <= 320 and _ADDRESS.match(address) is not None


def queue_mail(
    to: str,
    subject: str,
    body_text: str,
    body_html: str | None = None,
    *,
    reply_to: str | None = None,
) -> OutboxMail:
    """Add a mail to the outbox in the current transaction; it leaves once that commits."""
    if "@" not in to or any(c in to for c in "\r\n,;<>"):
        raise ValueError(f"invalid recipient address {to!r}")
    if reply_to is not None and not valid_address(reply_to):
        raise ValueError(f"invalid reply-to address {reply_to!r}")
    if "\n" in subject or "\r" in subject:
        raise ValueError("a mail subject cannot contain line breaks")
    tenant = current_tenant()
    domain = current_app.config["BASE_DOMAIN"]
    mail = OutboxMail(
        tenant_id=tenant.id if tenant else None,
        message_id=make_msgid(domain=domain),
        to_addr=to,
        reply_to=reply_to,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
    )
    db.session.add(mail)
    db.session.flush()
    after_commit_point(nudge_outbox, "nudge_outbox")
    return mail


class SmtpSettings:
    """`smtp://user:password@host:port?starttls=1` or `smtps://…` parsed once."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {url!r}")
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true")

    def connect(self, timeout: float = 10) -> smtplib.SMTP:
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(
                self.host, self.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=timeout)
            if self.starttls:
                client.starttls(context=ssl.create_default_context())
        if self.user:
            client.login(self.user, self.password or "")
        return client


def _message(mail: OutboxMail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to_addr
    if mail.reply_to:
        msg["Reply-To"] = mail.reply_to
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = mail.created_at
    msg.set_content(mail.body_text)
    if mail.body_html:
        msg.add_alternative(mail.body_html, subtype="html")
    return msg


def deliver_pending(limit: int = BATCH) -> tuple[int, int]:
    """Send the mails that are due; returns (sent, postponed). Safe to run on many workers."""
    now = utcnow()
    mails = (
        db.session.execute(
            select(OutboxMail)
            .where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    if not mails:
        db.session.rollback()
        return 0, 0
    settings = SmtpSettings(current_app.config["SMTP_URL"])
    sender = current_app.config["MAIL_FROM"]
    sent = postponed = 0

    def postpone(mail: OutboxMail, exc: Exception) -> None:
        mail.attempts += 1
        mail.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        mail.next_attempt_at = now + min(timedelta(seconds=30 * 2**mail.attempts), MAX_BACKOFF)

    try:
        client = settings.connect()
    except (OSError, smtplib.SMTPException) as exc:
        for mail in mails:
            postpone(mail, exc)
        db.session.commit()
        log.warning("SMTP unreachable, %d mails postponed: %s", len(mails), exc)
        return 0, len(mails)
    with client:
        for mail in mails:
            try:
                client.send_message(_message(mail, sender))
            except smtplib.SMTPRecipientsRefused as exc:
                # The server refused the address for good: keep the mail, stop retrying.
                postpone(mail, exc)
                mail.status = "failed"
                postponed += 1
            except (OSError, smtplib.SMTPException) as exc:
                postpone(mail, exc)
                postponed += 1
            else:
                mail.status, mail.sent_at, mail.last_error = "sent", utcnow(), None
                mail.attempts += 1
                sent += 1
    db.session.commit()
    if postponed:
        log.warning("mail delivery postponed for %d mails", postponed)
    return sent, postponed


def nudge_outbox() -> None:
    """Ask a worker to send now what was just committed (after a request's or job's commit
    point, when it queued mail); while Redis is away, the cron's minute sweep sends it."""
    deliver_outbox.try_enqueue(tenant=None)


@job()
def deliver_outbox() -> int:
    """Worker job: drain the due part of the outbox in batches."""
    total = 0
    while True:
        sent, postponed = deliver_pending()
        total += sent
        if sent + postponed < BATCH:
            return total


cli = AppGroup("mail", help="The outbound mail outbox.")


@cli.command("send")
def send_command():
    """Send the mails that are due now."""
    click.echo(f"{deliver_outbox()} mail(s) sent")


@cli.command("status")
def status_command():
    """Count the outbox's mails by status."""
    rows = db.session.execute(
        select(OutboxMail.status, db.func.count()).group_by(OutboxMail.status)
    ).all()
    for status, count in rows:
        click.echo(f"{status}: {count}")


@cli.command("catch")
@click.option("--web-port", default=8025, show_default=True, help="Port of the page to read them.")
def catch_command(web_port: int):
    """Demo: receive every mail on SMTP_URL's local port and show them on a page (Ctrl-C stops)."""
    settings = SmtpSettings(current_app.config["SMTP_URL"])
    if settings.host not in ("127.0.0.1", "localhost", "::1") or settings.implicit_tls:
        raise click.ClickException(
            f"the mail catcher only listens on this machine: SMTP_URL must be "
            f"smtp://127.0.0.1:<port>, not {current_app.config['SMTP_URL']!r}"
        )
    folder = Path(current_app.config["VAR_DIR"]) / "demo-mail"
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line per connection
    from core.mailcatcher import MailCatcher  # noqa: PLC0415 - the demo's command alone needs it

    try:
        catcher = MailCatcher(folder, settings.port, web_port).start()
    except OSError as exc:
        raise click.ClickException(f"the mail catcher cannot listen: {exc}") from exc
    click.echo(f"Mail catcher: SMTP on 127.0.0.1:{settings.port}, mails in {folder}")
    click.echo(f"Read them on {catcher.viewer_url}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        catcher.stop()
