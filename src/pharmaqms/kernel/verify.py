"""``audit verify``: recompute the hash chain and compare every record with its last audit
entry. Finds rows changed, removed or inserted behind the application's back, in the audit
table, in record tables and in the signature table.

The chain is unkeyed SHA-256: someone who can write the database *and* recompute every later
hash could forge a consistent chain. Keeping the head hash elsewhere (``audit head``) closes
that; triggers stop mistakes, the chain exposes tampering, the anchor exposes a rewrite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.audit import GENESIS, chain_hash, entry_content_of_tuple
from pharmaqms.kernel.canonical import plain
from pharmaqms.kernel.models import AuditChainHead, AuditEntry, ElectronicSignature
from pharmaqms.kernel.records import AUDITED_TYPES
from pharmaqms.kernel.signatures import signature_hash


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str
    record_type: str | None = None
    record_id: int | None = None
    seq: int | None = None


@dataclass
class VerifyReport:
    entries: int = 0
    records: int = 0
    signatures: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "entries": self.entries,
            "records": self.records,
            "signatures": self.signatures,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "findings": [asdict(f) for f in self.findings],
        }


Progress = Callable[[str, int], None]


def verify(session: Session, progress: Progress | None = None) -> VerifyReport:
    report = VerifyReport()
    tick = progress or (lambda _stage, _n: None)
    if session.get_bind().dialect.name == "postgresql":
        # One snapshot for the whole check: under READ COMMITTED an entry appended while the
        # chain streams, or a record changed after its entries were read, would be reported
        # as tampering. (SQLite's read transaction is a snapshot already.)
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    head = session.get(AuditChainHead, 1)
    beyond_head: Any = None  # the first entry past the head: appended behind the app's back
    latest: dict[tuple[str, int], tuple[int, str, str]] = {}
    expected_seq = 1
    prev_hash = GENESIS
    # The entries of one transaction share their timestamp: format it once, not per entry.
    last_time: Any = None
    last_stamp = ""
    # Table columns, not ORM attributes: the rows are only read, and ORM-enabled column
    # loading cost several times the reading itself.
    table = AuditEntry.__table__
    columns = [table.c[name] for name in (*AuditEntry.HASHED, "entry_hash")]
    stream = session.execute(
        select(*columns).order_by(table.c.seq).execution_options(yield_per=5000)
    )
    for row in stream:
        report.entries += 1
        if report.entries % 5000 == 0:
            tick("chain", 5000)
        content = entry_content_of_tuple(row)  # the row is the HASHED columns, then the hash
        if content["occurred_at"] != last_time:
            last_time = content["occurred_at"]
            last_stamp = plain(last_time)
        content["occurred_at"] = last_stamp  # what the canonical form writes for it
        if row.seq != expected_seq:
            if row.seq > expected_seq:
                # Which record the deleted entries concerned is unknown: the entry after the
                # gap is intact and may belong to any record, so none is named.
                report.findings.append(
                    Finding(
                        "entry_missing",
                        f"audit entries {expected_seq}–{row.seq - 1} are missing before entry "
                        f"{row.seq} (deleted)",
                        seq=expected_seq,
                    )
                )
            else:
                report.findings.append(
                    Finding(
                        "entry_out_of_sequence",
                        f"entry {row.seq} out of sequence",
                        row.record_type,
                        row.record_id,
                        row.seq,
                    )
                )
        elif row.prev_hash != prev_hash:
            report.findings.append(
                Finding(
                    "entry_inserted",
                    f"entry {row.seq} does not follow entry {row.seq - 1} in the chain: an "
                    "entry was inserted or replaced here",
                    row.record_type,
                    row.record_id,
                    row.seq,
                )
            )
        if chain_hash(row.prev_hash, content) != row.entry_hash:
            report.findings.append(
                Finding(
                    "entry_altered",
                    f"entry {row.seq} ({row.action} on {row.record_label}) was changed after "
                    "it was written: its content no longer matches its hash",
                    row.record_type,
                    row.record_id,
                    row.seq,
                )
            )
        if head is not None and beyond_head is None and row.seq > head.seq:
            beyond_head = row
        prev_hash = row.entry_hash
        expected_seq = row.seq + 1
        if row.state_hash is not None and row.record_id is not None:
            latest[(row.record_type, row.record_id)] = (row.seq, row.state_hash, row.record_label)
    last_seq = expected_seq - 1
    if head is not None:
        report.head_seq, report.head_hash = head.seq, head.entry_hash
        if beyond_head is not None:
            report.findings.append(
                Finding(
                    "chain_head_mismatch",
                    f"the chain head says entry {head.seq} is the last, the table goes on to "
                    f"entry {last_seq}: entry {beyond_head.seq} ({beyond_head.action} on "
                    f"{beyond_head.record_label}) and any after it were added behind the "
                    "application's back",
                    beyond_head.record_type,
                    beyond_head.record_id,
                    beyond_head.seq,
                )
            )
        elif head.seq != last_seq or head.entry_hash != prev_hash:
            report.findings.append(
                Finding(
                    "chain_truncated" if head.seq > last_seq else "chain_head_mismatch",
                    f"the chain head says entry {head.seq} is the last, the table ends at "
                    f"entry {last_seq}: entries were removed from or added to the end",
                    seq=head.seq,
                )
            )
    for audit_type, model in sorted(AUDITED_TYPES.items()):
        ids_seen = 0
        for obj in session.execute(select(model).execution_options(yield_per=2000)).scalars():
            report.records += 1
            ids_seen += 1
            record_id = getattr(obj, "id")  # noqa: B009
            last = latest.pop((audit_type, record_id), None)
            if last is None:
                report.findings.append(
                    Finding(
                        "record_without_audit",
                        f"{obj.audit_label()} has no audit entry: it was inserted behind the "
                        "application's back",
                        audit_type,
                        record_id,
                    )
                )
            elif obj.state_hash() != last[1]:
                report.findings.append(
                    Finding(
                        "record_altered",
                        f"{obj.audit_label()} no longer matches its last audit entry "
                        f"({last[0]}): it was changed behind the application's back",
                        audit_type,
                        record_id,
                        last[0],
                    )
                )
            session.expunge(obj)
        tick("records", ids_seen)
    for (audit_type, record_id), (seq, _hash, label) in sorted(latest.items()):
        if audit_type not in AUDITED_TYPES:
            report.findings.append(
                Finding(
                    "record_type_unknown",
                    f"{label}: the record type {audit_type!r} is not loaded in this process, "
                    "so it could not be checked",
                    audit_type,
                    record_id,
                    seq,
                )
            )
            continue
        report.findings.append(
            Finding(
                "record_missing",
                f"{label} ({audit_type} {record_id}) is in the audit trail but not in its "
                "table: it was deleted",
                audit_type,
                record_id,
                seq,
            )
        )
    for signature in session.execute(
        select(ElectronicSignature).execution_options(yield_per=2000)
    ).scalars():
        report.signatures += 1
        if signature_hash(signature) != signature.signature_hash:
            report.findings.append(
                Finding(
                    "signature_altered",
                    f"signature {signature.id} ({signature.meaning} by "
                    f"{signature.signer_username}) was changed or moved after signing",
                    signature.record_type,
                    signature.record_id,
                )
            )
        signed = AUDITED_TYPES.get(signature.record_type)
        if signed is None or session.get(signed, signature.record_id) is None:
            report.findings.append(
                Finding(
                    "signature_orphaned",
                    f"signature {signature.id} points at {signature.record_type} "
                    f"{signature.record_id}, which does not exist",
                    signature.record_type,
                    signature.record_id,
                )
            )
    return report
