"""Writing to a listing's advertiser: the mail reaches them, bad forms and robots send nothing,
the rate limit, and the lead event of a signed-in person."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.mail import OutboxMail
from core.tenancy import tenant_scope
from ingest.listings.models import Listing
from sites.leads.models import Lead, LeadEvent
from sites.listings import contact
from tests.listing_page_helpers import HOME, publish

ADVERTISER = "agence@immo-flour.example.org"
PHONE = "04 71 60 00 00"


@pytest.fixture
def listings(app, cantal, make_tenant):
    """Saint-Flour with a house that can be written to, one with a phone only, one with
    nothing; and Murat, another territory with its own house."""
    here, other = make_tenant(name="Saint-Flour"), make_tenant(name="Murat", code="15138")
    publish(
        app,
        here,
        "real_estate",
        [
            HOME | {"external_id": "MAIL", "contact_email": ADVERTISER},
            HOME | {"external_id": "PHONE", "contact_email": None, "contact_phone": PHONE},
            HOME | {"external_id": "NONE", "contact_email": None},
        ],
    )
    # Ids are per territory: Murat's fourth listing has an id Saint-Flour does not hold.
    publish(app, other, "real_estate", [HOME | {"external_id": f"M{i}", "commune_insee": "15138"}
                                        for i in range(1, 4)])  # fmt: skip
    publish(app, other, "real_estate", [HOME | {"external_id": "ELSEWHERE",
                                                "commune_insee": "15138"}])  # fmt: skip
    ids = {}
    for ref in (here, other):
        with app.app_context(), tenant_scope(ref):
            ids |= dict(db.session.execute(select(Listing.external_id, Listing.id)).all())
    return here, other, ids


def sent_to(app, address: str) -> int:
    with app.app_context():
        return db.session.execute(
            select(func.count()).select_from(OutboxMail).where(OutboxMail.to_addr == address)
        ).scalar()


def form(app, listing_id: int, seconds_ago: float = 60, **over) -> dict:
    """A form as a person sends it, the page shown `seconds_ago`."""
    with app.app_context():
        token = contact.form_token(listing_id, time.time() - seconds_ago)
    return {
        "name": "Camille Martin",
        "email": "camille@example.org",
        "phone": "06 12 34 56 78",
        "message": "Bonjour, la maison est-elle toujours disponible ? Je passe en juin.",
        "shown": token,
        contact.HONEYPOT: "",
    } | over


def page_of(external_id: str) -> str:
    return f"/annonces/real_estate/{external_id}"


def test_a_message_reaches_the_advertiser_by_mail(app, listings, visitor, smtp):
    here, _other, ids = listings
    site = visitor(here)
    page = site.get(page_of("MAIL")).get_data(as_text=True)
    assert 'name="shown"' in page and f'name="{contact.HONEYPOT}"' in page
    assert "Contacter l’annonceur" in page or "Contacter l'annonceur" in page
    response = site.post(
        f"/annonces/contacter/{ids['MAIL']}", form(app, ids["MAIL"]), csrf_from=page_of("MAIL")
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/annonces/real_estate/MAIL#contact-title")
    shown = site.get(response.headers["Location"]).get_data(as_text=True)
    assert "Votre message a été envoyé" in shown
    inbox = smtp.deliver()
    [mail] = inbox.mails_to(ADVERTISER)
    # The advertiser's Reply goes to the person; the From stays the platform's (DMARC).
    assert mail["Reply-To"] == "camille@example.org"
    assert "camille" not in mail["From"] and "example.org" not in mail["From"]
    assert "Répondre" in mail.get_body(("plain",)).get_content()
    [body] = inbox.bodies_to(ADVERTISER)
    assert "Camille Martin" in body and "camille@example.org" in body and "06 12 34 56 78" in body
    assert "toujours disponible" in body
    assert "/annonces/real_estate/MAIL" in body
    assert "Répondre à" in body or "Répondez" in body


@pytest.mark.parametrize(
    ("over", "field", "words"),
    [
        ({"message": "   "}, "message", "est vide"),
        ({"message": "Voir http://a.example http://b.example www.c.example"}, "message", "liens"),
        ({"email": "pas-une-adresse"}, "email", "adresse e-mail"),
        # Would pass as a display name or a second address in a Reply-To header.
        ({"email": 'camille"<x@evil.example>"@example.org'}, "email", "adresse e-mail"),
        ({"email": "camille@example.org\nBcc: x@evil.example"}, "email", "adresse e-mail"),
        ({"name": ""}, "name", "votre nom"),
        ({"phone": "appelez-moi"}, "phone", "téléphone"),
    ],
)
def test_a_bad_form_says_what_is_wrong_and_sends_nothing(
    app, listings, visitor, over, field, words
):
    here, _other, ids = listings
    site = visitor(here)
    response = site.post(
        f"/annonces/contacter/{ids['MAIL']}",
        form(app, ids["MAIL"], **over),
        csrf_from=page_of("MAIL"),
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="c-{field}-error"' in page and words.lower() in page.lower()
    assert "Votre message n’a pas été envoyé" in page or "Votre message n'a pas été envoyé" in page
    if field == "message" and over["message"].strip():
        assert "http://a.example" in page  # what they wrote is kept, to be corrected
    assert sent_to(app, ADVERTISER) == 0


def test_robots_are_turned_away(app, listings, visitor):
    here, _other, ids = listings
    site = visitor(here)
    url = f"/annonces/contacter/{ids['MAIL']}"
    too_fast = site.post(url, form(app, ids["MAIL"], seconds_ago=0), csrf_from=page_of("MAIL"))
    assert too_fast.status_code == 400 and "trop vite" in too_fast.get_data(as_text=True)
    trapped = site.post(url, form(app, ids["MAIL"], **{contact.HONEYPOT: "http://spam.example"}),
                        csrf_from=page_of("MAIL"))  # fmt: skip
    assert trapped.status_code == 400 and "robots" in trapped.get_data(as_text=True)
    # A form signed for another listing, or not signed at all.
    copied = site.post(url, form(app, ids["PHONE"]), csrf_from=page_of("MAIL"))
    assert copied.status_code == 400 and "recharge" in copied.get_data(as_text=True).lower()
    forged = site.post(url, form(app, ids["MAIL"], shown="1.2.3"), csrf_from=page_of("MAIL"))
    assert forged.status_code == 400
    no_csrf = site.client.post(url, base_url=site.base, data=form(app, ids["MAIL"]))
    assert no_csrf.status_code == 400
    assert sent_to(app, ADVERTISER) == 0


def test_a_forged_or_foreign_listing_id_is_a_404(app, listings, visitor):
    here, _other, ids = listings
    site = visitor(here)
    assert ids["ELSEWHERE"] not in (ids["MAIL"], ids["PHONE"], ids["NONE"])
    for listing_id in (ids["ELSEWHERE"], 987654321):
        response = site.post(
            f"/annonces/contacter/{listing_id}",
            form(app, listing_id),
            csrf_from=page_of("MAIL"),
        )
        assert response.status_code == 404, listing_id
    assert sent_to(app, ADVERTISER) == 0


def test_an_advertiser_without_an_address_offers_the_phone(app, listings, visitor):
    here, _other, ids = listings
    site = visitor(here)
    page = site.get(page_of("PHONE")).get_data(as_text=True)
    assert "contact-form" not in page and "appelez le numéro" in page and "tel:0471600000" in page
    nothing = site.get(page_of("NONE")).get_data(as_text=True)
    assert "contact-form" not in nothing and "aucun moyen" in nothing
    response = site.post(
        f"/annonces/contacter/{ids['PHONE']}", form(app, ids["PHONE"]), csrf_from=page_of("PHONE")
    )
    assert response.status_code == 400
    refused = response.get_data(as_text=True)
    assert "ne peut pas être contacté" in refused and "04 71 60 00 00" in refused


def test_messages_are_rate_limited_per_client(app, listings, visitor):
    here, _other, ids = listings
    site = visitor(here)
    url = f"/annonces/contacter/{ids['MAIL']}"
    token = site.csrf(page_of("MAIL"))
    statuses = [
        site.post(url, form(app, ids["MAIL"], csrf_token=token)).status_code for _ in range(6)
    ]
    assert statuses == [303] * 5 + [429]
    assert sent_to(app, ADVERTISER) == 5
    # Another client address is not held back by the first one.
    other = site.client.post(url, base_url=site.base, data=form(app, ids["MAIL"], csrf_token=token),
                             environ_base={"REMOTE_ADDR": "192.0.2.7"})  # fmt: skip
    assert other.status_code == 303


def test_a_signed_in_person_becomes_a_prospect_of_the_listings_commune(
    app, listings, visitor, make_account
):
    here, _other, ids = listings
    email = make_account()
    site = visitor(here)
    site.login(email)
    response = site.post(
        f"/annonces/contacter/{ids['MAIL']}", form(app, ids["MAIL"]), csrf_from=page_of("MAIL")
    )
    assert response.status_code == 303
    anonymous = visitor(here)
    anonymous.post(
        f"/annonces/contacter/{ids['MAIL']}",
        form(app, ids["MAIL"], email="other@example.org"),
        csrf_from=page_of("MAIL"),
    )
    with app.app_context(), tenant_scope(here):
        [lead] = db.session.execute(select(Lead)).scalars()
        assert (lead.commune_insee, lead.stage) == ("15187", "prospect")
        [event] = db.session.execute(select(LeadEvent)).scalars()
        assert event.kind == "contact"
        assert event.criteria == {"listing": {"kind": "real_estate", "external_id": "MAIL",
                                              "title": HOME["title"]}}  # fmt: skip
        assert "disponible" not in str(event.criteria)  # the message is the advertiser's only
    assert sent_to(app, ADVERTISER) == 2
