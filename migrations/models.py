"""Imports every model module, so both metadatas are complete wherever they are read."""

import core.mail  # noqa: F401
import sites.models  # noqa: F401
import tenants.registry  # noqa: F401
from core.db import PublicBase, TenantBase

public_metadata = PublicBase.metadata
tenant_metadata = TenantBase.metadata
