"""CBV 2.0 vocabularies, enforced in application code.

The official JSON schema lets any bare word through as a bizStep or disposition (a made-up
"teleporting" passes its ``vocab-other-uri`` branch), so the vocabularies are checked here.
A value may be given three ways and is normalised to the bare CBV word:

* the bare word (``receiving``), as EPCIS 2.0 JSON-LD writes it;
* the CBV URN (``urn:epcglobal:cbv:bizstep:receiving``), as EPCIS XML writes it;
* the CBV Web URI (``https://ref.gs1.org/cbv/BizStep-receiving``).

A URI outside the CBV namespaces is a private vocabulary the standard allows
(``http://epcis.example.org/hc/bizstep/summarising_discharge``) and is kept as written. A bare
word that is not in the CBV list, or a CBV-namespace URI that names no CBV term, is refused.
The word lists were read from the official CBV 2.0 JSON-LD context files (domain reference §2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

BIZ_STEPS: Final = frozenset(
    {
        "accepting",
        "arriving",
        "assembling",
        "collecting",
        "commissioning",
        "consigning",
        "creating_class_instance",
        "cycle_counting",
        "decommissioning",
        "departing",
        "destroying",
        "disassembling",
        "dispensing",
        "encoding",
        "entering_exiting",
        "holding",
        "inspecting",
        "installing",
        "killing",
        "loading",
        "other",
        "packing",
        "picking",
        "receiving",
        "removing",
        "repackaging",
        "repairing",
        "replacing",
        "reserving",
        "retail_selling",
        "sampling",
        "sensor_reporting",
        "shipping",
        "staging_outbound",
        "stock_taking",
        "stocking",
        "storing",
        "transporting",
        "unloading",
        "unpacking",
        "void_shipping",
    }
)

DISPOSITIONS: Final = frozenset(
    {
        "active",
        "available",
        "completeness_inferred",
        "completeness_verified",
        "conformant",
        "container_closed",
        "container_open",
        "damaged",
        "destroyed",
        "dispensed",
        "disposed",
        "encoded",
        "expired",
        "in_progress",
        "in_transit",
        "inactive",
        "mismatch_class",
        "mismatch_instance",
        "mismatch_quantity",
        "needs_replacement",
        "no_pedigree_match",
        "non_conformant",
        "non_sellable_other",
        "partially_dispensed",
        "recalled",
        "reserved",
        "retail_sold",
        "returned",
        "sellable_accessible",
        "sellable_not_accessible",
        "stolen",
        "unavailable",
        "unknown",
    }
)

BIZ_TRANSACTION_TYPES: Final = frozenset(
    {
        "bol",
        "cert",
        "desadv",
        "inv",
        "pedigree",
        "po",
        "poc",
        "prodorder",
        "recadv",
        "rma",
        "testprd",
        "testres",
        "upevt",
    }
)

SOURCE_DEST_TYPES: Final = frozenset({"location", "owning_party", "possessing_party"})

ERROR_REASONS: Final = frozenset({"did_not_occur", "incorrect_data"})

_CBV_URN: Final = "urn:epcglobal:cbv:"
_CBV_WEB: Final = ("https://ref.gs1.org/cbv/", "http://ref.gs1.org/cbv/")
_GS1_VOC: Final = ("https://gs1.org/voc/", "http://gs1.org/voc/", "gs1:")
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+")


@dataclass(frozen=True, slots=True)
class Vocabulary:
    name: str
    words: frozenset[str]
    urn_prefix: str
    web_term_prefix: str

    def prefixes(self) -> tuple[str, ...]:
        return (
            self.urn_prefix,
            *(base + self.web_term_prefix for base in _CBV_WEB),
            "cbv:" + self.web_term_prefix,
        )


BIZ_STEP: Final = Vocabulary("bizStep", BIZ_STEPS, "urn:epcglobal:cbv:bizstep:", "BizStep-")
DISPOSITION: Final = Vocabulary("disposition", DISPOSITIONS, "urn:epcglobal:cbv:disp:", "Disp-")
BIZ_TRANSACTION_TYPE: Final = Vocabulary(
    "bizTransaction type", BIZ_TRANSACTION_TYPES, "urn:epcglobal:cbv:btt:", "BTT-"
)
SOURCE_DEST_TYPE: Final = Vocabulary(
    "source/destination type", SOURCE_DEST_TYPES, "urn:epcglobal:cbv:sdt:", "SDT-"
)
ERROR_REASON: Final = Vocabulary("error reason", ERROR_REASONS, "urn:epcglobal:cbv:er:", "ER-")


class VocabularyError(ValueError):
    pass


def to_bare(vocabulary: Vocabulary, value: str) -> str:
    """Strip a CBV URN or Web URI prefix of this vocabulary; anything else is returned as is."""
    for prefix in vocabulary.prefixes():
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def normalise(vocabulary: Vocabulary, value: str) -> str:
    """The bare CBV word, or the private URI as written; :class:`VocabularyError` otherwise."""
    bare = to_bare(vocabulary, value)
    if bare in vocabulary.words:
        return bare
    if bare != value or ":" not in value:
        raise VocabularyError(f"{value!r} is not a CBV 2.0 {vocabulary.name}")
    if value.startswith((_CBV_URN, *_CBV_WEB)):
        raise VocabularyError(f"{value!r} is in the CBV namespace but names no {vocabulary.name}")
    if not _ABSOLUTE_URI.fullmatch(value):
        raise VocabularyError(f"{value!r} is neither a CBV {vocabulary.name} nor a URI")
    return value


def gs1_web_term(value: str) -> str:
    """``gs1:Temperature`` or ``https://gs1.org/voc/Temperature`` → ``Temperature``."""
    for prefix in _GS1_VOC:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value
