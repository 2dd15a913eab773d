"""GS1 identifiers on medicine packs: element strings, HRI, Digital Link URIs, EPC URIs.

One entry point, :func:`parse_gs1`, takes what a scanner or a person hands us (a raw element
string from a GS1 DataMatrix/GS1-128/GS1 QR, the human-readable ``(01)…(17)…`` line, or a GS1
Digital Link URI) and returns a :class:`GS1Data`, or raises :class:`GS1Error` with a specific
code. The rules follow the GS1 General Specifications (domain reference, section 1):

* a bad check digit is rejected, never corrected;
* an impossible date (month 13, 31 February) is rejected;
* an unknown AI (e.g. 23) rejects the whole message;
* a variable-length field longer than its maximum is rejected;
* Digital Link key qualifiers must keep the order 22 → 10 → 21 (or 235 instead of 21).

biip does the per-AI work (the AI table, each AI's format pattern, GTIN/SSCC/GLN check digits).
The splitting of a message into element strings is done here, because biip cuts an over-long
variable field at its maximum and reads the rest as a new AI, which would report an over-long
lot as an "unknown AI". Dates are resolved here too, because biip's century window uses today's
year and can't be injected; :func:`century` is the pure version of that window.

Implementation choices where GS1 leaves room (stated here and pinned in the tests):

* Day ``00`` means the last day of the month, and is allowed only for the six-digit date AIs
  11–17 (GenSpecs §7.12). Every other date AI needs a real day.
* Expiry comes from AI 17, or from the date part of AI 7003 when 17 is absent.
* The same AI twice with the same value is tolerated; with different values it is rejected.
* Scanner-config spellings of the group separator (``<GS>``, a literal ``\\u001d`` or ``\\x1d``)
  are read as GS. A lot that really contains the four characters ``<GS>`` is thereby misread;
  GS1 allows ``<`` and ``>`` in a lot, but no real labelling system prints that sequence.
* In HRI, an element boundary is ``(`` + 2–4 digits + ``)``. A lot containing such a pattern
  is ambiguous in HRI and is misread; element strings and Digital Link have no such ambiguity.
* Digital Link: only numeric AIs in the path (the deprecated "convenience alphas" such as
  ``/gtin/`` or ``/lot/`` are refused); numeric query keys must be known AIs, other query keys
  (``linkType`` and the like) are ignored.

EPC URIs (EPC Tag Data Standard) and Digital Link URIs name the same objects; :func:`canonical_id`
maps both to one canonical form, the Digital Link URI on ``id.gs1.org`` with numeric AIs and no
query, so that genealogy can match an SGTIN URN against a Digital Link of the same pack.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput

__all__ = [
    "GS1_LOT",
    "MAX_INPUT_LENGTH",
    "GS1Data",
    "GS1Error",
    "GS1ErrorCode",
    "GS1Key",
    "InputForm",
    "KeyKind",
    "Symbology",
    "canonical_id",
    "century",
    "check_digit",
    "digital_link_uri",
    "gs1_year",
    "lgtin_epc_uri",
    "lot_number_problem",
    "normalise_separators",
    "parse_epc_uri",
    "parse_gs1",
    "parse_identifier",
    "resolve_gs1_date",
    "sgtin_epc_uri",
    "sscc_epc_uri",
]

MAX_INPUT_LENGTH: Final = 512
"""Longest text :func:`parse_gs1` looks at; a GS1 DataMatrix holds far less in practice."""

GS: Final = "\x1d"
CANONICAL_DL_HOST: Final = "https://id.gs1.org"

_SEPARATOR_SPELLINGS: Final = ("<GS>", "\\u001d", "\\u001D", "\\x1d", "\\x1D")
_WHITESPACE: Final = " \t\r\n"
_CHARSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+")
_DIGITS = re.compile(r"[0-9]+")
GS1_LOT: Final = r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}"
"""What a GS1 barcode can carry as a lot (AI 10: up to 20 characters of GS1 charset 82)."""


def lot_number_problem(lot_number: str) -> str | None:
    """Why ``lot_number`` can't be a lot (None when it can): every lot we register, from any
    path (MES, batch records, material receipt, the API), must be printable on its packs."""
    if not lot_number or len(lot_number) > 20:
        return "a GS1 lot number (AI 10) is 1 to 20 characters"
    odd = sorted({c for c in lot_number if not _CHARSET82.fullmatch(c)})
    if odd:
        shown = ", ".join(repr(c) for c in odd[:5])
        return (
            f"a GS1 lot number (AI 10) uses the GS1 character set 82 (letters A–Z a–z, digits "
            f"and !\"%&'()*+,-./:;<=>?_); {lot_number!r} holds {shown}"
        )
    return None


_HRI_AI = re.compile(r"\((\d{2,4})\)")
# biip never raises on a date field when told not to verify it; we verify them ourselves.
_BIIP_CONFIG: Final = ParseConfig(gs1_element_strings_verify_date=False)


class GS1ErrorCode(StrEnum):
    EMPTY = "empty"
    INPUT_TOO_LONG = "input_too_long"
    UNPARSEABLE = "unparseable"
    UNKNOWN_AI = "unknown_ai"
    FIELD_TOO_LONG = "field_too_long"
    INVALID_FIELD = "invalid_field"
    BAD_CHECK_DIGIT = "bad_check_digit"
    IMPOSSIBLE_DATE = "impossible_date"
    DUPLICATE_AI = "duplicate_ai"
    DL_QUALIFIER_ORDER = "dl_qualifier_order"
    DL_INVALID_PATH = "dl_invalid_path"
    INVALID_EPC = "invalid_epc"


class GS1Error(InvalidInput):
    """A GS1 identifier or message that must not be accepted (HTTP 422)."""

    def __init__(self, code: GS1ErrorCode, message: str) -> None:
        super().__init__(message)
        # The kernel names its codes per class; a GS1 refusal has one code per rule, so this
        # error carries it per instance and problem+json shows the specific rule.
        self.__dict__["code"] = code
        self.message = message


class Symbology(StrEnum):
    """AIM symbology identifiers that may prefix scanned GS1 data."""

    GS1_DATAMATRIX = "]d2"
    GS1_128 = "]C1"
    GS1_QR = "]Q3"
    GS1_DATABAR = "]e0"
    QR = "]Q1"
    """Plain QR: carries a Digital Link URI, never element strings."""


class InputForm(StrEnum):
    ELEMENT_STRING = "element_string"
    HRI = "hri"
    DIGITAL_LINK = "digital_link"


@dataclass(frozen=True, slots=True)
class GS1Data:
    """A validated GS1 message. Dates are resolved; ``ais`` keeps every (AI, value) in order."""

    gtin: str | None
    lot: str | None
    expiry: date | None
    serial: str | None
    sscc: str | None
    production_date: date | None
    ais: tuple[tuple[str, str], ...]
    symbology: Symbology | None
    form: InputForm

    def value_of(self, ai: str) -> str | None:
        """The value of the first element string with this AI."""
        return next((value for code, value in self.ais if code == ai), None)

    def as_hri(self) -> str:
        return "".join(f"({code}){value}" for code, value in self.ais)

    def as_dict(self) -> dict[str, object]:
        return {
            "gtin": self.gtin,
            "lot": self.lot,
            "expiry": self.expiry.isoformat() if self.expiry else None,
            "serial": self.serial,
            "sscc": self.sscc,
            "production_date": self.production_date.isoformat() if self.production_date else None,
            "ais": [[code, value] for code, value in self.ais],
            "symbology": self.symbology.value if self.symbology else None,
            "form": self.form.value,
        }


# --- check digits and dates ---------------------------------------------------------------


def check_digit(payload: str) -> int:
    """GS1 mod-10 check digit of ``payload`` (GenSpecs §7.9): weights 3,1,3,… from the right."""
    if not _DIGITS.fullmatch(payload):
        raise ValueError(f"check digit payload must be digits, got {payload!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


def _has_valid_check_digit(digits: str) -> bool:
    return bool(_DIGITS.fullmatch(digits)) and check_digit(digits[:-1]) == int(digits[-1])


def century(yy: int, ref_year: int) -> int:
    """The century (e.g. 2000) that two-digit year ``yy`` belongs to, seen from ``ref_year``.

    GenSpecs §7.12: with d = yy − (ref_year mod 100), d in 51..99 means the previous century,
    d in −99..−50 the next one, anything else the current one — a window from 49 years in the
    past to 50 years in the future.
    """
    if not 0 <= yy <= 99:
        raise ValueError(f"two-digit year out of range: {yy}")
    current = ref_year - ref_year % 100
    d = yy - ref_year % 100
    if 51 <= d <= 99:
        return current - 100
    if -99 <= d <= -50:
        return current + 100
    return current


def gs1_year(yy: int, ref_year: int) -> int:
    return century(yy, ref_year) + yy


def _current_year() -> int:
    return clock.now().year


def resolve_gs1_date(yymmdd: str, *, ref_year: int, allow_day_zero: bool = True) -> date:
    """A GS1 ``YYMMDD`` as a date; day ``00`` is the last day of the month when allowed."""
    if len(yymmdd) != 6 or not _DIGITS.fullmatch(yymmdd):
        raise GS1Error(GS1ErrorCode.INVALID_FIELD, f"date must be six digits YYMMDD: {yymmdd!r}")
    year = gs1_year(int(yymmdd[:2]), ref_year)
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if not 1 <= month <= 12:
        raise GS1Error(GS1ErrorCode.IMPOSSIBLE_DATE, f"month {month:02d} in date {yymmdd}")
    last_day = calendar.monthrange(year, month)[1]
    if day == 0 and allow_day_zero:
        return date(year, month, last_day)
    if not 1 <= day <= last_day:
        raise GS1Error(
            GS1ErrorCode.IMPOSSIBLE_DATE, f"day {day:02d} of {year}-{month:02d} in {yymmdd}"
        )
    return date(year, month, day)


def _check_time(hhmm: str, ai: str, *, unknown_allowed: bool) -> None:
    hour, minute = int(hhmm[:2]), int(hhmm[2:4])
    if unknown_allowed and (hour, minute) == (99, 99):
        return
    if hour > 23 or minute > 59:
        raise GS1Error(GS1ErrorCode.IMPOSSIBLE_DATE, f"time {hhmm} in AI {ai}")


def _check_date_ai(ai: str, value: str, ref_year: int) -> None:
    """Reject impossible calendar values in the date-bearing AIs we know the layout of."""
    if not _DIGITS.fullmatch(value):
        return  # the AI's own format check reports it
    if ai in ("11", "12", "13", "15", "16", "17") and len(value) == 6:
        resolve_gs1_date(value, ref_year=ref_year)
    elif ai in ("7006", "4326") and len(value) == 6:
        resolve_gs1_date(value, ref_year=ref_year, allow_day_zero=False)
    elif ai == "7007" and len(value) in (6, 12):
        for start in range(0, len(value), 6):
            resolve_gs1_date(value[start : start + 6], ref_year=ref_year, allow_day_zero=False)
    elif ai in ("7003", "4324", "4325") and len(value) == 10:
        resolve_gs1_date(value[:6], ref_year=ref_year, allow_day_zero=False)
        _check_time(value[6:], ai, unknown_allowed=ai != "7003")
    elif ai == "8008" and len(value) in (8, 10, 12):
        resolve_gs1_date(value[:6], ref_year=ref_year, allow_day_zero=False)
        _check_time(value[6:8] + (value[8:10] or "00"), ai, unknown_allowed=False)
        if len(value) == 12 and int(value[10:12]) > 59:
            raise GS1Error(GS1ErrorCode.IMPOSSIBLE_DATE, f"seconds {value[10:12]} in AI 8008")


# --- the AI table (biip) -------------------------------------------------------------------

_FORMAT_PART = re.compile(r"[NXYZ](?:\.\.)?(\d+)")

# Where the GS1 check digit sits inside the data of each keyed AI: (start, end) of the digits
# whose last one is the check digit. biip checks 00/01/02/03/41x; the rest it does not.
_CHECK_DIGIT_SPANS: Final[dict[str, tuple[int, int]]] = {
    "00": (0, 18),
    "01": (0, 14),
    "02": (0, 14),
    "03": (0, 14),
    "253": (0, 13),
    "255": (0, 13),
    "410": (0, 13),
    "411": (0, 13),
    "412": (0, 13),
    "413": (0, 13),
    "414": (0, 13),
    "415": (0, 13),
    "416": (0, 13),
    "417": (0, 13),
    "8003": (1, 14),
    "8006": (0, 14),
    "8017": (0, 18),
    "8018": (0, 18),
}


def _lookup_ai(code: str) -> GS1ApplicationIdentifier | None:
    try:
        ai = GS1ApplicationIdentifier.extract(code)
    except ParseError:
        return None
    return ai if ai.ai == code else None


def _max_data_length(ai: GS1ApplicationIdentifier) -> int:
    """Longest data field the AI's format allows, e.g. 20 for ``N2+X..20``."""
    data_format = ai.format.split("+", 1)[1] if "+" in ai.format else ""
    return sum(int(n) for n in _FORMAT_PART.findall(data_format))


