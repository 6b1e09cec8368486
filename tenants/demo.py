"""The demo territories of `make demo`: real Cantal communes, their EPCI and a PVD umbrella."""

from __future__ import annotations

from core.auth import service as auth
from core.auth.models import Account, Role
from core.auth.passwords import hash_password
from core.db import utcnow
from core.extensions import db
from core.tenancy import tenant_scope
from sites.models import HomeText
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


#: Demo people (local demo only): their password is printed by `make demo`.
DEMO_PASSWORD = "demo-vivrau-2026"  # noqa: S105 - a local demo, printed on purpose
DEMO_PEOPLE = [
    ("facturation@demo.vivrau.localhost", "Service facturation", "billing_admin", None),
    ("mairie@saint-flour.demo.vivrau.localhost", "Mairie de Saint-Flour", "admin", "saint_flour"),
    (
        "coordination@pvd-cantal.demo.vivrau.localhost",
        "Coordination PVD",
        "coordinator",
        "pvd_cantal",
    ),
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
            if db.session.get(HomeText, "fr") is None:
                db.session.add(HomeText(locale="fr", title=f"Vivre à {name}", introduction=text))
            db.session.commit()
    for umbrella, member in DEMO_MEMBERS:
        u, m = get_by_slug(db.session, umbrella), get_by_slug(db.session, member)
        if prov.current_membership(u, m) is None:
            prov.add_member(umbrella, member)
            echo(f"{member} joined {umbrella}")
    for email, name, role, slug in DEMO_PEOPLE:
        account = auth.find_account(email)
        if account is None:
            account = Account(
                email=email,
                display_name=name,
                email_verified_at=utcnow(),
                password_hash=hash_password(DEMO_PASSWORD),
            )
            db.session.add(account)
            db.session.flush()
            echo(f"created {email} ({role})")
        tenant = get_by_slug(db.session, slug).ref() if slug else None
        auth.grant(account, Role(role), tenant, None)
    db.session.commit()
