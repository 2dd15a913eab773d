"""Demo stage gates: two development projects on the demo company's products, written at the
moments they would have happened (the clock set to each), so the timeline shows months of
development and the time to launch is a plausible two-odd years.

- DEV-PARA500: the paracetamol 500 mg tablet, from pre-formulation 30 months ago through all six
  gates; its registration gate approved five months ago, its technology transfer six weeks ago.
  Its first commercial batch is the demo's first tablet batch released after registration (the
  production demo releases its batches within the last week, the platform's at loading).
- DEV-FLUVAX-MDV: a multi-dose vial of the influenza vaccine, pre-formulation passed, the
  formulation gate submitted a fortnight ago and waiting for its signatures: not launched.

About twenty electronic signatures (each re-checks a password): some ten seconds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.rnd.eln import service as notebook
from pharmaqms.lifecycle.rnd.gates import rules, service
from pharmaqms.lifecycle.rnd.gates.models import PHASES, DevelopmentPhase
from pharmaqms.lifecycle.rnd.stability.service import studies_of_product
from pharmaqms.platform.masterdata.models import Product
from pharmaqms.quality.documents import service as documents
from pharmaqms.quality.risk import service as risk

MONTH = timedelta(days=365.25 / 12)


@contextmanager
def _months_ago(now: datetime, months: float) -> Iterator[None]:
    with clock.frozen_at(now - months * MONTH):
        yield


def _plan(now: datetime, ends: tuple[float, ...], start: float) -> dict[str, tuple[date, date]]:
    """Each phase planned from the end of the one before, ``ends`` in months before now."""
    planned: dict[str, tuple[date, date]] = {}
    for phase, end in zip(PHASES, ends, strict=True):
        planned[phase] = ((now - start * MONTH).date(), (now - end * MONTH).date())
        start = end
    return planned


def _experiment(
    session: Session, author: Actor, password: str, project_id: int, title: str, result: str
) -> str:
    experiment = notebook.start_experiment(
        session,
        actor=author,
        project_id=project_id,
        title=title,
        protocol=f"{title}: per the development plan; raw data attached to the entry.",
    )
    session.flush()
    entry = notebook.write_entry(
        session,
        actor=author,
        experiment_id=experiment.id,
        content=title,
        results=result,
        conclusions="Supports the phase's decision.",
    )
    session.flush()
    notebook.sign_entry(session, actor=author, entry_id=entry.id, password=password)
    return experiment.number


def _gate(
    session: Session,
    ctx: DemoContext,
    project_id: int,
    phase: DevelopmentPhase,
    references: dict[str, str],
    *,
    submitter: Actor,
    signers: dict[str, Actor],
    summary: str,
) -> None:
    """Open, evidence, submit and sign, by the functions in ``signers`` (all: approved)."""
    gate = service.open_gate(
        session, actor=submitter, project_id=project_id, phase=phase, summary=summary
    )
    session.flush()
    for deliverable in rules.DELIVERABLES[phase]:
        service.add_evidence(
            session,
            actor=submitter,
            gate_id=gate.id,
            deliverable=deliverable.code,
            reference=references[deliverable.code],
        )
    service.submit_gate(session, actor=submitter, gate_id=gate.id)
    for function, signer in signers.items():
        service.approve_gate(
            session, actor=signer, gate_id=gate.id, function=function, password=ctx.password
        )


def _assessment(session: Session, author: Actor, project_id: int, title: str) -> str:
    return risk.create_assessment(
        session,
        actor=author,
        title=title,
        scope=f"{title}: failure modes, their causes and controls (FMEA).",
        subject_type="rnd_project",
        subject_id=project_id,
    ).number


def _document(session: Session, author: Actor, doc_type: str, title: str) -> str:
    version = documents.create_document(
        session, actor=author, doc_type=doc_type, title=title, area="Development"
    )
    session.flush()
    return version.document.number


# The tablet's history, in months before the demo is loaded. Evidence: (when, key, kind,
# title, result); a key names what a gate cites; "stability" is the product's stability study
# (loaded by the stability demo before this one).
TABLET_EVIDENCE: tuple[tuple[float, str, str, str, str], ...] = (
    (
        30,
        "pre",
        "experiment",
        "API characterisation and excipient compatibility",
        "Form I only; no interaction with MCC, povidone or Mg stearate at 40 °C/75 % RH.",
    ),
    (
        24,
        "prototype",
        "experiment",
        "Prototype formulations F1-F4 and their dissolution",
        "F3 (croscarmellose 3 %) Q30 89 %; similar to the reference (f2 = 68).",
    ),
    (24, "cqa", "risk", "PARA500 CQA risk assessment", ""),
    (
        19,
        "scale",
        "experiment",
        "Scale-up of F3 to 120 kg (high-shear granulation)",
        "Granule LOD 1.6-2.1 %; hardness 95-110 N; all three batches within target.",
    ),
    (19, "process", "risk", "PARA500 process risk assessment", ""),
    (14, "clinical", "master_batch_record", "PARA500 bioequivalence batch record", ""),
    (8, "specification", "specification", "PARA500 finished product specification", ""),
    (3, "master", "master_batch_record", "PARA500 commercial batch record, Leiden", ""),
    (3, "transfer", "risk", "PARA500 transfer to Leiden", ""),
)
# (when, phase, what each deliverable cites, summary)
TABLET_GATES: tuple[tuple[float, DevelopmentPhase, dict[str, str], str], ...] = (
    (
        27.5,
        DevelopmentPhase.PRE_FORMULATION,
        {"api_characterisation": "pre", "excipient_compatibility": "pre"},
        "The API and the excipients chosen are compatible.",
    ),
    (
        22.5,
        DevelopmentPhase.FORMULATION,
        {"prototype_formulation": "prototype", "formulation_risk": "cqa"},
        "F3 chosen for scale-up.",
    ),
    (
        16.5,
        DevelopmentPhase.SCALE_UP,
        {"scale_up_batches": "scale", "process_risk": "process"},
        "Process parameters set; ready for the clinical batches.",
    ),
    (
        10.5,
        DevelopmentPhase.CLINICAL_SUPPLY,
        {"clinical_batch_record": "clinical", "clinical_stability": "stability"},
        "Bioequivalence study supplied; 6-month stability conforming.",
    ),
    (
        5,
        DevelopmentPhase.REGISTRATION,
        {"product_specification": "specification", "registration_stability": "stability"},
        "Marketing authorisation RVG 12345 granted.",
    ),
    (
        1.5,
        DevelopmentPhase.TECHNOLOGY_TRANSFER,
        {"commercial_batch_record": "master", "transfer_risk": "transfer"},
        "Transferred to Leiden; commercial manufacture may start.",
    ),
)


def _evidence(
    session: Session,
    ctx: DemoContext,
    author: Actor,
    project_id: int,
    kind: str,
    title: str,
    result: str,
) -> str:
    if kind == "experiment":
        return _experiment(session, author, ctx.password, project_id, title, result)
    if kind == "risk":
        return _assessment(session, author, project_id, title)
    return _document(session, author, kind, title)


def _project(
    session: Session,
    lead: Actor,
    code_title: tuple[str, str],
    description: str,
    product_code: str,
    phases: dict[str, tuple[date, date]],
) -> int:
    """A notebook project (its lead: ``lead``) and its development plan."""
    project = notebook.create_project(
        session, actor=lead, code=code_title[0], title=code_title[1], description=description
    )
    session.flush()
    service.plan_development(
        session, actor=lead, project_id=project.id, product_code=product_code, phases=phases
    )
    return project.id


def _tablet(session: Session, ctx: DemoContext, now: datetime) -> None:
    lead, scientist = ctx.people["rahul.rd"], ctx.people["nadia.rd"]
    qa, qa2, ra = ctx.people["quinn.qa"], ctx.people["rosa.qa"], ctx.people["rene.ra"]
    with _months_ago(now, 30):
        project_id = _project(
            session,
            lead,
            ("DEV-PARA500", "Paracetamol 500 mg tablets: development to launch"),
            "Generic immediate-release tablet, bioequivalent to the reference.",
            "PARA500",
            _plan(now, (27.0, 22.0, 17.0, 10.0, 4.0, 1.0), 30.0),
        )
    # Cited from the clinical-supply gate on: the registration study the stability demo holds.
    made: dict[str, str] = {"stability": studies_of_product(session, "PARA500")[0].number}
    steps = [(m, 0, i) for i, (m, *_rest) in enumerate(TABLET_EVIDENCE)]
    steps += [(m, 1, i) for i, (m, *_rest) in enumerate(TABLET_GATES)]
    for months, is_gate, index in sorted(steps, key=lambda step: (-step[0], step[1])):
        with _months_ago(now, months):
            if not is_gate:
                _, key, kind, title, result = TABLET_EVIDENCE[index]
                made[key] = _evidence(session, ctx, scientist, project_id, kind, title, result)
                continue
            _, phase, cites, summary = TABLET_GATES[index]
            early = phase in (DevelopmentPhase.PRE_FORMULATION, DevelopmentPhase.FORMULATION)
            _gate(
                session,
                ctx,
                project_id,
                phase,
                {d: made.get(key, key) for d, key in cites.items()},
                submitter=scientist,
                signers={"project_lead": lead, "qa_rnd": qa}
                if early
                else {"project_lead": lead, "qa_rnd": qa2, "regulatory_affairs": ra},
                summary=summary,
            )


def _vaccine(session: Session, ctx: DemoContext, now: datetime) -> None:
    lead, scientist = ctx.people["nadia.rd"], ctx.people["rahul.rd"]
    qa = ctx.people["quinn.qa"]
    with _months_ago(now, 9):
        project_id = _project(
            session,
            lead,
            ("DEV-FLUVAX-MDV", "Fluvaxin multi-dose vial (10 doses)"),
            "A preserved multi-dose presentation of the quadrivalent vaccine.",
            "VAXFLU",
            _plan(now, (6.0, 1.0, -5.0, -12.0, -20.0, -24.0), 9.0),
        )
        compatibility = _experiment(
            session,
            scientist,
            ctx.password,
            project_id,
            "Thiomersal compatibility of the HA antigen",
            "Potency within 95-104 % of the unpreserved control after 3 months at 5 °C.",
        )
    with _months_ago(now, 6.5):
        _gate(
            session,
            ctx,
            project_id,
            DevelopmentPhase.PRE_FORMULATION,
            {"api_characterisation": compatibility, "excipient_compatibility": compatibility},
            submitter=scientist,
            signers={"project_lead": lead, "qa_rnd": qa},
            summary="The antigen tolerates the preservative.",
        )
    with _months_ago(now, 0.5):
        cqa = _assessment(session, scientist, project_id, "Multi-dose vial CQA risk assessment")
        _gate(
            session,
            ctx,
            project_id,
            DevelopmentPhase.FORMULATION,
            {"prototype_formulation": compatibility, "formulation_risk": cqa},
            submitter=scientist,
            signers={},  # submitted: waiting for the project lead and QA R&D
            summary="Prototype MDV-2 proposed for scale-up.",
        )


def load(session: Session, ctx: DemoContext) -> None:
    codes = set(session.scalars(select(Product.code)))
    if not {"PARA500", "VAXFLU"} <= codes:
        return  # the platform demo makes the products; without them nothing is developed
    now = clock.now()
    _tablet(session, ctx, now)
    _vaccine(session, ctx, now)


register("R&D stage gates", load)
