"""GS1 element strings, HRI, Digital Link and EPC URIs (pharmaqms.platform.gs1)."""

from datetime import UTC, date, datetime

import biip
import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st

from pharmaqms.kernel.clock import frozen_at
from pharmaqms.platform.gs1 import (
    GS1Data,
    GS1Error,
    GS1ErrorCode,
    GS1Key,
    InputForm,
    KeyKind,
    Symbology,
    canonical_id,
    century,
    check_digit,
    digital_link_uri,
    gs1_year,
    lgtin_epc_uri,
    normalise_separators,
    parse_epc_uri,
    parse_gs1,
    parse_identifier,
    resolve_gs1_date,
    sgtin_epc_uri,
    sscc_epc_uri,
)

GTIN = "09506000134352"
BAD_GTIN = "09506000134353"  # check digit should be 2
SSCC = "106141412345678908"
PACK_AIS = (("01", GTIN), ("17", "261231"), ("10", "ABC123"), ("21", "SN0001"))


def expect_error(text: str, code: GS1ErrorCode, *, ref_year: int = 2025) -> GS1Error:
    with pytest.raises(GS1Error) as caught:
        parse_gs1(text, ref_year=ref_year)
    assert caught.value.code is code, caught.value.message
    return caught.value


# --- the three input forms give the same pack -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "symbology", "form"),
    [
        (
            f"]d201{GTIN}17261231" + "10ABC123\x1d21SN0001",
            Symbology.GS1_DATAMATRIX,
            InputForm.ELEMENT_STRING,
        ),
        (
            f"]C101{GTIN}17261231" + "10ABC123\x1d21SN0001",
            Symbology.GS1_128,
            InputForm.ELEMENT_STRING,
        ),
        (
            f"]Q301{GTIN}17261231" + "10ABC123\x1d21SN0001",
            Symbology.GS1_QR,
            InputForm.ELEMENT_STRING,
        ),
        (f"01{GTIN}17261231" + "10ABC123\x1d21SN0001", None, InputForm.ELEMENT_STRING),
        (f"\x1d01{GTIN}17261231" + "10ABC123\x1d21SN0001\x1d", None, InputForm.ELEMENT_STRING),
        (f"(01){GTIN}(17)261231(10)ABC123(21)SN0001", None, InputForm.HRI),
        (f"  (01) {GTIN} (17) 261231 (10) ABC123 (21) SN0001\r\n", None, InputForm.HRI),
        (
            f"https://id.gs1.org/01/{GTIN}/10/ABC123/21/SN0001?17=261231",
            None,
            InputForm.DIGITAL_LINK,
        ),
    ],
)
def test_a_pack_code_in_any_form_gives_gtin_lot_expiry_serial(
    text: str, symbology: Symbology | None, form: InputForm
) -> None:
    # when
    data = parse_gs1(text, ref_year=2025)
    # then
    assert (data.gtin, data.lot, data.expiry, data.serial, data.sscc) == (
        GTIN,
        "ABC123",
        date(2026, 12, 31),
        "SN0001",
        None,
    )
    assert data.symbology is symbology
    assert data.form is form


def test_raw_ais_keep_message_order_and_render_as_hri() -> None:
    data = parse_gs1(f"01{GTIN}17261231" + "10ABC123\x1d21SN0001", ref_year=2025)
    assert data.ais == PACK_AIS
    assert data.as_hri() == f"(01){GTIN}(17)261231(10)ABC123(21)SN0001"
    assert data.value_of("10") == "ABC123"
    assert data.value_of("11") is None


def test_as_dict_is_json_ready() -> None:
    data = parse_gs1(f"]d201{GTIN}11250115" + "17261231", ref_year=2025)
    assert data.as_dict() == {
        "gtin": GTIN,
        "lot": None,
        "expiry": "2026-12-31",
        "serial": None,
        "sscc": None,
        "production_date": "2025-01-15",
        "ais": [["01", GTIN], ["11", "250115"], ["17", "261231"]],
        "symbology": "]d2",
        "form": "element_string",
    }


