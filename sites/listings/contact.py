"""Writing to a listing's advertiser: the form's checks (spam included), the mail, the lead."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert

from core.extensions import db
from core.mail import queue_mail, valid_address
from core.tenancy import TenantRef
from ingest.listings.models import Listing
from sites.leads.models import Lead, LeadEvent

MAX_MESSAGE = 5000
MAX_NAME = 100
#: A person asking about a house rarely needs more; a spammer's message is its links.
MAX_LINKS = 2
#: A form older than this is stale (a tab left open overnight): shown again with a fresh one.
MAX_AGE_SECONDS = 24 * 3600
_LINK = re.compile(r"https?://|www\.|\[url|<a\s", re.IGNORECASE)
_PHONE = re.compile(r"^[+0-9 ().-]{6,30}$")
#: The trap field: hidden from people (and from assistive technology), filled by robots.
HONEYPOT = "website"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="listing-contact")


def form_token(listing_id: int, shown_at: float | None = None) -> str:
    """The signed moment the form was shown, for this listing (copied to another: refused)."""
    return _serializer().dumps([listing_id, int(shown_at if shown_at is not None else time.time())])


def _seconds_since_shown(token: str, listing_id: int) -> float | None:
    try:
        signed_for, shown_at = _serializer().loads(token)
    except (BadSignature, TypeError, ValueError):
        return None
    if signed_for != listing_id:
        return None
    return time.time() - shown_at


@dataclass
class ContactForm:
    """What the person typed, and what is wrong with it (field → French-first message)."""

    name: str = ""
    email: str = ""
    phone: str = ""
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    #: A refusal of the whole form (robot, stale page), not of one field.
    refusal: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors and self.refusal is None


def read_form(data, listing: Listing) -> ContactForm:
    """Check a posted contact form: fields first, then the signs of a robot."""
    form = ContactForm(
        name=(data.get("name") or "").strip(),
        email=(data.get("email") or "").strip(),
        phone=(data.get("phone") or "").strip(),
        message=(data.get("message") or "").replace("\r\n", "\n").strip(),
    )
    if not form.name:
        form.errors["name"] = _("Give your name, so that the advertiser knows whom to answer.")
    elif len(form.name) > MAX_NAME or any(c in form.name for c in "\r\n<>"):
        form.errors["name"] = _("Your name: at most %(num)s characters, on one line.", num=MAX_NAME)
    if not valid_address(form.email):
        form.errors["email"] = _(
            "Give an e-mail address where the advertiser can answer you, such as "
            "prenom.nom@exemple.fr."
        )
    if form.phone and not _PHONE.match(form.phone):
        form.errors["phone"] = _(
            "A phone number holds digits, spaces, dots, dashes and an optional +, such as "
            "06 12 34 56 78."
        )
    links = len(_LINK.findall(form.message))
    if not form.message:
        form.errors["message"] = _("Write your message to the advertiser: it is empty.")
    elif len(form.message) > MAX_MESSAGE:
        form.errors["message"] = _(
            "Your message is %(size)s characters long: at most %(num)s, please shorten it.",
            size=len(form.message),
            num=MAX_MESSAGE,
        )
    elif links > MAX_LINKS:
        form.errors["message"] = _(
            "Your message holds %(links)s links: at most %(num)s are accepted (messages full of "
            "links are how advertisers get spam). Remove some and send it again.",
            links=links,
            num=MAX_LINKS,
        )
    if (data.get(HONEYPOT) or "").strip():
        form.refusal = _(
            "Your message was not sent: a field meant to stay empty was filled, as robots do. "
            "If you are a person, reload the page and write again."
        )
        return form
    elapsed = _seconds_since_shown(data.get("shown") or "", listing.id)
    if elapsed is None:
        form.refusal = _("This form does not belong to this listing's page: reload the page.")
    elif elapsed < current_app.config["CONTACT_MIN_SECONDS"]:
        form.refusal = _(
            "Your message came %(seconds)s seconds after the page opened: too fast for a person "
            "to write it. Check it and send it again.",
            seconds=max(0, int(elapsed)),
        )
    elif elapsed > MAX_AGE_SECONDS:
        form.refusal = _("This page was opened too long ago: check your message and send it again.")
    return form


def send(listing: Listing, form: ContactForm, territory: TenantRef, page_url: str) -> None:
    """Queue the mail to the advertiser (in the request's transaction: it leaves on commit).
    French: the advertiser is a French business or body, whatever the writer's language."""
    with force_locale("fr"):
        subject = _("About your listing “%(title)s”", title=listing.title[:150])
        lines = [
            _(
                "%(name)s wrote to you about your listing on %(site)s:",
                name=form.name,
                site=territory.name,
            ),  # fmt: skip
            page_url,
            "",
            form.message,
            "",
            "—",
            _("Reply to: %(email)s", email=form.email),
        ]
        if form.phone:
            lines.append(_("Phone: %(phone)s", phone=form.phone))
        lines += [
            "",
            _(
                "This message was sent through the form of the listing's page. The site does not "
                "keep it: your mail program's Reply answers the person directly, at the address "
                "above."
            ),
        ]
    # The person's address goes in Reply-To, never in From: a From on their domain sent by our
    # servers would fail their DMARC policy and land in the advertiser's spam.
    queue_mail(
        listing.contact_email,
        subject.replace("\n", " "),
        "\n".join(lines),
        reply_to=form.email,
    )


def record_lead(account_id: int, listing: Listing) -> None:
    """A signed-in person with a confirmed address who writes about a listing is a prospect of
    its commune: one event `contact`, naming the listing (never the message). Their identity
    reaches the territory only under the lead rules (their consent, sites.leads.consent)."""
    lead_id = db.session.execute(
        pg_insert(Lead)
        .values(
            account_id=account_id,
            commune_insee=listing.commune_insee,
            stage="prospect",
            prospect_at=func.now(),
        )
        .on_conflict_do_update(
            index_elements=[Lead.account_id, Lead.commune_insee],
            set_={
                "stage": "prospect",
                "last_seen_at": func.now(),
                "prospect_at": func.coalesce(Lead.prospect_at, func.now()),
            },
        )
        .returning(Lead.id)
    ).scalar_one()
    db.session.add(
        LeadEvent(
            lead_id=lead_id,
            kind="contact",
            cells=[listing.cell_id] if listing.cell_id else [],
            criteria={
                "listing": {
                    "kind": listing.kind,
                    "external_id": listing.external_id,
                    "title": listing.title,
                }
            },
        )
    )
