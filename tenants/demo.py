"""The demo territories of `make demo`: real Cantal communes, their EPCI and a PVD umbrella."""

from __future__ import annotations

from datetime import timedelta

from core.auth import service as auth
from core.auth.models import Account, Role
from core.auth.passwords import hash_password
from core.db import utcnow
from core.extensions import db
from core.registry import get_by_slug
from tenants import grants
from tenants import provisioning as prov
from tenants.entitlements import Feature, today

#: slug, name, kind, official code, extra hosts
DEMO_TENANTS = [
    (
        "saint_flour",
        "Saint-Flour",
        "commune",
        "15187",
        ("demo.{base}",),
    ),
    (
        "saint_flour_communaute",
        "Saint-Flour Communauté",
        "epci",
        "200066660",
        (),
    ),
    (
        "pvd_cantal",
        "Petites villes de demain du Cantal",
        "umbrella",
        None,
        (),
    ),
    (
        "mauriac",
        "Mauriac",
        "commune",
        "15120",
        (),
    ),
    (
        "murat",
        "Murat",
        "commune",
        "15138",
        (),
    ),
    (
        "riom_es_montagnes",
        "Riom-ès-Montagnes",
        "commune",
        "15162",
        (),
    ),
]
#: Territories dressed in another theme than the default one, so the demo shows both.
DEMO_THEMES = {"murat": "bocage"}
#: Territories without a contract in the demo, set up under a manual grant (the others have the
#: contracts of `flask billing seed-demo`): slug, features, days, reason.
DEMO_GRANTS = [
    (
        "saint_flour_communaute",
        (Feature.base, Feature.site),
        180,
        "Contrat en cours de signature : mise en place du site (démonstration)",
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
    for slug, name, kind, code, hosts in DEMO_TENANTS:
        if get_by_slug(db.session, slug) is None:
            spec = prov.TenantSpec(
                slug,
                name,
                kind,
                code,
                tuple(h.format(base=base_domain) for h in hosts),
                theme=DEMO_THEMES.get(slug, "default"),
            )
            prov.create_tenant(spec)
            echo(f"created {slug}")
    for umbrella, member in DEMO_MEMBERS:
        u, m = get_by_slug(db.session, umbrella), get_by_slug(db.session, member)
        if prov.current_membership(u, m) is None:
            # From the first of the month, when the umbrella's demo contract starts.
            prov.add_member(umbrella, member, today().replace(day=1))
            echo(f"{member} joined {umbrella}")
    for slug, features, days, reason in DEMO_GRANTS:
        tenant = get_by_slug(db.session, slug)
        if not grants.grants_of(tenant.id):
            grants.grant(tenant, features, today(), today() + timedelta(days=days), reason)
            echo(f"granted {', '.join(features)} to {slug} for {days} days")
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