@pytest.mark.parametrize("spelling", ["\x1d", "<GS>", "\\u001d", "\\u001D", "\\x1d"], ids=repr)
def test_group_separator_spellings_a_scanner_user_types_are_read_as_gs(spelling: str) -> None:
    data = parse_gs1(f"01{GTIN}10LOT7{spelling}21S1", ref_year=2025)
    assert (data.lot, data.serial) == ("LOT7", "S1")


def test_normalise_separators_only_touches_separator_spellings() -> None:
    assert normalise_separators("10A<GS>21B\\u001d17") == "10A\x1d21B\x1d17"
    assert normalise_separators("10A<G>21") == "10A<G>21"


def test_sscc_of_a_pallet_label() -> None:
    data = parse_gs1(f"]C100{SSCC}", ref_year=2025)
    assert (data.sscc, data.gtin) == (SSCC, None)


def test_production_date_and_expiry_with_day_zero_meaning_last_day_of_month() -> None:
    data = parse_gs1(f"(01){GTIN}(11)240229(17)280200", ref_year=2025)
    assert data.production_date == date(2024, 2, 29)
    assert data.expiry == date(2028, 2, 29)


def test_expiry_from_7003_when_17_is_absent() -> None:
    data = parse_gs1(f"(01){GTIN}(7003)2612311530(10)L1", ref_year=2025)
    assert data.expiry == date(2026, 12, 31)


def test_gtin13_in_a_digital_link_is_padded_to_14_digits() -> None:
    data = parse_gs1("https://example.com/products/01/9506000134352/21/1%2F2", ref_year=2025)
    assert (data.gtin, data.serial) == (GTIN, "1/2")


def test_digital_link_ignores_non_ai_query_parameters() -> None:
    data = parse_gs1(f"https://id.gs1.org/01/{GTIN}?linkType=gs1:pil&17=270600", ref_year=2025)
    assert data.ais == (("01", GTIN), ("17", "270600"))
    assert data.expiry == date(2027, 6, 30)


def test_missing_gs_after_a_lot_cannot_be_detected_and_the_lot_swallows_the_next_ai() -> None:
    # GS1 can't tell this apart from a lot "ABC17261231": master-data checks must catch it.
    data = parse_gs1(f"01{GTIN}10ABC17261231", ref_year=2025)
    assert (data.lot, data.expiry) == ("ABC17261231", None)


def test_identical_repeated_ai_is_tolerated() -> None:
    data = parse_gs1(f"(01){GTIN}(10)L1(10)L1", ref_year=2025)
    assert data.lot == "L1"


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"]d201{BAD_GTIN}17261231" + "10ABC123",
        f"(01){BAD_GTIN}(17)261231",
        f"https://id.gs1.org/01/{BAD_GTIN}/21/1",
        "00106141412345678909",
        "(414)0614141000419",
        "(8003)004012345000779SER",
    ],
)
def test_bad_check_digit_is_refused_never_corrected(text: str) -> None:
    expect_error(text, GS1ErrorCode.BAD_CHECK_DIGIT)


def test_biip_pitfall_bad_check_digit_still_fills_the_message_but_we_refuse() -> None:
    # given: biip's own top-level parse fills gs1_message and hides the failure in gtin_error
    raw = f"01{BAD_GTIN}10LOT"
    result = biip.parse(raw)
    assert result.gs1_message is not None
    assert result.gtin_error is not None
    # then: our parser refuses it
    error = expect_error(raw, GS1ErrorCode.BAD_CHECK_DIGIT)
    assert "Expected 2, got 3" in error.message


@pytest.mark.parametrize(
    "text",
    [
        f"(01){GTIN}(17)261331",  # month 13
        f"(01){GTIN}(17)260231",  # 31 February
        f"(01){GTIN}(17)270229",  # 29 February of a common year
        f"(01){GTIN}(17)261300",  # month 13 with day 00
        f"01{GTIN}11251032",  # 32 October
        f"(01){GTIN}(7003)2612001200",  # day 00 is only for the six-digit date AIs
        f"(01){GTIN}(7003)2612312400",  # hour 24
        f"https://id.gs1.org/01/{GTIN}?17=260431",  # 31 April
    ],
)
def test_impossible_date_is_refused(text: str) -> None:
    expect_error(text, GS1ErrorCode.IMPOSSIBLE_DATE)


