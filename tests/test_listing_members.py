"""A communauté's or umbrella's site shows its members' listings, each with its town named;
never a listing of a territory that is not its member."""

from __future__ import annotations

from core.extensions import db
from tenants.provisioning import add_member
from tests.listing_page_helpers import HOME, publish


def test_an_umbrella_and_a_communaute_show_their_members_listings(
    app, cantal, make_tenant, visitor
):
    town = make_tenant(name="Saint-Flour")  # 15187, in the communauté 200066660
    outsider = make_tenant(name="Mauriac", code="15120")
    umbrella = make_tenant(kind="umbrella", name="PVD du Cantal")
    communaute = make_tenant(kind="epci", name="Saint-Flour Communauté")
    with app.app_context():
        add_member(umbrella.slug, town.slug)
        db.session.commit()
    publish(
        app, town, "real_estate", [HOME | {"external_id": "TOWN-1", "title": "Maison du bourg"}]
    )
    publish(app, town, "job", [{"external_id": "JOB-1", "title": "Infirmier", "rome_code": "J1506",
                                "contract_type": "CDI"}])  # fmt: skip
    publish(app, outsider, "real_estate", [HOME | {"external_id": "OUT-1", "commune_insee": "15120",
                                                   "title": "Maison de Mauriac"}])  # fmt: skip
    for wider in (umbrella, communaute):
        site = visitor(wider)
        listed = site.get("/annonces/real_estate").get_data(as_text=True)
        assert "Maison du bourg" in listed and "Annonces des communes membres" in listed
        assert "annonce de Saint-Flour" in listed and "Maison de Mauriac" not in listed
        everything = site.get("/annonces/").get_data(as_text=True)
        assert "Maison du bourg" in everything and "Infirmier" in everything
        url = f"/annonces/membres/{town.slug}/real_estate/TOWN-1"
        assert url in listed
        page = site.get(url)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "Maison du bourg" in text and "publiée par Saint-Flour" in text
        assert "contact-form" not in text  # written to on the town's own site
        assert "saint-flour" in text.lower() and "/annonces/real_estate/TOWN-1" in text
        # Not a member, or not a published listing: the same 404.
        assert site.get(f"/annonces/membres/{outsider.slug}/real_estate/OUT-1").status_code == 404
        assert site.get(f"/annonces/membres/{town.slug}/real_estate/NOPE").status_code == 404
        assert site.get(f"/annonces/membres/{town.slug}/boat/TOWN-1").status_code == 404
    # A commune's own site shows only its own listings.
    alone = visitor(outsider).get("/annonces/real_estate").get_data(as_text=True)
    assert "Maison du bourg" not in alone and "communes membres" not in alone
