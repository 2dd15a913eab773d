"""Specification services: write a specification with its criteria, revise it, and find the
approved specifications a result is judged against. A specification is written while in draft;
once submitted its criteria are frozen, and a change is a new revision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.numbering import allocate_number
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.qc.evaluation import Criterion, criterion_problems
from pharmaqms.lifecycle.production.qc.models import (
    CriterionKind,
    Specification,
    SpecificationStatus,
    SpecificationTest,
    SubjectKind,
    TrendRule,
)
from pharmaqms.lifecycle.production.qc.workflow import SPECIFICATION_WORKFLOW
from pharmaqms.platform.masterdata.models import Material, Product

FAMILY_PREFIX = "QSPEC"  # "SPEC" belongs to document control's specification documents
OPEN_STATES = (SpecificationStatus.DRAFT, SpecificationStatus.IN_REVIEW)


@dataclass(frozen=True)
class TestInput:
    """A test of a specification as the author writes it."""

    test_code: str
    test_name: str
    kind: str
    unit: str = ""
    lower_limit: float | None = None
    upper_limit: float | None = None
    decimals: int | None = None
    allowed_values: Sequence[str] = field(default_factory=tuple)
    method: str = ""
    trend_rule: str = TrendRule.NONE
    trend_window: int = 10
    trend_k: float = 3.0
    trend_run_length: int = 6

    def criterion(self) -> Criterion:
        return Criterion(
            test_code=self.test_code,
            kind=self.kind,
            unit=self.unit,
            lower_limit=self.lower_limit,
            upper_limit=self.upper_limit,
            decimals=self.decimals,
            allowed_values=tuple(self.allowed_values),
            trend_rule=self.trend_rule,
            trend_window=self.trend_window,
            trend_k=self.trend_k,
            trend_run_length=self.trend_run_length,
        )


def get_specification(session: Session, spec_id: int) -> Specification:
    spec = session.get(Specification, spec_id)
    if spec is None:
        raise NotFound(f"no QC specification with id {spec_id}")
    return spec


def _checked_tests(tests: Sequence[TestInput]) -> list[TestInput]:
    if not tests:
        raise InvalidInput("a specification needs at least one test", field="tests")
    codes = [t.test_code.strip() for t in tests]
    if any(not c for c in codes):
        raise InvalidInput("every test needs a test code", field="tests")
    duplicated = sorted({c for c in codes if codes.count(c) > 1})
    if duplicated:
        raise InvalidInput(f"test codes named twice: {', '.join(duplicated)}", field="tests")
    problems = [p for t in tests for p in criterion_problems(t.criterion())]
    if problems:
        raise InvalidInput("; ".join(problems), field="tests", reasons=problems)
    return list(tests)


def _test_rows(spec_id: int, tests: Sequence[TestInput]) -> list[SpecificationTest]:
    return [
        SpecificationTest(
            specification_id=spec_id,
            position=index,
            test_code=t.test_code.strip(),
            test_name=t.test_name.strip() or t.test_code.strip(),
            method=t.method.strip(),
            kind=t.kind,
            unit=t.unit.strip() if t.kind == CriterionKind.NUMERIC else "",
            lower_limit=t.lower_limit,
            upper_limit=t.upper_limit,
            decimals=t.decimals,
            allowed_values=[v.strip() for v in t.allowed_values if v.strip()],
            trend_rule=t.trend_rule,
            trend_window=t.trend_window,
            trend_k=t.trend_k,
            trend_run_length=t.trend_run_length,
        )
        for index, t in enumerate(tests, 1)
    ]


def _subject(session: Session, subject_kind: str, item_code: str) -> tuple[SubjectKind, int]:
    try:
        kind = SubjectKind(subject_kind)
    except ValueError:
        raise InvalidInput(
            "a specification is for a product or a material", field="subject_kind"
        ) from None
    item_id = (
        session.scalars(select(Product.id).where(Product.code == item_code)).first()
        if kind == SubjectKind.PRODUCT
        else session.scalars(select(Material.id).where(Material.code == item_code)).first()
    )
    if item_id is None:
        raise InvalidInput(f"no {kind.value} with code {item_code!r}", field="item_code")
    return kind, item_id


def create_specification(
    session: Session,
    *,
    actor: Actor,
    subject_kind: str,
    item_code: str,
    market: str,
    title: str,
    tests: Sequence[TestInput],
) -> Specification:
    """A new specification family with its first revision, in draft."""
    actor.require("qc.specifications", "write QC specifications")
    kind, item_id = _subject(session, subject_kind, item_code.strip())
    market = market.strip().upper()
    if not market or len(market) > 40:
        raise InvalidInput("name the market (EU, US, ALL…; at most 40 characters)", field="market")
    title = title.strip()
    if not title or len(title) > 300:
        raise InvalidInput("a specification needs a title (at most 300 characters)", field="title")
    checked = _checked_tests(tests)
    family = allocate_number(session, FAMILY_PREFIX, clock.now().year)
    spec = Specification(
        number=f"{family} r1",
        status=SpecificationStatus.DRAFT.value,
        family=family,
        revision=1,
        subject_kind=kind.value,
        product_id=item_id if kind == SubjectKind.PRODUCT else None,
        material_id=item_id if kind == SubjectKind.MATERIAL else None,
        item_code=item_code.strip(),
        market=market,
        title=title,
        change_summary="",
    )
    with audit.changes(session, actor=actor, reason="specification written"):
        session.add(spec)
        session.flush()
        session.add_all(_test_rows(spec.id, checked))
    session.expire(spec, ["tests"])
    return spec


def replace_tests(
    session: Session,
    *,
    actor: Actor,
    spec_id: int,
    expected_version: int,
    tests: Sequence[TestInput],
    title: str | None = None,
    change_summary: str | None = None,
) -> Specification:
    """Rewrite the criteria of a draft. A criterion left out keeps its row (nothing is deleted)
    with a position below 1, which takes it out of the specification; naming its test code
    again brings the row back. The audit trail shows every change."""
    actor.require("qc.specifications", "write QC specifications")
    spec = get_specification(session, spec_id)
    if spec.version != expected_version:
        raise Conflict(
            f"{spec.number} is at version {spec.version}, not {expected_version}: reload it",
            extra={"current_version": spec.version},
        )
    if spec.status != SpecificationStatus.DRAFT:
        raise Conflict(f"{spec.number} is {spec.status.replace('_', ' ')}: only a draft is edited")
    checked = _checked_tests(tests)
    existing = {
        t.test_code: t
        for t in session.scalars(
            select(SpecificationTest).where(SpecificationTest.specification_id == spec.id)
        )
    }
    with audit.changes(session, actor=actor, reason="draft specification edited"):
        if title is not None:
            if not title.strip():
                raise InvalidInput("the title can't be empty", field="title")
            spec.title = title.strip()
        if change_summary is not None:
            spec.change_summary = change_summary.strip()
        for row in _test_rows(spec.id, checked):
            current = existing.pop(row.test_code, None)
            if current is None:
                session.add(row)
                continue
            for name, value in row.criterion_content().items():
                if getattr(current, name) != value:
                    setattr(current, name, value)
            if current.position != row.position:
                current.position = row.position
        for left_out in existing.values():
            if left_out.position > 0:
                left_out.position = -left_out.id
    session.expire(spec, ["tests"])
    return spec


def revise(session: Session, *, actor: Actor, spec_id: int, change_summary: str) -> Specification:
    """A new revision of an approved specification, starting as a copy of it."""
    actor.require("qc.specifications", "revise QC specifications")
    base = get_specification(session, spec_id)
    if base.status != SpecificationStatus.APPROVED:
        raise Conflict(f"{base.number} is {base.status}: only the approved revision is revised")
    in_flight = session.scalars(
        select(Specification).where(
            Specification.family == base.family,
            Specification.status.in_([s.value for s in OPEN_STATES]),
        )
    ).first()
    if in_flight is not None:
        raise Conflict(f"{in_flight.number} is already being revised ({in_flight.status})")
    if not change_summary.strip():
        raise InvalidInput("say what changes and why", field="change_summary")
    latest = session.scalar(
        select(func.max(Specification.revision)).where(Specification.family == base.family)
    )
    revision = int(latest or base.revision) + 1
    spec = Specification(
        number=f"{base.family} r{revision}",
        status=SpecificationStatus.DRAFT.value,
        family=base.family,
        revision=revision,
        subject_kind=base.subject_kind,
        product_id=base.product_id,
        material_id=base.material_id,
        item_code=base.item_code,
        market=base.market,
        title=base.title,
        change_summary=change_summary.strip(),
    )
    copied = [(t.position, t.criterion_content()) for t in base.tests]
    with audit.changes(session, actor=actor, reason=f"revision of {base.number}"):
        session.add(spec)
        session.flush()
        session.add_all(
            SpecificationTest(specification_id=spec.id, position=position, **content)
            for position, content in copied
        )
    session.expire(spec, ["tests"])
    return spec


def on_approved(session: Session, spec: Specification, *, actor: Actor) -> None:
    """The approved revision comes into force; the one it replaces is superseded."""
    previous = session.scalars(
        select(Specification).where(
            Specification.family == spec.family,
            Specification.status == SpecificationStatus.APPROVED,
            Specification.id != spec.id,
        )
    ).all()
    for old in previous:
        perform(
            session,
            SPECIFICATION_WORKFLOW,
            old,
            "supersede",
            actor=actor,
            reason=f"superseded by {spec.number}",
        )
    with audit.changes(session, actor=actor, reason=f"{spec.number} approved"):
        spec.approved_at = clock.now()


def approved_specifications(session: Session, item_code: str) -> list[Specification]:
    """The specifications in force for a product or material, one per family (market)."""
    return list(
        session.scalars(
            select(Specification)
            .where(
                Specification.item_code == item_code,
                Specification.status == SpecificationStatus.APPROVED,
            )
            .order_by(Specification.market, Specification.family)
        )
    )


def list_specifications(
    session: Session, *, item_code: str | None = None, status: str | None = None
) -> list[Specification]:
    query = select(Specification).order_by(Specification.family, Specification.revision)
    if item_code:
        query = query.where(Specification.item_code == item_code)
    if status:
        query = query.where(Specification.status == status)
    return list(session.scalars(query))
