"""The CCCD QR reader: a table of real-shaped scans, valid and not."""

from __future__ import annotations

from datetime import date

import pytest

from motcua.identity import cccd
from motcua.identity.provinces import CURRENT, PROVINCES
from tests.support.citizen_cards import HUNG, LAN, MAI

TODAY = date(2026, 12, 7)


def qr(number="001158012345", old="012345678", name="Nguyễn Thị Lan", birth="15031958", sex="Nữ",
       address="Số 12 phố Khâm Thiên, Hà Nội", issued="10052021"):
    return "|".join((number, old, name, birth, sex, address, issued))


VALID = [
    ("elderly woman, old ID present", LAN.qr, ("Lan", date(1958, 3, 15), "F", 68, "60+")),
    ("young man, old ID missing", HUNG.qr, ("Hùng", date(2001, 9, 2), "M", 25, "18-34")),
    ("born in the 2000s, a woman (digit 3)", MAI.qr, ("Mai", date(2005, 11, 30), "F", 21, "18-34")),
    ("scanner adds CR LF", LAN.qr + "\r\n", ("Lan", date(1958, 3, 15), "F", 68, "60+")),
    ("scanner adds LF and spaces", "  " + LAN.qr + "\n", ("Lan", date(1958, 3, 15), "F", 68, "60+")),
    ("decomposed Vietnamese (NFD) is normalised", "001158012345||Nguye\u0302\u0303n Thi\u0323 Lan|15031958|Nu\u031b\u0303|Hà Nội|10052021",
     ("Lan", date(1958, 3, 15), "F", 68, "60+")),
    ("a man born in the 1900s (digit 0)", qr(number="038062000111", name="Phạm Văn Nam", birth="01011962", sex="Nam"),
     ("Nam", date(1962, 1, 1), "M", 64, "60+")),
    ("turns 60 tomorrow: not yet elderly", qr(number="001166000222", birth="08121966"), ("Lan", date(1966, 12, 8), "F", 59, "35-59")),
    ("turned 60 today", qr(number="001166000222", birth="07121966"), ("Lan", date(1966, 12, 7), "F", 60, "60+")),
    ("a child's card", qr(number="048212000333", name="Võ Minh Khang", birth="29022012", sex="Nam", issued="01032025"),
     ("Khang", date(2012, 2, 29), "M", 14, "<18")),
]


@pytest.mark.parametrize(("text", "expected"), [(t, e) for _, t, e in VALID], ids=[n for n, _, _ in VALID])
def test_valid_cards(text: str, expected: tuple) -> None:
    card = cccd.parse(text, today=TODAY)
    given, birth, sex, age, band = expected
    assert (card.given_name, card.birth, card.sex, card.age_on(TODAY), cccd.age_band(card.age_on(TODAY))) == (given, birth, sex, age, band)


INVALID = [
    ("empty", "", "fields"),
    ("plain text, a typed field name", "HO TICH", "fields"),
    ("a dossier receipt, not a card", "000.00.12.H56-240101-0001|Cấp giấy khai sinh|Nguyễn Văn A|15/01/2024", "fields"),
    ("six fields (issue date missing)", "|".join(LAN.qr.split("|")[:6]), "fields"),
    ("extra separator in the name", qr(name="Nguyễn Thị|Lan"), "fields"),
    ("extra separator at the end", LAN.qr + "|", "fields"),
    ("11-digit number", qr(number="00115801234"), "number"),
    ("letters in the number", qr(number="00115801234A"), "number"),
    ("old ID of 8 digits", qr(old="01234567"), "old number"),
    ("unknown province code 003", qr(number="003158012345"), "province"),
    ("unknown province code 099", qr(number="099158012345"), "province"),
    ("province 000", qr(number="000158012345"), "province"),
    ("century digit says 2000s for a 1958 birth", qr(number="001358012345"), "century"),
    ("sex digit says man on a woman's card", qr(number="001058012345"), "sex digit"),
    ("year digits 59 for a 1958 birth", qr(number="001159012345"), "year digits"),
    ("sex neither Nam nor Nữ", qr(sex="F"), "sex"),
    ("31 February", qr(birth="31021958"), "birth"),
    ("29 February of a common year", qr(number="001159012345", birth="29021959"), "birth"),
    ("month 13", qr(birth="15131958"), "birth"),
    ("birth date with slashes", qr(birth="15/03/1958"), "birth"),
    ("born in the future", qr(number="001327012345", birth="01012027", issued="02012027"), "dates"),
    ("issued before birth", qr(issued="01011950"), "dates"),
    ("bad issue date", qr(issued="00002021"), "issue date"),
    ("empty name", qr(name="  "), "name"),
    ("scanner noise: a control character inside", LAN.qr.replace("Lan", "La\x1bn"), "control"),
    ("scanner noise: digits in the name", qr(name="Nguy3n Thi Lan"), "name"),
    ("far too long", qr(address="x" * 600), "length"),
]


@pytest.mark.parametrize(("text", "reason"), [(t, r) for _, t, r in INVALID], ids=[n for n, _, _ in INVALID])
def test_refused(text: str, reason: str) -> None:
    with pytest.raises(cccd.CardError) as info:
        cccd.parse(text, today=TODAY)
    assert reason in info.value.reason
    # The reason never repeats the card's content.
    for part in text.split("|"):
        if len(part) >= 6:
            assert part not in str(info.value)


def test_card_never_shows_itself() -> None:
    card = cccd.parse(LAN.qr, today=TODAY)
    for secret in (LAN.number, LAN.name, "1958"):
        assert secret not in repr(card)


def test_citizen_ref_is_keyed() -> None:
    a = cccd.citizen_ref("secret-one", LAN.number)
    assert a == cccd.citizen_ref("secret-one", LAN.number)
    assert a != cccd.citizen_ref("secret-two", LAN.number)
    assert a != cccd.citizen_ref("secret-one", HUNG.number)
    assert len(a) == 64 and LAN.number not in a


def test_province_table() -> None:
    assert len(PROVINCES) == 63 and len(CURRENT) == 34 and CURRENT <= PROVINCES.keys()
    assert PROVINCES["001"] == "Hà Nội" and PROVINCES["079"] == "Hồ Chí Minh" and PROVINCES["096"] == "Cà Mau"


def test_looks_like_card() -> None:
    assert cccd.looks_like_card(LAN.qr) and cccd.looks_like_card(HUNG.qr + "\n")
    assert not cccd.looks_like_card("000.00.12.H56-240101-0001")
