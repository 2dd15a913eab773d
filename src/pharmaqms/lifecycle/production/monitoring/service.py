"""Setting up monitoring: which parameters of which step are watched, on which chart, with which
rules, specification limits and alert roles; and which correlated parameters form a T² group.
Control limits are estimated and approved in ``limits``; alerts are answered in ``alerts``.

A change of the configuration reaches the live evaluation with the next delivery of readings:
the live path reads the configuration (and its version) on every delivery."""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, StaleRecord
from pharmaqms.kernel.identity import Actor
from pharmaqms.lifecycle.production.monitoring.models import (
    ISA88,
    MonitoredParameter,
    MonitoringStatus,
    MultivariateGroup,
    ParameterClass,
)
from pharmaqms.lifecycle.production.monitoring.workflow import ALERTABLE_ROLES
from pharmaqms.lifecycle.production.spc import (
    DEFAULT_ALPHA,
    MAX_SUBGROUP_SIZE,
    MIN_SUBGROUP_SIZE,
    ChartKind,
    RuleSet,
    rules_of,
)
from pharmaqms.platform.connectors.measures import stored_unit
from pharmaqms.platform.governance.units import UnitProblem, convert, same_unit
from pharmaqms.platform.masterdata.models import Product

DEFAULT_ALERT_ROLES = ("production_supervisor", "qa")


def get_parameter(session: Session, parameter_id: int) -> MonitoredParameter:
    parameter = session.get(MonitoredParameter, parameter_id)
    if parameter is None:
        raise NotFound(f"no monitored parameter with id {parameter_id}")
    return parameter


def get_group(session: Session, group_id: int) -> MultivariateGroup:
    group = session.get(MultivariateGroup, group_id)
    if group is None:
        raise NotFound(f"no T² group with id {group_id}")
    return group


def list_parameters(
    session: Session, *, product_code: str | None = None
) -> list[MonitoredParameter]:
    query = select(MonitoredParameter).order_by(
        MonitoredParameter.product_code,
        MonitoredParameter.unit_procedure,
        MonitoredParameter.operation,
        MonitoredParameter.phase,
        MonitoredParameter.id,
    )
    if product_code:
        query = query.where(MonitoredParameter.product_code == product_code)
    return list(session.scalars(query))


def list_groups(session: Session) -> list[MultivariateGroup]:
    return list(session.scalars(select(MultivariateGroup).order_by(MultivariateGroup.id)))


# --- validation -----------------------------------------------------------------------------


def canonical_unit(spelling: str | None) -> str:
    """The parameter's unit as the platform stores readings of its kind when it is that very
    unit ("degC", "C" and "celsius" are "°C"), else as given. The series converts every unit of
    the same kind anyway; one spelling keeps the chart's label and the readings' unit alike."""
    given = (spelling or "").strip()
    try:
        convert(0.0, given, given)
    except UnitProblem:
        return given  # no unit, or a label pint does not know ("pH"): kept as written
    stored = stored_unit(given)
    return stored if same_unit(given, stored) else given


def _isa88(value: str, field: str, *, required: bool = False) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise InvalidInput(f"the {field.replace('_', ' ')} is required", field=field)
    if len(cleaned) > ISA88:
        raise InvalidInput(f"the {field.replace('_', ' ')} is longer than {ISA88}", field=field)
    return cleaned


def _rules(rule_set: str, rules: Sequence[int]) -> tuple[RuleSet, str]:
    try:
        family = RuleSet(rule_set)
    except ValueError:
        raise InvalidInput(
            f"the rule set is one of: {', '.join(r.value for r in RuleSet)}", field="rule_set"
        ) from None
    known = {rule.number for rule in rules_of(family)}
    chosen = sorted(set(rules))
    if not chosen:
        raise InvalidInput("switch on at least one rule", field="rules")
    unknown = [n for n in chosen if n not in known]
    if unknown:
        raise InvalidInput(
            f"{family.value} has rules {min(known)}–{max(known)}, not {unknown}", field="rules"
        )
    return family, ",".join(str(n) for n in chosen)


