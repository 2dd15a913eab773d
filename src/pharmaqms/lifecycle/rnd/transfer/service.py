"""The recipe and transfer verbs, one function each; the only code that writes them.

``define_recipe`` (a draft r1 for the product the project's development plan develops) ·
``edit_recipe`` (while draft) · ``approve_recipe`` (QA's signature; supersedes the revision
before) · ``revise_recipe`` (a new draft revision of an approved recipe) · ``raise_transfer``
(an approved recipe raises a change request through the quality front door, naming the product
and the production documents it affects) · ``implement_transfer`` (once the change is approved:
production drafts the master batch record and the specification from the recipe, through the
transfer target production registered in ``quality.transfer``).

Every refusal is raised before anything is written: nothing changes, no audit entry, no
signature.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, StaleRecord
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.numbering import allocate_number
from pharmaqms.kernel.workflow import TransitionResult, perform
from pharmaqms.lifecycle.rnd.eln.models import RndProject
from pharmaqms.lifecycle.rnd.gates.models import DevelopmentPlan
from pharmaqms.lifecycle.rnd.transfer import recipe as content
from pharmaqms.lifecycle.rnd.transfer.models import (
    DevelopmentRecipe,
    RecipeStatus,
    TechnologyTransfer,
)
from pharmaqms.lifecycle.rnd.transfer.workflow import RECIPE_WORKFLOW, drafts_problems
from pharmaqms.platform.masterdata.models import Material, Product
from pharmaqms.quality import events
from pharmaqms.quality.changes.models import ChangeRequest, ChangeStatus
from pharmaqms.quality.transfer import DraftRef, TransferPackage, transfer_target

FAMILY_PREFIX = "RCP"
# A change that ended without being carried out frees its recipe for another transfer.
ENDED_CHANGE_STATES = frozenset({ChangeStatus.REJECTED.value, ChangeStatus.CANCELLED.value})


# --- lookups ----------------------------------------------------------------------------------


def get_recipe(session: Session, recipe_id: int) -> DevelopmentRecipe:
    recipe = session.get(DevelopmentRecipe, recipe_id)
    if recipe is None:
        raise NotFound(f"no development recipe #{recipe_id}")
    return recipe


def recipes(session: Session, *, project_id: int | None = None) -> list[DevelopmentRecipe]:
    query = select(DevelopmentRecipe).order_by(DevelopmentRecipe.family, DevelopmentRecipe.revision)
    if project_id is not None:
        query = query.where(DevelopmentRecipe.project_id == project_id)
    return list(session.scalars(query))


def get_transfer(session: Session, transfer_id: int) -> TechnologyTransfer:
    transfer = session.get(TechnologyTransfer, transfer_id)
    if transfer is None:
        raise NotFound(f"no technology transfer #{transfer_id}")
    return transfer


def transfers(
    session: Session, *, recipe_id: int | None = None, project_id: int | None = None
) -> list[TechnologyTransfer]:
    query = select(TechnologyTransfer).order_by(TechnologyTransfer.id)
    if recipe_id is not None:
        query = query.where(TechnologyTransfer.recipe_id == recipe_id)
    if project_id is not None:
        query = query.where(TechnologyTransfer.project_id == project_id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class TransferView:
    """A transfer as its pages show it: the change, the drafts and where the transfer is."""

    transfer: TechnologyTransfer
    recipe: DevelopmentRecipe
    change: ChangeRequest
    drafts: list[DraftRef]
    problems: list[str]  # what keeps the change open; empty once the drafts are in force

    @property
    def stage(self) -> str:
        if self.change.status in ENDED_CHANGE_STATES:
            return f"change {self.change.status}"
        if self.change.status == ChangeStatus.CLOSED:
            return "complete"
        if not self.drafts:
            return "change raised"
        if self.problems:
            return "drafts in production"
        return "drafts in force"


def transfer_view(session: Session, transfer: TechnologyTransfer) -> TransferView:
    change = session.get(ChangeRequest, transfer.change_id)
    assert change is not None  # a foreign key
    return TransferView(
        transfer=transfer,
        recipe=get_recipe(session, transfer.recipe_id),
        change=change,
        drafts=[DraftRef.from_dict(d) for d in transfer.drafts],
        problems=drafts_problems(session, transfer),
    )


# --- the recipe -------------------------------------------------------------------------------


def _header(title: str | None, batch_size: Any, batch_unit: str | None) -> tuple[str, float, str]:
    text = (title or "").strip()
    if not text or len(text) > 300:
        raise InvalidInput("a title (1–300 characters)", field="title")
    size = content.number(batch_size, "batch_size")
    assert size is not None
    if size <= 0:
        raise InvalidInput("the batch size must be positive", field="batch_size")
    unit = (batch_unit or "").strip()
    if not unit or len(unit) > 20:
        raise InvalidInput("the unit of the batch size (1–20 characters)", field="batch_unit")
    return text, size, unit


def _known_materials(session: Session, formula: list[dict[str, Any]]) -> None:
    codes = {line["material_code"] for line in formula}
    known = set(session.scalars(select(Material.code).where(Material.code.in_(sorted(codes)))))
    unknown = sorted(codes - known)
    if unknown:
        raise InvalidInput(
            f"materials not in the master data: {', '.join(unknown)}", field="formula"
        )


def define_recipe(
    session: Session,
    *,
    actor: Actor,
    project_id: int,
    title: str,
    batch_size: float | str,
    batch_unit: str,
    formula: Sequence[dict[str, Any]],
    steps: Sequence[dict[str, Any]],
    attributes: Sequence[dict[str, Any]],
) -> DevelopmentRecipe:
    """A new recipe (revision 1, draft) of the product the project develops."""
    actor.require("rnd.recipes", "write development recipes")
    project = session.get(RndProject, project_id)
    if project is None:
        raise NotFound(f"no R&D project #{project_id}")
    plan = session.scalars(
        select(DevelopmentPlan).where(DevelopmentPlan.project_id == project.id)
    ).first()
    if plan is None:
        raise Conflict(
            f"{project.code} has no development plan: plan the product it develops first"
        )
    product = session.get(Product, plan.product_id)
    assert product is not None  # a foreign key
    name, size, unit = _header(title, batch_size, batch_unit)
    checked_formula = content.formula(list(formula))
    checked_steps = content.steps(list(steps))
    checked_attributes = content.attributes(list(attributes))
    _known_materials(session, checked_formula)
    family = allocate_number(session, FAMILY_PREFIX, clock.now().year)
    recipe = DevelopmentRecipe(
        number=f"{family} r1",
        status=RecipeStatus.DRAFT.value,
        family=family,
        revision=1,
        project_id=project.id,
        product_id=product.id,
        product_code=product.code,
        title=name,
        batch_size=size,
        batch_unit=unit,
        formula=checked_formula,
        steps=checked_steps,
        attributes=checked_attributes,
        change_summary="",
    )
    with audit.changes(session, actor=actor, reason=f"recipe of {product.code} written"):
        session.add(recipe)
    return recipe


def edit_recipe(
    session: Session,
    *,
    actor: Actor,
    recipe_id: int,
    expected_version: int,
    title: str | None = None,
    batch_size: float | None = None,
    batch_unit: str | None = None,
    formula: Sequence[dict[str, Any]] | None = None,
    steps: Sequence[dict[str, Any]] | None = None,
    attributes: Sequence[dict[str, Any]] | None = None,
    change_summary: str | None = None,
    reason: str | None = None,
) -> DevelopmentRecipe:
    actor.require("rnd.recipes", "write development recipes")
    recipe = get_recipe(session, recipe_id)
    if recipe.version != expected_version:
        raise StaleRecord(
            f"{recipe.number} is at version {recipe.version}, not {expected_version}: reload it",
            extra={"current_version": recipe.version},
        )
    if recipe.status != RecipeStatus.DRAFT:
        raise Conflict(f"{recipe.number} is {recipe.status}: only a draft is edited (revise it)")
    name, size, unit = _header(
        title if title is not None else recipe.title,
        batch_size if batch_size is not None else recipe.batch_size,
        batch_unit if batch_unit is not None else recipe.batch_unit,
    )
    new_formula = content.formula(list(formula)) if formula is not None else recipe.formula
    new_steps = content.steps(list(steps)) if steps is not None else recipe.steps
    new_attributes = (
        content.attributes(list(attributes)) if attributes is not None else recipe.attributes
    )
    _known_materials(session, new_formula)
    summary = (change_summary if change_summary is not None else recipe.change_summary).strip()
    if len(summary) > 4000:
        raise InvalidInput("the change summary is over 4,000 characters", field="change_summary")
    with audit.changes(session, actor=actor, reason=reason or "recipe edited"):
        recipe.title = name
        recipe.batch_size = size
        recipe.batch_unit = unit
        recipe.formula = new_formula
        recipe.steps = new_steps
        recipe.attributes = new_attributes
        recipe.change_summary = summary
    return recipe


def approve_recipe(
    session: Session, *, actor: Actor, recipe_id: int, password: str | None
) -> TransitionResult:
    """QA signs the recipe "Approved"; the revision before it (if any) is superseded."""
    recipe = get_recipe(session, recipe_id)
    return perform(session, RECIPE_WORKFLOW, recipe, "approve", actor=actor, password=password)


def revise_recipe(
    session: Session, *, actor: Actor, recipe_id: int, change_summary: str
) -> DevelopmentRecipe:
    """A new draft revision of an approved recipe, starting from its content."""
    actor.require("rnd.recipes", "revise development recipes")
    recipe = get_recipe(session, recipe_id)
    if recipe.status != RecipeStatus.APPROVED:
        raise Conflict(f"{recipe.number} is {recipe.status}: only the approved revision is revised")
    summary = (change_summary or "").strip()
    if not summary:
        raise InvalidInput("say what the revision changes", field="change_summary")
    pending = session.scalars(
        select(DevelopmentRecipe.number).where(
            DevelopmentRecipe.family == recipe.family,
            DevelopmentRecipe.status == RecipeStatus.DRAFT.value,
        )
    ).first()
    if pending is not None:
        raise Conflict(f"{pending} is a draft revision already: edit that one")
    last = max(
        session.scalars(
            select(DevelopmentRecipe.revision).where(DevelopmentRecipe.family == recipe.family)
        )
    )
    revised = DevelopmentRecipe(
        number=f"{recipe.family} r{last + 1}",
        status=RecipeStatus.DRAFT.value,
        family=recipe.family,
        revision=last + 1,
        project_id=recipe.project_id,
        product_id=recipe.product_id,
        product_code=recipe.product_code,
        title=recipe.title,
        batch_size=recipe.batch_size,
        batch_unit=recipe.batch_unit,
        formula=recipe.formula,
        steps=recipe.steps,
        attributes=recipe.attributes,
        change_summary=summary,
    )
    with audit.changes(session, actor=actor, reason=f"revision of {recipe.number}"):
        session.add(revised)
    return revised


# --- the transfer -----------------------------------------------------------------------------


def raise_transfer(
    session: Session,
    *,
    actor: Actor,
    recipe_id: int,
    market: str,
    justification: str,
    owner_id: int | None = None,
) -> TechnologyTransfer:
    """An approved recipe goes to production: a change request (draft) raised from the recipe,
    naming the product and the production documents it affects."""
    actor.require("rnd.transfer", "raise technology transfers")
    recipe = get_recipe(session, recipe_id)
    if recipe.status != RecipeStatus.APPROVED:
        raise Conflict(
            f"{recipe.number} is {recipe.status}: only an approved recipe is transferred"
        )
    where = (market or "").strip().upper()
    if not where or len(where) > 40:
        raise InvalidInput("name the market (EU, US, ALL…; at most 40 characters)", field="market")
    for transfer in transfers(session, recipe_id=recipe.id):
        change = session.get(ChangeRequest, transfer.change_id)
        if change is not None and change.status not in ENDED_CHANGE_STATES:
            raise Conflict(
                f"{recipe.number} is being transferred already under {change.number} "
                f"({change.status.replace('_', ' ')})"
            )
    reasons = (justification or "").strip()
    if not reasons:
        raise InvalidInput("say why the recipe goes to production now", field="justification")
    product = session.get(Product, recipe.product_id)
    assert product is not None  # a foreign key
    in_force = transfer_target().in_force(session, product.code)
    affected = [
        f"product {product.code} — {product.name}",
        f"master batch record: a new draft made from {recipe.number}",
        f"specification: a new draft release specification ({where}) made from {recipe.number}",
        *(f"{document}: to be reviewed against the transferred process" for document in in_force),
    ]
    change = events.request_change(
        session,
        actor=actor,
        source_type="rnd_recipe",
        source_id=recipe.id,
        source_label=None,
        title=f"Technology transfer of {product.code}: {recipe.title}",
        description=(
            f"Transfer of the development recipe {recipe.number} ({recipe.title}) into "
            f"production for the {where} market: a batch of {recipe.batch_size:g} "
            f"{recipe.batch_unit}, {len(recipe.formula)} materials, {len(recipe.steps)} process "
            f"steps, {len(recipe.attributes)} critical quality attributes. Implementation drafts "
            "the master batch record and the release specification from the recipe; the change "
            "closes only once both are in force."
        ),
        justification=reasons,
        owner_id=owner_id,
        affected=affected,
        reason=f"technology transfer of {recipe.number}",
    )
    session.flush()
    transfer = TechnologyTransfer(
        recipe_id=recipe.id,
        project_id=recipe.project_id,
        change_id=change.id,
        market=where,
        raised_at=clock.now(),
        raised_by_id=actor.user_id,
        drafts=[],
        governing_sops=[],
        note="",
    )
    with audit.changes(session, actor=actor, reason=f"{recipe.number} raised {change.number}"):
        session.add(transfer)
    return transfer


def package_of(
    recipe: DevelopmentRecipe, transfer: TechnologyTransfer, change: ChangeRequest, sops: list[str]
) -> TransferPackage:
    return TransferPackage(
        source_label=recipe.number,
        change_label=change.number,
        product_code=recipe.product_code,
        title=recipe.title,
        market=transfer.market,
        batch_size=recipe.batch_size,
        batch_unit=recipe.batch_unit,
        formula=content.formula_lines(recipe.formula),
        steps=content.process_steps(recipe.steps),
        attributes=content.quality_attributes(recipe.attributes),
        governing_sops=tuple(sops),
    )


def implement_transfer(
    session: Session,
    *,
    actor: Actor,
    transfer_id: int,
    governing_sops: Sequence[str],
) -> TechnologyTransfer:
    """Carry out the approved change: production drafts the master batch record and the
    specification from the recipe (its services check the actor may write them, and that the
    procedures named govern production steps in force)."""
    actor.require("changes.implement", "implement changes")
    transfer = get_transfer(session, transfer_id)
    change = session.get(ChangeRequest, transfer.change_id)
    assert change is not None  # a foreign key
    if change.status != ChangeStatus.IMPLEMENTATION:
        raise Conflict(
            f"{change.number} is {change.status.replace('_', ' ')}: the transfer is implemented "
            "once the change is approved (implementation)"
        )
    if transfer.drafts:
        numbers = ", ".join(d["number"] for d in transfer.drafts)
        raise Conflict(f"the transfer under {change.number} drafted {numbers} already")
    recipe = get_recipe(session, transfer.recipe_id)
    if recipe.status != RecipeStatus.APPROVED:
        raise Conflict(
            f"{recipe.number} is {recipe.status} since {change.number} was raised: transfer the "
            "revision in force"
        )
    sops = list(dict.fromkeys(s.strip() for s in governing_sops if s.strip()))
    if not sops:
        raise InvalidInput(
            "name the production SOP(s) governing the manufacturing steps", field="governing_sops"
        )
    drafts = transfer_target().create_drafts(
        session, actor=actor, package=package_of(recipe, transfer, change, sops)
    )
    with audit.changes(
        session,
        actor=actor,
        reason=f"{change.number} implemented: {', '.join(d.number for d in drafts)} drafted",
    ):
        transfer.drafts = [d.as_dict() for d in drafts]
        transfer.governing_sops = sops
        transfer.implemented_at = clock.now()
        transfer.implemented_by_id = actor.user_id
    return transfer
