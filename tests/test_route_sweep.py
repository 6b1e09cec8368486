"""Every route of the application with hostile path values, query strings and bodies — huge
integers, NUL, overlong and odd strings, wrong types, garbage forms and JSON — anonymously and
with the roles that open them (a territory's admin, a PVD umbrella's coordinator, a billing
admin), on a territory's host, an umbrella's, the platform's and an unknown one: no 500.
"""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from billing.contracts import create_customer
from core.auth import service
from core.auth.models import Account, Role
from core.auth.passwords import hash_password
from core.config import database_url
from core.db import utcnow
from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.apikeys import create_key
from ingest.listings.models import SCOPES
from sites.listings.models import Favourite
from sites.search.saved import save_search
from tenants.provisioning import TenantSpec, add_member, create_tenant
from tests.listing_page_helpers import published_home
from tests.support import (
    PASSWORD,
    TEST_DATABASE_URL,
    Visitor,
    drop_tenants,
    entitle,
    host,
    unique_slug,
)

PLATFORM = "admin.vivrau.localhost"
UNKNOWN = "nulle-part.vivrau.localhost"
LONG = "x" * 10_000
ODD = quote("é漢🙂'\"<>;--")
#: Hostile values per converter (Werkzeug's own `int` too, should the bounded one be dropped);
#: a rule's arguments all take the n-th value of their kind.
PATH_VALUES = {
    "IntegerConverter": [str(2**31), str(2**63), "-1", "1"],
    "BoundedIntConverter": [str(2**31), str(2**63), "-1", "1"],
    "UnicodeConverter": ["%00", LONG, ODD, "1"],
    "PathConverter": ["a/%00/b", LONG, ODD + "/..%2F..", "1"],
}
#: Every query parameter a view reads (and a few it does not), at once.
NAMES = (
    "page id kind stage grain commune sort scores q preset member listing format customer "
    "children cell c budget adults status source since until price_min price_max area_min "
    "rooms_min rome full_time date_from date_to transaction property_type contract_type "
    "category theme cursor limit per_page radius_km on rate year lang next fmt"
).split()
QUERIES = [
    "?" + "&".join(f"{n}=%00" for n in NAMES[:6]) + "&q=" + LONG,
    "?" + "&".join(f"{n}={2**63}" for n in NAMES),
    "?"
    + "&".join(f"{n}={v}" for n, v in zip(NAMES, ["-1", "1e999", "nan", ODD] * 20, strict=False)),
]
FORM = {
    **dict.fromkeys(NAMES, str(2**31)),
    "name": LONG,
    "email": "pas-une-adresse",
    "password": LONG,
    "title": ODD,
    "external_id": LONG,
    "listing": str(2**63),
    "radius_km": str(2**63),
    "action": "add",
    "confirm": "y",
    "amount": "1e20",
    "file": "not a file",
    # The listing editor's fields (a real listing is swept), past their columns' bounds.
    "price": "1e20",
    "charges": "1e30",
    "living_area_m2": "1e999",
    "rooms": str(2**63),
    "bedrooms": "-1",
    "year_built": str(2**40),
    "latitude": "nan",
    "longitude": "inf",
    "lambert_x": "1e300",
    "published_on": "9999-99-99",
    "expires_on": "0000-01-01",
    "description": LONG,
    "commune_insee": "15187",
    "transaction": "sale",
    "property_type": "house",
}
FORM_NUL = FORM | {"email": "a\x00@example.org", "title": "\x00"}
JSON_BODIES = ['{"a": [[[[[[[[[[', '{"items": [{"kind": "\\u0000", "id": 1e999}]}', "[]"]
#: The routes that end the visitor's session: swept last.
SESSION_ENDERS = {"account.logout", "account.logout_everywhere", "account.delete"}
SKIP_METHODS = {"HEAD", "OPTIONS"}


def _account(app, roles) -> tuple[str, int]:
    email = f"{uuid.uuid4().hex[:10]}@example.org"
    with app.app_context():
        account = Account(
            email=email,
            display_name="Balayeur",
            locale="fr",
            password_hash=hash_password(PASSWORD),
            email_verified_at=utcnow(),
        )
        db.session.add(account)
        db.session.flush()
        for role, ref in roles:
            service.grant(account, role, ref, None)
        db.session.commit()
        return email, account.id


