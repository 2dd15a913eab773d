"""The ICH E2B(R3) code lists and object identifiers (OIDs) this package reads and writes.

Values are the ICH codes as they travel in the XML (``code="1"``), not labels: the message is
the contract, so an enum member's value is exactly what is written. The ICH OIDs live under
2.16.840.1.113883.3.989.2.1: ``.1.x`` are code systems, ``.3.x`` are identifier namespaces
(ICH E2B(R3) Implementation Guide, appendix on OIDs). Code lists whose content is owned by
others (MedDRA, ISO IDMP, EDQM) are not shipped: their codes are carried as received.
"""

from __future__ import annotations

from enum import Enum, StrEnum
from typing import Final

HL7_NS: Final = "urn:hl7-org:v3"
XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"

_ICH: Final = "2.16.840.1.113883.3.989.2.1"


class OID:
    """Code systems (``.1.x``) and identifier roots (``.3.x``) of the ICH E2B(R3) IG."""

    MESSAGE_TYPE: Final = f"{_ICH}.1.1"  # N.1.1
    REPORT_TYPE: Final = f"{_ICH}.1.2"  # C.1.3
    FIRST_SENDER: Final = f"{_ICH}.1.3"  # C.1.8.2
    RECORD_SOURCE: Final = f"{_ICH}.1.4"  # D.1.1.x
    NULLIFICATION: Final = f"{_ICH}.1.5"  # C.1.11.1
    QUALIFICATION: Final = f"{_ICH}.1.6"  # C.2.r.4
    SENDER_TYPE: Final = f"{_ICH}.1.7"  # C.3.1
    STUDY_TYPE: Final = f"{_ICH}.1.8"  # C.5.4
    AGE_GROUP: Final = f"{_ICH}.1.9"  # D.2.3
    TERM_HIGHLIGHTED: Final = f"{_ICH}.1.10"  # E.i.3.1
    OUTCOME: Final = f"{_ICH}.1.11"  # E.i.7
    TEST_RESULT: Final = f"{_ICH}.1.12"  # F.r.3.1
    DRUG_ROLE: Final = f"{_ICH}.1.13"  # G.k.1
    ROUTE: Final = f"{_ICH}.1.14"  # G.k.4.r.10.2b / G.k.4.r.11.2b (the E2B(R2) list)
    ACTION_TAKEN: Final = f"{_ICH}.1.15"  # G.k.8
    RECURRENCE: Final = f"{_ICH}.1.16"  # G.k.9.i.4
    ADDITIONAL_DRUG_INFO: Final = f"{_ICH}.1.17"  # G.k.10.r
    ACTION_PERFORMED: Final = f"{_ICH}.1.18"  # G.k.2.4 (retail supply)
    OBSERVATION: Final = f"{_ICH}.1.19"  # the "what is this observation" codes, below
    VALUE_GROUPING: Final = f"{_ICH}.1.20"  # organizer categories
    AUTHOR_ROLE: Final = f"{_ICH}.1.21"  # sender / reporter / source reporter
    REPORT_RELATION: Final = f"{_ICH}.1.22"  # first sender, source report
    REPORT_CHARACTERISATION: Final = f"{_ICH}.1.23"  # C.1.3, C.1.9.1, C.1.11
    DOCUMENT_SOURCE: Final = f"{_ICH}.1.27"  # C.1.6.1.r / C.4.r

    SAFETY_REPORT_ID: Final = f"{_ICH}.3.1"  # C.1.1 and N.2.r.1
    WORLDWIDE_CASE_ID: Final = f"{_ICH}.3.2"  # C.1.8.1 and C.1.10.r
    OTHER_CASE_ID: Final = f"{_ICH}.3.3"  # C.1.9.1.r
    AUTHORISATION_NUMBER: Final = f"{_ICH}.3.4"  # G.k.3.1
    SPONSOR_STUDY_NUMBER: Final = f"{_ICH}.3.5"  # C.5.3
    STUDY_REGISTRATION: Final = f"{_ICH}.3.6"  # C.5.1.r.1
    GP_RECORD: Final = f"{_ICH}.3.7"  # D.1.1.1
    SPECIALIST_RECORD: Final = f"{_ICH}.3.8"  # D.1.1.2
    HOSPITAL_RECORD: Final = f"{_ICH}.3.9"  # D.1.1.3
    INVESTIGATION_NUMBER: Final = f"{_ICH}.3.10"  # D.1.1.4
    MESSAGE_SENDER: Final = f"{_ICH}.3.11"  # N.2.r.2
    MESSAGE_RECEIVER: Final = f"{_ICH}.3.12"  # N.2.r.3
    BATCH_SENDER: Final = f"{_ICH}.3.13"  # N.1.3
    BATCH_RECEIVER: Final = f"{_ICH}.3.14"  # N.1.4
    BATCH_NUMBER: Final = f"{_ICH}.3.22"  # N.1.2

    MEDDRA: Final = "2.16.840.1.113883.6.163"
    UCUM: Final = "2.16.840.1.113883.6.8"
    ISO_COUNTRY: Final = "1.0.3166.1.2.2"
    ISO_SEX: Final = "1.0.5218"
    HL7_INTERACTION: Final = "2.16.840.1.113883.1.6"
    HL7_TRIGGER: Final = "2.16.840.1.113883.1.18"
    HL7_ACT_CODE: Final = "2.16.840.1.113883.5.4"
    HL7_ROLE_CODE: Final = "2.16.840.1.113883.5.111"
    HL7_INTERPRETATION: Final = "2.16.840.1.113883.5.83"
    # ISO IDMP identifiers had no OID when the IG was published; ICH instances use these.
    MPID: Final = "TBD-MPID"
    PHPID: Final = "TBD-PhPID"
    SUBSTANCE: Final = "TBD-Substance"
    DOSE_FORM: Final = "TBD-DoseForm"


