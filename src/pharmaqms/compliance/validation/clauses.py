"""The catalogue of clauses the validation matrix traces: each clause id (as written in a
``@pytest.mark.clause`` marker), its title, and the requirement as this system meets it, in our
own words and stating facts only. A clause the system can not show by itself (a written policy,
a certification to FDA) says so: it stays a gap in the report, which is the honest answer.

Clause numbers follow the regulations register (``compliance/data/register.json``); a test keeps
the two lists in step."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Regulation:
    key: str  # the prefix of its clause ids
    title: str
    register_code: str | None  # the code in the regulations register, if it is a regulation


@dataclass(frozen=True)
class Clause:
    id: str  # "part11:11.10(e)"
    title: str
    requirement: str

    @property
    def regulation(self) -> str:
        return self.id.split(":", 1)[0]

    @property
    def number(self) -> str:
        return self.id.split(":", 1)[1]


REGULATIONS = (
    Regulation("part11", "21 CFR Part 11", "21 CFR 11"),
    Regulation("annex11", "EU GMP Annex 11", "EU GMP Annex 11"),
    Regulation("alcoa", "ALCOA+ data integrity", None),
)

_PART11 = [
    (
        "11.10(a)",
        "Validation; discerning invalid or altered records",
        "Every change to a GxP record is entered in a hash-chained audit trail, keyed with a "
        "secret held outside the database. pharmaqms audit verify recomputes the chain and "
        "names the first break and every record whose current state differs from its last "
        "audited state. This matrix is the summary of the automated test evidence.",
    ),
    (
        "11.10(b)",
        "Accurate and complete copies",
        "The audit trail exports as CSV (filtered or per record); a document prints as a "
        "controlled copy PDF that shows its signatures, and uncontrolled copies and drafts "
        "carry a watermark.",
    ),
    (
        "11.10(c)",
        "Protection of records for their retention period",
        "The audit trail, signatures and measured data are append-only: database triggers "
        "refuse UPDATE and DELETE, and the application refuses to delete audited rows. A "
        "backup restores into an empty SQLite or PostgreSQL database and verifies; a damaged "
        "backup is refused before anything is written.",
    ),
    (
        "11.10(d)",
        "Limiting system access to authorised individuals",
        "Every page and API route declares the permission it needs (deny by default); an "
        "unauthenticated visit goes to the login page; unknown, expired or revoked tokens and "
        "idle or expired sessions are refused; a deactivated person's session stops working.",
    ),
    (
        "11.10(e)",
        "Secure, time-stamped audit trail",
        "The kernel writes an audit entry in the same transaction as each change: who, when "
        "(UTC), what with old and new values field by field, why and through which channel. "
        "A change after draft needs a reason. Entries can not be changed or removed, so earlier "
        "values stay visible.",
    ),
    (
        "11.10(f)",
        "Operational checks: permitted sequence of steps",
        "Statuses change only through the workflow engine's transition tables: a transition "
        "from the wrong state is refused before anything changes, and guards refuse a step "
        "whose prerequisites are missing (a batch-record step out of order, a deviation "
        "submitted before classification).",
    ),
    (
        "11.10(g)",
        "Authority checks",
        "Each transition names the roles that may perform it and each route its permission; "
        "only the approvers of a record may sign it, the author may not approve their own "
        "record, and only an administrator unlocks accounts.",
    ),
    (
        "11.10(h)",
        "Device checks: validity of the source of data input",
        "A reading from a sensor the system does not know is quarantined until the sensor is "
        "registered; a logger past its calibration is flagged; equipment of the wrong kind or "
        "out of calibration is refused in a batch record.",
    ),
    (
        "11.10(i)",
        "Training of the people who use the system",
        "Training on the governing SOP is a record; the workflow refuses a signed step to a "
        "person not trained on it or whose training is overdue. Training of developers and "
        "administrators is the company's procedure, not shown here.",
    ),
    (
        "11.10(j)",
        "Written policy: accountability for e-signatures",
        "Procedural: the company's written policy that holds people accountable for what they "
        "sign. The system does not hold it, and no automated test can show it.",
    ),
    (
        "11.10(k)",
        "Control of system documentation",
        "SOPs and other controlled documents go from draft to effective with an approval "
        "signature; a version in force is superseded only by its successor; documents are "
        "reviewed periodically, with a signed conclusion or a revision.",
    ),
    (
        "11.50",
        "Signature manifestations",
        "A signature stores the signer's printed name, the UTC date and time and the meaning; "
        "the controlled copy of a document prints who signed, what and when.",
    ),
    (
        "11.70",
        "Signature/record linking",
        "A signature stores the hash of the content it covers; a later change of the record "
        "shows the signature as no longer valid, and a signature moved to another record is "
        "found by verify and flagged on the record's page.",
    ),
    (
        "11.100",
        "Uniqueness and assignment of e-signatures",
        "A username is never reused, even after deactivation. A role that signs is given only "
        "when a second administrator approves the request; no one approves their own; an "
        "account created with such roles starts without them. The certification to FDA is "
        "the company's letter, outside the system.",
    ),
    (
        "11.200",
        "Signature components and controls",
        "Within a logged-in session each signature asks again for the signer's password; "
        "without it or with a wrong one nothing is signed, and the attempt is counted toward "
        "the lockout and audited. An administrator who resets a password and uses it can not "
        "sign as its owner.",
    ),
    (
        "11.300",
        "Controls for identification codes and passwords",
        "Usernames are unique; passwords follow a policy, expire after a maximum age and may "
        "not repeat recent ones; five failed logins lock the account and raise a security "
        "alert; a reset issues a temporary password that must be changed and ends every "
        "session and token. (No tokens or cards are used, so §11.300(e) has nothing to test.)",
    ),
]

_ANNEX11 = [
    (
        "1",
        "Risk management",
        "Procedural: the company's risk assessment of the system over its life. The system "
        "holds no risk assessment of itself, so no test shows this.",
    ),
    (
        "2",
        "Personnel",
        "Signed steps are refused to a person not trained on the governing SOP; roles give "
        "each person the permissions their tasks need.",
    ),
    (
        "3",
        "Suppliers and service providers",
        "Procedural: agreements with and assessment of the system's suppliers. Not shown by "
        "the system.",
    ),
    (
        "4",
        "Validation",
        "This traceability matrix: each clause, the requirement as met, the automated tests "
        "marked with the clause and their last results, with gaps named.",
    ),
    (
        "5",
        "Data: built-in checks on exchanged data",
        "Connectors refuse files and messages their readers can not take, with the reason, and "
        "keep the refusal on record; bad rows are quarantined with their specific reasons.",
    ),
    (
        "6",
        "Accuracy checks of manually entered critical data",
        "Typed values are checked (number, unit, range, parameter) and refused with the field "
        "named; a batch-record step is verified by a second person, never its performer.",
    ),
    (
        "7",
        "Data storage and backups",
        "Backups restore into an empty database and verify intact; a corrupted backup or a "
        "restore into a database holding data is refused and changes nothing.",
    ),
    (
        "8",
        "Printouts",
        "The controlled copy of a document shows who signed what and when; an uncontrolled "
        "copy and a draft carry a watermark saying so.",
    ),
    (
        "9",
        "Audit trails",
        "System-generated entries for every change of a GxP record with who, when, old and new "
        "values and the reason (required after draft); the trail is read and filtered in the "
        "viewer and exported as CSV.",
    ),
    (
        "10",
        "Change and configuration management",
        "Change controls are approved by every impacted function and QA with signatures, "
        "implemented and closed; the database schema is built only by migrations that match "
        "the models.",
    ),
    (
        "11",
        "Periodic evaluation",
        "Procedural: the company's periodic evaluation of the system. The system's own "
        "periodic reviews are of documents, which do not show this clause.",
    ),
    (
        "12",
        "Security",
        "Access is deny-by-default per route; granting a role that signs needs a second "
        "administrator; changing roles needs a reason; every data action "
        "carries the person, date and time.",
    ),
    (
        "13",
        "Incident management",
        "An incident is raised as a deviation, classified, investigated to a root cause and "
        "closed with a signature.",
    ),
    (
        "14",
        "Electronic signature",
        "A signature is permanently linked to its record by the hash of the content it "
        "covers, and records the signer, the meaning and the UTC date and time.",
    ),
    (
        "15",
        "Batch release",
        "Only a Qualified Person decides on a batch, with an electronic signature; the release "
        "certificate shows every release rule and the QP's signature.",
    ),
    (
        "16",
        "Business continuity",
        "After a breakdown the database is rebuilt from a backup into a new SQLite or "
        "PostgreSQL database and verified. Keeping processes going meanwhile is procedural.",
    ),
    (
        "17",
        "Archiving",
        "An archived backup restores and verifies in a new database, also across database "
        "engines; a backup edited afterwards restores but does not verify.",
    ),
]

_ALCOA = [
    (
        "attributable",
        "Attributable",
        "Every audit entry names the person (and their name at that time) and the channel; "
        "sensor readings keep the device's identity.",
    ),
    (
        "legible",
        "Legible",
        "The audit trail reads in the viewer, filtered, and as CSV; documents print as PDF.",
    ),
    (
        "contemporaneous",
        "Contemporaneous",
        "Entries are time-stamped in UTC by the system clock when the change is made, in the "
        "same transaction; readings keep their device timestamp.",
    ),
    (
        "original",
        "Original",
        "Measured data is sealed (append-only); a corrected value keeps its original and the "
        "rule that changed it as lineage.",
    ),
    (
        "accurate",
        "Accurate",
        "Input is checked and refused with the field named, never guessed; units are converted "
        "with lineage; signatures cover a content hash.",
    ),
    (
        "complete",
        "Complete",
        "A record and its audit entries commit or roll back together; nothing is deleted; old "
        "and new values are both kept.",
    ),
    (
        "consistent",
        "Consistent",
        "A save on a stale version is refused; record numbers are unique and consecutive "
        "under concurrent creation.",
    ),
    (
        "enduring",
        "Enduring",
        "The trail, signatures and sealed data can not be changed or removed through the "
        "application's database role; backups restore and verify.",
    ),
    (
        "available",
        "Available",
        "Auditors read the trail and accounts through pages and the API; backups restore into "
        "a new database.",
    ),
]

CLAUSES: tuple[Clause, ...] = tuple(
    Clause(f"{prefix}:{number}", title, requirement)
    for prefix, table in (("part11", _PART11), ("annex11", _ANNEX11), ("alcoa", _ALCOA))
    for number, title, requirement in table
)
BY_ID = {c.id: c for c in CLAUSES}


def unknown_clause_ids(ids: list[str] | tuple[str, ...]) -> list[str]:
    """The ids (in the order given) that the catalogue does not hold."""
    return [i for i in ids if i not in BY_ID]