def _specification(
    lsl: float | None, usl: float | None, target: float | None
) -> tuple[float | None, float | None, float | None]:
    for name, value in (("lsl", lsl), ("usl", usl), ("target", target)):
        if value is not None and not math.isfinite(value):
            raise InvalidInput(f"{name.upper()} must be a finite number", field=name)
    if lsl is not None and usl is not None and not lsl < usl:
        raise InvalidInput(f"LSL ({lsl}) must be below USL ({usl})", field="lsl")
    if target is not None and (
        (lsl is not None and target < lsl) or (usl is not None and target > usl)
    ):
        raise InvalidInput(
            f"the target ({target}) must lie within the specification", field="target"
        )
    return lsl, usl, target


def _roles(roles: Sequence[str]) -> str:
    chosen = sorted({r.strip() for r in roles if r.strip()})
    if not chosen:
        raise InvalidInput("name at least one role to alert", field="alert_roles")
    unknown = [r for r in chosen if r not in ALERTABLE_ROLES]
    if unknown:
        raise InvalidInput(
            f"alerts go to {', '.join(sorted(ALERTABLE_ROLES))}; not to {', '.join(unknown)}",
            field="alert_roles",
        )
    return ",".join(chosen)


def _chart(chart_kind: str, subgroup_size: int) -> tuple[ChartKind, int]:
    try:
        kind = ChartKind(chart_kind)
    except ValueError:
        raise InvalidInput(
            f"the chart is one of: {', '.join(k.value for k in ChartKind)}", field="chart_kind"
        ) from None
    if kind is ChartKind.INDIVIDUALS:
        if subgroup_size not in (0, 1):
            raise InvalidInput(
                "an I-MR chart plots single readings: subgroup size 1", field="subgroup_size"
            )
        return kind, 1
    if not MIN_SUBGROUP_SIZE <= subgroup_size <= MAX_SUBGROUP_SIZE:
        raise InvalidInput(
            f"a {kind.value} chart needs a subgroup size of "
            f"{MIN_SUBGROUP_SIZE}–{MAX_SUBGROUP_SIZE}",
            field="subgroup_size",
        )
    return kind, subgroup_size


def _check_version(record: MonitoredParameter | MultivariateGroup, expected: int | None) -> None:
    if expected is not None and record.version != expected:
        raise StaleRecord(
            f"{record.number} is at version {record.version}, not {expected}: reload it",
            extra={"current_version": record.version},
        )


# --- monitored parameters -------------------------------------------------------------------


def define_parameter(
    session: Session,
    *,
    actor: Actor,
    product_code: str,
    unit_procedure: str,
    operation: str,
    phase: str,
    parameter: str,
    unit: str,
    classification: str,
    chart_kind: str,
    subgroup_size: int = 1,
    title: str = "",
    rule_set: str = RuleSet.NELSON.value,
    rules: Sequence[int] = tuple(range(1, 9)),
    lsl: float | None = None,
    usl: float | None = None,
    target: float | None = None,
    alert_roles: Sequence[str] = DEFAULT_ALERT_ROLES,
) -> MonitoredParameter:
    actor.require("spc.configure", "define monitored parameters")
    code = (product_code or "").strip()
    if session.scalars(select(Product.id).where(Product.code == code)).first() is None:
        raise InvalidInput(f"no product {code!r} is known", field="product_code")
    where = {
        "unit_procedure": _isa88(unit_procedure, "unit_procedure"),
        "operation": _isa88(operation, "operation"),
        "phase": _isa88(phase, "phase"),
        "parameter": _isa88(parameter, "parameter", required=True),
    }
    if classification not in {c.value for c in ParameterClass}:
        raise InvalidInput("the class is CPP or CQA", field="classification")
    kind, size = _chart(chart_kind, subgroup_size)
    family, enabled = _rules(rule_set, rules)
    lsl, usl, target = _specification(lsl, usl, target)
    existing = session.scalars(
        select(MonitoredParameter).where(
            MonitoredParameter.product_code == code,
            *(getattr(MonitoredParameter, k) == v for k, v in where.items()),
        )
    ).first()
    if existing is not None:
        raise Conflict(f"{existing.audit_label()} already monitors this parameter of this step")
    shown = (title or "").strip() or where["parameter"].replace("_", " ").capitalize()
    record = MonitoredParameter(
        status=MonitoringStatus.ACTIVE.value,
        product_code=code,
        title=shown[:200],
        unit=canonical_unit(unit)[:20],
        classification=classification,
        chart_kind=kind.value,
        subgroup_size=size,
        rule_set=family.value,
        enabled_rules=enabled,
        lsl=lsl,
        usl=usl,
        target=target,
        alert_roles=_roles(alert_roles),
        **where,
    )
    with audit.changes(session, actor=actor, reason="parameter put under monitoring"):
        session.add(record)
    return record


