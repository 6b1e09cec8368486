"""Partners' listings on the portal: those published in and around a square (5 km of its
centre), read from the schemas of the partners whose land lies that near — a bounded fan-out
over them, never a view that unions schemas — nearest first, each linking to its page on the
partner's own site."""

from __future__ import annotations

from core.auth.service import link_on
from core.fanout import read_many
from core.tenancy import TenantRef
from ingest.listings.labels import kind_title
from ingest.reference.communes import names_of
from sites.listings import nearby
from sites.listings.public import summary, visible
from sites.portal.partners import Partner, partners
from sites.search.national import NationalMatrix, code_of_id
from tenants.entitlements import Feature, entitled

#: How far around a square's centre listings are shown (km), as on the territories' maps.
NEAR_KM = 5
#: Listings shown for one square, all partners together.
SHOWN = 10


def partners_near(matrix: NationalMatrix, cell_id: str, km: int = NEAR_KM) -> list[Partner]:
    """The partners holding at least one square within `km` (in squares) of this one."""
    import numpy as np  # noqa: PLC0415 - heavy: imported when a search runs

    code = code_of_id(cell_id)
    north, east = divmod(code, 10_000)
    rows = np.arange(north - km, north + km + 1, dtype="int64") * 10_000
    starts = np.searchsorted(matrix.ids, rows + east - km)
    ends = np.searchsorted(matrix.ids, rows + east + km, side="right")
    block = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends, strict=True)])
    return [p for p in partners(matrix) if np.isin(p.cells, block).any()]


def _read(cell_id: str, lon: float, lat: float):
    def read(_ref: TenantRef) -> list:
        _total, rows = nearby.around(lon, lat, NEAR_KM, visible(), first_cell=cell_id, limit=SHOWN)
        return [
            {
                "kind": x.kind,
                "external_id": x.external_id,
                "title": x.title,
                "commune_insee": x.commune_insee,
                "in_cell": x.cell_id == cell_id,
                "distance_km": round(km, 1) if km is not None else None,
                "summary": summary(x),
            }
            for x, km, _x, _y in rows
        ]

    return read


def listings_around(matrix: NationalMatrix, cell_id: str) -> list[dict]:
    """The partners' listings in the square first, then the nearest, at most SHOWN."""
    near = partners_near(matrix, cell_id)
    if not near:
        return []
    lon, lat = nearby.cell_centre(cell_id)
    reads = read_many([p.territory for p in near], _read(cell_id, lon, lat))
    found = []
    for partner in near:
        ref = partner.territory
        has_site = entitled(ref, Feature.site)
        for item in reads[ref.id].value or ():
            values = {"kind": item["kind"], "external_id": item["external_id"]}
            found.append(
                {
                    **item,
                    "kind_title": kind_title(item["kind"]),
                    "territory": ref.name,
                    "url": link_on(partner.host, "listings_site.listing", **values)
                    if has_site
                    else None,
                }
            )
    # A listing of a commune within several partners (its communauté…) is shown once.
    unique = {(i["commune_insee"], i["kind"], i["external_id"], i["title"]): i for i in found}
    ordered = sorted(
        unique.values(), key=lambda i: (not i["in_cell"], i["distance_km"] or 0.0, i["title"])
    )[:SHOWN]
    names = names_of(i["commune_insee"] for i in ordered)
    for item in ordered:
        item["commune"] = names.get(item["commune_insee"], item["commune_insee"])
    return ordered
