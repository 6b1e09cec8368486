"""The listings a registered visitor saved on a territory's site (its own schema)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from core.auth.personal_data import holds_people
from core.db import TenantBase


class Favourite(TenantBase):
    """A listing a registered visitor saved ("my place" for a property)."""

    __tablename__ = "favourites"
    __table_args__ = (
        Index("uq_favourites_account_listing", "account_id", "listing_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(index=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    #: The radius (km) of "my place": opportunities shown around the property.
    radius_km: Mapped[int] = mapped_column(default=10, server_default="10")
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


holds_people(Favourite, "account_id", on_erase="delete")
