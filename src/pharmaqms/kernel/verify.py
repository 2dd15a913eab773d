"""``audit verify``: recompute the keyed hash chain and its head's MAC, compare every record
with its last audit entry, every e-signature with the entry its signing wrote and every
sealed data row with its seal. Finds rows changed, removed or inserted behind the
application's back, in the audit table, in record tables, in the signature table (a
signature's own hash is unkeyed: its signing entry is what binds it) and in the data tables.

The links are HMACs under the key file's audit key (kernel/chain.py): someone who can write
the database but does not hold the key can't recompute them. Triggers stop mistakes, the
keyed chain exposes tampering, a signed head kept elsewhere (``audit head``, checked with
``--expect-head``) exposes a cut made by someone who kept an old head row.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from pharmaqms.kernel.canonical import plain
from pharmaqms.kernel.chain import (
    GENESIS,
    Head,
    checked_head,
    entry_text,
    head_problem,
    head_still_contained,
    keyed_linker,
)
from pharmaqms.kernel.keys import Keyring, keyring_for
from pharmaqms.kernel.models import AuditChainHead, AuditEntry, ElectronicSignature
from pharmaqms.kernel.records import AUDITED_TYPES
from pharmaqms.kernel.sealing import SEAL_ACTION
from pharmaqms.kernel.signatures import SIGN_ACTION, signature_hash, signing_details
from pharmaqms.kernel.verify_data import (
    DataFinding,
    Seal,
    check_sealed_data,
    check_timestamps,
    non_empty_tables,
    parse_seal,
)


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
    data_rows: int = 0
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
            "data_rows": self.data_rows,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "findings": [asdict(f) for f in self.findings],
        }


Progress = Callable[[str, int], None]


_SEQ, _AT, _RECORD_TYPE, _RECORD_ID, _LABEL = (
    AuditEntry.HASHED.index(name)
    for name in ("seq", "occurred_at", "record_type", "record_id", "record_label")
)
_ACTION, _STATE, _PREV = (
    AuditEntry.HASHED.index(name) for name in ("action", "state_hash", "prev_hash")
)
_ACTOR_ID, _ACTOR_USERNAME, _CHANGES, _REASON = (
    AuditEntry.HASHED.index(name) for name in ("actor_id", "actor_username", "changes", "reason")
)
_HASH = len(AuditEntry.HASHED)  # the stored entry hash follows the hashed columns
Latest = dict[tuple[str, int], tuple[int, str, str]]


class SigningEntry(NamedTuple):
    """The audit entry a signing wrote, as much of it as a signature is matched against."""

    seq: int
    occurred_at: Any  # canonical text
    actor_id: Any
    actor_username: Any
    record_type: Any
    record_id: Any
    record_label: Any
    reason: Any
    details: dict[str, Any]


Signings = dict[int, SigningEntry]
# Signing entries written before the signing time and the record version were part of their
# details lack them. Such an entry was appended in the signing's own transaction, after the
# signature took its time (and after any wait for the chain head's lock), so the signature's
# time must lie in this window before the entry's.
_LEGACY_DETAILS = frozenset({"signed_at", "record_version"})
_LEGACY_SIGNING_WINDOW = timedelta(minutes=1)


def stamp_reader() -> Callable[[Any], Any]:
    """The canonical text of a stored timestamp, as the entry was hashed with it. SQLite hands
    back the text SQLAlchemy stored ('2026-03-02 09:00:00.000000', UTC): rewritten in place
    rather than parsed. A value in any other shape (PostgreSQL's datetime, or text a tamperer
    wrote) is parsed; one that can't be is hashed as it is and so shows as altered."""
    last: list[Any] = [None, ""]

    def stamp(value: Any) -> Any:
        if value == last[0]:  # the entries of one transaction share their timestamp
            return last[1]
        text: Any = value
        if type(value) is str and len(value) == 26 and value[10] == " " and value[19] == ".":
            text = f"{value[:10]}T{value[11:]}Z"
        elif isinstance(value, datetime):
            text = plain(value if value.tzinfo else value.replace(tzinfo=UTC))
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
                text = plain(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
            except ValueError:
                pass
        last[0], last[1] = value, text
        return text

    return stamp


class Chain(NamedTuple):
    latest: Latest
    signings: Signings
    seals: dict[str, list[Seal]]
    beyond_head: tuple[Any, ...] | None
    last_seq: int
    last_hash: str
    # SQLite: the first entries (seq, stored value) whose time is not stored in the canonical
    # text, found while the chain streams; None where the chain was not read.
    odd_stamps: list[tuple[Any, Any]] | None = None


class Segment(NamedTuple):
    """What checking one run of the trail (a range of sequence numbers) found. Its first
    entry's link to what precedes it is left to whoever joins the segments: each entry carries
    its predecessor's hash, so a segment is checked without the others, and the join checks
    the first entry of each against the last of the one before."""

    findings: list[Finding]
    latest: Latest
    signings: Signings
    seal_entries: list[tuple[int, Any]]  # (seq, details text) of each seal entry
    beyond_head: tuple[Any, ...] | None
    first: tuple[Any, ...] | None  # None: the segment holds no entry
    next_expected: int
    last_hash: str
    entries: int
    odd_stamps: list[tuple[Any, Any]]


class ChainCheck(NamedTuple):
    """What a segment's check needs to know: the audit key, where keying began, where the
    head says the chain ends, and the sequence numbers to read (None: unbounded)."""

    key: bytes
    keyed_from: int
    head_seq: int | None
    low: int | None
    high: int | None  # exclusive
    snapshot: str | None = None  # PostgreSQL: the snapshot of the transaction that split
    stamps_as_text: bool = False  # SQLite: check each stored time's text as it streams by


_COLUMNS = ", ".join((*AuditEntry.HASHED, "entry_hash"))
_BATCH = 5000


def _segment_sql(low: int | None, high: int | None) -> str:
    bounds = []  # integers computed here, never text from outside
    if low is not None:
        bounds.append(f"seq >= {int(low)}")
    if high is not None:
        bounds.append(f"seq < {int(high)}")
    where = f" WHERE {' AND '.join(bounds)}" if bounds else ""
    return f"SELECT {_COLUMNS} FROM {AuditEntry.__tablename__}{where} ORDER BY seq"


def _driver_batches(dbapi_connection: Any, dialect: str, sql: str) -> Iterator[list[Any]]:
    """The rows as the driver hands them, in batches, without SQLAlchemy's result around them
    (a third of what verify spent). PostgreSQL streams through a server-side cursor, so a
    trail of millions of entries is never held in memory at once; SQLite steps through its
    result as it is fetched."""
    if dialect == "postgresql":
        cursor = dbapi_connection.cursor(name="pharmaqms_verify_chain")
        cursor.itersize = _BATCH
    else:
        cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql)
        while True:
            rows = cursor.fetchmany(_BATCH)
            if not rows:
                break
            yield rows
    finally:
        cursor.close()


