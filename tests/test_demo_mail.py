"""Registration in the demo: the local mail catcher keeps the verification mail, its page shows
it with a working link; a new link on demand (rate-limited); what an unverified account may do
is said where it registers (what it cannot do is tested in test_leads: no lead, no sharing)."""

from __future__ import annotations

import re
import smtplib
import urllib.error
import urllib.request
from contextlib import contextmanager
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from core.auth.models import Account
from core.extensions import db
from core.mail import OutboxMail, deliver_outbox
from core.mailcatcher import MailCatcher
from tests.support import PASSWORD, free_port

EMAIL = "nouvelle.venue@example.org"
UNTIL = "Tant que votre adresse n’est pas confirmée"


@contextmanager
def catching(app, directory, email: str):
    """The demo's catcher on free ports, the application's mail sent to it; afterwards the
    outbox and the account of `email` are gone."""
    running = MailCatcher(directory / "demo-mail", free_port(), 0).start()
    previous = app.config["SMTP_URL"], app.config["MAIL_VIEWER_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{running.smtp_port}"
    app.config["MAIL_VIEWER_URL"] = running.viewer_url
    try:
        yield running
    finally:
        app.config["SMTP_URL"], app.config["MAIL_VIEWER_URL"] = previous
        running.stop()
        with app.app_context():
            db.session.execute(OutboxMail.__table__.delete())
            db.session.execute(Account.__table__.delete().where(Account.email == email))
            db.session.commit()


@pytest.fixture
def catcher(app, tmp_path):
    with catching(app, tmp_path, EMAIL) as running:
        yield running


def read(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:  # the catcher, on 127.0.0.1
        return response.read().decode()


def deliver(app) -> None:
    with app.app_context():
        deliver_outbox()


def register(site):
    return site.post(
        "/compte/inscription",
        {"email": EMAIL, "display_name": "Inès", "password": PASSWORD, "confirm": PASSWORD},
    )


def verified(app) -> bool:
    with app.app_context():
        account = db.session.execute(select(Account).where(Account.email == EMAIL)).scalar_one()
        db.session.rollback()
        return account.is_verified


def test_register_read_the_mail_on_the_catchers_page_and_verify(app, make_tenant, visitor, catcher):
    town = make_tenant(name="Murat")
    site = visitor(town)
    form = site.get("/compte/inscription").get_data(as_text=True)
    assert UNTIL in form  # what an unverified account may do, said before registering
    answer = register(site).get_data(as_text=True)
    assert "Consultez votre messagerie" in answer and EMAIL in answer
    assert f'<a href="{catcher.viewer_url}">' in answer and UNTIL in answer
    deliver(app)

    listing = read(catcher.viewer_url)
    assert "Courriels de la démo" in listing and EMAIL in listing
    mail_path = re.search(r'href="(/courriel/[^"]+)"', listing).group(1)
    mail = read(catcher.viewer_url.rstrip("/") + mail_path)
    link = re.search(r'<a href="(http://[^"]+/compte/verifier/[^"]+)">', mail).group(1)
    assert urlsplit(link).hostname == site.host  # back to the site where they registered

    site.login(EMAIL)  # an unverified account may log in, and is told what waits
    waiting = site.get("/compte/").get_data(as_text=True)
    assert "pas encore confirmée" in waiting and "vous ne pouvez pas partager" in waiting
    assert "Me renvoyer le lien" in waiting
    assert not verified(app)
    confirmed = site.get(urlsplit(link).path)
    assert confirmed.status_code == 302 and confirmed.location.endswith("/compte/")
    assert verified(app)
    assert "pas encore confirmée" not in site.get("/compte/").get_data(as_text=True)


def test_a_new_link_on_demand_same_answer_for_anyone_and_rate_limited(
    app, make_tenant, make_account, visitor, catcher
):
    town = make_tenant()
    site = visitor(town)
    register(site)
    deliver(app)
    assert len(list(catcher.folder.glob("*.eml"))) == 1
    bad = site.post("/compte/confirmation/nouveau-lien", {"email": "pas une adresse"})
    assert bad.status_code == 200 and "Confirmer mon adresse" in bad.get_data(as_text=True)
    known = site.post("/compte/confirmation/nouveau-lien", {"email": EMAIL})
    unknown = site.post("/compte/confirmation/nouveau-lien", {"email": "personne@example.org"})
    done = make_account()  # confirmed already: nothing to send
    confirmed = site.post("/compte/confirmation/nouveau-lien", {"email": done})
    assert known.status_code == unknown.status_code == confirmed.status_code == 200
    for response, email in ((known, EMAIL), (unknown, "personne@example.org"), (confirmed, done)):
        assert "Consultez votre messagerie" in response.get_data(as_text=True)
        assert email in response.get_data(as_text=True)
    deliver(app)
    mails = sorted(catcher.folder.glob("*.eml"))
    assert len(mails) == 2  # only the unverified address got a second link
    assert all(EMAIL in m.read_text() for m in mails)
    # Two links: either one confirms (the newest need not cancel the first).
    for _ in range(2):
        assert site.post("/compte/confirmation/nouveau-lien", {"email": EMAIL}).status_code == 200
    limited = site.post("/compte/confirmation/nouveau-lien", {"email": EMAIL})
    assert limited.status_code == 429  # three an hour per address…
    other = site.post("/compte/confirmation/nouveau-lien", {"email": "autre@example.org"})
    assert other.status_code == 200  # …counted per address, not only per client


def test_the_catchers_page_escapes_what_a_mail_holds(catcher):
    message = EmailMessage()
    message["From"], message["To"] = "a@example.org", "b@example.org"
    message["Subject"] = "<script>alert(1)</script>"
    message.set_content('Voir <b>ceci</b> : http://x.vivrau.localhost/p?a=1&b="2"')
    with smtplib.SMTP("127.0.0.1", catcher.smtp_port, timeout=5) as client:
        client.send_message(message)
    listing = read(catcher.viewer_url)
    assert "<script>" not in listing and "&lt;script&gt;" in listing
    page = read(catcher.viewer_url.rstrip("/") + re.search(r'href="(/courriel/[^"]+)"', listing)[1])
    assert "<b>" not in page and "&lt;b&gt;ceci" in page
    assert '<a href="http://x.vivrau.localhost/p?a=1&amp;b=">' in page
    for wrong in ("/courriel/..%2F..%2Fetc%2Fpasswd", "/courriel/x.eml", "/autre"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            read(catcher.viewer_url.rstrip("/") + wrong)
        refused.value.close()  # an HTTPError holds the response: closed, its socket with it
        assert refused.value.code == 404


def test_the_catcher_command_refuses_a_remote_smtp_server(app, runner):
    previous = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = "smtp://mail.example.org:25"
    try:
        result = runner.invoke(args=["mail", "catch"])
    finally:
        app.config["SMTP_URL"] = previous
    assert result.exit_code == 1 and "only listens on this machine" in result.output