class NullFlavor(Enum):
    """HL7 null flavours. A plain Enum on purpose, not a StrEnum: a reporter called "UNK" is a
    name, the null flavour UNK is the absence of one, and the two must never compare equal."""

    NI = "NI"  # no information
    INV = "INV"
    OTH = "OTH"
    NINF = "NINF"
    PINF = "PINF"
    UNC = "UNC"
    DER = "DER"
    UNK = "UNK"  # unknown
    ASKU = "ASKU"  # asked but unknown
    NAV = "NAV"
    NASK = "NASK"  # not asked
    QS = "QS"
    TRC = "TRC"
    MSK = "MSK"  # masked: known, withheld for privacy
    NA = "NA"  # not applicable
    NP = "NP"


class Obs(StrEnum):
    """ICH observation codes (OID …1.19): what an observation, organizer or component holds."""

    ADDITIONAL_DOCUMENTS = "1"  # C.1.6.1
    ADDITIONAL_INFORMATION = "2"  # G.k.11
    AGE = "3"  # D.2.2, D.10.2.2
    AGE_GROUP = "4"  # D.2.3
    AUTOPSY = "5"  # D.9.3
    BLINDED = "6"  # G.k.2.5
    BODY_WEIGHT = "7"  # D.3, D.10.4
    CAUSE_OF_DEATH = "8"  # D.9.4.r (autopsy-determined)
    CODED_DRUG_INFORMATION = "9"  # G.k.10.r
    COMMENT = "10"  # D.7.1.r.5, F.r.6, H.2, H.4
    CONCOMITANT_THERAPY = "11"  # D.7.3
    CONGENITAL_ANOMALY = "12"  # E.i.3.2e
    CONTINUING = "13"  # D.7.1.r.3
    CUMULATIVE_DOSE = "14"  # G.k.5
    DIAGNOSIS = "15"  # H.3.r
    GESTATION_PERIOD = "16"  # D.2.2.1, G.k.6
    HEIGHT = "17"  # D.4, D.10.5
    HISTORY_TEXT = "18"  # D.7.2, D.10.7.2
    INDICATION = "19"  # D.8.r.6, G.k.7.r
    DRUG_ROLE = "20"  # G.k.1 (interventionCharacterization)
    LIFE_THREATENING = "21"  # E.i.3.2b
    LAST_MENSTRUAL_PERIOD = "22"  # D.6, D.10.3
    LOCAL_EXPEDITED = "23"  # C.1.7
    MEDICAL_CONFIRMATION = "24"  # E.i.8
    MORE_INFORMATION = "25"  # F.r.7
    OTHER_MEDICALLY_IMPORTANT = "26"  # E.i.3.2f
    OUTCOME = "27"  # E.i.7
    PARENT_ROUTE = "28"  # G.k.4.r.11
    REACTION = "29"  # E.i, D.8.r.7
    REACTION_FOR_TRANSLATION = "30"  # E.i.1.2
    RECURRENCE = "31"  # G.k.9.i.4
    REPORTED_CAUSE_OF_DEATH = "32"  # D.9.2.r
    HOSPITALISATION = "33"  # E.i.3.2c
    DEATH = "34"  # E.i.3.2a
    DISABLING = "35"  # E.i.3.2d
    SUMMARY_AND_COMMENT = "36"  # H.5.r
    TERM_HIGHLIGHTED = "37"  # E.i.3.1
    FAMILY_HISTORY = "38"  # D.7.1.r.6
    CAUSALITY = "39"  # G.k.9.i.2.r


