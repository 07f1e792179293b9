"""Vietnamese readings of numbers, ticket codes and announcements.

Every expected string below is written by hand as a northern Vietnamese speaker reads the
number aloud at a counter; none is produced by the code under test.
"""

from __future__ import annotations

import unicodedata

import pytest

from display.voice import (
    DEFAULT_TEMPLATE,
    announcement_text,
    code_to_words,
    number_to_words,
)

NUMBERS: list[tuple[int, str]] = [
    # 0–30, every one
    (0, "không"),
    (1, "một"),
    (2, "hai"),
    (3, "ba"),
    (4, "bốn"),
    (5, "năm"),
    (6, "sáu"),
    (7, "bảy"),
    (8, "tám"),
    (9, "chín"),
    (10, "mười"),
    (11, "mười một"),
    (12, "mười hai"),
    (13, "mười ba"),
    (14, "mười bốn"),
    (15, "mười lăm"),
    (16, "mười sáu"),
    (17, "mười bảy"),
    (18, "mười tám"),
    (19, "mười chín"),
    (20, "hai mươi"),
    (21, "hai mươi mốt"),
    (22, "hai mươi hai"),
    (23, "hai mươi ba"),
    (24, "hai mươi tư"),
    (25, "hai mươi lăm"),
    (26, "hai mươi sáu"),
    (27, "hai mươi bảy"),
    (28, "hai mươi tám"),
    (29, "hai mươi chín"),
    (30, "ba mươi"),
    # every tens: mốt / tư / lăm after "mươi"
    (31, "ba mươi mốt"),
    (34, "ba mươi tư"),
    (35, "ba mươi lăm"),
    (39, "ba mươi chín"),
    (40, "bốn mươi"),
    (41, "bốn mươi mốt"),
    (44, "bốn mươi tư"),
    (45, "bốn mươi lăm"),
    (50, "năm mươi"),
    (51, "năm mươi mốt"),
    (54, "năm mươi tư"),
    (55, "năm mươi lăm"),
    (60, "sáu mươi"),
    (61, "sáu mươi mốt"),
    (64, "sáu mươi tư"),
    (65, "sáu mươi lăm"),
    (70, "bảy mươi"),
    (71, "bảy mươi mốt"),
    (74, "bảy mươi tư"),
    (75, "bảy mươi lăm"),
    (77, "bảy mươi bảy"),
    (80, "tám mươi"),
    (81, "tám mươi mốt"),
    (84, "tám mươi tư"),
    (85, "tám mươi lăm"),
    (88, "tám mươi tám"),
    (90, "chín mươi"),
    (91, "chín mươi mốt"),
    (94, "chín mươi tư"),
    (95, "chín mươi lăm"),
    (99, "chín mươi chín"),
    # hundreds, with "linh" for the zero ten
    (100, "một trăm"),
    (101, "một trăm linh một"),
    (102, "một trăm linh hai"),
    (104, "một trăm linh bốn"),
    (105, "một trăm linh năm"),
    (109, "một trăm linh chín"),
    (110, "một trăm mười"),
    (111, "một trăm mười một"),
    (114, "một trăm mười bốn"),
    (115, "một trăm mười lăm"),
    (119, "một trăm mười chín"),
    (120, "một trăm hai mươi"),
    (121, "một trăm hai mươi mốt"),
    (124, "một trăm hai mươi tư"),
    (125, "một trăm hai mươi lăm"),
    (150, "một trăm năm mươi"),
    (155, "một trăm năm mươi lăm"),
    (199, "một trăm chín mươi chín"),
    (200, "hai trăm"),
    (201, "hai trăm linh một"),
    (205, "hai trăm linh năm"),
    (210, "hai trăm mười"),
    (211, "hai trăm mười một"),
    (215, "hai trăm mười lăm"),
    (221, "hai trăm hai mươi mốt"),
    (300, "ba trăm"),
    (304, "ba trăm linh bốn"),
    (345, "ba trăm bốn mươi lăm"),
    (401, "bốn trăm linh một"),
    (444, "bốn trăm bốn mươi tư"),
    (500, "năm trăm"),
    (505, "năm trăm linh năm"),
    (515, "năm trăm mười lăm"),
    (555, "năm trăm năm mươi lăm"),
    (600, "sáu trăm"),
    (671, "sáu trăm bảy mươi mốt"),
    (700, "bảy trăm"),
    (707, "bảy trăm linh bảy"),
    (800, "tám trăm"),
    (810, "tám trăm mười"),
    (900, "chín trăm"),
    (999, "chín trăm chín mươi chín"),
    # thousands: a group after "nghìn" is read in full ("không trăm", "linh")
    (1000, "một nghìn"),
    (1001, "một nghìn không trăm linh một"),
    (1004, "một nghìn không trăm linh bốn"),
    (1005, "một nghìn không trăm linh năm"),
    (1010, "một nghìn không trăm mười"),
    (1011, "một nghìn không trăm mười một"),
    (1014, "một nghìn không trăm mười bốn"),
    (1015, "một nghìn không trăm mười lăm"),
    (1020, "một nghìn không trăm hai mươi"),
    (1021, "một nghìn không trăm hai mươi mốt"),
    (1024, "một nghìn không trăm hai mươi tư"),
    (1025, "một nghìn không trăm hai mươi lăm"),
    (1050, "một nghìn không trăm năm mươi"),
    (1099, "một nghìn không trăm chín mươi chín"),
    (1100, "một nghìn một trăm"),
    (1101, "một nghìn một trăm linh một"),
    (1105, "một nghìn một trăm linh năm"),
    (1111, "một nghìn một trăm mười một"),
    (1200, "một nghìn hai trăm"),
    (1234, "một nghìn hai trăm ba mươi tư"),
    (1500, "một nghìn năm trăm"),
    (1999, "một nghìn chín trăm chín mươi chín"),
    (2000, "hai nghìn"),
    (2001, "hai nghìn không trăm linh một"),
    (2015, "hai nghìn không trăm mười lăm"),
    (2021, "hai nghìn không trăm hai mươi mốt"),
    (2024, "hai nghìn không trăm hai mươi tư"),
    (2025, "hai nghìn không trăm hai mươi lăm"),
    (2100, "hai nghìn một trăm"),
    (3005, "ba nghìn không trăm linh năm"),
    (4444, "bốn nghìn bốn trăm bốn mươi tư"),
    (5555, "năm nghìn năm trăm năm mươi lăm"),
    (7001, "bảy nghìn không trăm linh một"),
    (8080, "tám nghìn không trăm tám mươi"),
    (9000, "chín nghìn"),
    (9999, "chín nghìn chín trăm chín mươi chín"),
    # ten-thousands and hundred-thousands
    (10000, "mười nghìn"),
    (10001, "mười nghìn không trăm linh một"),
    (10005, "mười nghìn không trăm linh năm"),
    (10015, "mười nghìn không trăm mười lăm"),
    (10100, "mười nghìn một trăm"),
    (11000, "mười một nghìn"),
    (14000, "mười bốn nghìn"),
    (15000, "mười lăm nghìn"),
    (15015, "mười lăm nghìn không trăm mười lăm"),
    (20000, "hai mươi nghìn"),
    (21000, "hai mươi mốt nghìn"),
    (21021, "hai mươi mốt nghìn không trăm hai mươi mốt"),
    (24000, "hai mươi tư nghìn"),
    (25000, "hai mươi lăm nghìn"),
    (25500, "hai mươi lăm nghìn năm trăm"),
    (31415, "ba mươi mốt nghìn bốn trăm mười lăm"),
    (50005, "năm mươi nghìn không trăm linh năm"),
    (99999, "chín mươi chín nghìn chín trăm chín mươi chín"),
    (100000, "một trăm nghìn"),
    (100001, "một trăm nghìn không trăm linh một"),
    (101000, "một trăm linh một nghìn"),
    (105000, "một trăm linh năm nghìn"),
    (115000, "một trăm mười lăm nghìn"),
    (121000, "một trăm hai mươi mốt nghìn"),
    (250000, "hai trăm năm mươi nghìn"),
    (999999, "chín trăm chín mươi chín nghìn chín trăm chín mươi chín"),
    # millions: an all-zero group is not spoken
    (1000000, "một triệu"),
    (1000001, "một triệu không trăm linh một"),
    (1000005, "một triệu không trăm linh năm"),
    (1000015, "một triệu không trăm mười lăm"),
    (1000100, "một triệu một trăm"),
    (1001000, "một triệu không trăm linh một nghìn"),
    (1005000, "một triệu không trăm linh năm nghìn"),
    (1100000, "một triệu một trăm nghìn"),
    (1250000, "một triệu hai trăm năm mươi nghìn"),
    (2021000, "hai triệu không trăm hai mươi mốt nghìn"),
    (5000000, "năm triệu"),
    (10000000, "mười triệu"),
    (15000000, "mười lăm triệu"),
    (21000000, "hai mươi mốt triệu"),
    (24500000, "hai mươi tư triệu năm trăm nghìn"),
    (100000000, "một trăm triệu"),
    (105000000, "một trăm linh năm triệu"),
    (
        123456789,
        "một trăm hai mươi ba triệu bốn trăm năm mươi sáu nghìn bảy trăm tám mươi chín",
    ),
    (
        999999999,
        ("chín trăm chín mươi chín triệu chín trăm chín mươi chín nghìn chín trăm chín mươi chín"),
    ),
    # beyond the required range
    (1000000000, "một tỷ"),
    (1000000005, "một tỷ không trăm linh năm"),
    (2500000000, "hai tỷ năm trăm triệu"),
]


