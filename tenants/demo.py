"""The demo territories of `make demo`: real Cantal communes, their EPCI and a PVD umbrella."""

from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.tenancy import tenant_scope
from sites.models import Page
from tenants import provisioning as prov
from tenants.registry import get_by_slug

#: slug, name, kind, official code, extra hosts, home page text
DEMO_TENANTS = [
    (
        "saint_flour",
        "Saint-Flour",
        "commune",
        "15187",
        ("demo.{base}",),
        "Ville haute sur son éperon de basalte, Saint-Flour allie patrimoine, commerces et "
        "services d'une sous-préfecture au calme de la Margeride.",
    ),
    (
        "saint_flour_communaute",
        "Saint-Flour Communauté",
        "epci",
        "200066660",
        (),
        "Cinquante-trois communes entre Margeride, Planèze et gorges de la Truyère.",
    ),
    (
        "pvd_cantal",
        "Petites villes de demain du Cantal",
        "umbrella",
        None,
        (),
        "Les petites villes du Cantal lauréates du programme Petites villes de demain.",
    ),
    (
        "mauriac",
        "Mauriac",
        "commune",
        "15120",
        (),
        "Cité de basalte aux portes des monts du Cantal et de la vallée de la Dordogne.",
    ),
    (
        "murat",
        "Murat",
        "commune",
        "15138",
        (),
        "Au pied du rocher de Bonnevie, la porte d'entrée du Parc des volcans d'Auvergne.",
    ),
    (
        "riom_es_montagnes",
        "Riom-ès-Montagnes",
        "commune",
        "15162",
        (),
        "Capitale de la gentiane, au cœur du plateau du Cézallier.",
    ),
]
DEMO_MEMBERS = [
    ("pvd_cantal", "mauriac"),
    ("pvd_cantal", "murat"),
    ("pvd_cantal", "riom_es_montagnes"),
]


def seed_demo(base_domain: str, echo=print) -> None:
    """Create what is missing; running it again changes nothing."""
    for slug, name, kind, code, hosts, text in DEMO_TENANTS:
        tenant = get_by_slug(db.session, slug)
        if tenant is None:
            spec = prov.TenantSpec(
                slug, name, kind, code, tuple(h.format(base=base_domain) for h in hosts)
            )
            tenant = prov.create_tenant(spec)
            echo(f"created {slug}")
        ref = tenant.ref()
        db.session.rollback()
        with tenant_scope(ref):
            if db.session.execute(select(Page).where(Page.slug == "accueil")).scalar() is None:
                db.session.add(Page(slug="accueil", title=f"Bienvenue à {name}", body=text))
            db.session.commit()
    for umbrella, member in DEMO_MEMBERS:
        u, m = get_by_slug(db.session, umbrella), get_by_slug(db.session, member)
        current = prov.current_membership(u, m)
        if current is None:
            prov.add_member(umbrella, member)
            echo(f"{member} joined {umbrella}")
    db.session.commit()
