"""The demo's listings: per territory and kind, a normed CSV file drawn from its real communes."""

from __future__ import annotations

import csv
import io
import random
from datetime import date

from sqlalchemy import func, select

from core.extensions import db
from core.tenancy import TenantRef
from ingest.listings.declaration import KINDS, fields_of
from ingest.listings.demo.rows import MAKERS, Place
from ingest.reference.models import Commune
from ingest.reference.territory import territory_communes
from tenants.demo import DEMO_TENANTS

#: Listings per kind and territory (the issue asks for at least 50).
PER_KIND = 60
#: How much a commune's population weighs in where a kind's listings go: jobs gather in towns,
#: leisure is everywhere (population ** exponent).
CONCENTRATION = {"real_estate": 0.6, "job": 0.8, "business": 0.7, "leisure": 0.35, "poi": 0.6}
#: Kilometres around the bourg where a hamlet's listings lie; a town's spread further.
SPREAD_KM = (0.4, 1.5)


def demo_slugs() -> list[str]:
    """The demo territories that hold listings of their own (an umbrella shows its members')."""
    return [slug for slug, _name, kind, _code, _hosts in DEMO_TENANTS if kind != "umbrella"]


def _communes(tenant: TenantRef) -> list[tuple]:
    codes = territory_communes(tenant)
    return db.session.execute(
        select(
            Commune.insee,
            Commune.name,
            Commune.population,
            func.ST_AsBinary(Commune.geom),
        )
        .where(Commune.insee.in_(codes))
        .order_by(Commune.insee)
    ).all()


def _places(rng: random.Random, communes: list[tuple], kind: str, count: int) -> list[Place]:
    """`count` points inside the communes, more of them in the more populated ones, most near
    each commune's bourg (a point on its surface)."""
    import shapely  # noqa: PLC0415 - heavy (numpy): a demo command's work

    weights = [max(c.population or 50, 50) ** CONCENTRATION[kind] for c in communes]
    shapes = {c.insee: shapely.from_wkb(bytes(c[3])) for c in communes}
    places = []
    for commune in rng.choices(communes, weights=weights, k=count):
        shape = shapes[commune.insee]
        bourg = shape.point_on_surface()
        size = Place(commune.insee, commune.name, commune.population or 0, 0, 0).size
        km = SPREAD_KM[0] + (SPREAD_KM[1] - SPREAD_KM[0]) * size
        lon, lat = bourg.x, bourg.y
        for _ in range(20):
            x = bourg.x + rng.gauss(0, km / 78)  # ≈ km per degree of longitude at 45° N
            y = bourg.y + rng.gauss(0, km / 111)
            if shape.contains(shapely.Point(x, y)):
                lon, lat = x, y
                break
        places.append(Place(commune.insee, commune.name, commune.population or 0, lon, lat))
    return places


def demo_rows(
    tenant: TenantRef, kind: str, per_kind: int = PER_KIND, seed: int = 0, today: date | None = None
) -> list[dict[str, str]]:
    """The territory's demo listings of a kind: the same for a given seed, territory and day
    (dates count from today)."""
    if kind not in KINDS:
        raise ValueError(f"unknown listing kind {kind!r}")
    communes = _communes(tenant)
    if not communes:
        return []
    rng = random.Random(f"{seed}:{tenant.slug}:{kind}")  # noqa: S311 - reproducible, not secret
    make, today = MAKERS[kind], today or date.today()
    return [
        make(rng, n, place, today)
        for n, place in enumerate(_places(rng, communes, kind, per_kind), start=1)
    ]


def normed_csv(kind: str, rows: list[dict[str, str]]) -> bytes:
    """A normed file of the kind, as a French spreadsheet saves it (UTF-8, semicolons)."""
    out = io.StringIO()
    names = [f.name for f in fields_of(kind)]
    writer = csv.DictWriter(out, fieldnames=names, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