def test_table_is_large_and_unique() -> None:
    numbers = [n for n, _ in NUMBERS]
    assert len(numbers) >= 150
    assert len(set(numbers)) == len(numbers)
    assert set(range(31)) <= set(numbers)


@pytest.mark.parametrize(("n", "words"), NUMBERS, ids=[str(n) for n, _ in NUMBERS])
def test_number_to_words(n: int, words: str) -> None:
    assert number_to_words(n) == words


def test_output_is_nfc() -> None:
    # Precomposed letters: clip lookup and displays compare strings byte for byte.
    text = number_to_words(1234567)
    assert unicodedata.normalize("NFC", text) == text


def test_regional_variants_not_used() -> None:
    for n in (14, 104, 1005, 1014, 114_000, 2_000_000):
        words = number_to_words(n).split()
        assert "ngàn" not in words and "lẻ" not in words and "nhăm" not in words
    assert "mười tư" not in number_to_words(14) and "mười tư" not in number_to_words(1014)


@pytest.mark.parametrize("bad", [-1, -1005])
def test_negative_rejected(bad: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        number_to_words(bad)


def test_too_large_rejected() -> None:
    with pytest.raises(ValueError, match="too large"):
        number_to_words(10**12)


@pytest.mark.parametrize("bad", [True, 1.5, "12", None])
def test_non_int_rejected(bad: object) -> None:
    with pytest.raises(TypeError):
        number_to_words(bad)  # type: ignore[arg-type]


CODES: list[tuple[str, str]] = [
    ("A001", "A một"),
    ("A000", "A không"),
    ("A1", "A một"),
    ("A010", "A mười"),
    ("A015", "A mười lăm"),
    ("A021", "A hai mươi mốt"),
    ("B105", "bê một trăm linh năm"),
    ("C024", "xê hai mươi tư"),
    ("D999", "dê chín trăm chín mươi chín"),
    ("Đ100", "đê một trăm"),
    ("đ100", "đê một trăm"),
    ("E005", "e năm"),
    ("1005", "một nghìn không trăm linh năm"),
    ("1015", "một nghìn không trăm mười lăm"),
    ("0001", "một"),
    ("0000", "không"),
    ("A-012", "A mười hai"),
    ("a 012", "A mười hai"),
    ("AB12", "A bê mười hai"),
    ("UT015", "u tê mười lăm"),
    ("2A", "hai A"),
    ("F1", "ép một"),
    ("G1", "giê một"),
    ("H2", "hát hai"),
    ("I4", "i bốn"),
    ("J2", "gi hai"),
    ("K3", "ca ba"),
    ("L3", "e-lờ ba"),
    ("M4", "em-mờ bốn"),
    ("N5", "en-nờ năm"),
    ("O5", "o năm"),
    ("P6", "pê sáu"),
    ("Q7", "quy bảy"),
    ("R8", "e-rờ tám"),
    ("S7", "ét-xì bảy"),
    ("T9", "tê chín"),
    ("U6", "u sáu"),
    ("V10", "vê mười"),
    ("W5", "vê-kép năm"),
    ("X42", "ích-xì bốn mươi hai"),
    ("Y1", "i-dài một"),
    ("Z3", "dét ba"),
    ("Ă1", "á một"),
    ("Â1", "ớ một"),
    ("Ê1", "ê một"),
    ("Ô1", "ô một"),
    ("Ơ1", "ơ một"),
    ("Ư1", "ư một"),
    ("A\u03061", "á một"),  # Ă typed as A + combining breve (NFD)
]


@pytest.mark.parametrize(("code", "words"), CODES, ids=[c for c, _ in CODES])
def test_code_to_words(code: str, words: str) -> None:
    assert code_to_words(code) == words


@pytest.mark.parametrize("bad", ["", "   ", "---", "A#1", "A1€"])
def test_bad_codes_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        code_to_words(bad)


PREFIX = "Xin mời công dân có số thứ tự"

ANNOUNCEMENTS: list[tuple[str, str, str | int, str]] = [
    (DEFAULT_TEMPLATE, "1005", 3, f"{PREFIX} một nghìn không trăm linh năm đến quầy số ba"),
    (DEFAULT_TEMPLATE, "A001", "12", f"{PREFIX} A một đến quầy số mười hai"),
    (DEFAULT_TEMPLATE, "B105", 5, f"{PREFIX} bê một trăm linh năm đến quầy số năm"),
    (DEFAULT_TEMPLATE, "1021", "03", f"{PREFIX} một nghìn không trăm hai mươi mốt đến quầy số ba"),
    (DEFAULT_TEMPLATE, "C015", "2A", f"{PREFIX} xê mười lăm đến quầy số hai A"),
    (DEFAULT_TEMPLATE, "2024", 21, f"{PREFIX} hai nghìn không trăm hai mươi tư đến quầy số hai mươi mốt"),
    (DEFAULT_TEMPLATE, "A015", 14, f"{PREFIX} A mười lăm đến quầy số mười bốn"),
    ("Mời số {number} đến quầy {counter}.", "A014", 4, "Mời số A mười bốn đến quầy bốn."),
    ("{number}, mời đến {counter}", "A001", "Quầy ưu tiên", "A một, mời đến Quầy ưu tiên"),
    ("Số {number}   đến quầy  {counter}", "0005", 1, "Số năm đến quầy một"),
]


@pytest.mark.parametrize(("template", "code", "counter", "text"), ANNOUNCEMENTS)
def test_announcement_text(template: str, code: str, counter: str | int, text: str) -> None:
    assert announcement_text(template, code, counter) == text


def test_default_template_is_the_phrase_in_use() -> None:
    assert DEFAULT_TEMPLATE == "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"


@pytest.mark.parametrize("template", ["{number} đến {quay}", "Số {number", "{0} {counter}"])
def test_bad_templates_rejected(template: str) -> None:
    with pytest.raises(ValueError):
        announcement_text(template, "A001", 1)


def test_negative_counter_rejected() -> None:
    with pytest.raises(ValueError):
        announcement_text(DEFAULT_TEMPLATE, "A001", -3)