def _link_finding(row: Sequence[Any], expected_seq: int, prev_hash: str) -> Finding | None:
    seq = row[_SEQ]
    if seq != expected_seq:
        return _out_of_order(row, expected_seq)
    if row[_PREV] != prev_hash:
        return Finding(
            "entry_inserted",
            f"entry {seq} does not follow entry {seq - 1} in the chain: an entry "
            "was inserted or replaced here",
            row[_RECORD_TYPE],
            row[_RECORD_ID],
            seq,
        )
    return None


def check_segment(
    batches: Iterable[Sequence[Sequence[Any]]], check: ChainCheck, tick: Progress
) -> Segment:
    """Check the links of a run of entries read in order, each an HMAC under the audit key from
    ``keyed_from`` on, plain SHA-256 before. Collects each record's last entry with a state
    hash, the signing entries by signature id, the seal entries and the first entry past the
    chain head (appended behind the application's back).

    The entries are written again with the entry template: reading and writing them are most
    of what verify costs, so the loop keeps to local names."""
    latest: Latest = {}
    signings: Signings = {}
    seal_entries: list[tuple[int, Any]] = []
    findings: list[Finding] = []
    beyond_head: tuple[Any, ...] | None = None
    first: tuple[Any, ...] | None = None
    head_seq = check.head_seq
    keyed_from = check.keyed_from
    expected_seq = 0
    prev_hash = GENESIS
    stamp = stamp_reader()
    sha256 = hashlib.sha256
    keyed = keyed_linker(check.key)
    text_of = entry_text
    count = 0
    odd_stamps: list[tuple[Any, Any]] = []
    as_text = check.stamps_as_text
    canonical_stamp = _CANONICAL_STAMP.fullmatch
    last_stored: Any = None
    odd = False
    for rows in batches:
        for row in rows:
            seq = row[_SEQ]
            if as_text:
                # What check_timestamps asks of every stored time, asked here of each distinct
                # value (a transaction's entries share theirs) instead of a scan of its own.
                stored = row[_AT]
                if stored != last_stored or type(stored) is not type(last_stored):
                    last_stored = stored
                    odd = stored is not None and (
                        type(stored) is not str or canonical_stamp(stored) is None
                    )
                if odd and len(odd_stamps) <= _ODD_SHOWN:
                    odd_stamps.append((seq, stored))
            values = list(row[:_HASH])
            values[_AT] = stamp(values[_AT])
            prev = row[_PREV]
            text = f"{prev}{text_of(values)}".encode()
            if type(seq) is int and seq < keyed_from:
                digest = sha256(text).hexdigest()
            else:
                digest = keyed(text)
            if first is None:
                first = tuple(row)  # its link is checked where the segments are joined
            elif seq != expected_seq or prev != prev_hash:
                found = _link_finding(row, expected_seq, prev_hash)
                if found is not None:
                    findings.append(found)
            if digest != row[_HASH]:
                findings.append(
                    Finding(
                        "entry_altered",
                        f"entry {seq} ({row[_ACTION]} on {row[_LABEL]}) was changed after it "
                        "was written: its content no longer matches its hash",
                        row[_RECORD_TYPE],
                        row[_RECORD_ID],
                        seq,
                    )
                )
            if beyond_head is None and head_seq is not None and seq > head_seq:
                beyond_head = tuple(row)
            prev_hash = row[_HASH]
            expected_seq = seq + 1 if type(seq) is int else expected_seq + 1
            if row[_STATE] is not None and row[_RECORD_ID] is not None:
                latest[(row[_RECORD_TYPE], row[_RECORD_ID])] = (seq, row[_STATE], row[_LABEL])
            elif row[_ACTION] == SIGN_ACTION:
                _collect_signing(signings, seq, values, row)
            elif row[_ACTION] == SEAL_ACTION:
                seal_entries.append((seq, row[_CHANGES]))
        count += len(rows)
        tick("chain", len(rows))
    return Segment(
        findings,
        latest,
        signings,
        seal_entries,
        beyond_head,
        first,
        expected_seq,
        prev_hash,
        count,
        odd_stamps,
    )


