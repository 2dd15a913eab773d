"""The life of a notebook entry, and who may do what in the notebook.

draft (its author may still change it) → signed (the author's e-signature, "Authored", over
the entry's hash and the installation's Ed25519 signature; from here on the entry never
changes) → witnessed (a second person's e-signature, "Read and understood": the classic
"read and understood by" of a lab notebook; never the author).

The author signs through the notebook's own verb (``service.sign_entry``), which computes the
hash and the Ed25519 signature first; the guard below refuses the generic transition route an
entry without them.
"""

from __future__ import annotations

from typing import Any

from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.registry import RecordType, register
from pharmaqms.kernel.roles import grant
from pharmaqms.kernel.workflow import Transition, Workflow, roles, states
from pharmaqms.lifecycle.rnd.eln.attestations import attesting
from pharmaqms.lifecycle.rnd.eln.models import (
    EntryStatus,
    Experiment,
    ExperimentEntry,
    ExperimentStatus,
    ExperimentTemplate,
    ProjectStatus,
    RndProject,
    TemplateStatus,
)

SCIENTISTS = ("rd_scientist",)
# Who may witness: another scientist, or QA for R&D. The author never (forbid_author).
WITNESSES = ("rd_scientist", "qa")
# Who reads the notebook in clear: the scientists and QA. An auditor reads it only through the
# selective disclosure QA prepares (the export of chosen entries).
READERS = ("rd_scientist", "qa")

grant("rnd.read", *READERS)
grant("rnd.write", *SCIENTISTS)
grant("rnd.witness", *WITNESSES)
grant("rnd.disclose", "qa")
# Projects and templates: the structure of the notebook, set up by QA for R&D or a scientist.
grant("rnd.manage", "rd_scientist", "qa")


def _hashed_and_signed(entry: Any) -> list[str]:
    if not entry.entry_hash or not entry.ed25519_signature:
        return [
            f"{entry.audit_label()} is signed from its experiment page (which hashes it and "
            "signs the hash), not through the generic transition"
        ]
    return []


def _only_its_author(entry: Any, actor: Actor) -> list[str]:
    if entry.created_by_id != actor.user_id:
        return [f"only the author of {entry.audit_label()} signs it as authored"]
    return []


ENTRY_WORKFLOW = Workflow(
    record_type="rnd_entry",
    states=tuple(s.value for s in EntryStatus),
    initial=EntryStatus.DRAFT.value,
    transitions=(
        Transition(
            "sign",
            "Sign the entry",
            states("draft"),
            "signed",
            roles(*SCIENTISTS),
            signature="Authored",
            guards=(_hashed_and_signed,),
            actor_guards=(_only_its_author,),
            effects=(attesting("Authored"),),
        ),
        Transition(
            "witness",
            "Witness the entry",
            states("signed"),
            "witnessed",
            roles(*WITNESSES),
            signature="Read and understood",
            forbid_author=True,
            effects=(attesting("Read and understood"),),
        ),
    ),
)

EXPERIMENT_WORKFLOW = Workflow(
    record_type="rnd_experiment",
    states=tuple(s.value for s in ExperimentStatus),
    initial=ExperimentStatus.OPEN.value,
    retired_states=frozenset({ExperimentStatus.CLOSED.value}),
    transitions=(
        Transition(
            "close",
            "Close the experiment",
            states("open"),
            "closed",
            roles(*SCIENTISTS),
            reason_required=True,
        ),
    ),
)

PROJECT_WORKFLOW = Workflow(
    record_type="rnd_project",
    states=tuple(s.value for s in ProjectStatus),
    initial=ProjectStatus.ACTIVE.value,
    retired_states=frozenset({ProjectStatus.CLOSED.value}),
    transitions=(
        Transition(
            "close",
            "Close the project",
            states("active"),
            "closed",
            roles("qa", "rd_scientist"),
            reason_required=True,
        ),
    ),
)

TEMPLATE_WORKFLOW = Workflow(
    record_type="rnd_template",
    states=tuple(s.value for s in TemplateStatus),
    initial=TemplateStatus.ACTIVE.value,
    retired_states=frozenset({TemplateStatus.RETIRED.value}),
    transitions=(
        Transition(
            "retire",
            "Retire the template",
            states("active"),
            "retired",
            roles("qa", "rd_scientist"),
            reason_required=True,
        ),
    ),
)

for _name, _label, _plural, _model, _workflow, _columns, _url in (
    (
        "rnd_project",
        "R&D project",
        "R&D projects",
        RndProject,
        PROJECT_WORKFLOW,
        (("number", "Number"), ("code", "Code"), ("title", "Title"), ("status", "Status")),
        lambda r: f"/rnd/projects/{r.id}",
    ),
    (
        "rnd_template",
        "Experiment template",
        "Experiment templates",
        ExperimentTemplate,
        TEMPLATE_WORKFLOW,
        (("number", "Number"), ("experiment_type", "Type"), ("name", "Name"), ("status", "Status")),
        None,
    ),
    (
        "rnd_experiment",
        "Experiment",
        "Experiments",
        Experiment,
        EXPERIMENT_WORKFLOW,
        (("number", "Number"), ("title", "Title"), ("status", "Status")),
        lambda r: f"/rnd/experiments/{r.id}",
    ),
    (
        "rnd_entry",
        "Notebook entry",
        "Notebook entries",
        ExperimentEntry,
        ENTRY_WORKFLOW,
        (("number", "Number"), ("seq", "No."), ("status", "Status"), ("entry_hash", "SHA-256")),
        lambda r: f"/rnd/experiments/{r.experiment_id}#entry-{r.id}",
    ),
):
    register(
        RecordType(
            name=_name,
            label=_label,
            plural=_plural,
            model=_model,
            workflow=_workflow,
            list_columns=_columns,
            # Only what is in clear: the generic pages never show a ciphertext.
            detail_fields=_columns,
            module="rnd",
            detail_url=_url,
            read_permission="rnd.read",
        )
    )