def _validate_element(ai_code: str, value: str, ref_year: int) -> None:
    ai = _lookup_ai(ai_code)
    if ai is None:
        raise GS1Error(
            GS1ErrorCode.UNKNOWN_AI, f"AI ({ai_code}) is not a GS1 application identifier"
        )
    limit = _max_data_length(ai)
    if len(value) > limit:
        raise GS1Error(
            GS1ErrorCode.FIELD_TOO_LONG,
            f"AI ({ai_code}) allows at most {limit} characters, got {len(value)}",
        )
    if not value:
        raise GS1Error(GS1ErrorCode.INVALID_FIELD, f"AI ({ai_code}) has an empty value")
    _check_date_ai(ai_code, value, ref_year)
    try:
        element = GS1ElementString.parse(f"{ai_code}{value}", config=_BIIP_CONFIG)
    except ParseError as exc:
        raise GS1Error(
            GS1ErrorCode.INVALID_FIELD, f"AI ({ai_code}) value {value!r} does not match {ai.format}"
        ) from exc
    # biip reports a bad check digit only in these fields, never as an exception.
    inner_error = element.gtin_error or element.sscc_error or element.gln_error
    if inner_error:
        raise GS1Error(GS1ErrorCode.BAD_CHECK_DIGIT, f"AI ({ai_code}): {inner_error}")
    span = _CHECK_DIGIT_SPANS.get(ai_code)
    if span is not None and not _has_valid_check_digit(value[span[0] : span[1]]):
        raise GS1Error(
            GS1ErrorCode.BAD_CHECK_DIGIT, f"AI ({ai_code}) value {value!r} has a bad check digit"
        )