def _check_segment_apart(url: str, check: ChainCheck) -> Segment:
    """One segment checked in a process of its own, on a connection of its own."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if check.snapshot is not None:
                # The same snapshot as the process that cut the trail: every process reads
                # the trail as it stood when the check began.
                if not _SNAPSHOT_ID.fullmatch(check.snapshot):
                    raise ValueError(f"not a snapshot id: {check.snapshot!r}")
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{check.snapshot}'")
            dbapi_connection = conn.connection.dbapi_connection
            sql = _segment_sql(check.low, check.high)
            batches = _driver_batches(dbapi_connection, engine.dialect.name, sql)
            return check_segment(batches, check, lambda _stage, _n: None)
    finally:
        engine.dispose()


# The text SQLAlchemy stores for a UTC timestamp on SQLite (verify_data's GLOB, as a pattern).
_CANONICAL_STAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}", re.ASCII
)
_ODD_SHOWN = 5  # as check_timestamps: five named, a sixth says "and more"
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")


def _splits(low: int, high: int, parts: int) -> list[tuple[int | None, int | None]]:
    """``parts`` ranges of sequence numbers of about equal size covering every entry up to
    ``high``: the first open below (an entry numbered below the first is still read), the
    last closed at ``high`` (entries appended after this check began are not)."""
    size = max(1, (high - low + 1 + parts - 1) // parts)
    edges = [low + i * size for i in range(1, parts) if low + i * size <= high]
    starts: list[int | None] = [None, *edges]
    ends: list[int | None] = [*edges, high + 1]
    return list(zip(starts, ends, strict=True))


def _check_chain(
    session: Session,
    report: VerifyReport,
    head: Head | None,
    keyring: Keyring,
    tick: Progress,
    jobs: int = 1,
) -> Chain:
    """Stream the trail in order and check each entry's link; with ``jobs`` > 1 the trail is
    cut into that many runs of sequence numbers, each checked in a process of its own, and the
    runs joined in order: the verdict is the same as in one process."""
    conn = session.connection()
    dialect = conn.dialect.name
    check = ChainCheck(
        keyring.audit.secret,
        head.keyed_from if head is not None else 1,
        head.seq if head is not None else None,
        None,
        None,
        stamps_as_text=dialect == "sqlite",
    )
    url = conn.engine.url
    apart = jobs > 1 and url.database not in (None, "", ":memory:")
    if apart:
        low, high = conn.exec_driver_sql(
            f"SELECT min(seq), max(seq) FROM {AuditEntry.__tablename__}"
        ).one()
        ranges = _splits(int(low), int(high), jobs)
        if dialect == "postgresql":
            snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            check = check._replace(snapshot=snapshot)
    else:
        ranges = [(None, None)]
    dbapi_connection = conn.connection.dbapi_connection
    if len(ranges) == 1:
        segments = [
            check_segment(
                _driver_batches(dbapi_connection, dialect, _segment_sql(*ranges[0])),
                check,
                tick,
            )
        ]
    else:
        segments = _segments_apart(
            url.render_as_string(hide_password=False), check, ranges, dbapi_connection, dialect
        )
        for segment in segments:
            tick("chain", segment.entries)
    return _joined(report, segments)


def _segments_apart(
    url: str,
    check: ChainCheck,
    ranges: list[tuple[int | None, int | None]],
    dbapi_connection: Any,
    dialect: str,
) -> list[Segment]:
    """The first range checked here, in this transaction's snapshot, the others each in a
    process of its own at the same time."""
    import multiprocessing

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    rest = [check._replace(low=low, high=high) for low, high in ranges[1:]]
    with context.Pool(len(rest)) as pool:
        pending = pool.starmap_async(_check_segment_apart, [(url, c) for c in rest])
        first = check_segment(
            _driver_batches(dbapi_connection, dialect, _segment_sql(*ranges[0])),
            check._replace(low=ranges[0][0], high=ranges[0][1]),
            lambda _stage, _n: None,
        )
        return [first, *pending.get()]


def _joined(report: VerifyReport, segments: Sequence[Segment]) -> Chain:
    """The segments as one chain: each segment's first entry checked against the last entry of
    the segment before (the genesis for the first), the findings in the order of the trail,
    a record's latest entry from the last segment naming it, a signature's first signing
    entry, the seals in order."""
    latest: Latest = {}
    signings: Signings = {}
    seal_entries: list[tuple[int, Any]] = []
    odd_stamps: list[tuple[Any, Any]] = []
    beyond_head: tuple[Any, ...] | None = None
    expected_seq, prev_hash = 1, GENESIS
    findings = report.findings
    for segment in segments:
        if segment.first is None:
            continue
        found = _link_finding(segment.first, expected_seq, prev_hash)
        if found is not None:
            findings.append(found)
        findings.extend(segment.findings)
        latest.update(segment.latest)
        for signature_id, entry in segment.signings.items():
            signings.setdefault(signature_id, entry)
        seal_entries.extend(segment.seal_entries)
        odd_stamps.extend(segment.odd_stamps)
        if beyond_head is None:
            beyond_head = segment.beyond_head
        expected_seq, prev_hash = segment.next_expected, segment.last_hash
        report.entries += segment.entries
    seals: dict[str, list[Seal]] = {}
    for seq, details in seal_entries:
        seal = parse_seal(seq, details)
        if seal is not None:
            seals.setdefault(seal.table, []).append(seal)
    return Chain(
        latest,
        signings,
        seals,
        beyond_head,
        expected_seq - 1,
        prev_hash,
        odd_stamps[: _ODD_SHOWN + 1],
    )


def _collect_signing(signings: Signings, seq: Any, values: list[Any], row: Any) -> None:
    try:
        details = json.loads(row[_CHANGES])
    except (TypeError, ValueError):
        return  # not the text the application wrote: the entry's hash says so already
    if not isinstance(details, dict):
        return
    signature_id = details.get("signature_id")
    if type(signature_id) is not int or signature_id in signings:
        return
    signings[signature_id] = SigningEntry(
        seq,
        values[_AT],
        row[_ACTOR_ID],
        row[_ACTOR_USERNAME],
        row[_RECORD_TYPE],
        row[_RECORD_ID],
        row[_LABEL],
        row[_REASON],
        details,
    )


def _out_of_order(row: Any, expected_seq: int) -> Finding:
    seq = row[_SEQ]
    if type(seq) is int and seq > expected_seq:
        # Which record the deleted entries concerned is unknown: the entry after the gap is
        # intact and may belong to any record, so none is named.
        return Finding(
            "entry_missing",
            f"audit entries {expected_seq}–{seq - 1} are missing before entry {seq} (deleted)",
            seq=expected_seq,
        )
    return Finding(
        "entry_out_of_sequence",
        f"entry {seq} out of sequence",
        row[_RECORD_TYPE],
        row[_RECORD_ID],
        seq if type(seq) is int else None,
    )


_HEAD_MISSING = Finding(
    "chain_head_missing",
    "the audit chain head is missing: removed behind the application's back, so a cut at the "
    "end of the chain could not be seen from the database alone",
)


def _head_findings(head: Head | None, keyring: Keyring) -> list[Finding]:
    if head is None:
        return [_HEAD_MISSING]
    problem = head_problem(head, keyring)
    if problem is None:
        return []
    kind = "chain_not_keyed" if head.key_id is None else "chain_head_altered"
    if head.key_id is not None and head.key_id != keyring.audit.id:
        kind = "chain_key_mismatch"
    return [Finding(kind, problem, seq=head.seq)]


_NO_TABLES = Finding(
    "no_audit_trail",
    "no audit trail: the database has no audit tables (it is empty, or not a pharmaqms database)",
)
# An empty trail proves nothing: a schema without a single entry (not initialised, or a
# restore that did not finish) is not "intact".
_NO_ENTRIES = Finding(
    "no_audit_trail",
    "no audit trail: the database holds no audit entries (a schema without data: not "
    "initialised, or a restore that did not finish)",
)


def _expected_head_findings(
    session: Session, keyring: Keyring, expected: Sequence[Any]
) -> list[Finding]:
    found = []
    for document in expected:
        seq, entry_hash, at = checked_head(document, keyring)
        problem = head_still_contained(session.connection(), seq, entry_hash)
        if problem == "truncated":
            found.append(
                Finding(
                    "truncated",
                    f"the signed head of {at} recorded entry {seq}; the chain no longer holds "
                    "it: the trail was cut short behind the application's back",
                    seq=seq,
                )
            )
        elif problem == "rewritten":
            found.append(
                Finding(
                    "rewritten",
                    f"the signed head of {at} recorded entry {seq} with hash "
                    f"{entry_hash[:16]}…; the chain now holds another entry {seq}: the trail "
                    "was rewritten from there behind the application's back",
                    seq=seq,
                )
            )
    return found


def verify(
    session: Session,
    progress: Progress | None = None,
    *,
    keyring: Keyring | None = None,
    expected_heads: Sequence[Any] = (),
    jobs: int = 1,
) -> VerifyReport:
    """Check everything; ``expected_heads`` are signed heads kept elsewhere (``audit head``)
    that the chain must still contain. With ``jobs`` > 1 the chain's links are checked in that
    many processes, each a run of the trail (a database in memory is checked in one)."""
    if jobs < 1:
        raise ValueError("jobs must be at least 1")
    report = VerifyReport()
    tick = progress or (lambda _stage, _n: None)
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # One snapshot for the whole check: under READ COMMITTED an entry appended while the
        # chain streams, or a record changed after its entries were read, would be reported
        # as tampering. (SQLite's read transaction is a snapshot already.)
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    if not inspect(session.connection()).has_table(AuditEntry.__tablename__):
        report.findings.append(_NO_TABLES)
        return report
    stored = session.get(AuditChainHead, 1)
    head = (
        None
        if stored is None
        else Head(stored.seq, stored.entry_hash, stored.keyed_from, stored.key_id, stored.mac)
    )
    if session.scalar(select(AuditEntry.seq).limit(1)) is None:
        # Nothing to chain: the head of an empty schema is unkeyed, and no key is needed to
        # see that records and data (if any) have no entries.
        report.findings.append(_NO_ENTRIES)
        if stored is None:
            report.findings.append(_HEAD_MISSING)
        chain = Chain({}, {}, {}, None, 0, GENESIS)
    else:
        keyring = keyring or keyring_for(str(session.connection().engine.url))
        report.findings.extend(_head_findings(head, keyring))
        if report.findings and report.findings[0].kind == "chain_key_mismatch":
            return report  # every keyed link would differ: the wrong key file, or a forged head
        report.findings.extend(_expected_head_findings(session, keyring, expected_heads))
        chain = _check_chain(session, report, head, keyring, tick, jobs)
    latest, signings = chain.latest, chain.signings
    beyond_head, last_seq, prev_hash = chain.beyond_head, chain.last_seq, chain.last_hash
    if head is not None:
        report.head_seq, report.head_hash = head.seq, head.entry_hash
        if beyond_head is not None:
            report.findings.append(
                Finding(
                    "chain_head_mismatch",
                    f"the chain head says entry {head.seq} is the last, the table goes on to "
                    f"entry {last_seq}: entry {beyond_head[_SEQ]} ({beyond_head[_ACTION]} on "
                    f"{beyond_head[_LABEL]}) and any after it were added behind the "
                    "application's back",
                    beyond_head[_RECORD_TYPE],
                    beyond_head[_RECORD_ID],
                    beyond_head[_SEQ],
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
    filled = non_empty_tables(session, (_table_name(m) for m in AUDITED_TYPES.values()))
    for audit_type, model in sorted(AUDITED_TYPES.items()):
        if _table_name(model) not in filled:
            continue  # an empty table: its records the trail names are reported below
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
            # A record last audited before a migration added columns to its table carries the
            # hash of its earlier form (records.earlier_forms), while those columns stay empty.
            elif obj.state_hash() != last[1] and last[1] not in obj.earlier_state_hashes():
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
        own_hash_intact = signature_hash(signature) == signature.signature_hash
        if not own_hash_intact:
            report.findings.append(
                Finding(
                    "signature_altered",
                    f"signature {signature.id} ({signature.meaning} by "
                    f"{signature.signer_username}) was changed or moved after signing",
                    signature.record_type,
                    signature.record_id,
                )
            )
        report.findings.extend(
            _match_signing(signature, signings.pop(signature.id, None), own_hash_intact)
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
        session.expunge(signature)
    for signature_id, entry in sorted(signings.items()):
        report.findings.append(
            Finding(
                "signature_missing",
                f"signature {signature_id} ({entry.details.get('meaning')} by "
                f"{entry.actor_username}) on {entry.record_label} is in the audit trail "
                f"(entry {entry.seq}) but not in the signature table: it was deleted",
                entry.record_type,
                entry.record_id,
                entry.seq,
            )
        )
    report.data_rows, data_findings = check_sealed_data(session, chain.seals, tick)
    report.findings.extend(_finding(f) for f in data_findings)
    report.findings.extend(_finding(f) for f in check_timestamps(session, chain.odd_stamps))
    return report


def _table_name(model: type[Any]) -> str:
    return str(model.__table__.name)


def _finding(found: DataFinding) -> Finding:
    return Finding(found.kind, found.message, found.table, found.row_id, found.seq)


def _match_signing(
    signature: ElectronicSignature, entry: SigningEntry | None, own_hash_intact: bool
) -> list[Finding]:
    """Compare a signature with the audit entry its signing wrote."""
    what = f"signature {signature.id} ({signature.meaning} by {signature.signer_username})"
    where = f"{signature.record_label} ({signature.record_type} {signature.record_id})"
    if entry is None:
        return [
            Finding(
                "signature_without_audit",
                f"{what} on {where} has no signing entry in the audit trail: it was inserted "
                "behind the application's back",
                signature.record_type,
                signature.record_id,
            )
        ]
    differing = _differences(signature, entry)
    if (signature.record_type, signature.record_id) != (entry.record_type, entry.record_id):
        also = [d for d in differing if d != "record label"]
        return [
            Finding(
                "signature_moved",
                f"{what} is on {where}, but was given on {entry.record_label} "
                f"({entry.record_type} {entry.record_id}, entry {entry.seq}): it was moved "
                "behind the application's back"
                + (f"; it also differs in {', '.join(also)}" if also else ""),
                signature.record_type,
                signature.record_id,
                entry.seq,
            )
        ]
    if differing and own_hash_intact:  # a broken own hash is reported already
        return [
            Finding(
                "signature_altered",
                f"{what} on {where} differs from its signing entry ({entry.seq}) in "
                f"{', '.join(differing)}: it was changed after signing",
                signature.record_type,
                signature.record_id,
                entry.seq,
            )
        ]
    return []


def _differences(signature: ElectronicSignature, entry: SigningEntry) -> list[str]:
    differing = [
        name
        for name, value, recorded in (
            ("record label", signature.record_label, entry.record_label),
            ("signer", signature.signer_id, entry.actor_id),
            ("signer username", signature.signer_username, entry.actor_username),
            ("comment", signature.comment, entry.reason),
        )
        if value != recorded
    ]
    for name, value in plain(signing_details(signature)).items():
        if name not in entry.details and name in _LEGACY_DETAILS:
            if name == "signed_at" and not _within_legacy_window(
                signature.signed_at, entry.occurred_at
            ):
                differing.append(name)
        elif entry.details.get(name) != value:
            differing.append(name)
    return differing


def _within_legacy_window(signed_at: datetime, entry_at: Any) -> bool:
    try:
        written = datetime.fromisoformat(entry_at)
    except (TypeError, ValueError):
        return False
    if written.tzinfo is None or signed_at.tzinfo is None:
        return False
    return timedelta(0) <= written - signed_at <= _LEGACY_SIGNING_WINDOW
