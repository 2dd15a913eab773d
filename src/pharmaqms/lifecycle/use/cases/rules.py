"""Case processing as tables of rules over the facts of one case, each rule with its regulatory
basis: validity (the four minimum criteria), seriousness (the E2B criteria), expectedness
(against the product's reference safety information), causality (WHO-UMC) and the reporting
clocks per region. Pure: the facts are gathered beforehand, so every rule is testable without
a database, and a page can show each rule, what it looked at and why it decided.

Fails closed: a product without reference safety information makes its events unexpected
(the conservative reading, which expedites), never expected by default."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from pharmaqms.lifecycle.use.cases.models import Causality, ReportType

GVP_VI = "GVP Module VI (EMA/873138/2011 Rev 2) §VI.B.2"
ICH_E2D = "ICH E2D §5.1 (minimum information for a case)"


@dataclass(frozen=True)
class ProductFact:
    product: str
    role: str
    lot_number: str


@dataclass(frozen=True)
class EventFact:
    verbatim: str
    meddra_code: str
    seriousness: tuple[str, ...]


@dataclass(frozen=True)
class ReferenceInfo:
    document_reference: str
    expected_terms: tuple[str, ...]


@dataclass(frozen=True)
class CaseFacts:
    report_type: str
    patient_initials: str
    patient_age_years: Decimal | None
    patient_sex: str | None
    reporter_type: str | None
    reporter_country: str | None
    products: tuple[ProductFact, ...]
    events: tuple[EventFact, ...]
    reference: dict[str, ReferenceInfo]  # product name → its RSI, where one is held
    causality: str | None = None

    @property
    def suspects(self) -> tuple[ProductFact, ...]:
        return tuple(p for p in self.products if p.role in ("suspect", "interacting"))

    @property
    def criteria(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for event in self.events:
            for criterion in event.seriousness:
                seen.setdefault(criterion, None)
        return tuple(seen)

    @property
    def serious(self) -> bool:
        return bool(self.criteria)

    @property
    def fatal_or_life_threatening(self) -> bool:
        return bool({"death", "life_threatening"} & set(self.criteria))

    @property
    def study(self) -> bool:
        return self.report_type == ReportType.STUDY.value


@dataclass(frozen=True)
class Outcome:
    passed: bool
    found: str  # what the rule saw, in a sentence


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    basis: str
    check: Callable[[CaseFacts], Outcome]


@dataclass(frozen=True)
class RuleResult:
    code: str
    title: str
    basis: str
    passed: bool
    found: str

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "title": self.title,
            "basis": self.basis,
            "passed": self.passed,
            "found": self.found,
        }


def _judge(rules: tuple[Rule, ...], facts: CaseFacts) -> list[RuleResult]:
    results = []
    for rule in rules:
        try:
            outcome = rule.check(facts)
        except Exception as err:
            outcome = Outcome(False, f"the rule could not be judged: {err}")
        results.append(RuleResult(rule.code, rule.title, rule.basis, outcome.passed, outcome.found))
    return results


# --- validity --------------------------------------------------------------------------------


def _patient(f: CaseFacts) -> Outcome:
    held = [
        label
        for label, value in (
            ("initials", f.patient_initials),
            ("age", f.patient_age_years),
            ("sex", f.patient_sex if f.patient_sex != "unknown" else None),
        )
        if value not in (None, "")
    ]
    if held:
        return Outcome(True, f"patient identified by {', '.join(held)}")
    return Outcome(False, "no initials, age or sex: the patient is not identifiable")


def _reporter(f: CaseFacts) -> Outcome:
    if f.reporter_type:
        where = f" in {f.reporter_country}" if f.reporter_country else ""
        return Outcome(True, f"reporter: {f.reporter_type}{where}")
    return Outcome(False, "the reporter's qualification (HCP or patient) is not known")


def _suspect(f: CaseFacts) -> Outcome:
    if f.suspects:
        return Outcome(True, "suspect: " + ", ".join(p.product for p in f.suspects))
    return Outcome(False, "no suspect product named")


def _event(f: CaseFacts) -> Outcome:
    if f.events:
        return Outcome(True, "events: " + "; ".join(e.verbatim for e in f.events))
    return Outcome(False, "no adverse event or reaction described")


VALIDITY: tuple[Rule, ...] = (
    Rule("identifiable_patient", "An identifiable patient", f"{ICH_E2D}; {GVP_VI}", _patient),
    Rule("identifiable_reporter", "An identifiable reporter", f"{ICH_E2D}; {GVP_VI}", _reporter),
    Rule("suspect_product", "At least one suspect product", f"{ICH_E2D}; {GVP_VI}", _suspect),
    Rule("adverse_event", "At least one adverse event", f"{ICH_E2D}; {GVP_VI}", _event),
)


def validity(facts: CaseFacts) -> list[RuleResult]:
    return _judge(VALIDITY, facts)


def is_valid(facts: CaseFacts) -> bool:
    return all(r.passed for r in validity(facts))


# --- seriousness -----------------------------------------------------------------------------

SERIOUSNESS_BASIS = "ICH E2A §III.B; ICH E2B(R3) E.i.3.2a–f"
CRITERION_LABELS = {
    "death": "results in death",
    "life_threatening": "is life-threatening",
    "hospitalisation": "requires or prolongs hospitalisation",
    "disabling": "results in persistent or significant disability",
    "congenital_anomaly": "is a congenital anomaly / birth defect",
    "other_medically_important": "is another medically important condition",
}


def seriousness(facts: CaseFacts) -> RuleResult:
    if facts.serious:
        met = "; ".join(CRITERION_LABELS[c] for c in facts.criteria)
        return RuleResult("serious", "Seriousness", SERIOUSNESS_BASIS, True, f"serious: {met}")
    return RuleResult(
        "serious", "Seriousness", SERIOUSNESS_BASIS, False, "no E2B seriousness criterion met"
    )


# --- expectedness ----------------------------------------------------------------------------

EXPECTEDNESS_BASIS = (
    "ICH E2A §III.C (expectedness against the reference safety information); "
    "GVP Module VI §VI.C.2.2"
)


def _term(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


@dataclass(frozen=True)
class Expectedness:
    expected: bool
    basis: str
    per_event: tuple[tuple[str, str, bool, str], ...]  # (product, event, expected, why)


def expectedness(facts: CaseFacts) -> Expectedness:
    """A case is expected only when every event is listed for every suspect product."""
    rows: list[tuple[str, str, bool, str]] = []
    for product in facts.suspects:
        info = facts.reference.get(product.product)
        for event in facts.events:
            if info is None:
                rows.append(
                    (product.product, event.verbatim, False, "no reference safety information")
                )
                continue
            terms = {_term(t) for t in info.expected_terms}
            listed = _term(event.verbatim) in terms or (
                bool(event.meddra_code) and event.meddra_code in terms
            )
            why = f"{'listed' if listed else 'not listed'} in {info.document_reference}"
            rows.append((product.product, event.verbatim, listed, why))
    expected = bool(rows) and all(row[2] for row in rows)
    return Expectedness(expected, EXPECTEDNESS_BASIS, tuple(rows))


# --- causality -------------------------------------------------------------------------------

CAUSALITY_BASIS = "WHO-UMC system for standardised case causality assessment (2013)"
CAUSALITY_MEANING = {
    Causality.CERTAIN: "plausible time relationship, not explained by disease or other drugs, "
    "positive dechallenge, definitive rechallenge if needed",
    Causality.PROBABLE: "reasonable time relationship, unlikely to be due to disease or other "
    "drugs, clinically reasonable response to withdrawal",
    Causality.POSSIBLE: "reasonable time relationship, but could also be explained by disease "
    "or other drugs; withdrawal information lacking or unclear",
    Causality.UNLIKELY: "time relationship improbable (not impossible); disease or other drugs "
    "provide plausible explanations",
    Causality.CONDITIONAL: "more data essential for a proper assessment, or being examined",
    Causality.UNASSESSABLE: "insufficient or contradictory information that can't be "
    "supplemented or verified",
}


def related(causality: str | None) -> bool:
    """Whether a causal relationship is at least a reasonable possibility (ICH E2A §III.A.1:
    spontaneous reports imply one, so an unassessed spontaneous case counts as related)."""
    return causality not in (Causality.UNLIKELY.value,)


# --- reporting clocks ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockRule:
    region: str
    code: str
    days: int
    title: str
    basis: str
    applies: Callable[[CaseFacts, bool], bool]  # (facts, expected)


@dataclass(frozen=True)
class Clock:
    region: str
    code: str
    days: int
    title: str
    basis: str
    due_on: date

    def overdue(self, today: date) -> bool:
        return today > self.due_on

    def as_dict(self, today: date) -> dict[str, object]:
        return {
            "region": self.region,
            "code": self.code,
            "days": self.days,
            "title": self.title,
            "basis": self.basis,
            "due_on": self.due_on.isoformat(),
            "overdue": self.overdue(today),
        }


def _post(f: CaseFacts) -> bool:
    return not f.study


def _susar(f: CaseFacts, expected: bool) -> bool:
    return f.study and f.serious and not expected and related(f.causality)


CLOCK_RULES: tuple[ClockRule, ...] = (
    # European Union
    ClockRule(
        "EU",
        "eu_serious_15",
        15,
        "Serious ICSR to EudraVigilance within 15 days",
        "Directive 2001/83/EC Art. 107(3) first subparagraph; GVP Module VI §VI.C.3",
        lambda f, _e: _post(f) and f.serious,
    ),
    ClockRule(
        "EU",
        "eu_non_serious_90",
        90,
        "Non-serious ICSR to EudraVigilance within 90 days",
        "Directive 2001/83/EC Art. 107(3) second subparagraph; GVP Module VI §VI.C.3",
        lambda f, _e: _post(f) and not f.serious,
    ),
    ClockRule(
        "EU",
        "eu_susar_7",
        7,
        "Fatal or life-threatening SUSAR within 7 days",
        "Regulation (EU) No 536/2014 Art. 42(2)(a)",
        lambda f, e: _susar(f, e) and f.fatal_or_life_threatening,
    ),
    ClockRule(
        "EU",
        "eu_susar_15",
        15,
        "Other SUSAR within 15 days",
        "Regulation (EU) No 536/2014 Art. 42(2)(b)",
        lambda f, e: _susar(f, e) and not f.fatal_or_life_threatening,
    ),
    # United States: non-serious and expected serious reactions go in the periodic report
    # (21 CFR 314.80(c)(2)), so the US has no 90-day individual clock.
    ClockRule(
        "US",
        "us_alert_15",
        15,
        "15-day Alert report (serious and unexpected) to FDA",
        "21 CFR 314.80(c)(1)(i) (drugs); 21 CFR 600.80(c)(1)(i) (biologics)",
        lambda f, e: _post(f) and f.serious and not e,
    ),
    ClockRule(
        "US",
        "us_ind_7",
        7,
        "IND safety report: unexpected fatal or life-threatening, 7 days",
        "21 CFR 312.32(c)(2)",
        lambda f, e: _susar(f, e) and f.fatal_or_life_threatening,
    ),
    ClockRule(
        "US",
        "us_ind_15",
        15,
        "IND safety report: serious and unexpected, 15 days",
        "21 CFR 312.32(c)(1)(i)",
        lambda f, e: _susar(f, e) and not f.fatal_or_life_threatening,
    ),
    # China (NMPA)
    ClockRule(
        "CN",
        "cn_serious_15",
        15,
        "Serious ADR to NMPA within 15 days",
        "NMPA Good Pharmacovigilance Practice (药物警戒质量管理规范, 2021), individual ADR "
        "reporting; NMPA Announcement 2018 No. 66",
        lambda f, _e: _post(f) and f.serious,
    ),
    ClockRule(
        "CN",
        "cn_non_serious_30",
        30,
        "Non-serious ADR to NMPA within 30 days",
        "NMPA Good Pharmacovigilance Practice (2021), individual ADR reporting",
        lambda f, _e: _post(f) and not f.serious,
    ),
    ClockRule(
        "CN",
        "cn_susar_7",
        7,
        "Fatal or life-threatening SUSAR within 7 days",
        "NMPA, Standards and Procedures for Expedited Reporting of Safety Data during Drug "
        "Clinical Trials (2018)",
        lambda f, e: _susar(f, e) and f.fatal_or_life_threatening,
    ),
    ClockRule(
        "CN",
        "cn_susar_15",
        15,
        "Other SUSAR within 15 days",
        "NMPA, Standards and Procedures for Expedited Reporting of Safety Data during Drug "
        "Clinical Trials (2018)",
        lambda f, e: _susar(f, e) and not f.fatal_or_life_threatening,
    ),
)
REGIONS = ("EU", "US", "CN")


def clocks(facts: CaseFacts, day_zero: date, regions: tuple[str, ...] = REGIONS) -> list[Clock]:
    """The reports owed for this case and when (calendar days from day 0)."""
    expected = expectedness(facts).expected
    return [
        Clock(r.region, r.code, r.days, r.title, r.basis, day_zero + timedelta(days=r.days))
        for r in CLOCK_RULES
        if r.region in regions and r.applies(facts, expected)
    ]
