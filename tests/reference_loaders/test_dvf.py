"""The DVF loader (Etalab's geolocated property sales), on a small file in the real format."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from core.extensions import db
from ingest.reference.loaders.dvf import load_dvf
from ingest.reference.loaders.files import LoadError
from tests.reference_loaders.helpers import expected_cell, write_csv

DVF_HEADER = (
    "id_mutation,date_mutation,numero_disposition,nature_mutation,valeur_fonciere,"
    "adresse_numero,adresse_suffixe,adresse_nom_voie,adresse_code_voie,code_postal,"
    "code_commune,nom_commune,code_departement,ancien_code_commune,ancien_nom_commune,"
    "id_parcelle,ancien_id_parcelle,numero_volume,lot1_numero,lot1_surface_carrez,lot2_numero,"
    "lot2_surface_carrez,lot3_numero,lot3_surface_carrez,lot4_numero,lot4_surface_carrez,"
    "lot5_numero,lot5_surface_carrez,nombre_lots,code_type_local,type_local,"
    "surface_reelle_bati,nombre_pieces_principales,code_nature_culture,nature_culture,"
    "code_nature_culture_speciale,nature_culture_speciale,surface_terrain,longitude,latitude"
).split(",")
AURILLAC = (2.4446, 44.9264)
PARIS = (2.3488, 48.8534)


def dvf_row(mutation, nature, price, type_local, surface, point, commune, **extra):
    row = dict.fromkeys(DVF_HEADER, "")
    row.update(
        id_mutation=mutation,
        date_mutation="2023-03-15",
        numero_disposition="000001",
        nature_mutation=nature,
        valeur_fonciere=price,
        code_commune=commune,
        code_departement=commune[:2],
        id_parcelle=f"{commune}000AB0012",
        type_local=type_local,
        surface_reelle_bati=surface,
        longitude=point[0] if point else "",
        latitude=point[1] if point else "",
        nombre_lots="0",
    )
    row.update(extra)
    return [row[c] for c in DVF_HEADER]


def dvf_rows():
    house = ("Maison", "100", AURILLAC, "15014")
    return [
        # line 2-5: one house on two land uses, a garage and land: one sale
        dvf_row("2023-1", "Vente", "185000.0", *house, nature_culture="sols"),
        dvf_row("2023-1", "Vente", "185000.0", *house, nature_culture="jardins"),
        dvf_row("2023-1", "Vente", "185000.0", "Dépendance", "", AURILLAC, "15014"),
        dvf_row("2023-1", "Vente", "185000.0", "", "", AURILLAC, "15014"),
        # line 6: a flat
        dvf_row(
            "2023-2",
            "Vente",
            "312000.5",
            "Appartement",
            "52.5",
            PARIS,
            "75104",
            date_mutation="2023-06-01",
            lot1_numero="12",
        ),
        # line 7-8: two flats sold together: the price cannot be split
        dvf_row("2023-3", "Vente", "400000", "Appartement", "40", PARIS, "75104", lot1_numero="3"),
        dvf_row("2023-3", "Vente", "400000", "Appartement", "45", PARIS, "75104", lot1_numero="4"),
        # line 9: an exchange
        dvf_row("2023-4", "Echange", "90000", "Maison", "80", AURILLAC, "15014"),
        # line 10: a house without coordinates
        dvf_row("2023-5", "Vente", "120000", "Maison", "90", None, "15014"),
        # line 11-12: a shop and a flat sold together
        dvf_row(
            "2023-6",
            "Vente",
            "500000",
            "Local industriel. commercial ou assimilé",
            "60",
            PARIS,
            "75104",
        ),
        dvf_row("2023-6", "Vente", "500000", "Appartement", "30", PARIS, "75104"),
        # line 13: a garage alone; line 14: off-plan; line 15: a house without surface
        dvf_row("2023-7", "Vente", "15000", "Dépendance", "", PARIS, "75104"),
        dvf_row(
            "2023-8",
            "Vente en l'état futur d'achèvement",
            "250000",
            "Appartement",
            "50",
            PARIS,
            "75104",
        ),
        dvf_row("2023-9", "Vente", "99000", "Maison", "", AURILLAC, "15014"),
    ]


def sales():
    return [
        dict(row._mapping)
        for row in db.session.execute(
            text(
                "SELECT source_id, sold_on, property_type, price_eur, built_area_m2, cell_id, "
                "ST_X(geom) AS lon, ST_Y(geom) AS lat FROM property_sales "
                "WHERE source = 'dvf' ORDER BY source_id"
            )
        )
    ]


def test_dvf_keeps_single_house_and_flat_sales(session, tmp_path):
    path = write_csv(tmp_path / "dvf.csv.gz", DVF_HEADER, dvf_rows(), delimiter=",")

    report = load_dvf(path)

    assert (report.source, report.read, report.loaded, report.skipped) == ("dvf", 14, 2, 1)
    assert report.problems == [(10, "longitude/latitude missing or not numbers: '', ''")]
    assert report.counts == {
        "house": 1,
        "flat": 1,
        "multi_local": 1,
        "with_commercial_local": 1,
        "not_vente_rows": 2,
        "no_surface_rows": 1,
    }
    assert report.by_type == {
        "Maison": 5,
        "Appartement": 5,
        "Dépendance": 2,
        "(none)": 1,
        "Local industriel. commercial ou assimilé": 1,
    }
    assert sales() == [
        {
            "source_id": "2023-1",
            "sold_on": date(2023, 3, 15),
            "property_type": "house",
            "price_eur": Decimal("185000.00"),
            "built_area_m2": 100.0,
            "cell_id": expected_cell(*AURILLAC, 4326, 3035),
            "lon": pytest.approx(AURILLAC[0]),
            "lat": pytest.approx(AURILLAC[1]),
        },
        {
            "source_id": "2023-2",
            "sold_on": date(2023, 6, 1),
            "property_type": "flat",
            "price_eur": Decimal("312000.50"),
            "built_area_m2": 52.5,
            "cell_id": expected_cell(*PARIS, 4326, 3035),
            "lon": pytest.approx(PARIS[0]),
            "lat": pytest.approx(PARIS[1]),
        },
    ]

    assert load_dvf(path).loaded == 2
    assert [s["source_id"] for s in sales()] == ["2023-1", "2023-2"]


def test_dvf_missing_columns_are_refused(session, tmp_path):
    header = [c for c in DVF_HEADER if c not in ("longitude", "latitude")]
    path = write_csv(tmp_path / "dvf.csv", header, [], delimiter=",")

    with pytest.raises(LoadError, match=r"^missing columns longitude, latitude in dvf\.csv; "):
        load_dvf(path)
    assert sales() == []
