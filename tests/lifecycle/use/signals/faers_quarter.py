"""A small fake FAERS quarterly ASCII extract, written as a directory or a ZIP.

Cases (caseid: what it tests):
- 1001: two versions; version 1 (Rash) is superseded by version 2 (Nausea); age 6 MON.
- 1002: listed in the deleted-cases file.
- 1003: age 4 DEC, no fda_dt (year from init_fda_dt); PS aspirin named by prod_ai, SS metformin
  by prod_ai, C lisinopril; events "nausea" and "Headache".
- 1004: sex UNK; SS ibuprofen with an empty prod_ai; events Headache, Nausea and an empty pt.
- 1005: no age; a PS drug with no name at all, PS ibuprofen; event "NAUSEA".
- 1006: only a concomitant drug, so no row unless concomitants count; age 12 WK.
- DRUG rows of 10071 (a line broken in two) and the REAC row of 10081: no DEMO case.
"""

import zipfile
from pathlib import Path

DEMO = """primaryid$caseid$caseversion$i_f_code$init_fda_dt$fda_dt$age$age_cod$sex$wt$occr_country
10011$1001$1$I$20231120$20231120$6$MON$F$7$US
10012$1001$2$F$20231120$20240115$6$MON$F$7$US
10021$1002$1$I$20240201$20240201$50$YR$M$80$FR
10031$1003$1$I$20231230$$4$DEC$M$$US
10041$1004$1$I$20240210$20240210$30$YR$UNK$$US
10051$1005$1$I$20240301$20240301$$$F$$US
10061$1006$1$I$20240305$20240305$12$WK$M$$US
"""
DRUG = """primaryid$caseid$drug_seq$role_cod$drugname$prod_ai$val_vbm$route
10011$1001$1$PS$Aspirin$ASPIRIN$1$Oral
10012$1001$1$PS$  Aspirin   $ASPIRIN$1$Oral
10021$1002$1$PS$Warfarin$WARFARIN$1$Oral
10031$1003$1$PS$  Aspirin  81mg$aspirin$1$Oral
10031$1003$2$SS$Glucophage$METFORMIN   HYDROCHLORIDE$1$Oral
10031$1003$3$C$Lisinopril$LISINOPRIL$1$Oral
10041$1004$1$SS$ibuprofen $$1$Oral
10051$1005$1$PS$$$1$Oral
10051$1005$2$PS$Ibuprofen$IBUPROFEN$1$Oral
10061$1006$1$C$Lisinopril$LISINOPRIL$1$Oral
10071$1007$1$PS$Line broken
 in two$$1$Oral
"""
# Upper-case header names, as some years have them.
REAC = """PRIMARYID$CASEID$PT$DRUG_REC_ACT
10011$1001$Rash$
10012$1001$Nausea$
10021$1002$Bleeding$
10031$1003$nausea$
10031$1003$Headache$
10041$1004$Headache$
10041$1004$Nausea$
10041$1004$ $
10051$1005$NAUSEA$
10061$1006$Cough$
10081$1008$Rash$
"""
OUTC = "primaryid$caseid$outc_cod\n10031$1003$HO\n"
THER = "primaryid$caseid$dsg_drug_seq$start_dt\n10031$1003$1$20231201\n"
RPSR = "primaryid$caseid$rpsr_cod\n10041$1004$HP\n"
INDI = "primaryid$caseid$indi_drug_seq$indi_pt\n10031$1003$2$Type 2 diabetes mellitus\n"
DELETED = "1002\n"

# File names as the extract spells them, in mixed case.
FILES = {
    "ASCII/DEMO24Q1.txt": DEMO,
    "ascii/drug24q1.TXT": DRUG,
    "ASCII/Reac24Q1.txt": REAC,
    "ASCII/OUTC24Q1.txt": OUTC,
    "ASCII/THER24Q1.txt": THER,
    "ASCII/RPSR24Q1.txt": RPSR,
    "ASCII/INDI24Q1.txt": INDI,
    "ASCII/ASC_NTS.pdf": "not a table",
    "Deleted/DELETE24Q1.txt": DELETED,
    "Readme.txt": "FAERS quarterly data extract\n",
}

# The rows expected with suspect drugs only (report_id, drug, event, age, sex, year).
SUSPECT_ROWS = [
    ("1001", "ASPIRIN", "Nausea", 0.5, "F", 2024),
    ("1003", "ASPIRIN", "Headache", 40.0, "M", 2023),
    ("1003", "ASPIRIN", "Nausea", 40.0, "M", 2023),
    ("1003", "METFORMIN HYDROCHLORIDE", "Headache", 40.0, "M", 2023),
    ("1003", "METFORMIN HYDROCHLORIDE", "Nausea", 40.0, "M", 2023),
    ("1004", "IBUPROFEN", "Headache", 30.0, None, 2024),
    ("1004", "IBUPROFEN", "Nausea", 30.0, None, 2024),
    ("1005", "IBUPROFEN", "Nausea", None, "F", 2024),
]
CONCOMITANT_ROWS = sorted(
    [
        *SUSPECT_ROWS,
        ("1003", "LISINOPRIL", "Headache", 40.0, "M", 2023),
        ("1003", "LISINOPRIL", "Nausea", 40.0, "M", 2023),
        ("1006", "LISINOPRIL", "Cough", 12 * 7 / 365.25, "M", 2024),
    ],
    key=lambda row: row[:3],
)
SUSPECT_NOTES = (
    "2 DRUG rows of no DEMO case left out",
    "1 REAC row of no DEMO case left out",
    "1 earlier case version superseded",
    "1 deleted case left out",
    "2 DRUG rows of other roles not used (--concomitant counts C and I too)",
    "1 DRUG row without a name left out",
    "1 REAC row without a term left out",
    "1 case without both a counted drug and a term gave no row",
)


def write_directory(root: Path, files: dict[str, str | bytes] | None = None) -> Path:
    folder = root / "faers_ascii_2024q1"
    for name, content in (FILES if files is None else files).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def write_zip(root: Path, files: dict[str, str | bytes] | None = None) -> Path:
    path = root / "faers_ascii_2024Q1.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (FILES if files is None else files).items():
            archive.writestr(name, content)
    return path
