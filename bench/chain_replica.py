"""A large supply chain made by replicating a generated block of lots, for bench_trace.py.

Building the EPCIS connector's rows event by event (canonical form, JSON texts, event hash)
runs at ~500 events/s in Python: 10 million events would take ~6 hours. Instead, one block of
``block`` lots is generated (``generator.generate``) and its rows are built once by the
connector's code; each row's text is then turned into a format string whose fields are the
identifiers and times of the block (lot numbers, pack serials, material lots, SSCCs, event
IDs, event times in each spelling, expiry dates). Replica ``r`` of the block is lots
``r * block + 1 …`` with the same structure: its lot numbers, material lots and SSCC serials
shifted by ``r`` blocks, its times by ``r * block * 6`` hours (the generator's lot interval),
its expiry dates recomputed from the shifted manufacturing time as the generator does, and
new event IDs. ``verify`` rebuilds a replica's events from the canonical form each row holds
(as the connector's store step does) and checks that the connector's code gives the very same
rows, event hash included.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from pharmaqms.platform.epcis import TransformationEvent, parse_epcis_json
from pharmaqms.platform.epcis.event_hash import PREFIX, SUFFIX, pre_hash
from pharmaqms.platform.genealogy.codec import canonical_plain, event_from_plain
from pharmaqms.platform.genealogy.generator import COMPANY, LotTruth, event_json, generate
from pharmaqms.platform.gs1 import check_digit
from pharmaqms.platform.trace import canonical

BEGIN: Final = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)  # generate()'s default start
LOT_HOURS: Final = 6  # generate(): one finished lot every 6 hours

TOKEN: Final = re.compile(
    r"(?P<uuid>urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    rf"|(?P<sscc>(?<=/00/)0{COMPANY}\d{{10}})"
    r"|(?P<time>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{3}Z|\.\d{6}|Z|\+00:00))"
    r"|(?P<date>\d{4}-\d{2}-\d{2})"
    r"|(?P<lot>B\d{6})"
    r"|(?P<material>M(?:-HA|BUF|ARA)\d{6})"
)
_TIME_SPELLINGS: Final[dict[str, Callable[[datetime], str]]] = {
    "Z": lambda t: t.isoformat().replace("+00:00", "Z"),  # EPCIS JSON
    "+00:00": lambda t: t.isoformat(),  # the canonical form
    "column": lambda t: t.strftime("%Y-%m-%d %H:%M:%S.%f"),  # UTCDateTime on SQLite
    "ms": lambda t: t.isoformat(timespec="milliseconds")[:-6] + "Z",  # the CBV pre-hash
}

Key = tuple[object, ...]
_ENVELOPE: Final = (
    '{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],'
    '"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-01-01T00:00:00Z",'
    '"epcisBody":{"eventList":[%s]}}'
)


def _spelling(text: str) -> str:
    if text.endswith("+00:00"):
        return "+00:00"
    if " " in text:
        return "column"
    return "ms" if "." in text else "Z"


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=UTC)


def _expiry(lot: int) -> str:
    made = BEGIN + timedelta(hours=LOT_HOURS * lot)
    return date(made.year + 2, made.month, 1).isoformat()


def _sscc(serial: int) -> str:
    payload = f"0{COMPANY}{serial:09d}"
    return payload + str(check_digit(payload))


@dataclass
class _TemplateEvent:
    fields: tuple[object, ...]  # the row without id and event_hash: format strings or values
    formatted: tuple[bool, ...]
    objects: list[tuple[object, str, object, object]]  # (role, epc format, quantity, uom)
    pre_hash: str


class Block:
    """One generated block of lots as row templates; ``rows(r)`` gives replica ``r``."""

    def __init__(self, lots: int, seed: int) -> None:
        if lots % 2:
            raise ValueError("an even block keeps each lot number's product (they alternate)")
        from bench_trace import connector_rows

        self.lots = lots
        self.keys: list[Key] = []
        self._index: dict[Key, int] = {}
        chain = generate(lots, seed=seed)
        self.template_truth = chain.truth
        self.ssccs = 0
        self.events: list[_TemplateEvent] = []
        lot = -1
        for event in chain.events:
            if isinstance(event, TransformationEvent):
                lot += 1  # generate() opens every lot with its transformation
            raw = json.dumps(event_json(event), separators=(",", ":"))
            row, objects = connector_rows(0, event, raw)
            fields = row[1:-1]
            self.events.append(
                _TemplateEvent(
                    tuple(self._template(f, lot) if isinstance(f, str) else f for f in fields),
                    tuple(isinstance(f, str) for f in fields),
                    [(o[1], self._template(str(o[2]), lot), o[3], o[4]) for o in objects],
                    self._template(pre_hash(event, canonical), lot),
                )
            )
        self.size = len(self.events)

    def _key(self, match: re.Match[str], lot: int) -> Key:
        kind, text = match.lastgroup, match.group()
        match kind:
            case "uuid":
                return ("uuid", text)
            case "sscc":
                serial = int(text[8:17])
                self.ssccs = max(self.ssccs, serial)
                return ("sscc", serial)
            case "time":
                return ("time", _spelling(text), _parse_time(text))
            case "date":
                if text != _expiry(lot):
                    raise ValueError(f"a date that is not lot {lot}'s expiry: {text}")
                return ("expiry", lot)
            case "lot":
                return ("lot", int(text[1:]))
            case _:
                return ("material", text[:-6], int(text[-6:]))

    def _template(self, text: str, lot: int) -> str:
        def field(match: re.Match[str]) -> str:
            key = self._key(match, lot)
            index = self._index.get(key)
            if index is None:
                index = self._index[key] = len(self.keys)
                self.keys.append(key)
            return f"{{0[{index}]}}"

        return TOKEN.sub(field, text.replace("{", "{{").replace("}", "}}"))

    def values(self, r: int) -> list[str]:
        """The text of every field in replica ``r``."""
        shift = timedelta(hours=LOT_HOURS * self.lots * r)
        lots, ssccs = r * self.lots, r * self.ssccs
        out: list[str] = []
        uuids = 0
        for key in self.keys:
            match key:
                case ("uuid", _):
                    out.append(f"urn:uuid:{uuid.UUID(int=((r + 1) << 80) | uuids, version=4)}")
                    uuids += 1
                case ("sscc", int(serial)):
                    out.append(_sscc(serial + ssccs))
                case ("time", str(spelling), datetime() as moment):
                    out.append(_TIME_SPELLINGS[spelling](moment + shift))
                case ("expiry", int(lot)):
                    out.append(_expiry(lots + lot))
                case ("lot", int(number)):
                    out.append(f"B{number + lots:06d}")
                case ("material", str(prefix), int(number)):
                    out.append(f"{prefix}{number + lots:06d}")
                case _:
                    raise AssertionError(key)
        return out

    def rows(
        self, r: int, first_id: int
    ) -> Iterator[tuple[tuple[object, ...], list[tuple[object, ...]]]]:
        """Replica ``r``'s event rows (ids from ``first_id``) with their identifier rows."""
        values = self.values(r)
        for n, event in enumerate(self.events):
            row_id = first_id + n
            fields = [
                f.format(values) if done else f  # type: ignore[attr-defined]
                for f, done in zip(event.fields, event.formatted, strict=True)
            ]
            digest = hashlib.sha256(event.pre_hash.format(values).encode()).hexdigest()
            yield (
                (row_id, *fields, f"{PREFIX}{digest}{SUFFIX}"),
                [(row_id, role, epc.format(values), q, u) for role, epc, q, u in event.objects],
            )

    def truth(self, lot_number: str) -> LotTruth:
        """The generator's answer for a lot of any replica."""
        number = int(lot_number[1:]) - 1
        r, n = divmod(number, self.lots)
        template = self.template_truth[f"B{n + 1:06d}"]
        values = self.values(r)

        def fill(text: str) -> str:
            return self._template(text, n).format(values)

        return LotTruth(
            template.product,
            fill(template.lot_number),
            fill(template.lot_class),
            {fill(p) for p in template.packs},
            {fill(c) for c in template.cases},
            {fill(p) for p in template.pallets},
            set(template.locations),
            {fill(m) for m in template.materials},
        )

    def verify(self, r: int) -> int:
        """Rebuild replica ``r``'s events from their stored canonical form and raw text, as the
        connector's store step does, and check the connector's code gives the same rows."""
        from bench_trace import connector_rows

        checked = 0
        for row, objects in self.rows(r, 1):
            document = json.loads(str(row[16]))
            event = event_from_plain(document["event"], raw=document["raw"])
            # The raw text, read by the connector's EPCIS reader, is the same event.
            parsed = parse_epcis_json(_ENVELOPE % document["raw"]).events[0]
            assert _numbers(canonical_plain(parsed, canonical)) == _numbers(document["event"])
            expected_row, expected_objects = connector_rows(int(row[0]), event, document["raw"])  # type: ignore[call-overload]
            assert row == expected_row, (r, row[1])
            assert objects == expected_objects, (r, row[1])
            checked += 1
        return checked


def _numbers(plain: dict[str, object]) -> str:
    # generator.event_json writes quantities as JSON numbers (14.0), the canonical form keeps
    # the generator's Decimal (14): the same quantity, spelt two ways.
    return re.sub(
        r'"quantity":"(\d+)(?:\.0)?"',
        r'"quantity":"\1"',
        json.dumps(plain, sort_keys=True, separators=(",", ":")),
    )
