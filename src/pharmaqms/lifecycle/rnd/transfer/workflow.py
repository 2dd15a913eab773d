"""The life of a development recipe, and who may do what.

draft (the scientists write and correct it) → approved (QA's signature, "Approved", never by
the recipe's author) → superseded (when a later revision of the same recipe is approved).

A transfer of an approved recipe raises a change request; the change may not close until the
drafts production made from the recipe are in force (a closure condition of change control).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, perform, roles, states
from pharmaqms.lifecycle.rnd.transfer.models import (
    DevelopmentRecipe,
    RecipeStatus,
    TechnologyTransfer,
)
from pharmaqms.quality.changes.closure import ClosureCheck, register_closure_condition
from pharmaqms.quality.risk.register import register_process_subjects
from pharmaqms.quality.transfer import DraftRef, NoTransferTarget, transfer_target

AUTHORS = ("rd_scientist", "qa")
grant("rnd.recipes", *AUTHORS)
grant("rnd.transfer", *AUTHORS)


def _approve(session: Session, recipe: Any, actor: Actor) -> None:
    """The approved revision is the one in force: the one before it is superseded."""
    with audit.changes(session, actor=actor, reason=f"{recipe.number} approved"):
        recipe.approved_at = clock.now()
    previous = session.scalars(
        select(DevelopmentRecipe).where(
            DevelopmentRecipe.family == recipe.family,
            DevelopmentRecipe.id != recipe.id,
            DevelopmentRecipe.status == RecipeStatus.APPROVED.value,
        )
    ).all()
    for old in previous:
        perform(
            session,
            RECIPE_WORKFLOW,
            old,
            "supersede",
            actor=actor,
            reason=f"superseded by {recipe.number}",
        )


RECIPE_WORKFLOW = Workflow(
    record_type="rnd_recipe",
    states=tuple(s.value for s in RecipeStatus),
    initial=RecipeStatus.DRAFT.value,
    retired_states=frozenset({RecipeStatus.SUPERSEDED.value}),
    transitions=(
        Transition(
            "approve",
            "Approve the recipe",
            states("draft"),
            "approved",
            roles("qa"),
            signature="Approved",
            forbid_author=True,
            effects=(_approve,),
        ),
        Transition(
            "supersede",
            "Supersede",
            states("approved"),
            "superseded",
            roles("qa"),
            reason_required=True,
        ),
    ),
)

register(
    RecordType(
        name="rnd_recipe",
        label="Development recipe",
        plural="Development recipes",
        model=DevelopmentRecipe,
        workflow=RECIPE_WORKFLOW,
        list_columns=(
            ("number", "Number"),
            ("product_code", "Product"),
            ("title", "Title"),
            ("status", "Status"),
        ),
        detail_fields=(
            ("number", "Number"),
            ("product_code", "Product"),
            ("title", "Title"),
            ("batch_size", "Batch size"),
            ("batch_unit", "Unit"),
            ("change_summary", "Change summary"),
            ("status", "Status"),
            ("approved_at", "Approved"),
        ),
        module="rnd",
        detail_url=lambda r: f"/rnd/recipes/{r.id}",
        searchable=("number", "title", "product_code"),
        read_permission="rnd.read",
    )
)


# --- the closure condition of a transfer's change -------------------------------------------


def drafts_problems(session: Session, transfer: TechnologyTransfer) -> list[str]:
    """Why the transfer is not complete: production's drafts missing or not yet in force."""
    if not transfer.drafts:
        return ["production's drafts are not created yet (implement the transfer)"]
    try:
        target = transfer_target()
    except NoTransferTarget as missing:
        return [missing.detail]
    return target.not_effective(session, [DraftRef.from_dict(d) for d in transfer.drafts])


def transfer_checks(session: Session, change: Any) -> list[ClosureCheck]:
    transfers = session.scalars(
        select(TechnologyTransfer).where(TechnologyTransfer.change_id == change.id)
    ).all()
    checks = []
    for transfer in transfers:
        recipe = session.get(DevelopmentRecipe, transfer.recipe_id)
        label = f"Technology transfer of {recipe.number if recipe else transfer.recipe_id}"
        checks.append(
            ClosureCheck(
                label,
                drafts_problems(session, transfer),
                url=f"/rnd/recipes/{transfer.recipe_id}",
                # A recipe is notebook content: its page is for the notebook's readers.
                url_permission="rnd.read",
            )
        )
    return checks


register_closure_condition("rnd_transfer", transfer_checks)


# --- process FMEAs: a product's recipes are processes of it in its risk register -------------


def recipes_of_product(session: Session, product_id: int) -> list[tuple[str, int]]:
    found = session.scalars(
        select(DevelopmentRecipe.id).where(DevelopmentRecipe.product_id == product_id)
    )
    return [("rnd_recipe", recipe_id) for recipe_id in found]


register_process_subjects("rnd_recipe", recipes_of_product)
