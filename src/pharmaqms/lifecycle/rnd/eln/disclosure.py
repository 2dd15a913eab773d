"""Selective disclosure for an inspector: a zip that holds, decrypted, only the entries chosen,
with what proves them, and that can be checked offline with nothing but this module
(``verify_bundle``, ``pharmaqms rnd verify``).

The bundle:

- ``manifest.json``: the experiment, the installation's signing public key(s), and per
  disclosed entry its canonical plaintext (exactly what was hashed), its SHA-256, the Ed25519
  signature of that hash, and the people who signed it (author "Authored", witness "Read and
  understood") as the audit trail records them; per entry withheld only its number, hash and
  signature — the inspector sees that it exists and is sealed, not what it says;
- ``files/<entry>/<n>-<name>``: each disclosed entry's raw data files, byte for byte;
- ``report.json``, ``report.txt`` and ``report.pdf``: the verification made at export,
  machine- and human-readable.

Verification recomputes each hash from the plaintext and the files' bytes and checks each
signature against the public key. A bundle altered anywhere that matters fails. The public key
travels in the bundle, so a forger could bring their own: the inspector compares it with the
key the company publishes (``pharmaqms rnd public-key``), or passes it to ``verify``.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.canonical import canonical_json, plain
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.keys import RND_SIGNING
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.lifecycle.rnd.eln import vault
from pharmaqms.lifecycle.rnd.eln.integrity import (
    STATEMENT,
    attestation_statement,
    bytes_signature_valid,
    public_key_hex,
    signature_valid,
)
from pharmaqms.lifecycle.rnd.eln.models import ExperimentEntry
from pharmaqms.lifecycle.rnd.eln.printout import report_pdf
from pharmaqms.lifecycle.rnd.eln.reading import check_entry, file_content, plaintext_of
from pharmaqms.lifecycle.rnd.eln.service import (
    attestations_of,
    entries_of,
    files_of,
    get_experiment,
    get_project,
)

FORMAT: Final = "pharmaqms-eln-disclosure/1"
MAX_BUNDLE_BYTES: Final = 2 * 1024 * 1024 * 1024
MAX_MEMBERS: Final = 10_000


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return cleaned.strip(".")[:120] or "file"


@dataclass(frozen=True)
class Bundle:
    content: bytes
    filename: str
    disclosed: list[str]
    withheld: list[str]


def _chosen(rows: list[ExperimentEntry], seqs: list[int], number: str) -> list[ExperimentEntry]:
    if not seqs:
        raise InvalidInput("choose at least one entry to disclose", field="entries")
    by_seq = {e.seq: e for e in rows}
    unknown = sorted(set(seqs) - set(by_seq))
    if unknown:
        raise InvalidInput(f"{number} has no entry {', '.join(map(str, unknown))}", field="entries")
    drafts = [by_seq[s].number for s in seqs if not by_seq[s].entry_hash]
    if drafts:
        raise InvalidInput(
            f"only signed entries are disclosed; {', '.join(drafts)} is a draft", field="entries"
        )
    return [by_seq[s] for s in sorted(set(seqs))]


def export_entries(
    session: Session, *, actor: Actor, experiment_id: int, entry_seqs: list[int]
) -> Bundle:
    """The disclosure bundle of the chosen entries (by their number within the experiment).
    The export is audited: who disclosed which entries of which experiment, when."""
    actor.require("rnd.disclose", "disclose notebook entries")
    experiment = get_experiment(session, experiment_id)
    project = get_project(session, experiment.project_id)
    rows = entries_of(session, experiment.id)
    chosen = _chosen(rows, entry_seqs, experiment.number)
    members: dict[str, bytes] = {}
    disclosed: list[dict[str, Any]] = []
    keys: dict[str, str] = {}
    for entry in chosen:
        text = plaintext_of(session, entry)
        files = []
        for index, row in enumerate(files_of(session, entry.id), 1):
            _row, name, content = file_content(session, row.id)
            path = f"files/{_safe(entry.number)}/{index}-{_safe(name)}"
            members[path] = content
            files.append({"name": name, "sha256": row.sha256, "size": row.size, "path": path})
        keys[entry.signing_key_id or ""] = entry.signing_public_key or ""
        for attestation in attestations_of(session, entry.id):
            if attestation.signing_key_id not in keys:
                keys[attestation.signing_key_id] = public_key_hex(
                    vault.keyring_of(session).key(RND_SIGNING, attestation.signing_key_id)
                )
        disclosed.append(
            {
                "number": entry.number,
                "seq": entry.seq,
                "status": entry.status,
                "entry_hash": entry.entry_hash,
                "ed25519_signature": entry.ed25519_signature,
                "signing_key_id": entry.signing_key_id,
                "signed_at": entry.signed_at,
                "plaintext": plain(text.canonical()),
                "files": files,
                "signatures": [
                    {
                        "meaning": s.meaning,
                        "signer": f"{s.signer_name} ({s.signer_username})",
                        "signed_at": s.signed_at,
                        "valid_for_current_content": s.valid_for_current_content,
                    }
                    for s in signatures_of(session, entry)
                ],
                # The installation's Ed25519 attestations of the author's and the witness's
                # electronic signatures: checkable offline, unlike the records above.
                "attestations": [
                    {
                        "meaning": a.meaning,
                        "signer": a.signer_username,
                        "signer_name": a.signer_name,
                        "signed_at": a.signed_at,
                        "ed25519_signature": a.ed25519_signature,
                        "signing_key_id": a.signing_key_id,
                    }
                    for a in attestations_of(session, entry.id)
                ],
                "check_at_export": check_entry(session, entry).intact,
            }
        )
    chosen_ids = {e.id for e in chosen}
    withheld = [
        {
            "number": e.number,
            "seq": e.seq,
            "entry_hash": e.entry_hash,
            "ed25519_signature": e.ed25519_signature,
            "signing_key_id": e.signing_key_id,
        }
        for e in rows
        if e.id not in chosen_ids and e.entry_hash
    ]
    manifest = plain(
        {
            "format": FORMAT,
            "statement": STATEMENT,
            "exported_at": clock.now(),
            "exported_by": f"{actor.full_name} ({actor.username})",
            "project": {"code": project.code, "title": project.title},
            "experiment": {"number": experiment.number, "title": experiment.title},
            "public_keys": keys,
            "entries": disclosed,
            "withheld": withheld,
        }
    )
    members["manifest.json"] = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    report = verify_members(members)
    members["report.json"] = json.dumps(report.as_dict(), indent=2, ensure_ascii=False).encode()
    members["report.txt"] = report.text().encode()
    members["report.pdf"] = report_pdf(
        f"Disclosure of experiment {experiment.number}: verification report", report.text()
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    numbers = [e.number for e in chosen]
    withheld_numbers = [str(w["number"]) for w in withheld]
    audit.record_event(
        session,
        actor=actor,
        action="disclose",
        record=experiment,
        details={
            "entries": numbers,
            "withheld": withheld_numbers,
            "bundle_sha256": hashlib.sha256(buffer.getvalue()).hexdigest(),
        },
        reason=f"selective disclosure of {', '.join(numbers)}",
    )
    return Bundle(
        buffer.getvalue(),
        f"{experiment.number}-disclosure.zip",
        numbers,
        withheld_numbers,
    )


# --- offline verification ---------------------------------------------------------------------


@dataclass
class EntryFinding:
    number: str
    hash_matches: bool
    signature_valid: bool
    files_match: bool
    problems: list[str] = field(default_factory=list)
    # "Authored by …", "Read and understood by …": attestations that verified.
    signed_by: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.hash_matches and self.signature_valid and self.files_match and not self.problems


@dataclass
class Report:
    experiment: str = "?"
    public_keys: dict[str, str] = field(default_factory=dict)
    entries: list[EntryFinding] = field(default_factory=list)
    withheld: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems and bool(self.entries) and all(e.ok for e in self.entries)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "valid": self.valid,
            "experiment": self.experiment,
            "public_keys": self.public_keys,
            "entries": [
                {
                    "number": e.number,
                    "hash_matches": e.hash_matches,
                    "signature_valid": e.signature_valid,
                    "files_match": e.files_match,
                    "signed_by": e.signed_by,
                    "ok": e.ok,
                    "problems": e.problems,
                }
                for e in self.entries
            ],
            "withheld": self.withheld,
            "problems": self.problems,
        }

    def text(self) -> str:
        lines = [
            f"Verification of the disclosure of experiment {self.experiment}",
            f"Result: {'VALID' if self.valid else 'NOT VALID'}",
            "",
            "Signing public key(s) (Ed25519; compare with the key the company publishes):",
            *[f"  {kid}: {key}" for kid, key in self.public_keys.items()],
            "",
            "Disclosed entries:",
        ]
        for e in self.entries:
            verdict = "intact" if e.ok else "FAILED: " + "; ".join(e.problems)
            lines.append(f"  {e.number}: {verdict}")
            lines += [f"      {who}" for who in e.signed_by]
        lines += ["", "Withheld entries (sealed, content not disclosed):"]
        lines += [
            f"  {w.get('number')}: SHA-256 {w.get('entry_hash')} "
            f"({'signature valid' if w.get('signature_valid') else 'SIGNATURE NOT VALID'})"
            for w in self.withheld
        ] or ["  none"]
        if self.problems:
            lines += ["", "Problems:", *[f"  {p}" for p in self.problems]]
        lines += [
            "",
            "Each entry's hash is SHA-256 over the canonical JSON of its plaintext (sorted keys,",
            "no whitespace) including each raw data file's SHA-256; the signature is Ed25519 over",
            f"'{STATEMENT} <hash>'. The electronic signatures of each entry (author, witness)",
            "are attested by the same key over the entry's hash, the meaning, who and when.",
        ]
        return "\n".join(lines) + "\n"


def _finding(
    entry: dict[str, Any], members: dict[str, bytes], keys: dict[str, str]
) -> EntryFinding:
    number = str(entry.get("number"))
    finding = EntryFinding(number, False, False, True)
    text = entry.get("plaintext")
    claimed = str(entry.get("entry_hash") or "")
    if isinstance(text, dict):
        recomputed = hashlib.sha256(canonical_json(text).encode("utf-8")).hexdigest()
        finding.hash_matches = recomputed == claimed
    if not finding.hash_matches:
        finding.problems.append("the content does not hash to the signed SHA-256")
    public = keys.get(str(entry.get("signing_key_id")), "")
    finding.signature_valid = signature_valid(
        public, claimed, str(entry.get("ed25519_signature") or "")
    )
    if not finding.signature_valid:
        finding.problems.append("the Ed25519 signature does not verify")
    hashed = {(f["sha256"], f["size"]) for f in (text or {}).get("files", [])}
    listed = entry.get("files") or []
    for item in listed:
        data = members.get(str(item.get("path")))
        if data is None:
            finding.files_match = False
            finding.problems.append(f"the file {item.get('name')} is missing from the bundle")
            continue
        actual = (hashlib.sha256(data).hexdigest(), len(data))
        if actual != (item.get("sha256"), item.get("size")) or actual not in hashed:
            finding.files_match = False
            finding.problems.append(f"the file {item.get('name')} does not match its SHA-256")
    if len(listed) != len(hashed):
        finding.files_match = False
        finding.problems.append("the files in the bundle are not the files that were hashed")
    for item in entry.get("attestations") or []:
        message = attestation_statement(
            claimed,
            str(item.get("meaning")),
            str(item.get("signer")),
            str(item.get("signer_name")),
            str(item.get("signed_at")),
        )
        who = (
            f"{item.get('meaning')} by {item.get('signer_name')} ({item.get('signer')}) "
            f"on {item.get('signed_at')}"
        )
        if bytes_signature_valid(
            keys.get(str(item.get("signing_key_id")), ""),
            message,
            str(item.get("ed25519_signature")),
        ):
            finding.signed_by.append(who)
        else:
            finding.problems.append(f"the attestation '{who}' does not verify")
    return finding


def verify_members(members: dict[str, bytes], public_key: str | None = None) -> Report:
    report = Report()
    try:
        manifest = json.loads(members["manifest.json"])
    except (KeyError, ValueError) as err:
        report.problems.append(f"no readable manifest.json: {err}")
        return report
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        report.problems.append(f"not a {FORMAT} bundle")
        return report
    report.experiment = str((manifest.get("experiment") or {}).get("number", "?"))
    keys = {str(k): str(v) for k, v in (manifest.get("public_keys") or {}).items()}
    report.public_keys = keys
    if public_key is not None and set(keys.values()) != {public_key.strip().lower()}:
        report.problems.append(
            "the bundle is signed with another key than the one given to check it against"
        )
    for entry in manifest.get("entries") or []:
        report.entries.append(_finding(entry, members, keys))
    for item in manifest.get("withheld") or []:
        valid = signature_valid(
            keys.get(str(item.get("signing_key_id")), ""),
            str(item.get("entry_hash") or ""),
            str(item.get("ed25519_signature") or ""),
        )
        report.withheld.append({**item, "signature_valid": valid})
        if not valid:
            report.problems.append(f"withheld entry {item.get('number')}: signature not valid")
    if not report.entries:
        report.problems.append("the bundle discloses no entry")
    return report


def verify_bundle(data: bytes, public_key: str | None = None) -> Report:
    """Check a disclosure bundle offline: no database, no key file."""
    if len(data) > MAX_BUNDLE_BYTES:
        return Report(problems=["the bundle is larger than a disclosure can be"])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS or sum(i.file_size for i in infos) > MAX_BUNDLE_BYTES:
                return Report(problems=["the bundle holds more than a disclosure can"])
            members = {i.filename: archive.read(i) for i in infos if not i.is_dir()}
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        return Report(problems=[f"not a readable zip file: {err}"])
    return verify_members(members, public_key)