@pytest.mark.parametrize(
    "text",
    [
        f"(01){GTIN}(23)12345",
        f"01{GTIN}2312345",
        f"]d201{GTIN}10L1\x1d2312345",
        f"https://id.gs1.org/01/{GTIN}?23=1",
        f"https://id.gs1.org/01/{GTIN}/23/1",
    ],
)
def test_unknown_ai_refuses_the_whole_message(text: str) -> None:
    expect_error(text, GS1ErrorCode.UNKNOWN_AI)


@pytest.mark.parametrize(
    "text",
    [
        f"01{GTIN}10{'A' * 21}\x1d21X",
        f"(01){GTIN}(10){'A' * 21}",
        f"(01){GTIN}(21){'S' * 21}",
        f"https://id.gs1.org/01/{GTIN}/21/{'S' * 21}",
    ],
)
def test_variable_field_longer_than_its_maximum_is_refused(text: str) -> None:
    error = expect_error(text, GS1ErrorCode.FIELD_TOO_LONG)
    assert "at most 20 characters, got 21" in error.message


@pytest.mark.parametrize(
    "uri",
    [
        f"https://id.gs1.org/01/{GTIN}/21/S1/10/L1",
        f"https://id.gs1.org/01/{GTIN}/10/L1/22/V1",
        f"https://id.gs1.org/01/{GTIN}/21/S1/235/T1",  # 235 replaces 21, never follows it
        f"https://id.gs1.org/01/{GTIN}/10/L1/10/L2",
    ],
)
def test_digital_link_key_qualifiers_out_of_order_are_refused(uri: str) -> None:
    expect_error(uri, GS1ErrorCode.DL_QUALIFIER_ORDER)


def test_digital_link_qualifiers_in_order_22_10_21_are_accepted() -> None:
    data = parse_gs1(f"https://id.gs1.org/01/{GTIN}/22/V1/10/L1/21/S1", ref_year=2025)
    assert data.ais == (("01", GTIN), ("22", "V1"), ("10", "L1"), ("21", "S1"))


@pytest.mark.parametrize(
    "uri",
    [
        f"https://id.gs1.org/01/{GTIN}/lot/L1",  # convenience alphas are not accepted
        f"https://id.gs1.org/01/{GTIN}/17/261231",  # a data attribute is not a key qualifier
        "https://id.gs1.org/products/ABC",
    ],
)
def test_digital_link_with_an_invalid_path_is_refused(uri: str) -> None:
    expect_error(uri, GS1ErrorCode.DL_INVALID_PATH)


@pytest.mark.parametrize("text", ["", "   ", "\r\n", "]d2", "]d2\x1d"])
def test_empty_input_is_refused(text: str) -> None:
    expect_error(text, GS1ErrorCode.EMPTY)


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "]X9" + f"01{GTIN}",  # not a GS1 symbology
        f"]Q101{GTIN}",  # a plain QR carries GS1 only as a URI
        "ftp://id.gs1.org/01/" + GTIN,
        "(01",
        "x(01)" + GTIN,
    ],
)
def test_unparseable_input_is_refused(text: str) -> None:
    expect_error(text, GS1ErrorCode.UNPARSEABLE)


@pytest.mark.parametrize(
    "text",
    [
        "0109506000",  # GTIN cut short
        f"01{GTIN}10AB#C",  # '#' is not in the GS1 character set
        f"(01){GTIN[:-1]}X",
        f"01{GTIN}10\x1d21S1",  # empty lot
    ],
)
def test_value_not_matching_its_ai_format_is_refused(text: str) -> None:
    expect_error(text, GS1ErrorCode.INVALID_FIELD)


def test_same_ai_with_two_values_is_refused() -> None:
    expect_error(f"(01){GTIN}(10)L1(10)L2", GS1ErrorCode.DUPLICATE_AI)


def test_input_length_is_bounded() -> None:
    expect_error("1" * 513, GS1ErrorCode.INPUT_TOO_LONG)
    with pytest.raises(GS1Error) as caught:
        parse_gs1(f"01{GTIN}", max_length=10)
    assert caught.value.code is GS1ErrorCode.INPUT_TOO_LONG