class Grouping(StrEnum):
    """Organizer categories (OID …1.20)."""

    MEDICAL_HISTORY = "1"
    DRUG_HISTORY = "2"
    TESTS = "3"
    DRUG_INFORMATION = "4"


class AuthorRole(StrEnum):
    """Who wrote a comment or an indication (OID …1.21)."""

    SENDER = "1"
    REPORTER = "2"
    SOURCE_REPORTER = "3"


class ReportType(StrEnum):
    """C.1.3 Type of report."""

    SPONTANEOUS = "1"
    STUDY = "2"
    OTHER = "3"
    NOT_AVAILABLE_TO_SENDER = "4"


class FirstSender(StrEnum):
    """C.1.8.2 First sender of this case."""

    REGULATOR = "1"
    OTHER = "2"


class Nullification(StrEnum):
    """C.1.11.1 Report nullification / amendment."""

    NULLIFICATION = "1"
    AMENDMENT = "2"


class Qualification(StrEnum):
    """C.2.r.4 Qualification of the primary source."""

    PHYSICIAN = "1"
    PHARMACIST = "2"
    OTHER_HEALTH_PROFESSIONAL = "3"
    LAWYER = "4"
    CONSUMER = "5"  # consumer or other non health professional


HEALTH_PROFESSIONALS: Final = frozenset(
    {Qualification.PHYSICIAN, Qualification.PHARMACIST, Qualification.OTHER_HEALTH_PROFESSIONAL}
)


class SenderType(StrEnum):
    """C.3.1 Sender type."""

    PHARMACEUTICAL_COMPANY = "1"
    REGULATORY_AUTHORITY = "2"
    HEALTH_PROFESSIONAL = "3"
    REGIONAL_PV_CENTRE = "4"
    WHO_COLLABORATING_CENTRE = "5"
    OTHER = "6"
    PATIENT_OR_CONSUMER = "7"


class StudyType(StrEnum):
    """C.5.4 Study type in which the reaction(s) / event(s) were observed."""

    CLINICAL_TRIAL = "1"
    INDIVIDUAL_PATIENT_USE = "2"
    OTHER_STUDY = "3"


class AgeGroup(StrEnum):
    """D.2.3 Patient age group (as per reporter)."""

    FOETUS = "0"
    NEONATE = "1"
    INFANT = "2"
    CHILD = "3"
    ADOLESCENT = "4"
    ADULT = "5"
    ELDERLY = "6"


class Sex(StrEnum):
    """D.5 / D.10.6 Sex (ISO 5218); unknown is a null flavour, not a code."""

    MALE = "1"
    FEMALE = "2"


class TermHighlighted(StrEnum):
    """E.i.3.1 Term highlighted by the reporter (the ICH list also says serious or not)."""

    YES_NOT_SERIOUS = "1"
    NO_NOT_SERIOUS = "2"
    YES_SERIOUS = "3"
    NO_SERIOUS = "4"