def configure_parameter(
    session: Session,
    *,
    actor: Actor,
    parameter_id: int,
    reason: str,
    rule_set: str | None = None,
    rules: Sequence[int] | None = None,
    lsl: float | None = None,
    usl: float | None = None,
    target: float | None = None,
    alert_roles: Sequence[str] | None = None,
    expected_version: int | None = None,
) -> MonitoredParameter:
    """Switch rules on or off, change the specification or who is alerted. The specification
    is replaced as given (None clears a limit); the rules and roles only when given."""
    actor.require("spc.configure", "configure monitored parameters")
    parameter = get_parameter(session, parameter_id)
    _check_version(parameter, expected_version)
    family, enabled = _rules(
        rule_set or parameter.rule_set, parameter.rules if rules is None else rules
    )
    lsl, usl, target = _specification(lsl, usl, target)
    roles = _roles(parameter.roles if alert_roles is None else alert_roles)
    with audit.changes(session, actor=actor, reason=(reason or "").strip() or None):
        parameter.rule_set = family.value
        parameter.enabled_rules = enabled
        parameter.lsl, parameter.usl, parameter.target = lsl, usl, target
        parameter.alert_roles = roles
    return parameter


# --- T² groups ------------------------------------------------------------------------------


def define_group(
    session: Session,
    *,
    actor: Actor,
    title: str,
    parameter_ids: Sequence[int],
    alpha: float = DEFAULT_ALPHA,
    alert_roles: Sequence[str] = DEFAULT_ALERT_ROLES,
) -> MultivariateGroup:
    """Watch correlated parameters of one step together. Each must be monitored already (its
    unit and ISA-88 name come from there)."""
    actor.require("spc.configure", "define T² groups")
    ids = list(dict.fromkeys(parameter_ids))
    if len(ids) != len(parameter_ids):
        raise InvalidInput("a parameter is named twice", field="parameter_ids")
    if len(ids) < 2:
        raise InvalidInput("a T² group needs at least two parameters", field="parameter_ids")
    if not 0.0 < alpha < 0.5:
        raise InvalidInput("α must lie between 0 and 0.5", field="alpha")
    members = [get_parameter(session, i) for i in ids]
    steps = {(p.product_code, p.unit_procedure, p.operation, p.phase) for p in members}
    if len(steps) != 1:
        raise InvalidInput(
            "the parameters of a T² group belong to one step of one product", field="parameter_ids"
        )
    shown = (title or "").strip()
    if not shown or len(shown) > 200:
        raise InvalidInput("give the group a title (at most 200 characters)", field="title")
    product_code, unit_procedure, operation, phase = steps.pop()
    group = MultivariateGroup(
        status=MonitoringStatus.ACTIVE.value,
        product_code=product_code,
        unit_procedure=unit_procedure,
        operation=operation,
        phase=phase,
        title=shown,
        parameter_ids=ids,
        alpha=alpha,
        alert_roles=_roles(alert_roles),
    )
    with audit.changes(session, actor=actor, reason="T² monitoring of correlated parameters"):
        session.add(group)
    return group


def group_parameters(session: Session, group: MultivariateGroup) -> list[MonitoredParameter]:
    found = {
        p.id: p
        for p in session.scalars(
            select(MonitoredParameter).where(MonitoredParameter.id.in_(group.parameter_ids))
        )
    }
    return [found[i] for i in group.parameter_ids if i in found]
