"""CAPA effectiveness criteria templates as controlled configuration
(``quality.capa_effectiveness_templates``): per source of a CAPA (a deviation, a complaint, an
OOS investigation, an audit finding, …) the measurable criterion that shows the problem did
not come back — metric, comparison, target, period and data source — that prefills the
effectiveness check of a new plan. The plan stays the owner's: the template proposes the
criteria and the due date, the CAPA records which template version it took them from.

A version is a list of templates::

    [{"id": "deviation_recurrence", "source": "deviation", "title": "…",
      "metric": "deviations of the same root cause in the area", "comparison": "<=",
      "target": 0, "unit": "deviations", "period_months": 6,
      "data_source": "deviation register"}, …]
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import store as config_store
from pharmaqms.kernel.configuration.store import ConfigKind, InForce, register_kind
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.quality.capa.models import Capa, CapaStatus
from pharmaqms.quality.links import QualityLink

CAPA_EFFECTIVENESS_TEMPLATES = "quality.capa_effectiveness_templates"
ANY_SOURCE = "any"
# Where CAPAs come from: the quality records of this system and the outside sources the
# CAPA form names (audit findings, excursions, signals, management reviews).
SOURCES = (
    ANY_SOURCE,
    "deviation",
    "complaint",
    "oos_investigation",
    "nonconformance",
    "change_request",
    "audit_finding",
    "excursion",
    "signal",
    "management_review",
)
COMPARISONS = {"<=": "at most", "<": "below", "=": "exactly", ">=": "at least", ">": "above"}
FIELDS = (
    "id",
    "source",
    "title",
    "metric",
    "comparison",
    "target",
    "unit",
    "period_months",
    "data_source",
)
MAX_PERIOD_MONTHS = 24  # beyond two years a check no longer judges the action taken
_ID = re.compile(r"^[a-z][a-z0-9_]{1,59}$")

BUILTIN: list[dict[str, Any]] = [
    {
        "id": "deviation_recurrence",
        "source": "deviation",
        "title": "No recurrence of the deviation",
        "metric": "deviations with the same root cause in the same area",
        "comparison": "<=",
        "target": 0,
        "unit": "deviations",
        "period_months": 6,
        "data_source": "deviation register",
    },
    {
        "id": "complaint_recurrence",
        "source": "complaint",
        "title": "No repeat complaint of the defect",
        "metric": "complaints of the same defect type on the product",
        "comparison": "<=",
        "target": 0,
        "unit": "complaints",
        "period_months": 6,
        "data_source": "complaint register",
    },
    {
        "id": "oos_recurrence",
        "source": "oos_investigation",
        "title": "No confirmed OOS on the test again",
        "metric": "confirmed out-of-specification results on the same test and product",
        "comparison": "<=",
        "target": 0,
        "unit": "results",
        "period_months": 6,
        "data_source": "QC results (LIMS)",
    },
    {
        "id": "audit_repeat_finding",
        "source": "audit_finding",
        "title": "No repeat finding at the follow-up audit",
        "metric": "repeat findings on the same requirement",
        "comparison": "=",
        "target": 0,
        "unit": "findings",
        "period_months": 12,
        "data_source": "audit reports",
    },
    {
        "id": "excursion_recurrence",
        "source": "excursion",
        "title": "No excursion on the lane again",
        "metric": "temperature excursions on the same lane",
        "comparison": "<=",
        "target": 0,
        "unit": "excursions",
        "period_months": 3,
        "data_source": "cold-chain monitoring",
    },
]


def _text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= limit


def template_problems(content: Any) -> list[str]:
    """The schema: a list of templates, each with a known source, named once."""
    if not isinstance(content, list) or not content:
        return ["give a list of templates, each an object with " + ", ".join(FIELDS)]
    if len(content) > 100:
        return ["at most 100 templates"]
    problems: list[str] = []
    ids: list[str] = []
    pairs: list[tuple[str, str]] = []
    for n, template in enumerate(content, start=1):
        if not isinstance(template, dict):
            problems.append(f"template {n}: an object with " + ", ".join(FIELDS))
            continue
        name = template.get("id")
        label = name if isinstance(name, str) else f"template {n}"
        unknown = sorted(set(template) - set(FIELDS))
        if unknown:
            problems.append(f"{label}: unknown fields {', '.join(unknown)}")
        if not isinstance(name, str) or not _ID.match(name):
            problems.append(f"{label}: an id of lower-case letters, digits and _")
        if template.get("source") not in SOURCES:
            problems.append(
                f"{label}: unknown source {template.get('source')!r}; known: {', '.join(SOURCES)}"
            )
        for field, limit in (("title", 200), ("unit", 40), ("data_source", 200)):
            if not _text(template.get(field), limit):
                problems.append(f"{label}: {field} is a text of up to {limit} characters")
        if isinstance(name, str):
            ids.append(name)
        if isinstance(template.get("metric"), str):
            pairs.append((str(template.get("source")), template["metric"].strip().lower()))
    problems += [
        f"duplicate template id {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})
    ]
    problems += [
        f"duplicate: two templates for {source} measure {metric!r}"
        for source, metric in sorted({p for p in pairs if pairs.count(p) > 1})
    ]
    return problems


def template_controls(content: Any) -> list[str]:
    """ICH Q10 3.2.2 / 21 CFR 820.100(a)(4): the effectiveness of a CAPA is verified — a
    template must give a criterion that can be measured, over a period that can judge it."""
    problems = []
    for template in content:
        label = template["id"]
        target = template.get("target")
        if (
            not _text(template.get("metric"), 300)
            or template.get("comparison") not in COMPARISONS
            or isinstance(target, bool)
            or not isinstance(target, int | float)
        ):
            problems.append(
                f"{label}: no measurable criterion: give the metric, a comparison "
                f"({', '.join(COMPARISONS)}) and a numeric target"
            )
        months = template.get("period_months")
        if isinstance(months, bool) or not isinstance(months, int):
            problems.append(f"{label}: period_months is a whole number of months (1 to 24)")
        elif not 1 <= months <= MAX_PERIOD_MONTHS:
            problems.append(
                f"{label}: a period of {months} months can't judge the actions: give 1 to "
                f"{MAX_PERIOD_MONTHS} (3–6 is usual)"
            )
    return problems


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@dataclass(frozen=True)
class Prefill:
    """What a template proposes for a CAPA's effectiveness check."""

    template_id: str
    title: str
    criteria: str
    due_at: datetime
    period_months: int
    rule: InForce