# --- the three input forms -----------------------------------------------------------------


def normalise_separators(text: str) -> str:
    """Read the spellings of GS a scanner configuration user might type as the real GS."""
    for spelling in _SEPARATOR_SPELLINGS:
        text = text.replace(spelling, GS)
    return text


def _split_element_string(body: str) -> list[tuple[str, str]]:
    elements: list[tuple[str, str]] = []
    pos = 0
    while pos < len(body):
        if body[pos] == GS:
            # GenSpecs §7.8.6: a separator may follow any element string, needed or not.
            pos += 1
            continue
        try:
            ai = GS1ApplicationIdentifier.extract(body[pos:])
        except ParseError:
            raise GS1Error(
                GS1ErrorCode.UNKNOWN_AI,
                f"no GS1 application identifier at position {pos}: {body[pos : pos + 4]!r}",
            ) from None
        start = pos + len(ai.ai)
        if ai.separator_required:
            separator = body.find(GS, start)
            end = len(body) if separator < 0 else separator
        else:
            end = start + _max_data_length(ai)
            if end > len(body):
                raise GS1Error(
                    GS1ErrorCode.INVALID_FIELD,
                    f"AI ({ai.ai}) needs {end - start} characters, message ends after "
                    f"{len(body) - start}",
                )
        elements.append((ai.ai, body[start:end]))
        pos = end
    return elements