class Outcome(StrEnum):
    """E.i.7 Outcome of reaction / event at the time of last observation."""

    UNKNOWN = "0"
    RECOVERED = "1"
    RECOVERING = "2"
    NOT_RECOVERED = "3"
    RECOVERED_WITH_SEQUELAE = "4"
    FATAL = "5"


class TestResultCode(StrEnum):
    """F.r.3.1 Test result (code)."""

    __test__ = False  # not a pytest class, despite the name

    POSITIVE = "1"
    NEGATIVE = "2"
    BORDERLINE = "3"
    INCONCLUSIVE = "4"


class DrugRole(StrEnum):
    """G.k.1 Characterisation of drug role."""

    SUSPECT = "1"
    CONCOMITANT = "2"
    INTERACTING = "3"
    NOT_ADMINISTERED = "4"


# A product "suspected" in the sense of the four minimum criteria (ICH E2D): suspect or
# interacting, not concomitant.
SUSPECTED_ROLES: Final = frozenset({DrugRole.SUSPECT, DrugRole.INTERACTING})


class ActionTaken(StrEnum):
    """G.k.8 Action(s) taken with drug."""

    WITHDRAWN = "1"
    DOSE_REDUCED = "2"
    DOSE_INCREASED = "3"
    DOSE_NOT_CHANGED = "4"
    UNKNOWN = "0"
    NOT_APPLICABLE = "9"


class Recurrence(StrEnum):
    """G.k.9.i.4 Did reaction recur on re-administration?"""

    RECHALLENGE_RECURRED = "1"  # yes – yes
    RECHALLENGE_NOT_RECURRED = "2"  # yes – no
    RECHALLENGE_OUTCOME_UNKNOWN = "3"  # yes – unk
    NO_RECHALLENGE = "4"  # no – n/a


class AdditionalDrugInfo(StrEnum):
    """G.k.10.r Additional information on drug (coded)."""

    COUNTERFEIT = "1"
    OVERDOSE = "2"
    TAKEN_BY_FATHER = "3"
    TAKEN_BEYOND_EXPIRY = "4"
    BATCH_TESTED_WITHIN_SPEC = "5"
    BATCH_TESTED_NOT_WITHIN_SPEC = "6"
    MEDICATION_ERROR = "7"
    MISUSE = "8"
    ABUSE = "9"
    OCCUPATIONAL_EXPOSURE = "10"
    OFF_LABEL_USE = "11"


class Seriousness(StrEnum):
    """E.i.3.2a–f, each an observation whose code is the criterion (OID …1.19)."""

    DEATH = Obs.DEATH.value
    LIFE_THREATENING = Obs.LIFE_THREATENING.value
    HOSPITALISATION = Obs.HOSPITALISATION.value
    DISABLING = Obs.DISABLING.value
    CONGENITAL_ANOMALY = Obs.CONGENITAL_ANOMALY.value
    OTHER_MEDICALLY_IMPORTANT = Obs.OTHER_MEDICALLY_IMPORTANT.value


