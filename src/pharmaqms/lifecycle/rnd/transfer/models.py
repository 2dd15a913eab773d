"""The development recipe and its technology transfer.

A recipe is one revision of a family (``RCP-2026-0001 r2``): the formula (materials with their
quantities for one batch), the process steps with their critical process parameters and proven
ranges, and the critical quality attributes with their specification limits, for the product
the project's development plan develops. It is written in draft, approved with QA's signature,
and a later approved revision supersedes it.

A transfer carries an approved recipe into production: the change request it raised, and once
that change is implemented, the drafts production made from the recipe (master batch record
and specification) — the change may not close until they are in force.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pharmaqms.kernel.db import Base, JSONText
from pharmaqms.kernel.records import Audited, GxPRecord


class RecipeStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


class DevelopmentRecipe(GxPRecord, Base):
    """``formula``: ``[{"material_code", "quantity", "unit", "tolerance_percent"}]``;
    ``steps``: ``[{"unit_procedure", "operation", "title", "instructions", "equipment": [...],
    "parameters": [{"name", "unit", "low", "high"}], "in_process_controls": [...],
    "target_minutes"}]`` (the parameters are the critical process parameters);
    ``attributes``: ``[{"code", "name", "unit", "lower", "upper", "method"}]`` (the critical
    quality attributes)."""

    __tablename__ = "rnd_recipes"
    __audit_type__ = "rnd_recipe"
    __draft_states__ = frozenset({RecipeStatus.DRAFT.value})
    __table_args__ = (UniqueConstraint("family", "revision"),)
    __signed_fields__ = (
        "family",
        "revision",
        "project_id",
        "product_id",
        "title",
        "batch_size",
        "batch_unit",
        "formula",
        "steps",
        "attributes",
        "change_summary",
    )

    family: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("rnd_projects.id"), nullable=False, index=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), nullable=False)
    product_code: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    batch_size: Mapped[float] = mapped_column(Float, nullable=False)
    batch_unit: Mapped[str] = mapped_column(String(20), nullable=False)
    formula: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False)
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False)
    change_summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    approved_at: Mapped[datetime | None] = mapped_column()


class TechnologyTransfer(Audited, Base):
    """One approved recipe on its way into production, for one market."""

    __tablename__ = "rnd_transfers"
    __audit_type__ = "rnd_transfer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("rnd_recipes.id"), nullable=False, index=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("rnd_projects.id"), nullable=False, index=True
    )
    change_id: Mapped[int] = mapped_column(
        ForeignKey("change_requests.id"), unique=True, nullable=False
    )
    market: Mapped[str] = mapped_column(String(40), nullable=False)
    raised_at: Mapped[datetime] = mapped_column(nullable=False)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    # What production drafted: ``quality.transfer.DraftRef.as_dict()`` each; empty until the
    # change is implemented.
    drafts: Mapped[list[dict[str, Any]]] = mapped_column(JSONText, nullable=False, default=list)
    governing_sops: Mapped[list[str]] = mapped_column(JSONText, nullable=False, default=list)
    implemented_at: Mapped[datetime | None] = mapped_column()
    implemented_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")

    def audit_label(self) -> str:
        return f"technology transfer #{self.id} (recipe #{self.recipe_id})"
