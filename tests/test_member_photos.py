"""A grouping's site (umbrella, communauté) shows its members' listing photos, served through its
own host (its pages load images from their own host only); never a non-member's photo."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from core.tenancy import tenant_scope
from ingest.listings.models import Listing
from ingest.listings.photos import add_photo, file_name
from ingest.listings.service import save
from sites.demo_photos import draw
from tenants.provisioning import add_member
from tests.test_listing_photos import HOUSE


@pytest.fixture
def grouping(app, cantal, make_tenant, redis_conn):
    town, other = make_tenant(name="Saint-Flour"), make_tenant(name="Murat")
    umbrella = make_tenant(kind="umbrella", name="Petites villes")
    with app.app_context():
        add_member(umbrella.slug, town.slug)
    names = {}
    for ref in (town, other):
        with app.app_context(), tenant_scope(ref):
            assert save("real_estate", [HOUSE], source="api").errors == {}
            listing = db.session.execute(select(Listing)).scalar_one()
            photo = add_photo(listing, draw("real_estate", ref.slug), source="demo")
            names[ref.slug] = file_name(photo.digest, "thumb")
            db.session.commit()
    return umbrella, town, other, names


def test_a_members_photos_are_shown_through_the_groupings_site(grouping, visitor):
    umbrella, town, _other, names = grouping
    site = visitor(umbrella)
    own = f"/photos/membres/{town.slug}/{names[town.slug]}"
    listed = site.get("/annonces/real_estate").get_data(as_text=True)
    assert f'src="{own}"' in listed
    home = site.get("/").get_data(as_text=True)
    assert f'src="{own}"' in home  # the latest listings' cards
    page = site.get(f"/annonces/membres/{town.slug}/real_estate/IMMO-1").get_data(as_text=True)
    assert re.search(rf'src="/photos/membres/{town.slug}/[0-9a-f]+-large\.jpg"', page)
    served = site.get(own)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.get_data() == visitor(town).get(f"/photos/{names[town.slug]}").get_data()


def test_no_photo_of_a_non_member_or_of_another_territory(grouping, visitor):
    umbrella, town, other, names = grouping
    site = visitor(umbrella)
    # Murat is no member of the umbrella: its photo is not served there.
    assert site.get(f"/photos/membres/{other.slug}/{names[other.slug]}").status_code == 404
    # A member's address with another territory's photo name: not the member's photo.
    assert site.get(f"/photos/membres/{town.slug}/{names[other.slug]}").status_code == 404
    assert site.get(f"/photos/membres/{town.slug}/../../etc").status_code == 404
    assert site.get(f"/photos/membres/{town.slug}/nope.jpg").status_code == 404
