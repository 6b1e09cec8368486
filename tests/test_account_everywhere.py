"""One account, everywhere: the account page lists the person's favourites and saved searches
of every territory, grouped by territory with links to each site — and nobody else's."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update

from core.auth.models import Account
from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.models import Listing
from ingest.listings.service import save
from sites.listings.favourites import add_favourite
from sites.search.saved import save_search
from tests.support import host


def house(external_id: str, title: str) -> dict:
    return {
        "external_id": external_id,
        "title": title,
        "commune_insee": "15187",
        "transaction": "sale",
        "property_type": "house",
        "price": Decimal("149000"),
        "living_area_m2": Decimal("110"),
        "rooms": 5,
        "latitude": 45.0337,
        "longitude": 3.0928,
        "status": "published",
    }


def account_id(app, email: str) -> int:
    with app.app_context():
        found = db.session.execute(select(Account.id).where(Account.email == email)).scalar_one()
        db.session.rollback()
        return found


def keep(app, ref, person: int, favourites=(), searches=()) -> None:
    with app.app_context(), tenant_scope(ref):
        for external_id, title in favourites:
            assert save("real_estate", [house(external_id, title)], source="api").errors == {}
            listing = db.session.execute(
                select(Listing.id).where(Listing.external_id == external_id)
            ).scalar_one()
            add_favourite(person, listing)
        for name in searches:
            criteria = [{"id": "gp_km", "threshold": 10, "importance": "must"}]
            save_search(person, name, {"criteria": criteria})
        db.session.commit()


def test_the_account_shows_what_is_kept_on_every_territory(
    app, cantal, make_tenant, make_account, visitor
):
    murat = make_tenant(name="Murat")
    flour = make_tenant(name="Saint-Flour")
    make_tenant(name="Aurillac")  # nothing kept there: not listed
    me = make_account()
    other = account_id(app, make_account())
    mine = account_id(app, me)
    keep(app, murat, mine, favourites=[("M1", "Maison sur le rocher")])
    keep(app, flour, mine, favourites=[("F1", "Ferme de la Planèze")], searches=["Près du médecin"])
    keep(app, flour, other, favourites=[("F2", "Maison d'un autre")], searches=["Autre recherche"])

    page = visitor(murat)
    page.login(me)
    body = page.get("/compte/").get_data(as_text=True)
    assert "Mes favoris et mes recherches, sur tous les territoires" in body
    # This site first, said so; then the others by name, with links to their own host.
    assert body.index(">Murat</a> <span") < body.index(">Saint-Flour</a>")
    assert "(ce site)" in body and "Aurillac" not in body
    assert '<a href="/annonces/real_estate/M1">Maison sur le rocher</a>' in body
    flour_site = f"http://{host(flour)}"
    assert f'<a href="{flour_site}/annonces/real_estate/F1">Ferme de la Planèze</a>' in body
    assert f'href="{flour_site}/recherche?' in body and "Près du médecin" in body
    assert "Médecin généraliste le plus proche" in body  # the criterion in words
    assert f'href="{flour_site}/">Saint-Flour</a>' in body
    assert "1 favori" in body and "1 recherche enregistrée" in body
    # Nobody else's rows, though they are in the same schema.
    assert "Maison d'un autre" not in body and "Autre recherche" not in body

    # Unpublished: still listed (the person saved it), without a link.
    with app.app_context(), tenant_scope(flour):
        db.session.execute(
            update(Listing).where(Listing.external_id == "F1").values(status="draft")
        )
        db.session.commit()
    body = page.get("/compte/").get_data(as_text=True)
    assert "Ferme de la Planèze — plus disponible" in body
    assert "/annonces/real_estate/F1" not in body

    # The same from the other territory's site: there, Saint-Flour comes first.
    there = visitor(flour)
    there.login(me)
    body = there.get("/compte/").get_data(as_text=True)
    assert body.index(">Saint-Flour</a>") < body.index(">Murat</a>")
    assert f'<a href="http://{host(murat)}/annonces/real_estate/M1">' in body


def test_an_account_with_nothing_kept_is_told_so(make_tenant, make_account, visitor):
    town = make_tenant()
    page = visitor(town)
    page.login(make_account())
    body = page.get("/compte/").get_data(as_text=True)
    assert "Vous n’avez encore ni favori ni recherche enregistrée" in body
