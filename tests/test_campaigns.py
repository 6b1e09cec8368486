"""Campaign links: a territory creates its campaigns in the console; their short and tagged
links, on its site and on the portal, count visits and what those visits led to
(registrations, searches, new contacts and prospects), anonymously, copied into its schema;
an unknown code counts as no campaign, never an error."""

from __future__ import annotations

import re
from datetime import date

from redis import Redis
from sqlalchemy import select

from core.extensions import db
from core.tenancy import tenant_scope
from sites.audience import copy_counters, paris_day
from sites.campaigns.forms import code_from
from sites.campaigns.models import Campaign, CampaignDay
from tests.lead_helpers import GP_10, cell
from tests.support import PASSWORD, TEST_REDIS_URL
from tests.test_audience import forget_counters  # noqa: F401 - a fixture
from tests.test_leads import SMALL, click, land, registered, search  # noqa: F401 - fixtures
from tests.test_portal import PORTAL, national, text_of  # noqa: F401 - a fixture

OUTSIDE = {"Referer": "https://www.facebook.com/"}


def counted(ref) -> dict[str, int]:
    """The territory's campaign counters of today, as Redis holds them."""
    with Redis.from_url(TEST_REDIS_URL) as redis:
        raw = redis.hgetall(f"vivrau:audience:{ref.id}:{paris_day().isoformat()}")
    return {k.decode(): int(v) for k, v in raw.items() if k.startswith(b"campaign:")}


def campaigns_of(app, ref) -> dict[str, Campaign]:
    with app.app_context(), tenant_scope(ref):
        rows = {c.code: c for c in db.session.scalars(select(Campaign))}
        db.session.expunge_all()
        db.session.rollback()
    return rows


def days_of(app, ref) -> list[tuple]:
    with app.app_context(), tenant_scope(ref):
        rows = db.session.execute(
            select(
                CampaignDay.campaign_id,
                CampaignDay.visits,
                CampaignDay.registrations,
                CampaignDay.searches,
                CampaignDay.contacts,
                CampaignDay.prospects,
            )
        ).all()
        db.session.rollback()
    return [tuple(r) for r in rows]


def create(console, **fields):
    form = {"channel": "poster", "starts_on": "2027-05-01", **fields}
    return console.post("/console/campagnes/nouvelle", form)


def test_codes_are_made_from_names():
    assert code_from("Été 2027 — affiches à Saint-Flour !") == "ete-2027-affiches-a-saint-flour"
    assert code_from("   ") == ""


def test_an_editor_creates_campaigns_and_bad_forms_change_nothing(
    app, make_tenant, make_account, visitor
):
    town = make_tenant(name="Riom-ès-Montagnes")
    console = visitor(town)
    console.login(make_account(roles=[("editor", town)]))
    empty = console.get("/console/campagnes/")
    assert empty.status_code == 200 and "Aucune campagne pour l’instant" in text_of(empty)
    made = create(console, name="Affiches été 2027")
    assert made.status_code == 302 and made.location.startswith("/console/campagnes/#campagne-")
    (campaign,) = campaigns_of(app, town).values()
    assert (campaign.code, campaign.channel) == ("affiches-ete-2027", "poster")
    assert campaign.starts_on == date(2027, 5, 1) and campaign.ends_on is None
    page = console.get("/console/campagnes/").get_data(as_text=True)
    assert f"/c/{town.slug}/affiches-ete-2027" in page  # its portal link
    assert "/c/affiches-ete-2027" in page and "utm_campaign=affiches-ete-2027" in page
    # Bad inputs: each said where, nothing created.
    for fields, said in (
        ({"name": "Presse", "code": "Été 2027!"}, "lettres minuscules, chiffres et tirets"),
        ({"name": "Presse", "starts_on": "2027-06-01", "ends_on": "2027-05-01"}, "après"),
        ({"name": "Autre", "code": "affiches-ete-2027"}, "déjà ce code"),
        ({"name": "", "code": "presse"}, "requis"),
        ({"name": "Presse", "channel": "pigeon"}, "choix valide"),
        ({"name": "Presse", "starts_on": "demain"}, "date"),
        ({"name": "É"}, "Saisissez un code"),
    ):
        refused = create(console, **fields)
        assert refused.status_code == 400, fields
        assert said in text_of(refused), (fields, text_of(refused)[-1200:])
    assert list(campaigns_of(app, town)) == ["affiches-ete-2027"]
    # Edited: name, channel and dates change, the code stays.
    edited = console.post(
        f"/console/campagnes/{campaign.id}",
        {"name": "Affiches de l’été", "channel": "press", "starts_on": "2027-05-02",
         "ends_on": "2027-08-31", "code": "autre-chose"},
    )  # fmt: skip
    assert edited.status_code == 302
    again = campaigns_of(app, town)["affiches-ete-2027"]
    assert (again.name, again.channel, again.ends_on) == ("Affiches de l’été", "press",
                                                         date(2027, 8, 31))  # fmt: skip
    # A visitor without a role sees none of it; another territory's campaign is not found.
    other = make_tenant()
    outsider = visitor(other)
    outsider.login(make_account(roles=[("admin", other)]))
    assert outsider.get(f"/console/campagnes/{campaign.id}").status_code == 404
    nobody = visitor(town)
    nobody.login(make_account())
    assert nobody.get("/console/campagnes/").status_code == 403