def test_error_is_a_kernel_error_with_the_specific_code() -> None:
    error = expect_error(f"(01){GTIN}(23)1", GS1ErrorCode.UNKNOWN_AI)
    assert str(error) == "AI (23) is not a GS1 application identifier"
    assert error.code == "unknown_ai"
    assert error.status == 422
    assert error.problem() == {
        "type": "https://pharmaqms.org/problems/unknown_ai",
        "title": "Invalid input",
        "status": 422,
        "code": "unknown_ai",
        "detail": "AI (23) is not a GS1 application identifier",
    }


# --- century window and dates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("yy", "ref_year", "expected"),
    [
        (25, 2025, 2000),
        (75, 2025, 2000),  # 50 years ahead: still this century
        (76, 2025, 1900),  # 51 years ahead: previous century
        (0, 2025, 2000),
        (99, 2000, 1900),
        (50, 2000, 2000),
        (11, 2060, 2000),  # 49 years back: this century
        (10, 2060, 2100),  # 50 years back: next century
        (0, 2099, 2100),
    ],
)
def test_century_window_runs_49_years_back_to_50_years_ahead(
    yy: int, ref_year: int, expected: int
) -> None:
    assert century(yy, ref_year) == expected


def test_century_rejects_more_than_two_digits() -> None:
    with pytest.raises(ValueError, match="two-digit year out of range: 100"):
        century(100, 2025)


def test_gs1_year_adds_the_century() -> None:
    assert gs1_year(99, 2025) == 1999
    assert gs1_year(99, 2060) == 2099


def test_expiry_resolution_uses_the_injected_reference_year() -> None:
    text = f"(01){GTIN}(17)990300"
    assert parse_gs1(text, ref_year=2025).expiry == date(1999, 3, 31)
    assert parse_gs1(text, ref_year=2060).expiry == date(2099, 3, 31)


def test_leap_day_depends_on_the_century_chosen() -> None:
    # 2000 is a leap year, 2100 is not: the same label is valid in 2025 and impossible in 2060.
    assert resolve_gs1_date("000229", ref_year=2025) == date(2000, 2, 29)
    with pytest.raises(GS1Error) as caught:
        resolve_gs1_date("000229", ref_year=2060)
    assert caught.value.code is GS1ErrorCode.IMPOSSIBLE_DATE


def test_resolve_date_without_day_zero() -> None:
    with pytest.raises(GS1Error) as caught:
        resolve_gs1_date("261200", ref_year=2025, allow_day_zero=False)
    assert caught.value.code is GS1ErrorCode.IMPOSSIBLE_DATE


@pytest.mark.parametrize(("payload", "digit"), [("0950600013435", 2), ("10614141234567890", 8)])
def test_check_digit(payload: str, digit: int) -> None:
    assert check_digit(payload) == digit


# --- EPC URIs and canonical identifiers ---------------------------------------------------


def test_sgtin_epc_uri_moves_the_indicator_digit_behind_the_company_prefix() -> None:
    # TDS worked example: GTIN 80614141123458, serial 6789, company prefix 0614141
    assert sgtin_epc_uri("80614141123458", "6789", 7) == "urn:epc:id:sgtin:0614141.812345.6789"


def test_sgtin_epc_uri_escapes_reserved_characters() -> None:
    assert sgtin_epc_uri(GTIN, 'A/B?"%&<>', 7) == (
        "urn:epc:id:sgtin:9506000.013435.A%2FB%3F%22%25%26%3C%3E"
    )
    key = parse_epc_uri("urn:epc:id:sgtin:9506000.013435.A%2FB%3F%22%25%26%3C%3E")
    assert key.serial == 'A/B?"%&<>'