def criteria_text(template: dict[str, Any]) -> str:
    target = template["target"]
    shown = f"{target:g}" if isinstance(target, float) else str(target)
    return (
        f"{template['metric']}: {COMPARISONS[template['comparison']]} {shown} "
        f"{template['unit']} within {template['period_months']} months after the actions are "
        f"done (data: {template['data_source']})"
    )


def sources_of(session: Session, capa: Capa) -> list[str]:
    """The record types (or outside sources) the CAPA was raised from."""
    return list(
        session.scalars(
            select(QualityLink.source_type)
            .where(QualityLink.target_type == "capa", QualityLink.target_id == capa.id)
            .distinct()
        )
    )


def templates_for(session: Session, capa: Capa, rule: InForce | None = None) -> list[Prefill]:
    """The templates of the version in force that fit the CAPA's sources (and those for any
    source), each with the plan it proposes: the check due the template's period after the
    last action is due (or from now, without actions)."""
    used = rule or config_store.in_force(session, CAPA_EFFECTIVENESS_TEMPLATES)
    sources = set(sources_of(session, capa)) | {ANY_SOURCE}
    live = [a.due_at for a in capa.actions if a.status != "cancelled"]
    start = max([clock.now(), *live])
    return [
        Prefill(
            template["id"],
            template["title"],
            criteria_text(template),
            add_months(start, template["period_months"]),
            template["period_months"],
            used,
        )
        for template in used.content
        if template["source"] in sources
    ]


def template_for(session: Session, capa: Capa, template_id: str) -> Prefill:
    found = {p.template_id: p for p in templates_for(session, capa)}
    if template_id not in found:
        raise InvalidInput(
            f"no effectiveness template {template_id!r} fits {capa.number} in the version in "
            f"force; fitting: {', '.join(found) or 'none'}",
            field="template_id",
        )
    return found[template_id]


def _sandbox(session: Session, current: InForce, proposed: Any) -> list[str]:
    """Templates added, dropped or changed; the CAPAs still planning that would be offered
    the new ones (plans already made keep their criteria)."""
    old = {t["id"]: t for t in current.content}
    new = {t["id"]: t for t in proposed}
    lines = [
        f"added: {', '.join(sorted(set(new) - set(old))) or 'none'}; dropped: "
        f"{', '.join(sorted(set(old) - set(new))) or 'none'}"
    ]
    lines += [
        f"{i}: {criteria_text(old[i])} → {criteria_text(new[i])}"
        for i in sorted(set(old) & set(new))
        if old[i] != new[i]
    ]
    drafts = session.scalars(select(Capa.number).where(Capa.status == CapaStatus.DRAFT.value)).all()
    lines.append(
        f"{len(drafts)} CAPA(s) in draft would be offered the templates in force when they plan "
        "their check; checks already planned keep their criteria"
    )
    return lines


register_kind(
    ConfigKind(
        key=CAPA_EFFECTIVENESS_TEMPLATES,
        title="CAPA effectiveness criteria templates",
        module="capa",
        description="Per source of a CAPA, the measurable criterion (metric, target, period, "
        "data source) that prefills the plan of its effectiveness check. A plan records the "
        "template version it was prefilled from.",
        builtin=lambda: [dict(t) for t in BUILTIN],
        validate=template_problems,
        controls=template_controls,
        sandbox=_sandbox,
        regulatory_basis="ICH Q10 3.2.2; EU GMP Part I 1.4(xiv); 21 CFR 820.100(a)(4)",
        # A row per template, its criterion written out.
        reading=lambda content: config_store.Reading(
            "templates", [{**t, "criteria": criteria_text(t)} for t in content]
        ),
    )
)