def _split_hri(hri: str) -> list[tuple[str, str]]:
    compact = "".join(hri.split())
    matches = list(_HRI_AI.finditer(compact))
    if not matches or matches[0].start() != 0:
        raise GS1Error(GS1ErrorCode.UNPARSEABLE, f"HRI must start with '(AI)': {hri!r}")
    elements: list[tuple[str, str]] = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(compact)
        elements.append((match.group(1), compact[match.end() : end]))
    return elements


@dataclass(frozen=True, slots=True)
class _KeySpec:
    qualifiers: tuple[str, ...] = ()
    alternatives: tuple[tuple[str, str], ...] = ()
    """(qualifier, the one it replaces): same rank, so they exclude each other."""


# GS1 Digital Link URI syntax 1.2+, table of primary keys and their key qualifiers, in order.
_DL_KEYS: Final[dict[str, _KeySpec]] = {
    "01": _KeySpec(("22", "10", "21"), alternatives=(("235", "21"),)),
    "8006": _KeySpec(("22", "10", "21")),
    "8010": _KeySpec(("8011",)),
    "414": _KeySpec(("254",), alternatives=(("7040", "254"),)),
    "415": _KeySpec(("8020",)),
    "417": _KeySpec(("7040",)),
    "8017": _KeySpec(("8019",)),
    "8018": _KeySpec(("8019",)),
    "8004": _KeySpec(("7040",)),
    "00": _KeySpec(),
    "253": _KeySpec(),
    "255": _KeySpec(),
    "401": _KeySpec(),
    "402": _KeySpec(),
    "8003": _KeySpec(),
    "8013": _KeySpec(),
}


def _qualifier_rank(spec: _KeySpec, qualifier: str) -> int | None:
    if qualifier in spec.qualifiers:
        return spec.qualifiers.index(qualifier)
    for alternative, replaces in spec.alternatives:
        if qualifier == alternative:
            return spec.qualifiers.index(replaces)
    return None