def test_sscc_and_lgtin_epc_uris() -> None:
    assert sscc_epc_uri(SSCC, 7) == "urn:epc:id:sscc:0614141.1234567890"
    assert lgtin_epc_uri(GTIN, "LOT-1", 9) == "urn:epc:class:lgtin:950600013.0435.LOT-1"


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: sgtin_epc_uri(BAD_GTIN, "1", 7), GS1ErrorCode.BAD_CHECK_DIGIT),
        (lambda: sgtin_epc_uri(GTIN, "1", 5), GS1ErrorCode.INVALID_EPC),
        (lambda: sgtin_epc_uri(GTIN, "S" * 21, 7), GS1ErrorCode.INVALID_FIELD),
        (lambda: sgtin_epc_uri(GTIN, "a#b", 7), GS1ErrorCode.INVALID_FIELD),
        (lambda: sscc_epc_uri("106141412345678909", 7), GS1ErrorCode.BAD_CHECK_DIGIT),
        (lambda: sscc_epc_uri("12", 7), GS1ErrorCode.INVALID_FIELD),
    ],
)
def test_epc_uri_builders_refuse_bad_input(call: object, code: GS1ErrorCode) -> None:
    assert callable(call)
    with pytest.raises(GS1Error) as caught:
        call()
    assert caught.value.code is code


@pytest.mark.parametrize(
    ("uri", "kind", "canonical"),
    [
        (
            "urn:epc:id:sgtin:0614141.812345.6789",
            KeyKind.SGTIN,
            "https://id.gs1.org/01/80614141123458/21/6789",
        ),
        ("urn:epc:id:sscc:0614141.1234567890", KeyKind.SSCC, f"https://id.gs1.org/00/{SSCC}"),
        (
            "urn:epc:class:lgtin:4012345.012345.998877",
            KeyKind.LGTIN,
            "https://id.gs1.org/01/04012345123456/10/998877",
        ),
        (
            "urn:epc:idpat:sgtin:4012345.098765.*",
            KeyKind.GTIN,
            "https://id.gs1.org/01/04012345987652",
        ),
        (
            "urn:epc:id:sgln:0614141.07346.1234",
            KeyKind.SGLN,
            "https://id.gs1.org/414/0614141073467/254/1234",
        ),
        ("urn:epc:id:sgln:4012345.00001.0", KeyKind.GLN, "https://id.gs1.org/414/4012345000016"),
        ("urn:epc:id:pgln:4012345.00225", KeyKind.PGLN, "https://id.gs1.org/417/4012345002256"),
        (
            "urn:epc:id:grai:4012345.55555.987",
            KeyKind.GRAI,
            "https://id.gs1.org/8003/04012345555554987",
        ),
        ("urn:epc:id:giai:952005385.w2", KeyKind.GIAI, "https://id.gs1.org/8004/952005385w2"),
        (
            "urn:epc:id:gdti:0614141.12345.400",
            KeyKind.GDTI,
            "https://id.gs1.org/253/0614141123452400",
        ),
        (
            "urn:epc:id:gsrn:0614141.0000010253",
            KeyKind.GSRN,
            "https://id.gs1.org/8018/061414100000102534",
        ),
    ],
)
def test_epc_uris_map_to_canonical_digital_link(uri: str, kind: KeyKind, canonical: str) -> None:
    key = parse_epc_uri(uri)
    assert key.kind is kind
    assert key.canonical == canonical
    assert canonical_id(uri) == canonical


def test_sgtin_urn_and_digital_link_of_the_same_pack_share_one_canonical_id() -> None:
    urn = sgtin_epc_uri(GTIN, "S/1", 7)
    link = f"https://brand.example/p/01/{GTIN}/21/S%2F1?17=261231"
    assert canonical_id(urn) == canonical_id(link) == f"https://id.gs1.org/01/{GTIN}/21/S%2F1"


def test_parse_identifier_of_a_digital_link() -> None:
    key = parse_identifier(f"https://id.gs1.org/01/{GTIN}/10/L%2F1")
    assert key == GS1Key(KeyKind.LGTIN, (("01", GTIN), ("10", "L/1")))
    assert key is not None
    assert (key.gtin, key.lot, key.serial, key.sscc) == (GTIN, "L/1", None, None)


