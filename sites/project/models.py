"""The moving project of a person, in the public schema (one per account, every site reads it):
erased with the account (its foreign key cascades), part of their data export."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from core.auth.personal_data import exported_as
from core.db import PublicBase
from core.extensions import db

HOME = ("buy", "rent", "none")
YES_NO = ("yes", "no")
WHEN = ("3_months", "6_months", "1_year", "later", "unknown")
#: Leisure tastes a person may tick (the listings' leisure families, in broad words).
LEISURE = ("nature", "sport", "culture", "heritage", "food", "family", "none")


class Project(PublicBase):
    """What a person seeks: a home (to buy or rent, and the budget), their household, a job, a
    business to take over, leisure, where they live now and when they plan to move."""

    __tablename__ = "seeker_projects"
    __table_args__ = (
        CheckConstraint(f"home IS NULL OR home IN {HOME}", name="home_known"),
        CheckConstraint(f"job IS NULL OR job IN {YES_NO}", name="job_known"),
        CheckConstraint(f"business IS NULL OR business IN {YES_NO}", name="business_known"),
        CheckConstraint(f"moving IS NULL OR moving IN {WHEN}", name="moving_known"),
        CheckConstraint("home_budget IS NULL OR home_budget > 0", name="budget_positive"),
        CheckConstraint("adults IS NULL OR adults BETWEEN 1 AND 20", name="adults_range"),
        CheckConstraint("children IS NULL OR children BETWEEN 0 AND 20", name="children_range"),
    )

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    home: Mapped[str | None] = mapped_column(String(4))
    #: The price to buy, or the monthly rent, in euros.
    home_budget: Mapped[int | None]
    adults: Mapped[int | None]
    children: Mapped[int | None]
    job: Mapped[str | None] = mapped_column(String(3))
    job_title: Mapped[str | None] = mapped_column(String(100))
    business: Mapped[str | None] = mapped_column(String(3))
    business_activity: Mapped[str | None] = mapped_column(String(100))
    leisure: Mapped[list[str] | None] = mapped_column(ARRAY(String(12)))
    lives_in: Mapped[str | None] = mapped_column(String(100))
    moving: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


@exported_as("project")
def _export(account_id: int) -> dict | None:
    project = db.session.get(Project, account_id)
    if project is None:
        return None
    columns = [c.name for c in Project.__table__.columns if c.name != "account_id"]
    return {name: getattr(project, name) for name in columns}