def _split_digital_link(uri: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(key and qualifiers from the path, data attributes from the query) of a DL URI."""
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise GS1Error(GS1ErrorCode.UNPARSEABLE, f"not an http(s) URI: {uri!r}")
    segments = parts.path.split("/")[1:]
    if segments and segments[-1] == "":
        segments.pop()
    start = next(
        (i for i, seg in enumerate(segments) if seg in _DL_KEYS and (len(segments) - i) % 2 == 0),
        None,
    )
    if start is None:
        raise GS1Error(
            GS1ErrorCode.DL_INVALID_PATH, f"no GS1 primary key (/01/…, /00/…) in the path: {uri!r}"
        )
    try:
        pairs = [
            (segments[i], unquote(segments[i + 1], errors="strict"))
            for i in range(start, len(segments), 2)
        ]
    except UnicodeDecodeError:
        raise GS1Error(GS1ErrorCode.UNPARSEABLE, f"bad %-encoding in {uri!r}") from None
    key, _ = pairs[0]
    spec = _DL_KEYS[key]
    last_rank = -1
    for qualifier, _value in pairs[1:]:
        if not _DIGITS.fullmatch(qualifier):
            raise GS1Error(
                GS1ErrorCode.DL_INVALID_PATH, f"path element {qualifier!r} is not a numeric AI"
            )
        if _lookup_ai(qualifier) is None:
            raise GS1Error(GS1ErrorCode.UNKNOWN_AI, f"AI ({qualifier}) in the Digital Link path")
        rank = _qualifier_rank(spec, qualifier)
        if rank is None:
            raise GS1Error(
                GS1ErrorCode.DL_INVALID_PATH, f"AI ({qualifier}) is not a key qualifier of ({key})"
            )
        if rank <= last_rank:
            order = " → ".join(spec.qualifiers)
            raise GS1Error(
                GS1ErrorCode.DL_QUALIFIER_ORDER,
                f"key qualifiers of ({key}) must come in the order {order}; ({qualifier}) is late",
            )
        last_rank = rank
    if key == "01" and _DIGITS.fullmatch(pairs[0][1]) and len(pairs[0][1]) in (8, 12, 13):
        pairs[0] = ("01", pairs[0][1].zfill(14))
    attributes: list[tuple[str, str]] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if not _DIGITS.fullmatch(name):
            continue  # non-AI query parameters (linkType, context…) carry no identity data
        if _lookup_ai(name) is None:
            raise GS1Error(GS1ErrorCode.UNKNOWN_AI, f"AI ({name}) in the Digital Link query")
        attributes.append((name, value))
    return pairs, attributes


# --- parse_gs1 -----------------------------------------------------------------------------


def _detect_symbology(text: str) -> tuple[Symbology | None, str]:
    if not text.startswith("]"):
        return None, text
    prefix = text[:3]
    try:
        return Symbology(prefix), text[3:]
    except ValueError:
        raise GS1Error(
            GS1ErrorCode.UNPARSEABLE, f"symbology identifier {prefix!r} does not carry GS1 data"
        ) from None


def _date_field(elements: list[tuple[str, str]], ai: str, ref_year: int) -> date | None:
    value = next((v for code, v in elements if code == ai), None)
    if value is None:
        return None
    return resolve_gs1_date(value[:6], ref_year=ref_year, allow_day_zero=ai != "7003")


def _check_duplicates(elements: list[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for code, value in elements:
        if seen.setdefault(code, value) != value:
            raise GS1Error(
                GS1ErrorCode.DUPLICATE_AI,
                f"AI ({code}) appears twice with different values {seen[code]!r} and {value!r}",
            )


def parse_gs1(
    text: str, *, ref_year: int | None = None, max_length: int = MAX_INPUT_LENGTH
) -> GS1Data:
    """Parse scanned or typed GS1 data: element string, ``(AI)`` HRI or Digital Link URI.

    ``ref_year`` is the year the two-digit years are read against (default: the year of the
    kernel clock, in UTC).
    """
    if len(text) > max_length:
        raise GS1Error(
            GS1ErrorCode.INPUT_TOO_LONG, f"{len(text)} characters, at most {max_length} accepted"
        )
    year = _current_year() if ref_year is None else ref_year
    cleaned = normalise_separators(text).strip(_WHITESPACE)
    if not cleaned:
        raise GS1Error(GS1ErrorCode.EMPTY, "nothing to parse")
    symbology, body = _detect_symbology(cleaned)
    if body.lower().startswith(("http://", "https://")):
        form = InputForm.DIGITAL_LINK
        path, query = _split_digital_link(body)
        elements = path + query
    elif body.startswith("("):
        form = InputForm.HRI
        elements = _split_hri(body)
    else:
        if symbology is Symbology.QR:
            raise GS1Error(
                GS1ErrorCode.UNPARSEABLE, "a plain QR code (]Q1) carries GS1 data only as a URI"
            )
        form = InputForm.ELEMENT_STRING
        body = body.strip(GS)  # a leading GS is FNC1-in-first-position as some scanners send it
        if not body:
            raise GS1Error(GS1ErrorCode.EMPTY, "no element strings after the symbology identifier")
        if not body[:2].isdecimal():
            raise GS1Error(
                GS1ErrorCode.UNPARSEABLE, f"not GS1 data (expected an AI, URI or HRI): {text!r}"
            )
        elements = _split_element_string(body)
    for code, value in elements:
        _validate_element(code, value, year)
    _check_duplicates(elements)
    fields = dict(elements)  # first wins, and duplicates are known to be equal
    expiry = _date_field(elements, "17", year) or _date_field(elements, "7003", year)
    return GS1Data(
        gtin=fields.get("01"),
        lot=fields.get("10"),
        expiry=expiry,
        serial=fields.get("21"),
        sscc=fields.get("00"),
        production_date=_date_field(elements, "11", year),
        ais=tuple(elements),
        symbology=symbology,
        form=form,
    )


# --- EPC URIs (Tag Data Standard) and canonical identifiers ---------------------------------


class KeyKind(StrEnum):
    SGTIN = "sgtin"
    LGTIN = "lgtin"
    GTIN = "gtin"
    SSCC = "sscc"
    SGLN = "sgln"
    GLN = "gln"
    PGLN = "pgln"
    GRAI = "grai"
    GIAI = "giai"
    GDTI = "gdti"
    GSRN = "gsrn"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class GS1Key:
    """A GS1 identification key with its qualifiers, e.g. ``(("01", gtin), ("21", serial))``."""

    kind: KeyKind
    ais: tuple[tuple[str, str], ...]

    def _get(self, ai: str) -> str | None:
        return next((value for code, value in self.ais if code == ai), None)

    @property
    def gtin(self) -> str | None:
        return self._get("01")

    @property
    def serial(self) -> str | None:
        return self._get("21")

    @property
    def lot(self) -> str | None:
        return self._get("10")

    @property
    def sscc(self) -> str | None:
        return self._get("00")

    @property
    def canonical(self) -> str:
        """The canonical Digital Link URI: id.gs1.org, numeric AIs, path only."""
        path = "".join(f"/{code}/{quote(value, safe='')}" for code, value in self.ais)
        return f"{CANONICAL_DL_HOST}{path}"


# TDS §7.1: the only characters an EPC URI component escapes.
_EPC_ESCAPES: Final[dict[str, str]] = {
    '"': "%22",
    "%": "%25",
    "&": "%26",
    "/": "%2F",
    "<": "%3C",
    ">": "%3E",
    "?": "%3F",
}
_EPC_UNESCAPES: Final = {code: char for char, code in _EPC_ESCAPES.items()}
_EPC_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _epc_escape(value: str) -> str:
    return "".join(_EPC_ESCAPES.get(char, char) for char in value)


def _epc_unescape(component: str, uri: str) -> str:
    def replace(match: re.Match[str]) -> str:
        char = _EPC_UNESCAPES.get(match.group(0).upper())
        if char is None:
            raise GS1Error(
                GS1ErrorCode.INVALID_EPC, f"escape {match.group(0)} is not allowed in {uri!r}"
            )
        return char

    if "%" in _EPC_ESCAPE.sub("", component):
        raise GS1Error(GS1ErrorCode.INVALID_EPC, f"malformed %-escape in {uri!r}")
    return _EPC_ESCAPE.sub(replace, component)


def _gcp_length(company_prefix_length: int) -> int:
    if not 6 <= company_prefix_length <= 12:
        raise GS1Error(
            GS1ErrorCode.INVALID_EPC,
            f"GS1 company prefix length must be 6..12, got {company_prefix_length}",
        )
    return company_prefix_length


def _gtin14(gtin: str) -> str:
    if not _DIGITS.fullmatch(gtin) or len(gtin) not in (8, 12, 13, 14):
        raise GS1Error(GS1ErrorCode.INVALID_FIELD, f"GTIN must be 8, 12, 13 or 14 digits: {gtin!r}")
    full = gtin.zfill(14)
    if not _has_valid_check_digit(full):
        raise GS1Error(GS1ErrorCode.BAD_CHECK_DIGIT, f"GTIN {gtin} has a bad check digit")
    return full


def _charset82(value: str, what: str, limit: int) -> str:
    if not _CHARSET82.fullmatch(value) or len(value) > limit:
        raise GS1Error(
            GS1ErrorCode.INVALID_FIELD,
            f"{what} must be 1..{limit} GS1 characters (set 82), got {value!r}",
        )
    return value


def _gtin_epc_body(gtin14: str, company_prefix_length: int) -> str:
    """``CompanyPrefix.IndicatorItemRef``: the indicator digit moves behind the prefix."""
    prefix = gtin14[1 : 1 + company_prefix_length]
    return f"{prefix}.{gtin14[0]}{gtin14[1 + company_prefix_length : 13]}"


def sgtin_epc_uri(gtin: str, serial: str, company_prefix_length: int) -> str:
    """``urn:epc:id:sgtin:CompanyPrefix.IndicatorItemRef.Serial`` (TDS §6.3.1)."""
    full = _gtin14(gtin)
    length = _gcp_length(company_prefix_length)
    serial = _charset82(serial, "serial", 20)
    return f"urn:epc:id:sgtin:{_gtin_epc_body(full, length)}.{_epc_escape(serial)}"


def lgtin_epc_uri(gtin: str, lot: str, company_prefix_length: int) -> str:
    """``urn:epc:class:lgtin:CompanyPrefix.IndicatorItemRef.Lot`` (TDS §6.4.1)."""
    full = _gtin14(gtin)
    length = _gcp_length(company_prefix_length)
    lot = _charset82(lot, "lot", 20)
    return f"urn:epc:class:lgtin:{_gtin_epc_body(full, length)}.{_epc_escape(lot)}"


def sscc_epc_uri(sscc: str, company_prefix_length: int) -> str:
    """``urn:epc:id:sscc:CompanyPrefix.ExtensionSerialRef`` (TDS §6.3.2)."""
    if not _DIGITS.fullmatch(sscc) or len(sscc) != 18:
        raise GS1Error(GS1ErrorCode.INVALID_FIELD, f"SSCC must be 18 digits: {sscc!r}")
    if not _has_valid_check_digit(sscc):
        raise GS1Error(GS1ErrorCode.BAD_CHECK_DIGIT, f"SSCC {sscc} has a bad check digit")
    length = _gcp_length(company_prefix_length)
    return f"urn:epc:id:sscc:{sscc[1 : 1 + length]}.{sscc[0]}{sscc[1 + length : 17]}"


def digital_link_uri(gtin: str, *, lot: str | None = None, serial: str | None = None) -> str:
    """Canonical Digital Link of a GTIN, a lot of it, or one serialised pack."""
    ais: list[tuple[str, str]] = [("01", _gtin14(gtin))]
    if lot is not None:
        ais.append(("10", _charset82(lot, "lot", 20)))
    if serial is not None:
        ais.append(("21", _charset82(serial, "serial", 20)))
    kind = KeyKind.SGTIN if serial is not None else KeyKind.LGTIN if lot else KeyKind.GTIN
    return GS1Key(kind, tuple(ais)).canonical


def _epc_parts(uri: str, body: str, count: int) -> list[str]:
    parts = body.split(".", count - 1)
    if len(parts) != count or any(part == "" for part in parts):
        raise GS1Error(
            GS1ErrorCode.INVALID_EPC, f"expected {count} dot-separated components in {uri!r}"
        )
    return parts


def _numeric_pair(uri: str, prefix: str, ref: str, total: int) -> str:
    """Company prefix + reference as one digit string of ``total`` digits."""
    if not (_DIGITS.fullmatch(prefix) and 6 <= len(prefix) <= 12):
        raise GS1Error(GS1ErrorCode.INVALID_EPC, f"company prefix must be 6..12 digits in {uri!r}")
    if not _DIGITS.fullmatch(ref) or len(prefix) + len(ref) != total:
        raise GS1Error(
            GS1ErrorCode.INVALID_EPC,
            f"company prefix and reference must be {total} digits together in {uri!r}",
        )
    return prefix + ref


def _gtin_from_epc(uri: str, prefix: str, item: str) -> str:
    _numeric_pair(uri, prefix, item, 13)
    payload = item[0] + prefix + item[1:]
    return payload + str(check_digit(payload))


def _epc_value(uri: str, raw: str, what: str, limit: int) -> str:
    value = _epc_unescape(raw, uri)
    if not _CHARSET82.fullmatch(value) or len(value) > limit:
        raise GS1Error(
            GS1ErrorCode.INVALID_EPC, f"{what} must be 1..{limit} GS1 characters in {uri!r}"
        )
    return value


def parse_epc_uri(uri: str) -> GS1Key:
    """Parse a pure-identity or class EPC URI (``urn:epc:id:…``, ``urn:epc:class:lgtin:…``,
    ``urn:epc:idpat:sgtin:…*``) into its GS1 key."""
    scheme, _, body = uri.rpartition(":")
    match scheme:
        case "urn:epc:id:sgtin":
            prefix, item, serial = _epc_parts(uri, body, 3)
            gtin = _gtin_from_epc(uri, prefix, item)
            return GS1Key(
                KeyKind.SGTIN, (("01", gtin), ("21", _epc_value(uri, serial, "serial", 20)))
            )
        case "urn:epc:class:lgtin":
            prefix, item, lot = _epc_parts(uri, body, 3)
            gtin = _gtin_from_epc(uri, prefix, item)
            return GS1Key(KeyKind.LGTIN, (("01", gtin), ("10", _epc_value(uri, lot, "lot", 20))))
        case "urn:epc:idpat:sgtin":
            prefix, item, star = _epc_parts(uri, body, 3)
            if star != "*":
                raise GS1Error(GS1ErrorCode.INVALID_EPC, f"only a '*' serial pattern: {uri!r}")
            return GS1Key(KeyKind.GTIN, (("01", _gtin_from_epc(uri, prefix, item)),))
        case "urn:epc:id:sscc":
            prefix, ref = _epc_parts(uri, body, 2)
            _numeric_pair(uri, prefix, ref, 17)
            payload = ref[0] + prefix + ref[1:]
            return GS1Key(KeyKind.SSCC, (("00", payload + str(check_digit(payload))),))
        case "urn:epc:id:sgln":
            prefix, ref, extension = _epc_parts(uri, body, 3)
            payload = _numeric_pair(uri, prefix, ref, 12)
            gln = payload + str(check_digit(payload))
            ext = _epc_value(uri, extension, "GLN extension", 20)
            # TDS: extension "0" is the location itself, with no extension component.
            if ext == "0":
                return GS1Key(KeyKind.GLN, (("414", gln),))
            return GS1Key(KeyKind.SGLN, (("414", gln), ("254", ext)))
        case "urn:epc:id:pgln":
            prefix, ref = _epc_parts(uri, body, 2)
            payload = _numeric_pair(uri, prefix, ref, 12)
            return GS1Key(KeyKind.PGLN, (("417", payload + str(check_digit(payload))),))
        case "urn:epc:id:grai":
            prefix, asset_type, serial = _epc_parts(uri, body, 3)
            payload = _numeric_pair(uri, prefix, asset_type, 12)
            value = _epc_value(uri, serial, "GRAI serial", 16)
            grai = f"0{payload}{check_digit(payload)}{value}"
            return GS1Key(KeyKind.GRAI, (("8003", grai),))
        case "urn:epc:id:giai":
            prefix, ref = _epc_parts(uri, body, 2)
            if not (_DIGITS.fullmatch(prefix) and 6 <= len(prefix) <= 12):
                raise GS1Error(GS1ErrorCode.INVALID_EPC, f"company prefix in {uri!r}")
            asset = _epc_value(uri, ref, "asset reference", 30 - len(prefix))
            return GS1Key(KeyKind.GIAI, (("8004", prefix + asset),))
        case "urn:epc:id:gdti":
            prefix, doc_type, serial = _epc_parts(uri, body, 3)
            payload = _numeric_pair(uri, prefix, doc_type, 12)
            value = _epc_value(uri, serial, "GDTI serial", 17)
            return GS1Key(KeyKind.GDTI, (("253", f"{payload}{check_digit(payload)}{value}"),))
        case "urn:epc:id:gsrn":
            prefix, ref = _epc_parts(uri, body, 2)
            payload = _numeric_pair(uri, prefix, ref, 17)
            return GS1Key(KeyKind.GSRN, (("8018", payload + str(check_digit(payload))),))
    raise GS1Error(GS1ErrorCode.INVALID_EPC, f"not a supported EPC URI: {uri!r}")


def _kind_of(ais: tuple[tuple[str, str], ...]) -> KeyKind:
    codes = [code for code, _ in ais]
    match codes:
        case ["01", *rest] if "21" in rest or "235" in rest:
            return KeyKind.SGTIN
        case ["01", *rest] if "10" in rest:
            return KeyKind.LGTIN
        case ["01", *_]:
            return KeyKind.GTIN
        case ["00"]:
            return KeyKind.SSCC
        case ["414", "254"]:
            return KeyKind.SGLN
        case ["414", *_]:
            return KeyKind.GLN
        case ["417", *_]:
            return KeyKind.PGLN
        case ["8003"]:
            return KeyKind.GRAI
        case ["8004", *_]:
            return KeyKind.GIAI
        case ["253"]:
            return KeyKind.GDTI
        case ["8018", *_]:
            return KeyKind.GSRN
    return KeyKind.OTHER


# Canonical Digital Links of packs, lots and SSCCs are what traceability reads by the million;
# the full parse (biip, per AI) costs ~0.5 ms each. For this one spelling the rules that apply
# (digits, check digit, length, a subset of character set 82) are checked here directly; any
# other text, or one that fails a rule, takes the full parse, which names the error.
_CANONICAL_KEY: Final = re.compile(
    r"https://id\.gs1\.org/(?:01/([0-8]\d{13})(?:/10/([\w.-]{1,20}))?(?:/21/([\w.-]{1,20}))?"
    r"|00/(\d{18}))",
    re.ASCII,
)


def _canonical_key(value: str) -> GS1Key | None:
    match = _CANONICAL_KEY.fullmatch(value)
    if match is None:
        return None
    gtin, lot, serial, sscc = match.groups()
    if not _has_valid_check_digit(gtin or sscc):
        return None
    if sscc:
        return GS1Key(KeyKind.SSCC, (("00", sscc),))
    ais = (("01", gtin), *((("10", lot),) if lot else ()), *((("21", serial),) if serial else ()))
    return GS1Key(_kind_of(ais), ais)


def parse_identifier(value: str, *, ref_year: int | None = None) -> GS1Key | None:
    """The GS1 key named by an EPC URI or a Digital Link URI; ``None`` for any other identifier.

    Raises :class:`GS1Error` when the value claims to be a GS1 key (an ``urn:epc:`` URI or a URL
    whose path holds a GS1 primary key) but is malformed.
    """
    if value.startswith(("urn:epc:id:", "urn:epc:class:", "urn:epc:idpat:")):
        return parse_epc_uri(value)
    if (fast := _canonical_key(value)) is not None:
        return fast
    if not value.lower().startswith(("http://", "https://")):
        return None
    segments = urlsplit(value).path.split("/")
    if not any(segment in _DL_KEYS for segment in segments):
        return None
    path, _query = _split_digital_link(value)
    year = _current_year() if ref_year is None else ref_year
    for code, ai_value in path:
        _validate_element(code, ai_value, year)
    ais = tuple(path)
    return GS1Key(_kind_of(ais), ais)


def canonical_id(value: str) -> str:
    """One spelling per object: the canonical Digital Link for GS1 keys, else ``value`` itself."""
    key = parse_identifier(value)
    return value if key is None else key.canonical