def test_a_campaigns_links_count_visits_and_what_they_led_to(
    app,
    make_tenant,
    make_account,
    visitor,
    land,  # noqa: F811 - the fixtures imported above
    registered,  # noqa: F811
    smtp,
    forget_counters,  # noqa: F811
):
    town = make_tenant(name="Murat")
    land(town, SMALL)
    console = visitor(town)
    console.login(make_account(roles=[("admin", town)]))
    create(console, name="Radio", code="radio-2027", channel="radio")
    campaign_id = campaigns_of(app, town)["radio-2027"].id
    field = f"campaign:{campaign_id}:"

    # The short link: counted, then the home page.
    person = visitor(town)
    arrived = person.get("/c/radio-2027", headers=OUTSIDE)
    assert arrived.status_code == 302 and arrived.location == "/"
    assert counted(town) == {field + "visits": 1}
    # What the visit then does counts for the campaign.
    search(person)
    assert counted(town)[field + "searches"] == 1
    email = "radio-listener@example.org"
    registered.append(email)
    fields = {"display_name": "Zoé", "password": PASSWORD, "confirm": PASSWORD, "email": email}
    assert person.post("/compte/inscription", fields).status_code == 200
    assert counted(town)[field + "registrations"] == 1
    link = smtp.deliver().link_to(email, "/compte/verifier/")
    person.get(link.split(person.host, 1)[1])
    person.login(email)
    search(person)  # a precise search: a contact, the first time only
    search(person, {**GP_10, "budget": 100000})
    assert counted(town)[field + "contacts"] == 1
    click(person, cell(0))
    assert counted(town)[field + "prospects"] == 1
    # A tagged link (any case), from inside the site: no new visit, the campaign kept.
    tagged = visitor(town)
    assert (
        tagged.get("/?utm_source=radio&utm_campaign=RADIO-2027", headers=OUTSIDE).status_code == 200
    )
    assert counted(town)[field + "visits"] == 2
    inside = {"Referer": f"http://{tagged.host}/annonces/"}
    tagged.get("/?utm_campaign=radio-2027", headers=inside)
    assert counted(town)[field + "visits"] == 2
    # Unknown codes: the same pages, nothing counted for any campaign.
    before = counted(town)
    stranger = visitor(town)
    unknown = stranger.get("/c/nothing-like-it", headers=OUTSIDE)
    assert unknown.status_code == 302 and unknown.location == "/"
    assert stranger.get("/c/%C3%A9t%C3%A9%20!", headers=OUTSIDE).status_code == 302
    assert stranger.get("/?utm_campaign=<script>", headers=OUTSIDE).status_code == 200
    search(stranger)
    assert counted(town) == before
    # Copied into the territory's schema, idempotently; the console shows the figures.
    with app.app_context():
        copy_counters()
        copy_counters()
    assert days_of(app, town) == [(campaign_id, 2, 1, 3, 1, 1)]
    table = console.get("/console/campagnes/").get_data(as_text=True)
    row = re.search(r"<tr>\s*<th scope=\"row\"><a[^>]*>Radio</a>.*?</tr>", table, re.S).group(0)
    assert [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', row)] == [2, 1, 3, 1, 1]
    # A campaign with figures stays; one without can be deleted.
    page = console.get(f"/console/campagnes/{campaign_id}")
    assert "Cette campagne a des chiffres" in text_of(page)
    refused = console.post(
        f"/console/campagnes/{campaign_id}/supprimer", csrf_from=f"/console/campagnes/{campaign_id}"
    )
    assert refused.status_code == 302 and "radio-2027" in campaigns_of(app, town)
    create(console, name="Erreur de saisie", code="oups")
    oups = campaigns_of(app, town)["oups"].id
    gone = console.post(
        f"/console/campagnes/{oups}/supprimer", csrf_from=f"/console/campagnes/{oups}"
    )
    assert gone.status_code == 302 and "oups" not in campaigns_of(app, town)


def test_a_partners_campaign_link_on_the_portal_counts_for_it_only(
    app,
    national,  # noqa: F811 - the fixture imported above
    make_tenant,
    make_account,
    visitor,
    forget_counters,  # noqa: F811
):
    flour = make_tenant(kind="commune", code="15187", name="Saint-Flour")
    aurillac = make_tenant(kind="commune", code="15014", name="Aurillac")
    for ref in (flour, aurillac):
        console = visitor(ref)
        console.login(make_account(roles=[("admin", ref)]))
        create(console, name="Salon", code="salon", channel="event")
    flour_id = campaigns_of(app, flour)["salon"].id
    person = visitor(PORTAL)
    arrived = person.get(f"/c/{flour.slug}/SALON", headers=OUTSIDE)
    assert arrived.status_code == 302 and arrived.location == f"/territoires/{flour.slug}"
    assert person.get("/recherche?c=gp_km&gp_km=10&gp_km_i=must").status_code == 200
    assert counted(flour) == {f"campaign:{flour_id}:visits": 1, f"campaign:{flour_id}:searches": 1}
    assert counted(aurillac) == {}
    # The partner page's tagged link too; unknown codes and territories count as none.
    tagged = visitor(PORTAL)
    page = tagged.get(f"/territoires/{flour.slug}?utm_campaign=salon", headers=OUTSIDE)
    assert page.status_code == 200
    assert counted(flour)[f"campaign:{flour_id}:visits"] == 2
    for path in (f"/c/{flour.slug}/inconnue", "/c/nowhere/salon", f"/c/{flour.slug}/%20"):
        assert visitor(PORTAL).get(path, headers=OUTSIDE).status_code == 302, path
    assert visitor(PORTAL).get(f"/territoires/{flour.slug}?utm_campaign=x").status_code == 200
    assert counted(flour)[f"campaign:{flour_id}:visits"] == 2 and counted(aurillac) == {}
