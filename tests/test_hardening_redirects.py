"""Where a form sends the visitor after it (`next`): a path of this site, or the default page —
never another site, never a 500."""

from __future__ import annotations

import pytest

from core.redirects import local_path

HOSTILE = [
    "/\t/evil.com",  # what `next=/%09/evil.com` decodes to: browsers drop the tab
    "/%09/evil.com",
    "//evil.com",
    "///evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "https://evil.com",
    "http:/evil.com",
    "javascript:alert(1)",
    " //evil.com",
    "\t//evil.com",
    "/compte/\r\nSet-Cookie: pwned=1",
    "/\nevil",
    "/a\x00b",
    "/a\x85b",
    "evil.com",
    "",
    "/" + "a" * 5000,
]
#: The ones the pages are tried with (each login costs a password hash).
REPORTED = [HOSTILE[i] for i in (0, 1, 2, 4, 6, 11)]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_targets_go_to_the_default(value):
    assert local_path(value, "/home") == "/home"


def test_same_site_paths_are_kept():
    search = "/recherche?c=gp_km&gp_km=10#carte"
    assert local_path(search, "/") == search
    assert local_path("/annonces/job/é", "/") == "/annonces/job/é"
    assert local_path(None, "/") == "/"


@pytest.mark.parametrize("value", REPORTED)
def test_login_never_leaves_the_site(make_tenant, make_account, visitor, value):
    town = make_tenant()
    site = visitor(town)
    response = site.post(
        "/compte/connexion",
        {"email": make_account(), "password": "correct horse battery"},
        csrf_from="/compte/connexion",
        query_string={"next": value},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/compte/"


def test_login_follows_a_same_site_next(make_tenant, make_account, visitor):
    site = visitor(make_tenant())
    response = site.post(
        "/compte/connexion?next=/recherche%3Fc%3Dgp_km",
        {"email": make_account(), "password": "correct horse battery"},
        csrf_from="/compte/connexion",
    )
    assert response.headers["Location"] == "/recherche?c=gp_km"


@pytest.mark.parametrize("value", REPORTED)
def test_language_switch_never_leaves_the_site(make_tenant, visitor, value):
    site = visitor(make_tenant())
    response = site.post("/langue", {"lang": "en", "next": value}, csrf_from="/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
