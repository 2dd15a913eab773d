"""The template of each document type: the sections a new document of that type starts with
(EU GMP Chapter 4.3: documents are laid out in an orderly fashion; the sections QA expects to
find in every SOP). A new document whose content is left empty starts from its type's
template."""

from __future__ import annotations

from pharmaqms.quality.documents.models import DocumentType

_SOP = """# Purpose

What this procedure achieves.

# Scope

Where and to what it applies; what it does not cover.

# Responsibilities

| Role | Responsibility |
| --- | --- |
| | |

# Definitions

# Procedure

1. First step.
2. Next step.

# Records

What is recorded, where, and for how long.

# References
"""

TEMPLATES: dict[DocumentType, str] = {
    DocumentType.SOP: _SOP,
    DocumentType.WORK_INSTRUCTION: """# Purpose

# Equipment and materials

# Safety

# Steps

1. First step.
2. Next step.

# Records
""",
    DocumentType.SPECIFICATION: """# Material or product

Name, code, grade.

# Tests and acceptance criteria

| Test | Method | Acceptance criterion |
| --- | --- | --- |
| | | |

# Sampling

# Storage and retest period

# References
""",
    DocumentType.FORM: """# Purpose of the form

# Fields

| Field | What is entered | Who enters it |
| --- | --- | --- |
| | | |

# Where the completed form is kept
""",
    DocumentType.POLICY: """# Policy statement

# Scope

# Principles

# Responsibilities

# References
""",
    DocumentType.MASTER_BATCH_RECORD: """# Product

# Batch size

# Steps

(A master batch record is defined through its structured form, which writes this content.)
""",
    DocumentType.PATIENT_LEAFLET: """# What the medicine is and what it is used for

# What you need to know before you take it

# How to take it

# Possible side effects

# How to store it

# Contents of the pack and other information
""",
}


def template_for(doc_type: str) -> str:
    return TEMPLATES[DocumentType(doc_type)]
