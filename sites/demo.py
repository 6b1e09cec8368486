"""The demo's home page texts (`flask site seed-demo`, after `flask tenants seed-demo`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core.extensions import db
from core.registry import get_by_slug
from core.tenancy import tenant_scope
from sites.campaigns.models import Campaign
from sites.models import HomeText

#: slug → (title, introduction) of each demo territory's French home page. A commune's title is
#: left to the page ("Vivre à Murat"); a grouping's name does not follow "Vivre à".
DEMO_TEXTS = {
    "saint_flour": (
        "",
        "Ville haute sur son éperon de basalte, Saint-Flour allie patrimoine, commerces et "
        "services d'une sous-préfecture au calme de la Margeride.",
    ),
    "saint_flour_communaute": (
        "Vivre dans le pays de Saint-Flour",
        "Cinquante-trois communes entre Margeride, Planèze et gorges de la Truyère.",
    ),
    "pvd_cantal": (
        "Vivre dans une petite ville du Cantal",
        "Les petites villes du Cantal lauréates du programme Petites villes de demain.",
    ),
    "mauriac": (
        "",
        "Cité de basalte aux portes des monts du Cantal et de la vallée de la Dordogne.",
    ),
    "murat": (
        "",
        "Au pied du rocher de Bonnevie, la porte d'entrée du Parc des volcans d'Auvergne.",
    ),
    "riom_es_montagnes": ("", "Capitale de la gentiane, au cœur du plateau du Cézallier."),
}


def demo_territories(slugs=None):
    """Each demo territory (or each of `slugs`) that exists, bound in turn: its slug."""
    for slug in slugs or DEMO_TEXTS:
        tenant = get_by_slug(db.session, slug)
        if tenant is None:
            continue
        ref = tenant.ref()
        db.session.rollback()
        with tenant_scope(ref):
            yield slug


def seed_home_texts(echo=print) -> int:
    """Give each demo territory that exists a French home text, unless it has one; running it
    again changes nothing. Returns how many were written."""
    written = 0
    for slug in demo_territories():
        if db.session.get(HomeText, "fr") is None:
            title, introduction = DEMO_TEXTS[slug]
            db.session.add(HomeText(locale="fr", title=title, introduction=introduction))
            written += 1
            echo(f"home text of {slug}")
        db.session.commit()
    return written


#: The demo's campaigns, without figures: links ready to try (their visits count for real).
DEMO_CAMPAIGNS = {
    "saint_flour": (
        ("metro-lyon-2027", "Affiches dans le métro de Lyon", "poster", date(2027, 3, 1)),
        ("salon-vivre-rural", "Salon « Vivre et travailler à la campagne »", "event",
         date(2027, 4, 10)),
    ),
}  # fmt: skip


def seed_campaigns(echo=print) -> int:
    """Give the demo territories their campaigns, unless they have them (idempotent)."""
    written = 0
    for slug in demo_territories(DEMO_CAMPAIGNS):
        for code, name, channel, starts_on in DEMO_CAMPAIGNS[slug]:
            if db.session.scalar(select(Campaign.id).where(Campaign.code == code)) is None:
                db.session.add(Campaign(code=code, name=name, channel=channel, starts_on=starts_on))
                written += 1
                echo(f"campaign {code} of {slug}")
        db.session.commit()
    return written
