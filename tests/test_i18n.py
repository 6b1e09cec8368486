"""French and English: the catalogue covers every string, pages render in both, money per locale."""

from __future__ import annotations

import subprocess
import sys

import pytest
from babel.messages.pofile import read_po
from flask_babel import force_locale

from core.config import ROOT
from core.i18n import money


def test_french_catalogue_covers_every_extracted_string(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        extracted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    with (ROOT / "translations/fr/LC_MESSAGES/messages.po").open("rb") as fh:
        catalogue = read_po(fh)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string) and not m.fuzzy
    }
    assert extracted, "extraction found nothing"
    assert sorted(extracted - translated) == []
    problems = [(m.id, e) for m in catalogue for e in m.check(catalogue)]
    assert problems == []


PAGES = [
    "/",
    "/confidentialite",
    "/compte/connexion",
    "/compte/inscription",
    "/compte/mot-de-passe-oublie",
]
CONSOLE_PAGES = [
    "/console/",
    "/console/equipe",
    "/console/apparence",
    "/console/textes",
    "/compte/",
]
#: English words that give an untranslated template away on a French page.
ENGLISH_TELLS = [
    "Log in",
    "Register",
    "Skip to content",
    "Password",
    "Team",
    "Save",
    "E-mail address",
    "powered by",
    "Privacy",
    "Home page",
    "Look of the site",
]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_page_renders_in_both_languages(make_tenant, make_account, visitor, lang):
    umbrella = make_tenant(kind="umbrella")
    site = visitor(umbrella)
    site.client.set_cookie("lang", lang, domain=site.host)
    bodies = [site.get(p).get_data(as_text=True) for p in PAGES]
    site.login(make_account(roles=[("admin", umbrella)], locale=lang))
    bodies += [site.get(p).get_data(as_text=True) for p in CONSOLE_PAGES + ["/console/membres"]]
    for body in bodies:
        assert f'<html lang="{lang}">' in body
        if lang == "fr":
            leaks = [w for w in ENGLISH_TELLS if f">{w}<" in body or f'"{w}"' in body]
            assert leaks == []
    if lang == "en":
        assert any("Log out" in b for b in bodies)
    else:
        assert any("Se déconnecter" in b for b in bodies)


def test_money_is_formatted_per_locale(app):
    with app.test_request_context():
        with force_locale("fr"):
            assert money(110000).replace("\u202f", " ").replace("\xa0", " ") == "1 100,00 €"
        with force_locale("en"):
            assert money(110000) == "€1,100.00"
        with force_locale("fr"):
            assert money(5).replace("\xa0", " ") == "0,05 €"


def test_locale_order_person_cookie_header_territory(app, make_tenant, make_account, visitor):
    english_town = make_tenant(locale="en")
    site = visitor(english_town)
    assert '<html lang="en">' in site.get("/").get_data(as_text=True)  # territory default
    site.client.set_cookie("lang", "fr", domain=site.host)
    assert '<html lang="fr">' in site.get("/").get_data(as_text=True)  # cookie beats it
    site.login(make_account(locale="en"))
    assert '<html lang="en">' in site.get("/").get_data(as_text=True)  # the person's setting
    french_town = make_tenant()
    header = visitor(french_town)
    page = header.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(True)
    assert '<html lang="en">' in page  # the browser's language comes before the territory's
    page = header.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(True)
    assert '<html lang="fr">' in page  # a language we lack: the territory's default
    header.client.set_cookie("lang", "fr", domain=header.host)
    page = header.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(True)
    assert '<html lang="fr">' in page  # an explicit choice beats the browser