@pytest.mark.parametrize(
    "value",
    ["geo:42.698334,23.319941", "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8", "https://x.org/a"],
)
def test_identifiers_that_are_not_gs1_keys_stay_as_they_are(value: str) -> None:
    assert parse_identifier(value) is None
    assert canonical_id(value) == value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("urn:epc:id:sgtin:0614141.81234.6789", GS1ErrorCode.INVALID_EPC),  # 12 digits, not 13
        ("urn:epc:id:sgtin:0614141.812345", GS1ErrorCode.INVALID_EPC),
        ("urn:epc:id:sgtin:0614141.812345.a%41", GS1ErrorCode.INVALID_EPC),  # %41 not allowed
        ("urn:epc:id:sgtin:0614141.812345.a%4", GS1ErrorCode.INVALID_EPC),
        ("urn:epc:id:sgtin:06141.8123456789.1", GS1ErrorCode.INVALID_EPC),  # prefix too short
        ("urn:epc:id:sscc:0614141.123456789", GS1ErrorCode.INVALID_EPC),
        ("urn:epc:idpat:sgtin:0614141.812345.12", GS1ErrorCode.INVALID_EPC),
        ("urn:epc:id:usdod:2S194.12345678901", GS1ErrorCode.INVALID_EPC),
        (f"https://id.gs1.org/01/{BAD_GTIN}/21/1", GS1ErrorCode.BAD_CHECK_DIGIT),
        (f"https://id.gs1.org/01/{GTIN}/21/1/10/L", GS1ErrorCode.DL_QUALIFIER_ORDER),
    ],
)
def test_malformed_gs1_identifiers_are_refused(value: str, code: GS1ErrorCode) -> None:
    with pytest.raises(GS1Error) as caught:
        canonical_id(value)
    assert caught.value.code is code


def test_digital_link_uri_builder() -> None:
    assert digital_link_uri("9506000134352") == f"https://id.gs1.org/01/{GTIN}"
    assert digital_link_uri(GTIN, lot="L/1", serial="S1") == (
        f"https://id.gs1.org/01/{GTIN}/10/L%2F1/21/S1"
    )
    with pytest.raises(GS1Error) as caught:
        digital_link_uri(GTIN, lot="L 1")
    assert caught.value.code is GS1ErrorCode.INVALID_FIELD


# --- properties and a real symbol -------------------------------------------------------------

_ALNUM = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=20)


@given(lot=_ALNUM, serial=_ALNUM)
def test_element_string_hri_and_digital_link_agree(lot: str, serial: str) -> None:
    raw = parse_gs1(f"]d201{GTIN}10{lot}\x1d21{serial}", ref_year=2025)
    hri = parse_gs1(f"(01){GTIN}(10){lot}(21){serial}", ref_year=2025)
    link = parse_gs1(f"https://id.gs1.org/01/{GTIN}/10/{lot}/21/{serial}", ref_year=2025)
    assert raw.ais == hri.ais == link.ais == (("01", GTIN), ("10", lot), ("21", serial))


def test_gs1_datamatrix_round_trip_through_zxing() -> None:
    # given: a GS1 DataMatrix made from the HRI a packaging line would print
    hri = f"(01){GTIN}(17)261231(10)ABC123(21)SN0001"
    symbol = zxingcpp.create_barcode(hri, zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    image = symbol.to_image(scale=4)
    # when: a scanner reads it back and we parse what it transmits
    read = zxingcpp.read_barcode(image, text_mode=zxingcpp.TextMode.Plain)
    assert read is not None
    scanned = parse_gs1(read.symbology_identifier + read.text, ref_year=2025)
    # then
    assert read.symbology_identifier == "]d2"
    assert "\x1d" in read.text
    assert scanned == GS1Data(
        gtin=GTIN,
        lot="ABC123",
        expiry=date(2026, 12, 31),
        serial="SN0001",
        sscc=None,
        production_date=None,
        ais=PACK_AIS,
        symbology=Symbology.GS1_DATAMATRIX,
        form=InputForm.ELEMENT_STRING,
    )
    hri_data = parse_gs1(hri, ref_year=2025)
    assert (hri_data.gtin, hri_data.lot, hri_data.expiry, hri_data.serial) == (
        scanned.gtin,
        scanned.lot,
        scanned.expiry,
        scanned.serial,
    )


def test_default_reference_year_comes_from_the_kernel_clock() -> None:
    text = f"(01){GTIN}(17)990300"
    with frozen_at(datetime(2060, 6, 1, tzinfo=UTC)):
        assert parse_gs1(text).expiry == date(2099, 3, 31)
    with frozen_at(datetime(2025, 6, 1, tzinfo=UTC)):
        assert parse_gs1(text).expiry == date(1999, 3, 31)