# Units, in UCUM, from the constrained lists of the ICH E2B(R3) IG. Ages and intervals use a
# handful of time units; "{decade}", "{trimester}" and the frequency words are ICH annotations.
AGE_UNITS: Final = frozenset({"{decade}", "a", "mo", "wk", "d", "h"})
GESTATION_UNITS: Final = frozenset({"{trimester}", "mo", "wk", "d"})
DURATION_UNITS: Final = frozenset({"a", "mo", "wk", "d", "h", "min", "s"})
FREQUENCY_UNITS: Final = DURATION_UNITS | {"{cyclical}", "{asnecessary}", "{total}"}
# Years per unit, to judge an age against a plausible human lifespan.
YEARS_PER_AGE_UNIT: Final = {
    "{decade}": 10.0,
    "a": 1.0,
    "mo": 1 / 12,
    "wk": 7 / 365.25,
    "d": 1 / 365.25,
    "h": 1 / 8766,
}
# Dose units: the common part of the ICH UCUM subset. UCUM is a grammar, not a list, so a unit
# outside this set is reported as a warning for a person to look at, not refused.
DOSE_UNITS: Final = frozenset(
    {
        "kg",
        "g",
        "mg",
        "ug",
        "ng",
        "pg",
        "mol",
        "mmol",
        "umol",
        "nmol",
        "pmol",
        "L",
        "dL",
        "mL",
        "uL",
        "nL",
        "[iU]",
        "k[iU]",
        "M[iU]",
        "m[iU]",
        "[iU]/kg",
        "[iU]/L",
        "[iU]/mL",
        "mg/kg",
        "ug/kg",
        "ng/kg",
        "g/kg",
        "mg/m2",
        "ug/m2",
        "g/m2",
        "mg/mL",
        "ug/mL",
        "mg/L",
        "g/L",
        "mg/d",
        "mg/h",
        "ug/h",
        "mL/h",
        "mL/kg",
        "mg/kg/d",
        "mg/kg/h",
        "%",
        "[drp]",
        "{DF}",
        "{dose}",
        "{unit}",
        "1",
        "Bq",
        "kBq",
        "MBq",
        "GBq",
        "Ci",
        "mCi",
        "uCi",
        "[USP'U]",
        "meq",
        "mEq",
        "{tbl}",
        "{cap}",
        "{puff}",
        "{spray}",
        "{patch}",
        "{vial}",
        "{ampule}",
        "{suppository}",
        "{sachet}",
        "{application}",
        "{inhalation}",
        "{drop}",
        "{lozenge}",
        "{pastille}",
    }
)

# ISO 3166-1 alpha-2, plus "EU", which the IG admits for the European Union as a whole.
COUNTRIES: Final = frozenset(
    {
        "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
        "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
        "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
        "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
        "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
        "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
        "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
        "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
        "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
        "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
        "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
        "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
        "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
        "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
        "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
        "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
        "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW", "EU",
    }
)  # fmt: skip

# G.k.4.r.10.2b / G.k.4.r.11.2b: the E2B(R2) routes of administration (OID …1.14), which the
# IG keeps until ISO IDMP route terms are in use.
ROUTES: Final = {
    "001": "Auricular (otic)",
    "002": "Buccal",
    "003": "Cutaneous",
    "004": "Dental",
    "005": "Endocervical",
    "006": "Endosinusial",
    "007": "Endotracheal",
    "008": "Epidural",
    "009": "Extra-amniotic",
    "010": "Hemodialysis",
    "011": "Intra corpus cavernosum",
    "012": "Intra-amniotic",
    "013": "Intra-arterial",
    "014": "Intra-articular",
    "015": "Intra-uterine",
    "016": "Intracardiac",
    "017": "Intracavernous",
    "018": "Intracerebral",
    "019": "Intracervical",
    "020": "Intracisternal",
    "021": "Intracorneal",
    "022": "Intracoronary",
    "023": "Intradermal",
    "024": "Intradiscal (intraspinal)",
    "025": "Intrahepatic",
    "026": "Intralesional",
    "027": "Intralymphatic",
    "028": "Intramedullar (bone marrow)",
    "029": "Intrameningeal",
    "030": "Intramuscular",
    "031": "Intraocular",
    "032": "Intrapericardial",
    "033": "Intraperitoneal",
    "034": "Intrapleural",
    "035": "Intrasynovial",
    "036": "Intratumor",
    "037": "Intrathecal",
    "038": "Intrathoracic",
    "039": "Intratracheal",
    "040": "Intravenous bolus",
    "041": "Intravenous drip",
    "042": "Intravenous (not otherwise specified)",
    "043": "Intravesical",
    "044": "Iontophoresis",
    "045": "Nasal",
    "046": "Occlusive dressing technique",
    "047": "Ophthalmic",
    "048": "Oral",
    "049": "Oropharingeal",
    "050": "Other",
    "051": "Parenteral",
    "052": "Periarticular",
    "053": "Perineural",
    "054": "Rectal",
    "055": "Respiratory (inhalation)",
    "056": "Retrobulbar",
    "057": "Subconjunctival",
    "058": "Subcutaneous",
    "059": "Subdermal",
    "060": "Sublingual",
    "061": "Topical",
    "062": "Transdermal",
    "063": "Transmammary",
    "064": "Transplacental",
    "065": "Unknown",
    "066": "Urethral",
    "067": "Vaginal",
}