@pytest.fixture(scope="module")
def world(app):
    """A territory with an API key, a published property, its admin (who saved it, and a
    search), a billing admin and a customer; removed at the end. `real` holds the ids that path
    arguments take in their last variant (not the admin's own grant, nor the key: the sweep must
    not revoke what it runs with)."""
    slug, umbrella_slug = unique_slug("sweep"), unique_slug("sweepumb")
    with app.app_context():
        territory = create_tenant(TenantSpec(slug, "Balayage", "commune", "15187"))
        pvd = create_tenant(TenantSpec(umbrella_slug, "PVD balayé", "umbrella", None))
        entitle(territory)
        entitle(pvd)
        ref, umbrella = territory.ref(), pvd.ref()
        add_member(umbrella_slug, slug)
        db.session.commit()
    admin, admin_id = _account(app, [(Role.admin, ref)])
    billing, billing_id = _account(app, [(Role.billing_admin, None)])
    coordinator, coordinator_id = _account(app, [(Role.coordinator, umbrella)])
    with app.app_context():
        with tenant_scope(ref):
            _key, api_key = create_key("sweep", SCOPES)
            listing = published_home()
            favourite = Favourite(account_id=admin_id, listing_id=listing.id)
            db.session.add(favourite)
            search = save_search(admin_id, "Maison", {"criteria": []})
            db.session.flush()
            real = {
                "listing_id": listing.id,
                "favourite_id": favourite.id,
                "search_id": search.id,
                "kind": "real_estate",
                "external_id": "HOME",
                "fmt": "pdf",
                "slug": slug,
            }
            db.session.commit()
        customer = create_customer(
            tenant_id=ref.id,
            legal_name="Balayage",
            siret="21150265300010",
            address_line1="1 place de la Mairie",
            postcode="15100",
            city="Saint-Flour",
            billing_email="compta@example.org",
        )
        real["customer_id"] = customer.id
        db.session.commit()
    yield {
        "ref": ref,
        "umbrella": umbrella,
        "admin": admin,
        "billing": billing,
        "coordinator": coordinator,
        "api_key": api_key,
        "real": real,
    }
    drop_tenants([slug, umbrella_slug])
    engine = create_engine(database_url(TEST_DATABASE_URL), poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM billing_customers WHERE id = :i"), {"i": real["customer_id"]}
        )
        conn.execute(
            text("DELETE FROM accounts WHERE id = ANY(:ids)"),
            {"ids": [admin_id, billing_id, coordinator_id]},
        )
    engine.dispose()


def _fill(rule, index: int, real: dict) -> str:
    """The rule's path with each argument replaced by the index-th hostile value of its kind;
    the last value is a real one where the world has it (so that views reach their forms)."""
    path = rule.rule
    for name, converter in rule._converters.items():
        # A converter of our own is swept as the Werkzeug converter it extends.
        kinds = [c.__name__ for c in type(converter).__mro__ if c.__name__ in PATH_VALUES]
        values = PATH_VALUES[kinds[0]]
        value = values[index % len(values)]
        if index % len(values) == len(values) - 1:
            value = str(real.get(name, value))
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
    return path


def _requests(rule, thorough: bool, real: dict):
    """(method, path, body) to send for one rule: every hostile path value in turn, with a
    hostile query string (GET) or body (the others: a form, JSON, a form with a NUL); one request
    when not `thorough`."""
    methods = sorted(rule.methods - SKIP_METHODS)
    variants = len(PATH_VALUES["UnicodeConverter"]) if rule.arguments else len(QUERIES)
    for method in methods:
        for i in range(variants if thorough else 1):
            if method == "GET":
                yield method, _fill(rule, i, real) + QUERIES[i % len(QUERIES)], None
            else:
                yield method, _fill(rule, i, real) + QUERIES[1 + i % 2], BODIES[i % len(BODIES)]


BODIES = ("form", "json", "form_nul")


class Sweeper:
    def __init__(self, app, host_name: str, api_key: str | None = None):
        self.visitor = Visitor(app, host_name)
        self.api_key = api_key
        self.token = ""
        self.failures: list[str] = []
        self.count = 0

    def login(self, email: str) -> None:
        self.visitor.login(email)
        self.refresh_token()

    def refresh_token(self) -> None:
        self.token = self.visitor.csrf("/compte/connexion")

    def send(self, method: str, path: str, body: str | None, index: int) -> None:
        headers = {"X-CSRFToken": self.token}
        if self.api_key and path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.api_key}"
        kwargs: dict = {"headers": headers, "base_url": self.visitor.base}
        if body in ("form", "form_nul"):
            kwargs["data"] = (FORM if body == "form" else FORM_NUL) | {"csrf_token": self.token}
        elif body == "json":
            kwargs["data"] = JSON_BODIES[index % len(JSON_BODIES)]
            kwargs["content_type"] = "application/json"
        self.count += 1
        try:
            status = self.visitor.client.open(path, method=method, **kwargs).status_code
        except Exception as error:  # noqa: BLE001 - collected, then reported together
            self.failures.append(f"{method} {path[:120]}: {type(error).__name__}: {error}"[:400])
            return
        if status >= 500:
            self.failures.append(f"{method} {path[:120]}: {status}")

    def sweep(self, app, real: dict, thorough: bool = True) -> None:
        rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
        last = [r for r in rules if r.endpoint in SESSION_ENDERS]
        for rule in [r for r in rules if r.endpoint not in SESSION_ENDERS] + last:
            for index, (method, path, body) in enumerate(_requests(rule, thorough, real)):
                self.send(method, path, body, index)


@pytest.mark.parametrize(
    ("who", "where", "thorough"),
    [
        ("anonymous", "territory", True),
        ("admin", "territory", True),
        ("billing", "platform", True),
        ("coordinator", "umbrella", True),
        ("anonymous", "platform", False),
        ("anonymous", "unknown", False),
    ],
)
def test_no_route_answers_500(app, world, redis_conn, who, where, thorough):
    started = time.perf_counter()
    host_name = {
        "territory": host(world["ref"]),
        "umbrella": host(world["umbrella"]),
        "platform": PLATFORM,
        "unknown": UNKNOWN,
    }[where]
    sweeper = Sweeper(app, host_name, world["api_key"] if where == "territory" else None)
    if who != "anonymous":
        sweeper.login(world[who])
    elif where == "territory":
        sweeper.refresh_token()
    sweeper.sweep(app, world["real"], thorough)
    assert sweeper.count > 100
    assert not sweeper.failures, "\n".join(sweeper.failures)
    assert time.perf_counter() - started < 60, "the sweep must stay bounded"
