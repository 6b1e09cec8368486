"""Both metadatas, complete (every model module imported), and the filters autogenerate uses."""

from sqlalchemy import MetaData

import billing.models  # noqa: F401
import core.auth.models  # noqa: F401
import core.mail  # noqa: F401
import core.registry  # noqa: F401
import ingest.listings.models  # noqa: F401
import ingest.reference.models  # noqa: F401
import ingest.reference.territory  # noqa: F401
import sites.audience  # noqa: F401
import sites.leads.models  # noqa: F401
import sites.listings.models  # noqa: F401
import sites.models  # noqa: F401
import sites.project.models  # noqa: F401
import sites.search.models  # noqa: F401
import tenants.entitlements  # noqa: F401
from core.db import PublicBase, TenantBase

public_metadata = PublicBase.metadata
tenant_metadata = TenantBase.metadata

#: PostGIS's own tables live in public too; they are the extension's, not ours.
POSTGIS_TABLES = {"spatial_ref_sys", "geography_columns", "geometry_columns"}
#: Tables visible through a territory's `search_path` that are not the territory's.
NOT_TENANT = set(public_metadata.tables) | POSTGIS_TABLES | {"alembic_version"}


def public_include_name(name, type_, parent_names):
    return type_ != "table" or name not in POSTGIS_TABLES | {"alembic_version"}


def tenant_include_name(name, type_, parent_names):
    return type_ != "table" or name not in NOT_TENANT


def unqualified(metadata: MetaData) -> MetaData:
    """The tenant tables without their placeholder schema, as they are inside a territory schema."""
    out = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(out, schema=None)
    return out
